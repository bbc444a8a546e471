import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectDrift } from '../../src/drift/detect.ts';
import { loadTable, testRunMeta } from '../support/drift.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIX = join(ROOT, 'test/drift/fixtures');

const meta = () => testRunMeta('text-run');
const load = loadTable;

// Golden: Evidently 0.7.23's DataDriftPreset on the same two CSVs (the call is recorded in the fixture).
test('a free-text column is tested with Evidently\'s text-drift classifier and matches its score', async () => {
  const golden = JSON.parse(readFileSync(join(FIX, 'evidently-text.json'), 'utf8'));
  const r = detectDrift(await load(join(FIX, 'text/reference.csv')), await load(join(FIX, 'text/current.csv')), meta());
  const review = r.columns.find((c) => c.name === 'review')!;
  assert.equal(review.error, null);
  assert.equal(review.type, 'text');
  assert.equal(review.stattest, 'perc_text_content_drift');
  assert.equal(golden.columns.review.method, 'Percentile text content drift');
  assert.equal(review.threshold, golden.columns.review.threshold);
  assert.ok(Math.abs(review.stattest_score! - golden.columns.review.score) <= 1e-9 * golden.columns.review.score);
  assert.equal(review.drift_detected, golden.columns.review.drift);
  assert.equal(review.score_method, 'domain_classifier_gini');
  assert.ok(Math.abs(review.score! - (2 * golden.columns.review.score - 1)) < 1e-12);
  assert.equal(r.drifted_columns, golden.drifted_columns.count);
  assert.equal(r.drift_share, golden.drifted_columns.share);
});

test('the same text on both sides is no drift', async () => {
  const ref = await load(join(FIX, 'text/reference.csv'));
  const r = detectDrift(ref, await load(join(FIX, 'text/reference.csv')), meta());
  const review = r.columns.find((c) => c.name === 'review')!;
  assert.equal(review.error, null);
  assert.equal(review.drift_detected, false);
});

test('a stattest that does not apply to text is that column\'s error, as in Evidently', async () => {
  const r = detectDrift(await load(join(FIX, 'text/reference.csv')), await load(join(FIX, 'text/current.csv')), meta(), { stattest: 'wasserstein' });
  const review = r.columns.find((c) => c.name === 'review')!;
  assert.equal(review.error?.code, 'invalid_feature_type');
  assert.equal(review.drift_detected, false);
});
