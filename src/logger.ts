import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * The root logger. Parts take `logger.child({ component })`; tests pass an in-memory stream.
 * Logs go to stderr so that command output (tables, JSON) stays clean on stdout.
 */
export function createLogger(opts: { level?: string; stream?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: ['req.body', 'features', 'instances'], censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.stream ?? pino.destination({ fd: 2, sync: true }),
  );
}
