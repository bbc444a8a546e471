/**
 * CBPE for the drift run: fitted on the labelled reference, applied to the whole window as one
 * chunk. The alert band comes from reference chunks of about the window's size (clamped so the
 * reference gives 2 to 10 chunks; NannyML's default is 10 chunks).
 */

import { CBPE_METRICS, estimateChunk, fitCbpe } from '../stats/cbpe.ts';
import type { ClassificationMetrics } from '../stats/classification.ts';
import type { Outputs } from './performance.ts';
import type { EstimatedPerformance } from './result.ts';

/** Reference chunk size for a window of `windowRows`: within [reference/10, reference/2]. */
export function cbpeChunkSize(referenceRows: number, windowRows: number): number {
  const lo = Math.max(1, Math.floor(referenceRows / 10));
  const hi = Math.max(lo, Math.floor(referenceRows / 2));
  return Math.min(Math.max(windowRows, lo), hi);
}

export function estimateWithCbpe(
  ref: { yTrue: Int32Array; outputs: Outputs } | null,
  cur: Outputs,
  realized: ClassificationMetrics | null,
): { estimated: EstimatedPerformance | null; unavailable: string | null } {
  if (ref === null) return { estimated: null, unavailable: 'the reference has no labelled rows with the model outputs (target, prediction and confidence columns)' };
  if (ref.outputs.proba === null || cur.proba === null) return { estimated: null, unavailable: 'class probabilities are unknown (the log keeps the predicted class probability only, which gives all of them for binary models only)' };
  const k = ref.outputs.proba.length / ref.yTrue.length;
  // Rows with a usable prediction and probability only.
  const keep: number[] = [];
  for (let i = 0; i < cur.predicted.length; i++) if (cur.predicted[i] >= 0 && !Number.isNaN(cur.proba[i * k])) keep.push(i);
  if (keep.length === 0) return { estimated: null, unavailable: 'no window rows with a prediction and its probability' };
  const classesSeen = new Set(ref.yTrue).size;
  if (classesSeen < k) return { estimated: null, unavailable: `the reference labels hold ${classesSeen} of the ${k} classes` };
  const chunkSize = cbpeChunkSize(ref.yTrue.length, keep.length);
  const model = fitCbpe({ k, proba: ref.outputs.proba, yPred: ref.outputs.predicted, yTrue: ref.yTrue }, chunkSize);
  const proba = new Float64Array(keep.length * k);
  const yPred = new Int32Array(keep.length);
  keep.forEach((i, j) => {
    yPred[j] = cur.predicted[i];
    for (let c = 0; c < k; c++) proba[j * k + c] = cur.proba![i * k + c];
  });
  const est = estimateChunk(model, { k, proba, yPred });
  // Realized values in NannyML's definitions (binary F1 = the positive class's), from the labelled rows.
  const realizedOf = (m: string): number | null => {
    if (realized === null) return null;
    if (m === 'accuracy') return realized.accuracy;
    if (m === 'roc_auc') return realized.roc_auc;
    return k === 2 ? realized.per_class[1].f1 : realized.f1_macro;
  };
  return {
    estimated: {
      method: 'cbpe',
      calibrated: model.calibrators.map((c) => c !== null),
      metrics: Object.fromEntries(
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
      ),
      reference_chunks: model.referenceChunks,
      chunk_size: chunkSize,
    },
    unavailable: null,
  };
}
