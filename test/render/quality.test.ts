// The model-quality section of a run's report and the quality chart of the index: rendered from
// drift.json's performance section, class names (user data) escaped, absent without it.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { assessPerformance } from '../../src/drift/performance.ts';
import type { CategoricalColumn, NumericColumn } from '../../src/table/columns.ts';
import { renderIndex, renderReport } from '../../src/render/render.ts';
import { summarize } from '../../src/drift/result.ts';
import { HOSTILE, makeResult } from './fixture.ts';

function withQuality(runId: string, finishedAt: string) {
  const classes = ['no', HOSTILE];
  const n = 40;
  const cat = (values: string[]): CategoricalColumn => ({ kind: 'categorical', dictionary: classes, codes: Uint8Array.from(values, (v) => classes.indexOf(v)), missing: 0 });
  const preds = Array.from({ length: n }, (_, i) => classes[i % 2]);
  const conf: NumericColumn = { kind: 'numerical', values: Float64Array.from({ length: n }, (_, i) => 0.6 + (i % 7) / 20), missing: 0, invalid: 0, integerDtype: false };
  const ids: CategoricalColumn = { kind: 'categorical', dictionary: preds.map((_, i) => `id-${i}`), codes: Uint8Array.from(preds, (_, i) => i), missing: 0 };
  const labels = new Map(preds.map((p, i) => [`id-${i}`, { label: i % 5 === 0 ? classes[1 - (i % 2)] : p }]));
  const result = makeResult({ runId, finishedAt });
  result.performance = assessPerformance({
    classes,
    current: { ids, side: { predictions: cat(preds), confidence: conf } },
    labels: { map: labels, meta: { path: 'labels', files: 1, rows: n, superseded: 0, late: 0, torn_lines: 0, skipped_rows: 0, delay: null, until: null } },
    reference: { target: 'class', labels: cat(preds.map((p, i) => (i % 4 === 0 ? classes[1 - (i % 2)] : p))), side: { predictions: cat(preds), confidence: conf } },
  });
  return result;
}

it('renders realized, reference, change, per-class scores and the confusion matrix; escapes class names', () => {
  const result = withQuality('run-q-1', '2026-11-30T10:00:00Z');
  const html = renderReport(result);
  const p = result.performance!;
  assert.match(html, /<section aria-labelledby="quality-title" id="quality">/);
  assert.match(html, /100\.0%/); // coverage
  assert.match(html, new RegExp(`<td>Accuracy</td><td class="num">${p.reference!.accuracy}</td><td class="num">${p.current!.accuracy}</td>`));
  assert.ok(!html.includes(HOSTILE), 'a class name is user data: escaped');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.match(html, /id="confusion-matrix"/);
  assert.ok(!renderReport(makeResult()).includes('id="quality"'), 'no section without performance');
});

it('the index charts accuracy over runs (reference, realized, estimated) only when a run measured it', () => {
  const runs = [summarize(withQuality('run-q-1', '2026-11-30T10:00:00Z')), summarize(withQuality('run-q-2', '2026-11-30T11:00:00Z')), summarize(makeResult({ runId: 'run-plain', finishedAt: '2026-11-30T12:00:00Z' }))];
  const html = renderIndex(runs);
  assert.match(html, /Model quality over time/);
  assert.equal((html.match(/class="q-dot q-realized"/g) ?? []).length, 2);
  assert.equal((html.match(/class="q-line q-reference"/g) ?? []).length, 1);
  assert.ok(!renderIndex([runs[2]]).includes('Model quality over time'));
});
