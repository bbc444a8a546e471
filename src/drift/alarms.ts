/**
 * Alarm modes: how a column's drift verdict and the dataset verdict are decided, beyond Evidently's
 * fixed per-test thresholds (the default `evidently` mode, left untouched). See docs/drift.md
 * "Alarm modes". Pure: no I/O; the calibration samples are cached by the job (calibration-cache.ts).
 *
 * - `chunks`: NannyML-style thresholds from the reference's own variability (chunk vs rest), never
 *   below the bootstrap null's level-α/m threshold at the window's size (`chunkFloor`).
 * - `bootstrap` / `permutation`: the rank rule of the resampled null at level α/m.
 * - `bonferroni` / `bh`: multiple-testing control over the columns' resampled p-values (every
 *   test's evidence against the same cached null as `bootstrap`; never the asymptotic p-values).
 * In every mode but `evidently` the dataset verdict is "at least one column drifted"; every column's
 * false-alarm level is α/m (or its p-values corrected), which bounds the run's by α (see
 * `datasetBound`), except `chunks` with `chunkFloor: 'none'` (NannyML's plain thresholds).
 */
import { adjustPValues, chunksBySize, decide, evidenceOf, getStatTest, minResamples, nullEvidence, rankThreshold, resampledPValue, spreadThreshold, thresholdFromEvidence } from '../stats/index.ts';
import type { FeatureKind, PreparedSample } from '../stats/index.ts';
import { chunkEvidence } from '../stats/index.ts';
import { sampleOf } from './profile.ts';
import type { ColumnPair } from './detect.ts';
import type { AlarmColumn, ColumnDrift, DriftResult } from './result.ts';
import type { Column } from '../table/columns.ts';
import { missingCodeOf } from '../table/columns.ts';
import { parseDuration } from './duration.ts';
import type { ChunkRange } from '../stats/index.ts';

export const ALARM_MODES = ['evidently', 'chunks', 'bootstrap', 'permutation', 'bonferroni', 'bh'] as const;
export type AlarmMode = (typeof ALARM_MODES)[number];

export interface AlarmOptions {
  /** Mode for every column (default `evidently`: Evidently's thresholds and share rule, unchanged). */
  mode?: AlarmMode;
  /** Per-column mode, wins over `mode`. */
  perColumnMode?: Readonly<Record<string, AlarmMode>>;
  /** Dataset-level false-alarm target: family-wise (bonferroni, bootstrap, permutation) or FDR (bh). Default 0.05. */
  alpha?: number;
  /** `chunks`: threshold = μ + k·σ of the chunk evidence (default 3). */
  k?: number;
  /** `chunks`: use this upper quantile of the chunk evidence instead of μ + k·σ. */
  quantile?: number;
  /** `chunks`: rows per reference chunk; default the current window size (rounded, see `sizeBucket`). */
  chunkSize?: number;
  /**
   * `chunks`: time chunks instead of row counts — the reference's `timestamp` column grouped by fixed
   * periods from the epoch (UTC), e.g. `1d` (NannyML's `chunk_period`); periods holding less than
   * half a window are merged into runs of about one window's rows (`mergeTimeChunks`). Wins over `chunkSize`.
   */
  chunkPeriod?: string;
  /** `chunks`: compare each chunk with the rest of the reference (default) or with all of it (NannyML). */
  chunkAgainst?: 'rest' | 'all';
  /**
   * `chunks`: the threshold is never below the bootstrap null's level-α/m threshold at the window's
   * size (`bootstrap`, default), or is NannyML's mean + k·σ alone (`none`: no bound on the run's
   * false-alarm rate; the chunk spread of 5–30 chunks, skewed statistics and m columns at k·σ each
   * false-alarmed on 14–51 % of null runs in bench/alarms).
   */
  chunkFloor?: 'bootstrap' | 'none';
  /** Resamples for bootstrap / permutation / distance p-values (default 500). */
  resamples?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
}

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_K = 3;
export const DEFAULT_RESAMPLES = 500;
/** Fewer reference chunks than this give no usable spread: the column falls back to `bootstrap`. */
export const MIN_CHUNKS = 5;

export function modeOf(name: string, alarm: AlarmOptions | undefined): AlarmMode {
  return alarm?.perColumnMode?.[name] ?? alarm?.mode ?? 'evidently';
}

