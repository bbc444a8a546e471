// Stands in for `bin/sentinel.js` in drift-process tests: `fake-drift.ts drift [--fail MSG] [--record] --out DIR`.
// Succeeds by saving a run through the real store; fails like `sentinel drift` (one line, exit 1).
import { recordFailedRun } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { makeResult } from '../render/fixture.ts';

const args = process.argv.slice(2);
const get = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = get('--out');
if (args[0] !== 'drift' || out === undefined) {
  process.stderr.write('fake drift: usage\n');
  process.exit(2);
}
const fail = get('--fail');
const runId = get('--run-id') ?? `run-${Date.now()}`;
if (fail !== undefined) {
  if (args.includes('--record')) await recordFailedRun(out, runId, fail);
  process.stderr.write('{"level":30,"msg":"structured log line"}\n');
  process.stderr.write(`sentinel drift: ${fail}\n`);
  process.exit(1);
}
await saveRun(out, makeResult({ runId, finishedAt: new Date().toISOString(), driftScore: 0.1234 }));
process.stdout.write('feature table\n');
