/**
 * Missing-value cleaning and one-off profiling of samples (sorting, moments, category counts).
 */
import type { CategoricalSample, FeatureKind, NumericSample, PreparedCategorical, PreparedNumeric, PreparedSample, SampleInput } from './types.ts';
import { StatTestError } from './types.ts';

/**
 * Evidently's missing-value rule, applied per side before any stattest (and before default
 * selection): `column.replace([-inf, inf], nan).dropna()`. So NaN, +Inf and -Inf are all dropped,
 * independently in reference and current; row alignment is not kept. If a side is empty afterwards
 * Evidently raises ("An empty column ... was provided for drift calculation"), so do we.
 * Returns `values` itself when nothing had to be dropped (no copy).
 */
export function cleanNumeric(values: ArrayLike<number>, side = 'sample'): Float64Array {
  const n = values.length;
  let bad = 0;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) bad++;
  let out: Float64Array;
  if (bad === 0 && values instanceof Float64Array) out = values;
  else {
    out = new Float64Array(n - bad);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (Number.isFinite(v)) out[j++] = v;
    }
  }
  if (out.length === 0) throw new StatTestError('empty_column', `the ${side} column has no finite values`);
  return out;
}

/**
 * Same rule for categorical columns: missing labels (null/undefined) are dropped. The caller maps what
 * pandas reads as missing (empty cells, `NA`, `NaN`, `null`, ...) to null first.
 */
export function cleanCategorical(values: readonly (string | null | undefined)[], side = 'sample'): string[] {
  const out: string[] = [];
  for (const v of values) if (v !== null && v !== undefined) out.push(v);
  if (out.length === 0) throw new StatTestError('empty_column', `the ${side} column has no values`);
  return out;
}

function isPrepared(x: SampleInput): x is PreparedSample {
  return (x as PreparedSample).prepared !== undefined;
}

/** Compensated (Neumaier) sum: keeps long sums within a few ulps, close to numpy's pairwise sums. */
export function neumaierSum(a: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
    else c += x - t + s;
    s = t;
  }
  return s + c;
}

export interface PrepareOptions {
  /** See `StatTestOptions.integerDtype`. */
  integerDtype?: boolean;
  /**
   * Sort `values` itself instead of a copy (the caller gives the array up): saves one array of n
   * doubles. The moments are computed before sorting, in input order, so every number is the same
   * bit for bit; only the input order is lost (`values` = `sorted`, `inputOrderDropped`), which the
   * tests with `StatTest.inputOrder` (t_test, es, empirical_mmd, TVD) need and then refuse.
   */
  sortInPlace?: boolean;
  /** `values` already sorted ascending elsewhere (a resample built in order): used as `sorted`, no sort. */
  sorted?: Float64Array;
  /**
   * The sorted runs of `values` when already known (merged from cached parts of the same data, see
   * `mergeSortedRuns`): `sorted` is then written from them in O(n) instead of sorting. Ignored when
   * their counts do not add up to `values.length`.
   */
  runs?: SortedRuns;
}

/**
 * A sorted sample as runs: distinct values ascending and how often each occurs. Unlike
 * `uniqueValues`, -0 and +0 are separate runs (-0 first, as `Float64Array.prototype.sort` orders
 * them), so expanding the runs gives the sorted array bit for bit.
 */
export interface SortedRuns {
  values: Float64Array;
  counts: Float64Array;
}

/** Runs of the finite values of `values` (NaN and ±Inf left out, as Evidently drops them). O(n log n). */
export function sortedRunsOf(values: Float64Array): SortedRuns {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  const sorted = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) sorted[j++] = values[i];
  sorted.sort();
  let runs = 0;
  for (let i = 0; i < n; i++) if (i === 0 || !Object.is(sorted[i], sorted[i - 1])) runs++;
  const out = { values: new Float64Array(runs), counts: new Float64Array(runs) };
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || !Object.is(sorted[i], sorted[i - 1])) out.values[++k] = sorted[i];
    out.counts[k]++;
  }
  return out;
}

