/**
 * Confidence-based performance estimation (CBPE), as NannyML 0.13.1 computes it
 * (`nannyml.performance_estimation.confidence_based`), for binary and multiclass classifiers.
 * Pure functions; parity with NannyML chunk by chunk in test/stats/cbpe.test.ts.
 *
 * Idea: if the predicted probabilities are calibrated, the expected confusion matrix of a chunk
 * follows from them without labels. E.g. binary, p̂ᵢ = calibrated P(y=1):
 *   E[TP] = Σ_{ŷᵢ=1} p̂ᵢ, E[FP] = Σ_{ŷᵢ=1} (1−p̂ᵢ), E[FN] = Σ_{ŷᵢ=0} p̂ᵢ, E[TN] = Σ_{ŷᵢ=0} (1−p̂ᵢ).
 * Calibration: isotonic regression fitted on the labelled reference, per class, only where
 * NannyML's `needs_calibration` says it lowers the expected calibration error.
 * Alert band: mean ± 3·σ (population σ) of the realized metric over the reference chunks, clipped
 * to [0, 1]; an estimate outside it alerts (decision: value < lower or value > upper).
 *
 * Where exact parity is impossible (see docs/quality.md): NannyML sorts with numpy's unstable
 * argsort; among tied probabilities its order is unspecified, which moves (a) the expected
 * calibration error inside `needs_calibration` (only the boolean decision is used) and (b) the ROC
 * AUC sampling-error components. This module sorts stably (ties in input order).
 */

import { rocAucBinary } from './classification.ts';
import { roundHalfEven } from './define.ts';
import { LegacyRandomState } from './random.ts';

export const CBPE_METRICS = ['roc_auc', 'f1', 'accuracy'] as const;
export type CbpeMetric = (typeof CBPE_METRICS)[number];

/** Standard deviation with ddof 0 (numpy `np.std`), two-pass. */
export function populationStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i] - mean) ** 2;
  return Math.sqrt(v / n);
}

function stableArgsort(xs: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(xs.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  // TypedArray sort is not guaranteed stable for a comparator: break ties by index.
  return idx.sort((a, b) => xs[a] - xs[b] || a - b);
}

// ---------------------------------------------------------------------------------------------
// Isotonic calibration: sklearn IsotonicRegression(out_of_bounds='clip', increasing=True)

/** A fitted isotonic map: knots (x ascending, y non-decreasing), evaluated by linear interpolation. */
export interface IsotonicModel {
  x: Float64Array;
  y: Float64Array;
}

/**
 * Fits y ≈ f(x), f non-decreasing, minimising Σ (yᵢ − f(xᵢ))²: sort by (x, y), merge x values closer
 * than 1e-15 (sklearn `_make_unique`, y averaged), pool adjacent violators (PAVA).
 */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>): IsotonicModel {
  const n = x.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  const eps = 1e-15; // np.finfo(float64).resolution
  let cx = x[order[0]];
  let cw = 1;
  let cy = y[order[0]];
  for (let j = 1; j < n; j++) {
    const xj = x[order[j]];
    if (xj - cx >= eps) {
      ux.push(cx);
      uw.push(cw);
      uy.push(cy / cw);
      cx = xj;
      cw = 1;
      cy = y[order[j]];
    } else {
      cw += 1;
      cy += y[order[j]];
    }
  }
  ux.push(cx);
  uw.push(cw);
  uy.push(cy / cw);
  // PAVA over blocks of (weighted sum, weight).
  const m = ux.length;
  const bSum: number[] = [];
  const bW: number[] = [];
  const bLen: number[] = [];
  for (let i = 0; i < m; i++) {
    bSum.push(uy[i] * uw[i]);
    bW.push(uw[i]);
    bLen.push(1);
    while (bSum.length > 1 && bSum[bSum.length - 2] / bW[bW.length - 2] >= bSum[bSum.length - 1] / bW[bW.length - 1]) {
      const s = bSum.pop()!;
      const w = bW.pop()!;
      const l = bLen.pop()!;
      bSum[bSum.length - 1] += s;
      bW[bW.length - 1] += w;
      bLen[bLen.length - 1] += l;
    }
  }
  const fy = new Float64Array(m);
  let k = 0;
  for (let b = 0; b < bSum.length; b++) {
    const v = bSum[b] / bW[b];
    for (let l = 0; l < bLen[b]; l++) fy[k++] = v;
  }
  return { x: Float64Array.from(ux), y: fy };
}

