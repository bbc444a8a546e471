import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createDriftProcessJob, DriftRunError } from '../../src/services/schedule/drift-process.ts';
import { splitScheduleArgs } from '../../src/cli/schedule.ts';
import { countFailedRuns, readLatest } from '../../src/io/report-store.ts';
import { memoryLogger, tempDir } from '../report-server/helpers.ts';
import { SENTINEL, REPO } from '../support/process.ts';

const FAKE = join(import.meta.dirname, 'fake-drift.ts');

test('the drift process job: success returns the saved run, failure carries the one-line reason', async (t) => {
  const dir = await tempDir(t);
  const { logger } = memoryLogger();
  const forwarded: string[] = [];
  const onLogLine = (l: string) => void forwarded.push(l);
  const ok = createDriftProcessJob({ driftArgs: ['--run-id', 'run-ok'], dir, env: process.env, logger, bin: FAKE, onLogLine });
  assert.deepEqual(await ok.run(), { run_id: 'run-ok', drift_score: 0.1234, recorded_failure: false });
  assert.equal((await readLatest(dir))?.run_id, 'run-ok');

  const bad = createDriftProcessJob({ driftArgs: ['--fail', 'reference data/ref.csv not found'], dir, env: process.env, logger, bin: FAKE, onLogLine });
  const err = await bad.run().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DriftRunError);
  assert.equal(err.message, 'sentinel drift failed (exit code 1): sentinel drift: reference data/ref.csv not found');
  assert.equal(err.recorded, false);
  assert.deepEqual(forwarded, ['{"level":30,"msg":"structured log line"}'], "the child's JSON log lines are forwarded, its one-line reason is not");

  const selfRecording = createDriftProcessJob({ driftArgs: ['--fail', 'boom', '--record', '--run-id', 'run-bad'], dir, env: process.env, logger, bin: FAKE, onLogLine });
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

/** Collects a child's JSON log lines from stderr and waits for lines by predicate (bounded). */
function logWatcher(child: ReturnType<typeof spawn>) {
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>, all: typeof lines) => boolean; resolve: () => void }> = [];
  let buf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = { raw: line };
      }
      lines.push(rec);
      for (const w of [...waiters]) if (w.pred(rec, lines)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    }
  });
  const dump = () => lines.map((l) => JSON.stringify(l).slice(0, 300)).join('\n');
  return {
    lines,
    dump,
    until(what: string, pred: (l: Record<string, unknown>, all: typeof lines) => boolean, timeoutMs = 120_000): Promise<void> {
      if (lines.some((l) => pred(l, lines))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${dump()}`)), timeoutMs);
        waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
  };
}

test('sentinel schedule with the real drift job: failures recorded once each, recovery, SIGTERM waits for the current run', async (t) => {
  const dir = await tempDir(t);
  const reference = join(dir, 'inputs', 'reference.csv');
  const child = spawn(process.execPath, [SENTINEL, 'schedule', '--every', '300ms', '--out', join(dir, 'reports'), '--reference', reference, '--current', join(REPO, 'data', 'current.csv'), '--workers', '0'], {
    cwd: REPO, env: { ...process.env, SENTINEL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => void child.kill('SIGKILL'));
  child.stdout!.resume();
  const exited = once(child, 'exit');
  const log = logWatcher(child);
  const failedLines = () => log.lines.filter((l) => l.event === 'drift_run_failed');
  await log.until('two failed runs', () => failedLines().length >= 2);
  assert.match(String((failedLines()[0].err as { message?: string }).message), /reference\.csv/);

  // The reference appears: the schedule recovers on its own.
  await mkdir(join(dir, 'inputs'), { recursive: true });
  await copyFile(join(REPO, 'data', 'reference.csv'), reference);
  await log.until('a successful run', (l) => l.event === 'drift_run_finished');

  // SIGTERM while a run is in progress: that run finishes, then the process exits 0.
  let lastStarted = 0;
  await log.until('the next run to start', (l, all) => {
    if (l.event !== 'drift_run_started') return false;
    lastStarted = Number(l.run);
    return all.some((x) => x.event === 'drift_run_finished');
  });
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, log.dump());
  const lastRunEnd = log.lines.find((l) => (l.event === 'drift_run_finished' || l.event === 'drift_run_failed') && Number(l.run) === lastStarted);
  assert.ok(lastRunEnd !== undefined, `run ${lastStarted} was not finished before exit:\n${log.dump()}`);
  assert.ok(log.lines.some((l) => l.event === 'scheduler_stopped'));

  const reports = join(dir, 'reports');
  const latest = await readLatest(reports);
  assert.ok(latest !== null);
  assert.ok(latest.drift_score > 0.1, `the demo split drifts: ${latest.drift_score}`);
  await access(join(reports, latest.run_id, 'report.html'));
  // Every failed run recorded exactly once (the drift job records its own; the scheduler does not add another).
  const failedLogged = failedLines().length;
  assert.equal(await countFailedRuns(reports), failedLogged);
  assert.equal(latest.last_failure !== null, true);
});

test('sentinel schedule: a bad --every exits non-zero with one line', async () => {
  const child = spawn(process.execPath, [SENTINEL, 'schedule', '--every', 'soon'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.resume();
  const [code] = await once(child, 'exit');
  assert.notEqual(code, 0);
  assert.match(err, /--every must be a positive duration/);
  assert.equal(err.trim().split('\n').length, 1);
});