/** Whether any column can be in a non-Evidently mode. */
export function alarmsActive(alarm: AlarmOptions | undefined): boolean {
  if (alarm === undefined) return false;
  return (alarm.mode !== undefined && alarm.mode !== 'evidently') || Object.values(alarm.perColumnMode ?? {}).some((m) => m !== 'evidently');
}

/**
 * Which variant of a column's test runs: Evidently's (`true`) or the corrected one (`false`). An
 * explicit `compat` (`--compat` / `--no-compat`) wins; otherwise `evidently`-mode columns keep
 * Evidently's tests (parity) and calibrated columns run the corrected ones, because some of
 * Evidently's cannot be calibrated: its small-reference `chisquare` is a goodness-of-fit test that
 * takes the reference as the truth, so a category the reference never saw gives χ² = ∞ (p = 0) on
 * any window, whatever the threshold (docs/drift.md, "Alarm modes", bench/alarms/RESULTS.md).
 */
export function columnCompat(name: string, alarm: AlarmOptions | undefined, compat: boolean | undefined): boolean {
  if (compat !== undefined) return compat;
  return modeOf(name, alarm) === 'evidently';
}

/**
 * Current sizes are rounded to two significant digits (12 345 → 12 000) and calibration runs at the
 * rounded size, so runs over similar windows share one cached calibration. Null statistics scale
 * roughly with 1/√n, so the rounding moves a threshold by at most ~2 %.
 */
export function sizeBucket(n: number): number {
  if (n < 100) return n;
  const p = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / p) * p;
}

/**
 * The null the `bootstrap` mode (and the chunk floor, the fallback and the distance p-values) draws:
 * reference splits without replacement (`subsample`) while the window is at most a quarter of the
 * reference, so no value is on both sides (see `nullEvidence`: with replacement, shared values
 * made the null too narrow for a 1 000-row reference); the pseudo-reference is then N − n rows,
 * which widens the null by at most ~3 % (sd ∝ √(1/n + 1/N)). Larger windows: bootstrap.
 */
export function nullMethodFor(windowSize: number, referenceSize: number): 'subsample' | 'bootstrap' {
  return windowSize * 4 <= referenceSize ? 'subsample' : 'bootstrap';
}

/**
 * What a column's calibration sample is (the cache key without the reference identity). Time
 * chunks: `periods` consecutive periods per chunk (`mergeTimeChunks`), in the key when above 1.
 */
export function calibrationKey(column: string, stattest: string, method: 'chunks' | 'bootstrap', alarm: Omit<AlarmOptions, 'mode'>, size: number, compat = true, nullMethod: 'subsample' | 'bootstrap' = 'bootstrap', periods = 1): string {
  const variant = compat ? '' : '|corrected';
  if (method === 'chunks') return `${column}|${stattest}${variant}|chunks|${alarm.chunkAgainst ?? 'rest'}|${alarm.chunkPeriod !== undefined ? `period=${alarm.chunkPeriod}${periods > 1 ? `|periods=${periods}` : ''}` : `size=${size}`}`;
  return `${column}|${stattest}${variant}|${nullMethod}|B=${alarm.resamples ?? DEFAULT_RESAMPLES}|seed=${alarm.seed ?? 0}|n=${size}`;
}

export interface CalibrationContext {
  /** Columns the dataset verdict is taken over (the per-column level is α / familySize). */
  familySize: number;
  /** Cached calibration samples by `calibrationKey`. */
  cached?: ReadonlyMap<string, number[]>;
  /** The variant of the test the column ran (`columnCompat`, default true): calibration runs the same one. */
  compat?: boolean;
  /**
   * Evidently's own verdict, when the column ran the corrected test (`compat: false`): its test's
   * result at its default threshold, or the error it raised. Absent: `drift`'s verdict is Evidently's.
   */
  evidently?: { threshold: number; drift_detected: boolean; error: { code: string; message: string } | null };
  /** Time chunks of this column's reference values (`chunkPeriod`), see `periodValueRanges`. */
  periodRanges?: ChunkRange[];
}

/** Cache key of a column's time-chunk bounds (in the column's own non-missing values). */
export function periodKey(column: string, period: string): string {
  return `${column}|time-chunks|${period}`;
}

