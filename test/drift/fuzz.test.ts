// Cases the differential fuzzer (tools/parity/fuzz.py + fuzz.ts) found, replayed through the same
// code path as `sentinel drift REFERENCE CURRENT`. Each case folder holds the two CSVs and
// evidently.json: Evidently 0.7.23's DataDriftPreset numbers, with the exact call recorded in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { compareWithEvidently, type EvidentlyCase } from '../support/evidently.ts';

const DIR = new URL('./fixtures/fuzz/', import.meta.url).pathname;
const cases = readdirSync(DIR).sort();
const out = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-test-'));

test('the fuzz fixtures exist (a renamed folder must not turn this suite into a no-op)', () => {
  assert.ok(cases.length >= 10, `only ${cases.length} fixture cases in ${DIR}`);
});

for (const name of cases) {
  test(`Evidently parity, fuzz case ${name}`, async () => {
    const golden = JSON.parse(readFileSync(join(DIR, name, 'evidently.json'), 'utf8')) as EvidentlyCase;
    const run = runDriftJob({ reference: join(DIR, name, 'reference.csv'), current: join(DIR, name, 'current.csv'), out, save: false, cache: false, workers: 0 });
    if (golden.error !== null) {
      await assert.rejects(run, `Evidently refused this pair (${golden.error}); sentinel must refuse it too`);
      return;
    }
    const { result } = await run;
    assert.deepEqual(compareWithEvidently(result, golden), []);
  });
}
