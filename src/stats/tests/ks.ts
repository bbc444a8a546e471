import { defineStatTest, roundHalfEven } from '../define.ts';
import { kolmognSf, outerProbInside, probOutsideSquare } from '../kolmogorov.ts';
import { asNumeric } from '../sample.ts';
import type { PreparedNumeric } from '../types.ts';

function gcd(a: number, b: number): number {
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}

/** Two-sided two-sample KS statistic D = max |F1 − F2| over the pooled values (merge walk on sorted data, O(n1 + n2)). */
export function ksStatistic(s1: Float64Array, s2: Float64Array): number {
  const n1 = s1.length, n2 = s2.length;
  let i = 0, j = 0;
  let maxS = -Infinity, minS = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && s1[i] <= s2[j]) ? s1[i] : s2[j];
    while (i < n1 && s1[i] <= v) i++;
    while (j < n2 && s2[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minD = Math.min(Math.max(-minS, 0), 1);
  return minD > maxS ? minD : maxS;
}

/** `ksStatistic` of two profiled samples from their distinct values and counts: O(distinct), the same D. */
export function ksStatisticOf(a: PreparedNumeric, b: PreparedNumeric): number {
  const av = a.uniqueValues, ac = a.uniqueCounts, bv = b.uniqueValues, bc = b.uniqueCounts;
  const n1 = a.n, n2 = b.n;
  let x = 0, y = 0, i = 0, j = 0;
  let maxS = -Infinity, minS = Infinity;
  while (x < av.length || y < bv.length) {
    const v = y >= bv.length || (x < av.length && av[x] <= bv[y]) ? av[x] : bv[y];
    if (x < av.length && av[x] <= v) i += ac[x++];
    if (y < bv.length && bv[y] <= v) j += bc[y++];
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minD = Math.min(Math.max(-minS, 0), 1);
  return minD > maxS ? minD : maxS;
}

/**
 * Two-sided p-value of scipy.stats.ks_2samp(method='auto'): exact when max(n1, n2) ≤ 10000
 * (falling back to asymptotic if the exact recursion fails), else the one-sample D_n distribution
 * with n = round(n1·n2 / (n1 + n2)). Like SciPy, the exact branch snaps D to h / lcm(n1, n2).
 */
export function ks2samp(n1: number, n2: number, d0: number): { d: number; p: number } {
  let d = d0;
  let prob = Number.NaN;
  let exactOk = false;
  if (Math.max(n1, n2) <= 10000) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = (h * 1.0) / lcm;
    if (h === 0) return { d, p: 1.0 };
    prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    exactOk = Number.isFinite(prob) && prob >= 0 && prob <= 1;
  }
  if (!exactOk) {
    const m = Math.max(n1, n2), n = Math.min(n1, n2);
    const en = (m * n) / (m + n);
    prob = kolmognSf(roundHalfEven(en), d);
  }
  return { d, p: Math.min(Math.max(prob, 0), 1) };
}

/** p-value only (see `ks2samp`). */
export function ks2sampPValue(n1: number, n2: number, d: number): number {
  return ks2samp(n1, n2, d).p;
}

/**
 * `ks` — two-sample Kolmogorov–Smirnov test (Evidently `ks_stat_test`, scipy `ks_2samp`).
 * Statistic D = sup_x |F_ref(x) − F_cur(x)|; score = two-sided p-value.
 * Drift when p ≤ threshold (inclusive, as Evidently); default threshold 0.05. Numerical only.
 * Ref: Hodges (1958); Simard & L'Ecuyer (2011).
 */
export const ks = defineStatTest({
  name: 'ks',
  displayName: 'K-S p_value',
  kinds: ['num'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: true,
  run(reference, current) {
    const r = asNumeric(reference), c = asNumeric(current);
    const res = ks2samp(r.n, c.n, ksStatisticOf(r, c));
    return { statistic: res.d, score: res.p };
  },
});
