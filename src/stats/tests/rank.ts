/** Rank-based k-sample tests: anderson (Anderson–Darling k-sample), cramer_von_mises. */
import { defineStatTest } from '../define.ts';
import { besselK, gammaln } from '../special.ts';
import { asNumeric } from '../sample.ts';
import { StatTestError } from '../types.ts';

/** Least-squares quadratic fit y ≈ c0 x² + c1 x + c2 (numpy.polyfit(x, y, 2): column-scaled Vandermonde, orthogonal solve). */
function polyfit2(x: number[], y: number[]): [number, number, number] {
  const m = x.length;
  const A: number[][] = x.map((v) => [v * v, v, 1]);
  const scale = [0, 1, 2].map((j) => Math.sqrt(A.reduce((s, row) => s + row[j] * row[j], 0)));
  for (const row of A) for (let j = 0; j < 3; j++) row[j] /= scale[j];
  // Householder QR
  const b = y.slice();
  for (let k = 0; k < 3; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += A[i][k] ** 2;
    norm = Math.sqrt(norm);
    const alpha = A[k][k] > 0 ? -norm : norm;
    const v = new Array<number>(m).fill(0);
    for (let i = k; i < m; i++) v[i] = A[i][k];
    v[k] -= alpha;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i] ** 2;
    if (vn === 0) continue;
    for (let j = k; j < 3; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i] * A[i][j];
      for (let i = k; i < m; i++) A[i][j] -= (2 * d * v[i]) / vn;
    }
    let d = 0;
    for (let i = k; i < m; i++) d += v[i] * b[i];
    for (let i = k; i < m; i++) b[i] -= (2 * d * v[i]) / vn;
  }
  const c = [0, 0, 0];
  for (let k = 2; k >= 0; k--) {
    let s = b[k];
    for (let j = k + 1; j < 3; j++) s -= A[k][j] * c[j];
    c[k] = s / A[k][k];
  }
  return [c[0] / scale[0], c[1] / scale[1], c[2] / scale[2]];
}

/** Midrank A²_akN of Scholz & Stephens (1987) for two sorted samples (scipy `_anderson_ksamp_midrank`). */
function a2akn(x: Float64Array, y: Float64Array): { A2kN: number; nDistinct: number } {
  const n = [x.length, y.length];
  const N = n[0] + n[1];
  let i = 0, j = 0, zLeft = 0, nDistinct = 0;
  // first pass to know whether there are ties at all (lj = 1 when N == number of distinct values)
  const groups: { lj: number; fx: number; fy: number }[] = [];
  while (i < n[0] || j < n[1]) {
    const v = j >= n[1] || (i < n[0] && x[i] <= y[j]) ? x[i] : y[j];
    let fx = 0, fy = 0;
    while (i < n[0] && x[i] === v) { i++; fx++; }
    while (j < n[1] && y[j] === v) { j++; fy++; }
    groups.push({ lj: fx + fy, fx, fy });
    nDistinct++;
  }
  const noTies = nDistinct === N;
  let mx = 0, my = 0;
  const terms0: number[] = [], terms1: number[] = [];
  for (const g of groups) {
    const lj = noTies ? 1 : g.lj;
    const Bj = zLeft + lj / 2;
    mx += g.fx; my += g.fy;
    const Mx = mx - g.fx / 2, My = my - g.fy / 2;
    const den = Bj * (N - Bj) - (N * lj) / 4;
    terms0.push((lj / N) * (N * Mx - Bj * n[0]) ** 2 / den);
    terms1.push((lj / N) * (N * My - Bj * n[1]) ** 2 / den);
    zLeft += g.lj;
  }
  let A2kN = pairwiseSum(terms0) / n[0] + pairwiseSum(terms1) / n[1];
  A2kN *= (N - 1) / N;
  return { A2kN, nDistinct };
}

