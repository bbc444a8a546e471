/**
 * The drift result written as `drift.json` (schema version 1). Other parts rely on it: the report
 * renderer, the report server's metrics, the ModelMonitor status. Change it only on purpose.
 */

import type { ChunkEstimate } from '../stats/cbpe.ts';
import type { ClassificationMetrics } from '../stats/classification.ts';

// Owned by the table layer (columns are typed there); re-exported for the result's readers.
import type { ColumnType } from '../table/columns.ts';

/** What a reference/current distribution looks like, for charts. Computed by drift detection, never by rendering. */
export type Distribution =
  | {
      kind: 'histogram';
      /** n+1 bin edges shared by both sides. */
      edges: number[];
      reference: number[];
      current: number[];
    }
  | {
      kind: 'categories';
      /** Categories ordered by reference frequency, then current; long tails folded into "(other)". */
      categories: string[];
      reference: number[];
      current: number[];
    };

export interface ColumnSummary {
  count: number;
  missing: number;
  /** Numerical: min/max/mean; categorical: distinct values. */
  min?: number;
  max?: number;
  mean?: number;
  distinct?: number;
  /** Numerical: cells holding -inf / +inf (counted in `missing`); absent when none. */
  negative_infinity?: number;
  positive_infinity?: number;
}

export interface ColumnDrift {
  name: string;
  /** `text`: strings Evidently infers as free text (stored like categorical, tested with its text-drift classifier). */
  type: ColumnType | 'text';
  /** Evidently stattest name (`ks`, `chisquare`, `wasserstein`, ...). */
  stattest: string;
  threshold: number;
  /** The test's own statistic (KS D, chi-square, Wasserstein distance, PSI, ...). */
  statistic: number | null;
  /** p-value for hypothesis tests, null for distance tests. */
  p_value: number | null;
  /**
   * The value Evidently reports as `drift_score` for this column: the p-value for hypothesis tests,
   * the distance for distance tests. Compared against `threshold` in the test's direction.
   */
  stattest_score: number | null;
  /** A distance in [0, 1] where higher = more drift, comparable across columns (see `score_method`). */
  score: number | null;
  /** How `score` was computed: the test's distance itself, or `ks_distance` / `total_variation` for p-value tests. */
  score_method: string | null;
  drift_detected: boolean;
  /** Set when the column could not be tested (all missing, constant, wrong type); the run still completes. */
  error: { code: string; message: string } | null;
  reference: ColumnSummary;
  current: ColumnSummary;
  distribution: Distribution | null;
  /**
   * Present when the column ran in an alarm mode other than `evidently` (docs/drift.md, "Alarm
   * modes"): `threshold` and `drift_detected` above are then the mode's; Evidently's are kept here.
   */
  alarm?: AlarmColumn;
  /**
   * Compat mode only, present when the drift share counts another verdict for this column than
   * `drift_detected`: Evidently 0.7.23's share comes from its legacy DatasetDriftMetric, which keeps
   * ±inf on a side without NaN where the per-column test drops them (docs/drift.md; legacy-share.ts).
   */
  share_verdict?: ShareVerdict;
}

/** The verdict the drift share counted for a column, and the test run that gave it. */
export interface ShareVerdict {
  drift_detected: boolean;
  stattest: string;
  threshold: number;
  /** Evidently's `drift_score` of that run (p-value or distance); null when not finite (NaN, ±inf). */
  stattest_score: number | null;
  /** Why it differs, in words. */
  reason: string;
}

/** How an alarm mode decided a column. */
export interface AlarmColumn {
  mode: string;
  /** Which variant of the test ran: Evidently's or the corrected one (the default of the calibrated modes). */
  tests: 'evidently' | 'corrected';
  /** Evidently's threshold and verdict for this column (what the `evidently` mode would report, from Evidently's test). */
  evidently_threshold: number;
  evidently_drift: boolean;
  /** Evidently's test raised where the corrected one ran (e.g. `g_test` on unequal sizes); `evidently_drift` is then false. */
  evidently_error?: string;
  /** How the threshold was obtained, in words (e.g. `bootstrap: 0.9964 quantile of 500 null resamples at n=10000`). */
  method: string;
  /** Evidence of drift the threshold applies to: the distance, or −log10 p for p-value tests. */
  evidence: number | null;
  /** The column's resampled p-value (1 + #{null ≥ evidence})/(B + 1), p-value tests included (never their asymptotic p-value); bonferroni/bh correct it into `adjusted_p_value`. */
  p_value?: number | null;
  adjusted_p_value?: number | null;
  /** Calibration sample summary (chunk or null evidence values). */
  calibration?: { n: number; mean: number; std: number };
  /** `chunks` with the null floor: the chunk rule's threshold, the null's, and which one was applied (the larger). */
  chunk_threshold?: number;
  null_threshold?: number;
  binding?: 'chunks' | 'null';
  /** `chunks` by time: consecutive periods merged into each reference chunk so that it holds about one window's values (absent: one period each). */
  periods_per_chunk?: number;
  note?: string;
}

