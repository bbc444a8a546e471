import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CONTENT_SECURITY_POLICY, renderIndex, renderReport } from '../../src/render/render.ts';
import { formatCompact, formatNumber, formatPercent, formatTime } from '../../src/render/format.ts';
import type { RunSummary } from '../../src/drift/result.ts';
import { HOSTILE, makeResult } from './fixture.ts';

const ATTR = '" onmouseover="alert(2)" x="';

function hostileEverywhere() {
  const r = makeResult({ hostile: true });
  r.reference.path = `data/${HOSTILE}.csv`;
  r.current.path = ATTR;
  r.window.since = HOSTILE;
  r.columns[0].stattest = `ks${HOSTILE}`;
  r.columns[6].error = { code: HOSTILE, message: `{{constructor}} ${HOSTILE} ${ATTR}` };
  if (r.columns[3].distribution?.kind === 'categories') r.columns[3].distribution.categories[0] = ATTR;
  return r;
}

test('every user-supplied string is escaped, in HTML, attributes and SVG', () => {
  const html = renderReport(hostileEverywhere());
  assert.equal(html.match(/<script/g)?.length, 1, 'only our own script tag');
  assert.ok(!html.includes('alert(1)</script>'), 'no raw hostile markup');
  assert.ok(!html.includes('onmouseover="'), 'attribute injection is escaped');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('{{constructor}}'), 'template syntax in data is printed, not evaluated');
});

test('the report is self-contained: no remote resources, CSP allows exactly our inline script and style', () => {
  const html = renderReport(makeResult());
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|url\(/i);
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  const sha = (s: string) => createHash('sha256').update(s).digest('base64');
  assert.ok(CONTENT_SECURITY_POLICY.includes(`'sha256-${sha(script)}'`), 'script hash matches');
  assert.ok(CONTENT_SECURITY_POLICY.includes(`'sha256-${sha(style)}'`), 'style hash matches');
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
  assert.equal(meta.replaceAll('&#x27;', "'").replaceAll('&#x3D;', '='), CONTENT_SECURITY_POLICY);
});

