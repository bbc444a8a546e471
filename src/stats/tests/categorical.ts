/** Tests on the joint frequency table of two samples: chisquare, z, g_test, fisher_exact. */
import { defineStatTest } from '../define.ts';
import { chi2Sf, gammaln, ndtr } from '../special.ts';
import { jointCounts, nUniqueOf, sizeOf } from '../sample.ts';
import { StatTestError } from '../types.ts';
import type { SampleInput } from '../types.ts';

/** Pearson chi-square of homogeneity on the 2×k table (corrected variants of chisquare / g_test). */
function homogeneity(ref: Float64Array, cur: Float64Array, nRef: number, nCur: number, g: boolean): { stat: number; df: number } {
  const N = nRef + nCur;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < ref.length; i++) {
    const col = ref[i] + cur[i];
    if (col === 0) continue;
    k++;
    const eR = (nRef * col) / N, eC = (nCur * col) / N;
    if (g) stat += (ref[i] > 0 ? 2 * ref[i] * Math.log(ref[i] / eR) : 0) + (cur[i] > 0 ? 2 * cur[i] * Math.log(cur[i] / eC) : 0);
    else stat += (ref[i] - eR) ** 2 / eR + (cur[i] - eC) ** 2 / eC;
  }
  return { stat, df: k - 1 };
}

/**
 * `chisquare` — Evidently's chi-square *goodness-of-fit* of current counts against reference
 * frequencies rescaled to the current size: χ² = Σ_k (O_k − E_k)² / E_k with E_k = n_ref,k · n_cur / n_ref,
 * df = k − 1 over the union of categories (a category absent from reference gives E = 0, χ² = ∞, p = 0;
 * a single category gives df = 0: p = NaN when χ² is exactly 0, but p = 0 — drift — when rounding in
 * n_ref,k · (n_cur/n_ref) leaves χ² ≈ 1e-30, exactly as SciPy/Evidently).
 * Score = p-value; drift when p < threshold (strict); default 0.05.
 * `compat: false`: Pearson chi-square test of homogeneity on the 2×k contingency table (treats the
 * reference as a sample, not as the true distribution).
 * Ref: scipy.stats.chisquare; Evidently `chi_stat_test`.
 */
export const chisquare = defineStatTest({
  name: 'chisquare',
  displayName: 'chi-square p_value',
  kinds: ['cat'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: false,
  run(reference, current, _kind, opts) {
    const j = jointCounts(reference, current);
    if (opts.compat === false) {
      const { stat, df } = homogeneity(j.ref, j.cur, j.nRef, j.nCur, false);
      return { statistic: stat, score: df > 0 ? chi2Sf(stat, df) : 1 };
    }
    const kNorm = j.nCur / j.nRef;
    let stat = 0;
    for (let i = 0; i < j.keys.length; i++) {
      const e = j.ref[i] * kNorm;
      stat += (j.cur[i] - e) ** 2 / e;
    }
    const df = j.keys.length - 1;
    return { statistic: stat, score: chi2Sf(stat, df) };
  },
});

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a), sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * `z` — two-proportion z-test of "value ≠ smallest category" between reference and current:
 * z = (p1 − p2) / sqrt(P(1 − P)(1/n1 + 1/n2)), P pooled; p = 2(1 − Φ(|z|)) computed as Evidently does
 * (so p underflows to 0 for |z| > ~8.3). p = 1 when both samples are the same single value.
 * Drift when p < threshold (strict); default 0.05. Evidently registers it for categorical columns and
 * its default selection also applies it to numerical columns with ≤ 2 distinct values.
 * Ref: Evidently `z_stat_test`.
 */