/** f(x) with x clipped to the fitted range; linear between knots (scipy interp1d's formula). */
export function predictIsotonic(model: IsotonicModel, x: ArrayLike<number>): Float64Array {
  const { x: kx, y: ky } = model;
  const m = kx.length;
  const out = new Float64Array(x.length);
  if (m === 1) return out.fill(ky[0]);
  const lo = kx[0];
  const hi = kx[m - 1];
  for (let i = 0; i < x.length; i++) {
    const t = Math.min(Math.max(x[i], lo), hi);
    // searchsorted(kx, t, 'left'), clipped to [1, m−1]
    let a = 0;
    let b = m;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (kx[mid] < t) a = mid + 1;
      else b = mid;
    }
    const h = Math.min(Math.max(a, 1), m - 1);
    const slope = (ky[h] - ky[h - 1]) / (kx[h] - kx[h - 1]);
    out[i] = slope * (t - kx[h - 1]) + ky[h - 1];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// needs_calibration (nannyml.calibration)

/** Index bins for the expected calibration error (NannyML `_get_bin_index_edges`). */
function binEdges(length: number, binCount: number): number[] {
  let bins = binCount;
  if (length <= 2 * bins) {
    bins = Math.floor(length / 2);
    if (bins < 2) throw new RangeError(`cannot split ${length} values into at least 2 calibration bins`);
  }
  const width = Math.floor(length / bins);
  const edges: number[] = [];
  for (let e = 0; e <= length; e += width) edges.push(e);
  edges[edges.length - 1] = length;
  return edges;
}

/** Expected calibration error over equal-count bins of the sorted probabilities: Σ_b (n_b/n)·|mean p − mean y|. */
export function expectedCalibrationError(yTrue: ArrayLike<number>, proba: ArrayLike<number>, binCount = 10): number {
  const order = stableArgsort(proba);
  const edges = binEdges(proba.length, binCount);
  let ece = 0;
  for (let b = 0; b + 1 < edges.length; b++) {
    let sp = 0;
    let sy = 0;
    for (let i = edges[b]; i < edges[b + 1]; i++) {
      sp += proba[order[i]];
      sy += yTrue[order[i]];
    }
    const len = edges[b + 1] - edges[b];
    ece += (len / proba.length) * Math.abs(sp / len - sy / len);
  }
  return ece;
}

/** sklearn `_approximate_mode`: per-class draw counts, remainders assigned at random (numpy legacy RNG). */
function approximateMode(classCounts: number[], nDraws: number, rng: LegacyRandomState): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  const continuous = classCounts.map((c) => (c / total) * nDraws);
  const floored = continuous.map(Math.floor);
  let need = nDraws - floored.reduce((a, b) => a + b, 0);
  if (need > 0) {
    const remainder = continuous.map((c, i) => c - floored[i]);
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds = remainder.flatMap((r, i) => (r === value ? [i] : []));
      const addNow = Math.min(inds.length, need);
      // RandomState.choice(inds, addNow, replace=False) = inds[permutation(len)[:addNow]]
      const perm = rng.permutation(inds.length);
      for (let k = 0; k < addNow; k++) floored[inds[perm[k]]] += 1;
      need -= addNow;
      if (need === 0) break;
    }
  }
  return floored;
}

/** sklearn StratifiedShuffleSplit(n_splits, test_size, random_state).split(X, y): [train, test] index arrays. */
export function stratifiedShuffleSplit(y: ArrayLike<number>, nSplits: number, testSize: number, seed: number): [Int32Array, Int32Array][] {
  const n = y.length;
  const nTest = Math.ceil(testSize * n);
  const nTrain = n - nTest;
  const classes = [...new Set(Array.from(y))].sort((a, b) => a - b);
  const classIndices = classes.map((c) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (y[i] === c) out.push(i);
    return out;
  });
  const counts = classIndices.map((c) => c.length);
  const rng = new LegacyRandomState(seed);
  const splits: [Int32Array, Int32Array][] = [];
  for (let s = 0; s < nSplits; s++) {
    const nI = approximateMode(counts, nTrain, rng);
    const tI = approximateMode(
      counts.map((c, i) => c - nI[i]),
      nTest,
      rng,
    );
    const train: number[] = [];
    const test: number[] = [];
    for (let c = 0; c < classes.length; c++) {
      const perm = rng.permutation(counts[c]);
      for (let k = 0; k < nI[c]; k++) train.push(classIndices[c][perm[k]]);
      for (let k = nI[c]; k < nI[c] + tI[c]; k++) test.push(classIndices[c][perm[k]]);
    }
    const tr = Int32Array.from(train);
    const te = Int32Array.from(test);
    rng.shuffle(tr);
    rng.shuffle(te);
    splits.push([tr, te]);
  }
  return splits;
}

