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

/** Columns of a prediction log that are bookkeeping, not features (the prediction is tested apart). */
export const LOG_UTILITY_COLUMNS: ReadonlySet<string> = new Set([REQUEST_ID, TIMESTAMP, MODEL_VERSION, CONFIDENCE]);

/** The label log's columns (POST /feedback). */
export const LABEL_COLUMNS = [REQUEST_ID, TIMESTAMP, LABEL] as const;
