import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createScheduler, type Clock, type TickOutcome } from '../../src/services/schedule/scheduler.ts';
import { countFailedRuns, listRuns, readLatest, recordFailedRun } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { makeResult } from '../render/fixture.ts';
import { memoryLogger, tempDir } from '../report-server/helpers.ts';

/** A clock that moves only when the test says so. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 1_000_000;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      timers.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('never two runs at once: a tick during a run is skipped and logged', async () => {
  const { logger, lines } = memoryLogger();
  const clock = manualClock();
  const gates: Deferred[] = [];
  let active = 0;
  let maxActive = 0;
  const scheduler = createScheduler({
    every: 60_000,
    clock,
    logger,
    job: async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      active -= 1;
      return { run_id: `run-${gates.length}` };
    },
  });
  scheduler.start(); // runs at start
  assert.equal(gates.length, 1);
  const skip1 = once(scheduler, 'skip');
  clock.advance(60_000); // tick while run 1 is still going
  assert.deepEqual((await skip1)[0], { status: 'skipped', reason: 'running' });
  clock.advance(60_000); // and another
  assert.equal(scheduler.stats().skipped, 2);
  assert.equal(gates.length, 1, 'no second run started');
  const done1 = once(scheduler, 'success');
  gates[0].resolve();
  const [outcome] = (await done1) as [TickOutcome];
  assert.equal(outcome.status, 'ok');
  // The next tick runs again, on the original fixed-rate schedule.
  clock.advance(60_000);
  assert.equal(gates.length, 2);
  const done2 = once(scheduler, 'success');
  gates[1].resolve();
  await done2;
  assert.equal(maxActive, 1);
  assert.deepEqual({ ...scheduler.stats(), lastError: null }, { runs: 2, succeeded: 2, failed: 0, skipped: 2, running: false, lastError: null });
  const skipped = lines.filter((l) => l.event === 'tick_skipped');
  assert.equal(skipped.length, 2);
  assert.equal(skipped[0].level, 40);
  assert.ok(lines.some((l) => l.event === 'drift_run_finished' && l.run_id === 'run-1'));
  await scheduler.stop();
  assert.equal(clock.pending(), 0, 'no timer left after stop');
});

test('a failed run is logged, recorded and counted; the schedule goes on and recovers (real files)', async (t) => {
  const dir = await tempDir(t);
  const { logger, lines } = memoryLogger();
  const clock = manualClock();
  let n = 0;
  let referencePath = join(dir, 'missing-reference.csv');
  const scheduler = createScheduler({
    every: 300_000,
    clock,
    logger,
    // Stands in for the drift job: reads its reference, then saves a run through the store.
    job: async () => {
      n += 1;
      await readFile(referencePath, 'utf8');
      const result = makeResult({ runId: `run-${n}`, finishedAt: new Date(clock.now()).toISOString(), driftScore: 0.05 * n });
      await saveRun(dir, result);
      return result;
    },
    onFailure: (err) => recordFailedRun(dir, `run-${n}`, err instanceof Error ? err.message : String(err), new Date(clock.now())),
  });
  const first = once(scheduler, 'failure');
  scheduler.start();
  const [failed] = (await first) as [TickOutcome];
  assert.equal(failed.status, 'failed');
  assert.equal(await countFailedRuns(dir), 1);
  assert.equal(await readLatest(dir), null, 'no good run yet, so no latest pointer');
  assert.ok(lines.some((l) => l.level === 50 && l.event === 'drift_run_failed' && (l.err as { code?: string }).code === 'ENOENT'));

  // Fix the input; the next tick succeeds.
  referencePath = join(dir, 'reference.csv');
  await (await import('node:fs/promises')).writeFile(referencePath, 'age\n30\n');
  const second = once(scheduler, 'success');
  clock.advance(300_000);
  await second;
  const latest = await readLatest(dir);
  assert.equal(latest?.run_id, 'run-2');
  // Fail once more after a good run: the good report stays, the failure is on record.
  referencePath = join(dir, 'gone.csv');
  const third = once(scheduler, 'failure');
  clock.advance(300_000);
  await third;
  const after = await readLatest(dir);
  assert.equal(after?.run_id, 'run-2');
  assert.match(String(after?.last_failure?.message), /ENOENT/);
  assert.equal(await countFailedRuns(dir), 2);
  assert.deepEqual((await listRuns(dir)).map((r) => [r.run_id, r.status]), [['run-1', 'failed'], ['run-2', 'ok'], ['run-3', 'failed']]);
  assert.equal(scheduler.stats().failed, 2);
  assert.equal(scheduler.stats().succeeded, 1);
  await scheduler.stop();
});

test('a failing onFailure is logged and the schedule still goes on', async () => {
  const { logger, lines } = memoryLogger();
  const clock = manualClock();
  let calls = 0;
  const scheduler = createScheduler({
    every: 1000, clock, logger, runAtStart: false,
    job: async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return 'ok';
    },
    onFailure: async () => {
      throw new Error('disk full');
    },
  });
  scheduler.start();
  const f = once(scheduler, 'failure');
  clock.advance(1000);
  await f;
  assert.ok(lines.some((l) => l.event === 'failed_run_not_recorded'));
  const s = once(scheduler, 'success');
  clock.advance(1000);
  await s;
  await scheduler.stop();
});

test('stop() waits for the current run, then no more ticks', async () => {
  const { logger } = memoryLogger();
  const clock = manualClock();
  const gate = deferred();
  let calls = 0;
  const scheduler = createScheduler({ every: 1000, clock, logger, job: async () => { calls += 1; await gate.promise; } });
  scheduler.start();
  let stoppedYet = false;
  const stopping = scheduler.stop().then(() => { stoppedYet = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(stoppedYet, false, 'stop waits for the run in progress');
  gate.resolve();
  await stopping;
  assert.equal(scheduler.stats().running, false);
  clock.advance(10_000);
  assert.equal(calls, 1);
  assert.deepEqual(await scheduler.tick(), { status: 'skipped', reason: 'stopped' });
});

test('a run longer than several intervals: missed ticks are skipped, not queued', async () => {
  const { logger } = memoryLogger();
  const clock = manualClock();
  const gate = deferred();
  let calls = 0;
  const scheduler = createScheduler({ every: 1000, clock, logger, job: async () => { calls += 1; if (calls === 1) await gate.promise; } });
  scheduler.start();
  clock.advance(5000);
  assert.equal(scheduler.stats().skipped, 5);
  const done = once(scheduler, 'success');
  gate.resolve();
  await done;
  assert.equal(calls, 1, 'no backlog of queued runs');
  const next = once(scheduler, 'success');
  clock.advance(1000);
  await next;
  assert.equal(calls, 2);
  await scheduler.stop();
});

test('rejects a non-positive interval', () => {
  const { logger } = memoryLogger();
  assert.throws(() => createScheduler({ every: 0, logger, job: async () => {} }), RangeError);
});
