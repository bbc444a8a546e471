import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../services/metrics/process.ts';
import { closeServer, createHttpServer, listen, SERVER_LIMITS_HELP, untilSignal, type ServerLimits } from './lifecycle.ts';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createReportApp } from '../services/report-server/server.ts';
import type { Command } from './main.ts';
import { LIMIT_FLAGS, parseLimitFlags, parsePort } from './flags.ts';

const HELP = `usage: sentinel reports [options]

Serves the drift reports of a report directory: the index of runs (/), each run
(/runs/<id>/report.html, /runs/<id>/drift.json), /latest.json, /healthz, and the drift
gauges on /metrics, computed at scrape time from the latest run.

options:
  --port N          port to listen on (default 8081; 0 picks a free port)
  --host ADDR       address to bind (default 127.0.0.1; 0.0.0.0 in a container)
  --dir DIR         report directory written by "sentinel drift" / "sentinel schedule" (default reports)
  --threshold X     alert threshold on drift_score shown in the index (default 0.1)
${SERVER_LIMITS_HELP}`;

export interface RunningReportServer {
  server: Server;
  url: string;
  shutdown(): Promise<void>;
}

/** Builds the report app and listens. Used by `sentinel reports` and by the demo. */
export async function startReportServer(o: { port: number; host: string; dir: string; logger: Logger; scoreThreshold?: number; limits?: Partial<ServerLimits> }): Promise<RunningReportServer> {
  const logger = o.logger.child({ component: 'reports' });
  const registry = new Registry();
  registerProcessMetrics(registry);
  const app = createReportApp({ dir: o.dir, registry, logger: o.logger, scoreThreshold: o.scoreThreshold });
  const server = createHttpServer(app.callback(), o.limits);
  const url = await listen(server, o.port, o.host);
  logger.info({ url, dir: o.dir }, 'report server listening');
  let stopping: Promise<void> | undefined;
  return {
    server,
    url,
    shutdown() {
      stopping ??= (async () => {
        await closeServer(server, 10_000);
        logger.info('report server stopped');
      })();
      return stopping;
    },
  };
}

export const reportsCommand: Command = async (argv, env) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: 'reports' },
      threshold: { type: 'string', default: '0.1' },
      ...LIMIT_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadConfig(env);
  const threshold = Number(values.threshold);
  if (!/^\d+(\.\d+)?$/.test(values.threshold) || !Number.isFinite(threshold)) throw new ConfigError(`--threshold must be a non-negative number (got "${values.threshold}")`);
  const logger = createLogger({ level: config.logLevel });
  const running = await startReportServer({ port: parsePort(values.port), host: values.host, dir: resolve(values.dir), logger, scoreThreshold: threshold, limits: parseLimitFlags(values) });
  await untilSignal(logger);
  await running.shutdown();
  return 0;
};
