import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunId, runDriftJob } from '../../src/drift/job.ts';
import { parseDriftArgs } from '../../src/cli/drift.ts';
import { parseDuration } from '../../src/drift/duration.ts';
import { isValidRunId } from '../../src/reports/store.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const REF = join(ROOT, 'data', 'reference.csv');
const CUR = join(ROOT, 'data', 'current.csv');

test('runDriftJob: computes without saving, reports cache status and workers, honours compat and columns', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sentinel-job-')), 'reports');
  const progress: string[] = [];
  const first = await runDriftJob({ reference: REF, current: CUR, out, save: false, workers: 2, compat: false, columns: ['age', 'education'], onProgress: (p) => progress.push(p.phase) });
  assert.equal(first.runDir, null);
  assert.equal(first.result.compat, false);
  assert.deepEqual(first.result.columns.map((c) => c.name), ['age', 'education']);
  assert.equal(first.cache.status, 'miss');
  assert.equal(first.workers, 2);
  assert.ok(progress.includes('current') && progress.includes('columns'));
  assert.ok(first.cache.file !== null && existsSync(first.cache.file));
  // Nothing but the cache was written.
  assert.deepEqual(readdirSync(out), ['.cache']);
  const second = await runDriftJob({ reference: REF, current: CUR, out, save: false, workers: 0, compat: false, columns: ['age', 'education'] });
  assert.equal(second.cache.status, 'hit');
  assert.equal(second.workers, 0);
  assert.deepEqual(second.result.columns, first.result.columns);
});

test('runDriftJob: a failure throws one line and records the failed run', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sentinel-job-')), 'reports');
  await assert.rejects(runDriftJob({ reference: join(ROOT, 'nope.csv'), current: CUR, out, runId: 'failed-run-1' }), (err: Error) => {
    assert.match(err.message, /^cannot read .*nope\.csv: no such file or directory$/);
    return true;
  });
  assert.deepEqual(readdirSync(join(out, 'failed-run-1')), ['failed.json']);
});

test('run ids are valid store ids; durations', () => {
  const id = newRunId(new Date('2026-11-26T15:12:00.123Z'));
  assert.match(id, /^20261126T151200Z-[0-9a-f]{6}$/);
  assert.ok(isValidRunId(id));
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2w'), 1_209_600_000);
  assert.equal(parseDuration('500ms'), 500);
  for (const bad of ['', '24', 'h', '1x', '-1h', '0s', '1h ']) assert.equal(parseDuration(bad), null, bad);
});

test('runDriftJob: stray entries in the log directory (a directory named x.csv, a symlink loop) are skipped, counted in drift.json and the report (issue 10)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sentinel-job-'));
  const live = join(root, 'live');
  mkdirSync(live);
  copyFileSync(CUR, join(live, 'a.csv'));
  mkdirSync(join(live, 'x.csv'));
  symlinkSync('loop.csv', join(live, 'loop.csv'));
  const out = join(root, 'reports');
  const outcome = await runDriftJob({ reference: REF, current: live, out, workers: 0, columns: ['age', 'education'], runId: 'stray-1' });
  const expected = [
    { name: 'loop.csv', reason: 'symbolic link loop' },
    { name: 'x.csv', reason: 'not a regular file (a directory)' },
  ];
  assert.deepEqual(outcome.current.skippedEntries, expected);
  const saved = JSON.parse(readFileSync(join(out, 'stray-1', 'drift.json'), 'utf8'));
  assert.deepEqual(saved.current.skipped_entries, expected);
  assert.equal(saved.current.files, 1);
  const html = readFileSync(join(out, 'stray-1', 'report.html'), 'utf8');
  assert.match(html, /2 entries of the log directory skipped \(not regular files\): <code>loop\.csv<\/code> \(symbolic link loop\), <code>x\.csv<\/code>/);
});

test('runDriftJob: keepLast removes the oldest runs after each run, failed ones included (issue 10)', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sentinel-job-')), 'reports');
  const base = { reference: REF, current: CUR, out, workers: 0, columns: ['age'], keepLast: 2 };
  let clock = Date.parse('2026-11-26T10:00:00.000Z');
  const now = () => new Date((clock += 60_000));
  await runDriftJob({ ...base, runId: 'k1', now });
  await runDriftJob({ ...base, runId: 'k2', now });
  await assert.rejects(runDriftJob({ ...base, current: join(ROOT, 'missing.csv'), runId: 'k3', now }));
  await runDriftJob({ ...base, runId: 'k4', now });
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('k')).sort(), ['k3', 'k4']);
  const parsed = parseDriftArgs(['--reference', 'r.csv', '--current', 'c', '--keep-last', '7']);
  assert.equal(parsed.help === false ? parsed.options.keepLast : null, 7);
  assert.throws(() => parseDriftArgs(['--reference', 'r.csv', '--current', 'c', '--keep-last', '0']), /--keep-last must be a whole number >= 1/);
});
