/**
 * One drift run end to end, for the CLI, the scheduler and the demo: read the current window, get
 * the reference profile (cache or CSV), test every column on worker threads, save through the report
 * store. Failures are one-line `SentinelError`s, recorded in the store as a failed run.
 */

import { availableParallelism } from 'node:os';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError, SentinelError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { readHeader, readLog } from '../../io/log/reader.ts';
import type { ReadResult, SkippedEntry } from '../../table/csv.ts';
import { loadDriftCard } from '../../io/model/card.ts';
import { planLogRead, readLogIncremental, type IncrementalRead } from '../../io/log/file-cache.ts';
import type { SortedRuns } from '../../stats/index.ts';
import { newRunId, pruneRuns, recordFailedRun } from '../../io/report-store.ts';
import { saveRun } from './save-run.ts';
import { getStatTest } from '../../stats/index.ts';
import { cacheKey, hasCachedProfiles, loadCachedProfile, referenceIdentity, saveCachedProfile, type ReferenceProfile } from '../../io/cache/profile-cache.ts';
import { readLogInWorker, type BackgroundRead } from '../../io/log/read-worker.ts';
import type { CategoricalColumn, Column, ColumnDigest } from '../../table/columns.ts';
import { assembleResult, planColumns, testNeedsInputOrder, type DriftOptions } from '../../drift/detect.ts';
import { CONFIDENCE, LOG_UTILITY_COLUMNS, PREDICTION_COLUMN, probabilityColumns, REQUEST_ID } from '../../drift/log-columns.ts';
import { readLabels, labelDirOf } from '../../io/log/labels.ts';
import type { PerformanceInput } from '../../drift/performance.ts';
import { pickClassProba, type PredictionSide } from '../../drift/probabilities.ts';
import { estimateWithCbpe, type CbpeFitCache } from '../../drift/estimate.ts';
import { parseDuration } from '../../drift/duration.ts';
import { createColumnPool } from './pool.ts';
import { profileDigest, type SideProfile } from '../../drift/profile.ts';
import type { CbpeChunking, ColumnDrift, DriftResult, PerformanceSection } from '../../drift/result.ts';
import type { ColumnType } from '../../table/columns.ts';
import type { ColumnTask } from '../../drift/task.ts';
import { alarmOptionsProblem, alarmsActive, applyMultipleTesting, columnCompat, finalizeAlarms, periodKey, type AlarmOptions } from '../../drift/alarms.ts';
import { readTimestampColumn } from '../../io/log/timestamps.ts';
import { chunksByPeriod } from '../../stats/index.ts';
import { loadCalibration, saveCalibration } from '../../io/cache/calibration-cache.ts';
import { cbpeCacheName, loadCbpeFits, saveCbpeFits } from '../../io/cache/cbpe-cache.ts';

export interface DriftJobOptions extends DriftOptions {
  /** Reference CSV file. */
  reference: string;
  /** Prediction-log directory or a plain CSV. */
  current: string;
  /** Report store directory (DIR/<run-id>/drift.json, report.html, DIR/latest.json). */
  out: string;
  /** Only current rows with `timestamp` >= now − since, e.g. `24h`. */
  since?: string;
  /** Restrict the comparison to these feature columns. */
  columns?: readonly string[];
  /**
   * Model card (models/model.json format) giving column types. Default: `<current>/model.json` when
   * `current` is a directory and has one; otherwise types are inferred as Evidently does.
   */
  modelCard?: string;
  /** Label directory of POST /feedback; default `<current>/labels` when `current` is a log directory. */
  labels?: string;
  /** Labels received up to this long after the window's end count (e.g. `7d`); default: every label on disk. */
  labelDelay?: string;
  /** Reference column with the true class; default the card's `training.target`. */
  target?: string;
  /** CBPE per chunk of the window too (NannyML's chunkers); default: the whole window only. */
  cbpeChunking?: CbpeChunking;
  /** Worker threads for the column tests; default: available parallelism; 0 runs inline. */
  workers?: number;
  /** Use and fill the caches: the reference profile, and the parsed closed files of a log directory (default true). */
  cache?: boolean;
  /** With `cache`: use and fill the log-file cache too (default true); false re-reads every log file. */
  logCache?: boolean;
  /** Bound on the log-file cache's size (default 2 GiB; see src/io/log/file-cache.ts). */
  logCacheMaxBytes?: number;
  /** Cache directory; default `<out>/.cache`. */
  cacheDir?: string;
  /** Save through the report store (default true). False: compute and return only. */
  save?: boolean;
  /** Record a failed run in the store when the run cannot complete (default true when saving). */
  recordFailure?: boolean;
  /** Retention: after saving, keep only this many newest runs in the store (default: keep all). */
  keepLast?: number;
  runId?: string;
  now?: () => Date;
  logger?: Logger;
  onProgress?: (p: DriftProgress) => void;
  /** Alarm mode (calibrated thresholds, multiple-testing control); default Evidently's. See alarms.ts. */
  alarm?: AlarmOptions;
}