/** -1, 0, 1 in sort order (-0 before +0). */
function compareRun(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a !== 0) return 0;
  const na = Object.is(a, -0);
  return na === Object.is(b, -0) ? 0 : na ? -1 : 1;
}

function mergeTwoRuns(a: SortedRuns, b: SortedRuns): SortedRuns {
  const na = a.values.length;
  const nb = b.values.length;
  const values = new Float64Array(na + nb);
  const counts = new Float64Array(na + nb);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < na && j < nb) {
    const c = compareRun(a.values[i], b.values[j]);
    if (c < 0) {
      values[k] = a.values[i];
      counts[k++] = a.counts[i++];
    } else if (c > 0) {
      values[k] = b.values[j];
      counts[k++] = b.counts[j++];
    } else {
      values[k] = a.values[i];
      counts[k++] = a.counts[i++] + b.counts[j++];
    }
  }
  for (; i < na; i++, k++) {
    values[k] = a.values[i];
    counts[k] = a.counts[i];
  }
  for (; j < nb; j++, k++) {
    values[k] = b.values[j];
    counts[k] = b.counts[j];
  }
  return k === na + nb ? { values, counts } : { values: values.slice(0, k), counts: counts.slice(0, k) };
}

/**
 * The runs of the concatenation of several samples, from theirs: pairwise merges in a balanced tree,
 * O(R log k) for R runs in k lists, where sorting the concatenation would cost O(n log n).
 */