/**
 * NannyML `needs_calibration(y_true, y_pred_proba, IsotonicCalibrator())`: false for a single class
 * or ROC AUC > 0.999; else isotonic calibration is fitted on 10 stratified 90/10 splits (seed 42)
 * and kept when the pooled test ECE (10 bins) is lower after calibration than before.
 */
export function needsCalibration(yTrue: ArrayLike<number>, proba: ArrayLike<number>): boolean {
  let ones = 0;
  for (let i = 0; i < yTrue.length; i++) ones += yTrue[i];
  if (ones === 0 || ones === yTrue.length) return false;
  if (rocAucBinary(yTrue as ArrayLike<number>, proba) > 0.999) return false;
  const yt: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  for (const [train, test] of stratifiedShuffleSplit(yTrue, 10, 0.1, 42)) {
    const model = fitIsotonic(
      Array.from(train, (i) => proba[i]),
      Array.from(train, (i) => yTrue[i]),
    );
    const testP = Array.from(test, (i) => proba[i]);
    const cal = predictIsotonic(model, testP);
    for (let j = 0; j < test.length; j++) {
      yt.push(yTrue[test[j]]);
      before.push(testP[j]);
      after.push(cal[j]);
    }
  }
  return expectedCalibrationError(yt, before) > expectedCalibrationError(yt, after);
}

// ---------------------------------------------------------------------------------------------
// Estimators (NannyML `estimate_*`)

/**
 * ROC AUC from probabilities alone: rows sorted by the uncalibrated score (descending), expected
 * TP/FP counts are the cumulative sums of p̂ and 1 − p̂, both rounded to 5 decimals (as NannyML
 * does), normalised to rates; the area under that curve by the trapezoid rule.
 */
export function estimateRocAuc(calibrated: ArrayLike<number>, uncalibrated: ArrayLike<number>): number {
  const n = calibrated.length;
  // Descending by uncalibrated score; rows tied in it have equal calibrated values, so tie order does not matter.
  const order = stableArgsort(uncalibrated).reverse();
  const tps = new Float64Array(n + 1);
  const fps = new Float64Array(n + 1);
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += calibrated[order[i]];
    tps[i + 1] = cum;
    fps[i + 1] = 1 + i - cum;
  }
  const round5 = (v: number) => roundHalfEven(v * 1e5) / 1e5;
  for (let i = 0; i <= n; i++) {
    tps[i] = round5(tps[i]);
    fps[i] = round5(fps[i]);
  }
  const tMax = tps[n];
  const fMax = fps[n];
  let area = 0;
  for (let i = 0; i < n; i++) area += ((fps[i + 1] / fMax - fps[i] / fMax) * (tps[i + 1] / tMax + tps[i] / tMax)) / 2;
  return area;
}

/** F1 from expected counts: TP / (TP + ½(FP + FN)), TP = Σ_{ŷ=1} p̂, FP = Σ_{ŷ=1} (1−p̂), FN = Σ_{ŷ=0} p̂; 0 when the denominator is 0. */
export function estimateF1(isPredicted: ArrayLike<number>, calibrated: ArrayLike<number>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < calibrated.length; i++) {
    if (isPredicted[i] === 1) {
      tp += calibrated[i];
      fp += 1 - calibrated[i];
    } else fn += calibrated[i];
  }
  const d = tp + 0.5 * (fp + fn);
  return d !== 0 ? tp / d : 0;
}

// ---------------------------------------------------------------------------------------------
// Fitting on the reference and estimating chunks

