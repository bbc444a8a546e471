import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * The root logger. Parts take `logger.child({ component })`; tests pass an in-memory stream.
 * Logs go to stderr so that command output (tables, JSON) stays clean on stdout.
 *
 * Every line carries a stable snake_case `event` (docs/logs.md); tests and alerts match it, never
 * the message text. On a terminal (stderr is a TTY) lines are pretty-printed by pino-pretty, loaded
 * only then so a piped or containerised run (JSON lines) pays nothing for it at start-up.
 */
export function createLogger(opts: { level?: string; stream?: DestinationStream; pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? (opts.stream === undefined && process.stderr.isTTY === true);
  const options = {
    level: opts.level ?? 'info',
    redact: { paths: ['req.body', 'features', 'instances'], censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  if (pretty) return pino(options, prettyStream(opts.stream));
  return pino(options, opts.stream ?? pino.destination({ fd: 2, sync: true }));
}

/** pino-pretty writing synchronously to `to` (stderr by default), required on first use. */
function prettyStream(to: DestinationStream | undefined): DestinationStream {
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
  return pinoPretty({
    destination: to ?? 2,
    sync: true,
    colorize: to === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    messageFormat: '{if event}[{event}] {end}{msg}',
  });
}
