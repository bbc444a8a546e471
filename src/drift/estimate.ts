/**
 * CBPE for the drift run, fitted on the labelled reference:
 * - the headline: the whole window as one chunk, its alert band from reference chunks of about the
 *   window's size (clamped so the reference gives 2 to 10 chunks; NannyML's default is 10 chunks);
 * - with a chunking (`--cbpe-chunk-size|number|period`), the window in chunks as NannyML's
 *   `CBPE(chunk_size=…|chunk_number=…|chunk_period=…)` makes them, the same chunker applied to the
 *   reference for the bands: one estimate per chunk with its sampling-error band.
 */

import { chunksByCount, chunksByPeriod, chunksBySize } from '../stats/calibrate.ts';
import { CBPE_METRICS, estimateChunk, fitCbpe, fitCbpeReference, realizedMetric, type CbpeReferenceFit } from '../stats/cbpe.ts';
import type { ClassificationMetrics } from '../stats/classification.ts';
import { gatherRows, type Outputs } from './probabilities.ts';
import type { CbpeChunk, CbpeChunking, EstimatedPerformance } from './result.ts';

/** Reference chunk size for a window of `windowRows`: within [reference/10, reference/2]. */
export function cbpeChunkSize(referenceRows: number, windowRows: number): number {
  const lo = Math.max(1, Math.floor(referenceRows / 10));
  const hi = Math.max(lo, Math.floor(referenceRows / 2));
  return Math.min(Math.max(windowRows, lo), hi);
}

/**
 * CBPE's reference fits by the reference's row order ('file' as read, 'time' NannyML's time order for
 * chunks): read when present, filled when made. Valid only for the reference the caller keyed it by.
 */
export type CbpeFitCache = Map<'file' | 'time', CbpeReferenceFit>;

/** The labelled reference and the window as CBPE sees them; timestamps (ms, NaN unknown) per row when known. */
export interface CbpeInput {
  ref: { yTrue: Int32Array; outputs: Outputs; timestamps?: Float64Array | null } | null;
  cur: Outputs;
  /** Per window row: its label's class index, −1 when unlabelled. */
  labelOfRow?: Int32Array | null;
  curTimestamps?: Float64Array | null;
  realized: ClassificationMetrics | null;
  chunking?: CbpeChunking | null;
  fitCache?: CbpeFitCache | null;
}

function referenceFit(cache: CbpeFitCache | null | undefined, order: 'file' | 'time', ref: Parameters<typeof fitCbpeReference>[0]): CbpeReferenceFit {
  let fit = cache?.get(order);
  if (fit === undefined) {
    fit = fitCbpeReference(ref);
    cache?.set(order, fit);
  }
  return fit;
}

type Estimated = { estimated: EstimatedPerformance | null; unavailable: string | null };

/** Row order NannyML's chunker uses when the data has timestamps: sorted by time, ties (and rows without one) in file order. */
export function timeOrder(timestamps: Float64Array | null | undefined, rows: readonly number[]): number[] {
  if (timestamps == null) return [...rows];
  const key = (i: number) => (Number.isNaN(timestamps[i]) ? Infinity : timestamps[i]);
  return rows.map((i, pos) => ({ i, pos })).sort((a, b) => key(a.i) - key(b.i) || a.pos - b.pos).map((x) => x.i);
}

/** [start, end) chunks of `n` rows in time order, NannyML's chunker for `chunking`. */
export function chunkRows(chunking: CbpeChunking, n: number, timestampsInOrder: Float64Array | null): [number, number][] {
  if (chunking.method === 'size') return chunksBySize(n, chunking.size!).map((r) => [r.start, r.end]);
  if (chunking.method === 'number') return chunksByCount(n, chunking.number!).map((r) => [r.start, r.end]);
  if (timestampsInOrder === null) throw new RangeError('period chunks need timestamps');
  return chunksByPeriod(timestampsInOrder, chunking.periodMs!).map((r) => [r.start, r.end]);
}

