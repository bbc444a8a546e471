import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordFailedRun, readLatest, listRuns, countFailedRuns, readRun, isValidRunId, pruneRuns, createRunIndex } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { makeResult } from '../render/fixture.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('saveRun writes the run directory and latest.json, leaving no temp files', async (t) => {
  const dir = await tempDir(t);
  const result = makeResult();
  const { runDir } = await saveRun(dir, result);
  assert.equal(runDir, join(dir, result.run_id));
  assert.deepEqual((await readdir(runDir)).sort(), ['drift.json', 'report.html', 'summary.json']);
  assert.deepEqual(JSON.parse(await readFile(join(runDir, 'drift.json'), 'utf8')), result);
  assert.match(await readFile(join(runDir, 'report.html'), 'utf8'), /^<!doctype html>/i);
  const latest = await readLatest(dir);
  assert.deepEqual(latest, {
    run_id: result.run_id, path: `${result.run_id}/drift.json`, finished_at: result.finished_at,
    drift_score: result.drift_score, dataset_drift: result.dataset_drift, drift_share: result.drift_share, last_failure: null,
  });
  assert.deepEqual((await readdir(dir)).sort(), [result.run_id, 'latest.json'].sort());
  assert.deepEqual(await readRun(dir, result.run_id), result);
});

test('a failed run is recorded and counted, and never replaces the last good report', async (t) => {
  const dir = await tempDir(t);
  const good = makeResult({ runId: 'run-1', finishedAt: '2026-11-26T15:00:00.000Z' });
  await saveRun(dir, good);
  await recordFailedRun(dir, 'run-2', 'reference file missing', new Date('2026-11-26T15:05:00.000Z'));
  const latest = await readLatest(dir);
  assert.equal(latest?.run_id, 'run-1');
  assert.deepEqual(latest?.last_failure, { at: '2026-11-26T15:05:00.000Z', message: 'reference file missing' });
  assert.equal(await countFailedRuns(dir), 1);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'run-2', 'failed.json'), 'utf8')), {
    run_id: 'run-2', failed_at: '2026-11-26T15:05:00.000Z', message: 'reference file missing',
  });
  const runs = await listRuns(dir);
  assert.deepEqual(runs.map((r) => [r.run_id, r.status]), [['run-1', 'ok'], ['run-2', 'failed']]);
  // The next good run moves latest on and keeps the last failure on record.
  await saveRun(dir, makeResult({ runId: 'run-3', finishedAt: '2026-11-26T15:10:00.000Z' }));
  const after = await readLatest(dir);
  assert.equal(after?.run_id, 'run-3');
  assert.equal(after?.last_failure?.message, 'reference file missing');
});

test('a failure before any good run writes no latest.json but is counted, and the first good run records it', async (t) => {
  const dir = await tempDir(t);
  await recordFailedRun(dir, 'run-1', 'boom', new Date('2026-11-26T15:00:00.000Z'));
  assert.equal(await readLatest(dir), null);
  assert.equal(await countFailedRuns(dir), 1);
  // The first good run picks the failure up from the directory.
  await saveRun(dir, makeResult({ runId: 'run-2' }));
  assert.deepEqual((await readLatest(dir))?.last_failure, { at: '2026-11-26T15:00:00.000Z', message: 'boom' });
});

test('an older run saved late does not move latest backwards', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'new', finishedAt: '2026-11-26T16:00:00.000Z' }));
  await saveRun(dir, makeResult({ runId: 'old', finishedAt: '2026-11-26T15:00:00.000Z' }));
  assert.equal((await readLatest(dir))?.run_id, 'new');
});

test('saving the same run id twice fails and keeps the first', async (t) => {
  const dir = await tempDir(t);
  const first = makeResult({ runId: 'dup', driftScore: 0.2 });
  await saveRun(dir, first);
  await assert.rejects(saveRun(dir, makeResult({ runId: 'dup', driftScore: 0.3 })), { code: 'run_exists' });
  assert.equal((await readRun(dir, 'dup'))?.drift_score, 0.2);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.tmp')), []);
});

test('run ids are validated against a strict pattern', async (t) => {
  const dir = await tempDir(t);
  for (const bad of ['..', '../x', 'a/b', '.hidden', '', 'a..b', '%2e%2e', '/etc']) {
    assert.equal(isValidRunId(bad), false, bad);
    await assert.rejects(saveRun(dir, makeResult({ runId: bad })), { code: 'invalid_run_id' });
  }
  assert.equal(isValidRunId('20261126T150000Z-a1b2c3'), true);
});

