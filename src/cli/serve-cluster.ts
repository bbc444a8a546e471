// `sentinel serve --workers N`: a node:cluster primary that forks N workers sharing the port.
// Each worker is a whole inference server (model, group-commit log) with its own log files; the
// primary holds no model and answers no request. It restarts a crashed worker with backoff, drains
// every worker on SIGTERM, and answers the workers' questions about the whole server: /metrics (the
// workers' registries aggregated with prom-client's AggregatorRegistry) and /readyz (every running
// worker's own probe).
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { clientReason, UnavailableError, UsageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { WorkerHooks } from '../services/http/server.ts';
import { registerProcessMetrics } from '../services/metrics/process.ts';
import { untilSignal } from './signals.ts';

/** More workers than this is a typo, not a machine (each loads the model). */
export const MAX_WORKERS = 256;

export function parseWorkers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS} (got "${text}")`);
  return n;
}

/** What the cluster needs of a worker's running server. */
interface WorkerServer {
  url: string;
  registry: Registry;
  probe(): Promise<void>;
  shutdown(): Promise<void>;
}

const NS = 'sentinelml:serve';
type Json = MetricObjectWithValues<MetricValue<string>>[];
/** Worker → primary. */
type Up =
  | { ns: typeof NS; kind: 'ready'; url: string }
  | { ns: typeof NS; kind: 'failed'; message: string }
  | { ns: typeof NS; kind: 'ask-metrics' | 'ask-ready'; id: number }
  | { ns: typeof NS; kind: 'collected'; id: number; metrics: Json }
  | { ns: typeof NS; kind: 'probed'; id: number; error: string | null };
/** Primary → worker. */
type Down =
  | { ns: typeof NS; kind: 'collect' | 'probe'; id: number }
  | { ns: typeof NS; kind: 'shutdown' }
  | { ns: typeof NS; kind: 'answer'; id: number; text: string | null; error: string | null };

const isMsg = (m: unknown): m is { ns: typeof NS; kind: string } => typeof m === 'object' && m !== null && (m as { ns?: unknown }).ns === NS;

/** A worker asks the primary and waits this long for the whole server's answer. */
const ASK_TIMEOUT_MS = 5_000;
/** The primary waits this long for one worker's metrics or probe; a silent worker is left out (metrics) or counts as not ready. */
const WORKER_TIMEOUT_MS = 3_000;
/** Restart delays: 100 ms, doubling for each crash within RESET_AFTER_MS of its start, at most 10 s. */
const BACKOFF_MS = 100;
const BACKOFF_MAX_MS = 10_000;
const RESET_AFTER_MS = 30_000;
/** Workers drain within their own 20 s (closeServer); past this the primary kills what is left. */
const SHUTDOWN_KILL_MS = 30_000;

const SENTINEL_BIN = fileURLToPath(new URL('../../bin/sentinel.js', import.meta.url));

interface Slot {
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  /** Crashes in a row, each soon after its start (sets the backoff). */
  quickCrashes: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export interface ClusterOptions {
  workers: number;
  /** The `sentinel serve` arguments; every worker runs with the same ones. */
  args: string[];
  logger: Logger;
}

/**
 * The primary. Resolves with the exit code: 0 after SIGTERM/SIGINT once every worker drained and
 * exited 0. A worker that fails while the server starts (bad model, port taken) fails the whole
 * server with its message, as a single process would; after start-up a worker that dies is
 * restarted with backoff and counted in `sentinelml_serve_worker_restarts_total`.
 */
export async function runServeCluster(o: ClusterOptions): Promise<number> {
  const logger = o.logger.child({ component: 'serve-cluster' });
  cluster.setupPrimary({ exec: SENTINEL_BIN, args: ['serve', ...o.args] });

  // The primary's own metrics join the workers' in every scrape: its process CPU and memory are part
  // of the server's, and only it knows about restarts.
  const registry = new Registry();
  registerProcessMetrics(registry);
  const restarts = new Counter({ name: 'sentinelml_serve_worker_restarts_total', help: 'Workers restarted after they died (sentinel serve --workers).', registers: [registry] });
  const slots: Slot[] = Array.from({ length: o.workers }, () => ({ worker: undefined, ready: false, startedAt: 0, quickCrashes: 0, restartTimer: undefined }));
  new Gauge({
    name: 'sentinelml_serve_workers',
    help: 'Workers of this server: configured (--workers) and ready (serving).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'configured' }, o.workers);
      this.set({ state: 'ready' }, slots.filter((s) => s.ready).length);
    },
  });

  let started = false;
  let stopping = false;
  let nextId = 0;
  const replies = new Map<number, (m: Up) => void>();
  let failStart: (err: Error) => void = () => {};
  let allReady: () => void = () => {};
  const startup = new Promise<void>((res, rej) => {
    allReady = res;
    failStart = rej;
  });
  let url = '';

  /** Sends `kind` to every ready worker and gathers the replies that come within the timeout. */
  const askAll = async (kind: 'collect' | 'probe'): Promise<{ slot: number; reply: Up | null }[]> =>
    Promise.all(
      slots.map((s, i) => ({ s, i })).filter(({ s }) => s.ready && s.worker).map(
        ({ s, i }) =>
          new Promise<{ slot: number; reply: Up | null }>((res) => {
            const id = ++nextId;
            const timer = setTimeout(() => {
              replies.delete(id);
              res({ slot: i, reply: null });
            }, WORKER_TIMEOUT_MS);
            replies.set(id, (m) => {
              clearTimeout(timer);
              res({ slot: i, reply: m });
            });
            send(s.worker!, { ns: NS, kind, id });
          }),
      ),
    );

  const wholeMetrics = async (): Promise<string> => {
    const parts = (await askAll('collect')).flatMap(({ reply }) => (reply?.kind === 'collected' ? [reply.metrics] : []));
    parts.push((await registry.getMetricsAsJSON()) as Json);
    return AggregatorRegistry.aggregate(parts).metrics();
  };

  const wholeReadiness = async (): Promise<string | null> => {
    if (stopping) return 'the server is shutting down';
    const answers = await askAll('probe');
    if (answers.length === 0) return 'no worker is ready';
    const problems = answers.flatMap(({ slot, reply }) =>
      reply === null ? [`worker ${slot} did not answer its probe`] : reply.kind === 'probed' && reply.error !== null ? [`worker ${slot}: ${reply.error}`] : [],
    );
    return problems.length > 0 ? problems.join('; ') : null;
  };

  const fork = (i: number): void => {
    const slot = slots[i];
    slot.restartTimer = undefined;
    slot.ready = false;
    slot.startedAt = Date.now();
    const w = cluster.fork({ SENTINEL_WORKER_INDEX: String(i) });
    slot.worker = w;
    w.on('message', (m: unknown) => {
      if (!isMsg(m)) return;
      const msg = m as Up;
      switch (msg.kind) {
        case 'ready':
          slot.ready = true;
          url = msg.url;
          if (!started && slots.every((s) => s.ready)) allReady();
          else if (started) logger.info({ event: 'worker_back', worker: i, pid: w.process.pid }, 'worker back');
          break;
        case 'failed':
          if (!started) failStart(new Error(msg.message));
          else logger.error({ event: 'worker_failed_to_start', worker: i, reason: msg.message }, 'worker failed to start');
          break;
        case 'ask-metrics':
          wholeMetrics().then(
            (text) => send(w, { ns: NS, kind: 'answer', id: msg.id, text, error: null }),
            (err: Error) => send(w, { ns: NS, kind: 'answer', id: msg.id, text: null, error: err.message }),
          );
          break;
        case 'ask-ready':
          wholeReadiness().then(
            (problem) => send(w, { ns: NS, kind: 'answer', id: msg.id, text: null, error: problem }),
            (err: Error) => send(w, { ns: NS, kind: 'answer', id: msg.id, text: null, error: err.message }),
          );
          break;
        case 'collected':
        case 'probed':
          replies.get(msg.id)?.(msg);
          replies.delete(msg.id);
          break;
      }
    });
    w.on('exit', (code, signal) => {
      if (slot.worker !== w) return;
      slot.worker = undefined;
      slot.ready = false;
      if (stopping) return;
      if (!started) {
        failStart(new Error(`worker ${i} exited during start-up (${signal ?? `code ${code}`})`));
        return;
      }
      restarts.inc();
      slot.quickCrashes = Date.now() - slot.startedAt < RESET_AFTER_MS ? slot.quickCrashes + 1 : 0;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** Math.max(0, slot.quickCrashes - 1));
      logger.warn({ event: 'worker_died', worker: i, pid: w.process.pid, code, signal, restart_in_ms: delay }, 'worker died; restarting it');
      slot.restartTimer = setTimeout(() => fork(i), delay);
    });
  };

  const stopAll = async (report = true): Promise<number> => {
    stopping = true;
    let code = 0;
    const exits = slots.map((s) => {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      const w = s.worker;
      if (!w) return Promise.resolve();
      return new Promise<void>((res) => {
        w.once('exit', (c, sig) => {
          if (c !== 0) {
            code = 1;
            if (report) logger.error({ event: 'worker_not_stopped_cleanly', pid: w.process.pid, code: c, signal: sig }, 'worker did not stop cleanly');
          }
          res();
        });
        if (w.isConnected()) send(w, { ns: NS, kind: 'shutdown' });
        else w.process.kill('SIGTERM');
      });
    });
    const kill = setTimeout(() => {
      for (const s of slots) s.worker?.process.kill('SIGKILL');
    }, SHUTDOWN_KILL_MS);
    await Promise.all(exits);
    clearTimeout(kill);
    return code;
  };

  const signalled = untilSignal(logger).then(() => 'signal' as const);
  for (let i = 0; i < o.workers; i++) fork(i);
  const first = await Promise.race([startup.then(() => 'up' as const), signalled]).catch(async (err: Error) => {
    // The failing worker's message is the one line the user sees; the others only stop.
    await stopAll(false);
    throw err;
  });
  if (first === 'up') {
    started = true;
    logger.info({ event: 'inference_api_listening', url, workers: o.workers, pids: slots.map((s) => s.worker?.process.pid) }, 'inference API listening');
    await signalled;
  }
  const code = await stopAll();
  logger.info({ event: 'workers_stopped', workers: o.workers }, 'all workers stopped');
  return code;
}

/**
 * A worker: starts its inference server with hooks that ask the primary about the whole server,
 * answers the primary's questions about itself, and drains on the primary's word or on a signal.
 * Start-up failures go to the primary (which reports them once), not to stderr.
 */
export async function runServeWorker(index: number, logger: Logger, start: (hooks: WorkerHooks) => Promise<WorkerServer>): Promise<number> {
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string | null) => void; reject: (err: Error) => void }>();
  const ask = (kind: 'ask-metrics' | 'ask-ready'): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new UnavailableError('cluster_unavailable', 'the server primary did not answer in time'));
      }, ASK_TIMEOUT_MS);
      pending.set(id, {
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      process.send!({ ns: NS, kind, id } satisfies Up);
    });
  const hooks: WorkerHooks = {
    index,
    // The primary's answer names each unready worker with a client-safe reason (clientReason): shown as is.
    readiness: () => ask('ask-ready').then(() => undefined, (err: Error) => Promise.reject(err instanceof UnavailableError ? err : new UnavailableError('not_ready', err.message))),
    exposition: async () => (await ask('ask-metrics')) ?? '',
  };

  let running: WorkerServer | undefined;
  let shutdownAsked: () => void = () => {};
  const asked = new Promise<void>((res) => (shutdownAsked = res));
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    const msg = m as Down;
    if (msg.kind === 'shutdown') shutdownAsked();
    else if (msg.kind === 'answer') {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error !== null) p?.reject(new Error(msg.error));
      else p?.resolve(msg.text);
    } else if (msg.kind === 'collect') {
      void running!.registry.getMetricsAsJSON().then((metrics) => process.send!({ ns: NS, kind: 'collected', id: msg.id, metrics: metrics as Json } satisfies Up));
    } else if (msg.kind === 'probe') {
      running!.probe().then(
        () => process.send!({ ns: NS, kind: 'probed', id: msg.id, error: null } satisfies Up),
        (err: Error) => process.send!({ ns: NS, kind: 'probed', id: msg.id, error: clientReason(err) } satisfies Up),
      );
    }
  });

  try {
    running = await start(hooks);
  } catch (err) {
    await new Promise<void>((res) => process.send!({ ns: NS, kind: 'failed', message: (err as Error).message } satisfies Up, () => res()));
    cluster.worker?.disconnect();
    return 1;
  }
  process.send!({ ns: NS, kind: 'ready', url: running.url } satisfies Up);
  await Promise.race([asked, untilSignal(logger)]);
  await running.shutdown();
  // Closing the IPC channel lets the process end (an unexpected disconnect would exit it at once).
  cluster.worker?.disconnect();
  return 0;
}

function send(w: Worker, m: Down): void {
  // A worker that just died cannot take messages; its exit handler deals with it.
  if (w.isConnected()) w.send(m);
}
