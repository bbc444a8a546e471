// The operator's work queue: client-go semantics (dedupe, no concurrent processing of a key,
// re-processing of a key added while in progress, per-key exponential backoff, shutdown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/services/k8s/workqueue.ts';

test('a key is queued once, handed to one worker at a time, and processed again when added meanwhile', async () => {
  const q = new WorkQueue();
  q.add('ns/a');
  q.add('ns/a');
  q.add('ns/b');
  assert.equal(q.length, 2);
  const first = await q.get();
  assert.equal(first, 'ns/a');
  q.add('ns/a'); // while in progress: not queued again yet ...
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'ns/b');
  q.done('ns/b');
  assert.equal(q.length, 0);
  q.done('ns/a'); // ... but after done
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'ns/a');
});

test('a waiting worker gets the next key at once; shutDown wakes waiters with undefined', async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.add('ns/x');
  assert.equal(await waiting, 'ns/x');
  const idle = q.get();
  q.shutDown();
  assert.equal(await idle, undefined);
  q.add('ns/y');
  assert.equal(await q.get(), undefined);
});

test('failures back off exponentially per key up to the cap; forget starts over', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
  const delays = Array.from({ length: 6 }, () => q.addRateLimited('ns/a'));
  assert.deepEqual(delays, [10, 20, 40, 80, 100, 100]);
  assert.equal(q.nextDelay('ns/b'), 10, 'per key');
  q.forget('ns/a');
  assert.equal(q.nextDelay('ns/a'), 10);
  q.shutDown();
});

test('addAfter adds the key once the delay has passed; the earlier of two delays wins', async () => {
  const q = new WorkQueue();
  q.addAfter('ns/a', 5_000);
  q.addAfter('ns/a', 20);
  assert.equal(q.length, 0);
  const t0 = Date.now();
  assert.equal(await q.get(), 'ns/a');
  assert.ok(Date.now() - t0 < 4_000, 'the shorter delay applied');
  q.shutDown();
});