/**
 * Time chunks are found in row space (the timestamp column); a column's profile keeps only its
 * usable values (missing and non-finite dropped), so each row range becomes the range of the values
 * those rows kept. Empty chunks are left out. Needs the raw reference column, hence cached.
 */
export function periodValueRanges(raw: Column, type: 'numerical' | 'categorical', rows: readonly (readonly [number, number])[]): ChunkRange[] {
  const usable = (i: number): boolean => {
    if (raw.kind === 'categorical') return raw.codes[i] !== missingCodeOf(raw.codes);
    // a numerical column tested as categorical keeps ±Infinity as labels; only NaN is missing there
    return type === 'numerical' ? Number.isFinite(raw.values[i]) : !Number.isNaN(raw.values[i]);
  };
  const out: ChunkRange[] = [];
  let pos = 0;
  let row = 0;
  for (const [start, end] of rows) {
    for (; row < start; row++) if (usable(row)) pos++;
    const from = pos;
    for (; row < end; row++) if (usable(row)) pos++;
    if (pos > from) out.push({ start: from, end: pos });
  }
  return out;
}

/** Median number of values of the chunks (the upper median; 0 for none). */
function medianSize(chunks: readonly ChunkRange[]): number {
  if (chunks.length === 0) return 0;
  const sizes = chunks.map((c) => c.end - c.start).sort((x, y) => x - y);
  return sizes[Math.floor(sizes.length / 2)];
}

/**
 * Time chunks sized for a window of `windowSize` values: when the periods' median count is below
 * half the window, runs of g = round(windowSize / median) consecutive periods become one chunk, so
 * a reference chunk holds about one window's values (NannyML computes thresholds on reference chunks
 * of the analysis chunks' size); an incomplete last run is dropped, as `chunksBySize(…, 'drop')`
 * drops a short last chunk. `group` is g (1: unchanged), `periodMedian` the periods' median count.
 */
export function mergeTimeChunks(periods: readonly ChunkRange[], windowSize: number): { chunks: ChunkRange[]; group: number; periodMedian: number } {
  const periodMedian = medianSize(periods);
  if (periodMedian === 0 || periodMedian >= windowSize / 2) return { chunks: [...periods], group: 1, periodMedian };
  const group = Math.round(windowSize / periodMedian);
  const chunks: ChunkRange[] = [];
  for (let i = 0; i + group <= periods.length; i += group) chunks.push({ start: periods[i].start, end: periods[i + group - 1].end });
  return { chunks, group, periodMedian };
}

export interface CalibrationOutcome {
  drift: ColumnDrift;
  /** New calibration samples to cache (key → values). */
  fresh: Map<string, number[]>;
  /** The null sample of a column in a multiple-testing mode (for its threshold after correction). */
  nullSample: number[] | null;
}

function kindOfPair(pair: ColumnPair): FeatureKind {
  return pair.text ? 'text' : pair.reference.type === 'numerical' ? 'num' : 'cat';
}

/**
 * Applies the column's alarm mode to its Evidently result: calibrates a threshold (or a p-value for
 * a later correction) and re-decides the verdict in the test's own direction. Evidently's threshold
 * and verdict are kept in `alarm`. Columns in `evidently` mode, and columns with an error, are
 * returned unchanged. Never throws for data reasons: a calibration that cannot be done leaves the
 * Evidently verdict and says why in `alarm.note`.
 */