/** Run-level alarm settings (absent in the default `evidently` mode). */
export interface AlarmRun {
  mode: string;
  per_column_mode: Record<string, string>;
  alpha: number;
  /** `any_column`: dataset drift when at least one feature column drifted. */
  dataset_rule: 'any_column';
  /** The variant of the tests the calibrated columns ran: `corrected` unless `--compat` asked for Evidently's. */
  tests: 'evidently' | 'corrected';
  k?: number;
  quantile?: number;
  chunk_size?: number;
  chunk_period?: string;
  /** `chunks`: `bootstrap` when each column's threshold is floored by the null's (default), `none` for NannyML's thresholds alone. */
  chunk_floor?: 'bootstrap' | 'none';
  /**
   * Bound on the rate of false dataset alarms (no column drifted, rows exchangeable) that the
   * columns' modes give with the any-column rule: α, or null when they give none (`datasetBound`).
   */
  dataset_false_alarm_bound?: number | null;
  resamples: number;
  seed: number;
}

export interface DriftResult {
  schema_version: 1;
  run_id: string;
  /** When the run started and finished (ISO 8601 UTC). */
  started_at: string;
  finished_at: string;
  /** The current window: first/last timestamp of the rows compared, or null for a plain CSV. */
  window: { since: string | null; from: string | null; to: string | null };
  reference: { path: string; rows: number };
  /** `skipped_entries`: `*.csv` entries of the log directory that are not regular files, not read (absent before 2026-12). */
  current: { path: string; rows: number; files: number; torn_lines: number; skipped_rows: number; skipped_entries?: { name: string; reason: string }[] };
  /**
   * Evidently compatibility mode (`true`) or corrected tests (`false`) of the `evidently`-mode
   * columns. Calibrated alarm-mode columns run the corrected tests unless `--compat`: see `alarm.tests`.
   */
  compat: boolean;
  columns: ColumnDrift[];
  /** Drift on the model output column (`prediction`), when both sides have it. */
  prediction: ColumnDrift | null;
  /** Number of feature columns with drift / number tested. */
  drifted_columns: number;
  tested_columns: number;
  drift_share: number;
  /** Dataset drift when drift_share >= drift_share_threshold (Evidently default 0.5). */
  drift_share_threshold: number;
  dataset_drift: boolean;
  /**
   * Headline number compared against the alert threshold (default 0.1): the mean of the per-column
   * `score` distances. Higher = more drift; never mixes p-values with distances.
   */
  drift_score: number;
  /** Alarm mode settings when not the default `evidently` (docs/drift.md, "Alarm modes"). */
  alarm?: AlarmRun;
  /** Model quality (labels joined by request id, CBPE); absent when the run had neither labels nor a labelled reference. */
  performance?: PerformanceSection;
}

/** Realized metrics of one side: stats/classification.ts `ClassificationMetrics`, as written to drift.json. */
export type PerformanceMetrics = ClassificationMetrics;

/**
 * Model quality (`drift.json` `performance`, present when the run had labels or a labelled
 * reference): the window's predictions joined to POST /feedback labels by request id.
 */
export interface PerformanceSection {
  /** The model's classes, in probability order (the card's). */
  classes: string[];
  /**
   * Where the window's class probabilities come from (drift/probabilities.ts): `full`, the
   * `proba_<class>` columns (log contract v2); `binary_from_confidence`, derived from a binary log's
   * confidence; `none`: ROC AUC, log loss and CBPE unavailable.
   */
  probabilities: 'full' | 'binary_from_confidence' | 'none';
  /** Why ROC AUC and log loss are not computed (no probabilities, or some rows without them); null when they are. */
  probabilities_unavailable: string | null;
  labels: {
    path: string;
    files: number;
    /** Label rows read, before the rules below. */
    rows: number;
    /** Rows replaced by a later label for the same id (every row stays in the log; the last received wins). */
    superseded: number;
    /** Labels received after `until` (window end + label delay), left out. */
    late: number;
    torn_lines: number;
    skipped_rows: number;
    delay: string | null;
    until: string | null;
  };
  join: {
    predictions: number;
    labelled: number;
    coverage: number;
    unmatched_labels: number;
    unusable_rows: number;
  };
  /** Realized metrics of the window's labelled rows; null when none. */
  current: PerformanceMetrics | null;
  /** The reference's realized metrics (its target column against its prediction/confidence columns). */
  reference: (PerformanceMetrics & { target: string }) | null;
  /** current − reference for the headline metrics (negative = worse, log loss: positive = worse). */
  change: Record<'accuracy' | 'precision_macro' | 'recall_macro' | 'f1_macro' | 'roc_auc' | 'log_loss', number | null> | null;
  /** Confidence-based performance estimation of the whole window (labels not needed); null when not possible, with the reason. */
  estimated: EstimatedPerformance | null;
  estimated_unavailable: string | null;
}