export interface DriftProgress {
  phase: 'current' | 'reference' | 'columns';
  rowsRead?: number;
  columnsDone?: number;
  columnsTotal?: number;
}

export interface DriftJobOutcome {
  result: DriftResult;
  /** Run directory in the store, null when not saved. */
  runDir: string | null;
  /** Whether the reference profile came from the cache. */
  cache: { status: 'hit' | 'miss' | 'off'; file: string | null };
  /** The log-file cache of a log directory: files taken from it, parsed, stored; null when not used. */
  logCache: IncrementalRead['stats'] | null;
  /** Threads that ran the column tests (0 = inline). */
  workers: number;
  /** Rows of the current data dropped: torn last lines, skipped rows by reason, rows outside the window. */
  current: { rowsRead: number; filtered: number; tornLines: number; skipped: Record<string, number>; skippedEntries: SkippedEntry[] };
  timings: Record<string, number>;
}

/** What is wrong with a CBPE chunking, or null. */
export function cbpeChunkingProblem(c: CbpeChunking | undefined): string | null {
  if (c === undefined) return null;
  if (c.method === 'size' && !(Number.isInteger(c.size) && c.size! > 0)) return `--cbpe-chunk-size must be a whole number >= 1 (got ${c.size})`;
  if (c.method === 'number' && !(Number.isInteger(c.number) && c.number! > 0)) return `--cbpe-chunk-number must be a whole number >= 1 (got ${c.number})`;
  if (c.method === 'period' && (c.period === undefined || !(parseDuration(c.period)! > 0))) return `--cbpe-chunk-period must be a duration like 1d or 6h (got "${c.period}")`;
  if (!['size', 'number', 'period'].includes(c.method)) return `unknown CBPE chunking "${c.method}"`;
  return null;
}

/** Checks options that do not need the data; throws InputError naming the first problem. */
export function validateDriftOptions(opts: DriftJobOptions): { sinceMs: number | null } {
  let sinceMs: number | null = null;
  if (opts.since !== undefined) {
    sinceMs = parseDuration(opts.since);
    if (sinceMs === null) throw new InputError('bad_since', `--since must be a duration like 24h, 30m or 7d (got "${opts.since}")`);
  }
  const names = [opts.stattest, ...Object.values(opts.perColumnStattest ?? {})].filter((n): n is string => n !== undefined);
  for (const n of names) {
    try {
      getStatTest(n);
    } catch (err) {
      throw new InputError('unknown_stattest', (err as Error).message.split('\n')[0], { cause: err });
    }
  }
  for (const t of [opts.threshold, ...Object.values(opts.perColumnThreshold ?? {})]) {
    if (t !== undefined && !(Number.isFinite(t) && t >= 0)) throw new InputError('bad_threshold', `--threshold must be a non-negative number (got ${t})`);
  }
  const alarmProblem = alarmOptionsProblem(opts.alarm);
  if (alarmProblem !== null) throw new InputError('bad_alarm', alarmProblem);
  if (opts.labelDelay !== undefined && parseDuration(opts.labelDelay) === null) {
    throw new InputError('bad_label_delay', `--label-delay must be a duration like 24h, 30m or 7d (got "${opts.labelDelay}")`);
  }
  const chunkProblem = cbpeChunkingProblem(opts.cbpeChunking);
  if (chunkProblem !== null) throw new InputError('bad_cbpe_chunking', chunkProblem);
  if (opts.driftShare !== undefined && !(opts.driftShare > 0 && opts.driftShare <= 1)) throw new InputError('bad_drift_share', `drift share must be in (0, 1] (got ${opts.driftShare})`);
  return { sinceMs };
}

