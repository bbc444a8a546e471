/**
 * Threshold calibration for any registered stattest: thresholds taken from the reference's own
 * variability (reference chunks, NannyML-style) or from the statistic's null distribution
 * (bootstrap from the reference, or permutation of reference ∪ current), with a fixed seed.
 *
 * Every test is calibrated on its **evidence** e, a number where higher = more drift:
 *   distance tests: e = the distance (Evidently's drift score);
 *   p-value tests:  e = −log₁₀ p (p clamped to ≥ 1e-300).
 * A threshold on e maps back to the test's own scale (`thresholdFromEvidence`): a distance, or the
 * p-value 10^(−e); the verdict then keeps the test's own direction (p ≤ t, or d ≥ t).
 * Pure: no I/O. Random draws come from a seeded xorshift128 stream (`ResampleRandom`), so a seed gives
 * the same thresholds on every machine.
 */
import type { FeatureKind, PreparedCategorical, PreparedNumeric, PreparedSample, StatTest, StatTestOptions, StatTestResult } from './types.ts';
import { StatTestError } from './types.ts';
import { prepareCategorical, prepareNumeric } from './sample.ts';
import { splitMix32 } from './random.ts';

const MIN_P = 1e-300;

/**
 * The resampling stream: Marsaglia's xorshift128 seeded through SplitMix32. Hand-written because a
 * bootstrap draws ~10⁸ indices per calibration and numpy's MT19937 (`LegacyRandomState`, needed only
 * where Evidently's own streams must be matched) costs ~4× more per draw here. `interval(max)` maps a
 * 32-bit draw to [0, max] by multiplication (bias ≤ (max + 1)/2³², below 10⁻⁴ for any column size).
 */
export class ResampleRandom {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    const next = splitMix32(seed);
    this.x = next() || 1;
    this.y = next();
    this.z = next();
    this.w = next();
  }

  nextUint32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform integer in [0, max]. */
  interval(max: number): number {
    return Math.floor((this.nextUint32() / 4294967296) * (max + 1));
  }
}

/** Evidence of drift from a test result: the distance, or −log₁₀ p for p-value tests. NaN stays NaN. */
export function evidenceOf(test: StatTest, result: StatTestResult): number {
  if (test.decision === 'distance') return result.score;
  const p = result.score;
  return Number.isNaN(p) ? NaN : -Math.log10(Math.max(p, MIN_P));
}

/** Maps an evidence threshold back to the test's own scale: the distance itself, or p = 10^(−e). */
export function thresholdFromEvidence(test: StatTest, e: number): number {
  return test.decision === 'distance' ? e : Math.min(1, 10 ** -e);
}

/** Drift verdict on the test's own scale, in the test's own direction (as `defineStatTest` decides). */
export function decide(test: StatTest, score: number, threshold: number): boolean {
  if (test.decision === 'p_value') return test.inclusive ? score <= threshold : score < threshold;
  return test.inclusive ? score >= threshold : score > threshold;
}

// ---------------------------------------------------------------------------------------------
// Chunks

/** A half-open row range [start, end) of the reference. */
export interface ChunkRange {
  start: number;
  end: number;
}

/**
 * NannyML's `SizeBasedChunker(chunk_size, incomplete)`: consecutive chunks of `size` rows; the
 * remainder (< size rows) is its own last chunk (`keep`, NannyML's default), dropped (`drop`), or
 * merged into the previous chunk (`append`).
 */
export function chunksBySize(n: number, size: number, incomplete: 'keep' | 'drop' | 'append' = 'keep'): ChunkRange[] {
  if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`chunk size must be a positive whole number (got ${size})`);
  const out: ChunkRange[] = [];
  for (let s = 0; s + size <= n; s += size) out.push({ start: s, end: s + size });
  const rest = n % size;
  if (rest > 0) {
    if (incomplete === 'keep' || out.length === 0) out.push({ start: n - rest, end: n });
    else if (incomplete === 'append') out[out.length - 1].end = n;
  }
  return out;
}

/**
 * NannyML's `CountBasedChunker(chunk_number, incomplete)`: chunk size ⌊n / count⌋, then as
 * `chunksBySize` (NannyML's default `incomplete` is `keep`, which can give count + 1 chunks).
 */
