// The only module that imports onnxruntime-node.
import * as ort from 'onnxruntime-node';
import { SentinelError } from '../errors.ts';
import type { ModelCard } from './card.ts';

/** A validated input row: numbers for numerical features, strings for categorical, null when missing. */
export type FeatureRow = Record<string, number | string | null>;

export interface Prediction {
  /** The predicted class label (the class with the highest probability). */
  label: string;
  /** Probability of the predicted class. */
  confidence: number;
  /** Per-class probabilities, in the card's class order. */
  probabilities: number[];
}

export interface Model {
  card: ModelCard;
  predict(rows: FeatureRow[]): Promise<Prediction[]>;
  close(): Promise<void>;
}

/**
 * Loads the ONNX graph. One intra-op thread: a single-row forest is ~20 µs of work, and
 * onnxruntime's thread pool costs more CPU per request than it saves (measured, TOOLING.md).
 */
export async function loadOnnxModel(card: ModelCard, onnxBytes: Uint8Array): Promise<Model> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxBytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new SentinelError('model_load_failed', `onnxruntime could not load the model: ${(err as Error).message}`, { cause: err });
  }
  const inputs = new Set(session.inputNames);
  const missing = card.features.filter((f) => !inputs.has(f.onnx_input)).map((f) => f.onnx_input);
  if (missing.length > 0) {
    throw new SentinelError('model_card_mismatch', `the ONNX graph has no input(s) ${missing.join(', ')} named by the card (graph inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(card.outputs.probabilities)) {
    throw new SentinelError('model_card_mismatch', `the ONNX graph has no output "${card.outputs.probabilities}" (outputs: ${session.outputNames.join(', ')})`);
  }
  const nClasses = card.classes.length;

  function feeds(rows: FeatureRow[]): Record<string, ort.Tensor> {
    const n = rows.length;
    const out: Record<string, ort.Tensor> = {};
    for (const f of card.features) {
      if (f.dtype === 'string') {
        const data = new Array<string>(n);
        // Missing categoricals are the empty category, as in training.
        for (let i = 0; i < n; i++) data[i] = (rows[i][f.name] as string | null) ?? '';
        out[f.onnx_input] = new ort.Tensor('string', data, [n, 1]);
      } else {
        const data = f.dtype === 'float32' ? new Float32Array(n) : f.dtype === 'float64' ? new Float64Array(n) : new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const v = rows[i][f.name] as number | null;
          if (data instanceof BigInt64Array) data[i] = BigInt(Math.trunc(v ?? 0));
          else data[i] = v ?? Number.NaN;
        }
        out[f.onnx_input] = new ort.Tensor(f.dtype, data, [n, 1]);
      }
    }
    return out;
  }

  return {
    card,
    async predict(rows) {
      if (rows.length === 0) return [];
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run(feeds(rows), [card.outputs.probabilities]);
      } catch (err) {
        throw new SentinelError('inference_failed', `model inference failed: ${(err as Error).message}`, { cause: err });
      }
      const probs = result[card.outputs.probabilities].data as Float32Array | Float64Array;
      const predictions: Prediction[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const p = Array.from(probs.subarray(i * nClasses, (i + 1) * nClasses));
        let best = 0;
        for (let c = 1; c < nClasses; c++) if (p[c] > p[best]) best = c;
        predictions[i] = { label: card.classes[best], confidence: p[best], probabilities: p };
      }
      return predictions;
    },
    async close() {
      await session.release();
    },
  };
}
