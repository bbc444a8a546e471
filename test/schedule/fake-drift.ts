// Stands in for `bin/sentinel.js` in drift-process tests: `fake-drift.ts drift-runner --max-rss-mib N`,
// speaking the runner protocol of src/services/schedule/drift-process.ts. Each stdin line is one run:
// `[--fail MSG] [--record] [--crash] [--hang] [--run-id ID] --out DIR`. Succeeds by saving a run through the
// real store (run id suffixed with this runner's pid and run number); fails like `sentinel drift`
// (one line, exit code 1); --crash ends the runner in the middle of the run; --hang never ends it.
import { createInterface } from 'node:readline';
import { recordFailedRun } from '../../src/io/report-store.ts';
import { decodeRunnerJob, runnerDoneLine } from '../../src/services/schedule/drift-process.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { makeResult } from '../render/fixture.ts';

if (process.argv[2] !== 'drift-runner') {
  process.stderr.write('fake drift: usage\n');
  process.exit(2);
}
const recycle = process.argv.includes('--max-rss-mib=0');
let runs = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const args = decodeRunnerJob(line);
  if (!Array.isArray(args)) throw new Error(args.problem);
  runs++;
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = get('--out')!;
  const fail = get('--fail');
  const runId = `${get('--run-id') ?? 'run'}-${process.pid}-${runs}`;
  if (args.includes('--crash')) process.exit(70);
  if (args.includes('--hang')) {
    process.stderr.write('{"level":30,"msg":"hanging"}\n');
    await new Promise(() => setInterval(() => {}, 1000));
  }
  let code = 0;
  if (fail !== undefined) {
    if (args.includes('--record')) await recordFailedRun(out, runId, fail);
    process.stderr.write('{"level":30,"msg":"structured log line"}\n');
    process.stderr.write(`sentinel drift: ${fail}\n`);
    code = 1;
  } else {
    await saveRun(out, makeResult({ runId, finishedAt: new Date().toISOString(), driftScore: 0.1234 }));
    process.stdout.write('feature table\n');
  }
  process.stderr.write(runnerDoneLine(code, recycle, 1500));
  if (recycle) break;
}
process.stdin.destroy();
