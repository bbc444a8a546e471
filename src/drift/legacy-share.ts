/**
 * The verdict Evidently 0.7.23's drift share counts for a numerical column holding ±inf.
 *
 * `DataDriftPreset`'s per-column `ValueDrift` drops ±inf (with NaN) from both sides before testing,
 * as `detectColumnDrift` does. Its `DriftedColumnsCount` (the drift share and the dataset verdict)
 * comes from the legacy `DatasetDriftMetric`, which tests every column again with another cleaning
 * rule (`evidently/legacy/calculations/data_drift.py`, `get_one_column_drift` with
 * `is_contains_nans`): a side's ±inf are dropped only when that side of the column also has a NaN;
 * otherwise they stay in the sample. The test is then chosen (sample size, distinct values) and run
 * on those samples, so the share can count another verdict than the one the column shows: SciPy's KS
 * on the infinities, normed Wasserstein turning NaN (no drift) or inf (drift), chi-square with inf as
 * a category. Compat mode reproduces that count; the column's shown verdict stays `ValueDrift`'s and
 * `share_verdict` says what the share counted instead. Pure.
 */

import type { ColumnDrift, ColumnSummary, ShareVerdict } from './result.ts';
import type { SideProfile } from './profile.ts';
import { prepareNumeric, type PreparedNumeric, type StatTest } from '../stats/index.ts';

/** A side's sample as the legacy metric tests it: null when it keeps no infinity (then it is `ValueDrift`'s sample). */
function legacySample(summary: ColumnSummary, data: PreparedNumeric | null, integerDtype: boolean): PreparedNumeric | null {
  const neg = summary.negative_infinity ?? 0;
  const pos = summary.positive_infinity ?? 0;
  if (neg + pos === 0) return null;
  // `missing` counts NaN and ±inf: a NaN on this side means the legacy rule drops the infinities too.
  if (summary.missing > neg + pos) return null;
  const finite = data?.sorted ?? new Float64Array(0);
  // Sorted: -inf first, +inf last. Tests reading input order (t_test, es, ...) see the infinities at
  // the ends; the infinities make their statistic NaN or infinite whatever their place.
  const values = new Float64Array(neg + finite.length + pos);
  values.fill(-Infinity, 0, neg);
  values.set(finite, neg);
  values.fill(Infinity, neg + finite.length);
  return prepareNumeric(values, { integerDtype, sorted: values });
}

/**
 * What the drift share counts for this column when Evidently's legacy cleaning keeps ±inf on a side
 * and that changes the verdict; null otherwise (the share then counts `drift.drift_detected`).
 * `choose` is the column's stattest choice (user's or Evidently's default selection) on given sides.
 */
export function legacyShareVerdict(
  ref: SideProfile,
  cur: SideProfile,
  drift: ColumnDrift,
  compat: boolean,
  choose: (reference: SideProfile, current: SideProfile) => StatTest,
  userThreshold: number | undefined,
): ShareVerdict | null {
  if (!compat || drift.error !== null || drift.type !== 'numerical') return null;
  if (ref.type !== 'numerical' || cur.type !== 'numerical' || ref.data === null || cur.data === null) return null;
  const integerDtype = ref.data.integerDtype;
  const refL = legacySample(ref.summary, ref.data, integerDtype);
  const curL = legacySample(cur.summary, cur.data, integerDtype);
  if (refL === null && curL === null) return null;
  const reference: SideProfile = refL === null ? ref : { ...ref, data: refL };
  const current: SideProfile = curL === null ? cur : { ...cur, data: curL };
  const kept = [refL !== null ? 'reference' : null, curL !== null ? 'current' : null].filter((s) => s !== null).join(' and ');
  let test: StatTest;
  let threshold: number;
  let verdict: boolean;
  let score: number;
  try {
    test = choose(reference, current);
    threshold = userThreshold ?? test.defaultThreshold;
    const res = test.compute(reference.data as PreparedNumeric, current.data as PreparedNumeric, 'num', { threshold, compat: true });
    verdict = res.drift_detected;
    score = res.score;
  } catch {
    // Evidently's legacy metric would raise here and fail its whole report; the column keeps its verdict.
    return null;
  }
  if (verdict === drift.drift_detected) return null;
  return {
    drift_detected: verdict,
    stattest: test.name,
    threshold,
    stattest_score: Number.isFinite(score) ? score : null,
    reason: `Evidently's drift share (legacy DatasetDriftMetric) keeps ±inf on the ${kept} side (no NaN there): ${test.name} on them gives ${Number.isFinite(score) ? Number(score.toPrecision(4)) : String(score)}, drift ${verdict ? 'detected' : 'not detected'}`,
  };
}
