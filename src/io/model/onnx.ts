// The only module that imports onnxruntime-node.
import * as ort from 'onnxruntime-node';
import { SentinelError } from '../../errors.ts';
import type { FeatureSpec, ModelCard } from './card.ts';

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
  /**
   * Predicts `rows`. Calls made while a run is queued or in progress share the next onnxruntime run
   * (natural micro-batching, see `createBatcher`); each call gets exactly its own rows' predictions.
   */
  predict(rows: FeatureRow[]): Promise<Prediction[]>;
  /** onnxruntime runs so far, the rows they predicted (rows / runs = the mean batch) and the largest run. */
  runStats(): { runs: number; rows: number; largest: number };
  close(): Promise<void>;
}

export interface LoadModelOptions {
  /** Most rows one onnxruntime run takes from the queue (a larger single request still runs whole). Default 64. */
  maxBatchRows?: number;
}

interface Pending {
  rows: FeatureRow[];
  resolve: (p: Prediction[]) => void;
  reject: (err: Error) => void;
}

/**
 * Natural micro-batching, the same idea as the log's group commit: no fixed wait. A call is queued
 * and a run is scheduled for the next turn of the event loop (onnxruntime-node runs there anyway);
 * calls that arrive before it starts, or while it runs, join the following run, up to `maxRows`
 * rows. One connection alone never waits for anyone; under load one run serves many requests (a
 * forest costs ~10 µs per row in a 64-row run against ~80 µs for a run of one row).
 */
export function createBatcher(run: (rows: FeatureRow[]) => Promise<Prediction[]>, maxRows: number): { predict: (rows: FeatureRow[]) => Promise<Prediction[]>; stats: { runs: number; rows: number; largest: number } } {
  const queue: Pending[] = [];
  let scheduled = false;
  const stats = { runs: 0, rows: 0, largest: 0 };
  const drain = async (): Promise<void> => {
    const batch: Pending[] = [];
    let n = 0;
    while (queue.length > 0 && (batch.length === 0 || n + queue[0].rows.length <= maxRows)) {
      const p = queue.shift()!;
      batch.push(p);
      n += p.rows.length;
    }
    const rows = batch.length === 1 ? batch[0].rows : batch.flatMap((p) => p.rows);
    stats.runs++;
    stats.rows += rows.length;
    stats.largest = Math.max(stats.largest, rows.length);
    try {
      const out = await run(rows);
      let at = 0;
      for (const p of batch) {
        p.resolve(out.slice(at, at + p.rows.length));
        at += p.rows.length;
      }
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
    if (queue.length > 0) setImmediate(() => void drain());
    else scheduled = false;
  };
  return {
    stats,
    predict(rows) {
      if (rows.length === 0) return Promise.resolve([]);
      return new Promise<Prediction[]>((resolve, reject) => {
        queue.push({ rows, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}

/** One [N, 1] tensor per feature, keyed by its ONNX input name. */
function feedsFor(features: readonly FeatureSpec[], rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  const n = rows.length;
  const out: Record<string, ort.Tensor> = {};
  for (const f of features) {
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

/** An ONNX graph input or output as onnxruntime's session metadata describes it. */
export interface OnnxValueInfo {
  name: string;
  /** False for sequences and maps (e.g. scikit-learn's ZipMap probabilities). */
  isTensor: boolean;
  /** Element type of a tensor: float32, float64, int64, string, ... */
  type: string | null;
  /** Dimensions; a symbolic (batch) dimension is a string. Empty when unknown. */
  shape: (number | string)[];
}

/** The raw outputs of one run: flat data and dims per fetched output. */
export type RawOutputs = Record<string, { data: ArrayLike<number | string | bigint>; dims: readonly number[] }>;

/** A loaded graph for tools that must look inside the model before there is a card (`sentinel card`). */
export interface OnnxGraph {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Runs `rows` through the graph, feeding each of `features` to its input, and returns `fetch`. */
  run(features: readonly FeatureSpec[], rows: readonly FeatureRow[], fetch: readonly string[]): Promise<RawOutputs>;
  close(): Promise<void>;
}

async function createSession(onnxBytes: Uint8Array): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(onnxBytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new SentinelError('model_load_failed', `onnxruntime could not load the model: ${(err as Error).message}`, { cause: err });
  }
}

const valueInfo = (m: ort.InferenceSession.ValueMetadata): OnnxValueInfo =>
  m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, shape: m.shape.map((d) => (typeof d === 'string' ? d : Number(d))) }
    : { name: m.name, isTensor: false, type: null, shape: [] };

/** Opens an ONNX file for inspection: its inputs and outputs from the session metadata, and raw runs. */
export async function openOnnxGraph(onnxBytes: Uint8Array): Promise<OnnxGraph> {
  const session = await createSession(onnxBytes);
  return {
    inputs: session.inputMetadata.map(valueInfo),
    outputs: session.outputMetadata.map(valueInfo),
    async run(features, rows, fetch) {
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run(feedsFor(features, rows), [...fetch]);
      } catch (err) {
        throw new SentinelError('inference_failed', `model inference failed: ${(err as Error).message}`, { cause: err });
      }
      const out: RawOutputs = {};
      for (const name of fetch) {
        const t = result[name] as ort.Tensor;
        out[name] = { data: t.data as ArrayLike<number | string | bigint>, dims: t.dims };
      }
      return out;
    },
    async close() {
      await session.release();
    },
  };
}

/**
 * Loads the ONNX graph. One intra-op thread: a single-row forest is ~20 µs of work, and
 * onnxruntime's thread pool costs more CPU per request than it saves (measured once on a 2-core
 * machine; the figure is not kept in bench/).
 */
export async function loadOnnxModel(card: ModelCard, onnxBytes: Uint8Array, opts: LoadModelOptions = {}): Promise<Model> {
  const session = await createSession(onnxBytes);
  const inputs = new Set(session.inputNames);
  const missing = card.features.filter((f) => !inputs.has(f.onnx_input)).map((f) => f.onnx_input);
  if (missing.length > 0) {
    throw new SentinelError('model_card_mismatch', `the ONNX graph has no input(s) ${missing.join(', ')} named by the card (graph inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(card.outputs.probabilities)) {
    throw new SentinelError('model_card_mismatch', `the ONNX graph has no output "${card.outputs.probabilities}" (outputs: ${session.outputNames.join(', ')})`);
  }
  const nClasses = card.classes.length;
  const runRows = async (rows: FeatureRow[]): Promise<Prediction[]> => {
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feedsFor(card.features, rows), [card.outputs.probabilities]);
    } catch (err) {
      throw new SentinelError('inference_failed', `model inference failed: ${(err as Error).message}`, { cause: err });
    }
    const probs = result[card.outputs.probabilities].data as Float32Array | Float64Array;
    const predictions: Prediction[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const p: number[] = new Array(nClasses);
      for (let c = 0; c < nClasses; c++) p[c] = probs[i * nClasses + c];
      let best = 0;
      for (let c = 1; c < nClasses; c++) if (p[c] > p[best]) best = c;
      predictions[i] = { label: card.classes[best], confidence: p[best], probabilities: p };
    }
    return predictions;
  };
  const batcher = createBatcher(runRows, opts.maxBatchRows ?? 64);
  return {
    card,
    predict: batcher.predict,
    runStats: () => ({ ...batcher.stats }),
    async close() {
      await session.release();
    },
  };
}
