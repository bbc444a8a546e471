/**
 * Differential fuzzer, sentinel side: runs `sentinel drift`'s job (the CLI's code path, in process)
 * on every case `tools/parity/fuzz.py` wrote and compares with Evidently's numbers: columns tested,
 * test chosen, threshold, score, verdict, the verdict the share counts, drifted count and share, dataset verdict.
 *
 *   node tools/parity/fuzz.ts DIR [--record test/drift/fixtures/fuzz] [--sample N]
 *
 * Prints one line per differing case and a summary; `--record` copies differing cases (their CSVs and
 * evidently.json) into the fixture folder the test suite replays
 * (test/drift/fuzz.test.ts), plus with `--sample N` the first N agreeing cases that hold the column
 * kinds real files trip on (mixed, boolean, constant, prediction/target, all-missing, inf), so that
 * what agrees today keeps agreeing. Exit 1 when any case differs.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithEvidently, type EvidentlyCase } from '../../test/support/evidently.ts';
import { runDriftJob } from '../../src/services/run/drift-run.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { record: { type: 'string' }, sample: { type: 'string', default: '0' } } });
const dir = positionals[0];
if (dir === undefined) {
  console.error('usage: node tools/parity/fuzz.ts DIR [--record FIXTURE_DIR] [--sample N]');
  process.exit(2);
}
const out = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-'));
const cases = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'evidently.json'))).sort();
let sampled = 0;
const TRICKY = /_(mixed|bool|const_num|const_str|near_const|all_missing|inf|missing)$|^(prediction|target)$/;
const record = (name: string): void => {
  if (values.record === undefined) return;
  const dest = join(values.record, name);
  mkdirSync(dest, { recursive: true });
  for (const f of ['reference.csv', 'current.csv', 'evidently.json']) cpSync(join(dir, name, f), join(dest, f));
};
let differing = 0;
let timedOut = 0;
const byProblem = new Map<string, number>();
for (const name of cases) {
  const caseDir = join(dir, name);
  const golden = JSON.parse(readFileSync(join(caseDir, 'evidently.json'), 'utf8')) as EvidentlyCase;
  if (golden.timeout !== undefined) {
    timedOut++;
    continue;
  }
  let problems: string[];
  try {
    const { result } = await runDriftJob({ reference: join(caseDir, 'reference.csv'), current: join(caseDir, 'current.csv'), out, save: false, cache: false, workers: 0 });
    problems = compareWithEvidently(result, golden);
  } catch (err) {
    // Both refusing the data is agreement.
    problems = golden.error !== null ? [] : [`sentinel failed: ${(err as Error).message}`];
  }
  if (problems.length === 0) {
    const kinds = Object.keys(golden.kinds ?? {});
    if (sampled < Number(values.sample) && kinds.some((k) => TRICKY.test(k))) {
      sampled++;
      record(name);
    }
    continue;
  }
  differing++;
  for (const p of problems) {
    const key = p.replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '#').slice(0, 80);
    byProblem.set(key, (byProblem.get(key) ?? 0) + 1);
  }
  console.log(`${name}: ${problems.join('; ')}`);
  record(name);
}
rmSync(out, { recursive: true, force: true });
console.log(`\n${cases.length} cases, ${differing} differ from Evidently, ${timedOut} not compared (Evidently took longer than fuzz.py --timeout)`);
for (const [k, n] of [...byProblem].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${n}× ${k}`);
process.exit(differing === 0 ? 0 : 1);
