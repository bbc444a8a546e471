import { fdatasyncSync, statSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError, clientReason } from '../../errors.ts';
import { csvRecords } from '../../table/csv-write.ts';
import { logFileName } from './schema.ts';

/** A lone request's fdatasync runs on the event-loop thread only while syncs take less than this (default). */
const INLINE_SYNC_MAX_MS = 2;

export interface LogWriterOptions {
  dir: string;
  /** Distinguishes replicas: each writes its own files. */
  instanceId: string;
  columns: string[];
  /** File name prefix (default: the prediction log's); the label log uses its own. */
  filePrefix?: string;
  /** What the files hold, for error messages (default "prediction log"). */
  what?: string;
  /** Start a new file once the current one holds this many bytes. */
  maxBytes?: number;
  /** Start a new file once the current one is this old. */
  maxAgeMs?: number;
  /** A group of one row set fdatasyncs on the event-loop thread while the last sync took less than this many ms (default 2); else on the thread pool. */
  inlineSyncMaxMs?: number;
  now?: () => Date;
  /** Called after each durable flush with its duration and row count (metrics). */
  onFlush?: (seconds: number, rows: number) => void;
  /** Called when the open file is found deleted or replaced; its rows are written again to a new file. */
  onLostFile?: (reason: string) => void;
  /** Called when a flush fails; the rows of that flush are rejected. */
  onFailure?: (err: Error, rows: number) => void;
}

