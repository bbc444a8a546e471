/**
 * The report store: one directory per run plus `latest.json`, on a volume shared by the drift job
 * (writer) and the report server (reader, possibly read-only).
 *
 *   DIR/<run-id>/drift.json     the DriftResult
 *   DIR/<run-id>/report.html    the rendered report
 *   DIR/<run-id>/summary.json   a small RunSummary for the index (so the index never parses big results)
 *   DIR/<run-id>/failed.json    instead of the above, for a run that could not complete
 *   DIR/latest.json             LatestPointer to the newest successful run + the last failure
 *
 * Every file is written atomically: temp file + fsync + rename + directory fsync. A run directory is
 * built under a temporary name and renamed into place, so readers see a whole run or none of it; a
 * failed run never touches the last good report.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { summarize, type DriftResult, type LatestPointer, type RunSummary } from '../drift/result.ts';
import { InputError, SentinelError } from '../errors.ts';

/** Run ids are directory names: a strict pattern keeps them out of path traversal territory. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isValidRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id) && !id.includes('..');
}

/**
 * The one run-id format: `20261126T151200Z-1a2b3c` (`…Z-failed-1a2b3c` with a tag), sortable by
 * time, unique enough, a valid run id.
 */
export function newRunId(now: Date, tag?: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${tag === undefined ? '' : `${tag}-`}${randomBytes(3).toString('hex')}`;
}

function assertRunId(id: string): void {
  if (!isValidRunId(id)) throw new InputError('invalid_run_id', `invalid run id "${id}": must match ${RUN_ID_PATTERN.source}`);
}

export interface FailedRun {
  run_id: string;
  failed_at: string;
  message: string;
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeDurable(path: string, data: string): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function tmpName(prefix: string): string {
  return `.tmp-${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Writes `dir/name` atomically: temp file in the same directory, fsync, rename, directory fsync. */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, tmpName(name));
  try {
    await writeDurable(tmp, data);
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Builds a run directory under a temporary name and renames it into place. */
async function writeRunDir(dir: string, runId: string, files: Record<string, string>): Promise<string> {
  const runDir = join(dir, runId);
  const tmp = join(dir, tmpName(runId));
  await mkdir(tmp);
  try {
    for (const [name, data] of Object.entries(files)) await writeDurable(join(tmp, name), data);
    await fsyncDir(tmp);
    await rename(tmp, runDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
      throw new SentinelError('run_exists', `run "${runId}" already exists in ${dir}`, { cause: err });
    }
    throw err;
  }
  await fsyncDir(dir);
  return runDir;
}

/** Parsed `latest.json`; `null` when absent. Throws `corrupt_latest` (500) when unreadable. */
export async function readLatest(dir: string): Promise<LatestPointer | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'latest.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SentinelError('corrupt_latest', 'latest.json is not valid JSON', { expose: true, cause: err, details: { path: join(dir, 'latest.json') } });
  }
  const p = parsed as Partial<LatestPointer> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.run_id !== 'string' ||
    !isValidRunId(p.run_id) ||
    typeof p.finished_at !== 'string' ||
    typeof p.drift_score !== 'number' ||
    typeof p.drift_share !== 'number' ||
    typeof p.dataset_drift !== 'boolean'
  ) {
    throw new SentinelError('corrupt_latest', 'latest.json is not a valid latest pointer', { expose: true, details: { path: join(dir, 'latest.json') } });
  }
  return { ...p, last_failure: p.last_failure ?? null } as LatestPointer;
}

async function readLatestOrNull(dir: string): Promise<LatestPointer | null> {
  try {
    return await readLatest(dir);
  } catch (err) {
    if (err instanceof SentinelError && err.code === 'corrupt_latest') return null; // the writer repairs it
    throw err;
  }
}

/**
 * Saves a completed run and its rendered report as given: writes
 * `DIR/<run-id>/{drift.json,report.html,summary.json}` as one directory rename, then points
 * `DIR/latest.json` at it (unless a newer run is already there). Rendering is the caller's
 * (src/services/run/save-run.ts), so the store stays below the renderer.
 */