export function calibrateColumn(pair: ColumnPair, drift: ColumnDrift, alarm: AlarmOptions, ctx: CalibrationContext): CalibrationOutcome {
  const mode = modeOf(pair.name, alarm);
  const fresh = new Map<string, number[]>();
  if (mode === 'evidently' || drift.error !== null || drift.stattest_score === null) return { drift, fresh, nullSample: null };
  const test = getStatTest(drift.stattest);
  const ref = sampleOf(pair.reference)!;
  const cur = sampleOf(pair.current)!;
  const kind = kindOfPair(pair);
  const alpha = alarm.alpha ?? DEFAULT_ALPHA;
  const m = Math.max(1, ctx.familySize);
  const observed = test.decision === 'distance' ? drift.stattest_score : evidenceOf(test, { statistic: NaN, p_value: drift.stattest_score, score: drift.stattest_score, drift_detected: false });
  const ev = ctx.evidently ?? { threshold: drift.threshold, drift_detected: drift.drift_detected, error: null };
  const base: AlarmColumn = {
    mode,
    tests: (ctx.compat ?? true) ? 'evidently' : 'corrected',
    evidently_threshold: ev.threshold,
    evidently_drift: ev.drift_detected,
    ...(ev.error !== null ? { evidently_error: ev.error.message } : {}),
    method: '',
    evidence: finite(observed),
  };
  const cachedOr = (key: string, compute: () => number[]): number[] => {
    const hit = ctx.cached?.get(key);
    if (hit !== undefined) return hit;
    const v = compute();
    fresh.set(key, v);
    return v;
  };
  const bucket = sizeBucket(cur.n);
  const compat = ctx.compat ?? true;
  // Per-column false-alarm level: α/m, so that "any column" stays ≤ α over the run (union bound).
  const a = alpha / m;
  // The rank rule reaches level a only with B + 1 ≥ 1/a resamples: B is raised to that when needed.
  const B = Math.max(alarm.resamples ?? DEFAULT_RESAMPLES, minResamples(a));
  const nullMethod = nullMethodFor(bucket, ref.n);
  const bootstrap = (resamples = B): number[] =>
    cachedOr(calibrationKey(pair.name, test.name, 'bootstrap', { ...alarm, resamples }, bucket, compat, nullMethod), () =>
      nullEvidence(ref, test, kind, { method: nullMethod, currentSize: bucket, iterations: resamples, seed: alarm.seed ?? 0, stattest: { compat } }));
  const nullWords = nullMethod === 'subsample' ? `reference splits (${bucket} vs ${ref.n - bucket} rows, without replacement)` : `bootstrap null resamples at n=${bucket}`;
  const withThreshold = (thresholdE: number, info: AlarmColumn): CalibrationOutcome => {
    const threshold = thresholdFromEvidence(test, thresholdE);
    return { drift: { ...drift, threshold, drift_detected: decide(test, drift.stattest_score!, threshold), alarm: info }, fresh, nullSample: null };
  };
  /** Verdict by the rank rule: resampled p ≤ a, i.e. evidence strictly above the K-th largest null value. */
  const byRank = (sample: number[], extra: Partial<AlarmColumn> & { method: string }, floorE?: number, nullE = rankThreshold(sample, a)): CalibrationOutcome => {
    const p = resampledPValue(sample, observed);
    const thresholdE = floorE === undefined ? nullE : Math.max(floorE, nullE);
    const chunkVerdict = floorE === undefined || decide(test, drift.stattest_score!, thresholdFromEvidence(test, floorE));
    const drifted = !Number.isNaN(observed) && p <= a && chunkVerdict;
    return {
      drift: { ...drift, threshold: thresholdFromEvidence(test, thresholdE), drift_detected: drifted, alarm: { ...base, ...extra, p_value: p, calibration: summary(sample) } },
      fresh,
      nullSample: null,
    };
  };
  const rankWords = (n: number, where: string): string => `rank rule at α/m=${fmtQ(alpha)}/${m}: evidence above the ${ordinal(Math.floor(a * (n + 1) + 1e-9))} of ${n} ${where}`;
  try {
    if (mode === 'bonferroni' || mode === 'bh') {
      // Every test gets the resampled p-value of its evidence, p-value tests included: their own
      // p-values are asymptotic (χ², normal) and far too small in the tail the correction uses
      // (α/m) when expected counts are small — one row of a category the reference never saw is a
      // 0.16 % event for χ²₁ but ~9 % under the resampled null at 100 rows (docs/drift.md).
      // The smallest resampled p-value is 1/(B + 1): B < m/α could never reach Bonferroni's α/m
      // (nor BH's first cutoff), so B is raised to at least ⌈m/α⌉.
      const sample = bootstrap(Math.max(alarm.resamples ?? DEFAULT_RESAMPLES, Math.ceil(m / alpha)));
      // no evidence (NaN p-value): no sign of drift
      const p = Number.isNaN(observed) ? 1 : resampledPValue(sample, observed);
      const of = test.decision === 'p_value' ? ` of ${test.name}'s −log10 p` : '';
      return { drift: { ...drift, alarm: { ...base, method: `${nullMethod} p-value${of} (${sample.length} ${nullMethod === 'subsample' ? `reference splits at n=${bucket}` : `resamples at n=${bucket}`}), ${mode} over the columns`, p_value: p } }, fresh, nullSample: sample };
    }
    if (mode === 'bootstrap' || mode === 'permutation') {
      const sample =
        mode === 'bootstrap'
          ? bootstrap()
          : nullEvidence(ref, test, kind, { method: 'permutation', current: cur, iterations: B, seed: alarm.seed ?? 0, stattest: { compat } });
      return byRank(sample, { method: `${mode}: ${rankWords(sample.length, mode === 'bootstrap' ? nullWords : 'permutations of reference ∪ current')}` });
    }
    // chunks
    const size = alarm.chunkSize ?? bucket;
    const byTime = alarm.chunkPeriod !== undefined;
    // Time chunks hold one period's rows; distance statistics shrink like 1/√n, so chunks much
    // smaller than the window would give a chunk threshold far too high for it. NannyML compares
    // chunks of one size on both sides: runs of g consecutive periods are merged (`mergeTimeChunks`).
    const time = byTime ? mergeTimeChunks(ctx.periodRanges ?? [], bucket) : null;
    const chunks = time !== null ? time.chunks : ref.n >= size * MIN_CHUNKS ? chunksBySize(ref.n, size, 'drop') : [];
    const chunkWord = time !== null ? `of ${time.group > 1 ? `${time.group}×` : ''}${alarm.chunkPeriod}` : `of ${size}`;
    const merged = time !== null && time.group > 1 ? { periods_per_chunk: time.group } : {};
    const mergeWords = time !== null && time.group > 1 ? `time chunks of ${alarm.chunkPeriod} hold a median of ${time.periodMedian} values, the window ${cur.n}: runs of ${time.group} consecutive periods merged into each reference chunk` : undefined;
    const floor = alarm.chunkFloor ?? 'bootstrap';
    if (chunks.length < MIN_CHUNKS) {
      const sample = bootstrap();
      return byRank(sample, {
        method: `bootstrap fallback: ${rankWords(sample.length, nullWords)}`,
        ...merged,
        note: `${mergeWords !== undefined ? `${mergeWords}; ` : ''}reference has ${ref.n} values: ${byTime ? chunks.length : Math.floor(ref.n / size)} chunks ${chunkWord}, fewer than ${MIN_CHUNKS}; the threshold assumes exchangeable rows (no time or place structure)`,
      });
    }
    const against = alarm.chunkAgainst ?? 'rest';
    const values = cachedOr(calibrationKey(pair.name, test.name, 'chunks', alarm, size, compat, 'bootstrap', time?.group ?? 1), () => chunkEvidence(ref as PreparedSample, chunks, test, kind, { against, stattest: { compat } }).values);
    const rule = alarm.quantile !== undefined ? { rule: 'quantile' as const, q: alarm.quantile } : { rule: 'std' as const, k: alarm.k ?? DEFAULT_K };
    const spread = spreadThreshold(values, rule);
    const how = rule.rule === 'std' ? `mean + ${rule.k}·σ` : `${fmtQ(rule.q)} quantile`;
    const chunkMethod = `chunks: ${how} of ${spread.n} reference chunks ${chunkWord} vs ${against}`;
    // The chunks' spread belongs to windows of about their size: said when that is far from the
    // window's (time chunks still mismatched after merging, e.g. periods larger than the window,
    // or an explicit --alarm-chunk-size).
    const median = medianSize(chunks);
    const far = median > 2 * cur.n || median < cur.n / 2;
    const mismatch = !far
      ? mergeWords !== undefined ? `${mergeWords} (median ${median} values)` : undefined
      : byTime
        ? `${mergeWords !== undefined ? `${mergeWords}; ` : ''}time chunks hold a median of ${median} values, the window ${cur.n}: their spread belongs to windows of about ${median} rows`
        : alarm.chunkSize !== undefined ? `chunks hold ${size} values, the window ${cur.n}: their spread belongs to windows of about ${size} rows` : undefined;
    if (floor === 'none') {
      return withThreshold(spread.upper, { ...base, method: chunkMethod, ...merged, calibration: { n: spread.n, mean: spread.mean, std: spread.std }, ...(mismatch !== undefined ? { note: mismatch } : {}) });
    }
    const sample = bootstrap();
    const nullE = rankThreshold(sample, a);
    const out = byRank(sample, {
      method: `${chunkMethod}, floored by the null (${rankWords(sample.length, nullWords)})`,
      ...merged,
      chunk_threshold: thresholdFromEvidence(test, spread.upper),
      null_threshold: thresholdFromEvidence(test, nullE),
      binding: spread.upper >= nullE ? 'chunks' : 'null',
      ...(mismatch !== undefined ? { note: mismatch } : {}),
    }, spread.upper, nullE);
    out.drift.alarm!.calibration = { n: spread.n, mean: spread.mean, std: spread.std };
    return out;
  } catch (err) {
    return { drift: { ...drift, alarm: { ...base, method: 'none', note: `calibration failed, Evidently's verdict kept: ${(err as Error).message}` } }, fresh, nullSample: null };
  }
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function ordinal(k: number): string {
  if (k <= 0) return 'none (too few resamples)';
  const suffix = k % 100 >= 11 && k % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return k === 1 ? 'largest' : `${k}${suffix} largest`;
}

function fmtQ(q: number): string {
  return String(Number(q.toPrecision(4)));
}

function summary(values: number[]): { n: number; mean: number; std: number } {
  const v = values.filter(Number.isFinite);
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length));
  return { n: v.length, mean, std };
}

