// Multiclass model quality end to end (log contract v2): the real `sentinel serve` process with a
// three-class ONNX model (test/fixtures/multiclass, trained by its train.py on NannyML's shipped
// multiclass dataset) logs proba_<class> columns; the test posts the window's true labels to
// /feedback, runs the drift job with CBPE chunks, and checks realized metrics against scikit-learn
// and CBPE against NannyML 0.13.1, chunk by chunk (golden.json: the exact call beside the values).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { runDriftJob, type DriftJobOptions } from '../../src/services/run/drift-run.ts';
import type { CbpeChunk, PerformanceSection } from '../../src/drift/result.ts';
import { logColumns } from '../../src/io/log/schema.ts';
import type { ModelCard } from '../../src/io/model/card.ts';
import { Registry } from 'prom-client';
import { registerDriftMetrics } from '../../src/services/report-server/metrics.ts';
import { featureRowsFrom } from '../support/model.ts';
import { REPO, startSentinel } from '../support/process.ts';

const FIXTURE = `${REPO}test/fixtures/multiclass/`;
const golden = JSON.parse(readFileSync(`${FIXTURE}golden.json`, 'utf8'));
const card: ModelCard = JSON.parse(readFileSync(`${FIXTURE}model.json`, 'utf8'));
const BATCH = 500;

function close(actual: number | null | undefined, expected: number | null, what: string, rel = 1e-12): void {
  if (expected === null) return assert.equal(actual ?? null, null, `${what}: expected null, got ${actual}`);
  assert.ok(typeof actual === 'number', `${what}: expected ${expected}, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs NannyML/sklearn ${expected} (diff ${actual - expected})`);
}

/** Every chunk of a drift run against NannyML's analysis chunks of the same call. */
function compareChunks(chunks: CbpeChunk[] | null, nannyml: any[], what: string): void {
  assert.ok(chunks !== null, `${what}: no chunks`);
  assert.equal(chunks.length, nannyml.length, `${what}: chunk count`);
  chunks.forEach((c, i) => {
    const g = nannyml[i];
    assert.equal(c.start, g.start, `${what} chunk ${i} start`);
    assert.equal(c.end, g.end, `${what} chunk ${i} end`);
    for (const m of ['roc_auc', 'f1', 'accuracy']) {
      const ours = c.metrics[m];
      const at = `${what} chunk ${g.key} ${m}`;
      close(ours.value, g[m].value, `${at} value`);
      close(ours.sampling_error, g[m].sampling_error, `${at} sampling_error`);
      close(ours.lower_confidence_boundary, g[m].lower_confidence_boundary, `${at} lower_confidence_boundary`);
      close(ours.upper_confidence_boundary, g[m].upper_confidence_boundary, `${at} upper_confidence_boundary`);
      close(ours.lower_threshold, g[m].lower_threshold, `${at} lower_threshold`);
      close(ours.upper_threshold, g[m].upper_threshold, `${at} upper_threshold`);
      assert.equal(ours.alert, g[m].alert, `${at} alert`);
      if ('realized' in g[m]) close(ours.realized, g[m].realized, `${at} realized`);
    }
  });
}

