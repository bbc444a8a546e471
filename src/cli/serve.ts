import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startInferenceServer, type ServeOptions } from '../services/http/server.ts';
import { SERVER_LIMITS_HELP } from '../services/server.ts';
import { parseFlags, type Command } from './command.ts';
import { untilSignal } from './signals.ts';
import { LIMIT_FLAGS, parseBytes, parseDuration, parseLimitFlags, parsePort, parsePositiveInt, resolveInstanceId } from './flags.ts';
import { MAX_WORKERS, parseWorkers, runServeCluster, runServeWorker } from './serve-cluster.ts';

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
  --workers N          worker processes sharing the port, each with its own log files
                       (default: the available cores, here ${availableCores()}; 1..${MAX_WORKERS}; 1 = no cluster)
  --no-log             do not record predictions (benchmarks only: nothing is durable)
${SERVER_LIMITS_HELP}`;

export const serveCommand: Command = async (argv, env) => {
  const { values } = parseFlags({
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
      workers: { type: 'string' },
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
  const workers = values.workers === undefined ? availableCores() : parseWorkers(values.workers);
  const opts: Omit<ServeOptions, 'logger' | 'worker'> = {
    port: parsePort(values.port),
    host: values.host,
    modelPath: resolve(values.model),
    logDir: values['no-log'] ? undefined : resolve(values['log-dir']),
    instanceId: resolveInstanceId(values['instance-id'], config.instanceId),
    maxLogBytes: parseBytes(values['max-log-size'], '--max-log-size'),
    maxLogAgeMs: parseDuration(values['max-log-age'], '--max-log-age'),
    maxBodyBytes: parseBytes(values['max-body'], '--max-body'),
    maxInstances: parsePositiveInt(values['max-instances'], '--max-instances'),
    maxBatchRows: parsePositiveInt(values['max-batch-rows'], '--max-batch-rows'),
    limits: parseLimitFlags(values),
  };
  const logger = createLogger({ level: config.logLevel });
  if (cluster.isWorker && config.workerIndex !== undefined) {
    const wlogger = logger.child({ worker: config.workerIndex });
    return runServeWorker(config.workerIndex, wlogger, (worker) => startInferenceServer({ ...opts, logger: wlogger, worker }));
  }
  if (values['no-log']) logger.warn({ event: 'prediction_log_off' }, '--no-log: predictions are NOT recorded');
  if (workers > 1) return runServeCluster({ workers, args: argv, logger });
  const running = await startInferenceServer({ ...opts, logger });
  await untilSignal(logger);
  await running.shutdown();
  return 0;
};

/** What `--workers` defaults to: the cores this process may use. */
function availableCores(): number {
  return Math.min(availableParallelism(), MAX_WORKERS);
}