export function mergeSortedRuns(lists: readonly SortedRuns[]): SortedRuns {
  if (lists.length === 0) return { values: new Float64Array(0), counts: new Float64Array(0) };
  let level = [...lists];
  while (level.length > 1) {
    const next: SortedRuns[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergeTwoRuns(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

/** Whether `runs` describe exactly `n` values. */
function runsCover(runs: SortedRuns, n: number): boolean {
  let total = 0;
  for (let i = 0; i < runs.counts.length; i++) total += runs.counts[i];
  return total === n;
}

const SPLIT = 134217729; // 2^27 + 1 (Veltkamp)

/**
 * Σ counts[i]·x[i] as if in twice the working precision (Ogita, Rump and Oishi's Dot2: Dekker's exact
 * products, Neumaier's compensated sum), ascending order of `x`. Moments are taken over the distinct
 * values so that any way of assembling the sample (one file, or runs merged from many, in any row
 * order) gives the same bits, and O(distinct) work; as accurate as a compensated sum over the rows.
 */
function dotCounts(x: ArrayLike<number>, counts: ArrayLike<number>, f: (v: number) => number): number {
  let s = 0;
  let c = 0;
  const add = (v: number): void => {
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  };
  for (let i = 0; i < x.length; i++) {
    const a = f(x[i]);
    const b = counts[i];
    const p = a * b;
    add(p);
    if (b === 1 || !Number.isFinite(p)) continue;
    // p + e = a·b exactly (Dekker's TwoProduct); the error term joins the compensated sum.
    const ta = SPLIT * a;
    const ah = ta - (ta - a);
    const al = a - ah;
    const tb = SPLIT * b;
    const bh = tb - (tb - b);
    const bl = b - bh;
    const e = ah * bh - p + ah * bl + al * bh + al * bl;
    if (Number.isFinite(e)) c += e;
  }
  return s + c;
}

/**
 * Mean and population standard deviation (ddof 0) from distinct values and their counts: mean =
 * Σ c·v / n, std = √(Σ c·(v − mean)² / n), both by `dotCounts`. One definition for every path
 * (a whole sample, merged runs of cached files), so their results agree bit for bit.
 */
export function momentsOfCounts(values: Float64Array, counts: Float64Array, n: number): { mean: number; std: number } {
  const mean = dotCounts(values, counts, (v) => v) / n;
  const std = Math.sqrt(dotCounts(values, counts, (v) => (v - mean) * (v - mean)) / n);
  return { mean, std };
}

/** Number of distinct values of runs as `===` tells them (-0 and +0 are one). */
export function distinctOfRuns(runs: SortedRuns): number {
  let d = 0;
  for (let r = 0; r < runs.values.length; r++) if (r === 0 || runs.values[r] !== runs.values[r - 1]) d++;
  return d;
}

/** Distinct values (=== : -0 and +0 are one, the first one's sign kept) and their counts, from runs. */
function uniqueOfRuns(runs: SortedRuns): { uniqueValues: Float64Array; uniqueCounts: Float64Array } {
  const nu = distinctOfRuns(runs);
  const uniqueValues = new Float64Array(nu);
  const uniqueCounts = new Float64Array(nu);
  let k = -1;
  for (let r = 0; r < runs.values.length; r++) {
    if (r === 0 || runs.values[r] !== runs.values[r - 1]) uniqueValues[++k] = runs.values[r];
    uniqueCounts[k] += runs.counts[r];
  }
  return { uniqueValues, uniqueCounts };
}

/** The sorted sample written out from its runs. */
function expandRuns(runs: SortedRuns, into: Float64Array): Float64Array {
  let at = 0;
  for (let r = 0; r < runs.values.length; r++) {
    const count = runs.counts[r];
    into.fill(runs.values[r], at, at + count);
    at += count;
  }
  return into;
}

/** Profile a numerical sample once: O(n log n) sort, O(n) run lengths, O(distinct) moments. Input must be finite. */
export function prepareNumeric(values: NumericSample, opts: PrepareOptions = {}): PreparedNumeric {
  const n = values.length;
  const inPlace = opts.sortInPlace === true;
  const runs = opts.sorted === undefined && opts.runs !== undefined && runsCover(opts.runs, n) ? opts.runs : null;
  let sorted: Float64Array;
  if (opts.sorted !== undefined) sorted = opts.sorted;
  else if (runs === null) sorted = inPlace ? values.sort() : Float64Array.from(values).sort();
  else sorted = expandRuns(runs, inPlace ? values : new Float64Array(n));
  let uniqueValues: Float64Array;
  let uniqueCounts: Float64Array;
  if (runs !== null) ({ uniqueValues, uniqueCounts } = uniqueOfRuns(runs));
  else {
    let nu = 0;
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) nu++;
    uniqueValues = new Float64Array(nu);
    uniqueCounts = new Float64Array(nu);
    let k = -1;
    for (let i = 0; i < n; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) uniqueValues[++k] = sorted[i];
      uniqueCounts[k]++;
    }
  }
  const { mean, std } = momentsOfCounts(uniqueValues, uniqueCounts, n);
  const integerDtype = opts.integerDtype ?? false;
  if (inPlace) return { prepared: 'num', values: sorted, sorted, n, mean, std, uniqueValues, uniqueCounts, integerDtype, inputOrderDropped: true };
  return { prepared: 'num', values, sorted, n, mean, std, uniqueValues, uniqueCounts, integerDtype };
}

/**
 * The profile of a sample known only by its sorted runs (merged from cached per-file summaries):
 * O(runs), no row touched. The same numbers as `prepareNumeric` on the sample, bit for bit. `sorted`
 * is written out from the runs only if a test reads it (the default tests and the charts read the
 * distinct values); the input order is unknown (`inputOrderDropped`: the tests that need it refuse).
 */
export function prepareNumericFromRuns(runs: SortedRuns, opts: Pick<PrepareOptions, 'integerDtype'> = {}): PreparedNumeric {
  let n = 0;
  for (let i = 0; i < runs.counts.length; i++) n += runs.counts[i];
  const { uniqueValues, uniqueCounts } = uniqueOfRuns(runs);
  const { mean, std } = momentsOfCounts(uniqueValues, uniqueCounts, n);
  let sorted: Float64Array | null = null;
  const expand = (): Float64Array => (sorted ??= expandRuns(runs, new Float64Array(n)));
  return {
    prepared: 'num',
    get values() {
      return expand();
    },
    get sorted() {
      return expand();
    },
    n,
    mean,
    std,
    uniqueValues,
    uniqueCounts,
    integerDtype: opts.integerDtype ?? false,
    inputOrderDropped: true,
  };
}

/**
 * `values` in input order, for the tests that need it (`StatTest.inputOrder`). Throws when the profile
 * was sorted in place: a caller bug (it must keep the order for those tests), never a wrong number.
 */
export function orderedValues(p: PreparedNumeric): Float64Array {
  if (p.inputOrderDropped === true) throw new Error('this test needs the sample in input order, but its profile was sorted in place (prepareNumeric sortInPlace)');
  return p.values;
}

export function prepareCategorical(values: CategoricalSample): PreparedCategorical {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return { prepared: 'cat', values, n: values.length, counts };
}

/**
 * Profile a sample once so that many tests (and many runs, when the drift layer caches the reference
 * profile) reuse it. Pass the result anywhere a sample is accepted. Values must already be cleaned.
 */
export function prepareSample(values: NumericSample | CategoricalSample, opts: PrepareOptions = {}): PreparedSample {
  if (values instanceof Float64Array) return prepareNumeric(values, opts);
  return prepareCategorical(values as CategoricalSample);
}

export function asNumeric(x: SampleInput): PreparedNumeric {
  if (isPrepared(x)) {
    if (x.prepared === 'num') return x;
    throw new StatTestError('wrong_kind', 'a numerical test was given a categorical sample');
  }
  if (x instanceof Float64Array) return prepareNumeric(x);
  throw new StatTestError('wrong_kind', 'a numerical test was given a categorical sample');
}

/** Joint frequency table of two samples over the union of their distinct values. */
export interface JointCounts {
  /** Union of distinct values (numbers for numerical samples, strings for categorical). */
  keys: (number | string)[];
  ref: Float64Array;
  cur: Float64Array;
  nRef: number;
  nCur: number;
}

/** Distinct values and counts, for numerical or categorical inputs. */
function countsOf(x: SampleInput): { keys: (number | string)[]; counts: number[]; n: number } {
  if (isPrepared(x)) {
    if (x.prepared === 'num') return { keys: Array.from(x.uniqueValues), counts: Array.from(x.uniqueCounts), n: x.n };
    return { keys: [...x.counts.keys()], counts: [...x.counts.values()], n: x.n };
  }
  return countsOf(x instanceof Float64Array ? prepareNumeric(x) : prepareCategorical(x as CategoricalSample));
}

export function jointCounts(reference: SampleInput, current: SampleInput): JointCounts {
  const r = countsOf(reference);
  const c = countsOf(current);
  const index = new Map<number | string, number>();
  const keys: (number | string)[] = [];
  for (const k of r.keys) if (!index.has(k)) { index.set(k, keys.length); keys.push(k); }
  for (const k of c.keys) if (!index.has(k)) { index.set(k, keys.length); keys.push(k); }
  const ref = new Float64Array(keys.length);
  const cur = new Float64Array(keys.length);
  r.keys.forEach((k, i) => { ref[index.get(k)!] += r.counts[i]; });
  c.keys.forEach((k, i) => { cur[index.get(k)!] += c.counts[i]; });
  return { keys, ref, cur, nRef: r.n, nCur: c.n };
}

/** Number of distinct values of one sample. */
export function nUniqueOf(x: SampleInput): number {
  if (isPrepared(x)) return x.prepared === 'num' ? x.uniqueValues.length : x.counts.size;
  return countsOf(x).keys.length;
}

export function sizeOf(x: SampleInput): number {
  return isPrepared(x) ? x.n : x.length;
}

export function kindOf(x: SampleInput): FeatureKind {
  if (isPrepared(x)) return x.prepared;
  return x instanceof Float64Array ? 'num' : 'cat';
}

/** Count of a[] elements ≤ v (side='right') or < v (side='left') in an ascending array. */
export function searchSorted(a: ArrayLike<number>, v: number, side: 'left' | 'right'): number {
  let lo = 0;
  let hi = a.length;
  if (side === 'left') {
    while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < v) lo = m + 1; else hi = m; }
  } else {
    while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] <= v) lo = m + 1; else hi = m; }
  }
  return lo;
}
