/** epps_singleton (es), empirical_mmd and TVD. */
import { defineStatTest } from '../define.ts';
import { LegacyRandomState } from '../random.ts';
import { chi2Sf } from '../special.ts';
import { asNumeric, jointCounts, orderedValues } from '../sample.ts';
import { StatTestError } from '../types.ts';
import type { CategoricalSample, PreparedCategorical, PreparedNumeric, SampleInput } from '../types.ts';
import { pairwiseSum } from './rank.ts';

/** The k-th smallest (0-based) of the union of two ascending arrays, O(log n). */
export function kthOfTwoSorted(a: Float64Array, b: Float64Array, k: number): number {
  let lo = Math.max(0, k + 1 - b.length), hi = Math.min(k + 1, a.length);
  // choose i elements from a and k+1-i from b
  while (lo < hi) {
    const i = (lo + hi) >>> 1;
    const j = k + 1 - i;
    if (j > 0 && i < a.length && b[j - 1] > a[i]) lo = i + 1;
    else hi = i;
  }
  const i = lo, j = k + 1 - i;
  const fromA = i > 0 ? a[i - 1] : -Infinity;
  const fromB = j > 0 ? b[j - 1] : -Infinity;
  return Math.max(fromA, fromB);
}

/** numpy.percentile(pooled, q, method='linear') given a k-th order statistic accessor. */
function percentileOfTwo(kth: (k: number) => number, n: number, q: number): number {
  const vi = n * q + (1 + q * (1 - 1 - 1)) - 1;
  const lo = Math.min(Math.max(Math.floor(vi), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const g = vi - Math.floor(vi);
  const a = kth(lo), b = kth(hi);
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi). */
function symEig(A: number[][]): { values: number[]; vectors: number[][] } {
  const n = A.length;
  const a = A.map((r) => r.slice());
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] ** 2;
    if (off < 1e-300) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      if (a[p][q] === 0) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) {
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < n; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: a.map((r, i) => r[i]), vectors: v };
}

/** Epps–Singleton W statistic and p-value (scipy epps_singleton_2samp, t = (0.4, 0.8)). */
export function eppsSingleton(x: PreparedNumeric, y: PreparedNumeric): { statistic: number; pValue: number } {
  const nx = x.n, ny = y.n, n = nx + ny;
  // SciPy's nan-policy wrapper returns NaN (no error) for samples smaller than 5; Evidently reports it as no drift
  if (nx < 5 || ny < 5) return { statistic: Number.NaN, pValue: Number.NaN };
  // pooled quartiles straight from the two sorted samples (no pooled copy)
  const kth = (k: number): number => kthOfTwoSorted(x.sorted, y.sorted, k);
  const iqr = percentileOfTwo(kth, n, 0.75) - percentileOfTwo(kth, n, 0.25);
  if (iqr === 0) throw new StatTestError('zero_iqr', 'Epps-Singleton test: interquartile range (IQR) is zero');
  const sigma = iqr / 2;
  const t1 = 0.4 / sigma, t2 = 0.8 / sigma;
  const moments = (s: Float64Array): { c: number[][]; mu: number[] } => {
    const m = s.length;
    const rows = [new Float64Array(m), new Float64Array(m), new Float64Array(m), new Float64Array(m)];
    const r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3];
    for (let i = 0; i < m; i++) {
      const v = s[i];
      r0[i] = Math.cos(t1 * v); r1[i] = Math.cos(t2 * v); r2[i] = Math.sin(t1 * v); r3[i] = Math.sin(t2 * v);
    }
    const mu = rows.map((r) => pairwiseSum(r) / m);
    for (let k = 0; k < 4; k++) { const r = rows[k], mk = mu[k]; for (let i = 0; i < m; i++) r[i] -= mk; }
    const c = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    for (let a = 0; a < 4; a++) for (let b = a; b < 4; b++) {
      const ra = rows[a], rb = rows[b];
      let acc = 0;
      for (let i = 0; i < m; i++) acc += ra[i] * rb[i];
      c[a][b] = c[b][a] = ((acc / (m - 1)) * (m - 1)) / m;
    }
    return { c, mu };
  };
  const cx = moments(orderedValues(x)), cy = moments(orderedValues(y));
  const est = [0, 1, 2, 3].map((a) => [0, 1, 2, 3].map((b) => (n / nx) * cx.c[a][b] + (n / ny) * cy.c[a][b]));
  const { values, vectors } = symEig(est);
  const smax = Math.max(...values.map(Math.abs));
  const cutoff = 1e-15 * smax;
  const inv = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
  const invVals: number[] = [];
  for (let k = 0; k < 4; k++) {
    if (Math.abs(values[k]) <= cutoff) continue;
    invVals.push(1 / Math.abs(values[k]));
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) inv[a][b] += (vectors[a][k] * vectors[b][k]) / values[k];
  }
  const imax = Math.max(0, ...invVals);
  const r = invVals.filter((s) => s > imax * 4 * Number.EPSILON).length;
  const gd = [0, 1, 2, 3].map((k) => cx.mu[k] - cy.mu[k]);
  let w = 0;
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) w += gd[a] * inv[a][b] * gd[b];
  w *= n;
  if (Math.max(nx, ny) < 25) w *= 1.0 / (1.0 + n ** -0.45 + 10.1 * (nx ** -1.7 + ny ** -1.7));
  return { statistic: w, pValue: chi2Sf(w, r) };
}