/** numpy's pairwise summation (blocks of 8 partial sums below 128 elements), so long sums round like numpy's. */
export function pairwiseSum(a: ArrayLike<number>, lo = 0, n = a.length, r: (x: number) => number = (x) => x): number {
  if (n < 8) {
    let s = -0.0;
    for (let i = lo; i < lo + n; i++) s = r(s + a[i]);
    return s;
  }
  if (n <= 128) {
    const p = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) p[k] = r(p[k] + a[lo + i + k]);
    let res = r(r(r(p[0] + p[1]) + r(p[2] + p[3])) + r(r(p[4] + p[5]) + r(p[6] + p[7])));
    for (; i < n; i++) res = r(res + a[lo + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(pairwiseSum(a, lo, n2, r) + pairwiseSum(a, lo + n2, n - n2, r));
}

/** Anderson–Darling k-sample statistic (standardised, k = 2) and SciPy's interpolated, capped p-value. */
export function andersonKsamp(x: Float64Array, y: Float64Array): { statistic: number; pValue: number } {
  const { A2kN, nDistinct } = a2akn(x, y);
  if (nDistinct < 2) throw new StatTestError('constant', 'anderson_ksamp needs more than one distinct observation');
  // N = 2 leaves SciPy's harmonic-sum table empty (IndexError in Evidently)
  if (x.length + y.length < 3) throw new StatTestError('too_small', 'anderson_ksamp needs at least 3 observations in total');
  const k = 2;
  const N = x.length + y.length;
  const H = 1 / x.length + 1 / y.length;
  // hs_cs = cumsum(1 / arange(N-1, 1, -1)); h = hs_cs[-1] + 1; g = sum(hs_cs / arange(2, N))
  const hs = new Float64Array(Math.max(N - 2, 0));
  let cs = 0;
  for (let q = 0; q < N - 2; q++) { cs += 1 / (N - 1 - q); hs[q] = cs; }
  const h = (N - 2 > 0 ? hs[N - 3] : 0) + 1;
  const gterms = new Float64Array(hs.length);
  for (let q = 0; q < hs.length; q++) gterms[q] = hs[q] / (q + 2);
  const g = pairwiseSum(gterms);
  const a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const d = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmasq = (a * N ** 3 + b * N ** 2 + c * N + d) / ((N - 1.0) * (N - 2.0) * (N - 3.0));
  const m = k - 1;
  const A2 = (A2kN - m) / Math.sqrt(sigmasq);
  const b0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
  const b1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
  const b2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
  const critical = b0.map((v, i) => v + b1[i] / Math.sqrt(m) + b2[i] / m);
  const sig = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
  let p: number;
  if (A2 < Math.min(...critical)) p = 0.25;
  else if (A2 > Math.max(...critical)) p = 0.001;
  else {
    const pf = polyfit2(critical, sig.map(Math.log));
    p = Math.exp((pf[0] * A2 + pf[1]) * A2 + pf[2]);
  }
  return { statistic: A2, pValue: p };
}

/**
 * `anderson` — Anderson–Darling k-sample test (k = 2, midrank variant; scipy anderson_ksamp). The
 * p-value is SciPy's quadratic interpolation of log significance over Scholz & Stephens' table,
 * CAPPED to [0.001, 0.25] (so it can never reach the tail). Statistic: standardised A²akN.
 * Drift when p < threshold (strict); default 0.1. Ref: Scholz & Stephens (1987).
 */
export const anderson = defineStatTest({
  name: 'anderson',
  displayName: 'Anderson-Darling',
  kinds: ['num'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: false,
  run(reference, current) {
    const r = asNumeric(reference), c = asNumeric(current);
    const res = andersonKsamp(r.sorted, c.sorted);
    return { statistic: res.statistic, score: res.pValue };
  },
});

/** CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996), series stopped when a term < 1e-7 as Evidently/SciPy. */
export function cdfCvmInf(x: number): number {
  let tot = 0;
  for (let k = 0; ; k++) {
    const u = Math.exp(gammaln(k + 0.5) - gammaln(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x));
    const y = 4 * k + 1;
    const q = (y ** 2) / (16 * x);
    const z = u * Math.sqrt(y) * Math.exp(-q) * besselK(0.25, q);
    tot += z;
    if (!(Math.abs(z) >= 1e-7)) break;
  }
  return tot;
}

function gcd(a: number, b: number): number { while (b) { const t = a % b; a = b; b = t; } return a; }

/**
 * Exact p-value of the two-sample CvM statistic U (Xiao, Gordon & Yakovlev 2006), with the frequency
 * tables of Evidently's copy of SciPy's algorithm. Evidently stores the tables in
 * `np.min_scalar_type(max(zeta_bound, combinations))`, and since `combinations` is a float that is
 * float16 (≤ 65504) or float32 — so its exact p-values carry float16/float32 rounding (e.g. 1e-8
 * relative for 10 vs 12 observations). We reproduce that arithmetic (Math.f16round / Math.fround),
 * including the column order that decides float rounding of sums.
 */
function cvmExactP(s: number, m: number, n: number, compat: boolean): number {
  const lcm = (m * n) / gcd(m, n);
  const a = lcm / m, b = lcm / n;
  const mn = m * n;
  const zeta = Math.floor((lcm ** 2 * (m + n) * (6 * s - mn * (4 * mn - 1))) / (6 * mn ** 2));
  const zetaBound = lcm ** 2 * (m + n);
  let fact = 1; // factorial(m+n) / (factorial(m) * factorial(n)) as a float
  for (let i = 1; i <= m; i++) fact = (fact * (n + i)) / i;
  const combinations = Math.round(fact);
  // Python's max(zeta_bound, combinations) keeps the integer zeta_bound on ties; an integer table dtype
  // then makes numpy refuse `tmp[0] += int64` (UFuncTypeError), i.e. Evidently fails on such inputs.
  if (compat && zetaBound >= combinations) {
    throw new StatTestError('evidently_failure', `Evidently's exact Cramér-von Mises fails for sizes ${m} and ${n} (integer frequency table); use compat: false`);
  }
  const maxGs = Math.max(zetaBound, combinations);
  const rnd: (x: number) => number = !compat ? (x) => x : maxGs <= 65504 ? Math.f16round : maxGs <= 3.4028234663852886e38 ? Math.fround : (x) => x;
  type Table = { v: number[]; f: number[] };
  let gs: Table[] = [{ v: [0], f: [1] }];
  for (let q = 0; q < m; q++) gs.push({ v: [], f: [] });
  for (let u = 0; u <= n; u++) {
    const next: Table[] = [];
    let tmp: Table = { v: [], f: [] };
    for (let v = 0; v < gs.length; v++) {
      const g = gs[v];
      const gi = new Map<number, number>();
      g.v.forEach((val, i) => { if (!gi.has(val)) gi.set(val, i); });
      const common: { val: number; ti: number; gi: number }[] = [];
      const tUsed = new Set<number>(), gUsed = new Set<number>();
      const seenT = new Set<number>();
      tmp.v.forEach((val, i) => {
        if (seenT.has(val)) return;
        seenT.add(val);
        const j = gi.get(val);
        if (j !== undefined) { common.push({ val, ti: i, gi: j }); tUsed.add(i); gUsed.add(j); }
      });
      common.sort((x, y) => x.val - y.val);
      const out: Table = { v: [], f: [] };
      for (const c of common) { out.v.push(c.val); out.f.push(rnd(tmp.f[c.ti] + g.f[c.gi])); }
      tmp.v.forEach((val, i) => { if (!tUsed.has(i)) { out.v.push(val); out.f.push(tmp.f[i]); } });
      g.v.forEach((val, i) => { if (!gUsed.has(i)) { out.v.push(val); out.f.push(g.f[i]); } });
      const shift = rnd((a * v - b * u) ** 2);
      for (let i = 0; i < out.v.length; i++) out.v[i] = rnd(out.v[i] + shift);
      next.push(out);
      tmp = out;
    }
    gs = next;
  }
  const sel: number[] = [];
  gs[m].v.forEach((val, i) => { if (val >= zeta) sel.push(gs[m].f[i]); });
  if (!compat) return pairwiseSum(sel) / combinations;
  const total = rnd(pairwiseSum(sel, 0, sel.length, Math.fround));
  return rnd(Math.fround(total / rnd(combinations)));
}

/** Evidently's two-sample Cramér–von Mises (`_cvm_2samp`, method 'auto': exact when max(n1, n2) ≤ 20). */
export function cvm2samp(xa: Float64Array, ya: Float64Array, compat = true): { statistic: number; pValue: number } {
  const nx = xa.length, ny = ya.length;
  if (nx <= 1 || ny <= 1) throw new StatTestError('too_small', 'cramer_von_mises needs at least two observations on each side');
  // midranks of the pooled sample, walked in sorted order
  let i = 0, j = 0, pos = 0;
  const dx: number[] = [], dy: number[] = [];
  while (i < nx || j < ny) {
    const v = j >= ny || (i < nx && xa[i] <= ya[j]) ? xa[i] : ya[j];
    let cx = 0, cy = 0;
    while (i + cx < nx && xa[i + cx] === v) cx++;
    while (j + cy < ny && ya[j + cy] === v) cy++;
    const rank = pos + (cx + cy + 1) / 2;
    for (let q = 0; q < cx; q++) dx.push((rank - (i + q + 1)) ** 2);
    for (let q = 0; q < cy; q++) dy.push((rank - (j + q + 1)) ** 2);
    i += cx; j += cy; pos += cx + cy;
  }
  let u = nx * pairwiseSum(dx);
  u += ny * pairwiseSum(dy);
  const k = nx * ny, N = nx + ny;
  const t = u / (k * N) - (4 * k - 1) / (6 * N);
  let p: number;
  if (Math.max(nx, ny) <= 20) p = cvmExactP(u, nx, ny, compat);
  else {
    const et = (1 + 1 / N) / 6;
    let vt = (N + 1.0) * (4 * k * N - 3 * (nx ** 2 + ny ** 2) - 2 * k);
    vt = vt / (45 * N ** 2 * 4 * k);
    const tn = 1 / 6 + (t - et) / Math.sqrt(45 * vt);
    p = tn < 0.003 ? 1.0 : Math.max(0, 1.0 - cdfCvmInf(tn));
  }
  return { statistic: t, pValue: p };
}

/**
 * `cramer_von_mises` — two-sample Cramér–von Mises test as implemented inside Evidently (a copy of
 * SciPy's): T = U/(mnN) − (4mn − 1)/(6N) from pooled midranks; exact p for max(m, n) ≤ 20, else the
 * limiting distribution. Drift when p ≤ threshold (inclusive); default 0.1. Ref: Anderson (1962).
 * Evidently's exact branch keeps its frequency tables in float16/float32 (p rounded accordingly) and
 * fails outright when lcm(m,n)²(m+n) ≥ C(m+n, m) (`evidently_failure`); `compat: false` computes the
 * exact p-value in float64 and never fails.
 */
export const cramerVonMises = defineStatTest({
  name: 'cramer_von_mises',
  displayName: 'Cramer-von Mises',
  kinds: ['num'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: true,
  run(reference, current, _kind, opts) {
    const r = asNumeric(reference), c = asNumeric(current);
    const res = cvm2samp(r.sorted, c.sorted, opts.compat !== false);
    return { statistic: res.statistic, score: res.pValue };
  },
});
