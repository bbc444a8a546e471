/**
 * The prediction log's and the label log's column names: the one owner. Here, in the lowest layer
 * that needs them (drift detection leaves the log's bookkeeping columns out), so that drift, the
 * log files (src/io/log/schema.ts: layout and file names), the model card and the services import
 * the same names.
 */

export const REQUEST_ID = 'request_id';
/** When the row was written (ISO 8601): the time column of `--since` windows. */
export const TIMESTAMP = 'timestamp';
export const MODEL_VERSION = 'model_version';
/** The model's output (a class label). */
export const PREDICTION_COLUMN = 'prediction';
export const CONFIDENCE = 'confidence';
/** The true class, in the label log. */
export const LABEL = 'label';

/** The log's fixed head and tail; the model's features go between them, in card order. */
export const LOG_HEAD = [REQUEST_ID, TIMESTAMP, MODEL_VERSION] as const;
export const LOG_TAIL = [PREDICTION_COLUMN, CONFIDENCE] as const;

/**
 * Log contract v2: models with more than two classes also log one probability column per class
 * (`proba_<class>`, card order) after the tail. A binary model's `confidence` (the predicted
 * class's probability) already gives both. Logs written before v2 lack the columns; what needs
 * them is reported unavailable (src/drift/probabilities.ts).
 */
export const LOG_CONTRACT_VERSION = 2;

/** Whether the log carries a probability per class (contract v2: more than two classes). */
export function logsClassProbabilities(classes: readonly string[]): boolean {
  return classes.length > 2;
}

/**
 * The probability column of a class: `proba_` + the class name, every character outside
 * `[A-Za-z0-9_.-]` written as `%XX` (its UTF-8 bytes), so that any class name gives a plain,
 * distinct header name (`proba_class_0`, `proba_a%20b`).
 */
export function probaColumn(className: string): string {
  return `proba_${className.replace(/[^A-Za-z0-9_.-]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''))}`;
}

/** The columns holding class probabilities, in class order. */
export function probabilityColumns(classes: readonly string[]): string[] {
  return classes.map(probaColumn);
}

/** Columns of a prediction log that are bookkeeping, not features (the prediction is tested apart; with a card, its classes' `proba_` columns are left out too). */
export const LOG_UTILITY_COLUMNS: ReadonlySet<string> = new Set([REQUEST_ID, TIMESTAMP, MODEL_VERSION, CONFIDENCE]);

/** The label log's columns (POST /feedback). */
export const LABEL_COLUMNS = [REQUEST_ID, TIMESTAMP, LABEL] as const;