export interface LogWriter {
  /** Resolves once the rows are on disk (fsync); rejects with a 503-class error when they cannot be. */
  append(rows: unknown[][]): Promise<void>;
  /** The file currently written, if any. */
  currentFile(): string | undefined;
  /**
   * Whether the open file is still the file at its path (readiness). When it is not (the file or its
   * directory was deleted or replaced), the next flush starts a new file; this reports why.
   */
  checkFile(): Promise<string | null>;
  /** Writes pending rows, syncs and closes; later appends are rejected. */
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Append-only CSV log with group commit: rows that arrive while an fsync is running wait for the
 * next one, which flushes them all together as soon as the previous fsync returns. One fsync
 * (~250 µs here) is thus shared by every request in flight, instead of one fsync per request.
 * A file is created with O_EXCL and never reopened: after a failed write the writer abandons the
 * file (its tail is unknown) and starts a new one, so a torn line can only be a file's last.
 *
 * A group commit makes one trip to libuv's thread pool, its fdatasync: the write() into the page
 * cache (microseconds) and the name check below are synchronous. Each trip is a hand-off to a pool
 * thread and back, and on a busy machine each hand-off waits for a CPU: with three trips per commit
 * (write, fdatasync, stat) these were the tail of a single connection's latency
 * (bench/serve/RESULTS-p99.md). O_DSYNC (the write being the sync) was measured too: its write()
 * took 4x longer than write + fdatasync on this ext4.
 *
 * Before rows are acknowledged, the writer checks that the open file is still the file at its path
 * (one stat per group commit, dev + inode compared with the handle's; a synchronous stat of a
 * cached entry costs microseconds, less than another trip to the pool): rows written into a file
 * whose name was deleted (`rm -rf` of the log directory) would otherwise be lost after the answer.
 * Then the writer starts a new file and writes the rows again there, or fails them (503) when it
 * cannot. A file that never received a committed row (disk full right after its header) is removed.
 */
export function createLogWriter(opts: LogWriterOptions): LogWriter {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const maxAgeMs = opts.maxAgeMs ?? 60 * 60 * 1000;
  const now = opts.now ?? (() => new Date());
  const inlineSyncMaxMs = opts.inlineSyncMaxMs ?? INLINE_SYNC_MAX_MS;
  const headerBytes = Buffer.from(csvRecords([opts.columns]), 'utf8');

  let fh: FileHandle | undefined;
  let path: string | undefined;
  let openedAt = 0;
  let bytes = 0;
  let seq = 0;
  let identity: { dev: number; ino: number } | undefined;
  /** Bytes of the open file that belong to acknowledged rows (0: only the header). */
  let committed = 0;
  /** Set when the open file was found not to be at its path; the next flush starts a new one. */
  let stale = false;
  /** How long the last fdatasync took (ms): decides whether a lone request may sync inline. */
  let lastSyncMs = 0;

  let pendingText: string[] = [];
  let pendingRows = 0;
  let pendingWaiters: Waiter[] = [];
  let flushing = false;
  let closed = false;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => {};

  async function openNewFile(): Promise<void> {
    const started = now();
    let candidate = '';
    let handle: FileHandle | undefined;
    // O_EXCL: never append to a file another writer (or an earlier run) owns.
    for (let attempt = 0; handle === undefined; attempt++) {
      candidate = join(opts.dir, logFileName(opts.instanceId, started, seq++, opts.filePrefix));
      try {
        handle = await open(candidate, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 100) throw err;
      }
    }
    try {
      writeAll(handle, headerBytes);
      await handle.sync();
      const st = await handle.stat();
      identity = { dev: st.dev, ino: st.ino };
      // The new directory entry must be durable too, or a crash could lose the whole file.
      const dirHandle = await open(opts.dir, 'r');
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch (err) {
      await handle.close().catch(() => {});
      // No row ever reached it: leave no header-only file behind (one per failed write on a full disk).
      await unlink(candidate).catch(() => {});
      throw err;
    }
    fh = handle;
    path = candidate;
    openedAt = started.getTime();
    bytes = headerBytes.length;
    committed = 0;
    stale = false;
  }

  /** Why the open file is no longer the file at its path, or null when it still is. */
  function lostName(): string | null {
    if (path === undefined || identity === undefined) return null;
    try {
      const st = statSync(path);
      return st.dev === identity.dev && st.ino === identity.ino ? null : `${path} was replaced by another file`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return `${path} was deleted`;
      throw err;
    }
  }

  /** Closes the open file; removes it when no row was committed to it and it is still ours at its path. */
  async function abandonFile(removeIfEmpty = true): Promise<void> {
    const old = fh;
    const oldPath = path;
    const empty = removeIfEmpty && committed === 0;
    fh = undefined;
    path = undefined;
    identity = undefined;
    if (old) await old.close().catch(() => {});
    if (oldPath !== undefined && empty) await unlink(oldPath).catch(() => {});
  }

  async function flush(): Promise<void> {
    flushing = true;
    while (pendingWaiters.length > 0) {
      // Encoded once: the same bytes are written, counted for rotation and counted as committed.
      const data = Buffer.from(pendingText.join(''), 'utf8');
      const rows = pendingRows;
      const waiters = pendingWaiters;
      pendingText = [];
      pendingRows = 0;
      pendingWaiters = [];
      const t0 = process.hrtime.bigint();
      try {
        if (fh && (stale || bytes >= maxBytes || now().getTime() - openedAt >= maxAgeMs)) {
          if (!stale) await fh.sync();
          await abandonFile(!stale);
        }
        // Twice at most: a second lost name in a row means someone keeps deleting the directory.
        for (let attempt = 0; ; attempt++) {
          if (!fh) await openNewFile();
          writeAll(fh!, data);
          bytes += data.length;
          // A group of one request (nobody else waiting: one connection, light load) syncs on this
          // thread while the disk is fast: the round trip through the thread pool costs that request
          // more than the sync blocks anyone. A larger group, or a slow disk (the last sync took
          // inlineSyncMaxMs or more), syncs on the pool, so requests and probes keep being served.
          const s0 = process.hrtime.bigint();
          if (waiters.length === 1 && lastSyncMs < inlineSyncMaxMs) fdatasyncSync(fh!.fd);
          else await fh!.datasync();
          lastSyncMs = Number(process.hrtime.bigint() - s0) / 1e6;
          const lost = lostName();
          if (lost === null) break;
          opts.onLostFile?.(lost);
          stale = true;
          await abandonFile(false);
          if (attempt >= 1) throw new Error(`${lost} while rows were written`);
        }
        committed += data.length;
        opts.onFlush?.(Number(process.hrtime.bigint() - t0) / 1e9, rows);
        for (const w of waiters) w.resolve();
      } catch (cause) {
        await abandonFile();
        // The OS message names server paths: it stays in the cause (logged), the client sees the errno.
        const err = new UnavailableError('log_write_failed', `the ${opts.what ?? 'prediction log'} cannot be written (${clientReason(cause)})`, { cause });
        opts.onFailure?.(err, rows);
        for (const w of waiters) w.reject(err);
      }
    }
    flushing = false;
    markIdle();
  }

  return {
    append(rows) {
      if (closed) return Promise.reject(new UnavailableError('log_closed', `the ${opts.what ?? 'prediction log'} is closed (shutting down)`));
      const text = csvRecords(rows);
      return new Promise<void>((resolve, reject) => {
        pendingText.push(text);
        pendingRows += rows.length;
        pendingWaiters.push({ resolve, reject });
        if (!flushing) {
          idle = new Promise<void>((r) => (markIdle = r));
          // Let requests that arrive in the same tick share this flush.
          flushing = true;
          setImmediate(() => void flush());
        }
      });
    },
    currentFile: () => path,
    async checkFile() {
      const lost = lostName();
      if (lost !== null) stale = true;
      return lost;
    },
    async close() {
      closed = true;
      if (flushing) await idle;
      if (fh) {
        await fh.sync().catch(() => {});
        await abandonFile();
      }
    },
  };
}

/** Synchronous: a write into the page cache costs less than a trip to the thread pool and back. */
function writeAll(fh: FileHandle, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const bytesWritten = writeSync(fh.fd, buf, off, buf.length - off);
    if (bytesWritten === 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}
