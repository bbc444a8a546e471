/**
 * The drift job as a child process: `sentinel drift <flags> --out DIR`, one fresh process per run,
 * exactly like the CronJob. It relies only on the command's exit contract (src/cli/command.ts,
 * docs/drift.md: exit 0 = the run completed and was saved, non-zero + one line on stderr = it
 * could not run), so the scheduler
 * does not depend on the drift layer's internals.
 *
 * The child runs in its own process group: a Ctrl-C in the terminal reaches the scheduler, which
 * lets the current run finish; `abort()` ends it early (second signal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SentinelError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { countFailedRuns, readLatest } from '../../io/report-store.ts';

const SENTINEL_BIN = fileURLToPath(new URL('../../../bin/sentinel.js', import.meta.url));

export interface DriftProcessJob {
  /** One run; resolves with the latest pointer's run id and score, rejects with the child's reason. */
  run(): Promise<{ run_id: string | null; drift_score: number | null; recorded_failure: false }>;
  /** Kills the run in progress (SIGTERM), if any. */
  abort(): void;
}

/** A failed drift process; `recorded` tells whether it already wrote its own failed-run record. */
export class DriftRunError extends SentinelError {
  readonly recorded: boolean;
  constructor(message: string, recorded: boolean, details: unknown) {
    super('drift_run_failed', message, { details });
    this.recorded = recorded;
  }
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
}): DriftProcessJob {
  const forward = o.onLogLine ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const logger = o.logger.child({ component: 'drift-process' });
  let child: ChildProcess | null = null;
  return {
    async run() {
      const failuresBefore = await countFailedRuns(o.dir);
      const args = [o.bin ?? SENTINEL_BIN, 'drift', ...o.driftArgs, '--out', o.dir];
      const stderrLines: string[] = [];
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        const c = spawn(process.execPath, args, { env: o.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        child = c;
        let buf = '';
        c.stderr!.setEncoding('utf8');
        c.stderr!.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim() === '') continue;
            stderrLines.push(line);
            if (stderrLines.length > 50) stderrLines.shift();
            // Structured lines are the drift job's own log: pass them on; plain lines are its one-line reason.
            if (line.startsWith('{')) forward(line);
          }
        });
        c.stdout!.setEncoding('utf8');
        c.stdout!.on('data', (chunk: string) => logger.debug({ event: 'drift_output', stdout: chunk.trimEnd() }, 'drift output'));
        c.once('error', reject);
        c.once('close', (code, signal) => {
          if (buf.trim() !== '') stderrLines.push(buf.trim());
          resolve({ code, signal });
        });
      });
      child = null;
      if (exit.code === 0) {
        const latest = await readLatest(o.dir).catch(() => null);
        return { run_id: latest?.run_id ?? null, drift_score: latest?.drift_score ?? null, recorded_failure: false };
      }
      const reason = [...stderrLines].reverse().find((l) => !l.startsWith('{')) ?? stderrLines.at(-1) ?? '';
      const recorded = (await countFailedRuns(o.dir)) > failuresBefore;
      const how = exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      throw new DriftRunError(`sentinel drift failed (${how})${reason ? `: ${reason}` : ''}`, recorded, { code: exit.code, signal: exit.signal });
    },
    abort() {
      if (child?.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
      }
    },
  };
}