export function chunksByCount(n: number, count: number, incomplete: 'keep' | 'drop' | 'append' = 'keep'): ChunkRange[] {
  if (!(Number.isInteger(count) && count > 0)) throw new RangeError(`chunk count must be a positive whole number (got ${count})`);
  const size = Math.floor(n / count);
  if (size === 0) throw new RangeError(`cannot split ${n} rows into ${count} chunks`);
  return chunksBySize(n, size, incomplete);
}

/**
 * Time chunks: rows grouped by ⌊t / periodMs⌋ (fixed-length periods from the Unix epoch, UTC; a day
 * period matches pandas' daily `Period`). Rows must be in time order; a row without a timestamp (NaN)
 * joins the chunk it sits in.
 */
export function chunksByPeriod(timestampsMs: ArrayLike<number>, periodMs: number): ChunkRange[] {
  if (!(periodMs > 0)) throw new RangeError(`period must be positive (got ${periodMs})`);
  const out: ChunkRange[] = [];
  let key = NaN;
  for (let i = 0; i < timestampsMs.length; i++) {
    const t = timestampsMs[i];
    if (Number.isNaN(t)) continue;
    const k = Math.floor(t / periodMs);
    if (k !== key) {
      if (k < key) throw new RangeError(`timestamps are not in time order at row ${i}`);
      if (out.length > 0) out[out.length - 1].end = i;
      out.push({ start: out.length === 0 ? 0 : i, end: timestampsMs.length });
      key = k;
    }
  }
  return out;
}

/**
 * Evidence of each reference chunk against the reference: the rest of the reference
 * (`against: 'rest'`, chunk-vs-rest, no overlap) or the whole reference including the chunk
 * (`against: 'all'`, what NannyML's univariate drift calculator does for its reference chunks).
 * The reference must keep its input order (`PreparedNumeric.values` / `PreparedCategorical.values`).
 * `values` of the result: the test's evidence per chunk; `statistics`: the test's statistic per chunk.
 */
export function chunkEvidence(
  reference: PreparedSample,
  chunks: readonly ChunkRange[],
  test: StatTest,
  kind: FeatureKind,
  opts: { against?: 'rest' | 'all'; stattest?: StatTestOptions } = {},
): { values: number[]; statistics: number[] } {
  const against = opts.against ?? 'rest';
  const values: number[] = [];
  const statistics: number[] = [];
  for (const c of chunks) {
    let ref: PreparedSample;
    let cur: PreparedSample;
    if (reference.prepared === 'num') {
      if (reference.inputOrderDropped === true) throw new Error('chunk calibration needs the reference in input order');
      const chunk = reference.values.subarray(c.start, c.end);
      cur = prepareNumeric(chunk, { integerDtype: reference.integerDtype });
      if (against === 'all') ref = reference;
      else {
        // the rest, sorted, without a sort: the reference's sorted values minus the chunk's (multiset difference)
        const rest = multisetDifference(reference.sorted, (cur as PreparedNumeric).sorted);
        const restOrder = test.inputOrder ? concat(reference.values.subarray(0, c.start), reference.values.subarray(c.end)) : rest;
        ref = fromSorted(rest, restOrder, reference);
      }
    } else {
      const labels = reference.values;
      cur = prepareCategorical(labels.slice(c.start, c.end));
      if (against === 'all') ref = reference;
      else if (test.inputOrder) ref = prepareCategorical([...labels.slice(0, c.start), ...labels.slice(c.end)]);
      else {
        const counts = new Map<string, number>();
        for (const [k, v] of reference.counts) {
          const left = v - ((cur as PreparedCategorical).counts.get(k) ?? 0);
          if (left > 0) counts.set(k, left);
        }
        ref = { prepared: 'cat', n: reference.n - cur.n, counts, values: [] };
      }
    }
    if (cur.n === 0 || ref.n === 0) continue;
    try {
      const r = test.compute(ref, cur, kind, opts.stattest);
      values.push(evidenceOf(test, r));
      statistics.push(r.statistic);
    } catch (err) {
      // A chunk the test refuses (e.g. too small for anderson) does not count.
      if (!(err instanceof StatTestError)) throw err;
    }
  }
  return { values, statistics };
}

/** a \ b for ascending arrays, b a sub-multiset of a. */
function multisetDifference(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length - b.length);
  let j = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (j < b.length && a[i] === b[j]) j++;
    else out[k++] = a[i];
  }
  return out;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Thresholds from a sample of evidence values

