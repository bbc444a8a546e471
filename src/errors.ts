/**
 * One base error with a stable `code`; subclasses say who is at fault.
 * `expose` decides whether a client may see the message (Koa convention).
 */
export class SentinelError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly details: unknown;

  constructor(code: string, message: string, opts: { status?: number; expose?: boolean; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.expose = opts.expose ?? this.status < 500;
    this.details = opts.details;
  }
}

/** The caller sent something wrong (HTTP 4xx, CLI usage errors). */
export class InputError extends SentinelError {
  constructor(code: string, message: string, opts: { status?: number; details?: unknown; cause?: unknown } = {}) {
    super(code, message, { status: opts.status ?? 400, expose: true, details: opts.details, cause: opts.cause });
  }
}

/**
 * The command line or the environment of a command is wrong (unknown or malformed flag, missing
 * required flag, bad SENTINEL_* variable): the CLI exits 2. Everything after that is a runtime
 * failure (exit 1), whatever its class. See src/cli/command.ts.
 */
export class UsageError extends InputError {
  constructor(message: string, opts: { details?: unknown; cause?: unknown } = {}) {
    super('usage', message, opts);
  }
}

/** A dependency we need is not available right now (HTTP 503): the log volume, the model. */
export class UnavailableError extends SentinelError {
  constructor(code: string, message: string, opts: { details?: unknown; cause?: unknown } = {}) {
    super(code, message, { status: 503, expose: true, details: opts.details, cause: opts.cause });
  }
}

/** Bad configuration, flags or files given to a command: reported as one line, non-zero exit. */
export class ConfigError extends SentinelError {
  constructor(message: string, opts: { details?: unknown; cause?: unknown } = {}) {
    super('invalid_config', message, { status: 400, expose: true, details: opts.details, cause: opts.cause });
  }
}

/**
 * What a client may read of a cause: an exposed SentinelError's message, else the errno code of an
 * OS error (`ENOSPC`), never the OS message (it names server paths).
 */
export function clientReason(err: unknown): string {
  if (err instanceof SentinelError && err.expose) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : 'I/O error';
}
