/** Distances between binned distributions: psi, kl_div, jensenshannon, hellinger. */
import { pairwiseSum } from './rank.ts';
import { binnedPercents, histogramOf, quantileBinnedPercents, sturgesEdges } from '../binning.ts';
import type { BinnedPercents } from '../binning.ts';
import { defineStatTest } from '../define.ts';
import { asNumeric, jointCounts, prepareCategorical } from '../sample.ts';
import type { FeatureKind, PreparedCategorical, PreparedNumeric, SampleInput, StatTestOptions } from '../types.ts';

function prepared(x: SampleInput): PreparedNumeric | PreparedCategorical {
  if ((x as PreparedNumeric).prepared !== undefined) return x as PreparedNumeric | PreparedCategorical;
  if (x instanceof Float64Array) return asNumeric(x);
  return prepareCategorical(x as readonly string[]);
}

function integerDtype(r: PreparedNumeric | PreparedCategorical, c: PreparedNumeric | PreparedCategorical, opts: StatTestOptions): boolean {
  if (opts.integerDtype !== undefined) return opts.integerDtype;
  return r.prepared === 'num' && c.prepared === 'num' && r.integerDtype && c.integerDtype;
}

/** Evidently's `get_binned_data`, or quantile bins when `compat: false` and `nBins` is given. */
function binned(reference: SampleInput, current: SampleInput, kind: FeatureKind, opts: StatTestOptions, fill: boolean): BinnedPercents {
  const r = prepared(reference), c = prepared(current);
  if (opts.compat === false && opts.nBins !== undefined && kind === 'num' && r.prepared === 'num' && c.prepared === 'num' && r.uniqueValues.length > 20) {
    return quantileBinnedPercents(r, c, opts.nBins, fill);
  }
  return binnedPercents(r, c, kind === 'num', fill, integerDtype(r, c, opts));
}

/**
 * x·ln(x/y) with scipy rel_entr conventions. Like SciPy ≥ 1.15, log1p((x − y)/y) when x/y is near 1:
 * there Jensen–Shannon cancels down to ~1e-10, and log(x/y) would cost it 1e-7 of relative accuracy.
 */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) {
    const ratio = x / y;
    return ratio > 0.5 && ratio < 2 ? x * Math.log1p((x - y) / y) : x * Math.log(ratio);
  }
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/**
 * `psi` — Population Stability Index on Evidently's bins (see `binnedPercents`; empty bins filled):
 * PSI = Σ (r_i − c_i) ln(r_i / c_i). Drift when PSI ≥ threshold (inclusive); default 0.1.
 * Evidently ignores `n_bins` (Sturges bins over pooled data for numerical columns with > 20 distinct
 * reference values); `compat: false` + `nBins` uses reference-quantile bins instead.
 * Ref: Yurdakul (2018), PSI; Evidently `psi_stat_test`.
 */