export type SpreadRule = { rule: 'std'; k: number } | { rule: 'quantile'; q: number };

export interface SpreadThreshold {
  /** Upper threshold on the evidence (drift when evidence is beyond it). */
  upper: number;
  /** mean − k·σ (std rule only; NaN otherwise): NannyML's lower threshold, reported, not used. */
  lower: number;
  mean: number;
  /** Population standard deviation (numpy `np.std`, ddof 0), as NannyML uses. */
  std: number;
  /** Finite values used. */
  n: number;
}

/**
 * Threshold from the spread of evidence values (NaN values are ignored):
 * - `std`: upper = μ + k·σ, lower = μ − k·σ, with σ the population standard deviation (NannyML's
 *   `StandardDeviationThreshold`, default k = 3);
 * - `quantile`: upper = the q-quantile, linear interpolation between order statistics (numpy's
 *   default `np.quantile(..., method='linear')`).
 * Throws RangeError when no finite value is left.
 */
export function spreadThreshold(values: readonly number[], rule: SpreadRule): SpreadThreshold {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) throw new RangeError('no finite calibration values');
  let s = 0;
  for (const x of v) s += x;
  const mean = s / n;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  const std = Math.sqrt(ss / n);
  if (rule.rule === 'std') return { upper: mean + rule.k * std, lower: mean - rule.k * std, mean, std, n };
  return { upper: quantile(v, rule.q), lower: NaN, mean, std, n };
}

