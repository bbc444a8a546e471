/**
 * Class probabilities from a prediction log or a reference CSV (log contract v2, src/drift/log-columns.ts):
 * which columns give them, and why they are unknown when they are. Pure: the caller reads the columns.
 *
 * - Every class has its `proba_<class>` column: the vector as the model returned it (`full`).
 * - Binary without them: p(class 1) = confidence when class 1 was predicted, 1 − confidence
 *   otherwise (`binary_from_confidence`). Exact up to the model's own float32 rounding: its two
 *   outputs need not sum to exactly 1 (differences ~1e-8, below any metric's resolution but ties).
 * - Otherwise (a multiclass log written before v2, or a reference without the columns): unknown,
 *   with the reason; ROC AUC, log loss and CBPE are then reported unavailable, never guessed.
 */

import { missingCodeOf, type CategoricalColumn, type NumericColumn } from '../table/columns.ts';
import { probabilityColumns } from './log-columns.ts';

/** The predictions of one side: class labels, the confidence, and the per-class probability columns when present. */
export interface PredictionSide {
  predictions: CategoricalColumn;
  confidence: NumericColumn | null;
  /** One column per class (card order) when the source has all of them, else null. */
  classProba?: NumericColumn[] | null;
}

export type ProbabilitySource = 'full' | 'binary_from_confidence' | 'none';

/** Per-row class probabilities (row-major n×K), or null when they cannot be known. */
export interface Outputs {
  /** Predicted class index per row; −1 when the prediction is missing or not a class of the model. */
  predicted: Int32Array;
  /** NaN in a row whose probabilities are unknown (a v1 file in a mixed directory, an empty cell). */
  proba: Float64Array | null;
  source: ProbabilitySource;
  /** Why `proba` is null. */
  unavailable: string | null;
}

/** The per-class columns of `columns` when every class has a numerical one, else null. */
export function pickClassProba(columns: ReadonlyMap<string, { kind: string }>, classes: readonly string[]): NumericColumn[] | null {
  const out: NumericColumn[] = [];
  for (const name of probabilityColumns(classes)) {
    const c = columns.get(name);
    if (c === undefined || c.kind !== 'numerical') return null;
    out.push(c as NumericColumn);
  }
  return out;
}

const valid = (p: number): boolean => p >= 0 && p <= 1;

/** Class indices of a categorical column (predictions, or reference labels); −1 for a missing or unknown value. */
export function classIndices(col: CategoricalColumn, classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const missing = missingCodeOf(col.codes);
  const dictIndex = col.dictionary.map((d) => index.get(d) ?? -1);
  const out = new Int32Array(col.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = col.codes[i] === missing ? -1 : dictIndex[col.codes[i]];
  return out;
}

/** Class indices and probabilities of one side (see the module comment for the rules). */
export function outputsOf(side: PredictionSide, classes: readonly string[]): Outputs {
  const k = classes.length;
  const predicted = classIndices(side.predictions, classes);
  const n = predicted.length;
  const cols = side.classProba ?? null;
  if (cols !== null && cols.length === k) {
    const proba = new Float64Array(k * n);
    for (let i = 0; i < n; i++) {
      let ok = predicted[i] >= 0;
      for (let c = 0; c < k && ok; c++) ok = valid(cols[c].values[i]);
      for (let c = 0; c < k; c++) proba[i * k + c] = ok ? cols[c].values[i] : NaN;
    }
    return { predicted, proba, source: 'full', unavailable: null };
  }
  if (k === 2 && side.confidence !== null) {
    const proba = new Float64Array(2 * n);
    const conf = side.confidence.values;
    for (let i = 0; i < n; i++) {
      const c = conf[i];
      if (predicted[i] < 0 || !valid(c)) {
        proba[2 * i] = NaN;
        proba[2 * i + 1] = NaN;
        continue;
      }
      const p1 = predicted[i] === 1 ? c : 1 - c;
      proba[2 * i] = 1 - p1;
      proba[2 * i + 1] = p1;
    }
    return { predicted, proba, source: 'binary_from_confidence', unavailable: null };
  }
  const cols2 = probabilityColumns(classes);
  return {
    predicted,
    proba: null,
    source: 'none',
    unavailable:
      k === 2
        ? 'the data has neither a confidence column nor the class probability columns'
        : `the data has no per-class probability columns (${cols2.join(', ')}); prediction logs carry them from log contract v2 on, older logs only the predicted class's confidence`,
  };
}

/** Rows of `rows` whose probabilities are unknown (NaN), for the reason given when some are. */
export function rowsWithoutProbabilities(outputs: Outputs, rows: ArrayLike<number>, k: number): number {
  if (outputs.proba === null) return rows.length;
  let m = 0;
  for (let j = 0; j < rows.length; j++) if (Number.isNaN(outputs.proba[rows[j] * k])) m++;
  return m;
}

/** The predicted classes and probability rows (row-major, k per row) of the selected rows; proba must be known. */
export function gatherRows(outputs: Outputs, rows: ArrayLike<number>, k: number): { proba: Float64Array; yPred: Int32Array } {
  const proba = new Float64Array(rows.length * k);
  const yPred = new Int32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j];
    yPred[j] = outputs.predicted[i];
    for (let c = 0; c < k; c++) proba[j * k + c] = outputs.proba![i * k + c];
  }
  return { proba, yPred };
}