export const psi = defineStatTest({
  name: 'psi',
  displayName: 'PSI',
  kinds: ['cat', 'num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: true,
  run(reference, current, kind, opts) {
    const b = binned(reference, current, kind, opts, true);
    let s = 0;
    for (let i = 0; i < b.reference.length; i++) s += (b.reference[i] - b.current[i]) * Math.log(b.reference[i] / b.current[i]);
    return { statistic: s, score: s };
  },
});

/**
 * `kl_div` — Kullback–Leibler divergence KL(ref ‖ cur) = Σ r_i ln(r_i / c_i) (scipy.stats.entropy,
 * both vectors renormalised) on Evidently's bins with empty bins filled. Drift when ≥ threshold
 * (inclusive); default 0.1. Same binning caveat as `psi`.
 * Ref: Kullback & Leibler (1951); scipy.stats.entropy; Evidently `kl_div_stat_test`.
 */
export const klDiv = defineStatTest({
  name: 'kl_div',
  displayName: 'Kullback-Leibler divergence',
  kinds: ['cat', 'num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: true,
  run(reference, current, kind, opts) {
    const b = binned(reference, current, kind, opts, true);
    const sr = sum(b.reference), sc = sum(b.current);
    let s = 0;
    for (let i = 0; i < b.reference.length; i++) s += relEntr(b.reference[i] / sr, b.current[i] / sc);
    return { statistic: s, score: s };
  },
});

/**
 * `jensenshannon` — Jensen–Shannon *distance* sqrt(JSD) with natural logarithm (scipy
 * spatial.distance.jensenshannon, base=None) on Evidently's bins WITHOUT empty-bin filling; ranges
 * over [0, sqrt(ln 2) ≈ 0.833]. Drift when ≥ threshold (inclusive); default 0.1.
 * `compat: false`: base-2 logarithm (range [0, 1]) and, with `nBins`, reference-quantile bins.
 * Ref: Lin (1991); scipy.spatial.distance.jensenshannon; Evidently `jensenshannon_stat_test`.
 */
export const jensenshannon = defineStatTest({
  name: 'jensenshannon',
  displayName: 'Jensen-Shannon distance',
  kinds: ['cat', 'num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: true,
  run(reference, current, kind, opts) {
    const b = binned(reference, current, kind, opts, false);
    // SciPy sums with np.sum (pairwise): near 0 the square root magnifies any other rounding.
    const sp = pairwiseSum(b.reference), sq = pairwiseSum(b.current);
    const left = new Float64Array(b.reference.length), right = new Float64Array(b.reference.length);
    for (let i = 0; i < b.reference.length; i++) {
      const p = b.reference[i] / sp, q = b.current[i] / sq;
      const m = (p + q) / 2.0;
      left[i] = relEntr(p, m);
      right[i] = relEntr(q, m);
    }
    let js = pairwiseSum(left) + pairwiseSum(right);
    if (opts.compat === false) js /= Math.LN2;
    const d = Math.sqrt(js / 2.0);
    return { statistic: d, score: d };
  },
});

/**
 * `hellinger` — Hellinger distance H = sqrt(1 − Σ sqrt(p_i q_i)) (Bhattacharyya coefficient clipped to
 * [0, 1]). Categorical: per-category frequencies. Numerical: Evidently bins by Sturges rule computed
 * over the *distinct values* of the pooled data (not the data), uses density histograms and multiplies
 * by the mean bin width. Drift when ≥ threshold (inclusive); default 0.1.
 * Ref: Hellinger (1909); Evidently `hellinger_stat_test`.
 */
export const hellinger = defineStatTest({
  name: 'hellinger',
  displayName: 'Hellinger distance',
  kinds: ['cat', 'num'],
  defaultThreshold: 0.1,
  decision: 'distance',
  inclusive: true,
  run(reference, current, kind, opts) {
    let bc = 0;
    if (kind === 'cat') {
      const j = jointCounts(reference, current);
      for (let i = 0; i < j.keys.length; i++) bc += Math.sqrt((j.ref[i] / j.nRef) * (j.cur[i] / j.nCur));
    } else {
      const r = asNumeric(reference), c = asNumeric(current);
      // keys = distinct values of the union
      let nk = 0;
      let i = 0, jj = 0;
      const ru = r.uniqueValues, cu = c.uniqueValues;
      while (i < ru.length || jj < cu.length) {
        if (jj >= cu.length || (i < ru.length && ru[i] < cu[jj])) i++;
        else if (i >= ru.length || cu[jj] < ru[i]) jj++;
        else { i++; jj++; }
        nk++;
      }
      const min = Math.min(ru[0], cu[0]), max = Math.max(ru[ru.length - 1], cu[cu.length - 1]);
      const edges = sturgesEdges(nk, min, max, opts.integerDtype ?? (r.integerDtype && c.integerDtype));
      const h1 = histogramOf(r, edges), h2 = histogramOf(c, edges);
      const s1 = sum(h1), s2 = sum(h2);
      const nb = edges.length - 1;
      const binWidth = (edges[nb] - edges[0]) / nb;
      for (let b = 0; b < nb; b++) {
        const db = edges[b + 1] - edges[b];
        const p1 = h1[b] / db / s1, p2 = h2[b] / db / s2;
        bc += Math.sqrt(p1 * p2) * binWidth;
      }
    }
    bc = Math.min(Math.max(bc, 0), 1);
    const h = Math.sqrt(1 - bc);
    return { statistic: h, score: h };
  },
});
