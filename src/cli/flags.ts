import { hostname } from 'node:os';
import { UsageError } from '../errors.ts';
import { parseDuration as durationMs } from '../drift/duration.ts';

/**
 * A duration flag in milliseconds: the one parser (src/drift/duration.ts) that `--since`, the
 * ModelMonitor spec and the alarm chunk period use too, so every flag takes the same units
 * (ms, s, m, h, d, w, combined as 1h30m).
 */
export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text);
  if (ms === null) throw new UsageError(`${flag} must be a positive duration such as 30s, 5m, 1h, 7d or 2w (got "${text}")`);
  return ms;
}

export function parsePort(text: string, flag = '--port'): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535 (got "${text}")`);
  return n;
}

/** Parses `512`, `64k`, `64KiB`, `10MB`, `1GiB` into bytes (powers of 1024). */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a size such as 64MiB or 1GiB (got "${text}")`);
  const unit = m[2].toLowerCase()[0] ?? '';
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const n = Math.floor(Number(m[1]) * mult);
  if (!(n > 0)) throw new UsageError(`${flag} must be greater than zero (got "${text}")`);
  return n;
}

export function parsePositiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n <= 0) throw new UsageError(`${flag} must be a positive whole number (got "${text}")`);
  return n;
}

/** The connection-limit flags of both servers (see SERVER_LIMITS); unset ones keep the defaults. */
export const LIMIT_FLAGS = {
  'max-connections': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
} as const;

export function parseLimitFlags(values: Partial<Record<keyof typeof LIMIT_FLAGS, string | undefined>>): {
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
} {
  const v = values;
  return {
    ...(v['max-connections'] !== undefined ? { maxConnections: parsePositiveInt(v['max-connections'], '--max-connections') } : {}),
    ...(v['headers-timeout'] !== undefined ? { headersTimeoutMs: parseDuration(v['headers-timeout'], '--headers-timeout') } : {}),
    ...(v['request-timeout'] !== undefined ? { requestTimeoutMs: parseDuration(v['request-timeout'], '--request-timeout') } : {}),
    ...(v['idle-timeout'] !== undefined ? { idleTimeoutMs: parseDuration(v['idle-timeout'], '--idle-timeout') } : {}),
  };
}

/** The replica name in log file names: the flag, else SENTINEL_INSTANCE_ID / HOSTNAME, else the host name. */
export function resolveInstanceId(flag: string | undefined, fromEnv: string | undefined): string {
  const id = flag ?? fromEnv ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) throw new UsageError(`--instance-id must match [A-Za-z0-9._-]{1,128} (got "${id}")`);
  return id;
}
