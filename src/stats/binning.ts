/**
 * Evidently's binning for psi / kl_div / jensenshannon (`get_binned_data`) and hellinger, built on
 * numpy's `histogram_bin_edges(..., bins='sturges')` + `histogram` semantics, reproduced exactly:
 *  - width = ptp / (log2(size) + 1); nBins = ceil(ptp / width) (1 if width is 0); for integer dtypes
 *    a width below 1 becomes 1;
 *  - edges = linspace(min, max, nBins + 1) (min - 0.5 / max + 0.5 when min == max), last edge = max;
 *  - bin i holds edges[i] ≤ x < edges[i+1]; the last bin also holds x == max.
 */
import type { PreparedCategorical, PreparedNumeric } from './types.ts';
import { jointCounts, searchSorted } from './sample.ts';

/** numpy.histogram_bin_edges(a, 'sturges') for data with the given size, min and max. */
export function sturgesEdges(size: number, min: number, max: number, integerDtype: boolean): Float64Array {
  const ptp = max - min;
  let first = min;
  let last = max;
  if (first === last) { first -= 0.5; last += 0.5; }
  let width = ptp / (Math.log2(size) + 1.0);
  let nb: number;
  if (width) {
    if (integerDtype && width < 1) width = 1;
    nb = Math.ceil(ptp / width);
  } else nb = 1;
  return linspace(first, last, nb + 1);
}

/** numpy.linspace(start, stop, num) with endpoint=True, same floating-point operations. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) y[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  if (num > 1) y[num - 1] = stop;
  return y;
}

/**
 * numpy.histogram(sample, bins=edges)[0] of a profiled sample, from its distinct values and their
 * counts (binary search per edge): O(bins · log distinct + distinct), no sorted array needed.
 */
export function histogramOf(p: PreparedNumeric, edges: Float64Array): Float64Array {
  const u = p.uniqueValues;
  const nb = edges.length - 1;
  const out = new Float64Array(nb);
  let at = searchSorted(u, edges[0], 'left');
  for (let i = 0; i < nb; i++) {
    const next = i === nb - 1 ? searchSorted(u, edges[nb], 'right') : searchSorted(u, edges[i + 1], 'left');
    let count = 0;
    for (; at < next; at++) count += p.uniqueCounts[at];
    out[i] = count;
  }
  return out;
}

/** Evidently's empty-bin fill (`feel_zeroes`): zeros become min(nonzero)/1e6 if that min ≤ 1e-4, else 1e-4. */
export function fillZeroes(p: Float64Array): void {
  let min = Infinity;
  for (const v of p) if (v !== 0 && v < min) min = v;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) p[i] = fill;
}

export interface BinnedPercents {
  reference: Float64Array;
  current: Float64Array;
  /** Histogram edges when the numerical branch was used, null for per-value bins. */
  edges: Float64Array | null;
}

/**
 * Evidently `get_binned_data(reference, current, feature_type, n, feel_zeroes)`:
 * numerical columns whose reference has > 20 distinct values → Sturges bins over the pooled data
 * (the `n` argument is ignored); otherwise one bin per distinct value of the union. Percent = count / size.
 */
export function binnedPercents(
  reference: PreparedNumeric | PreparedCategorical,
  current: PreparedNumeric | PreparedCategorical,
  numerical: boolean,
  fill: boolean,
  integerDtype: boolean,
): BinnedPercents {
  let rp: Float64Array;
  let cp: Float64Array;
  let edges: Float64Array | null = null;
  if (numerical && reference.prepared === 'num' && current.prepared === 'num' && reference.uniqueValues.length > 20) {
    const ru = reference.uniqueValues;
    const cu = current.uniqueValues;
    const min = Math.min(ru[0], cu[0]);
    const max = Math.max(ru[ru.length - 1], cu[cu.length - 1]);
    edges = sturgesEdges(reference.n + current.n, min, max, integerDtype);
    rp = histogramOf(reference, edges);
    cp = histogramOf(current, edges);
  } else {
    const j = jointCounts(reference, current);
    rp = j.ref;
    cp = j.cur;
  }
  for (let i = 0; i < rp.length; i++) { rp[i] /= reference.n; cp[i] /= current.n; }
  if (fill) { fillZeroes(rp); fillZeroes(cp); }
  return { reference: rp, current: cp, edges };
}

/**
 * Corrected binning (`compat: false`): `nBins` equal-frequency bins from reference quantiles
 * (what Evidently's docstring promises), with open-ended outer bins so current values outside the
 * reference range are counted, and the same empty-bin fill. Categorical / few-valued columns keep per-value bins.
 */
export function quantileBinnedPercents(reference: PreparedNumeric, current: PreparedNumeric, nBins: number, fill: boolean): BinnedPercents {
  const inner: number[] = [];
  for (let i = 1; i < nBins; i++) {
    const pos = (i / nBins) * (reference.n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, reference.n - 1);
    const q = reference.sorted[lo] + (reference.sorted[hi] - reference.sorted[lo]) * (pos - lo);
    if (inner.length === 0 || q > inner[inner.length - 1]) inner.push(q);
  }
  const cuts = Float64Array.from(inner);
  const count = (s: Float64Array): Float64Array => {
    const out = new Float64Array(cuts.length + 1);
    let prev = 0;
    for (let i = 0; i < cuts.length; i++) { const nx = searchSorted(s, cuts[i], 'left'); out[i] = nx - prev; prev = nx; }
    out[cuts.length] = s.length - prev;
    return out;
  };
  const rp = count(reference.sorted);
  const cp = count(current.sorted);
  for (let i = 0; i < rp.length; i++) { rp[i] /= reference.n; cp[i] /= current.n; }
  if (fill) { fillZeroes(rp); fillZeroes(cp); }
  return { reference: rp, current: cp, edges: Float64Array.from([-Infinity, ...inner, Infinity]) };
}
