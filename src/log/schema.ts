/** Columns of the prediction log (DESIGN.md): fixed head, the model's features in card order, fixed tail. */
export const LOG_HEAD = ['request_id', 'timestamp', 'model_version'] as const;
export const LOG_TAIL = ['prediction', 'confidence'] as const;

export function logColumns(featureNames: readonly string[]): string[] {
  return [...LOG_HEAD, ...featureNames, ...LOG_TAIL];
}

/** File names: one writer per file, so each replica (instance) writes files of its own. */
export const LOG_FILE_PREFIX = 'live_predictions';

export function logFileName(instanceId: string, startedAt: Date, seq: number): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${LOG_FILE_PREFIX}-${instanceId}-${stamp}-${String(seq).padStart(4, '0')}.csv`;
}
