import { UsageError } from './errors.ts';

/** Settings read from the environment. Only this module reads `process.env`. */
export interface EnvConfig {
  logLevel: string;
  /** Instance name used in per-replica log file names (defaults to the host name). */
  instanceId: string | undefined;
  /** Kubernetes namespace and ModelMonitor name the drift job reports to, when set. */
  monitorNamespace: string | undefined;
  monitorName: string | undefined;
  /** Namespace of this pod (downward API), where the operator keeps its leader Lease. */
  podNamespace: string | undefined;
  /** Set by `sentinel serve --workers N` in each worker it forks: the worker's slot, 0..N-1. */
  workerIndex: number | undefined;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Validates every variable and reports all problems at once. */
export function loadConfig(env: Record<string, string | undefined>): EnvConfig {
  const problems: string[] = [];
  const logLevel = env.SENTINEL_LOG_LEVEL ?? 'info';
  if (!LEVELS.has(logLevel)) problems.push(`SENTINEL_LOG_LEVEL must be one of ${[...LEVELS].join(', ')} (got "${logLevel}")`);
  const instanceId = env.SENTINEL_INSTANCE_ID || env.HOSTNAME || undefined;
  if (instanceId !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(instanceId)) {
    problems.push(`SENTINEL_INSTANCE_ID must match [A-Za-z0-9._-]{1,128} (got "${instanceId}")`);
  }
  const workerIndex = env.SENTINEL_WORKER_INDEX === undefined ? undefined : Number(env.SENTINEL_WORKER_INDEX);
  if (workerIndex !== undefined && !(Number.isInteger(workerIndex) && workerIndex >= 0)) {
    problems.push(`SENTINEL_WORKER_INDEX must be a whole number >= 0 (got "${env.SENTINEL_WORKER_INDEX}")`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '), { details: problems });
  return {
    logLevel,
    instanceId,
    monitorNamespace: env.SENTINEL_MONITOR_NAMESPACE || undefined,
    monitorName: env.SENTINEL_MONITOR_NAME || undefined,
    podNamespace: env.SENTINEL_POD_NAMESPACE || undefined,
    workerIndex,
  };
}