test('summary first, then one chart per column, then prediction drift', () => {
  const r = makeResult();
  const html = renderReport(r);
  const iSummary = html.indexOf('id="dataset-drift"');
  const iColumns = html.indexOf('id="columns"');
  const iPrediction = html.indexOf('id="prediction"');
  assert.ok(iSummary > 0 && iSummary < iColumns && iColumns < iPrediction);
  const table = html.slice(iColumns, iPrediction);
  assert.equal(table.match(/<svg class="chart /g)?.length, r.columns.length);
  assert.match(html, /0\.1977[\s\S]*above[\s\S]*alert threshold 0\.1/);
  const below = renderReport(makeResult({ driftScore: 0.05 }));
  assert.match(below, /at or below[\s\S]*alert threshold 0\.1/);
  assert.match(renderReport(makeResult({ driftScore: 0.05 }), { scoreThreshold: 0.01 }), /above[\s\S]*alert threshold 0\.01/);
});

test('a result without prediction, with a plain CSV window and no distributions still renders', () => {
  const r = makeResult();
  r.prediction = null;
  r.window = { since: null, from: null, to: null };
  for (const c of r.columns) c.distribution = null;
  const html = renderReport(r);
  assert.match(html, /prediction drift was not tested/);
  assert.match(html, /Whole file/);
  assert.equal(html.match(/class="chart chart-empty"/g)?.length, r.columns.length);
});

test('the index escapes run messages and shows an empty state', () => {
  const runs: RunSummary[] = [
    { run_id: 'r1', status: 'failed', finished_at: '2026-11-26T10:00:00.000Z', drift_score: null, drift_share: null, dataset_drift: null, drifted_columns: null, tested_columns: null, reference_rows: null, current_rows: null, message: HOSTILE },
  ];
  const html = renderIndex(runs, { warning: HOSTILE });
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(renderIndex([]), /No runs yet/);
});

test('number formatting', () => {
  assert.equal(formatNumber(null), '—');
  assert.equal(formatNumber(34687), '34,687');
  assert.equal(formatNumber(0.18943), '0.1894');
  assert.equal(formatNumber(1.2e-86), '1.20e-86');
  assert.equal(formatNumber(1620.33), '1620');
  assert.equal(formatCompact(99999), '100k');
  assert.equal(formatPercent(2 / 3), '66.7%');
  assert.equal(formatTime('2026-11-26T15:00:04.512Z'), '2026-11-26 15:00:04 UTC');
});

test('the index shows the newest runs only, up to its limit', () => {
  const runs: RunSummary[] = Array.from({ length: 30 }, (_, i) => ({
    run_id: `run-${String(i).padStart(2, '0')}`, status: 'ok', finished_at: new Date(Date.UTC(2026, 10, 26, 0, i)).toISOString(),
    drift_score: 0.01 * i, drift_share: 0.1, dataset_drift: false, drifted_columns: 1, tested_columns: 10, reference_rows: 100, current_rows: 100, message: null,
  }));
  const html = renderIndex(runs, { limit: 10 });
  assert.match(html, /newest 10 of 30 runs/);
  assert.ok(html.includes('run-29') && html.includes('run-20') && !html.includes('run-19'));
  assert.equal(html.match(/<circle class="dot/g)?.length, 10);
});

test('alarm modes: the report names the mode, how each threshold was set and Evidently\'s own verdict', () => {
  const r = makeResult();
  const plain = renderReport(r);
  assert.ok(!plain.includes('id="alarm-mode"'), 'Evidently mode: no alarm wording');
  r.alarm = { mode: 'bootstrap', per_column_mode: { sex: 'bh' }, alpha: 0.05, dataset_rule: 'any_column', tests: 'corrected', resamples: 500, seed: 0 };
  r.columns[0] = {
    ...r.columns[0],
    threshold: 0.0293,
    drift_detected: true,
    alarm: { mode: 'bootstrap', tests: 'corrected', evidently_threshold: 0.1, evidently_drift: false, method: `bootstrap: 0.9964 quantile of 500 null resamples at 35000 rows ${HOSTILE}`, evidence: 0.05 },
  };
  r.columns[1] = { ...r.columns[1], alarm: { mode: 'bh', tests: 'corrected', evidently_threshold: 0.05, evidently_drift: false, evidently_error: 'g_test (Evidently-compatible) needs reference and current of equal size', method: 'g_test p-value, bh over the columns', evidence: 1 } };
  const html = renderReport(r);
  assert.match(html, /alarm mode <strong id="alarm-mode">bootstrap<\/strong> \(per column: sex: bh\): dataset drift when any column drifts, false-alarm target α = 0\.05/);
  assert.match(html, /title="bootstrap: 0\.9964 quantile of 500 null resamples at 35000 rows &lt;script&gt;alert\(1\)&lt;\/script&gt;">bootstrap, corrected test<br>Evidently: no drift at 0\.1/);
  assert.match(html, />bh, corrected test<br>Evidently: its test fails here \(g_test \(Evidently-compatible\) needs reference and current of equal size\)/);
  assert.match(html, /Evidently-compatible tests \(corrected tests in the calibrated alarm-mode columns\)/);
  assert.ok(!plain.includes('calibrated alarm-mode columns'));
  assert.match(html, /0\.0293/);
  assert.ok(!html.includes('alert(1)</script>'));
});

test('formatNumber groups integers exactly as toLocaleString("en-US") does (without building an ICU formatter per number)', () => {
  const ints = [0, -0, 7, -42, 999, 1000, -1000, 65536, 1234567, -987654321, 2 ** 53, 1e20, 1e21, 1e300];
  for (let i = 0; i < 2000; i++) ints.push(Math.round((((i * 7919) % 2003) - 1001) * 10 ** (i % 19)));
  for (const n of ints) assert.equal(formatNumber(n), n.toLocaleString('en-US'), String(n));
  assert.equal(formatNumber(123456.7), '123,457');
});
