/** Tests on the two sorted numerical samples: wasserstein, energy distance, t-test, Mann–Whitney U. */
import { defineStatTest } from '../define.ts';
import { binom, ndtr, tSf } from '../special.ts';
import { asNumeric, neumaierSum, orderedValues } from '../sample.ts';
import type { PreparedNumeric } from '../types.ts';

/**
 * ∫ |F_u − F_v|^p over the pooled support (scipy `_cdf_distance` without weights): one merge walk over
 * both samples' distinct values and their counts, O(distinct), compensated summation. The terms and
 * their order are those of a walk over the sorted samples element by element (a term is added at each
 * new value, with the counts of smaller values), so the result is the same bit for bit.
 */
export function cdfDistanceIntegral(u: PreparedNumeric, v: PreparedNumeric, p: 1 | 2): number {
  const uv = u.uniqueValues, uc = u.uniqueCounts, vv = v.uniqueValues, vc = v.uniqueCounts;
  const nu = u.n, nv = v.n;
  const ku = uv.length, kv = vv.length;
  // An infinity held twice in the pooled sample: scipy's element walk adds |ΔF|·(inf − inf) = NaN
  // (Evidently's legacy share keeps ±inf; legacy-share.ts). The distinct-value walk would skip it.
  const count = (x: number, vals: Float64Array, cnts: Float64Array): number => (vals[0] === x ? cnts[0] : 0) + (vals[vals.length - 1] === x && vals.length > 1 ? cnts[vals.length - 1] : 0);
  if (count(-Infinity, uv, uc) + count(-Infinity, vv, vc) > 1 || count(Infinity, uv, uc) + count(Infinity, vv, vc) > 1) return NaN;
  let a = 0, b = 0;
  let i = 0, j = 0;
  let prev = Math.min(uv[0], vv[0]);
  let s = 0, c = 0;
  while (a < ku || b < kv) {
    const x = b >= kv || (a < ku && uv[a] <= vv[b]) ? uv[a] : vv[b];
    if (x !== prev) {
      const diff = Math.abs(i / nu - j / nv);
      const term = (p === 1 ? diff : diff * diff) * (x - prev);
      const t = s + term;
      c += Math.abs(s) >= Math.abs(term) ? s - t + term : term - t + s;
      s = t;
      prev = x;
    }
    if (a < ku && uv[a] === x) i += uc[a++];
    if (b < kv && vv[b] === x) j += vc[b++];
  }
  return s + c;
}

/**
 * `wasserstein` — first Wasserstein distance normed by the reference's population standard deviation:
 * W1(ref, cur) / max(std(ref), 0.001). Drift when ≥ threshold (inclusive); default 0.1. Numerical only.
 * Ref: scipy.stats.wasserstein_distance; Evidently `wasserstein_stat_test`.
 */
