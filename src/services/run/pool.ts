/**
 * A fixed pool of worker threads running column tasks, largest first. With `size` 0 the tasks run
 * inline on the calling thread (tests, tiny inputs).
 */
import { Worker } from 'node:worker_threads';
import { runColumnTask, taskTransferables, type ColumnTask, type ColumnTaskResult } from '../../drift/task.ts';
import { isDigest } from '../../table/columns.ts';

export interface ColumnPool {
  readonly size: number;
  run(tasks: ColumnTask[], onDone?: (done: number, total: number) => void): Promise<ColumnTaskResult[]>;
  close(): Promise<void>;
}

export function createColumnPool(size: number): ColumnPool {
  // Started now so that thread start-up and module loading overlap with CSV parsing.
  const workers = Array.from({ length: Math.max(0, size) }, () => new Worker(new URL('./worker.ts', import.meta.url)));
  for (const w of workers) w.unref();
  return {
    size: workers.length,
    async run(tasks, onDone) {
      const results: ColumnTaskResult[] = new Array(tasks.length);
      const byId = new Map(tasks.map((t, i) => [t.id, i]));
      if (workers.length === 0) {
        tasks.forEach((t, i) => {
          results[i] = runColumnTask(t);
          onDone?.(i + 1, tasks.length);
        });
        return results;
      }
      const weight = (t: ColumnTask): number => (isDigest(t.current) ? (t.current.kind === 'numerical' ? t.current.runs.values.length * 16 : t.current.counts.length) : t.current.kind === 'numerical' ? t.current.values.length * 8 : t.current.codes.length);
      const queue = [...tasks].sort((a, b) => weight(b) - weight(a));
      let done = 0;
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const next = (): void => {
                const t = queue.shift();
                if (t === undefined) {
                  w.off('message', onMessage);
                  w.off('error', onError);
                  resolve();
                  return;
                }
                w.postMessage(t, taskTransferables(t));
              };
              const onMessage = (r: ColumnTaskResult): void => {
                if (r.error !== null) {
                  w.off('message', onMessage);
                  w.off('error', onError);
                  reject(new Error(`column worker failed: ${r.error.split('\n')[0]}`));
                  return;
                }
                results[byId.get(r.id)!] = r;
                onDone?.(++done, tasks.length);
                next();
              };
              const onError = (err: Error): void => reject(err);
              w.on('message', onMessage);
              w.on('error', onError);
              next();
            }),
        ),
      );
      return results;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
