// The inference service: loads the model and its card, opens the prediction and label logs, serves
// the app. Started by `sentinel serve` and by `sentinel demo`.
import { mkdir, open, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { Logger } from '../../logger.ts';
import { LABEL_DIR, LABEL_FILE_PREFIX, logColumns } from '../../io/log/schema.ts';
import { LABEL_COLUMNS } from '../../drift/log-columns.ts';
import { createLogWriter, type LogWriter } from '../../io/log/writer.ts';
import { loadModelCard, type ModelCard } from '../../io/model/card.ts';
import { loadOnnxModel } from '../../io/model/onnx.ts';
import { createInferenceMetrics } from '../metrics/inference.ts';
import { closeServer, createHttpServer, listen, type ServerLimits } from '../server.ts';
import { createInferenceApp } from './app.ts';

export interface RunningServer {
  server: Server;
  url: string;
  card: ModelCard;
  /** This process's own metrics (a `--workers` cluster aggregates the workers' ones). */
  registry: Registry;
  /** This process's own readiness check (model loaded, log writable); throws when not ready. */
  probe(): Promise<void>;
  /** Stops accepting, answers in-flight requests, flushes the log; resolves when done. */
  shutdown(): Promise<void>;
}

/** What a worker of `sentinel serve --workers N` gets from the cluster (src/cli/serve-cluster.ts). */
export interface WorkerHooks {
  /** The worker's slot, 0..N-1: its log files are named `<instance>-w<slot>`. */
  index: number;
  /** The whole server's readiness: throws unless every running worker's probe passes. */
  readiness: () => Promise<void>;
  /** The whole server's metrics, in the Prometheus text format. */
  exposition: () => Promise<string>;
}

export interface ServeOptions {
  port: number;
  host: string;
  modelPath: string;
  logDir: string | undefined;
  instanceId: string;
  /** Rotation and request limits; defaults as documented in `sentinel serve --help`. */
  maxLogBytes?: number;
  maxLogAgeMs?: number;
  maxBodyBytes?: number;
  maxInstances?: number;
  /** Most rows one onnxruntime run takes from the queue of concurrent requests (default 64). */
  maxBatchRows?: number;
  /** Connection limits and timeouts; defaults SERVER_LIMITS. */
  limits?: Partial<ServerLimits>;
  logger: Logger;
  /** Set in a `--workers` cluster: this worker's slot, and how /readyz and /metrics reach the whole server through the primary. */
  worker?: WorkerHooks;
}

/** Loads the model, opens the log and listens. Used by `sentinel serve` and by the demo. */
export async function startInferenceServer(o: ServeOptions): Promise<RunningServer> {
  const logger = o.logger.child({ component: 'serve' });
  // Exactly one writer per file: each worker names its files after its slot.
  const instanceId = o.worker ? `${o.instanceId}-w${o.worker.index}` : o.instanceId;
  const loaded = await loadModelCard(o.modelPath);
  const model = await loadOnnxModel(loaded.card, loaded.onnxBytes, { maxBatchRows: o.maxBatchRows });
  const registry = new Registry();
  const metrics = createInferenceMetrics(registry, loaded.card);
  let log: LogWriter | undefined;
  let labels: LogWriter | undefined;
  if (o.logDir !== undefined) {
    await mkdir(o.logDir, { recursive: true });
    await mkdirDurable(o.logDir, LABEL_DIR);
    labels = createLogWriter({
      dir: join(o.logDir, LABEL_DIR),
      instanceId,
      columns: [...LABEL_COLUMNS],
      filePrefix: LABEL_FILE_PREFIX,
      what: 'label log',
      maxBytes: o.maxLogBytes,
      maxAgeMs: o.maxLogAgeMs,
      onFlush: (seconds) => metrics.feedbackWriteDuration.observe(seconds),
      onFailure: (err, rows) => {
        metrics.feedbackWriteFailures.inc();
        logger.error({ event: 'label_log_write_failed', err, rows }, 'label log write failed; requests answered 503');
      },
    });
    log = createLogWriter({
      dir: o.logDir,
      instanceId,
      columns: logColumns(loaded.card.features.map((f) => f.name), loaded.card.classes),
      maxBytes: o.maxLogBytes,
      maxAgeMs: o.maxLogAgeMs,
      onFlush: (seconds, rows) => {
        metrics.logWriteDuration.observe(seconds);
        metrics.logRows.inc(rows);
      },
      onLostFile: (reason) => logger.warn({ event: 'log_file_lost', reason }, 'the open prediction-log file lost its name; its rows go to a new file'),
      onFailure: (err, rows) => {
        metrics.logWriteFailures.inc();
        logger.error({ event: 'prediction_log_write_failed', err, rows }, 'prediction log write failed; requests answered 503');
      },
    });
  }
  const logDir = o.logDir;
  const probeLog = async () => {
    if (logDir === undefined) return;
    // A deleted or replaced open file: the next write starts a new one, so readiness is whether the
    // directory takes a new file right now.
    const lost = await log?.checkFile();
    if (lost) logger.warn({ event: 'log_file_lost', reason: lost }, 'the open prediction-log file lost its name; the next write starts a new file');
    const probe = join(logDir, `.readyz-${instanceId}-${process.pid}`);
    const fh = await open(probe, 'w');
    try {
      await fh.write('ok');
    } finally {
      await fh.close();
      await unlink(probe).catch(() => {});
    }
  };
  const { app, startDraining, settled } = createInferenceApp({
    model,
    log,
    labels,
    probeLog: o.worker?.readiness ?? probeLog,
    registry: o.worker ? { contentType: registry.contentType, metrics: o.worker.exposition } : registry,
    metrics,
    logger,
    maxBodyBytes: o.maxBodyBytes,
    maxInstances: o.maxInstances,
  });
  // The idle timeout (65 s) outlasts common load-balancer idle timeouts.
  const server = createHttpServer(app.callback(), o.limits);
  const url = await listen(server, o.port, o.host);
  // A worker does not announce the URL: the primary does, once every worker is up.
  if (o.worker) logger.info({ event: 'worker_ready', log_dir: logDir ?? null }, 'worker ready');
  else logger.info({ event: 'inference_api_listening', url, model: loaded.card.name, model_version: loaded.card.version, log_dir: logDir ?? null }, 'inference API listening');

  let stopping: Promise<void> | undefined;
  return {
    server,
    url,
    card: loaded.card,
    registry,
    probe: probeLog,
    shutdown() {
      stopping ??= (async () => {
        startDraining();
        await closeServer(server, 20_000);
        // Handlers of clients that hung up mid-request may still run: their rows go in before the log closes.
        await settledWithin(settled(), 20_000);
        await log?.close();
        await labels?.close();
        await model.close();
        logger.info({ event: 'inference_api_stopped' }, 'inference API stopped');
      })();
      return stopping;
    },
  };
}

/** `settled`, or after `ms` whatever is still running (a handler stuck in a hung model must not hold the shutdown). */
function settledWithin(settled: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** Creates `parent/name` and syncs `parent`, so the new directory entry survives a crash. */
async function mkdirDurable(parent: string, name: string): Promise<void> {
  await mkdir(join(parent, name), { recursive: true });
  const fh = await open(parent, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