/**
 * CBPE (NannyML) on the window as one chunk, per metric (`roc_auc`, `f1`, `accuracy`, in NannyML's
 * definitions: binary F1 is the positive class's, multiclass F1 and ROC AUC are macro averages):
 * the estimate, its sampling error and ±3σ band, the alert band from reference chunks, and the
 * realized value on the window's labelled rows for comparison.
 */
export interface EstimatedPerformance {
  method: 'cbpe';
  /** Whether each class's probabilities were isotonically calibrated on the reference (NannyML `needs_calibration`; binary: one entry). */
  calibrated: boolean[];
  /** NannyML's chunk record (stats/cbpe.ts `ChunkEstimate`); `value` null when not finite. */
  metrics: Record<string, Omit<ChunkEstimate, 'value'> & { value: number | null }>;
  /** Reference chunks the thresholds came from. */
  reference_chunks: number;
  chunk_size: number;
  /** The chunking asked for (`--cbpe-chunk-*`); null: the whole window only. */
  chunking: CbpeChunking | null;
  /** The window in NannyML's chunks (time order), each with its estimate and band; null without a chunking. */
  chunks: CbpeChunk[] | null;
  /** Reference chunks (same chunker) the chunks' thresholds came from. */
  chunk_reference_chunks?: number;
  /** Why the chunks could not be made (e.g. period chunks without timestamps). */
  chunks_unavailable?: string;
}

/** NannyML's chunkers: `SizeBasedChunker(size)`, `CountBasedChunker(number)`, `PeriodBasedChunker` (fixed periods from the epoch, UTC). */
export interface CbpeChunking {
  method: 'size' | 'number' | 'period';
  size?: number;
  number?: number;
  /** The period as given (`1d`, `6h`) and in milliseconds. */
  period?: string;
  periodMs?: number;
}

/** One CBPE chunk of the window: positions in time order (`start`..`end` inclusive, as NannyML's), its time span and labels. */
export interface CbpeChunk {
  index: number;
  start: number;
  end: number;
  from: string | null;
  to: string | null;
  rows: number;
  /** Rows of the chunk with a label (their realized metric, NannyML's definitions, is `realized`). */
  labelled: number;
  metrics: EstimatedPerformance['metrics'];
}

/** `reports/latest.json`: points at the newest successful run and records the last failure. */
export interface LatestPointer {
  run_id: string;
  path: string;
  finished_at: string;
  drift_score: number;
  dataset_drift: boolean;
  drift_share: number;
  last_failure: { at: string; message: string } | null;
}

/** What the index shows per run, successful or failed. */
export interface RunSummary {
  run_id: string;
  status: 'ok' | 'failed';
  finished_at: string;
  drift_score: number | null;
  drift_share: number | null;
  dataset_drift: boolean | null;
  drifted_columns: number | null;
  tested_columns: number | null;
  reference_rows: number | null;
  current_rows: number | null;
  /** Failure message for failed runs. */
  message: string | null;
  /** Model quality of the run (absent in summaries written before it existed, null when not measured). */
  accuracy_realized?: number | null;
  accuracy_reference?: number | null;
  accuracy_estimated?: number | null;
  label_coverage?: number | null;
}

export function summarize(result: DriftResult): RunSummary {
  return {
    run_id: result.run_id,
    status: 'ok',
    finished_at: result.finished_at,
    drift_score: result.drift_score,
    drift_share: result.drift_share,
    dataset_drift: result.dataset_drift,
    drifted_columns: result.drifted_columns,
    tested_columns: result.tested_columns,
    reference_rows: result.reference.rows,
    current_rows: result.current.rows,
    message: null,
    accuracy_realized: result.performance?.current?.accuracy ?? null,
    accuracy_reference: result.performance?.reference?.accuracy ?? null,
    accuracy_estimated: result.performance?.estimated?.metrics.accuracy?.value ?? null,
    label_coverage: result.performance?.join.coverage ?? null,
  };
}
