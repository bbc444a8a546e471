// The drift share's verdict for ±inf columns (src/drift/legacy-share.ts): compat mode counts what
// Evidently 0.7.23's DriftedColumnsCount counts (its legacy DatasetDriftMetric keeps ±inf on a side
// without NaN), the column keeps ValueDrift's verdict, and drift.json / the report / the CLI table say
// where the two differ. Expected values: the fuzz fixture's evidently.json (Evidently's numbers, the
// calls recorded in it as `call` and `share_call`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { renderReport } from '../../src/render/render.ts';
import { renderDriftTable } from '../../src/cli/drift.ts';
import type { EvidentlyCase } from '../support/evidently.ts';

const CASE = new URL('./fixtures/fuzz/case-3-00821/', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'sentinel-legacy-share-'));
const golden = JSON.parse(readFileSync(join(CASE, 'evidently.json'), 'utf8')) as EvidentlyCase;
const run = (opts: Record<string, unknown> = {}) =>
  runDriftJob({ reference: join(CASE, 'reference.csv'), current: join(CASE, 'current.csv'), out, save: false, cache: false, workers: 0, ...opts });

test('compat: the share counts the legacy verdict of a ±inf column, the column shows ValueDrift’s', async () => {
  const outcome = await run();
  const { result } = outcome;
  const c = result.columns.find((x) => x.name === 'c2_inf')!;
  // ValueDrift (infinities dropped): drift; the legacy metric keeps the reference's +inf: NaN, no drift.
  assert.equal(c.drift_detected, golden.columns.c2_inf.drift);
  assert.equal(c.drift_detected, true);
  assert.ok(c.share_verdict !== undefined, 'share_verdict set');
  assert.equal(c.share_verdict.drift_detected, golden.share_columns?.c2_inf.drift ?? false);
  assert.equal(c.share_verdict.stattest, 'wasserstein');
  assert.equal(c.share_verdict.stattest_score, null, 'NaN score written as null');
  assert.equal(c.reference.positive_infinity! + (c.reference.negative_infinity ?? 0) > 0, true);
  assert.equal(result.drifted_columns, golden.drifted_columns!.count);
  assert.equal(result.dataset_drift, golden.dataset_drift);
  // Every other column counts its shown verdict.
  const counted = result.columns.filter((x) => x.error === null && (x.share_verdict?.drift_detected ?? x.drift_detected)).length;
  assert.equal(counted, result.drifted_columns);
  const html = renderReport(result);
  assert.match(html, /share counts: no drift \*/);
  assert.match(html, /id="share-note"/);
  const table = renderDriftTable(outcome);
  assert.match(table, /DRIFT\*/);
  assert.match(table, /\* c2_inf: the share counts no drift/);
});

test('non-compat: no legacy verdict, the share counts the verdicts shown', async () => {
  const { result } = await run({ compat: false });
  assert.ok(result.columns.every((c) => c.share_verdict === undefined));
  assert.equal(result.drifted_columns, result.columns.filter((c) => c.error === null && c.drift_detected).length);
  assert.ok(!renderReport(result).includes('id="share-note"'));
});

test('a side with a NaN drops its infinities in the legacy metric too: no legacy verdict', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-legacy-share-nan-'));
  const rows = (n: number, shift: number, cells: string[]) => ['x', ...Array.from({ length: n }, (_, i) => String(((i * 37) % 101) / 100 + shift)), ...cells].join('\n') + '\n';
  // Evidently 0.7.23 on these files (pd.read_csv; Report([DataDriftPreset()], include_tests=True).run(current_data=cur, reference_data=ref)):
  //   ref ends inf, inf, nan: ValueDrift 1.7155532172277108, DriftedColumnsCount {count: 1, share: 1}
  //   ref ends inf, inf:      ValueDrift 1.7155532172277108, DriftedColumnsCount {count: 0, share: 0} (legacy: W1 / std = NaN)
  writeFileSync(join(dir, 'ref.csv'), rows(1200, 0, ['inf', 'inf', 'nan']));
  writeFileSync(join(dir, 'cur.csv'), rows(900, 0.5, []));
  const nan = await runDriftJob({ reference: join(dir, 'ref.csv'), current: join(dir, 'cur.csv'), out, save: false, cache: false, workers: 0 });
  assert.equal(nan.result.columns[0].share_verdict, undefined);
  assert.ok(Math.abs(nan.result.columns[0].stattest_score! - 1.7155532172277108) < 1e-9);
  assert.equal(nan.result.drifted_columns, 1);
  // Without the NaN the legacy metric keeps them: W1 / std(reference with inf) is NaN, no drift in the share.
  writeFileSync(join(dir, 'ref.csv'), rows(1200, 0, ['inf', 'inf']));
  const kept = await runDriftJob({ reference: join(dir, 'ref.csv'), current: join(dir, 'cur.csv'), out, save: false, cache: false, workers: 0 });
  const c = kept.result.columns[0];
  assert.equal(c.drift_detected, true);
  assert.equal(c.share_verdict?.drift_detected, false);
  assert.equal(kept.result.drifted_columns, 0);
});

test('alarm modes decide the dataset by their own rule: no legacy verdict', async () => {
  const { result } = await run({ alarm: { mode: 'bonferroni' } });
  assert.ok(result.columns.every((c) => c.share_verdict === undefined));
});
