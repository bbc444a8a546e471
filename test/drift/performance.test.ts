// The label join is exact: seeded random property tests through the real files (several replicas'
// prediction and label files written by the log writer, shuffled rows, repeated and unknown ids,
// labels received before the prediction and after the window), checked against a naive oracle.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { CategoricalColumn, NumericColumn } from '../../src/table/columns.ts';
import { assessPerformance, joinLabels } from '../../src/drift/performance.ts';
import { outputsOf } from '../../src/drift/probabilities.ts';
import { readLabels } from '../../src/io/log/labels.ts';
import { readLog } from '../../src/io/log/reader.ts';
import { LABEL_FILE_PREFIX, logColumns } from '../../src/io/log/schema.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
import { createLogWriter } from '../../src/io/log/writer.ts';

const CLASSES = ['<=50K', '>50K'];

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

interface Pred {
  id: string;
  t: number;
  prediction: string;
  confidence: number;
}
interface LabelRow {
  id: string;
  t: number;
  label: string;
}

async function writeFiles(dir: string, prefix: string | undefined, columns: string[], byReplica: unknown[][][], maxBytes: number): Promise<void> {
  let r = 0;
  for (const rows of byReplica) {
    const w = createLogWriter({ dir, instanceId: `replica-${r++}`, columns, filePrefix: prefix, maxBytes });
    // Several appends, so rotation makes several files per replica.
    for (let i = 0; i < rows.length; i += 7) await w.append(rows.slice(i, i + 7));
    await w.close();
  }
}