/**
 * Below this many bytes of CSV to parse (current + an uncached reference; ~250k rows of Adult), a
 * run stays on one thread: worker start-up would cost more than it saves (see bench/drift, 10k/50k).
 */
const INLINE_BELOW_BYTES = 32 * 1024 * 1024;

/** Bytes of the CSV data: the file, or every *.csv of a log directory. */
async function csvBytes(path: string, isDir: boolean): Promise<number> {
  if (!isDir) return (await stat(path)).size;
  let total = 0;
  for (const name of await readdir(path)) {
    if (!name.toLowerCase().endsWith('.csv')) continue;
    total += await stat(join(path, name)).then((s) => (s.isFile() ? s.size : 0), () => 0);
  }
  return total;
}

/** Reads, detects, saves. See DriftJobOptions. */
export async function runDriftJob(opts: DriftJobOptions): Promise<DriftJobOutcome> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  const runId = opts.runId ?? newRunId(startedAt);
  const save = opts.save ?? true;
  const prune = async () => {
    if (!save || opts.keepLast === undefined) return;
    try {
      const removed = await pruneRuns(opts.out, opts.keepLast);
      if (removed.length > 0) opts.logger?.info({ event: 'runs_pruned', removed: removed.length, keep_last: opts.keepLast }, 'old runs removed (retention)');
    } catch (err) {
      opts.logger?.warn({ event: 'runs_not_pruned', err }, 'could not remove old runs (retention)');
    }
  };
  try {
    const outcome = await runDriftJobInner(opts, runId, startedAt, now);
    await prune();
    return outcome;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    if (save && (opts.recordFailure ?? true)) {
      try {
        await recordFailedRun(opts.out, runId, message, now());
      } catch (recErr) {
        opts.logger?.warn({ event: 'failed_run_not_recorded', err: recErr }, 'could not record the failed run');
      }
      await prune();
    }
    if (err instanceof SentinelError) throw err;
    throw new SentinelError('drift_failed', message, { cause: err });
  }
}