/**
 * Multiple-testing modes, over all columns at once: each group of columns in `bonferroni` (or `bh`)
 * mode is corrected together (m = the group's columns with a p-value); a column drifts when its
 * adjusted (resampled) p-value ≤ α. The cutoff applied is Bonferroni α/m, or BH α·k/m with k the
 * number of rejections (α/m when none); `threshold` is that cutoff on the test's own scale: the
 * evidence whose resampled p-value reaches it (rank rule), written as a distance or as the test's
 * p-value. `nullSamples` are the columns' resampled null samples (`CalibrationOutcome.nullSample`);
 * a column without one keeps the cutoff itself.
 */
export function applyMultipleTesting(columns: ColumnDrift[], alarm: AlarmOptions, nullSamples: ReadonlyMap<string, number[]>): ColumnDrift[] {
  const alpha = alarm.alpha ?? DEFAULT_ALPHA;
  const out = [...columns];
  for (const method of ['bonferroni', 'bh'] as const) {
    const idx = out.map((c, i) => (c.alarm?.mode === method && c.alarm.p_value !== undefined && c.alarm.p_value !== null ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const res = adjustPValues(method, idx.map((i) => out[i].alarm!.p_value!), alpha);
    const rejected = res.reject.filter(Boolean).length;
    const cutoff = method === 'bonferroni' ? alpha / res.m : (alpha * Math.max(1, rejected)) / res.m;
    idx.forEach((i, k) => {
      const c = out[i];
      const test = getStatTest(c.stattest);
      let threshold = cutoff;
      const sample = nullSamples.get(c.name);
      if (sample !== undefined) {
        // reject ⇔ (1 + #{null ≥ e}) / (B + 1) ≤ cutoff: the rank rule at the cutoff, written on
        // the test's own scale (a distance, or the p-value 10^(−e) of a p-value test)
        threshold = thresholdFromEvidence(test, rankThreshold(sample, cutoff));
      }
      out[i] = { ...c, threshold, drift_detected: res.reject[k], alarm: { ...c.alarm!, adjusted_p_value: res.adjusted[k], method: `${c.alarm!.method} (m=${res.m}, α=${alpha})` } };
    });
  }
  return out;
}

/**
 * The dataset verdict in the alarm modes: drift when at least one feature column drifted (with each
 * column's false-alarm rate at α/m, or the p-values corrected, the run's false-alarm rate stays ≤ α).
 * Recorded as `drift_share_threshold` = 1 / tested columns, so "share ≥ threshold" still reads right.
 */
export function finalizeAlarms(result: DriftResult, alarm: AlarmOptions | undefined, compat?: boolean): DriftResult {
  if (!alarmsActive(alarm)) return result;
  const a = alarm!;
  const tested = result.tested_columns;
  const bound = datasetBound(result.columns.filter((c) => c.error === null).map((c) => modeOf(c.name, a)), a);
  return {
    ...result,
    drift_share_threshold: tested > 0 ? 1 / tested : 1,
    dataset_drift: tested > 0 && result.drifted_columns >= 1,
    alarm: {
      mode: a.mode ?? 'evidently',
      per_column_mode: { ...(a.perColumnMode ?? {}) },
      alpha: a.alpha ?? DEFAULT_ALPHA,
      dataset_rule: 'any_column',
      // the variant the calibrated columns ran (`columnCompat`): corrected unless --compat
      tests: compat === true ? 'evidently' : 'corrected',
      ...(a.k !== undefined || a.mode === 'chunks' ? { k: a.k ?? DEFAULT_K } : {}),
      ...(a.quantile !== undefined ? { quantile: a.quantile } : {}),
      ...(a.chunkSize !== undefined ? { chunk_size: a.chunkSize } : {}),
      ...(a.chunkPeriod !== undefined ? { chunk_period: a.chunkPeriod } : {}),
      ...(a.mode === 'chunks' || Object.values(a.perColumnMode ?? {}).includes('chunks') ? { chunk_floor: a.chunkFloor ?? 'bootstrap' } : {}),
      dataset_false_alarm_bound: bound,
      resamples: a.resamples ?? DEFAULT_RESAMPLES,
      seed: a.seed ?? 0,
    },
  };
}

/**
 * The bound on the run's false-alarm rate (no column drifted, rows exchangeable) that the columns'
 * modes give together with the any-column rule, or null when they give none:
 * - bootstrap, permutation, chunks (with its null floor), in any mix: each column at α/m, so
 *   P(any) ≤ m·α/m = α (union bound, any dependence between columns);
 * - all bonferroni: α (any dependence); all bh: α (Simes, for independent or positively dependent columns);
 * - anything else (an `evidently` column, chunks without floor, bonferroni mixed with other modes): none.
 */
export function datasetBound(modes: readonly AlarmMode[], alarm: AlarmOptions): number | null {
  const alpha = alarm.alpha ?? DEFAULT_ALPHA;
  if (modes.length === 0) return null;
  const set = new Set(modes);
  if (set.size === 1 && (set.has('bonferroni') || set.has('bh'))) return alpha;
  const perColumn = (m: AlarmMode): boolean => m === 'bootstrap' || m === 'permutation' || (m === 'chunks' && (alarm.chunkFloor ?? 'bootstrap') === 'bootstrap');
  return modes.every(perColumn) ? alpha : null;
}

/** Checks alarm options; returns the first problem as a message, or null. */
export function alarmOptionsProblem(a: AlarmOptions | undefined): string | null {
  if (a === undefined) return null;
  for (const m of [a.mode, ...Object.values(a.perColumnMode ?? {})]) {
    if (m !== undefined && !(ALARM_MODES as readonly string[]).includes(m)) return `alarm mode must be one of ${ALARM_MODES.join(', ')} (got "${m}")`;
  }
  if (a.alpha !== undefined && !(a.alpha > 0 && a.alpha < 1)) return `alarm alpha must be in (0, 1) (got ${a.alpha})`;
  if (a.k !== undefined && !(Number.isFinite(a.k) && a.k > 0)) return `alarm k must be a positive number (got ${a.k})`;
  if (a.quantile !== undefined && !(a.quantile > 0 && a.quantile < 1)) return `alarm quantile must be in (0, 1) (got ${a.quantile})`;
  if (a.chunkSize !== undefined && !(Number.isInteger(a.chunkSize) && a.chunkSize > 0)) return `alarm chunk size must be a positive whole number (got ${a.chunkSize})`;
  if (a.resamples !== undefined && !(Number.isInteger(a.resamples) && a.resamples >= 10)) return `alarm resamples must be a whole number >= 10 (got ${a.resamples})`;
  if (a.seed !== undefined && !(Number.isInteger(a.seed) && a.seed >= 0 && a.seed < 2 ** 32)) return `alarm seed must be a whole number in [0, 2^32) (got ${a.seed})`;
  if (a.chunkPeriod !== undefined && parseDuration(a.chunkPeriod) === null) return `alarm chunk period must be a duration like 1d, 12h or 7d (got "${a.chunkPeriod}")`;
  if (a.chunkAgainst !== undefined && a.chunkAgainst !== 'rest' && a.chunkAgainst !== 'all') return `chunk comparison must be rest or all (got ${a.chunkAgainst})`;
  if (a.chunkFloor !== undefined && a.chunkFloor !== 'bootstrap' && a.chunkFloor !== 'none') return `chunk floor must be bootstrap or none (got ${a.chunkFloor})`;
  return null;
}

