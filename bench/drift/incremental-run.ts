/**
 * One scheduled drift run for bench/drift/incremental.ts, at a given clock (`--now`): the run a
 * CronJob would make, as its own process. Prints the drift result (run id and times removed), the
 * window's row count and what the log-file cache did, as JSON.
 *
 *   node bench/drift/incremental-run.ts --reference R --current DIR --out OUT --since 24h --now ISO --mode incremental|full
 */
import module from 'node:module';
import { parseArgs } from 'node:util';

// As bin/sentinel.js (the command a CronJob runs): type-stripped modules from the compile cache.
module.enableCompileCache();
const { runDriftJob } = await import('../../src/services/run/drift-run.ts');

const { values: a } = parseArgs({
  options: { reference: { type: 'string' }, current: { type: 'string' }, out: { type: 'string' }, since: { type: 'string' }, now: { type: 'string' }, mode: { type: 'string' } },
});
const now = new Date(a.now!);
const outcome = await runDriftJob({ reference: a.reference!, current: a.current!, out: a.out!, since: a.since, now: () => now, logCache: a.mode === 'incremental' });
const result = JSON.parse(JSON.stringify(outcome.result, (k, v) => (k === 'run_id' || k === 'started_at' || k === 'finished_at' ? undefined : v)));
process.stdout.write(JSON.stringify({ result, rows: outcome.result.current.rows, logCache: outcome.logCache, timings: outcome.timings }));
