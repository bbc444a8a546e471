import { mkdir, open, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createInferenceApp } from '../services/http/app.ts';
import { createLogger, type Logger } from '../logger.ts';
import { LABEL_COLUMNS, LABEL_DIR, LABEL_FILE_PREFIX, logColumns } from '../io/log/schema.ts';
import { createLogWriter, type LogWriter } from '../io/log/writer.ts';
import { createInferenceMetrics } from '../services/metrics/inference.ts';
import { loadModelCard, type ModelCard } from '../io/model/card.ts';
import { loadOnnxModel } from '../io/model/onnx.ts';
import type { Command } from './main.ts';
import { closeServer, createHttpServer, listen, SERVER_LIMITS_HELP, untilSignal, type ServerLimits } from './lifecycle.ts';
import { LIMIT_FLAGS, parseBytes, parseDuration, parseLimitFlags, parsePort, parsePositiveInt } from './flags.ts';

const HELP = `usage: sentinel serve [options]

Serves the model: POST /predict, POST /feedback, GET /healthz, /readyz, /metrics, /openapi.json.
Every prediction is answered only after its row is fsynced to the prediction log; every label
(POST /feedback) only after its row is fsynced to the label log, <log-dir>/labels/.

options:
  --port N             port to listen on (default 8080; 0 picks a free port)
  --host ADDR          address to bind (default 127.0.0.1; 0.0.0.0 in a container)
  --model FILE         ONNX model; its card is model.json beside it (default models/model.onnx)
  --log-dir DIR        prediction-log directory (default data/live)
  --instance-id ID     replica name used in log file names (default $SENTINEL_INSTANCE_ID or the host name)
  --max-log-size SIZE  start a new log file after this many bytes (default 64MiB)
  --max-log-age DUR    start a new log file after this long (default 1h)
  --max-body SIZE      largest request body accepted (default 1MiB)
  --max-instances N    largest batch accepted (default 1000)
  --max-batch-rows N   most rows one model run takes from concurrent requests (default 64)
  --no-log             do not record predictions (benchmarks only: nothing is durable)
${SERVER_LIMITS_HELP}`;

export interface RunningServer {
  server: Server;
  url: string;
  card: ModelCard;
  /** Stops accepting, answers in-flight requests, flushes the log; resolves when done. */
  shutdown(): Promise<void>;
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
}

/** Loads the model, opens the log and listens. Used by `sentinel serve` and by the demo. */
export async function startInferenceServer(o: ServeOptions): Promise<RunningServer> {
  const logger = o.logger.child({ component: 'serve' });
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
      instanceId: o.instanceId,
      columns: [...LABEL_COLUMNS],
      filePrefix: LABEL_FILE_PREFIX,
      what: 'label log',
      maxBytes: o.maxLogBytes,
      maxAgeMs: o.maxLogAgeMs,
      onFlush: (seconds) => metrics.feedbackWriteDuration.observe(seconds),
      onFailure: (err, rows) => {
        metrics.feedbackWriteFailures.inc();
        logger.error({ err, rows }, 'label log write failed; requests answered 503');
      },
    });
    log = createLogWriter({
      dir: o.logDir,
      instanceId: o.instanceId,
      columns: logColumns(loaded.card.features.map((f) => f.name)),
      maxBytes: o.maxLogBytes,
      maxAgeMs: o.maxLogAgeMs,
      onFlush: (seconds, rows) => {
        metrics.logWriteDuration.observe(seconds);
        metrics.logRows.inc(rows);
      },
      onLostFile: (reason) => logger.warn({ reason }, 'the open prediction-log file lost its name; its rows go to a new file'),
      onFailure: (err, rows) => {
        metrics.logWriteFailures.inc();
        logger.error({ err, rows }, 'prediction log write failed; requests answered 503');
      },
    });
  }
  const logDir = o.logDir;
  const probeLog = async () => {
    if (logDir === undefined) return;
    // A deleted or replaced open file: the next write starts a new one, so readiness is whether the
    // directory takes a new file right now.
    const lost = await log?.checkFile();
    if (lost) logger.warn({ reason: lost }, 'the open prediction-log file lost its name; the next write starts a new file');
    const probe = join(logDir, `.readyz-${o.instanceId}-${process.pid}`);
    const fh = await open(probe, 'w');
    try {
      await fh.write('ok');
    } finally {
      await fh.close();
      await unlink(probe).catch(() => {});
    }
  };
  const { app, startDraining } = createInferenceApp({ model, log, labels, probeLog, registry, metrics, logger, maxBodyBytes: o.maxBodyBytes, maxInstances: o.maxInstances });
  // The idle timeout (65 s) outlasts common load-balancer idle timeouts.
  const server = createHttpServer(app.callback(), o.limits);
  const url = await listen(server, o.port, o.host);
  logger.info({ url, model: loaded.card.name, model_version: loaded.card.version, log_dir: logDir ?? null }, 'inference API listening');

  let stopping: Promise<void> | undefined;
  return {
    server,
    url,
    card: loaded.card,
    shutdown() {
      stopping ??= (async () => {
        startDraining();
        await closeServer(server, 20_000);
        await log?.close();
        await labels?.close();
        await model.close();
        logger.info('inference API stopped');
      })();
      return stopping;
    },
  };
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

/** The replica name in log file names: the flag, else SENTINEL_INSTANCE_ID / HOSTNAME, else the host name. */
export function resolveInstanceId(flag: string | undefined, fromEnv: string | undefined): string {
  const id = flag ?? fromEnv ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) throw new ConfigError(`--instance-id must match [A-Za-z0-9._-]{1,128} (got "${id}")`);
  return id;
}

export const serveCommand: Command = async (argv, env) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      model: { type: 'string', default: 'models/model.onnx' },
      'log-dir': { type: 'string', default: 'data/live' },
      'instance-id': { type: 'string' },
      'max-log-size': { type: 'string', default: '64MiB' },
      'max-log-age': { type: 'string', default: '1h' },
      'max-body': { type: 'string', default: '1MiB' },
      'max-instances': { type: 'string', default: '1000' },
      'max-batch-rows': { type: 'string', default: '64' },
      'no-log': { type: 'boolean', default: false },
      ...LIMIT_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadConfig(env);
  const instanceId = resolveInstanceId(values['instance-id'], config.instanceId);
  const logger = createLogger({ level: config.logLevel });
  const running = await startInferenceServer({
    port: parsePort(values.port),
    host: values.host,
    modelPath: resolve(values.model),
    logDir: values['no-log'] ? undefined : resolve(values['log-dir']),
    instanceId,
    maxLogBytes: parseBytes(values['max-log-size'], '--max-log-size'),
    maxLogAgeMs: parseDuration(values['max-log-age'], '--max-log-age'),
    maxBodyBytes: parseBytes(values['max-body'], '--max-body'),
    maxInstances: parsePositiveInt(values['max-instances'], '--max-instances'),
    maxBatchRows: parsePositiveInt(values['max-batch-rows'], '--max-batch-rows'),
    limits: parseLimitFlags(values),
    logger,
  });
  if (values['no-log']) logger.warn('--no-log: predictions are NOT recorded');
  await untilSignal(logger);
  await running.shutdown();
  return 0;
};