export const wasserstein = defineStatTest({
  name: 'wasserstein',
  displayName: 'Wasserstein distance (normed)',
  kinds: ['num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: true,
  run(reference, current) {
    const r = asNumeric(reference), c = asNumeric(current);
    const norm = Math.max(r.std, 0.001);
    const w = cdfDistanceIntegral(r, c, 1) / norm;
    return { statistic: w, score: w };
  },
});

/**
 * `ed` — energy distance D = sqrt(2 ∫ (F_ref − F_cur)²) (scipy.stats.energy_distance), not normalised.
 * Drift when D > threshold (strict, as Evidently); default 0.1. Numerical only.
 * Ref: Székely & Rizzo (2013); Evidently `energy_dist_test`.
 */
export const energyDistance = defineStatTest({
  name: 'ed',
  displayName: 'Energy-distance',
  kinds: ['num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: false,
  run(reference, current) {
    const r = asNumeric(reference), c = asNumeric(current);
    const d = Math.SQRT2 * Math.sqrt(cdfDistanceIntegral(r, c, 2));
    return { statistic: d, score: d };
  },
});

function sampleVar(p: PreparedNumeric): number {
  // numpy var(ddof=1): mean of squared deviations from the mean, times n/(n-1)
  const values = orderedValues(p);
  const sq = new Float64Array(p.n);
  for (let i = 0; i < p.n; i++) sq[i] = (values[i] - p.mean) ** 2;
  return neumaierSum(sq) / (p.n - 1);
}

/**
 * `t_test` — Student's two-sample t-test with pooled variance (scipy ttest_ind, equal_var=True):
 * t = (x̄_ref − x̄_cur) / sqrt(s_p² (1/n1 + 1/n2)), df = n1 + n2 − 2, two-sided p. Constant samples
 * give t = NaN, p = NaN (no drift), as in Evidently. Drift when p < threshold (strict); default 0.05.
 * Ref: scipy.stats.ttest_ind; Evidently `t_test`.
 */
export const tTest = defineStatTest({
  name: 't_test',
  displayName: 't_test',
  kinds: ['num'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: false,
  inputOrder: true, // the variance sum runs in input order (last-bit rounding)
  run(reference, current) {
    const r = asNumeric(reference), c = asNumeric(current);
    const df = r.n + c.n - 2;
    // SciPy: a single observation contributes 0 (not NaN) to the pooled variance
    const v1 = r.n === 1 ? 0 : sampleVar(r), v2 = c.n === 1 ? 0 : sampleVar(c);
    const svar = ((r.n - 1) * v1 + (c.n - 1) * v2) / df;
    const t = (r.mean - c.mean) / Math.sqrt(svar * (1.0 / r.n + 1.0 / c.n));
    const p = Number.isNaN(t) ? Number.NaN : Math.min(1, 2 * tSf(Math.abs(t), df));
    return { statistic: t, score: p };
  },
});

/** Sum of midranks of the first sample in the pooled data and the tie-correction term Σ(t³ − t). */
export function rankSum(x: Float64Array, y: Float64Array): { r1: number; tieTerm: number; ties: boolean } {
  const n1 = x.length, n2 = y.length;
  let i = 0, j = 0, pos = 0, r1 = 0, tieTerm = 0, ties = false;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    let cx = 0, cy = 0;
    while (i < n1 && x[i] === v) { i++; cx++; }
    while (j < n2 && y[j] === v) { j++; cy++; }
    const t = cx + cy;
    const rank = pos + (t + 1) / 2;
    r1 += cx * rank;
    if (t > 1) { ties = true; tieTerm += t * t * t - t; }
    pos += t;
  }
  return { r1, tieTerm, ties };
}

/**
 * Exact null distribution of U (SciPy `_MWU`, Löffler's recursion on σ(u)): sf(U) for sizes n1, n2,
 * O(U²). Hand-written: no npm package has it. SciPy stores counts in uint64 (truncating each step)
 * until they overflow, then float64; reproduced with Math.trunc. Used for min(n1, n2) ≤ 8 without ties.
 */
export function mwuExactSf(U: number, n1in: number, n2in: number): number {
  const n1 = Math.min(n1in, n2in), n2 = Math.max(n1in, n2in);
  const totalExact = binom(n1 + n2, n1); // SciPy: special.binom(n1 + n2, n1)
  const kc = n1 * n2 - U;
  const k = Math.min(U, kc);
  // configurations via the Harding/Löffler recursion on sigma(u)
  const maxu = k;
  const s = new Float64Array(maxu + 1);
  for (let d = 1; d <= n1; d++) for (let q = d; q <= maxu; q += d) s[q] += d;
  for (let d = n2 + 1; d <= n2 + n1; d++) for (let q = d; q <= maxu; q += d) s[q] -= d;
  const conf = new Float64Array(maxu + 1);
  conf[0] = 1;
  let isUint = true;
  for (let u = 1; u <= maxu; u++) {
    let dot = 0;
    for (let q = 0; q < u; q++) dot += conf[q] * s[u - q];
    let nv = dot / u;
    if (nv > 18446744073709551615 && isUint) isUint = false;
    if (isUint) nv = Math.trunc(nv);
    conf[u] = nv;
  }
  let cdf = 0;
  for (let q = 0; q <= k; q++) cdf += conf[q] / totalExact;
  if (U < kc) return 1 - cdf + conf[k] / totalExact;
  return cdf;
}

/**
 * `mannw` — Mann–Whitney U test as Evidently calls it: scipy mannwhitneyu(x=reference, y=current,
 * alternative='less') — a ONE-sided test (is reference stochastically smaller than current?), so a
 * shift of current towards smaller values is never detected. Statistic U1 (of reference); p from the
 * exact distribution when min(n1, n2) ≤ 8 and no ties, else the normal approximation with tie and
 * continuity correction. Drift when p < threshold (strict); default 0.05.
 * `compat: false`: two-sided test (p = 2·sf(max(U1, U2)), clipped to 1).
 * Ref: Mann & Whitney (1947); scipy.stats.mannwhitneyu; Evidently `mann_whitney_u_stat_test`.
 */
export const mannw = defineStatTest({
  name: 'mannw',
  displayName: 'Mann-Whitney U-rank test',
  kinds: ['num'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: false,
  run(reference, current, _kind, opts) {
    const r = asNumeric(reference), c = asNumeric(current);
    const n1 = r.n, n2 = c.n;
    const { r1, tieTerm, ties } = rankSum(r.sorted, c.sorted);
    const U1 = r1 - (n1 * (n1 + 1)) / 2;
    const U2 = n1 * n2 - U1;
    const twoSided = opts.compat === false;
    const U = twoSided ? Math.max(U1, U2) : U2;
    const f = twoSided ? 2 : 1;
    let p: number;
    // Exact only where SciPy picks it (min(n1, n2) ≤ 8, no ties) AND it is affordable: the recursion is
    // O(min(U, n1·n2 − U)²); beyond 2e4 (e.g. 5 vs 1M rows) SciPy/Evidently would run for hours, so we
    // use the normal approximation there (documented deviation).
    const exactCost = Math.min(U, n1 * n2 - U);
    if ((n1 > 8 && n2 > 8) || ties || exactCost > 20000) {
      const mu = (n1 * n2) / 2;
      const n = n1 + n2;
      const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
      const zz = (U - mu - 0.5) / sd;
      p = ndtr(-zz);
    } else p = mwuExactSf(U, n1, n2);
    p *= f;
    p = Math.min(Math.max(p, 0), 1);
    return { statistic: U1, score: p };
  },
});
