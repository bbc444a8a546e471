// The column names themselves are owned by src/drift/log-columns.ts (drift, below this layer, needs them).
import { ConfigError } from '../../errors.ts';
import { LOG_HEAD, LOG_TAIL, logsClassProbabilities, probaColumn } from '../../drift/log-columns.ts';

/**
 * Columns of the prediction log: fixed head, the model's features in card order, fixed tail, then
 * (log contract v2) one probability column per class for models with more than two classes (see
 * src/drift/log-columns.ts). Throws when a feature is named like a class's probability column.
 */
export function logColumns(featureNames: readonly string[], classes: readonly string[] = []): string[] {
  const columns = [...LOG_HEAD, ...featureNames, ...LOG_TAIL, ...(logsClassProbabilities(classes) ? classes.map(probaColumn) : [])];
  const seen = new Set<string>();
  for (const c of columns) {
    // The card check rejects the fixed names; a class's probability column can only collide here.
    if (seen.has(c)) throw new ConfigError(`prediction-log column "${c}" would appear twice (a feature named like a class's probability column)`);
    seen.add(c);
  }
  return columns;
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
