import type { Logger } from '../../logger.ts';
import { newRunId, recordFailedRun } from '../../io/report-store.ts';
import { createDriftProcessJob, DriftRunError, type DriftProcessJob } from './drift-process.ts';
import { createScheduler, type Scheduler } from './scheduler.ts';

/**
 * `sentinel drift` every `every` ms into `dir`, with failed runs recorded there: the wiring shared
 * by `sentinel schedule` and the demo.
 */
export function createDriftSchedule(o: {
  every: number;
  dir: string;
  driftArgs: string[];
  env: Record<string, string | undefined>;
  logger: Logger;
  runAtStart?: boolean;
}): { scheduler: Scheduler; job: DriftProcessJob } {
  const job = createDriftProcessJob({ driftArgs: o.driftArgs, dir: o.dir, env: o.env, logger: o.logger });
  const scheduler = createScheduler({
    every: o.every,
    logger: o.logger,
    runAtStart: o.runAtStart ?? true,
    job: () => job.run(),
    onFailure: async (err) => {
      if (err instanceof DriftRunError && err.recorded) return; // the drift run recorded itself
      await recordFailedRun(o.dir, newRunId(new Date(), 'failed'), err instanceof Error ? err.message : String(err));
    },
  });
  return { scheduler, job };
}
