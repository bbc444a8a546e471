/**
 * One unit of parallel work: profile whatever side is still raw, then test the column. The same
 * function runs inline (no workers) and in src/drift/worker.ts.
 */
import type { Column } from './columns.ts';
import { detectColumnDrift, testNeedsInputOrder, type DriftOptions } from './detect.ts';
import { profileColumn, type SideProfile } from './profile.ts';
import type { ColumnDrift, ColumnType } from './result.ts';

export interface ColumnTask {
  id: number;
  name: string;
  type: ColumnType;
  text: boolean;
  /** Profiled (from the cache) or raw (to profile, and hand back for the cache). */
  reference: { profile: SideProfile } | { raw: Column };
  current: Column;
  options: DriftOptions;
  /** The prediction column ignores the feature-wide stattest. */
  prediction: boolean;
}

export interface ColumnTaskResult {
  id: number;
  drift: ColumnDrift | null;
  /** The reference profile when the task had to compute it. */
  referenceProfile: SideProfile | null;
  error: string | null;
}

export function runColumnTask(task: ColumnTask): ColumnTaskResult {
  const computed = 'raw' in task.reference ? profileColumn(task.reference.raw, task.type) : null;
  const reference = computed ?? (task.reference as { profile: SideProfile }).profile;
  const options = task.prediction ? { ...task.options, stattest: undefined, threshold: undefined } : task.options;
  // The task owns the current column (transferred to this worker, or dropped by the job's table):
  // unless the column's test reads input order, it is sorted in place instead of copied.
  const current = profileColumn(task.current, task.type, { owned: true, inputOrder: testNeedsInputOrder(task.name, options) });
  const drift = detectColumnDrift({ name: task.name, reference, current, text: task.text }, options);
  return { id: task.id, drift, referenceProfile: computed, error: null };
}

/** ArrayBuffers a task can move to a worker without copying (shared memory is shared, not moved). */
export function taskTransferables(task: ColumnTask): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (a: { buffer: ArrayBufferLike }): void => {
    if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  };
  const addColumn = (c: Column): void => add(c.kind === 'numerical' ? c.values : c.codes);
  addColumn(task.current);
  if ('raw' in task.reference) addColumn(task.reference.raw);
  return out;
}
