// @needs-tools: promtool
// Model quality through the whole drift run: a real prediction log (the bundled ONNX model's
// outputs) and label log, runDriftJob with worker threads, drift.json's performance section checked
// against direct computations, and the report server's gauges (valid for promtool).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { runDriftJob, type DriftJobOutcome } from '../../src/services/run/drift-run.ts';
import { registerDriftMetrics } from '../../src/services/report-server/metrics.ts';
import { estimateChunk, fitCbpe } from '../../src/stats/cbpe.ts';
import { classificationMetrics } from '../../src/stats/classification.ts';
import { writeServedLog } from '../support/model.ts';
import { REPO } from '../support/process.ts';

const N = 1500;

describe('model quality in the drift run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-quality-'));
  const live = join(dir, 'live');
  const out = join(dir, 'reports');
  let outcome: DriftJobOutcome;
  let classes: string[];
  let pred: number[];
  let p1: number[];
  let truth: number[];
  let labelledIdx: number[];

  before(async () => {
    const { card, records, predicted, ids, timestamp: ts, labels } = await writeServedLog(live, N, 'q');
    classes = card.classes;
    // Labels for 2 of every 3 predictions, a relabelled id (the last label counts) and an unknown id.
    labelledIdx = ids.map((_, i) => i).filter((i) => i % 3 !== 0);
    await labels.append(labelledIdx.map((i) => [ids[i], ts, i === 1 ? classes[0] : records[i].class]));
    await labels.append([[ids[1], new Date(Date.now() + 5).toISOString(), records[1].class], [randomUUID(), ts, classes[0]]]);
    await labels.close();
    pred = predicted.map((p) => classes.indexOf(p.label));
    p1 = predicted.map((p) => (p.label === classes[1] ? p.confidence : 1 - p.confidence));
    truth = records.map((r) => classes.indexOf(r.class));
    outcome = await runDriftJob({ reference: `${REPO}data/reference.csv`, current: live, out, modelCard: `${REPO}models/model.json`, workers: 1, cache: false });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('joins labels by id: coverage, unmatched and superseded labels', () => {
    const p = outcome.result.performance!;
    assert.deepEqual(p.join, { predictions: N, labelled: labelledIdx.length, coverage: labelledIdx.length / N, unmatched_labels: 1, unusable_rows: 0 });
    assert.equal(p.labels.rows, labelledIdx.length + 2);
    assert.equal(p.labels.superseded, 1);
    assert.equal(p.probabilities, 'binary_from_confidence');
  });

  it('realized metrics equal a direct computation on the labelled rows; the reference’s too', () => {
    const p = outcome.result.performance!;
    const proba = Float64Array.from(labelledIdx.flatMap((i) => [1 - p1[i], p1[i]]));
    const direct = classificationMetrics(
      labelledIdx.map((i) => truth[i]),
      labelledIdx.map((i) => pred[i]),
      proba,
      classes,
    );
    assert.deepEqual(p.current, direct);
    const ref: Record<string, string>[] = parse(readFileSync(`${REPO}data/reference.csv`), { columns: true });
    const refProba = Float64Array.from(ref.flatMap((r) => {
      const q = r.prediction === classes[1] ? Number(r.confidence) : 1 - Number(r.confidence);
      return [1 - q, q];
    }));
    const refDirect = classificationMetrics(ref.map((r) => classes.indexOf(r.class)), ref.map((r) => classes.indexOf(r.prediction)), refProba, classes);
    assert.deepEqual(p.reference, { target: 'class', ...refDirect });
    assert.equal(p.change!.accuracy, direct.accuracy - refDirect.accuracy);
  });

  it('CBPE estimates the whole window from the reference, with the realized values beside them', () => {
    const p = outcome.result.performance!;
    const ref: Record<string, string>[] = parse(readFileSync(`${REPO}data/reference.csv`), { columns: true });
    const refProba = Float64Array.from(ref.flatMap((r) => {
      const q = r.prediction === classes[1] ? Number(r.confidence) : 1 - Number(r.confidence);
      return [1 - q, q];
    }));
    const model = fitCbpe({ k: 2, proba: refProba, yPred: Int32Array.from(ref, (r) => classes.indexOf(r.prediction)), yTrue: Int32Array.from(ref, (r) => classes.indexOf(r.class)) }, p.estimated!.chunk_size);
    const est = estimateChunk(model, { k: 2, proba: Float64Array.from(p1.flatMap((q) => [1 - q, q])), yPred: Int32Array.from(pred) });
    for (const m of ['roc_auc', 'f1', 'accuracy'] as const) {
      assert.equal(p.estimated!.metrics[m].value, est[m].value, m);
      assert.equal(p.estimated!.metrics[m].sampling_error, est[m].sampling_error, m);
      assert.equal(p.estimated!.metrics[m].alert, est[m].alert, m);
    }
    assert.equal(p.estimated!.metrics.f1.realized, p.current!.per_class[1].f1);
    assert.equal(p.estimated_unavailable, null);
  });

  it('caches CBPE’s reference fit beside the reference profile: the same performance section from the cache, an edited entry is what is used, a corrupt one is a miss', async () => {
    const cacheDir = join(dir, 'cbpe-cache');
    const job = (cache: boolean) => runDriftJob({ reference: `${REPO}data/reference.csv`, current: live, out: join(dir, 'cached'), cacheDir, modelCard: `${REPO}models/model.json`, workers: 1, cache, cbpeChunking: { method: 'size', size: 500 } });
    const fresh = (await job(false)).result.performance!;
    assert.deepEqual(fresh.estimated!.calibrated, [true], 'the fixture needs calibration, so the cached calibrator matters');
    assert.ok(fresh.estimated!.chunks!.length > 1);
    const first = (await job(true)).result.performance!;
    const files = readdirSync(cacheDir).filter((n) => n.includes('-cbpe-'));
    assert.equal(files.length, 1);
    const second = (await job(true)).result.performance!;
    assert.deepEqual(first, fresh, 'a miss fits and writes');
    assert.deepEqual(second, fresh, 'a hit gives every number of a fresh fit');
    const path = join(cacheDir, files[0]);
    const written = JSON.parse(readFileSync(path, 'utf8'));
    assert.deepEqual(Object.keys(written.fits), ['file'], 'no reference timestamps: the time order is the file order, one fit');
    written.fits.file.calibrators = [null];
    writeFileSync(path, JSON.stringify(written));
    const edited = (await job(true)).result.performance!;
    assert.notEqual(edited.estimated!.metrics.accuracy.value, fresh.estimated!.metrics.accuracy.value, 'the run used the cached fit');
    writeFileSync(path, '{"format":"SNTLCBPE1","fits":{"file":{"k":2,"calibrators":[{"x":[1],"y":[]}]}}}');
    assert.deepEqual((await job(true)).result.performance, fresh, 'a malformed entry is a miss');
    writeFileSync(path, 'not json');
    assert.deepEqual((await job(true)).result.performance, fresh, 'an unreadable file is a miss');
  });

  it('exports sentinelml_model_performance and sentinelml_label_coverage on the report server’s /metrics', async () => {
    const registry = new Registry();
    registerDriftMetrics(registry, out);
    const text = await registry.metrics();
    const p = outcome.result.performance!;
    assert.ok(text.includes(`sentinelml_label_coverage ${p.join.coverage}`), text);
    assert.ok(text.includes(`sentinelml_labelled_predictions ${p.join.labelled}`));
    assert.ok(text.includes(`sentinelml_model_performance{metric="accuracy",source="realized",class=""} ${p.current!.accuracy}`));
    assert.ok(text.includes(`sentinelml_model_performance{metric="accuracy",source="reference",class=""} ${p.reference!.accuracy}`));
    assert.ok(text.includes(`sentinelml_model_performance{metric="f1",source="realized",class=">50K"} ${p.current!.per_class[1].f1}`));
    assert.ok(text.includes(`sentinelml_model_performance{metric="roc_auc",source="estimated",class=""} ${p.estimated!.metrics.roc_auc.value}`));
    assert.match(text, /sentinelml_estimated_performance_alert\{metric="accuracy"\} [01]/);
    assert.equal(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim(), '');
  });

  it('leaves labels received after window end + --label-delay out', async () => {
    const later = await runDriftJob({ reference: `${REPO}data/reference.csv`, current: live, out, modelCard: `${REPO}models/model.json`, workers: 0, cache: false, save: false, labelDelay: '1ms' });
    const p = later.result.performance!;
    // The relabel arrived 5 ms after the window's only timestamp: late; the first label of that id counts.
    assert.equal(p.labels.late, 1);
    assert.equal(p.labels.delay, '1ms');
    assert.equal(p.join.labelled, labelledIdx.length);
  });
});
