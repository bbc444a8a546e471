// The one "is this run alerting" rule (src/drift/alerting.ts) and the places that must agree with it.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { alertOf, DEFAULT_SCORE_THRESHOLD, scoreAboveThreshold } from '../../src/drift/alerting.ts';
import { renderIndex } from '../../src/render/render.ts';
import { summarize } from '../../src/drift/result.ts';
import { SPEC_DEFAULTS } from '../../src/services/k8s/spec.ts';
import { verdictOf } from '../../src/services/k8s/status.ts';
import { makeResult } from '../render/fixture.ts';
import { REPO } from '../support/process.ts';

test('alerting = dataset drift OR drift_score strictly above the threshold', () => {
  const cases: [boolean | null, number | null, number | undefined, boolean, string][] = [
    [false, 0.05, 0.1, false, 'NoDrift'],
    [false, 0.1, 0.1, false, 'NoDrift'], // at the threshold: not above (PrometheusRule uses >)
    [false, 0.1001, 0.1, true, 'DriftScoreAboveThreshold'],
    [true, 0.02, 0.1, true, 'DatasetDrift'], // dataset drift with a small mean score still alerts
    [true, 0.5, 0.1, true, 'DatasetDrift'],
    [false, 0.9, undefined, false, 'NoDrift'], // no score threshold: dataset drift only
    [null, null, 0.1, false, 'NoDrift'],
  ];
  for (const [dataset_drift, drift_score, threshold, alerting, reason] of cases) {
    assert.deepEqual(alertOf({ dataset_drift, drift_score }, threshold), { alerting, reason }, JSON.stringify({ dataset_drift, drift_score, threshold }));
  }
  assert.equal(scoreAboveThreshold(null, 0), false);
});

test('one threshold default: the chart, the ModelMonitor spec and `sentinel reports --threshold`', () => {
  const values = parse(readFileSync(join(REPO, 'charts/sentinelml/values.yaml'), 'utf8'));
  assert.equal(values.monitoring.driftScoreThreshold, DEFAULT_SCORE_THRESHOLD);
  assert.equal(SPEC_DEFAULTS.driftScoreThreshold, DEFAULT_SCORE_THRESHOLD);
});

test('the ModelMonitor verdict and the report index follow the rule', () => {
  const datasetOnly = { ...makeResult({ runId: 'ds', finishedAt: '2026-11-30T10:00:00.000Z', driftScore: 0.02 }), dataset_drift: true };
  assert.equal(verdictOf(datasetOnly, 0.1).reason, 'DatasetDrift');
  const calm = { ...makeResult({ runId: 'calm', finishedAt: '2026-11-30T11:00:00.000Z', driftScore: 0.02 }), dataset_drift: false };
  assert.equal(verdictOf(calm, 0.1).drift, false);
  const html = renderIndex([summarize(datasetOnly), summarize(calm)]);
  assert.match(html, /<tr class="sev-drift">[\s\S]*?Dataset drift[\s\S]*?<\/tr>/);
  assert.match(html, /<tr class="sev-ok">[\s\S]*?Below threshold[\s\S]*?<\/tr>/);
});