async function runDriftJobInner(opts: DriftJobOptions, runId: string, startedAt: Date, now: () => Date): Promise<DriftJobOutcome> {
  const log = opts.logger?.child({ component: 'drift', run_id: runId });
  const { sinceMs: sinceDuration } = validateDriftOptions(opts);
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const t2 = performance.now();
    timings[name] = Math.round(t2 - t);
    t = t2;
  };

  // Inputs must exist before any work; the reference header decides the columns.
  const referenceHeader = await readHeader(opts.reference);
  const currentIsDir = (await stat(opts.current).catch((err: NodeJS.ErrnoException) => {
    throw new InputError('not_found', `cannot read ${opts.current}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, { cause: err });
  })).isDirectory();
  let cardPath = opts.modelCard;
  if (cardPath === undefined && currentIsDir) {
    const candidate = join(opts.current, 'model.json');
    if (await stat(candidate).then((s) => s.isFile(), () => false)) cardPath = candidate;
  }
  const card = cardPath === undefined ? undefined : await loadDriftCard(cardPath);
  const declared = card?.types;
  // Model quality needs the card's classes; the window's ids and confidences are then kept too.
  const quality = card?.quality ?? null;
  // Per-class probabilities (log contract v2) are model outputs, never drift features; timestamps
  // are kept only for CBPE chunks (time order, periods).
  const probaNames = quality === null ? [] : probabilityColumns(quality.classes);
  const chunkTimes = quality !== null && opts.cbpeChunking !== undefined;
  const utility: ReadonlySet<string> = new Set([...LOG_UTILITY_COLUMNS, ...probaNames]);
  const qualityColumns = new Set(quality === null ? [] : [REQUEST_ID, CONFIDENCE, ...probaNames]);
  const currentTypes =
    quality === null
      ? declared
      : new Map([
          ...(declared ?? []),
          [REQUEST_ID, 'categorical'],
          [CONFIDENCE, 'numerical'],
          ...probaNames.map((n) => [n, 'numerical']),
        ] as [string, ColumnType][]);

  const useCache = opts.cache ?? true;
  const cacheDir = opts.cacheDir ?? join(opts.out, '.cache');
  const identity = useCache ? await referenceIdentity(opts.reference) : null;
  const referenceCached = identity !== null && (await hasCachedProfiles(cacheDir, identity.prefix));
  // A log directory: closed files come from the log-file cache, only new and open ones are parsed.
  const keepNames = [...referenceHeader.filter((n) => !utility.has(n)), ...[...qualityColumns].filter((n) => !referenceHeader.includes(n) || utility.has(n))];
  const logCache = { dir: cacheDir, maxBytes: opts.logCacheMaxBytes };
  // CBPE chunks need each row's timestamp, which only a full read returns (not the log-file cache).
  const logPlan = useCache && currentIsDir && (opts.logCache ?? true) && !chunkTimes ? await planLogRead(opts.current, { types: currentTypes, keepNames }, logCache) : null;
  // Threads pay off only on large inputs: each costs tens of ms of start-up and module loading.
  const currentBytes = logPlan !== null ? logPlan.bytesToParse : await csvBytes(opts.current, currentIsDir);
  // Alarm-mode calibration (resampling, chunks) is heavy whatever the input size: it keeps the pool.
  const small = !alarmsActive(opts.alarm) && currentBytes + (referenceCached ? 0 : (await stat(opts.reference)).size) < INLINE_BELOW_BYTES;
  const workers = Math.max(0, Math.floor(opts.workers ?? (small ? 0 : availableParallelism())));
  const pool = createColumnPool(workers);
  let background: BackgroundRead | null = null;
  let incremental: IncrementalRead | null = null;
  try {
    const sinceMs = sinceDuration === null ? undefined : now().getTime() - sinceDuration;
    const wanted = new Set(referenceHeader);
    // A reference never profiled before is parsed on another thread while this one parses the current data.
    if (!referenceCached && workers > 0) {
      background = readLogInWorker(
        opts.reference,
        { types: declared, keepNames: referenceHeader.filter((n) => !utility.has(n)), unterminatedLastLine: 'row' },
        (rowsRead) => opts.onProgress?.({ phase: 'reference', rowsRead }),
      );
    }
    const onCurrentProgress = (rowsRead: number): void => opts.onProgress?.({ phase: 'current', rowsRead });
    let current: ReadResult;
    let runsOf: (name: string) => SortedRuns | null = () => null;
    let logStats: IncrementalRead['stats'] | null = null;
    let digests: Map<string, ColumnDigest> | null = null;
    if (logPlan !== null) {
      // Digests (the files' summaries merged, no rows) when nothing of the run reads rows: no model
      // quality (joins rows by id), no alarm calibration (resamples rows), no input-order test.
      const useDigests = quality === null && !alarmsActive(opts.alarm) && !referenceHeader.some((n) => testNeedsInputOrder(n, opts));
      // Its cache entries are published once the run has succeeded (a failed run leaves nothing).
      const inc = await readLogIncremental(opts.current, { sinceMs, types: currentTypes, keepNames, onProgress: onCurrentProgress, deferWrites: true, digests: useDigests }, logCache, logPlan);
      incremental = inc;
      current = inc.result;
      runsOf = inc.runs;
      digests = inc.digests;
      logStats = inc.stats;
      log?.debug({ event: 'log_file_cache', ...logStats, digests: digests !== null }, 'log-file cache');
    } else {
      current = await readLog(opts.current, {
        sinceMs,
        types: currentTypes,
        keep: (name) => (wanted.has(name) && !utility.has(name)) || qualityColumns.has(name),
        timestamps: chunkTimes,
        onProgress: onCurrentProgress,
      });
    }
    lap('read_current');
    if (current.skippedEntries.length > 0) log?.warn({ event: 'log_entries_skipped', skipped_entries: current.skippedEntries }, `${current.skippedEntries.length} entries of the log directory are not regular files and were skipped`);
    if (current.table.rows === 0) {
      const dropped = current.skippedRows + current.tornLines;
      const why = current.rowsRead === 0 && dropped === 0 ? 'has no data rows' : current.filtered > 0 && sinceMs !== undefined ? `has no rows in the last ${opts.since}` : 'has no usable rows';
      throw new InputError('empty_window', `current data ${opts.current} ${why} (${current.rowsRead} read, ${current.filtered} outside the window, ${current.skippedRows} skipped, ${current.tornLines} torn)`);
    }
    let currentColumns: ReadonlyMap<string, Column | ColumnDigest> = digests ?? current.table.columns;
    if (opts.columns !== undefined) {
      const unknown = opts.columns.filter((c) => !referenceHeader.includes(c) || !currentColumns.has(c));
      if (unknown.length > 0) throw new InputError('unknown_columns', `--columns not in both datasets: ${unknown.join(', ')}`);
    }
    // A prediction log (or a model card) says which column is the model's output; see planColumns.
    let plan = planColumns(referenceHeader, { columns: currentColumns }, declared, opts.columns, currentIsDir || declared !== undefined, utility);
    if (digests !== null && [...plan.features, ...(plan.prediction === null ? [] : [plan.prediction])].some((f) => ('text' in f && f.text) || (f.type === 'categorical' && digests!.get(f.name)!.kind === 'numerical' && profileDigest(digests!.get(f.name)!, f.type) === null))) {
      // A text column, or a numerical column tested as categorical with too many first-seen values: rows after all.
      log?.debug({ event: 'log_file_cache_rows_merged' }, 'log-file cache: the digests cannot serve this run; merging rows');
      await incremental!.finish(false);
      const inc = await readLogIncremental(opts.current, { sinceMs, types: currentTypes, keepNames, onProgress: onCurrentProgress, deferWrites: true }, logCache, logPlan!);
      incremental = inc;
      current = inc.result;
      runsOf = inc.runs;
      digests = null;
      logStats = inc.stats;
      currentColumns = current.table.columns;
      plan = planColumns(referenceHeader, current.table, declared, opts.columns, currentIsDir || declared !== undefined, utility);
    }
    if (plan.features.length === 0) {
      throw new InputError('no_shared_columns', `no feature columns shared by ${opts.reference} and ${opts.current}`);
    }
    const planned = [...plan.features.map((f) => ({ name: f.name, type: f.type })), ...(plan.prediction === null ? [] : [plan.prediction])];

    // Reference: the cached profile, else the CSV (profiled by the workers, then cached).
    let cached: ReferenceProfile | null = null;
    let cacheFile: string | null = null;
    let key: { key: string; file: string } | null = null;
    if (useCache) {
      key = await cacheKey({ path: opts.reference, columns: planned });
      cacheFile = join(cacheDir, key.file);
      cached = await loadCachedProfile(cacheDir, key.key, key.file).catch((err: unknown) => {
        log?.warn({ event: 'reference_cache_unreadable', err, file: cacheFile }, 'reference cache unreadable; profiling the CSV');
        return null;
      });
      log?.debug({ event: 'reference_cache', file: cacheFile, hit: cached !== null }, 'reference cache');
    }
    // Alarm modes: calibration samples cached beside the reference profile (alarms.ts).
    const alarm = alarmsActive(opts.alarm) ? opts.alarm! : undefined;
    const calibration = alarm === undefined ? null : useCache && key !== null ? await loadCalibration(cacheDir, key.key) : new Map<string, number[]>();
    // Time chunks: placed from the reference's timestamps and raw columns, once; then cached per column.
    let rowRanges: [number, number][] | undefined;
    let timestampRows = 0;
    if (alarm?.chunkPeriod !== undefined && planned.some((p) => !calibration!.has(periodKey(p.name, alarm.chunkPeriod!)))) {
      cached = null;
      const ts = await readTimestampColumn(opts.reference);
      timestampRows = ts.length;
      try {
        rowRanges = chunksByPeriod(ts, parseDuration(alarm.chunkPeriod)!).map((r) => [r.start, r.end]);
      } catch (err) {
        throw new InputError('bad_timestamps', `reference ${opts.reference}: ${(err as Error).message}`, { cause: err });
      }
    }
    lap('cache_lookup');
    let reference: ReadResult | null = null;
    if (cached === null) {
      if (background === null) {
        const names = new Set(planned.map((p) => p.name));
        reference = await readLog(opts.reference, {
          types: declared,
          keep: (name) => names.has(name),
          unterminatedLastLine: 'row',
          onProgress: (rowsRead) => opts.onProgress?.({ phase: 'reference', rowsRead }),
        });
      } else {
        reference = await background.result;
        background = null;
      }
      if (reference.table.rows === 0) throw new InputError('empty_reference', `reference ${opts.reference} has no data rows`);
      if (rowRanges !== undefined && timestampRows !== reference.table.rows) {
        throw new InputError('bad_timestamps', `reference ${opts.reference}: ${timestampRows} timestamps for ${reference.table.rows} data rows (rows skipped as malformed?)`);
      }
      if (reference.skippedRows + reference.tornLines > 0) {
        log?.warn({ event: 'reference_rows_skipped', skipped: reference.skipped, torn: reference.tornLines }, 'reference rows skipped');
      }
    }
    lap('read_reference');

    const options: DriftOptions = {
      stattest: opts.stattest,
      perColumnStattest: opts.perColumnStattest,
      threshold: opts.threshold,
      perColumnThreshold: opts.perColumnThreshold,
      compat: opts.compat,
      driftShare: opts.driftShare,
      maxChartCategories: opts.maxChartCategories,
      chartBins: opts.chartBins,
    };
    const calibrationFor = (name: string): [string, number[]][] => [...(calibration ?? [])].filter(([k]) => k.startsWith(`${name}|`));
    const tasks: ColumnTask[] = planned.map((p, id) => {
      const isPrediction = plan.prediction !== null && p.name === plan.prediction.name && id === planned.length - 1;
      const text = plan.features.find((f) => f.name === p.name)?.text ?? false;
      const refSide: ColumnTask['reference'] = cached !== null ? { profile: cached.columns.get(p.name)! } : { raw: reference!.table.columns.get(p.name) as Column };
      // Calibrated columns run the corrected tests unless compat was asked for (columnCompat).
      const taskOptions = alarm === undefined ? options : { ...options, compat: columnCompat(p.name, alarm, opts.compat) };
      const runs = p.type === 'numerical' ? runsOf(p.name) : null;
      const task: ColumnTask = { id, name: p.name, type: p.type, text, reference: refSide, current: currentColumns.get(p.name)!, ...(runs !== null ? { currentRuns: runs } : {}), options: taskOptions, prediction: isPrediction };
      if (alarm !== undefined) task.alarm = { options: alarm, familySize: isPrediction ? 1 : plan.features.length, cached: calibrationFor(p.name), ...(rowRanges !== undefined ? { rowRanges } : {}) };
      return task;
    });
    // Taken before the columns move to the workers.
    const qualityInput = quality === null ? null : pickQualityColumns(current.table.columns, quality.classes, current.timestamps ?? null);
    // The tables' arrays now move to the workers; drop our references so memory can be reclaimed.
    current.table.columns.clear();
    reference?.table.columns.clear();
    const results = await pool.run(tasks, (done, total) => opts.onProgress?.({ phase: 'columns', columnsDone: done, columnsTotal: total }));
    lap('columns');

    let drifts: ColumnDrift[] = results.map((r) => r.drift!);
    let prediction = plan.prediction === null ? null : drifts.pop()!;
    const fresh = new Map(results.flatMap((r) => r.calibration?.fresh ?? []));
    if (alarm !== undefined) {
      const nulls = new Map(results.flatMap((r, i) => (r.calibration?.nullSample != null ? [[planned[i].name, r.calibration.nullSample] as [string, number[]]] : [])));
      drifts = applyMultipleTesting(drifts, alarm, nulls);
      if (prediction !== null) prediction = applyMultipleTesting([prediction], alarm, nulls)[0];
    }
    const referenceRows = cached !== null ? cached.rows : reference!.table.rows;
    const result = finalizeAlarms(assembleResult(
      drifts,
      prediction,
      {
        runId,
        startedAt,
        finishedAt: now(),
        since: opts.since ?? null,
        window: { from: current.from, to: current.to },
        reference: { path: opts.reference, rows: referenceRows },
        current: { path: opts.current, rows: current.table.rows, files: current.files.length, torn_lines: current.tornLines, skipped_rows: current.skippedRows, skipped_entries: current.skippedEntries },
      },
      options,
    ), alarm, opts.compat);
    if (useCache && key !== null && fresh.size > 0) {
      try {
        await saveCalibration(cacheDir, key.key, new Map([...calibration!, ...fresh]));
      } catch (err) {
        log?.warn({ event: 'alarm_cache_not_written', err }, 'could not write the alarm calibration cache');
      }
    }

    if (quality !== null && qualityInput !== null) {
      const performance = await measurePerformance(opts, quality, qualityInput, current.to, currentIsDir, declared, useCache ? { dir: cacheDir, identity: identity!.prefix, log } : null);
      if (performance !== null) result.performance = performance;
      lap('performance');
    }

    let cacheStatus: 'hit' | 'miss' | 'off' = useCache ? (cached !== null ? 'hit' : 'miss') : 'off';
    if (useCache && cached === null && key !== null) {
      const columns = new Map<string, SideProfile>();
      results.forEach((r, i) => columns.set(planned[i].name, r.referenceProfile!));
      try {
        await saveCachedProfile(cacheDir, key.key, key.file, { path: resolve(opts.reference), rows: referenceRows, header: referenceHeader, columns });
      } catch (err) {
        cacheStatus = 'miss';
        log?.warn({ event: 'reference_cache_not_written', err, file: cacheFile }, 'could not write the reference cache');
      }
    }
    await incremental?.finish(true);
    lap('cache_write');

    let runDir: string | null = null;
    if (opts.save ?? true) {
      runDir = (await saveRun(opts.out, result)).runDir;
      lap('save');
    }
    log?.info({ event: 'drift_run_complete', drift_score: result.drift_score, dataset_drift: result.dataset_drift, cache: cacheStatus, timings }, 'drift run complete');
    return {
      result,
      runDir,
      cache: { status: cacheStatus, file: cacheFile },
      logCache: logStats,
      workers: pool.size,
      current: { rowsRead: current.rowsRead, filtered: current.filtered, tornLines: current.tornLines, skipped: current.skipped, skippedEntries: current.skippedEntries },
      timings,
    };
  } finally {
    await incremental?.finish(false); // a no-op once published
    await pool.close();
    await background?.cancel();
  }
}

function pickQualityColumns(columns: Map<string, Column>, classes: readonly string[], timestamps: Float64Array | null): { ids: CategoricalColumn | null; side: PredictionSide; timestamps: Float64Array | null } | null {
  const pred = columns.get(PREDICTION_COLUMN);
  if (pred === undefined || pred.kind !== 'categorical') return null;
  const ids = columns.get(REQUEST_ID);
  const conf = columns.get(CONFIDENCE);
  // A copy of the prediction codes: the column's own buffer is transferred to a worker (detached
  // here). The probability columns are never drift columns, so they stay here as they are.
  const predictions: CategoricalColumn = { ...pred, codes: pred.codes.slice() };
  const classProba = pickClassProba(columns, classes);
  return {
    ids: ids !== undefined && ids.kind === 'categorical' ? ids : null,
    side: { predictions, confidence: conf !== undefined && conf.kind === 'numerical' ? conf : null, classProba },
    timestamps,
  };
}

/**
 * Reads the labels (received up to window end + delay) and the reference's target and outputs, then
 * joins and measures. Null when there is nothing to measure: no labels and no labelled reference.
 */
async function measurePerformance(
  opts: DriftJobOptions,
  quality: { classes: string[]; target: string | null },
  cur: { ids: CategoricalColumn | null; side: PredictionSide; timestamps: Float64Array | null },
  windowTo: string | null,
  currentIsDir: boolean,
  declared: ReadonlyMap<string, ColumnType> | undefined,
  /** Where CBPE's reference fit is cached (null: --no-cache). */
  cache: { dir: string; identity: string; log: Logger | undefined } | null,
): Promise<PerformanceSection | null> {
  const labelPath = opts.labels ?? (currentIsDir ? labelDirOf(opts.current) : null);
  const delayMs = opts.labelDelay === undefined ? null : parseDuration(opts.labelDelay);
  const untilMs = delayMs === null || windowTo === null ? undefined : Date.parse(windowTo) + delayMs;
  const labels = labelPath === null ? null : await readLabels(labelPath, { untilMs });
  const target = opts.target ?? quality.target;
  let reference: PerformanceInput['reference'] = null;
  let fitCache: { name: string; fits: CbpeFitCache; loaded: number } | null = null;
  if (target !== null) {
    const header = await readHeader(opts.reference);
    if (header.includes(target) && header.includes(PREDICTION_COLUMN)) {
      const probaNames = probabilityColumns(quality.classes);
      const wantedRef = new Set([target, PREDICTION_COLUMN, CONFIDENCE, ...probaNames]);
      const types = new Map<string, ColumnType>([
        ...(declared ?? []),
        [target, 'categorical'],
        [PREDICTION_COLUMN, 'categorical'],
        [CONFIDENCE, 'numerical'],
        ...probaNames.map((n): [string, ColumnType] => [n, 'numerical']),
      ]);
      const ref = await readLog(opts.reference, { types, keep: (n) => wantedRef.has(n), unterminatedLastLine: 'row' });
      // Chunks in time order: the reference's timestamps as the alarm chunks read them (naive = UTC).
      let times: Float64Array | null = null;
      if (opts.cbpeChunking !== undefined && header.includes('timestamp')) {
        times = await readTimestampColumn(opts.reference);
        if (times.length !== ref.table.rows) throw new InputError('bad_timestamps', `reference ${opts.reference}: ${times.length} timestamps for ${ref.table.rows} data rows (rows skipped as malformed?)`);
      }
      const side = pickQualityColumns(ref.table.columns, quality.classes, times);
      const y = ref.table.columns.get(target);
      if (side !== null && y !== undefined && y.kind === 'categorical') reference = { target, labels: y, side: side.side, timestamps: side.timestamps };
      if (reference !== null && cache !== null) {
        // What picks and reads these rows; the file itself is in the identity.
        const name = cbpeCacheName(cache.identity, { classes: quality.classes, target, types: [...wantedRef].sort().map((n) => [n, types.get(n)]) });
        const fits = await loadCbpeFits(cache.dir, name);
        fitCache = { name, fits, loaded: fits.size };
      }
    }
  }
  if ((labels === null || labels.files.length === 0) && reference === null) return null;
  // Loaded here, not at start-up: most runs have no labels (classification metrics, CBPE).
  const { assessPerformance } = await import('../../drift/performance.ts');
  const section = assessPerformance({
    classes: quality.classes,
    current: cur,
    labels: {
      map: labels?.labels ?? new Map(),
      meta: {
        path: labelPath ?? '',
        files: labels?.files.length ?? 0,
        rows: labels?.rows ?? 0,
        superseded: labels?.superseded ?? 0,
        late: labels?.late ?? 0,
        torn_lines: labels?.tornLines ?? 0,
        skipped_rows: Object.values(labels?.skipped ?? {}).reduce((a, b) => a + b, 0),
        delay: opts.labelDelay ?? null,
        until: untilMs === undefined ? null : new Date(untilMs).toISOString(),
      },
    },
    reference,
    chunking: opts.cbpeChunking === undefined ? null : withPeriodMs(opts.cbpeChunking),
    estimate: (input) => estimateWithCbpe({ ...input, fitCache: fitCache?.fits }),
  });
  if (cache !== null && fitCache !== null && fitCache.fits.size > fitCache.loaded) {
    try {
      await saveCbpeFits(cache.dir, fitCache.name, fitCache.fits);
    } catch (err) {
      cache.log?.warn({ event: 'cbpe_cache_not_written', err }, 'could not write the CBPE reference-fit cache');
    }
  }
  return section;
}

function withPeriodMs(c: CbpeChunking): CbpeChunking {
  return c.method === 'period' ? { ...c, periodMs: parseDuration(c.period!)! } : c;
}