/**
 * `es` — Epps–Singleton test on the empirical characteristic function at t = (0.4, 0.8)/σ (σ = IQR/2 of
 * the pooled data); W ~ χ²(rank of the 4×4 covariance). Evidently raises when the pooled IQR is 0
 * (`zero_iqr`). Fewer than 5 values on a side: W = p = NaN (no drift), as SciPy/Evidently.
 * Drift when p < threshold (strict); default 0.05. Ref: Epps & Singleton (1986).
 */
export const eppsSingletonTest = defineStatTest({
  name: 'es',
  displayName: 'Epps-Singleton',
  kinds: ['num'],
  defaultThreshold: 0.05,
  decision: 'p_value',
  inclusive: false,
  inputOrder: true,
  run(reference, current) {
    const res = eppsSingleton(asNumeric(reference), asNumeric(current));
    return { statistic: res.statistic, score: res.pValue };
  },
});

/** Largest n + m for empirical_mmd: it needs the (n+m)² kernel matrix, as Evidently does. */
export const MMD_MAX_TOTAL = 5000;

/**
 * `empirical_mmd` — unbiased squared MMD with an RBF kernel whose σ is the 'nearest' median of the
 * reference's pairwise squared distances (σ = sqrt(median/2), 1 if zero), p-value = share of 100
 * permutations with MMD ≥ observed. Evidently permutes with numpy's *unseeded* global RNG, so its
 * p-value is not reproducible; ours uses numpy's legacy MT19937 seeded with 0 (deterministic).
 * Statistic (MMD) matches Evidently exactly. Drift when p < threshold (strict); default 0.1.
 * O((n+m)²) time and memory: refused above n + m = 5000 (`too_large`).
 * Ref: Gretton et al. (2012), A Kernel Two-Sample Test; Evidently `empirical_mmd`.
 */
export const empiricalMmd = defineStatTest({
  name: 'empirical_mmd',
  displayName: 'empirical_mmd',
  kinds: ['num'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: false,
  inputOrder: true,
  run(reference, current, _kind, opts) {
    const x = orderedValues(asNumeric(reference)), y = orderedValues(asNumeric(current));
    const nx = x.length, ny = y.length, N = nx + ny;
    if (N > MMD_MAX_TOTAL) throw new StatTestError('too_large', `empirical_mmd needs an (n+m)² kernel matrix; n+m = ${N} > ${MMD_MAX_TOTAL}`);
    const sq = (a: number, b: number): number => b * b - 2 * (a * b) + a * a; // numpy: doty.T - 2*dot(x, y.T) + dotx
    const dxx = new Float64Array(nx * nx);
    for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) dxx[i * nx + j] = sq(x[i], x[j]);
    const kth = Math.round(0.5 * (dxx.length - 1)); // 'nearest' median index (round half to even is immaterial: .5 only if length even... handled below)
    const vi = 0.5 * (dxx.length - 1);
    const idx = Math.abs(vi % 1) === 0.5 ? (Math.floor(vi) % 2 === 0 ? Math.floor(vi) : Math.ceil(vi)) : kth;
    const med = Float64Array.from(dxx).sort()[idx];
    let sigma = (0.5 * med) ** 0.5;
    if (sigma === 0) sigma = (0.5 * 1) ** 0.5;
    const gamma = 1.0 / (2.0 * sigma ** 2);
    const z = new Float64Array(N);
    z.set(x); z.set(y, nx);
    const K = new Float64Array(N * N);
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      if (i === j) continue; // diagonal removed (kernel_mat - diag)
      const a = z[i], b = z[j];
      const d = i < nx && j < nx ? sq(a, b) : i >= nx && j >= nx ? sq(a, b) : i < nx ? sq(a, b) : sq(b, a);
      K[i * N + j] = Math.exp(-gamma * d);
    }
    const A = 1 / (nx * (nx - 1)), B = 1 / (ny * (ny - 1));
    const mmdOf = (perm: Int32Array | null): number => {
      let sxx = 0, syy = 0, sxy = 0;
      for (let i = 0; i < N; i++) {
        const pi = perm ? perm[i] : i;
        for (let j = 0; j < N; j++) {
          const v = K[pi * N + (perm ? perm[j] : j)];
          if (i < nx && j < nx) sxx += v; else if (i >= nx && j >= nx) syy += v; else if (i >= nx && j < nx) sxy += v;
        }
      }
      return A * sxx + B * syy - 2.0 * (sxy / (nx * ny));
    };
    const mmd = mmdOf(null);
    const rng = new LegacyRandomState(0);
    const iters = opts.iterations ?? 100;
    let ge = 0;
    for (let it = 0; it < iters; it++) if (mmd <= mmdOf(rng.permutation(N))) ge++;
    return { statistic: mmd, score: ge / iters };
  },
});