test('a corrupt latest.json is reported by readLatest and repaired by the next saveRun', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'latest.json'), '{"run_id": ');
  await assert.rejects(readLatest(dir), { code: 'corrupt_latest' });
  await saveRun(dir, makeResult({ runId: 'fix' }));
  assert.equal((await readLatest(dir))?.run_id, 'fix');
});

test('pruneRuns keeps the newest N runs (ok or failed), never the one latest.json points at (issue 10)', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'r1', finishedAt: '2026-11-26T10:00:00.000Z' }));
  await saveRun(dir, makeResult({ runId: 'r2', finishedAt: '2026-11-26T11:00:00.000Z' }));
  await recordFailedRun(dir, 'r3', 'boom', new Date('2026-11-26T12:00:00.000Z'));
  await recordFailedRun(dir, 'r4', 'boom', new Date('2026-11-26T13:00:00.000Z'));
  await saveRun(dir, makeResult({ runId: 'r0-late', finishedAt: '2026-11-26T09:00:00.000Z' })); // older, saved last
  assert.deepEqual((await pruneRuns(dir, 2)).sort(), ['r0-late', 'r1']);
  // r2 is latest.json's run: kept although only the two newest (r3, r4) were asked for.
  assert.deepEqual((await listRuns(dir)).map((r) => r.run_id), ['r2', 'r3', 'r4']);
  assert.equal((await readLatest(dir))?.run_id, 'r2');
  assert.deepEqual(await pruneRuns(dir, 5), []);
  assert.ok((await readdir(dir)).every((n) => !n.startsWith('.tmp-')), 'no renamed-away run left behind');
  await assert.rejects(pruneRuns(dir, 0), /keep-last must be a whole number >= 1/);
});

test('createRunIndex reads each run once, then only notices new, removed and newly failed runs (issue 10)', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'a', finishedAt: '2026-11-26T10:00:00.000Z', driftScore: 0.01 }));
  await recordFailedRun(dir, 'b', 'no data', new Date('2026-11-26T11:00:00.000Z'));
  const index = createRunIndex(dir);
  const first = await index.list();
  assert.deepEqual(first.runs.map((r) => [r.run_id, r.status]), [['a', 'ok'], ['b', 'failed']]);
  assert.equal(first.failures, 1);
  assert.deepEqual(first.runs, await listRuns(dir));
  // A run's files are immutable: rewriting one in place is not re-read (the index does not re-read every run).
  const summaryPath = join(dir, 'a', 'summary.json');
  const original = await readFile(summaryPath, 'utf8');
  await writeFile(summaryPath, original.replace('"drift_score":0.01', '"drift_score":0.99'));
  assert.equal((await index.list()).runs[0].drift_score, 0.01);
  await writeFile(summaryPath, original);
  // New runs, a failure recorded into an existing run, and removed runs are seen.
  await saveRun(dir, makeResult({ runId: 'c', finishedAt: '2026-11-26T12:00:00.000Z' }));
  await new Promise((r) => setTimeout(r, 20)); // a distinct directory mtime
  await recordFailedRun(dir, 'a', 'late failure', new Date('2026-11-26T12:30:00.000Z'));
  await rm(join(dir, 'b'), { recursive: true });
  const later = await index.list();
  assert.deepEqual(later.runs.map((r) => [r.run_id, r.status, r.message]), [['a', 'ok', 'late failure'], ['c', 'ok', null]]);
  assert.equal(later.failures, 1);
});

test('createRunIndex answers from memory while the report directory is unchanged (one stat per request)', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'a', finishedAt: '2026-11-26T10:00:00.000Z', driftScore: 0.01 }));
  const old = new Date(Date.now() - 60_000);
  await utimes(dir, old, old); // older than the racy window
  const index = createRunIndex(dir);
  assert.deepEqual((await index.list()).runs.map((r) => r.run_id), ['a']);
  // Not even a removed run directory is noticed while the report directory's mtime is unchanged...
  await rm(join(dir, 'a'), { recursive: true });
  await utimes(dir, old, old);
  assert.deepEqual((await index.list()).runs.map((r) => r.run_id), ['a']);
  // ...and any store write changes it.
  await saveRun(dir, makeResult({ runId: 'b', finishedAt: '2026-11-26T11:00:00.000Z' }));
  assert.deepEqual((await index.list()).runs.map((r) => r.run_id), ['b']);
});
