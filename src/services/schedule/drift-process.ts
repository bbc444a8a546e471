/**
 * The drift job as a child process: `sentinel drift <flags> --out DIR` runs in a long-lived child,
 * the drift runner (`sentinel drift-runner`, src/cli/drift-runner.ts), which takes one run at a
 * time over its stdin. The scheduler relies only on the drift command's exit contract
 * (src/cli/command.ts, docs/drift.md: 0 = the run completed and was saved, non-zero + one line on
 * stderr = it could not run), carried by a done line after each run, so it does not depend on the
 * drift layer's internals.
 *
 * Why a child, not runDriftJob in-process: a drift run (CSV parsing, worker threads, tens of MB)
 * must never compete with /predict on the demo's event loop, and a crash or an out-of-memory run
 * must not take the scheduler down. Why a long-lived one, not a process per run like the CronJob:
 * a small window's run costs ~0.06 s of CPU in a warm process against ~0.3 s in a fresh one (start-up
 * and module loading), and a schedule runs many small windows (bench/drift). The runner exits after
 * a run that left it above `runnerMaxRssMib` (the memory goes back to the system, as with a process
 * per run) or when it crashes; the next run starts a new one.
 *
 * The runner runs in its own process group: a Ctrl-C in the terminal reaches the scheduler, which
 * lets the current run finish; `abort()` ends it early (second signal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SentinelError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { countFailedRuns, readLatest } from '../../io/report-store.ts';

const SENTINEL_BIN = fileURLToPath(new URL('../../../bin/sentinel.js', import.meta.url));

/** A runner ends its stderr lines after a run once it is over its memory bound: then it exits. */
export const DEFAULT_RUNNER_MAX_RSS_MIB = 256;

// The runner protocol (both sides here, so they cannot drift apart): one JSON array of `sentinel
// drift` arguments per stdin line; after each run one stderr line `<prefix><exit code> <exiting 0|1>
// <the run's CPU time in µs>`.
// The done line goes on stderr, not a separate channel, so that it comes after every line the run wrote.
const DONE_PREFIX = '\u001esentinel-drift-runner done ';

export function encodeRunnerJob(driftArgs: string[]): string {
  return `${JSON.stringify(driftArgs)}\n`;
}

/** The drift arguments of one stdin line, or a reason it is not a job. */
export function decodeRunnerJob(line: string): string[] | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { problem: 'a runner job is one JSON array of strings per line' };
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) return { problem: 'a runner job is one JSON array of strings per line' };
  return parsed;
}

export function runnerDoneLine(code: number, exiting: boolean, cpuMicros: number): string {
  return `${DONE_PREFIX}${code} ${exiting ? 1 : 0} ${Math.round(cpuMicros)}\n`;
}

function parseRunnerDone(line: string): { code: number; exiting: boolean; cpuMs: number } | null {
  if (!line.startsWith(DONE_PREFIX)) return null;
  const [code, exiting, cpu] = line.slice(DONE_PREFIX.length).split(' ');
  return { code: Number(code), exiting: exiting === '1', cpuMs: Number(cpu) / 1000 };
}

export interface DriftProcessJob {
  /**
   * One run; resolves with the latest pointer's run id and score and the run's CPU time (user +
   * system, every thread of the runner), rejects with the child's reason.
   */
  run(): Promise<{ run_id: string | null; drift_score: number | null; cpu_ms: number | null; recorded_failure: false }>;
  /** Kills the run in progress (SIGTERM to the runner's process group), if any. */
  abort(): void;
  /** Lets the runner exit (after the run in progress, if any); resolves once it has. */
  close(): Promise<void>;
  /** The runner's pid while one is running (benchmarks read its CPU time). */
  runnerPid(): number | undefined;
}

/** A failed drift process; `recorded` tells whether it already wrote its own failed-run record. */
export class DriftRunError extends SentinelError {
  readonly recorded: boolean;
  constructor(message: string, recorded: boolean, details: unknown) {
    super('drift_run_failed', message, { details });
    this.recorded = recorded;
  }
}

interface RunEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the done line; null when the runner ended without one. */
  cpuMs: number | null;
  /** The run's last stderr lines (at most 50). */
  lines: string[];
}

interface Runner {
  child: ChildProcess;
  /** The run in progress: its stderr lines so far and how to end it. */
  current: { lines: string[]; end: (e: RunEnd) => void; fail: (err: Error) => void } | null;
  closed: Promise<void>;
}

