import type { DriftResult } from '../../src/drift/result.ts';
import { listStatTests } from '../../src/stats/index.ts';

/** What tools/parity/fuzz.py records for one CSV pair (Evidently 0.7.23 DataDriftPreset, new API). */
export interface EvidentlyCase {
  evidently: string;
  call: string;
  error: string | null;
  columns: Record<string, { method: string; threshold: number | string | null; score: number | string | null; drift: boolean }>;
  drifted_columns: { count: number; share: number; drift_share: number } | null;
  dataset_drift: boolean | null;
  /** Columns Evidently failed the whole report on (message); the report was re-run without them. */
  dropped?: Record<string, string>;
  /** Numerical columns holding ±inf but no NaN on a side: Evidently's count and ValueDrift may disagree on them. */
  legacy_inf_columns?: string[];
  /**
   * The verdicts DriftedColumnsCount counted (the legacy DatasetDriftMetric's per-column runs,
   * captured during the same Report run; `share_call` in evidently.json). Absent in older records.
   */
  share_columns?: Record<string, { method: string; score: number | string | null; drift: boolean }>;
  /** Column name → the generator's kind (fuzz.py). */
  kinds?: Record<string, string>;
  /** Seconds: Evidently took longer than fuzz.py --timeout; the case has no numbers to compare. */
  timeout?: number;
}

const BY_DISPLAY_NAME = new Map(listStatTests().map((t) => [t.displayName, t.name]));

/** JSON-encoded non-finite numbers (fuzz.py writes NaN/±Infinity as strings) back to numbers. */
function decode(v: number | string | null): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b || (a === null && Number.isNaN(b!)) || (b === null && Number.isNaN(a!));
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= Math.max(1e-12, 1e-9 * Math.abs(b));
}

/**
 * Differences between a sentinel drift result and Evidently's on the same pair: the columns tested,
 * each column's test, threshold, score (1e-9 relative, 1e-12 absolute) and verdict, the drifted
 * count and share, the dataset verdict. Empty when they agree.
 */
export function compareWithEvidently(result: DriftResult, golden: EvidentlyCase): string[] {
  if (golden.error !== null) return [`Evidently refused the data (${golden.error}) but sentinel ran`];
  const problems: string[] = [];
  const ours = new Map(result.columns.filter((c) => c.error === null).map((c) => [c.name, c]));
  if (result.prediction !== null && result.prediction.error === null) problems.push(`prediction column "${result.prediction.name}" tested apart from the features`);
  // Evidently fails the whole report on these; sentinel must mark them as column errors (documented difference).
  for (const [name, why] of Object.entries(golden.dropped ?? {})) {
    const c = result.columns.find((x) => x.name === name);
    if (c !== undefined && c.error === null) problems.push(`${name}: Evidently fails on it (${why}), sentinel tests it`);
  }
  const theirs = Object.keys(golden.columns);
  for (const name of theirs) if (!ours.has(name)) problems.push(`${name}: Evidently tests it, sentinel ${result.columns.some((c) => c.name === name) ? `reports ${result.columns.find((c) => c.name === name)!.error?.code}` : 'leaves it out'}`);
  for (const name of ours.keys()) if (!(name in golden.columns) && !(name in (golden.dropped ?? {}))) problems.push(`${name}: sentinel tests it, Evidently does not`);
  for (const name of theirs) {
    const c = ours.get(name);
    if (c === undefined) continue;
    const g = golden.columns[name];
    const method = BY_DISPLAY_NAME.get(g.method) ?? g.method;
    if (c.stattest !== method) {
      problems.push(`${name}: test ${c.stattest} vs Evidently ${method}`);
      continue;
    }
    if (!close(c.threshold, decode(g.threshold))) problems.push(`${name}: threshold ${c.threshold} vs ${g.threshold}`);
    if (!close(c.stattest_score, decode(g.score))) problems.push(`${name}: score ${c.stattest_score} vs ${g.score}`);
    if (c.drift_detected !== g.drift) problems.push(`${name}: drift ${c.drift_detected} vs ${g.drift}`);
  }
  // The verdict the share counts per column (Evidently's legacy DatasetDriftMetric; src/drift/legacy-share.ts).
  for (const [name, g] of Object.entries(golden.share_columns ?? {})) {
    const c = ours.get(name);
    if (c === undefined || !(name in golden.columns)) continue;
    const v = c.share_verdict;
    if ((v?.drift_detected ?? c.drift_detected) !== g.drift) problems.push(`${name}: share counts drift ${v?.drift_detected ?? c.drift_detected} vs Evidently's count ${g.drift}`);
    if (v !== undefined) {
      const method = BY_DISPLAY_NAME.get(g.method) ?? g.method;
      if (v.stattest !== method) problems.push(`${name}: share's test ${v.stattest} vs Evidently's count ${method}`);
      else if (!close(v.stattest_score, decode(g.score))) problems.push(`${name}: share's score ${v.stattest_score} vs Evidently's count ${g.score}`);
    }
  }
  if (golden.drifted_columns !== null) {
    if (result.drifted_columns !== golden.drifted_columns.count) problems.push(`drifted columns ${result.drifted_columns} vs ${golden.drifted_columns.count}`);
    if (!close(result.drift_share, golden.drifted_columns.share)) problems.push(`drift share ${result.drift_share} vs ${golden.drifted_columns.share}`);
  }
  if (golden.dataset_drift !== null && result.dataset_drift !== golden.dataset_drift) problems.push(`dataset drift ${result.dataset_drift} vs ${golden.dataset_drift}`);
  return problems;
}
