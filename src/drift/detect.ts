/**
 * Drift detection: per-column stattest (Evidently's default selection or the user's), a comparable
 * [0, 1] distance per column, chart data, and the dataset-level verdict. Pure: no I/O, no threads.
 * `runDriftJob` (services/run/drift-run.ts) spreads `detectColumnDrift` over worker threads and calls `assembleResult`.
 */

import type { ColumnDrift, Distribution, DriftResult } from './result.ts';
import type { ColumnType } from '../table/columns.ts';
import { profileColumn, resolveTypes, sampleOf, separateNumbersFromText, type SideProfile } from './profile.ts';
import type { Column, ColumnDigest, Table } from '../table/columns.ts';
import { LOG_UTILITY_COLUMNS, PREDICTION_COLUMN } from './log-columns.ts';
import { legacyShareVerdict } from './legacy-share.ts';
import { DEFAULT_STATTESTS, getStatTest, ksStatisticOf, resolveStatTest, selectStatTestFor } from '../stats/index.ts';
import { StatTestError, type FeatureKind, type PreparedCategorical, type PreparedNumeric, type StatTest } from '../stats/index.ts';
import { histogramOf } from '../stats/binning.ts';

export interface DriftOptions {
  /** Stattest for every column (Evidently `method`); default: Evidently's per-column selection. */
  stattest?: string;
  /** Per-column stattest (Evidently `per_column_method`), wins over `stattest`. */
  perColumnStattest?: Readonly<Record<string, string>>;
  /** Threshold for every column; default: the test's own (Evidently's). */
  threshold?: number;
  perColumnThreshold?: Readonly<Record<string, number>>;
  /**
   * Evidently-compatible semantics (default true). In `runDriftJob` with an alarm mode, unset means
   * the corrected tests for the calibrated columns (alarms.ts `columnCompat`).
   */
  compat?: boolean;
  /** Dataset drift when the share of drifted columns is >= this (Evidently default 0.5). */
  driftShare?: number;
  /** Categories shown in a chart before the tail is folded into "(other)". */
  maxChartCategories?: number;
  /** Histogram bins of numerical charts. */
  chartBins?: number;
  /** Compute the chart data (default true); false when only the verdict is wanted. */
  charts?: boolean;
}

export const DEFAULT_DRIFT_SHARE = 0.5;
const DEFAULT_CHART_CATEGORIES = 20;
const DEFAULT_CHART_BINS = 20;
export const OTHER_CATEGORY = '(other)';

/** Tests whose own distance already lies in [0, 1] (higher = more drift) and is used as `score`. */
const UNIT_DISTANCE_TESTS = new Set(['jensenshannon', 'hellinger']);

export interface ColumnPair {
  name: string;
  reference: SideProfile;
  current: SideProfile;
  /** Evidently would treat the column as text (its text-drift classifier is not implemented here). */
  text?: boolean;
}

function kindOf(type: ColumnType): FeatureKind {
  return type === 'numerical' ? 'num' : 'cat';
}

function columnError(pair: ColumnPair, stattest: string, threshold: number, code: string, message: string, withCharts: boolean, opts: DriftOptions): ColumnDrift {
  return {
    name: pair.name,
    type: pair.reference.type,
    stattest,
    threshold,
    statistic: null,
    p_value: null,
    stattest_score: null,
    score: null,
    score_method: null,
    drift_detected: false,
    error: { code, message },
    reference: pair.reference.summary,
    current: pair.current.summary,
    distribution: withCharts && opts.charts !== false ? distributionOf(pair.reference, pair.current, opts) : null,
  };
}

/** Resolves the stattest for a column: the user's choice, else Evidently's default selection. */
export function chooseStatTest(pair: ColumnPair, opts: DriftOptions): StatTest {
  const name = opts.perColumnStattest?.[pair.name] ?? opts.stattest;
  const kind: FeatureKind = pair.text ? 'text' : kindOf(pair.reference.type);
  // An explicit choice is checked against the column kind, as Evidently does (StatTestInvalidFeatureTypeError).
  if (name !== undefined) return resolveStatTest(name, kind);
  // Text: Evidently's domain-classifier tests, chosen by the size of the (cleaned) reference.
  if (pair.text) return getStatTest(sampleOf(pair.reference)!.n > 1000 ? 'abs_text_content_drift' : 'perc_text_content_drift');
  return getStatTest(selectStatTestFor(sampleOf(pair.reference)!, sampleOf(pair.current)!, kind));
}

