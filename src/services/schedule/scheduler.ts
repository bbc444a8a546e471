/**
 * A fixed-rate local scheduler: the stand-in for the drift CronJob (`concurrencyPolicy: Forbid`).
 *
 * Ticks come every `every` ms from the start (a slow run does not shift the schedule). Never two
 * runs at once: a tick that arrives while a run is in progress is skipped and logged. A failed run
 * is logged, counted and handed to `onFailure` (which records it); the schedule goes on.
 * `stop()` cancels future ticks and resolves after the current run has finished.
 *
 * The job and the clock are parameters, so tests drive ticks by hand and never wait on real time.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../logger.ts';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type TickOutcome =
  | { status: 'ok'; run: number; durationMs: number; result: unknown }
  | { status: 'failed'; run: number; durationMs: number; error: unknown }
  | { status: 'skipped'; reason: 'running' | 'stopped' };

export interface SchedulerStats {
  runs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  running: boolean;
  lastError: string | null;
}

export interface SchedulerOptions<T> {
  /** Interval between ticks, in milliseconds. */
  every: number;
  /** One drift run. Throwing (or rejecting) marks the run failed. */
  job: () => Promise<T>;
  logger: Logger;
  /** Records a failed run (e.g. `recordFailedRun`); its own errors are logged, never thrown. */
  onFailure?: (err: unknown) => Promise<void>;
  /** Run once at start (default true), like `sentinel drift` followed by the schedule. */
  runAtStart?: boolean;
  clock?: Clock;
}

export interface Scheduler extends EventEmitter {
  /** Starts ticking. */
  start(): void;
  /** One tick now: runs the job unless a run is in progress (then it is skipped). */
  tick(): Promise<TickOutcome>;
  /** No more ticks; resolves once the current run (if any) has finished. */
  stop(): Promise<void>;
  stats(): SchedulerStats;
}

function describe(result: unknown): Record<string, unknown> {
  if (result === null || typeof result !== 'object') return {};
  const r = result as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['run_id', 'drift_score', 'dataset_drift', 'drift_share', 'runDir', 'cpu_ms']) if (k in r) out[k] = r[k];
  return out;
}

/**
 * Events: `run` (a run started, `{ run }`), `success` / `failure` / `skip` (the TickOutcome),
 * `stopped` (after stop() resolved).
 */
export function createScheduler<T>(opts: SchedulerOptions<T>): Scheduler {
  if (!(opts.every > 0) || !Number.isFinite(opts.every)) throw new RangeError(`every must be a positive number of milliseconds (got ${opts.every})`);
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger.child({ component: 'schedule' });
  const events = new EventEmitter() as Scheduler;
  let current: Promise<TickOutcome> | null = null;
  let timer: unknown = null;
  let started = false;
  let stopped = false;
  let startedAt = 0;
  let ticks = 0;
  const stats = { runs: 0, succeeded: 0, failed: 0, skipped: 0, lastError: null as string | null };

  async function runOnce(run: number): Promise<TickOutcome> {
    const t0 = clock.now();
    logger.info({ event: 'drift_run_started', run }, 'drift run started');
    events.emit('run', { run });
    try {
      const result = await opts.job();
      const durationMs = clock.now() - t0;
      stats.succeeded += 1;
      logger.info({ event: 'drift_run_finished', run, duration_ms: durationMs, ...describe(result) }, 'drift run finished');
      return { status: 'ok', run, durationMs, result };
    } catch (err) {
      const durationMs = clock.now() - t0;
      stats.failed += 1;
      stats.lastError = err instanceof Error ? err.message : String(err);
      logger.error({ event: 'drift_run_failed', err, run, duration_ms: durationMs, failures: stats.failed }, 'drift run failed; the schedule goes on');
      if (opts.onFailure !== undefined) {
        try {
          await opts.onFailure(err);
        } catch (recordErr) {
          logger.error({ event: 'failed_run_not_recorded', err: recordErr, run }, 'could not record the failed run');
        }
      }
      return { status: 'failed', run, durationMs, error: err };
    }
  }

  events.tick = () => {
    if (stopped) return Promise.resolve({ status: 'skipped', reason: 'stopped' } as const);
    if (current !== null) {
      stats.skipped += 1;
      logger.warn({ event: 'tick_skipped', skipped: stats.skipped }, 'tick skipped: the previous drift run is still in progress');
      const outcome = { status: 'skipped', reason: 'running' } as const;
      events.emit('skip', outcome);
      return Promise.resolve(outcome);
    }
    stats.runs += 1;
    const run = stats.runs;
    const p = runOnce(run).then((outcome) => {
      current = null;
      events.emit(outcome.status === 'ok' ? 'success' : 'failure', outcome);
      return outcome;
    });
    current = p;
    return p;
  };

  function scheduleNext(): void {
    if (stopped) return;
    ticks += 1;
    // Fixed rate from the start; if we fell behind by whole intervals, those ticks are gone, not queued.
    const now = clock.now();
    let due = startedAt + ticks * opts.every;
    if (due <= now) {
      const missed = Math.floor((now - due) / opts.every) + 1;
      ticks += missed;
      due = startedAt + ticks * opts.every;
    }
    timer = clock.setTimeout(() => {
      timer = null;
      void events.tick();
      scheduleNext();
    }, due - now);
  }

  events.start = () => {
    if (started) return;
    started = true;
    startedAt = clock.now();
    logger.info({ event: 'scheduler_started', every_ms: opts.every }, 'scheduler started');
    if (opts.runAtStart ?? true) void events.tick();
    scheduleNext();
  };

  events.stop = async () => {
    if (!stopped) {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      if (current !== null) logger.info({ event: 'scheduler_stopping' }, 'stopping after the current drift run');
    }
    if (current !== null) await current;
    logger.info({ event: 'scheduler_stopped', ...events.stats() }, 'scheduler stopped');
    events.emit('stopped');
  };

  events.stats = () => ({ ...stats, running: current !== null });
  return events;
}
