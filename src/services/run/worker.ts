/**
 * Worker thread: profiles and tests one column per message. Columns arrive as transferred typed
 * arrays (current side, cold reference) or shared memory (cached reference), never copied.
 */
import { parentPort } from 'node:worker_threads';
import { runColumnTask, type ColumnTask, type ColumnTaskResult } from '../../drift/task.ts';

if (parentPort === null) throw new Error('src/services/run/worker.ts must run in a worker thread');
const port = parentPort;

port.on('message', (task: ColumnTask) => {
  let reply: ColumnTaskResult;
  try {
    reply = runColumnTask(task);
  } catch (err) {
    reply = { id: task.id, drift: null, referenceProfile: null, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply, transferables(reply));
});

function transferables(reply: ColumnTaskResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const p = reply.referenceProfile;
  if (p === null || p.data === null) return out;
  const arrays = p.type === 'numerical' ? [p.data.values, p.data.sorted, p.data.uniqueValues, p.data.uniqueCounts] : [p.data.codes, p.data.counts];
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  return out;
}
