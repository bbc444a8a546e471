import { resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createDriftSchedule } from '../services/schedule/drift-schedule.ts';
import type { Command } from './command.ts';
import { onShutdownSignal } from './signals.ts';
import { parseDuration } from './flags.ts';

const HELP = `usage: sentinel schedule --every DURATION [--out DIR] [drift flags...]

Runs "sentinel drift" every DURATION (the local stand-in for the drift CronJob), writing reports
to DIR. The runs go to one long-lived drift process, so a small window's run does not pay Node's
start-up each time; it is replaced after a crash or a run that left it over 256 MiB. Never two
runs at once: a tick during a run is skipped and logged. A failed run is logged, recorded in DIR
(counted by sentinel_drift_run_failures_total) and the schedule goes on.
Ctrl-C / SIGTERM stop after the current run; a second signal aborts it.

options:
  --every DURATION   interval between runs: 30s, 5m, 1h, 1h30m, 2w (required)
  --out DIR          report directory (default reports)
  --no-initial-run   wait one interval before the first run (default: run at once)
  every other flag is passed to "sentinel drift", e.g. --reference FILE.csv --current PATH --since 1h
                     --keep-last 500 (retention: only the newest 500 runs stay)
`;

/** Splits our own flags from the ones passed through to `sentinel drift`. */
export function splitScheduleArgs(argv: string[]): { every: string | undefined; out: string; initialRun: boolean; help: boolean; driftArgs: string[] } {
  let every: string | undefined;
  let out = 'reports';
  let initialRun = true;
  let help = false;
  const driftArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--every') every = value();
    else if (flag === '--out') out = value();
    else if (flag === '--no-initial-run') initialRun = false;
    else if (flag === '--help' || flag === '-h') help = true;
    else driftArgs.push(a);
  }
  return { every, out, initialRun, help, driftArgs };
}

export const scheduleCommand: Command = async (argv, env) => {
  const args = splitScheduleArgs(argv);
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.every === undefined) throw new UsageError('--every is required, e.g. --every 5m');
  const every = parseDuration(args.every, '--every');
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const dir = resolve(args.out);
  const { scheduler, job } = createDriftSchedule({ every, dir, driftArgs: args.driftArgs, env, logger, runAtStart: args.initialRun });
  logger.info({ event: 'drift_schedule_started', every: args.every, dir, drift_args: args.driftArgs }, 'drift schedule started');
  scheduler.start();
  await new Promise<void>((res) => {
    onShutdownSignal((signal, count) => {
      if (count === 1) {
        logger.info({ event: 'schedule_stopping', signal }, 'stopping after the current run (signal again to abort it)');
        void scheduler.stop().then(() => job.close()).then(res);
      } else {
        logger.warn({ event: 'drift_run_aborting', signal }, 'aborting the current run');
        job.abort();
      }
    });
  });
  return 0;
};