describe('joining labels to predictions by request id', () => {
  for (let trial = 0; trial < 12; trial++) {
    it(`trial ${trial}: equals a naive join (replicas, shuffled files, repeated and unknown ids, late labels)`, async () => {
      const rand = prng(1000 + trial);
      const dir = mkdtempSync(join(tmpdir(), 'sentinel-join-'));
      const labelDir = join(dir, 'labels');
      mkdirSync(labelDir);
      try {
        const t0 = Date.parse('2026-11-30T00:00:00Z');
        const n = 50 + Math.floor(rand() * 400);
        const replicas = 1 + Math.floor(rand() * 4);
        // Distinct timestamps (ms) so "last received wins" has one answer without tie-breaking.
        const preds: Pred[] = Array.from({ length: n }, (_, i) => {
          const p1 = Math.round(rand() * 1e6) / 1e6;
          return { id: randomUUID(), t: t0 + i * 1000, prediction: p1 >= 0.5 ? CLASSES[1] : CLASSES[0], confidence: Math.max(p1, 1 - p1) };
        });
        // The window: the last part of the predictions (those before it are outside `since`).
        const windowFrom = t0 + Math.floor(n * rand() * 0.5) * 1000;
        const inWindow = preds.filter((p) => p.t >= windowFrom);
        const windowTo = inWindow.at(-1)!.t;
        const delay = Math.floor(rand() * 3) * 60_000;
        const until = windowTo + delay;
        // Labels: for a random share of predictions (in and out of the window), some repeated, some
        // unknown ids; receipt times before the prediction (clock skew), in the window, after the cut-off.
        const labels: LabelRow[] = [];
        const used = new Set<number>();
        const receipt = () => {
          const kind = rand();
          let t = Math.floor(kind < 0.1 ? t0 - 3_600_000 + rand() * 1000 : kind < 0.85 ? windowFrom + rand() * (until - windowFrom) : until + 1 + rand() * 600_000);
          while (used.has(t)) t++; // distinct
          used.add(t);
          return t;
        };
        for (const p of preds) {
          if (rand() < 0.3) continue;
          const times = 1 + (rand() < 0.25 ? 1 + Math.floor(rand() * 3) : 0);
          for (let k = 0; k < times; k++) labels.push({ id: p.id, t: receipt(), label: CLASSES[rand() < 0.5 ? 0 : 1] });
        }
        for (let k = 0, u = Math.floor(rand() * 30); k < u; k++) labels.push({ id: randomUUID(), t: receipt(), label: CLASSES[0] });

        // Files: predictions and labels each split over the replicas, rows shuffled.
        const cols = logColumns(['x']);
        const predRows = shuffle(preds.map((p) => [p.id, new Date(p.t).toISOString(), 'v1', 1, p.prediction, p.confidence]), rand);
        const labelRows = shuffle(labels.map((l) => [l.id, new Date(l.t).toISOString(), l.label]), rand);
        const split = <T,>(xs: T[]): T[][] => Array.from({ length: replicas }, (_, r) => xs.filter((_, i) => i % replicas === r));
        await writeFiles(dir, undefined, cols, split(predRows), 2000);
        await writeFiles(labelDir, LABEL_FILE_PREFIX, [...LABEL_COLUMNS], split(labelRows), 1500);

        // Under test: the reader, the label reader and the join, as the drift run calls them.
        const read = await readLog(dir, {
          sinceMs: windowFrom,
          types: new Map([['request_id', 'categorical'], ['prediction', 'categorical'], ['confidence', 'numerical']]),
          keep: (c) => ['request_id', 'prediction', 'confidence'].includes(c),
        });
        // Timestamps are ISO strings with ms; the cut-off compares ms.
        const lab = await readLabels(labelDir, { untilMs: new Date(windowTo).getTime() + delay });
        const side = { predictions: read.table.columns.get('prediction') as CategoricalColumn, confidence: read.table.columns.get('confidence') as NumericColumn };
        const outputs = outputsOf(side, CLASSES);
        const joined = joinLabels(read.table.columns.get('request_id') as CategoricalColumn, lab.labels, outputs, CLASSES);

        // Oracle: plain objects, last received wins among labels at or before the cut-off.
        const latest = new Map<string, LabelRow>();
        let late = 0;
        for (const l of labels) {
          if (l.t > until) {
            late++;
            continue;
          }
          const prev = latest.get(l.id);
          if (!prev || l.t > prev.t) latest.set(l.id, l);
        }
        assert.equal(read.table.rows, inWindow.length);
        assert.equal(lab.late, late);
        assert.equal(lab.rows, labels.length);
        assert.equal(lab.labels.size, latest.size);
        const windowIds = new Set(inWindow.map((p) => p.id));
        const expectedPairs = inWindow.filter((p) => latest.has(p.id)).map((p) => `${p.id}:${latest.get(p.id)!.label}:${p.prediction}`).sort();
        const ids = read.table.columns.get('request_id') as CategoricalColumn;
        const gotPairs = Array.from(joined.rows, (row, j) => `${ids.dictionary[ids.codes[row]]}:${CLASSES[joined.yTrue[j]]}:${CLASSES[outputs.predicted[row]]}`).sort();
        assert.deepEqual(gotPairs, expectedPairs);
        assert.equal(joined.stats.labelled, expectedPairs.length);
        assert.equal(joined.stats.unmatched_labels, [...latest.keys()].filter((id) => !windowIds.has(id)).length);
        assert.equal(joined.stats.coverage, expectedPairs.length / inWindow.length);

        // And the metrics: accuracy and the confusion matrix from the oracle's pairs.
        const perf = assessPerformance({ classes: CLASSES, current: { ids, side }, labels: { map: lab.labels, meta: {} as any }, reference: null });
        if (expectedPairs.length === 0) assert.equal(perf.current, null);
        else {
          const cm = [
            [0, 0],
            [0, 0],
          ];
          for (const s of expectedPairs) {
            const [, y, p] = s.split(':');
            cm[CLASSES.indexOf(y)][CLASSES.indexOf(p)]++;
          }
          assert.deepEqual(perf.current!.confusion_matrix, cm);
          assert.equal(perf.current!.accuracy, (cm[0][0] + cm[1][1]) / expectedPairs.length);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('equal receipt times: the later file in name order wins, then the later row; a torn last line is skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-join-tie-'));
    try {
      const id = randomUUID();
      const t = '2026-11-30T00:00:00.000Z';
      writeFileSync(join(dir, 'live_labels-a-1.csv'), `request_id,timestamp,label\n${id},${t},<=50K\n${id},${t},>50K\n`);
      writeFileSync(join(dir, 'live_labels-b-1.csv'), `request_id,timestamp,label\n${id},${t},<=50K\n${randomUUID()},${t},>5`);
      const read = await readLabels(dir);
      assert.equal(read.labels.get(id)!.label, '<=50K');
      assert.equal(read.superseded, 2);
      assert.equal(read.tornLines, 1);
      assert.equal(read.labels.size, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a file that is not a label file, and treats a missing label directory as no labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-join-bad-'));
    try {
      assert.equal((await readLabels(join(dir, 'nope'))).labels.size, 0);
      writeFileSync(join(dir, 'x.csv'), 'id,label\n1,2\n');
      await assert.rejects(readLabels(dir), /x\.csv is not a label file: its header must have request_id, timestamp, label/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('model quality edge cases', () => {
  it('multiclass from a log of contract v1 (no proba_ columns): no ROC AUC, log loss or CBPE, with the reason', async () => {
    const { estimateWithCbpe } = await import('../../src/drift/estimate.ts');
    const classes = ['a', 'b', 'c'];
    const preds: CategoricalColumn = { kind: 'categorical', dictionary: classes, codes: Uint8Array.from([0, 1, 2, 0, 1, 2]), missing: 0 };
    const conf: NumericColumn = { kind: 'numerical', values: Float64Array.from([0.5, 0.6, 0.7, 0.8, 0.9, 0.4]), missing: 0, invalid: 0, integerDtype: false };
    const ids: CategoricalColumn = { kind: 'categorical', dictionary: ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'], codes: Uint8Array.from([0, 1, 2, 3, 4, 5]), missing: 0 };
    const labels = new Map([['i0', { label: 'a' }], ['i1', { label: 'c' }], ['i2', { label: 'c' }], ['i4', { label: 'zzz' }]]);
    const p = assessPerformance({
      classes,
      current: { ids, side: { predictions: preds, confidence: conf } },
      labels: { map: labels, meta: {} as any },
      reference: { target: 't', labels: preds, side: { predictions: preds, confidence: conf } },
      estimate: estimateWithCbpe,
    });
    assert.equal(p.probabilities, 'none');
    assert.equal(p.current!.roc_auc, null);
    assert.equal(p.current!.log_loss, null);
    assert.equal(p.current!.accuracy, 2 / 3);
    // i4's label is not a class of the model: labelled, but unusable.
    assert.deepEqual(p.join, { predictions: 6, labelled: 4, coverage: 4 / 6, unmatched_labels: 0, unusable_rows: 1 });
    assert.equal(p.estimated, null);
    assert.match(p.estimated_unavailable!, /no per-class probability columns \(proba_a, proba_b, proba_c\).*log contract v2/);
    assert.match(p.probabilities_unavailable!, /no per-class probability columns/);
  });

  it('multiclass with proba_ columns, some rows without them (a v1 file beside v2 ones): accuracy on every labelled row, ROC AUC, log loss and CBPE unavailable with the count', async () => {
    const { estimateWithCbpe } = await import('../../src/drift/estimate.ts');
    const classes = ['a', 'b', 'c'];
    const num = (xs: number[]): NumericColumn => ({ kind: 'numerical', values: Float64Array.from(xs), missing: 0, invalid: 0, integerDtype: false });
    const preds: CategoricalColumn = { kind: 'categorical', dictionary: classes, codes: Uint8Array.from([0, 1, 2, 0, 1, 2]), missing: 0 };
    const ids: CategoricalColumn = { kind: 'categorical', dictionary: ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'], codes: Uint8Array.from([0, 1, 2, 3, 4, 5]), missing: 0 };
    const full = [num([0.6, 0.2, 0.1, 0.5, 0.3, 0.2]), num([0.3, 0.7, 0.2, 0.3, 0.4, 0.3]), num([0.1, 0.1, 0.7, 0.2, 0.3, 0.5])];
    const holes = [num([0.6, 0.2, NaN, 0.5, 0.3, 0.2]), num([0.3, 0.7, NaN, 0.3, 0.4, 0.3]), num([0.1, 0.1, NaN, 0.2, 0.3, 0.5])];
    const labels = new Map([['i0', { label: 'a' }], ['i1', { label: 'c' }], ['i2', { label: 'c' }], ['i3', { label: 'b' }], ['i5', { label: 'c' }]]);
    const refSide = { predictions: preds, confidence: null, classProba: full };
    const run = (classProba: NumericColumn[]) =>
      assessPerformance({
        classes,
        current: { ids, side: { predictions: preds, confidence: null, classProba } },
        labels: { map: labels, meta: {} as any },
        reference: { target: 't', labels: { ...preds, codes: Uint8Array.from([0, 2, 2, 1, 1, 2]) }, side: refSide },
        estimate: estimateWithCbpe,
      });
    const ok = run(full);
    assert.equal(ok.probabilities, 'full');
    assert.equal(ok.probabilities_unavailable, null);
    assert.notEqual(ok.current!.roc_auc, null);
    assert.notEqual(ok.current!.log_loss, null);
    assert.notEqual(ok.estimated, null);
    const mixed = run(holes);
    assert.equal(mixed.probabilities, 'full');
    assert.equal(mixed.current!.accuracy, ok.current!.accuracy);
    assert.equal(mixed.current!.accuracy, 3 / 5);
    assert.equal(mixed.current!.roc_auc, null);
    assert.equal(mixed.current!.log_loss, null);
    assert.match(mixed.probabilities_unavailable!, /^1 of the 5 labelled window rows have no class probabilities/);
    assert.equal(mixed.estimated, null);
    assert.match(mixed.estimated_unavailable!, /^1 of the 6 window rows have no class probabilities/);
  });

  it('--cbpe-chunk-* flags: one of them, whole numbers or a duration; bad ones are one-line usage errors', async () => {
    const { parseDriftArgs } = await import('../../src/cli/drift.ts');
    const { validateDriftOptions } = await import('../../src/services/run/drift-run.ts');
    const args = (...x: string[]) => ['--reference', 'r.csv', '--current', 'c', ...x];
    const ok = (x: string[]) => {
      const p = parseDriftArgs(args(...x));
      return p.help ? undefined : p.options.cbpeChunking;
    };
    assert.deepEqual(ok(['--cbpe-chunk-size', '500']), { method: 'size', size: 500 });
    assert.deepEqual(ok(['--cbpe-chunk-number', '4']), { method: 'number', number: 4 });
    assert.deepEqual(ok(['--cbpe-chunk-period', '1d']), { method: 'period', period: '1d' });
    assert.equal(ok([]), undefined);
    assert.throws(() => parseDriftArgs(args('--cbpe-chunk-size', '500', '--cbpe-chunk-number', '4')), /give one of --cbpe-chunk-size, --cbpe-chunk-number, not several/);
    assert.throws(() => parseDriftArgs(args('--cbpe-chunk-size', '1.5')), /--cbpe-chunk-size must be a whole number/);
    assert.throws(() => parseDriftArgs(args('--cbpe-chunk-number', '0')), /--cbpe-chunk-number must be a whole number >= 1 \(got 0\)/);
    assert.throws(() => parseDriftArgs(args('--cbpe-chunk-period', 'daily')), /--cbpe-chunk-period must be a duration like 1d or 6h \(got "daily"\)/);
    assert.throws(() => validateDriftOptions({ reference: 'r', current: 'c', out: 'o', cbpeChunking: { method: 'size', size: -1 } }), /--cbpe-chunk-size must be a whole number >= 1/);
  });

  it('a bad --label-delay is a one-line input error', async () => {
    const { validateDriftOptions } = await import('../../src/services/run/drift-run.ts');
    assert.throws(() => validateDriftOptions({ reference: 'r', current: 'c', out: 'o', labelDelay: '3 days' }), /--label-delay must be a duration like 24h, 30m or 7d \(got "3 days"\)/);
  });
});

describe('reading label files', () => {
  it('quoted labels (commas, quotes, newlines), CRLF lines and malformed rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-labels-'));
    try {
      const [a, b, c, d, e] = Array.from({ length: 5 }, () => randomUUID());
      writeFileSync(
        join(dir, 'live_labels-x-1.csv'),
        `request_id,timestamp,label\r\n${a},2026-11-30T00:00:00.000Z,"x, ""y"""\r\n${b},2026-11-30T00:00:00.000Z,"two\nlines"\n${c},not-a-time,z\n${d},2026-11-30T00:00:00.000Z\n${e},2026-11-30T00:00:00.000Z,"open\n`,
      );
      const read = await readLabels(dir);
      assert.equal(read.labels.get(a)!.label, 'x, "y"');
      assert.equal(read.labels.get(b)!.label, 'two\nlines');
      assert.deepEqual(read.skipped, { bad_timestamp: 1, field_count: 1 });
      assert.equal(read.tornLines, 1); // the unterminated quoted field at the end
      assert.equal(read.rows, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