export const z = defineStatTest({
  name: 'z',
  displayName: 'Z-test p_value',
  kinds: ['cat'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: false,
  run(reference, current) {
    const j = jointCounts(reference, current);
    if (nUniqueOf(reference) === 1 && nUniqueOf(current) === 1 && j.keys.length === 1) return { statistic: 0, score: 1 };
    let first = 0;
    for (let i = 1; i < j.keys.length; i++) if (compareKeys(j.keys[i], j.keys[first]) < 0) first = i;
    const n1 = j.nRef, n2 = j.nCur;
    const p1 = (n1 - j.ref[first]) / n1;
    const p2 = (n2 - j.cur[first]) / n2;
    const P = (p1 * n1 + p2 * n2) / (n1 + n2);
    const zs = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
    return { statistic: zs, score: 2 * (1 - ndtr(Math.abs(zs))) };
  },
});

/**
 * `g_test` — Evidently's G-test: scipy power_divergence(f_obs = current counts, f_exp = reference
 * counts, lambda_='log-likelihood'): G = 2 Σ O ln(O/E), df = k − 1. SciPy refuses expected and observed
 * totals that differ by more than sqrt(machine epsilon) ≈ 1.5e-8 relative, so in compat mode the test only runs when
 * reference and current have the same size (Evidently raises otherwise; so do we, `unequal_sizes`).
 * Drift when p < threshold (strict); default 0.1.
 * `compat: false`: G-test of homogeneity on the 2×k table (any sizes).
 */
export const gTest = defineStatTest({
  name: 'g_test',
  displayName: 'g_test',
  kinds: ['cat'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: false,
  run(reference, current, _kind, opts) {
    const j = jointCounts(reference, current);
    if (opts.compat === false) {
      const { stat, df } = homogeneity(j.ref, j.cur, j.nRef, j.nCur, true);
      return { statistic: stat, score: df > 0 ? chi2Sf(stat, df) : 1 };
    }
    if (Math.abs(j.nCur - j.nRef) / Math.min(j.nCur, j.nRef) > Math.sqrt(Number.EPSILON)) {
      throw new StatTestError('unequal_sizes', 'g_test (Evidently-compatible) needs reference and current of equal size; use compat: false');
    }
    let stat = 0;
    for (let i = 0; i < j.keys.length; i++) {
      const o = j.cur[i];
      if (o !== 0) stat += 2.0 * (o * Math.log(o / j.ref[i]));
    }
    const df = j.keys.length - 1;
    return { statistic: stat, score: chi2Sf(stat, df) };
  },
});

function logHypergeomPmf(x: number, total: number, good: number, draws: number): number {
  const bad = total - good;
  return lchoose(good, x) + lchoose(bad, draws - x) - lchoose(total, draws);
}
function lchoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/** Two-sided Fisher exact p-value of a 2×2 table [[a, b], [c, d]], as scipy.stats.fisher_exact. */
export function fisherExact2x2(a: number, b: number, c: number, d: number): number {
  if (a + b === 0 || c + d === 0 || a + c === 0 || b + d === 0) return 1.0;
  const n1 = a + b, n2 = c + d, n = a + c, total = n1 + n2;
  const pmf = (x: number): number => Math.exp(logHypergeomPmf(x, total, n1, n));
  const lo = Math.max(0, n - n2), hi = Math.min(n, n1);
  const cdf = (x: number): number => { let s = 0; for (let k = lo; k <= Math.min(x, hi); k++) s += pmf(k); return s; };
  const sf = (x: number): number => { let s = 0; for (let k = Math.max(x + 1, lo); k <= hi; k++) s += pmf(k); return s; };
  const mode = Math.trunc(((n + 1) * (n1 + 1)) / (n1 + n2 + 2));
  const pexact = pmf(a);
  const pmode = pmf(mode);
  const eps = 1e-14;
  const gamma = 1 + eps;
  if (Math.abs(pexact - pmode) / Math.max(pexact, pmode) <= eps) return 1.0;
  const search = (f: (x: number) => number, target: number, lo0: number, hi0: number): number => {
    let l = lo0, h = hi0;
    while (l < h) {
      const mid = l + Math.floor((h - l) / 2);
      const mv = f(mid);
      if (mv < target) l = mid + 1;
      else if (mv > target) h = mid - 1;
      else return mid;
    }
    return f(l) <= target ? l : l - 1;
  };
  let p: number;
  if (a < mode) {
    const plower = cdf(a);
    if (pmf(n) > pexact * gamma) return Math.min(plower, 1);
    const guess = search((x) => -pmf(x), -pexact * gamma, mode, n);
    p = plower + sf(guess);
  } else {
    const pupper = sf(a - 1);
    if (pmf(0) > pexact * gamma) return Math.min(pupper, 1);
    const guess = search(pmf, pexact * gamma, 0, mode);
    p = pupper + cdf(guess);
  }
  return Math.min(p, 1.0);
}

/**
 * `fisher_exact` — Fisher's exact test on the 2×2 table [[cur=B, cur=A], [ref=B, ref=A]] of a
 * binary column. Evidently requires equal-size samples (`unequal_sizes`) and ≤ 2 categories per side
 * (`not_binary`); with 3+ categories in the union Evidently's mapping depends on Python set order,
 * so we refuse that case too. Drift when p < threshold (strict); default 0.1.
 * Ref: scipy.stats.fisher_exact (two-sided, relative tolerance 1e-14 on equal probabilities).
 */
export const fisherExact = defineStatTest({
  name: 'fisher_exact',
  displayName: "Fisher's Exact test",
  kinds: ['cat'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: false,
  run(reference: SampleInput, current: SampleInput) {
    if (sizeOf(reference) !== sizeOf(current)) throw new StatTestError('unequal_sizes', 'fisher_exact needs reference and current of equal length');
    if (nUniqueOf(reference) > 2 || nUniqueOf(current) > 2) throw new StatTestError('not_binary', 'fisher_exact expects binary data, found more than 2 categories');
    const j = jointCounts(reference, current);
    if (j.keys.length > 2) throw new StatTestError('not_binary', 'fisher_exact: more than 2 categories across reference and current');
    const oneCur = j.cur[0], zeroCur = j.nCur - oneCur, oneRef = j.ref[0], zeroRef = j.nRef - oneRef;
    const p = fisherExact2x2(oneCur, zeroCur, oneRef, zeroRef);
    const odds = zeroCur > 0 && oneRef > 0 ? (oneCur * zeroRef) / (oneRef * zeroCur) : Infinity;
    return { statistic: odds, score: p };
  },
});
