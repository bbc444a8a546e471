/**
 * Reads a CSV in a worker thread, so that a cold run parses the reference and the current data at
 * the same time. The typed columns come back transferred (no copy).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { InputError, SentinelError } from '../../errors.ts';
import type { ReadResult } from '../../table/csv.ts';
import { readLog, type ReadOptions } from './reader.ts';

interface ReadRequest {
  path: string;
  options: Omit<ReadOptions, 'keep' | 'onProgress'> & { keepNames?: string[] };
}

type ReadReply = { progress: number } | { result: ReadResult } | { error: { code: string; message: string; input: boolean } };

export interface BackgroundRead {
  result: Promise<ReadResult>;
  cancel(): Promise<void>;
}

/** Starts reading `path` on a worker thread. */
export function readLogInWorker(path: string, options: ReadRequest['options'], onProgress?: (rows: number) => void): BackgroundRead {
  const worker = new Worker(new URL(import.meta.url), { workerData: { path, options } satisfies ReadRequest });
  const result = new Promise<ReadResult>((resolve, reject) => {
    worker.on('message', (m: ReadReply) => {
      if ('progress' in m) onProgress?.(m.progress);
      else if ('result' in m) resolve(m.result);
      else reject(m.error.input ? new InputError(m.error.code, m.error.message) : new SentinelError(m.error.code, m.error.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new SentinelError('read_worker_exit', `CSV reader thread exited (${code})`)));
  });
  result.catch(() => {}); // observed by the caller when it awaits; never an unhandled rejection
  return {
    result,
    async cancel() {
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort !== null && (workerData as ReadRequest | undefined)?.path !== undefined) {
  const port = parentPort;
  const { path, options } = workerData as ReadRequest;
  const keep = options.keepNames === undefined ? undefined : new Set(options.keepNames);
  try {
    const result = await readLog(path, { ...options, keep: keep === undefined ? undefined : (n) => keep.has(n), onProgress: (rows) => port.postMessage({ progress: rows }) });
    const transfer: ArrayBuffer[] = [];
    for (const c of result.table.columns.values()) {
      const b = (c.kind === 'numerical' ? c.values : c.codes).buffer;
      if (b instanceof ArrayBuffer) transfer.push(b);
    }
    port.postMessage({ result } satisfies ReadReply, transfer);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ error: { code: e.code ?? 'read_failed', message: e.message, input: err instanceof InputError } } satisfies ReadReply);
  }
  port.close();
}
