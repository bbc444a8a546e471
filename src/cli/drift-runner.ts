/**
 * `sentinel drift-runner` (internal: what `sentinel schedule` and the demo start, through
 * src/services/schedule/drift-process.ts, which owns the protocol). Runs `sentinel drift` once per
 * stdin line (a JSON array of its arguments), one run after the other in this one process, and ends
 * each run with a done line on stderr carrying its exit code and CPU time. Start-up and module loading are paid
 * once per runner instead of once per run. Exits at the end of stdin, or after a run that left it
 * above --max-rss-mib (the next run gets a fresh process).
 */
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.ts';
import { EXIT_USAGE, parseFlags, reportFailure, type Command } from './command.ts';
import { driftCommand } from './drift.ts';
import { decodeRunnerJob, runnerDoneLine } from '../services/schedule/drift-process.ts';

export const driftRunnerCommand: Command = async (argv, env) => {
  const { values } = parseFlags({ args: argv, options: { 'max-rss-mib': { type: 'string', default: '256' } } });
  const maxRssMib = Number(values['max-rss-mib']);
  if (!Number.isFinite(maxRssMib) || maxRssMib < 0) throw new UsageError(`--max-rss-mib must be a number >= 0 (got "${values['max-rss-mib']}")`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const job = decodeRunnerJob(line);
    const cpu = process.cpuUsage();
    let code: number;
    if (!Array.isArray(job)) {
      process.stderr.write(`sentinel drift-runner: ${job.problem}\n`);
      code = EXIT_USAGE;
    } else {
      // driftCommand reports its own failures; anything it lets through is this run's, not the runner's.
      code = await driftCommand(job, env).catch((err: unknown) => reportFailure('drift', err));
    }
    const used = process.cpuUsage(cpu);
    const exiting = process.memoryUsage.rss() > maxRssMib * 2 ** 20;
    process.stderr.write(runnerDoneLine(code, exiting, used.user + used.system));
    if (exiting) break;
  }
  lines.close();
  process.stdin.destroy();
  return 0;
};