export interface CbpeData {
  /** Class count K (2 = binary: class 1 is the positive class). */
  k: number;
  /** Row-major n×K probabilities in class order. */
  proba: Float64Array;
  /** Predicted class index per row. */
  yPred: Int32Array;
  /** True class index per row, when known. */
  yTrue?: Int32Array | null;
}

export interface MetricBand {
  lower: number | null;
  upper: number | null;
}

export interface CbpeModel {
  k: number;
  /** The size chunker's size; 0 when the reference chunks were given as ranges. */
  chunkSize: number;
  /** Per class (binary: one, for class 1): the isotonic map, or null when calibration was not needed. */
  calibrators: (IsotonicModel | null)[];
  thresholds: Record<CbpeMetric, MetricBand>;
  /** Sampling-error components from the reference (NannyML `*_sampling_error_components`). */
  components: { accuracy: number; f1: [number, number][]; rocAuc: [number, number][] };
  referenceChunks: number;
}

export interface ChunkEstimate {
  value: number;
  sampling_error: number;
  lower_confidence_boundary: number;
  upper_confidence_boundary: number;
  lower_threshold: number | null;
  upper_threshold: number | null;
  alert: boolean;
  /** The realized metric when the chunk has labels, else null (NaN where NannyML returns NaN). */
  realized: number | null;
}

/** NannyML SizeBasedChunker(chunk_size, incomplete='keep'): [start, end) of each chunk; a short last chunk is kept. */
export function chunkRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s + size <= n; s += size) out.push([s, s + size]);
  if (n % size !== 0) out.push([n - (n % size), n]);
  return out;
}

function column(proba: Float64Array, k: number, c: number, from = 0, to = proba.length / k): Float64Array {
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = proba[i * k + c];
  return out;
}

function sliceData(d: CbpeData, from: number, to: number): CbpeData {
  return { k: d.k, proba: d.proba.subarray(from * d.k, to * d.k), yPred: d.yPred.subarray(from, to), yTrue: d.yTrue?.subarray(from, to) ?? null };
}

function nunique(xs: ArrayLike<number>): number {
  return new Set(Array.from(xs)).size;
}

/** Realized metric as NannyML's CBPE computes it for thresholds (sklearn scores; NaN where NannyML gives NaN). */
export function realizedMetric(metric: CbpeMetric, d: CbpeData): number {
  const yTrue = d.yTrue!;
  const n = yTrue.length;
  const k = d.k;
  if (metric === 'accuracy') {
    let c = 0;
    for (let i = 0; i < n; i++) if (yTrue[i] === d.yPred[i]) c++;
    return c / n;
  }
  if (metric === 'roc_auc') {
    if (k === 2) return nunique(yTrue) <= 1 ? NaN : rocAucBinary(Array.from(yTrue, (y) => (y === 1 ? 1 : 0)), column(d.proba, 2, 1));
    if (nunique(yTrue) !== k) return NaN;
    let s = 0;
    for (let c = 0; c < k; c++) s += rocAucBinary(Array.from(yTrue, (y) => (y === c ? 1 : 0)), column(d.proba, k, c));
    return s / k;
  }
  // f1: binary = F1 of class 1, multiclass = macro; NaN when y_true or y_pred has one value only.
  if (nunique(yTrue) <= 1 || nunique(d.yPred) <= 1) return NaN;
  const f1Of = (c: number) => {
    let tp = 0;
    let pred = 0;
    let act = 0;
    for (let i = 0; i < n; i++) {
      if (d.yPred[i] === c) pred++;
      if (yTrue[i] === c) act++;
      if (d.yPred[i] === c && yTrue[i] === c) tp++;
    }
    return pred + act === 0 ? 0 : (2 * tp) / (pred + act);
  };
  if (k === 2) return f1Of(1);
  let s = 0;
  for (let c = 0; c < k; c++) s += f1Of(c);
  return s / k;
}

