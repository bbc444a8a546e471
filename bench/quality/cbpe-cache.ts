/**
 * What caching CBPE's reference fit saves a scheduled run with model quality (docs/quality.md):
 * the demo's setup, the bundled model's predictions for --rows rows of data/current.csv in a
 * prediction log with labels for two of every three, the labelled data/reference.csv (14,155 rows),
 * the model card. Side by side, interleaved, same process kinds:
 *
 *   node bench/quality/cbpe-cache.ts [--rows 3000] [--repeats 9] [--out bench/quality/RESULTS-cbpe-cache.md]
 *
 * - scheduled: two drift runners as `sentinel schedule` makes them (src/services/schedule/
 *   drift-process.ts), one with the cache, one whose CBPE cache file is removed before every run
 *   (its reference profile and log-file caches stay, so only the fit differs); CPU per run from
 *   the runner's done line, after one uncounted run each;
 * - fresh process: `sentinel drift` the same two ways, CPU (user+sys) from /usr/bin/time.
 * Both outputs' `performance` sections are compared (they must be equal).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { createDriftProcessJob } from '../../src/services/schedule/drift-process.ts';
import { createLogger } from '../../src/logger.ts';
import { createLogWriter } from '../../src/io/log/writer.ts';
import { LABEL_DIR, LABEL_FILE_PREFIX, logColumns } from '../../src/io/log/schema.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
import { featureRowsFrom, loadBundledModel } from '../../test/support/model.ts';
import { REPO, SENTINEL } from '../../test/support/process.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '3000' },
    repeats: { type: 'string', default: '9' },
    out: { type: 'string', default: join(REPO, 'bench', 'quality', 'RESULTS-cbpe-cache.md') },
  },
});
const N = Number(args.rows);
const REPEATS = Number(args.repeats);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'bench-cbpe-cache-'));
const live = join(dir, 'live');
const model = await loadBundledModel();
const rows = featureRowsFrom(`${REPO}data/current.csv`, model.card, N);
const records: Record<string, string>[] = parse(readFileSync(`${REPO}data/current.csv`), { columns: true, to: N });
const predicted = await model.predict(rows);
await model.close();
mkdirSync(join(live, LABEL_DIR), { recursive: true });
const log = createLogWriter({ dir: live, instanceId: 'bench', columns: logColumns(model.card.features.map((f) => f.name)) });
const labels = createLogWriter({ dir: join(live, LABEL_DIR), instanceId: 'bench', columns: [...LABEL_COLUMNS], filePrefix: LABEL_FILE_PREFIX });
const ts = new Date().toISOString();
const ids = rows.map(() => randomUUID());
await log.append(rows.map((r, i) => [ids[i], ts, model.card.version, ...model.card.features.map((f) => r[f.name] ?? ''), predicted[i].label, predicted[i].confidence]));
await labels.append(ids.flatMap((id, i) => (i % 3 === 0 ? [] : [[id, ts, records[i].class]])));
await log.close();
await labels.close();

const driftArgs = ['--reference', `${REPO}data/reference.csv`, '--current', live, '--model-card', `${REPO}models/model.json`, '--quiet'];
const outOf = (kind: string) => join(dir, `reports-${kind}`);
const dropFit = (kind: string) => {
  const cache = join(outOf(kind), '.cache');
  for (const n of readdirSync(cache)) if (n.includes('-cbpe-')) rmSync(join(cache, n));
};
const env = { ...process.env, SENTINEL_LOG_LEVEL: 'warn' };
const logger = createLogger({ level: 'warn' });
const jobs = {
  cached: createDriftProcessJob({ driftArgs, dir: outOf('sched-cached'), env, logger, onLogLine: () => {} }),
  uncached: createDriftProcessJob({ driftArgs, dir: outOf('sched-uncached'), env, logger, onLogLine: () => {} }),
};
const fresh = (kind: string): number => {
  const p = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S', process.execPath, SENTINEL, 'drift', ...driftArgs, '--out', outOf(kind), '--json'], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const m = /TIME (\S+) (\S+)\s*$/.exec(p.stderr);
  if (p.status !== 0 || m === null) throw new Error(`sentinel drift failed: ${p.stderr.slice(-2000)}`);
  return Number(m[1]) + Number(m[2]);
};
const load = loadavg()[0];
const cpu = { schedCached: [] as number[], schedUncached: [] as number[], freshCached: [] as number[], freshUncached: [] as number[] };
await jobs.cached.run();
await jobs.uncached.run();
fresh('fresh-cached');
fresh('fresh-uncached');
for (let i = 0; i < REPEATS; i++) {
  cpu.schedCached.push((await jobs.cached.run()).cpu_ms! / 1000);
  dropFit('sched-uncached');
  cpu.schedUncached.push((await jobs.uncached.run()).cpu_ms! / 1000);
  cpu.freshCached.push(fresh('fresh-cached'));
  dropFit('fresh-uncached');
  cpu.freshUncached.push(fresh('fresh-uncached'));
  process.stderr.write(`round ${i + 1}/${REPEATS}\n`);
}
await Promise.all([jobs.cached.close(), jobs.uncached.close()]);

const performanceOf = (kind: string) => {
  const latest = JSON.parse(readFileSync(join(outOf(kind), 'latest.json'), 'utf8')) as { run_id: string };
  return JSON.stringify(JSON.parse(readFileSync(join(outOf(kind), latest.run_id, 'drift.json'), 'utf8')).performance);
};
const same = ['sched-uncached', 'fresh-cached', 'fresh-uncached'].every((k) => performanceOf(k) === performanceOf('sched-cached'));
const calibrated = JSON.parse(performanceOf('sched-cached')).estimated.calibrated;
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(3);
const row = (what: string, c: number[], u: number[]) => `| ${what} | ${f(median(u))} | ${f(median(c))} | ${(median(u) / median(c)).toFixed(1)}× |`;
const text = [
  '# CBPE reference-fit cache: CPU per scheduled run with model quality',
  '',
  `Generated by \`node bench/quality/cbpe-cache.ts --rows ${N} --repeats ${REPEATS}\` on ${new Date().toISOString()}.`,
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; 1-minute load average at the start ${load.toFixed(2)}.`,
  '',
  `The demo's setup: ${N} predictions of the bundled model (data/current.csv) in a prediction log, labels for two of every three, the labelled data/reference.csv (14,155 rows; CBPE calibrated: ${JSON.stringify(calibrated)}), the model card. Without the cache = its CBPE file removed before each run (the reference-profile and log-file caches stay). CPU seconds per run (user+sys, every thread), median of ${REPEATS} interleaved rounds after one uncounted run each:`,
  '',
  '| run | without the CBPE cache | with it | less CPU |',
  '|---|---|---|---|',
  row('scheduled (`sentinel schedule`: the long-lived drift runner)', cpu.schedCached, cpu.schedUncached),
  row('fresh `sentinel drift` process (a CronJob run)', cpu.freshCached, cpu.freshUncached),
  '',
  `performance sections identical in all four: ${same ? 'yes' : 'NO'}`,
  '',
].join('\n');
writeFileSync(args.out, text);
process.stdout.write(text);
if (!same) process.exitCode = 1;
