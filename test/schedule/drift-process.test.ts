import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createDriftProcessJob, DriftRunError } from '../../src/schedule/drift-process.ts';
import { splitScheduleArgs } from '../../src/cli/schedule.ts';
import { countFailedRuns, readLatest } from '../../src/reports/store.ts';
import { memoryLogger, tempDir } from '../reports/helpers.ts';
import { SENTINEL, REPO } from '../support/process.ts';

const FAKE = join(import.meta.dirname, 'fake-drift.ts');

test('the drift process job: success returns the saved run, failure carries the one-line reason', async (t) => {
  const dir = await tempDir(t);
  const { logger } = memoryLogger();
  const ok = createDriftProcessJob({ driftArgs: ['--run-id', 'run-ok'], dir, env: process.env, logger, bin: FAKE });
  assert.deepEqual(await ok.run(), { run_id: 'run-ok', drift_score: 0.1234, recorded_failure: false });
  assert.equal((await readLatest(dir))?.run_id, 'run-ok');

  const bad = createDriftProcessJob({ driftArgs: ['--fail', 'reference data/ref.csv not found'], dir, env: process.env, logger, bin: FAKE });
  const err = await bad.run().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DriftRunError);
  assert.equal(err.message, 'sentinel drift failed (exit code 1): sentinel drift: reference data/ref.csv not found');
  assert.equal(err.recorded, false);

  const selfRecording = createDriftProcessJob({ driftArgs: ['--fail', 'boom', '--record', '--run-id', 'run-bad'], dir, env: process.env, logger, bin: FAKE });
  const err2 = await selfRecording.run().then(() => null, (e: unknown) => e);
  assert.ok(err2 instanceof DriftRunError && err2.recorded, 'a run that recorded its own failure is not recorded twice');
  assert.equal(await countFailedRuns(dir), 1);
});

test('schedule flags: ours are taken, the rest go to sentinel drift', () => {
  assert.deepEqual(splitScheduleArgs(['--every', '5m', '--reference', 'r.csv', '--current=data/live', '--out', 'x', '--since', '1h']), {
    every: '5m', out: 'x', initialRun: true, help: false, driftArgs: ['--reference', 'r.csv', '--current=data/live', '--since', '1h'],
  });
  assert.deepEqual(splitScheduleArgs(['--every=30s', '--no-initial-run']), { every: '30s', out: 'reports', initialRun: false, help: false, driftArgs: [] });
  assert.throws(() => splitScheduleArgs(['--every']), /--every needs a value/);
});

test('sentinel schedule as a process: failed runs are logged, recorded and counted, the schedule goes on, SIGTERM stops cleanly', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, [SENTINEL, 'schedule', '--every', '200ms', '--out', dir, '--reference', join(dir, 'no-such-reference.csv'), '--current', join(dir, 'no-such-current.csv')], {
    cwd: REPO, env: { ...process.env, SENTINEL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => void child.kill('SIGKILL'));
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  const failures = () => lines.filter((l) => l.msg === 'drift run failed; the schedule goes on').length;
  const twoFailures = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no two failed runs logged:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)), 60_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ raw: line });
        }
        if (failures() >= 2) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  child.stdout.resume();
  await twoFailures;
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, lines.map((l) => JSON.stringify(l)).join('\n'));
  assert.ok(lines.some((l) => l.msg === 'scheduler stopped'));
  const failed = await countFailedRuns(dir);
  assert.ok(failed >= 2, `failed runs recorded: ${failed}`);
  assert.equal(await readLatest(dir), null, 'no good run, so no latest pointer');
});