export function createDriftProcessJob(o: {
  driftArgs: string[];
  dir: string;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** The sentinel entry point (default bin/sentinel.js). */
  bin?: string;
  /** Where the child's own JSON log lines go (default: this process's stderr, unchanged). */
  onLogLine?: (line: string) => void;
  /** The runner exits after a run that leaves its resident memory above this (default 256; 0 = after every run). */
  runnerMaxRssMib?: number;
}): DriftProcessJob {
  const forward = o.onLogLine ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const logger = o.logger.child({ component: 'drift-process' });
  const maxRssMib = o.runnerMaxRssMib ?? DEFAULT_RUNNER_MAX_RSS_MIB;
  let runner: Runner | null = null;

  // An idle runner must not keep this process alive (a scheduler that was never closed still exits).
  const holdOpen = (r: Runner, hold: boolean): void => {
    for (const h of [r.child, r.child.stdin, r.child.stdout, r.child.stderr] as ({ ref(): void; unref(): void } | null)[]) {
      if (hold) h?.ref();
      else h?.unref();
    }
  };

  const startRunner = (): Runner => {
    const child = spawn(process.execPath, [o.bin ?? SENTINEL_BIN, 'drift-runner', `--max-rss-mib=${maxRssMib}`], {
      env: o.env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const r: Runner = { child, current: null, closed: new Promise((res) => child.once('close', () => res())) };
    const endRun = (e: Omit<RunEnd, 'lines'>): void => {
      const c = r.current;
      r.current = null;
      holdOpen(r, false);
      c?.end({ ...e, lines: c.lines });
    };
    const forget = (): void => {
      if (runner === r) runner = null;
    };
    onLines(child.stderr!, (line) => {
      const done = parseRunnerDone(line);
      if (done !== null) {
        if (done.exiting) {
          forget();
          logger.info({ event: 'drift_runner_recycled', pid: child.pid, max_rss_mib: maxRssMib }, 'drift runner exits: over its memory bound');
        }
        endRun({ code: done.code, signal: null, cpuMs: done.cpuMs });
        return;
      }
      if (line.trim() === '') return;
      if (r.current !== null) {
        r.current.lines.push(line);
        if (r.current.lines.length > 50) r.current.lines.shift();
      }
      // Structured lines are the drift job's own log: pass them on; plain lines are its one-line reason.
      if (line.startsWith('{')) forward(line);
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => logger.debug({ event: 'drift_output', stdout: chunk.trimEnd() }, 'drift output'));
    // A runner that died while idle: writing the next job fails here, and its 'close' ends that run.
    child.stdin!.on('error', () => {});
    child.once('error', (err) => {
      forget();
      const c = r.current;
      r.current = null;
      c?.fail(err);
    });
    child.once('close', (code, signal) => {
      forget();
      endRun({ code, signal, cpuMs: null });
    });
    logger.info({ event: 'drift_runner_started', pid: child.pid }, 'drift runner started');
    return r;
  };

  return {
    async run() {
      const failuresBefore = await countFailedRuns(o.dir);
      const r = runner ?? (runner = startRunner());
      // The scheduler never overlaps runs; a second caller must not take the first one's answer.
      if (r.current !== null) throw new SentinelError('drift_run_in_progress', 'a drift run of this job is already in progress');
      const exit = await new Promise<RunEnd>((resolve, reject) => {
        r.current = { lines: [], end: resolve, fail: reject };
        holdOpen(r, true);
        r.child.stdin!.write(encodeRunnerJob([...o.driftArgs, '--out', o.dir]));
      });
      if (exit.code === 0) {
        const latest = await readLatest(o.dir).catch(() => null);
        return { run_id: latest?.run_id ?? null, drift_score: latest?.drift_score ?? null, cpu_ms: exit.cpuMs, recorded_failure: false };
      }
      const reason = [...exit.lines].reverse().find((l) => !l.startsWith('{')) ?? exit.lines.at(-1) ?? '';
      const recorded = (await countFailedRuns(o.dir)) > failuresBefore;
      const how = exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      throw new DriftRunError(`sentinel drift failed (${how})${reason ? `: ${reason}` : ''}`, recorded, { code: exit.code, signal: exit.signal });
    },
    abort() {
      const child = runner?.current != null ? runner.child : null;
      if (child?.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
      }
    },
    async close() {
      const r = runner;
      runner = null;
      if (r === null) return;
      holdOpen(r, true);
      r.child.stdin!.end();
      await r.closed;
    },
    runnerPid: () => runner?.child.pid,
  };
}

/** Calls `onLine` with each line of `stream` (the last one too, if it has no newline). */
function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => {
    if (buf !== '') onLine(buf);
    buf = '';
  });
}