/** NannyML auroc_sampling_error_components for one class: (σ or variance of the positives' rank offsets, positive fraction). */
function aurocComponents(isPos: ArrayLike<number>, proba: ArrayLike<number>, variance: boolean): [number, number] {
  let y = Array.from(isPos);
  let p = Array.from(proba);
  if (y.reduce((a, b) => a + b, 0) / y.length > 0.5) {
    y = y.map((v) => Math.abs(v - 1));
    p = p.map((v) => 1 - v);
  }
  const order = stableArgsort(p);
  const ser: number[] = [];
  let i = 0;
  let nPos = 0;
  for (let r = 0; r < order.length; r++) {
    if (y[order[r]] !== 1) continue;
    nPos++;
    if (r === 0) continue; // rank 0 is dropped with the zeros by np.unique(...)[1:]
    ser.push(r - i++);
  }
  const nNeg = y.length - nPos;
  const scaled = ser.map((s) => s / nNeg);
  const sd = populationStd(scaled);
  return [variance ? sd * sd : sd, nPos / y.length];
}

function f1Components(isTrue: ArrayLike<number>, isPred: ArrayLike<number>, binary: boolean): [number, number] {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < isTrue.length; i++) {
    if (isPred[i] === 1 && isTrue[i] === 1) tp++;
    else if (isPred[i] === 1) fp++;
    else if (isTrue[i] === 1) fn++;
  }
  const m = tp + fp + fn;
  if (m === 0) return [NaN, 0];
  const obs = new Float64Array(m);
  const factor = binary ? m / ((fn + fp) * 0.5 + tp) : 1; // the binary estimator rescales to mean F1
  for (let i = 0; i < tp; i++) obs[i] = factor;
  const sd = populationStd(obs);
  return [binary ? sd : sd * sd, m / isTrue.length];
}

/** Per-class probabilities after calibration; multiclass rows rescaled to sum to 1 (uniform when all are 0). */
export function calibrate(model: Pick<CbpeModel, 'k' | 'calibrators'>, proba: Float64Array): Float64Array {
  const k = model.k;
  const n = proba.length / k;
  const out = new Float64Array(proba.length);
  if (k === 2) {
    const p1 = column(proba, 2, 1);
    const cal = model.calibrators[0] === null ? p1 : predictIsotonic(model.calibrators[0], p1);
    for (let i = 0; i < n; i++) {
      out[2 * i + 1] = cal[i];
      out[2 * i] = 1 - cal[i];
    }
    return out;
  }
  for (let c = 0; c < k; c++) {
    const col = column(proba, k, c);
    const cal = model.calibrators[c] === null ? col : predictIsotonic(model.calibrators[c]!, col);
    for (let i = 0; i < n; i++) out[i * k + c] = cal[i];
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += out[i * k + c];
    for (let c = 0; c < k; c++) out[i * k + c] = s !== 0 ? out[i * k + c] / s : 1 / k;
  }
  return out;
}

/**
 * What CBPE learns from the labelled reference alone, whatever the window: the calibrators and the
 * sampling-error components. It depends on the reference's rows and their order (the calibration
 * check's stratified splits and the components' tie order follow it), and it is most of a fit's
 * cost (the calibration check fits ten isotonic maps), so a run can take it from a cache.
 */
export type CbpeReferenceFit = Pick<CbpeModel, 'k' | 'calibrators' | 'components'>;

/**
 * Fits CBPE on a labelled reference: calibrators, sampling-error components, alert bands from
 * reference chunks: NannyML's size chunks of `chunks` rows, or the given [start, end) ranges (its
 * count and period chunkers). `fit`: `fitCbpeReference(ref)` made earlier (a cache), else made here.
 */
export function fitCbpe(ref: CbpeData, chunks: number | readonly [number, number][], fit: CbpeReferenceFit = fitCbpeReference(ref)): CbpeModel {
  const n = ref.yTrue!.length;
  const chunkSize = typeof chunks === 'number' ? chunks : 0;
  const ranges = typeof chunks === 'number' ? chunkRanges(n, chunks) : chunks;
  const thresholds = {} as Record<CbpeMetric, MetricBand>;
  for (const m of CBPE_METRICS) {
    const vals = ranges.map(([a, b]) => realizedMetric(m, sliceData(ref, a, b))).filter((v) => !Number.isNaN(v));
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const sd = populationStd(vals);
    let lower: number | null = mean - 3 * sd;
    let upper: number | null = mean + 3 * sd;
    if (lower <= 0) lower = 0;
    if (upper >= 1) upper = 1;
    thresholds[m] = { lower, upper };
  }
  return { k: fit.k, chunkSize, calibrators: fit.calibrators, thresholds, components: fit.components, referenceChunks: ranges.length };
}

