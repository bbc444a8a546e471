import { resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { DEFAULT_SCORE_THRESHOLD } from '../drift/alerting.ts';
import { UsageError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { startReportServer } from '../services/report-server/start.ts';
import { SERVER_LIMITS_HELP } from '../services/server.ts';
import { parseFlags, type Command } from './command.ts';
import { untilSignal } from './signals.ts';
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

export const reportsCommand: Command = async (argv, env) => {
  const { values } = parseFlags({
    args: argv,
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: 'reports' },
      threshold: { type: 'string', default: String(DEFAULT_SCORE_THRESHOLD) },
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
  if (!/^\d+(\.\d+)?$/.test(values.threshold) || !Number.isFinite(threshold)) throw new UsageError(`--threshold must be a non-negative number (got "${values.threshold}")`);
  const logger = createLogger({ level: config.logLevel });
  const running = await startReportServer({ port: parsePort(values.port), host: values.host, dir: resolve(values.dir), logger, scoreThreshold: threshold, limits: parseLimitFlags(values) });
  await untilSignal(logger);
  await running.shutdown();
  return 0;
};