export async function writeRun(dir: string, result: DriftResult, html: string): Promise<{ runDir: string }> {
  assertRunId(result.run_id);
  await mkdir(dir, { recursive: true });
  const runDir = await writeRunDir(dir, result.run_id, {
    'drift.json': JSON.stringify(result, null, 2) + '\n',
    'report.html': html,
    'summary.json': JSON.stringify(summarize(result)) + '\n',
  });
  const previous = await readLatestOrNull(dir);
  if (previous === null || previous.finished_at <= result.finished_at) {
    const pointer: LatestPointer = {
      run_id: result.run_id,
      path: `${result.run_id}/drift.json`,
      finished_at: result.finished_at,
      drift_score: result.drift_score,
      dataset_drift: result.dataset_drift,
      drift_share: result.drift_share,
      // Without a previous pointer (first good run, or a corrupt one), find the last failure on disk.
      last_failure: previous !== null ? previous.last_failure : await findLastFailure(dir),
    };
    await writeFileAtomic(dir, 'latest.json', JSON.stringify(pointer, null, 2) + '\n');
  }
  return { runDir };
}

/**
 * Records a run that could not complete: `DIR/<run-id>/failed.json` (counted by the report server's
 * `sentinelml_drift_run_failures_total`) and `last_failure` in `latest.json` when there is one.
 * The last good report stays where it is.
 */
export async function recordFailedRun(dir: string, runId: string, message: string, now: Date = new Date()): Promise<void> {
  assertRunId(runId);
  await mkdir(dir, { recursive: true });
  const failure: FailedRun = { run_id: runId, failed_at: now.toISOString(), message };
  const body = JSON.stringify(failure, null, 2) + '\n';
  try {
    await writeRunDir(dir, runId, { 'failed.json': body });
  } catch (err) {
    // The run got as far as saving its result and failed afterwards: record the failure beside it.
    if (!(err instanceof SentinelError && err.code === 'run_exists')) throw err;
    await writeFileAtomic(join(dir, runId), 'failed.json', body);
  }
  const latest = await readLatestOrNull(dir);
  if (latest !== null) {
    await writeFileAtomic(dir, 'latest.json', JSON.stringify({ ...latest, last_failure: { at: failure.failed_at, message } }, null, 2) + '\n');
  }
}

/** Run directories in `dir` (valid ids only; temp dirs and stray files are ignored). */
async function runIds(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isDirectory() && isValidRunId(e.name)).map((e) => e.name);
}

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** A run directory's index entry: its summary (null when unreadable) and whether it has a failure record. */
async function readRunEntry(dir: string, id: string): Promise<{ summary: RunSummary | null; failed: boolean }> {
  const failed = (await readJson(join(dir, id, 'failed.json'))) as FailedRun | undefined;
  let summary = (await readJson(join(dir, id, 'summary.json'))) as RunSummary | undefined;
  if (summary === undefined) {
    const result = (await readJson(join(dir, id, 'drift.json'))) as DriftResult | undefined;
    if (result !== undefined && typeof result === 'object' && result !== null && typeof result.drift_score === 'number') summary = summarize(result);
  }
  const hasFailure = failed !== undefined && typeof failed === 'object' && failed !== null;
  if (summary !== undefined && typeof summary === 'object' && summary !== null) {
    return { summary: { ...summary, run_id: id, message: hasFailure ? (failed.message ?? null) : null }, failed: hasFailure };
  }
  if (hasFailure) {
    return {
      failed: true,
      summary: {
        run_id: id,
        status: 'failed',
        finished_at: String(failed.failed_at ?? ''),
        drift_score: null,
        drift_share: null,
        dataset_drift: null,
        drifted_columns: null,
        tested_columns: null,
        reference_rows: null,
        current_rows: null,
        message: String(failed.message ?? ''),
      },
    };
  }
  return { summary: null, failed: false };
}

const byFinished = (a: RunSummary, b: RunSummary) => (a.finished_at < b.finished_at ? -1 : a.finished_at > b.finished_at ? 1 : a.run_id.localeCompare(b.run_id));

/**
 * Every run in `dir`, oldest first. Unreadable run directories are skipped (they are reported by the
 * run's own endpoints); a run with both a result and a later failure is listed as ok with the message.
 */
export async function listRuns(dir: string): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const id of await runIds(dir)) {
    const { summary } = await readRunEntry(dir, id);
    if (summary !== null) out.push(summary);
  }
  return out.sort(byFinished);
}

/** The index of a report directory as the report server needs it. */
export interface RunIndex {
  /** Every run, oldest first, and how many have a failure record. */
  list(): Promise<{ runs: RunSummary[]; failures: number }>;
}

/**
 * `listRuns` for a long-lived reader: a run directory is read once and then served from memory
 * until its modification time changes (a failure recorded into an existing run adds a file to it;
 * nothing else changes a run). While the report directory itself is unchanged a request costs one
 * stat; after a change, one readdir and one stat per run, instead of two or three file reads per
 * run (0.9 s per index request at 5,000 runs before; see bench/hardening).
 */