/** The window-independent part of `fitCbpe` (see `CbpeReferenceFit`). */
export function fitCbpeReference(ref: CbpeData): CbpeReferenceFit {
  const { k } = ref;
  const yTrue = ref.yTrue!;
  const n = yTrue.length;
  const correct = new Float64Array(n);
  for (let i = 0; i < n; i++) correct[i] = yTrue[i] === ref.yPred[i] ? 1 : 0;
  const classesOf = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const bin = (xs: ArrayLike<number>, c: number) => Int32Array.from(xs as ArrayLike<number>, (v) => (v === c ? 1 : 0));
  const components = {
    accuracy: populationStd(correct),
    f1: classesOf.map((c) => f1Components(bin(yTrue, c), bin(ref.yPred, c), k === 2)),
    rocAuc: classesOf.map((c) => aurocComponents(bin(yTrue, c), column(ref.proba, k, c), k !== 2)),
  };
  const calibrators = classesOf.map((c) => {
    const y = bin(yTrue, c);
    const p = column(ref.proba, k, c);
    return needsCalibration(y, p) ? fitIsotonic(p, y) : null;
  });
  return { k, calibrators, components };
}

/** CBPE estimates of one chunk (its rows' probabilities and predictions; labels optional for `realized`). */
export function estimateChunk(model: CbpeModel, d: CbpeData): Record<CbpeMetric, ChunkEstimate> {
  const { k } = model;
  const n = d.yPred.length;
  const cal = calibrate(model, d.proba);
  const classesOf = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const isPred = (c: number) => Int32Array.from(d.yPred, (v) => (v === c ? 1 : 0));
  const values: Record<CbpeMetric, number> = {
    roc_auc: classesOf.reduce((s, c) => s + estimateRocAuc(column(cal, k, c), column(d.proba, k, c)), 0) / classesOf.length,
    f1: classesOf.reduce((s, c) => s + estimateF1(isPred(c), column(cal, k, c)), 0) / classesOf.length,
    accuracy: 0,
  };
  let acc = 0;
  for (let i = 0; i < n; i++) acc += cal[i * k + d.yPred[i]];
  values.accuracy = acc / n;
  const se: Record<CbpeMetric, number> =
    k === 2
      ? {
          accuracy: model.components.accuracy / Math.sqrt(n),
          f1: model.components.f1[0][0] / Math.sqrt(n * model.components.f1[0][1]),
          roc_auc: model.components.rocAuc[0][0] / Math.sqrt(n * model.components.rocAuc[0][1]),
        }
      : {
          accuracy: model.components.accuracy / Math.sqrt(n),
          f1: Math.sqrt(model.components.f1.reduce((s, [v, f]) => s + v / (n * f), 0)) / k,
          roc_auc: (Math.sqrt(model.components.rocAuc.reduce((s, [v, f]) => s + v / (n * f), 0)) / k) * 1.2,
        };
  const out = {} as Record<CbpeMetric, ChunkEstimate>;
  for (const m of CBPE_METRICS) {
    const v = values[m];
    const band = model.thresholds[m];
    const realized = d.yTrue ? realizedMetric(m, d) : null;
    out[m] = {
      value: v,
      sampling_error: se[m],
      lower_confidence_boundary: Math.max(0, v - 3 * se[m]),
      upper_confidence_boundary: Math.min(1, v + 3 * se[m]),
      lower_threshold: band.lower,
      upper_threshold: band.upper,
      alert: (band.lower !== null && v < band.lower) || (band.upper !== null && v > band.upper),
      realized,
    };
  }
  return out;
}

/** Estimates every chunk of `d` (NannyML's size-based chunks over `d` in row order). */
export function estimateCbpe(model: CbpeModel, d: CbpeData): { start: number; end: number; metrics: Record<CbpeMetric, ChunkEstimate> }[] {
  if (model.chunkSize === 0) throw new RangeError('estimateCbpe needs a size-chunked model; estimate ranges with estimateChunk');
  return chunkRanges(d.yPred.length, model.chunkSize).map(([a, b]) => ({ start: a, end: b - 1, metrics: estimateChunk(model, sliceData(d, a, b)) }));
}
