/**
 * When a drift run alerts: the one rule, used by the report index, the demo's terminal line, the
 * ModelMonitor verdict and, in PromQL, the chart's PrometheusRule (which it must match):
 *
 *   alerting = dataset_drift  OR  drift_score > threshold      (threshold default 0.1)
 *
 * Both halves, because both fire an alert in Alertmanager (SentinelDatasetDrift on
 * sentinelml_dataset_drift_detected, SentinelDriftScoreHigh on sentinelml_drift_score): a run with
 * dataset drift but a small mean score is still alerting. Dataset drift comes first when both hold.
 */

/** The alert threshold on `drift_score`: default of `sentinel reports --threshold`, a ModelMonitor's
 * `driftScoreThreshold` and the chart's `monitoring.driftScoreThreshold`. */
export const DEFAULT_SCORE_THRESHOLD = 0.1;

export type AlertReason = 'DatasetDrift' | 'DriftScoreAboveThreshold' | 'NoDrift';

/** The score half of the rule: strictly above, as the PrometheusRule's `>`. */
export function scoreAboveThreshold(score: number | null, threshold: number): boolean {
  return score !== null && score > threshold;
}

/**
 * Whether a run alerts, and why. `threshold` undefined leaves out the score half (a ModelMonitor
 * without a score threshold alerts on dataset drift only).
 */
export function alertOf(run: { dataset_drift: boolean | null; drift_score: number | null }, threshold: number | undefined): { alerting: boolean; reason: AlertReason } {
  if (run.dataset_drift === true) return { alerting: true, reason: 'DatasetDrift' };
  if (threshold !== undefined && scoreAboveThreshold(run.drift_score, threshold)) return { alerting: true, reason: 'DriftScoreAboveThreshold' };
  return { alerting: false, reason: 'NoDrift' };
}
