import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDriftProcessJob, DriftRunError, encodeRunnerJob } from '../../src/services/schedule/drift-process.ts';
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
  t.after(() => ok.close());
  const done = await ok.run();
  assert.match(String(done.run_id), /^run-ok-\d+-1$/);
  assert.deepEqual(done, { run_id: done.run_id, drift_score: 0.1234, cpu_ms: 1.5, recorded_failure: false });
  assert.equal((await readLatest(dir))?.run_id, done.run_id);

  const bad = createDriftProcessJob({ driftArgs: ['--fail', 'reference data/ref.csv not found'], dir, env: process.env, logger, bin: FAKE, onLogLine });
  t.after(() => bad.close());
  const err = await bad.run().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DriftRunError);
  assert.equal(err.message, 'sentinel drift failed (exit code 1): sentinel drift: reference data/ref.csv not found');
  assert.equal(err.recorded, false);
  assert.deepEqual(forwarded, ['{"level":30,"msg":"structured log line"}'], "the child's JSON log lines are forwarded, its one-line reason is not");

  const selfRecording = createDriftProcessJob({ driftArgs: ['--fail', 'boom', '--record', '--run-id', 'run-bad'], dir, env: process.env, logger, bin: FAKE, onLogLine });
  t.after(() => selfRecording.close());
  const err2 = await selfRecording.run().then(() => null, (e: unknown) => e);
  assert.ok(err2 instanceof DriftRunError && err2.recorded, 'a run that recorded its own failure is not recorded twice');
  assert.equal(await countFailedRuns(dir), 1);
});

test('the drift runner: one process for many runs, a new one after a crash, an abort or over its memory bound, gone after close', async (t) => {
  const dir = await tempDir(t);
  const { logger } = memoryLogger();
  const runsOf = (driftArgs: string[], runnerMaxRssMib?: number) => createDriftProcessJob({ driftArgs, dir, env: process.env, logger, bin: FAKE, onLogLine: () => {}, runnerMaxRssMib });
  const pidAndRun = (id: string | null) => {
    const m = /-(\d+)-(\d+)$/.exec(String(id));
    assert.ok(m, `run id ${id}`);
    return { pid: Number(m[1]), run: Number(m[2]) };
  };

  const job = runsOf(['--run-id', 'a']);
  const [firstDone, overlapping] = await Promise.allSettled([job.run(), job.run()]);
  assert.equal(overlapping.status, 'rejected');
  assert.match(String((overlapping as PromiseRejectedResult).reason), /already in progress/);
  assert.equal(firstDone.status, 'fulfilled');
  const first = pidAndRun((firstDone as PromiseFulfilledResult<{ run_id: string | null }>).value.run_id);
  const second = pidAndRun((await job.run()).run_id);
  assert.deepEqual(second, { pid: first.pid, run: 2 }, 'the second run went to the same runner');
  assert.equal(job.runnerPid(), first.pid);
  await job.close();
  assert.equal(job.runnerPid(), undefined);
  assert.throws(() => process.kill(first.pid, 0), /ESRCH/, 'the runner has exited after close()');
  const third = pidAndRun((await job.run()).run_id);
  assert.notEqual(third.pid, first.pid, 'a run after close() starts a new runner');
  await job.close();

  // A runner that dies mid-run: that run fails with how it ended, the next one gets a new runner.
  const crashing = runsOf(['--crash']);
  t.after(() => crashing.close());
  const err = await crashing.run().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DriftRunError);
  assert.match(err.message, /^sentinel drift failed \(exit code 70\)/);
  assert.equal(crashing.runnerPid(), undefined);

  // abort() (the second Ctrl-C): the run in progress is killed, the next one gets a new runner.
  const hanging = createDriftProcessJob({ driftArgs: ['--hang'], dir, env: process.env, logger, bin: FAKE, onLogLine: (l) => l.includes('hanging') && hanging.abort() });
  t.after(() => hanging.close());
  const aborted = await hanging.run().then(() => null, (e: unknown) => e);
  assert.ok(aborted instanceof DriftRunError);
  assert.match(aborted.message, /^sentinel drift failed \(killed by SIGTERM\)/);
  assert.equal(hanging.runnerPid(), undefined);

  // Over the memory bound (0 MiB here): every run has its own runner.
  const recycled = runsOf(['--run-id', 'r'], 0);
  t.after(() => recycled.close());
  const r1 = pidAndRun((await recycled.run()).run_id);
  const r2 = pidAndRun((await recycled.run()).run_id);
  assert.notEqual(r1.pid, r2.pid);
  assert.deepEqual([r1.run, r2.run], [1, 1]);
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
  // Every run, failed or not, went to one drift runner, which ended with the schedule.
  const runners = log.lines.filter((l) => l.event === 'drift_runner_started');
  assert.equal(runners.length, 1, log.dump());
  assert.ok(log.lines.filter((l) => l.event === 'drift_run_started').length >= 3);
  assert.throws(() => process.kill(Number(runners[0].pid), 0), /ESRCH/, 'the runner exited with the schedule');
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

test('sentinel drift-runner: each run gives what a fresh sentinel drift process gives; a bad job line is refused and the runner goes on', async (t) => {
  const dir = await tempDir(t);
  const ref = join(REPO, 'data', 'reference.csv');
  const cur = join(REPO, 'data', 'current.csv');
  const jobs = [
    ['--reference', ref, '--current', cur, '--workers', '0'],
    ['--reference', ref, '--current', cur, '--workers', '0', '--stattest', 'psi', '--columns', 'age,education,hours-per-week'],
    ['--reference', cur, '--current', ref, '--workers', '0', '--no-compat'],
  ];
  const runner = spawn(process.execPath, [SENTINEL, 'drift-runner'], { cwd: REPO, env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => void runner.kill('SIGKILL'));
  runner.stdout!.resume();
  let stderr = '';
  runner.stderr!.setEncoding('utf8');
  runner.stderr!.on('data', (c: string) => (stderr += c));
  const doneLines = () => stderr.split('\n').filter((l) => l.startsWith('\u001esentinel-drift-runner done '));
  runner.stdin!.write('{"not": "a job"}\n');
  jobs.forEach((args, i) => runner.stdin!.write(encodeRunnerJob([...args, '--out', join(dir, `runner-${i}`)])));
  runner.stdin!.end();
  const [code] = await once(runner, 'exit');
  assert.equal(code, 0, stderr);
  assert.deepEqual(doneLines().map((l) => l.split(' ').slice(-3, -1).join(' ')), ['2 0', '0 0', '0 0', '0 0'], stderr);
  assert.ok(doneLines().slice(1).every((l) => Number(l.split(' ').at(-1)) > 0), 'each run reports its CPU time');
  assert.match(stderr, /sentinel drift-runner: a runner job is one JSON array of strings per line/);

  const withoutRunIdentity = ({ run_id, started_at, finished_at, ...rest }: Record<string, unknown>) => rest;
  for (const [i, args] of jobs.entries()) {
    const fresh = spawn(process.execPath, [SENTINEL, 'drift', ...args, '--out', join(dir, `fresh-${i}`)], { cwd: REPO, env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    assert.equal((await once(fresh, 'exit'))[0], 0);
    const [a, b] = await Promise.all([`runner-${i}`, `fresh-${i}`].map(async (d) => {
      const latest = await readLatest(join(dir, d));
      return JSON.parse(await readFile(join(dir, d, latest!.run_id, 'drift.json'), 'utf8')) as Record<string, unknown>;
    }));
    assert.deepEqual(withoutRunIdentity(a), withoutRunIdentity(b), `job ${i}`);
  }
});