describe('multiclass model quality from the prediction log (served model, labels, CBPE chunks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-mc-'));
  const live = join(dir, 'live');
  const reference = join(dir, 'reference.csv');
  const currentCsv = join(dir, 'current.csv');
  let logged: Record<string, string>[];
  const base = (): DriftJobOptions => ({ reference, current: live, out: join(dir, 'reports'), modelCard: `${FIXTURE}model.json`, target: 'y_true', workers: 0, cache: false, save: false });

  before(async () => {
    mkdirSync(live);
    writeFileSync(reference, gunzipSync(readFileSync(`${FIXTURE}reference.csv.gz`)));
    writeFileSync(currentCsv, gunzipSync(readFileSync(`${FIXTURE}current.csv.gz`)));
    const rows = featureRowsFrom(currentCsv, card);
    const truth = (parse(readFileSync(currentCsv), { columns: true }) as Record<string, string>[]).map((r) => r.y_true);
    // One worker: one log file whose row order is the order posted (several workers split the rows).
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--model', `${FIXTURE}model.onnx`, '--log-dir', live]);
    try {
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${proc.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const json = (await res.json()) as any;
        assert.equal(res.status, 200, `${path}: ${JSON.stringify(json).slice(0, 500)}`);
        return json;
      };
      // In order, one batch at a time: the log's row order is the fixture's (NannyML's analysis order).
      const ids: string[] = [];
      for (let i = 0; i < rows.length; i += BATCH) ids.push(...(await post('/predict', { instances: rows.slice(i, i + BATCH) })).predictions.map((p: { id: string }) => p.id));
      for (let i = 0; i < ids.length; i += BATCH) await post('/feedback', { instances: ids.slice(i, i + BATCH).map((id, j) => ({ request_id: id, label: truth[i + j] })) });
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
    }
    const files = readdirSync(live).filter((f) => f.endsWith('.csv'));
    assert.equal(files.length, 1);
    logged = parse(readFileSync(join(live, files[0])), { columns: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the log carries one probability column per class (contract v2), equal to the model outputs NannyML was given', () => {
    const header = Object.keys(logged[0]);
    assert.deepEqual(header, logColumns(card.features.map((f) => f.name), card.classes));
    assert.deepEqual(header.slice(-3), ['proba_highstreet_card', 'proba_prepaid_card', 'proba_upmarket_card']);
    assert.equal(logged.length, golden.cbpe.size.analysis.at(-1).end + 1);
    for (const r of logged) {
      const p = card.classes.map((c) => Number(r[`proba_${c}`]));
      assert.equal(Number(r.confidence), Math.max(...p));
      assert.equal(r.prediction, card.classes[p.indexOf(Math.max(...p))]);
    }
  });

  it('realized metrics on the joined labels equal scikit-learn on the same rows; CBPE in chunks of 500 equals NannyML chunk by chunk', async () => {
    const out = join(dir, 'reports');
    const { result, runDir } = await runDriftJob({ ...base(), save: true, out, cbpeChunking: { method: 'size', size: 500 } });
    const p = result.performance as PerformanceSection;
    // drift.json as written, the report's chunk charts and the gauges.
    assert.deepEqual(JSON.parse(readFileSync(join(runDir!, 'drift.json'), 'utf8')).performance.estimated.chunks, JSON.parse(JSON.stringify(p.estimated!.chunks)));
    const html = readFileSync(join(runDir!, 'report.html'), 'utf8');
    assert.match(html, /id="cbpe-chunks"/);
    assert.equal(html.match(/class="q-band"/g)?.length, 6 * 3);
    const registry = new Registry();
    registerDriftMetrics(registry, out);
    const text = await registry.metrics();
    assert.ok(text.includes(`sentinelml_model_performance{metric="roc_auc",source="realized",class=""} ${p.current!.roc_auc}`), text);
    assert.ok(text.includes(`sentinelml_model_performance{metric="log_loss",source="realized",class=""} ${p.current!.log_loss}`));
    const sk = golden.sklearn;
    assert.equal(p.probabilities, 'full');
    assert.equal(p.probabilities_unavailable, null);
    assert.deepEqual(p.join, { predictions: 3000, labelled: 3000, coverage: 1, unmatched_labels: 0, unusable_rows: 0 });
    const cur = p.current!;
    close(cur.accuracy, sk['accuracy_score(y, y_pred)'], 'accuracy');
    close(cur.f1_macro, sk["f1_score(y, y_pred, labels=classes, average='macro')"], 'f1_macro');
    close(cur.roc_auc, sk["roc_auc_score(y, proba, multi_class='ovr', average='macro', labels=classes)"], 'roc_auc (ovr, macro)');
    close(cur.log_loss, sk['log_loss(y, proba, labels=classes)'], 'log_loss');
    const prf = sk['precision_recall_fscore_support(y, y_pred, labels=classes, average=None, zero_division=0)'];
    cur.per_class.forEach((c, i) => {
      close(c.precision, prf.precision[i], `precision ${c.label}`);
      close(c.recall, prf.recall[i], `recall ${c.label}`);
      close(c.f1, prf.f1[i], `f1 ${c.label}`);
      close(c.roc_auc, sk['roc_auc_score(y == c, proba[:, c]) per class'][i], `roc_auc ${c.label}`);
    });
    assert.deepEqual(cur.confusion_matrix, sk['confusion_matrix(y, y_pred, labels=classes)']);
    const ref = p.reference!;
    close(ref.accuracy, golden.sklearn_reference['accuracy_score(y, y_pred)'], 'reference accuracy');
    close(ref.roc_auc, golden.sklearn_reference["roc_auc_score(y, proba, multi_class='ovr', average='macro', labels=classes)"], 'reference roc_auc');
    close(ref.log_loss, golden.sklearn_reference['log_loss(y, proba, labels=classes)'], 'reference log_loss');

    const est = p.estimated!;
    assert.ok(est !== null, p.estimated_unavailable ?? '');
    assert.deepEqual(est.calibrated, golden.cbpe.size.calibrated);
    assert.deepEqual(est.chunking, { method: 'size', size: 500 });
    assert.equal(est.chunk_reference_chunks, golden.cbpe.size.reference.length);
    compareChunks(est.chunks, golden.cbpe.size.analysis, 'chunk_size=500');
    assert.ok(est.chunks!.every((c) => c.labelled === c.rows && c.from !== null));
  });

  it('CBPE in chunks of 700 (a short last chunk of 200 kept, as NannyML keeps it) equals NannyML chunk by chunk', async () => {
    const { result } = await runDriftJob({ ...base(), cbpeChunking: { method: 'size', size: 700 } });
    const est = result.performance!.estimated!;
    assert.equal(est.chunks!.at(-1)!.rows, 200);
    assert.equal(est.chunk_reference_chunks, golden.cbpe.size_remainder.reference.length);
    compareChunks(est.chunks, golden.cbpe.size_remainder.analysis, 'chunk_size=700');
  });

  it('CBPE in 4 chunks (NannyML chunk_number=4) equals NannyML chunk by chunk', async () => {
    const { result } = await runDriftJob({ ...base(), cbpeChunking: { method: 'number', number: 4 } });
    const est = result.performance!.estimated!;
    assert.equal(est.chunk_reference_chunks, golden.cbpe.number.reference.length);
    compareChunks(est.chunks, golden.cbpe.number.analysis, 'chunk_number=4');
  });

  it('CBPE per day (NannyML chunk_period="D") on a plain CSV with the data set\'s timestamps equals NannyML chunk by chunk', async () => {
    // The served outputs with the fixture's own timestamps (the log's are the request times).
    const rows: Record<string, string>[] = parse(readFileSync(currentCsv), { columns: true });
    const outputs = ['prediction', 'confidence', ...card.classes.map((c) => `proba_${c}`)];
    const plain = join(dir, 'window-with-times.csv');
    // Naive times written as UTC (what pandas' daily periods group by); the reader reads ISO 8601 with a zone as is.
    const utc = (t: string) => `${t.replace(' ', 'T')}Z`;
    writeFileSync(plain, stringify(rows.map((r, i) => ({ ...r, timestamp: utc(r.timestamp), ...Object.fromEntries(outputs.map((o) => [o, logged[i][o]])) })), { header: true }));
    const { result } = await runDriftJob({ ...base(), current: plain, cbpeChunking: { method: 'period', period: '1d' } });
    const est = result.performance!.estimated!;
    assert.equal(est.chunk_reference_chunks, golden.cbpe.period.reference.length);
    // No labels here (a plain CSV has no request ids): NannyML's realized values are not compared.
    const withoutRealized = structuredClone(golden.cbpe.period.analysis);
    for (const g of withoutRealized) for (const m of ['roc_auc', 'f1', 'accuracy']) delete g[m].realized;
    compareChunks(est.chunks, withoutRealized, 'chunk_period=D');
    assert.ok(est.chunks!.every((c) => c.labelled === 0 && c.metrics.accuracy.realized === null));
    assert.deepEqual(est.chunks!.map((c) => c.from!.slice(0, 10)), golden.cbpe.period.analysis.map((g: any) => g.key));
  });

  it('the same log without its proba_ columns (contract v1), or partly without (v1 and v2 files), reports multiclass ROC AUC, log loss and CBPE unavailable, with the reason', async () => {
    const v1 = join(dir, 'live-v1');
    mkdirSync(v1);
    const keep = logColumns(card.features.map((f) => f.name));
    writeFileSync(join(v1, 'live_predictions-old.csv'), stringify(logged.map((r) => keep.map((c) => r[c])), { header: true, columns: keep }));
    mkdirSync(join(v1, 'labels'));
    for (const f of readdirSync(join(live, 'labels'))) writeFileSync(join(v1, 'labels', f), readFileSync(join(live, 'labels', f)));
    const { result } = await runDriftJob({ ...base(), current: v1 });
    const p = result.performance!;
    assert.equal(p.probabilities, 'none');
    assert.match(p.probabilities_unavailable!, /no per-class probability columns \(proba_highstreet_card, proba_prepaid_card, proba_upmarket_card\)/);
    assert.equal(p.current!.roc_auc, null);
    assert.equal(p.current!.log_loss, null);
    close(p.current!.accuracy, golden.sklearn['accuracy_score(y, y_pred)'], 'v1 accuracy');
    assert.equal(p.estimated, null);
    assert.match(p.estimated_unavailable!, /window are unknown: .*log contract v2/);

    // Upgraded in the middle of the window: a v1 file (first 1,000 rows) beside a v2 file (the rest).
    const mixed = join(dir, 'live-mixed');
    mkdirSync(join(mixed, 'labels'), { recursive: true });
    const v2 = Object.keys(logged[0]);
    writeFileSync(join(mixed, 'live_predictions-a-20261201T000000000Z-0000.csv'), stringify(logged.slice(0, 1000).map((r) => keep.map((c) => r[c])), { header: true, columns: keep }));
    writeFileSync(join(mixed, 'live_predictions-a-20261201T010000000Z-0001.csv'), stringify(logged.slice(1000).map((r) => v2.map((c) => r[c])), { header: true, columns: v2 }));
    for (const f of readdirSync(join(live, 'labels'))) writeFileSync(join(mixed, 'labels', f), readFileSync(join(live, 'labels', f)));
    const m = (await runDriftJob({ ...base(), current: mixed })).result.performance!;
    assert.equal(m.probabilities, 'full');
    assert.equal(m.probabilities_unavailable, '1000 of the 3000 labelled window rows have no class probabilities (log files written before log contract v2, or empty cells)');
    assert.equal(m.current!.roc_auc, null);
    assert.equal(m.current!.log_loss, null);
    close(m.current!.accuracy, golden.sklearn['accuracy_score(y, y_pred)'], 'mixed accuracy');
    assert.equal(m.estimated, null);
    assert.match(m.estimated_unavailable!, /^1000 of the 3000 window rows have no class probabilities/);
  });
});