function asCategorical(x: SampleInput): { labels: (string | number)[] } {
  const p = x as PreparedCategorical | PreparedNumeric;
  if (p.prepared === 'cat') return { labels: [...p.values] };
  if (p.prepared === 'num') return { labels: Array.from(orderedValues(p)) };
  if (x instanceof Float64Array) return { labels: Array.from(x) };
  return { labels: [...(x as CategoricalSample)] };
}

/**
 * `TVD` — total variation distance ½ Σ |r_i/n_r − c_i/n_c| with Evidently's permutation p-value:
 * `np.random.seed(0)`, 1000 draws of a reference-sized subset without replacement from the pooled
 * labels, p = share of draws whose TVD ≥ observed. Reproduced exactly (numpy's legacy MT19937 and
 * shuffle, and the same floating-point TVD, whose rounding decides mathematically tied draws).
 * Evidently sums the per-category terms in Python set order; we sum in first-seen order — the same
 * rounding on every fixture case, including tied 3-category data; a different order could in principle
 * flip a tie (one draw = 1/iterations of p).
 * Score = p-value; drift when p < threshold (strict); default 0.1. Categorical. Cost: O(iterations · (n + m)).
 * Ref: Evidently `tvd_test`.
 */
export const tvd = defineStatTest({
  name: 'TVD',
  displayName: 'Total-Variation-Distance',
  kinds: ['cat'],
  defaultThreshold: 0.1,
  decision: 'p_value',
  inclusive: false,
  inputOrder: true,
  run(reference, current, _kind, opts) {
    const j = jointCounts(reference, current);
    const nr = j.nRef, nc = j.nCur, N = nr + nc, k = j.keys.length;
    // Evidently's float TVD: 0.5 * Σ |r_i/n_r − c_i/n_c| summed left to right (numpy sums < 8 terms
    // sequentially; longer sums pairwise). Mathematically tied permutations are then ordered by
    // rounding exactly as in Evidently (the parity suite checks this on tied 3-category data).
    const terms = new Float64Array(k);
    const tvdOf = (r: Float64Array, c: Float64Array): number => {
      for (let i = 0; i < k; i++) terms[i] = Math.abs(r[i] / nr - c[i] / nc);
      return 0.5 * pairwiseSum(terms);
    };
    const tv = tvdOf(j.ref, j.cur);
    const index = new Map<string | number, number>();
    j.keys.forEach((key, i) => index.set(key, i));
    const pooled = new Int32Array(N);
    const rl = asCategorical(reference).labels, cl = asCategorical(current).labels;
    for (let i = 0; i < nr; i++) pooled[i] = index.get(rl[i])!;
    for (let i = 0; i < nc; i++) pooled[nr + i] = index.get(cl[i])!;
    const rng = new LegacyRandomState(0);
    const iters = opts.iterations ?? 1000;
    // Shuffling a copy of the pooled labels with numpy's swaps equals indexing them by
    // `permutation(N)`. Once positions N-1 … nr are fixed, the remaining swaps only reorder the
    // reference part, whose label counts are all we need — so those draws advance the RNG unswapped.
    const work = new Int32Array(N);
    const r = new Float64Array(k), c = new Float64Array(k);
    let ge = 0;
    for (let it = 0; it < iters; it++) {
      work.set(pooled);
      for (let i = N - 1; i >= nr && i >= 1; i--) {
        const jj = rng.interval(i);
        const t = work[i]; work[i] = work[jj]; work[jj] = t;
      }
      for (let i = Math.min(nr, N) - 1; i >= 1; i--) rng.interval(i);
      c.fill(0);
      for (let i = nr; i < N; i++) c[work[i]]++;
      for (let q = 0; q < k; q++) r[q] = j.ref[q] + j.cur[q] - c[q];
      if (tv <= tvdOf(r, c)) ge++;
    }
    return { statistic: tv, score: ge / iters };
  },
});
