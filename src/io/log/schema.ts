// The column names themselves are owned by src/drift/log-columns.ts (drift, below this layer, needs them).
import { LOG_HEAD, LOG_TAIL } from '../../drift/log-columns.ts';

/** Columns of the prediction log: fixed head, the model's features in card order, fixed tail. */
export function logColumns(featureNames: readonly string[]): string[] {
  return [...LOG_HEAD, ...featureNames, ...LOG_TAIL];
}

/** File names: one writer per file, so each replica (instance) writes files of its own. */
export const LOG_FILE_PREFIX = 'live_predictions';

export function logFileName(instanceId: string, startedAt: Date, seq: number, prefix: string = LOG_FILE_PREFIX): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${prefix}-${instanceId}-${stamp}-${String(seq).padStart(4, '0')}.csv`;
}

/**
 * The label log (POST /feedback): its own append-only files in a `labels/` directory inside the
 * prediction-log directory, so readers of `<log-dir>/*.csv` never mix the two. `timestamp` is when
 * the label was received; a repeated request_id keeps every row and the last received wins.
 */
export const LABEL_DIR = 'labels';
export const LABEL_FILE_PREFIX = 'live_labels';
export { LABEL_COLUMNS } from '../../drift/log-columns.ts';
