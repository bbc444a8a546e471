/**
 * One unit of parallel work: profile whatever side is still raw, then test the column. The same
 * function runs inline (no workers) and in src/services/run/worker.ts.
 */
import { isDigest, type Column, type ColumnDigest } from '../table/columns.ts';
import { detectColumnDrift, testNeedsInputOrder, type DriftOptions } from './detect.ts';
import { profileColumn, profileDigest, type SideProfile } from './profile.ts';
import type { ColumnDrift } from './result.ts';
import type { ColumnType } from '../table/columns.ts';
import { calibrateColumn, modeOf, periodKey, periodValueRanges, type AlarmOptions } from './alarms.ts';
import type { SortedRuns } from '../stats/index.ts';

export interface ColumnTask {
  id: number;
  name: string;
  type: ColumnType;
  text: boolean;
  /** Profiled (from the cache) or raw (to profile, and hand back for the cache). */
  reference: { profile: SideProfile } | { raw: Column };
  /** The current side's rows, or its digest (from the log-file cache: profiled without rows). */
  current: Column | ColumnDigest;
  /** Sorted runs of the current column's finite values, merged from the log-file cache: no sort. */
  currentRuns?: SortedRuns;
  options: DriftOptions;
  /** The prediction column ignores the feature-wide stattest. */
  prediction: boolean;
  /** Alarm mode calibration (absent in the default `evidently` mode); see alarms.ts. */
  alarm?: {
    options: AlarmOptions;
    familySize: number;
    cached: [string, number[]][];
    /** Time chunks in reference row space (`chunkPeriod`), when this column's are not cached yet (the reference is then raw). */
    rowRanges?: [number, number][];
  };
}

export interface ColumnTaskResult {
  id: number;
  drift: ColumnDrift | null;
  /** The reference profile when the task had to compute it. */
  referenceProfile: SideProfile | null;
  error: string | null;
  /** New calibration samples to cache, and a distance column's null sample for multiple testing. */
  calibration?: { fresh: [string, number[]][]; nullSample: number[] | null };
}

export function runColumnTask(task: ColumnTask): ColumnTaskResult {
  const computed = 'raw' in task.reference ? profileColumn(task.reference.raw, task.type) : null;
  const reference = computed ?? (task.reference as { profile: SideProfile }).profile;
  const options = task.prediction ? { ...task.options, stattest: undefined, threshold: undefined } : task.options;
  // The task owns the current column (transferred to this worker, or dropped by the job's table):
  // unless the column's test reads input order, it is sorted in place instead of copied.
  const current = isDigest(task.current)
    ? (profileDigest(task.current, task.type) ?? failDigest(task.name))
    : profileColumn(task.current, task.type, { owned: true, inputOrder: testNeedsInputOrder(task.name, options), runs: task.currentRuns });
  const pair = { name: task.name, reference, current, text: task.text };
  const drift = detectColumnDrift(pair, options);
  if (task.alarm === undefined) return { id: task.id, drift, referenceProfile: computed, error: null };
  const cached = new Map(task.alarm.cached);
  const period = task.alarm.options.chunkPeriod;
  const fresh: [string, number[]][] = [];
  let periodRanges;
  if (period !== undefined) {
    const hit = cached.get(periodKey(task.name, period));
    if (hit !== undefined) periodRanges = Array.from({ length: hit.length / 2 }, (_, i) => ({ start: hit[2 * i], end: hit[2 * i + 1] }));
    else if ('raw' in task.reference && task.alarm.rowRanges !== undefined) {
      periodRanges = periodValueRanges(task.reference.raw, task.type, task.alarm.rowRanges);
      fresh.push([periodKey(task.name, period), periodRanges.flatMap((r) => [r.start, r.end])]);
    }
  }
  const compat = options.compat ?? true;
  // A calibrated column on the corrected test: Evidently's own verdict comes from Evidently's test.
  let evidently;
  if (!compat && modeOf(task.name, task.alarm.options) !== 'evidently' && drift.error === null) {
    const e = detectColumnDrift(pair, { ...options, compat: true, charts: false });
    evidently = { threshold: e.threshold, drift_detected: e.drift_detected, error: e.error };
  }
  const cal = calibrateColumn(pair, drift, task.alarm.options, { familySize: task.alarm.familySize, cached, compat, periodRanges, evidently });
  // Alarm modes decide the dataset by their own rule, never by Evidently's share (legacy-share.ts).
  delete cal.drift.share_verdict;
  return { id: task.id, drift: cal.drift, referenceProfile: computed, error: null, calibration: { fresh: [...fresh, ...cal.fresh], nullSample: cal.nullSample } };
}

function failDigest(name: string): never {
  // The job checks `profileDigest` before it plans tasks on digests: a caller bug, never a data case.
  throw new Error(`column ${name}: its digest cannot be profiled as planned`);
}

/** ArrayBuffers a task can move to a worker without copying (shared memory is shared, not moved). */
export function taskTransferables(task: ColumnTask): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (a: { buffer: ArrayBufferLike }): void => {
    if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  };
  const addColumn = (c: Column): void => add(c.kind === 'numerical' ? c.values : c.codes);
  if (!isDigest(task.current)) addColumn(task.current);
  else if (task.current.kind === 'numerical') {
    add(task.current.runs.values);
    add(task.current.runs.counts);
  }
  if (task.currentRuns !== undefined) {
    add(task.currentRuns.values);
    add(task.currentRuns.counts);
  }
  if ('raw' in task.reference) addColumn(task.reference.raw);
  return out;
}