/**
 * Whether the test `detectColumnDrift` will run on this column may read a numerical side in input
 * order (`StatTest.inputOrder`: t_test, es, empirical_mmd, TVD). When not, the current side can be
 * sorted in place instead of copied (same numbers, one array less). Unknown names: true (keep it).
 */
export function testNeedsInputOrder(name: string, opts: DriftOptions): boolean {
  const requested = opts.perColumnStattest?.[name] ?? opts.stattest;
  const candidates = requested === undefined ? DEFAULT_STATTESTS : [requested];
  try {
    return candidates.some((n) => getStatTest(n).inputOrder);
  } catch {
    return true;
  }
}

/** Drift of one column. A column that cannot be tested gets `error` set; it never throws for data reasons. */
export function detectColumnDrift(input: ColumnPair, opts: DriftOptions = {}): ColumnDrift {
  const [ref, cur] = separateNumbersFromText(input.reference, input.current);
  // Relabelled: one side was read as numbers, the other as text (see separateNumbersFromText).
  const numbersAgainstText = ref !== input.reference || cur !== input.current;
  const pair: ColumnPair = numbersAgainstText ? { ...input, reference: ref, current: cur } : input;
  const requested = opts.perColumnStattest?.[pair.name] ?? opts.stattest ?? '';
  const userThreshold = opts.perColumnThreshold?.[pair.name] ?? opts.threshold;
  const fail = (code: string, message: string, charts = false): ColumnDrift =>
    columnError(pair, requested, userThreshold ?? NaN, code, message, charts, opts);
  if (ref.wrongType !== null) return fail('wrong_type', `reference column is ${ref.type} but ${ref.wrongType}`);
  if (cur.wrongType !== null) return fail('wrong_type', `current column is ${cur.type} but ${cur.wrongType}`);
  const refSample = sampleOf(ref);
  const curSample = sampleOf(cur);
  if (refSample === null) return fail('all_missing', 'reference column has no values (all missing)');
  if (curSample === null) return fail('all_missing', 'current column has no values (all missing)');
  const numbersSide = ref.type === 'categorical' && ref.data?.fromNumbers === true ? 'reference' : cur.type === 'categorical' && cur.data?.fromNumbers === true ? 'current' : null;
  if (pair.text && numbersSide !== null) {
    // pandas hands the text vectorizer floats from the side read as numbers; scikit-learn raises there.
    return fail('evidently_failure', `text column holds only numbers on the ${numbersSide} side: Evidently's text-drift classifier fails on numbers`, true);
  }
  let test: StatTest;
  try {
    test = chooseStatTest(pair, opts);
  } catch (err) {
    return fail(err instanceof StatTestError ? err.code : 'stattest', (err as Error).message, true);
  }
  if (test.name === 'z' && (opts.compat ?? true) && numbersAgainstText) {
    // Evidently's z-test sorts the pooled values; numpy cannot order numbers against text and raises.
    return { ...fail('evidently_failure', "z-test on numbers against text: Evidently's z-test fails ordering them (numpy UFuncTypeError)", true), stattest: test.name };
  }
  const threshold = userThreshold ?? test.defaultThreshold;
  let res;
  try {
    res = test.compute(refSample, curSample, pair.text ? 'text' : kindOf(ref.type), { threshold, compat: opts.compat ?? true });
  } catch (err) {
    const code = err instanceof StatTestError ? err.code : 'stattest_failed';
    return { ...fail(code, (err as Error).message, true), stattest: test.name, threshold };
  }
  let score: number;
  let scoreMethod: string;
  if (test.decision === 'distance' && UNIT_DISTANCE_TESTS.has(test.name)) {
    score = res.score;
    scoreMethod = test.name;
  } else if (pair.text) {
    // The domain classifier's ROC AUC: 0.5 = cannot tell the datasets apart, 1 = fully separable.
    score = Math.min(1, Math.max(0, 2 * res.score - 1));
    scoreMethod = 'domain_classifier_gini';
  } else if (ref.type === 'numerical') {
    score = ksStatisticOf(refSample as PreparedNumeric, curSample as PreparedNumeric);
    scoreMethod = 'ks_distance';
  } else {
    score = totalVariation(refSample as PreparedCategorical, curSample as PreparedCategorical);
    scoreMethod = 'total_variation';
  }
  const drift: ColumnDrift = {
    name: pair.name,
    type: pair.text ? 'text' : ref.type,
    stattest: test.name,
    threshold,
    statistic: finiteOrNull(res.statistic),
    p_value: res.p_value === null ? null : finiteOrNull(res.p_value),
    stattest_score: finiteOrNull(res.score),
    score: finiteOrNull(score),
    score_method: scoreMethod,
    drift_detected: res.drift_detected,
    error: null,
    reference: ref.summary,
    current: cur.summary,
    distribution: opts.charts === false ? null : distributionOf(ref, cur, opts),
  };
  const share = legacyShareVerdict(ref, cur, drift, opts.compat ?? true, (reference, current) => chooseStatTest({ ...pair, reference, current }, opts), userThreshold);
  return share === null ? drift : { ...drift, share_verdict: share };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Total variation distance ½ Σ |p_ref − p_cur| over the union of categories. */
export function totalVariation(a: PreparedCategorical, b: PreparedCategorical): number {
  let s = 0;
  for (const [k, ca] of a.counts) s += Math.abs(ca / a.n - (b.counts.get(k) ?? 0) / b.n);
  for (const [k, cb] of b.counts) if (!a.counts.has(k)) s += cb / b.n;
  return s / 2;
}

/** Chart data: shared-edge histogram (numerical) or category counts with the tail folded (categorical). */
export function distributionOf(ref: SideProfile, cur: SideProfile, opts: DriftOptions = {}): Distribution | null {
  const refSample = sampleOf(ref);
  const curSample = sampleOf(cur);
  if (refSample === null || curSample === null) return null;
  if (ref.type === 'numerical') {
    const r = refSample as PreparedNumeric;
    const c = curSample as PreparedNumeric;
    const lo = Math.min(r.uniqueValues[0], c.uniqueValues[0]);
    const hi = Math.max(r.uniqueValues[r.uniqueValues.length - 1], c.uniqueValues[c.uniqueValues.length - 1]);
    const bins = lo === hi ? 1 : (opts.chartBins ?? DEFAULT_CHART_BINS);
    const edges: number[] = [];
    for (let k = 0; k <= bins; k++) edges.push(k === bins ? hi : lo + ((hi - lo) * k) / bins);
    // numpy convention (bins [e_k, e_k+1), the last one closed), from the distinct values and their counts.
    const shared = Float64Array.from(edges);
    const hist = (s: PreparedNumeric): number[] => Array.from(histogramOf(s, shared));
    return { kind: 'histogram', edges, reference: hist(r), current: hist(c) };
  }
  const rc = (refSample as PreparedCategorical).counts;
  const cc = (curSample as PreparedCategorical).counts;
  const order = [...rc.entries()].sort((x, y) => y[1] - x[1]).map(([k]) => k);
  order.push(...[...cc.entries()].filter(([k]) => !rc.has(k)).sort((x, y) => y[1] - x[1]).map(([k]) => k));
  const max = opts.maxChartCategories ?? DEFAULT_CHART_CATEGORIES;
  const shown = order.length > max ? order.slice(0, max - 1) : order;
  const categories = [...shown];
  const reference = shown.map((k) => rc.get(k) ?? 0);
  const current = shown.map((k) => cc.get(k) ?? 0);
  if (shown.length < order.length) {
    let ro = 0;
    let co = 0;
    for (const k of order.slice(shown.length)) {
      ro += rc.get(k) ?? 0;
      co += cc.get(k) ?? 0;
    }
    categories.push(OTHER_CATEGORY);
    reference.push(ro);
    current.push(co);
  }
  return { kind: 'categories', categories, reference, current };
}

/** Everything about a run that is not computed from the data. */
export interface RunMeta {
  runId: string;
  startedAt: Date;
  finishedAt?: Date;
  since: string | null;
  window: { from: string | null; to: string | null };
  reference: { path: string; rows: number };
  current: DriftResult['current'];
}

/** Dataset-level verdict from per-column results (Evidently: dataset drift when share >= drift_share). */
export function assembleResult(columns: ColumnDrift[], prediction: ColumnDrift | null, meta: RunMeta, opts: DriftOptions = {}): DriftResult {
  const tested = columns.filter((c) => c.error === null);
  // The share counts Evidently's legacy verdict where it differs (compat, ±inf: legacy-share.ts).
  const drifted = tested.filter((c) => c.share_verdict?.drift_detected ?? c.drift_detected).length;
  const share = tested.length === 0 ? 0 : drifted / tested.length;
  const threshold = opts.driftShare ?? DEFAULT_DRIFT_SHARE;
  const scores = tested.map((c) => c.score).filter((s): s is number => s !== null);
  return {
    schema_version: 1,
    run_id: meta.runId,
    started_at: meta.startedAt.toISOString(),
    finished_at: (meta.finishedAt ?? new Date()).toISOString(),
    window: { since: meta.since, from: meta.window.from, to: meta.window.to },
    reference: meta.reference,
    current: meta.current,
    compat: opts.compat ?? true,
    columns,
    prediction,
    drifted_columns: drifted,
    tested_columns: tested.length,
    drift_share: share,
    drift_share_threshold: threshold,
    dataset_drift: tested.length > 0 && share >= threshold,
    drift_score: scores.length === 0 ? 0 : scores.reduce((a, b) => a + b, 0) / scores.length,
  };
}

/**
 * Drift between two profiled datasets: every feature column in `pairs`, plus the prediction column
 * when given. Single-threaded; the same per-column function the worker pool runs.
 */
export function detectDriftProfiles(pairs: readonly ColumnPair[], prediction: ColumnPair | null, meta: RunMeta, opts: DriftOptions = {}): DriftResult {
  const columns = pairs.map((p) => detectColumnDrift(p, opts));
  const pred = prediction === null ? null : detectColumnDrift(prediction, { ...opts, stattest: opts.perColumnStattest?.[prediction.name] });
  return assembleResult(columns, pred, meta, opts);
}

export interface ColumnPlan {
  /** Feature columns to test, in reference header order, with their resolved type. */
  features: { name: string; type: ColumnType; text: boolean }[];
  /** The model's prediction column, tested apart from the features, when both sides have it. */
  prediction: { name: string; type: ColumnType } | null;
}

/**
 * Which columns to compare: the shared ones, minus log bookkeeping, restricted to `only` when given.
 * Types: the model card's, else Evidently's inference on the current side.
 *
 * `separatePrediction`: the `prediction` column is the model's output (a prediction log, or a model
 * card in use) and is tested apart, outside the drift share. In a plain comparison of two datasets
 * it is a column like any other, as in Evidently.
 */
export function planColumns(
  referenceHeader: readonly string[],
  current: { columns: ReadonlyMap<string, Column | ColumnDigest> },
  declared?: ReadonlyMap<string, ColumnType>,
  only?: readonly string[],
  separatePrediction = declared !== undefined,
  utility: ReadonlySet<string> = LOG_UTILITY_COLUMNS,
): ColumnPlan {
  const shared = referenceHeader.filter((n) => current.columns.has(n) && !utility.has(n));
  const separate = separatePrediction && shared.includes(PREDICTION_COLUMN);
  const features = shared.filter((n) => !(separate && n === PREDICTION_COLUMN) && (only === undefined || only.includes(n)));
  const types = resolveTypes(current, shared, declared);
  return {
    features: features.map((name) => ({ name, type: types.get(name)!.type, text: types.get(name)!.text })),
    prediction: separate ? { name: PREDICTION_COLUMN, type: types.get(PREDICTION_COLUMN)!.type } : null,
  };
}

export interface DetectInput {
  table: Table;
  /** Header order (the reference's decides column order in the result). */
  header: readonly string[];
}

/**
 * Drift between two tables, single-threaded: plan the columns, profile both sides, test each column.
 * The CLI and `runDriftJob` do the same work with a cached reference profile and worker threads.
 */
export function detectDrift(
  reference: DetectInput,
  current: DetectInput,
  meta: RunMeta,
  opts: DriftOptions & { types?: ReadonlyMap<string, ColumnType>; columns?: readonly string[]; separatePrediction?: boolean } = {},
): DriftResult {
  const plan = planColumns(reference.header, current.table, opts.types, opts.columns, opts.separatePrediction ?? opts.types !== undefined);
  const pair = (name: string, type: ColumnType, text = false): ColumnPair => ({
    name,
    reference: profileColumn(reference.table.columns.get(name)!, type),
    current: profileColumn(current.table.columns.get(name)!, type),
    text,
  });
  return detectDriftProfiles(
    plan.features.map((f) => pair(f.name, f.type, f.text)),
    plan.prediction === null ? null : pair(plan.prediction.name, plan.prediction.type),
    meta,
    opts,
  );
}