function record(est: ReturnType<typeof estimateChunk>, realizedOf: (m: string) => number | null): EstimatedPerformance['metrics'] {
  return Object.fromEntries(
    CBPE_METRICS.map((m) => {
      const e = est[m];
      return [
        m,
        {
          value: Number.isFinite(e.value) ? e.value : null,
          sampling_error: e.sampling_error,
          lower_confidence_boundary: e.lower_confidence_boundary,
          upper_confidence_boundary: e.upper_confidence_boundary,
          lower_threshold: e.lower_threshold,
          upper_threshold: e.upper_threshold,
          alert: e.alert,
          realized: realizedOf(m),
        },
      ];
    }),
  );
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function estimateWithCbpe(input: CbpeInput): Estimated {
  const { ref, cur, realized } = input;
  if (ref === null) return { estimated: null, unavailable: 'the reference has no labelled rows with the model outputs (target, prediction and confidence columns)' };
  if (ref.outputs.proba === null) return { estimated: null, unavailable: `class probabilities of the reference are unknown: ${ref.outputs.unavailable}` };
  if (cur.proba === null) return { estimated: null, unavailable: `class probabilities of the window are unknown: ${cur.unavailable}` };
  const k = ref.outputs.proba.length / ref.yTrue.length;
  // Rows with a usable prediction; every one of them must have its probabilities.
  const keep: number[] = [];
  let without = 0;
  for (let i = 0; i < cur.predicted.length; i++) {
    if (cur.predicted[i] < 0) continue;
    if (Number.isNaN(cur.proba[i * k])) without++;
    else keep.push(i);
  }
  if (without > 0) return { estimated: null, unavailable: `${without} of the ${without + keep.length} window rows have no class probabilities (log files written before log contract v2, or empty cells)` };
  if (keep.length === 0) return { estimated: null, unavailable: 'no window rows with a prediction and its probability' };
  const classesSeen = new Set(ref.yTrue).size;
  if (classesSeen < k) return { estimated: null, unavailable: `the reference labels hold ${classesSeen} of the ${k} classes` };
  const refData = { k, proba: ref.outputs.proba, yPred: ref.outputs.predicted, yTrue: ref.yTrue };
  const chunkSize = cbpeChunkSize(ref.yTrue.length, keep.length);
  const model = fitCbpe(refData, chunkSize, referenceFit(input.fitCache, 'file', refData));
  const est = estimateChunk(model, { k, ...gatherRows(cur, keep, k) });
  // Realized values in NannyML's definitions (binary F1 = the positive class's), from the labelled rows.
  const realizedOf = (m: string): number | null => {
    if (realized === null) return null;
    if (m === 'accuracy') return realized.accuracy;
    if (m === 'roc_auc') return realized.roc_auc;
    return k === 2 ? realized.per_class[1].f1 : realized.f1_macro;
  };
  const estimated: EstimatedPerformance = {
    method: 'cbpe',
    calibrated: model.calibrators.map((c) => c !== null),
    metrics: record(est, realizedOf),
    reference_chunks: model.referenceChunks,
    chunk_size: chunkSize,
    chunking: null,
    chunks: null,
  };
  const chunking = input.chunking ?? null;
  if (chunking === null) return { estimated, unavailable: null };
  try {
    estimated.chunking = chunking;
    const series = estimateChunks(chunking, { k, refData, refTimes: ref.timestamps ?? null, cur, keep, curTimes: input.curTimestamps ?? null, labelOfRow: input.labelOfRow ?? null, fitCache: input.fitCache ?? null });
    estimated.chunks = series.chunks;
    estimated.chunk_reference_chunks = series.referenceChunks;
  } catch (err) {
    estimated.chunks_unavailable = (err as Error).message;
  }
  return { estimated, unavailable: null };
}

/** The window in NannyML's chunks, each estimated against bands from the reference in the same chunks. */
function estimateChunks(
  chunking: CbpeChunking,
  d: { k: number; refData: Parameters<typeof fitCbpe>[0]; refTimes: Float64Array | null; cur: Outputs; keep: number[]; curTimes: Float64Array | null; labelOfRow: Int32Array | null; fitCache: CbpeFitCache | null },
): { chunks: CbpeChunk[]; referenceChunks: number } {
  const { k } = d;
  const needTimes = chunking.method === 'period';
  if (needTimes && (d.curTimes === null || d.refTimes === null)) throw new Error(`period chunks need timestamps in the window and in the reference (a "timestamp" column)`);
  // The reference in time order as well (NannyML sorts both sides by their timestamp column).
  const refRows = timeOrder(d.refTimes, Array.from({ length: d.refData.yTrue!.length }, (_, i) => i));
  const sortedRef = {
    k,
    proba: Float64Array.from({ length: refRows.length * k }, (_, j) => d.refData.proba[refRows[Math.floor(j / k)] * k + (j % k)]),
    yPred: Int32Array.from(refRows, (i) => d.refData.yPred[i]),
    yTrue: Int32Array.from(refRows, (i) => d.refData.yTrue![i]),
  };
  const refTimesSorted = d.refTimes === null ? null : Float64Array.from(refRows, (i) => d.refTimes![i]);
  let refRanges: [number, number][];
  try {
    refRanges = chunkRows(chunking, refRows.length, refTimesSorted);
  } catch (err) {
    throw new Error(`reference: ${(err as Error).message}`);
  }
  // Without timestamps the time order is the file order (timeOrder): the same fit.
  const fit = referenceFit(d.fitCache, d.refTimes === null ? 'file' : 'time', sortedRef);
  const model = fitCbpe(sortedRef, chunking.method === 'size' ? chunking.size! : refRanges, fit);
  const rows = timeOrder(d.curTimes, d.keep);
  const curTimesSorted = d.curTimes === null ? null : Float64Array.from(rows, (i) => d.curTimes![i]);
  const ranges = chunkRows(chunking, rows.length, curTimesSorted);
  const chunks = ranges.map(([a, b], index): CbpeChunk => {
    const chunkRowsIdx = rows.slice(a, b);
    const data = gatherRows(d.cur, chunkRowsIdx, k);
    const est = estimateChunk(model, { k, ...data });
    const labelled = d.labelOfRow === null ? [] : chunkRowsIdx.filter((i) => d.labelOfRow![i] >= 0);
    const realizedData = labelled.length === 0 ? null : { k, ...gatherRows(d.cur, labelled, k), yTrue: Int32Array.from(labelled, (i) => d.labelOfRow![i]) };
    let from = Infinity;
    let to = -Infinity;
    if (curTimesSorted !== null) {
      for (let j = a; j < b; j++) {
        const t = curTimesSorted[j];
        if (t < from) from = t;
        if (t > to) to = t;
      }
    }
    return {
      index,
      start: a,
      end: b - 1,
      from: iso(from),
      to: iso(to),
      rows: b - a,
      labelled: labelled.length,
      metrics: record(est, (m) => (realizedData === null ? null : finiteOrNull(realizedMetric(m as (typeof CBPE_METRICS)[number], realizedData)))),
    };
  });
  return { chunks, referenceChunks: model.referenceChunks };
}