/** numpy `quantile(x, q)` (linear method): h = (n − 1)·q, x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎). */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1] (got ${q})`);
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/**
 * Resampling p-value of an observed evidence e against null evidence values e₁..e_B:
 * p = (1 + #{eᵢ ≥ e}) / (B + 1) — never 0, so it can enter a multiple-testing correction.
 */
export function resampledPValue(nullValues: readonly number[], observed: number): number {
  let k = 0;
  let b = 0;
  for (const x of nullValues) {
    if (!Number.isFinite(x)) continue;
    b++;
    if (x >= observed) k++;
  }
  return (1 + k) / (b + 1);
}

/**
 * The rank rule of a resampling test at level a: drift when the resampled p-value
 * (1 + #{eᵢ ≥ e}) / (B + 1) ≤ a, i.e. when e is above the K-th largest null value, K = ⌊a·(B + 1)⌋
 * (Infinity when K = 0: B too small to reach a). For a permutation null this is an exact level-a
 * test for any B; a bootstrap that matches the null is exceeded with probability K/(B + 1) ≤ a.
 * Used instead of an interpolated quantile: numpy's linear (1 − a) quantile of B values is exceeded
 * with probability ≈ a + 1/(B + 1) (0.36 % + 0.2 % per column for m = 14, B = 500), which a union
 * over the columns adds up.
 */
export function rankThreshold(nullValues: readonly number[], a: number): number {
  if (!(a > 0 && a < 1)) throw new RangeError(`level must be in (0, 1) (got ${a})`);
  const v = nullValues.filter(Number.isFinite).sort((x, y) => y - x);
  // 1e-9: a·(B + 1) that is a whole number in exact arithmetic must not round down
  const k = Math.floor(a * (v.length + 1) + 1e-9);
  if (k === 0) return Infinity;
  return k > v.length ? -Infinity : v[k - 1];
}

/** Resamples needed for the rank rule to reach level a at all: B + 1 ≥ 1/a. */
export function minResamples(a: number): number {
  return Math.ceil(1 / a - 1e-9) - 1;
}

// ---------------------------------------------------------------------------------------------
// Null distributions by resampling

export interface NullOptions {
  /**
   * `bootstrap`: both samples drawn with replacement from the reference (no current data needed, cacheable).
   * `subsample`: the reference shuffled and split into currentSize and the rest, without replacement (cacheable).
   * `permutation`: reference ∪ current shuffled and split, without replacement.
   */
  method: 'bootstrap' | 'subsample' | 'permutation';
  /** Size of the simulated current sample (bootstrap); the current's own size for permutation. */
  currentSize?: number;
  /** The current sample (permutation only). */
  current?: PreparedSample;
  /** Resamples (default 500). */
  iterations?: number;
  /** MT19937 seed (default 0). */
  seed?: number;
  stattest?: StatTestOptions;
}

/**
 * Null distribution of the test's evidence for samples of sizes (|reference|, currentSize) from
 * one and the same distribution:
 * - bootstrap: pseudo-reference (N draws) and pseudo-current (n draws), both with replacement from
 *   the reference's empirical distribution;
 * - subsample: the reference's N values split at random into n (pseudo-current) and N − n
 *   (pseudo-reference), without replacement: sizes (N − n, n);
 * - permutation: the pooled N + n values are split at random into N and n, without replacement.
 * With replacement, a value drawn into the pseudo-current is usually in the pseudo-reference too
 * (shared atoms); a real window's values are new. That shrinks the null of rank and distance
 * statistics on a small reference or heavy tails (too low thresholds); the subsample has no shared
 * atoms, at the cost of a pseudo-reference smaller by n.
 * A threshold for a per-column false-alarm rate a is then `rankThreshold(values, a)`.
 * Draws are index-based (counting sort over the reference's sorted values), O(N + n) per resample.
 */
export function nullEvidence(reference: PreparedSample, test: StatTest, kind: FeatureKind, opts: NullOptions): number[] {
  const iterations = opts.iterations ?? 500;
  const rng = new ResampleRandom(opts.seed ?? 0);
  const N = reference.n;
  let poolNum: Float64Array | null = null;
  let poolCat: Int32Array | null = null;
  let labels: string[] = [];
  let n: number;
  if (opts.method === 'subsample') {
    n = opts.currentSize ?? Math.floor(N / 2);
    if (!(n > 0 && n < N)) throw new RangeError(`subsample size must be in (0, ${N}) (got ${n})`);
    if (reference.prepared === 'num') poolNum = reference.sorted;
    else ({ codes: poolCat, labels } = pooledCodes([reference]));
  } else if (opts.method === 'permutation') {
    const cur = opts.current;
    if (cur === undefined || cur.prepared !== reference.prepared) throw new Error('permutation calibration needs the current sample of the same kind');
    n = cur.n;
    if (reference.prepared === 'num') poolNum = mergeSorted(reference.sorted, (cur as PreparedNumeric).sorted);
    else ({ codes: poolCat, labels } = pooledCodes([reference, cur as PreparedCategorical]));
  } else {
    n = opts.currentSize ?? N;
    if (reference.prepared === 'num') poolNum = reference.sorted;
    else ({ codes: poolCat, labels } = pooledCodes([reference]));
  }
  if (!(n > 0)) throw new RangeError(`current size must be positive (got ${n})`);
  const P = poolNum !== null ? poolNum.length : poolCat!.length;
  const out: number[] = [];
  const mark = new Uint8Array(P);
  const idx = opts.method !== 'bootstrap' ? Int32Array.from({ length: P }, (_, i) => i) : null;
  const needOrder = test.inputOrder;
  for (let b = 0; b < iterations; b++) {
    // counts[i] = times pool element i lands in the pseudo-current (cur) / pseudo-reference (ref)
    let refSample: PreparedSample;
    let curSample: PreparedSample;
    if (idx !== null) {
      // partial Fisher–Yates: the first n slots become the pseudo-current
      for (let i = 0; i < n; i++) {
        const j = i + rng.interval(P - 1 - i);
        const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
      }
      mark.fill(0);
      for (let i = 0; i < n; i++) mark[idx[i]] = 1;
      if (poolNum !== null) {
        const c = new Float64Array(n);
        const r = new Float64Array(P - n);
        let ci = 0, ri = 0;
        for (let i = 0; i < P; i++) if (mark[i] === 1) c[ci++] = poolNum[i]; else r[ri++] = poolNum[i];
        refSample = fromSorted(r, needOrder ? shuffled(r, rng) : r, reference as PreparedNumeric);
        curSample = fromSorted(c, needOrder ? shuffled(c, rng) : c, reference as PreparedNumeric);
      } else {
        refSample = catSample(poolCat!, labels, (i) => mark[i] === 0, P - n);
        curSample = catSample(poolCat!, labels, (i) => mark[i] === 1, n);
      }
    } else {
      refSample = poolNum !== null ? drawNumeric(poolNum, N, rng, needOrder, reference as PreparedNumeric) : drawCategorical(poolCat!, labels, N, rng, needOrder);
      curSample = poolNum !== null ? drawNumeric(poolNum, n, rng, needOrder, reference as PreparedNumeric) : drawCategorical(poolCat!, labels, n, rng, needOrder);
    }
    try {
      out.push(evidenceOf(test, test.compute(refSample, curSample, kind, opts.stattest)));
    } catch (err) {
      if (!(err instanceof StatTestError)) throw err;
    }
  }
  return out;
}

function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/** Category codes of the pooled samples, sorted by code (order is irrelevant for counting). */
function pooledCodes(samples: PreparedCategorical[]): { codes: Int32Array; labels: string[] } {
  const labels: string[] = [];
  const codeOf = new Map<string, number>();
  let total = 0;
  for (const s of samples) for (const [k, c] of s.counts) {
    if (!codeOf.has(k)) { codeOf.set(k, labels.length); labels.push(k); }
    total += c;
  }
  const codes = new Int32Array(total);
  let p = 0;
  for (const s of samples) for (const [k, c] of s.counts) { codes.fill(codeOf.get(k)!, p, p + c); p += c; }
  return { codes, labels };
}

function catSample(codes: Int32Array, labels: string[], take: (i: number) => boolean, n: number): PreparedCategorical {
  const counts = new Float64Array(labels.length);
  const values: string[] = [];
  for (let i = 0; i < codes.length; i++) if (take(i)) { counts[codes[i]]++; values.push(labels[codes[i]]); }
  const map = new Map<string, number>();
  // first-seen order of the draw, as a profile built from the drawn labels would have
  for (const v of values) if (!map.has(v)) map.set(v, 0);
  for (const k of map.keys()) map.set(k, counts[labels.indexOf(k)]);
  return { prepared: 'cat', n, counts: map, values };
}

function drawCategorical(codes: Int32Array, labels: string[], n: number, rng: ResampleRandom, needOrder: boolean): PreparedCategorical {
  const counts = new Float64Array(labels.length);
  const order = needOrder ? new Array<string>(n) : null;
  const last = codes.length - 1;
  for (let i = 0; i < n; i++) {
    const c = codes[rng.interval(last)];
    counts[c]++;
    if (order !== null) order[i] = labels[c];
  }
  const map = new Map<string, number>();
  for (let k = 0; k < labels.length; k++) if (counts[k] > 0) map.set(labels[k], counts[k]);
  // labels in row order only for the tests that read them (TVD)
  return { prepared: 'cat', n, counts: map, values: order ?? [] };
}

/** n draws with replacement from an ascending array, profiled without a sort (counting over positions, moments over distinct values). */
function drawNumeric(sorted: Float64Array, n: number, rng: ResampleRandom, needOrder: boolean, like: PreparedNumeric): PreparedNumeric {
  const N = sorted.length;
  const hits = new Uint32Array(N);
  const order = needOrder ? new Float64Array(n) : null;
  const last = N - 1;
  for (let i = 0; i < n; i++) {
    const j = rng.interval(last);
    hits[j]++;
    if (order !== null) order[i] = sorted[j];
  }
  const out = new Float64Array(n);
  const uv: number[] = [];
  const uc: number[] = [];
  let k = 0;
  let sum = 0;
  for (let j = 0; j < N; j++) {
    const h = hits[j];
    if (h === 0) continue;
    const v = sorted[j];
    out.fill(v, k, k + h);
    k += h;
    sum += v * h;
    if (uv.length > 0 && uv[uv.length - 1] === v) uc[uc.length - 1] += h;
    else {
      uv.push(v);
      uc.push(h);
    }
  }
  const mean = sum / n;
  let ss = 0;
  for (let u = 0; u < uv.length; u++) ss += uc[u] * (uv[u] - mean) ** 2;
  return {
    prepared: 'num', values: order ?? out, sorted: out, n, mean, std: Math.sqrt(ss / n),
    uniqueValues: Float64Array.from(uv), uniqueCounts: Float64Array.from(uc), integerDtype: like.integerDtype,
  };
}

function shuffled(a: Float64Array, rng: ResampleRandom): Float64Array {
  const out = Float64Array.from(a);
  for (let i = out.length - 1; i >= 1; i--) {
    const j = rng.interval(i);
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  return out;
}

/** A numerical profile from an ascending array (no sort), with `values` as the input-order view. */
function fromSorted(sorted: Float64Array, values: Float64Array, like: PreparedNumeric): PreparedNumeric {
  return prepareNumeric(values, { sorted, integerDtype: like.integerDtype });
}