export function createRunIndex(dir: string): RunIndex {
  const cache = new Map<string, { mtimeMs: number; summary: RunSummary | null; failed: boolean }>();
  // The whole answer, valid while the report directory's mtime stays the same: every store write
  // (a new run, a failure recorded into a run, which also rewrites latest.json, a pruned run)
  // renames an entry in it. Only trusted once that mtime is a second old, so a write in the same
  // timestamp tick as our listing cannot go unseen (git's "racy" check).
  let whole: { mtimeMs: number; value: { runs: RunSummary[]; failures: number } } | null = null;
  return {
    async list() {
      const top = await stat(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (top !== null && whole !== null && whole.mtimeMs === top.mtimeMs) return whole.value;
      const value = await listAll();
      whole = top !== null && Date.now() - top.mtimeMs > 1000 ? { mtimeMs: top.mtimeMs, value } : null;
      return value;
    },
  };

  async function listAll(): Promise<{ runs: RunSummary[]; failures: number }> {
    const ids = await runIds(dir);
    const present = new Set(ids);
    for (const id of cache.keys()) if (!present.has(id)) cache.delete(id);
    const entries = await Promise.all(
      ids.map(async (id) => {
        let mtimeMs: number;
        try {
          mtimeMs = (await stat(join(dir, id))).mtimeMs;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // pruned meanwhile
          throw err;
        }
        const cached = cache.get(id);
        if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached;
        const fresh = { mtimeMs, ...(await readRunEntry(dir, id)) };
        cache.set(id, fresh);
        return fresh;
      }),
    );
    const runs: RunSummary[] = [];
    let failures = 0;
    for (const e of entries) {
      if (e === null) continue;
      if (e.summary !== null) runs.push(e.summary);
      if (e.failed) failures++;
    }
    return { runs: runs.sort(byFinished), failures };
  }
}

/**
 * Retention: removes all but the newest `keepLast` runs (successful or failed, by finish time),
 * never the run `latest.json` points at. A run directory is renamed away before it is deleted, so a
 * reader never sees half a run. Returns the removed run ids.
 */
export async function pruneRuns(dir: string, keepLast: number): Promise<string[]> {
  if (!(Number.isInteger(keepLast) && keepLast >= 1)) throw new InputError('bad_keep_last', `keep-last must be a whole number >= 1 (got ${keepLast})`);
  const runs = await listRuns(dir);
  if (runs.length <= keepLast) return [];
  const latest = await readLatestOrNull(dir);
  const removed: string[] = [];
  for (const r of runs.slice(0, runs.length - keepLast)) {
    if (r.run_id === latest?.run_id) continue;
    const doomed = join(dir, tmpName(`pruned-${r.run_id}`));
    try {
      await rename(join(dir, r.run_id), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another pruner got it
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
    removed.push(r.run_id);
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed;
}

/** The newest `failed.json` in `dir`, as a `last_failure`. */
async function findLastFailure(dir: string): Promise<LatestPointer['last_failure']> {
  let last: LatestPointer['last_failure'] = null;
  for (const id of await runIds(dir)) {
    const f = (await readJson(join(dir, id, 'failed.json'))) as Partial<FailedRun> | undefined;
    if (f === undefined || f === null || typeof f.failed_at !== 'string') continue;
    if (last === null || f.failed_at > last.at) last = { at: f.failed_at, message: String(f.message ?? '') };
  }
  return last;
}

/** Number of failed runs recorded in `dir` (survives restarts: it is the count of `failed.json` files). */
export async function countFailedRuns(dir: string): Promise<number> {
  let n = 0;
  for (const id of await runIds(dir)) {
    try {
      const fh = await open(join(dir, id, 'failed.json'), 'r');
      await fh.close();
      n += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return n;
}

/** Reads and parses `DIR/<run-id>/drift.json`. Throws `corrupt_run` (500) when it is not JSON. */
export async function readRun(dir: string, runId: string): Promise<DriftResult | null> {
  assertRunId(runId);
  let text: string;
  try {
    text = await readFile(join(dir, runId, 'drift.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text) as DriftResult;
  } catch (err) {
    throw new SentinelError('corrupt_run', `drift.json of run "${runId}" is not valid JSON`, { expose: true, cause: err, details: { path: join(dir, runId, 'drift.json') } });
  }
}
