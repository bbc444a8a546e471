import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { newRunId } from '../../src/io/report-store.ts';
import { parseDriftArgs } from '../../src/cli/drift.ts';
import { parseDuration } from '../../src/drift/duration.ts';
import { isValidRunId } from '../../src/io/report-store.ts';

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

test('runDriftJob over a log directory: the log-file cache gives the same drift.json as re-reading every file, windows included', async () => {
  const { readFileSync, writeFileSync, mkdirSync, utimesSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-job-log-'));
  const logDir = join(dir, 'live');
  mkdirSync(logDir);
  // The demo's current rows as a prediction log: 6 rotated files, one row every 10 s.
  const [header, ...rows] = readFileSync(CUR, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const features = names.filter((n) => n !== 'class');
  const t0 = Date.parse('2026-11-30T00:00:00.000Z');
  const perFile = 2500;
  for (let f = 0; f < 6; f++) {
    const lines = [`request_id,timestamp,model_version,${features.join(',')},prediction,confidence`];
    for (let i = f * perFile; i < (f + 1) * perFile; i++) {
      const cells = rows[i].split(',');
      lines.push(`id-${i},${new Date(t0 + i * 10_000).toISOString()},v1,${cells.slice(0, -1).join(',')},${cells[cells.length - 1]},0.${i % 10}`);
    }
    const file = join(logDir, `live_predictions-a-${f}.csv`);
    writeFileSync(file, lines.join('\n') + '\n');
    if (f < 5) utimesSync(file, new Date(t0), new Date(t0)); // closed long ago; the last one is open
  }
  const end = t0 + 6 * perFile * 10_000;
  const strip = (r: object): unknown => JSON.parse(JSON.stringify(r, (k, v) => (k === 'run_id' || k === 'started_at' || k === 'finished_at' ? undefined : v)));
  const out = join(dir, 'reports');
  for (const since of [undefined, '10h', '3h', '1h']) {
    const base = { reference: REF, current: logDir, out, save: false, workers: 0, since, now: () => new Date(end) };
    const full = await runDriftJob({ ...base, logCache: false });
    assert.equal(full.logCache, null);
    const cold = await runDriftJob(base);
    const warm = await runDriftJob(base);
    assert.ok(full.result.current.rows > 0);
    assert.deepEqual(strip(cold.result), strip(full.result), `cold, since ${since}`);
    assert.deepEqual(strip(warm.result), strip(full.result), `warm, since ${since}`);
    assert.equal(warm.logCache!.fullRead, false);
    assert.equal(warm.logCache!.digests, true, 'the window is profiled from the files\' digests, no rows merged');
    assert.equal(warm.logCache!.written, 0);
    assert.equal(warm.logCache!.cached, 5, `since ${since}: the closed files come from the cache`);
    assert.equal(warm.logCache!.parsed, 1, 'the open file is parsed');
  }
});

test('runDriftJob over a log directory: a text column (which digests cannot serve) and an input-order test merge rows, same drift.json', async () => {
  const { writeFileSync, utimesSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-job-text-'));
  const logDir = join(dir, 'live');
  mkdirSync(logDir);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma'];
  const note = (i: number): string => `${words[i % 6]} ${words[(i * 7) % 6]} note ${i}`;
  const t0 = Date.parse('2026-11-30T00:00:00.000Z');
  const ref = ['x,note,prediction'];
  for (let i = 0; i < 300; i++) ref.push(`${(i * 37) % 101},${note(i)},${i % 3 === 0 ? 'a' : 'b'}`);
  const refPath = join(dir, 'reference.csv');
  writeFileSync(refPath, ref.join('\n') + '\n');
  for (let f = 0; f < 3; f++) {
    const lines = ['request_id,timestamp,model_version,x,note,prediction'];
    for (let i = f * 200; i < (f + 1) * 200; i++) lines.push(`id-${i},${new Date(t0 + i * 60_000).toISOString()},v1,${(i * 53) % 97 + 3},${note(i + 1000)},${i % 4 === 0 ? 'a' : 'b'}`);
    const file = join(logDir, `live_predictions-a-${f}.csv`);
    writeFileSync(file, lines.join('\n') + '\n');
    if (f < 2) utimesSync(file, new Date(t0), new Date(t0));
  }
  const strip = (r: object): unknown => JSON.parse(JSON.stringify(r, (k, v) => (k === 'run_id' || k === 'started_at' || k === 'finished_at' ? undefined : v)));
  const end = t0 + 600 * 60_000;
  for (const extra of [{}, { columns: ['x', 'prediction'], stattest: 't_test' }]) {
    const base = { reference: refPath, current: logDir, out: join(dir, 'reports'), save: false, workers: 0, since: '8h', now: () => new Date(end), ...extra };
    const full = await runDriftJob({ ...base, logCache: false });
    await runDriftJob(base);
    const warm = await runDriftJob(base);
    assert.deepEqual(strip(warm.result), strip(full.result), JSON.stringify(extra));
    assert.equal(warm.logCache!.cached, 2);
    assert.equal(warm.logCache!.fullRead, false);
    assert.equal(warm.logCache!.digests, false, 'rows merged: the text column, or t_test, reads them');
  }
  // The same directory without the text column and with the default tests: digests.
  const base = { reference: refPath, current: logDir, out: join(dir, 'reports'), save: false, workers: 0, since: '8h', now: () => new Date(end), columns: ['x', 'prediction'] };
  const full = await runDriftJob({ ...base, logCache: false });
  const warm = await runDriftJob(base);
  assert.deepEqual(strip(warm.result), strip(full.result));
  assert.equal(warm.logCache!.digests, true);
});
