/**
 * ModelMonitor status and Events after a drift run. Cluster access goes through client.ts
 * (loaded on demand by the drift command, so nothing else pays for the Kubernetes client).
 *
 * After each run the drift job:
 *  1. reads its ModelMonitor (`get modelmonitors`): uid, generation, the threshold in its spec and
 *     the previous conditions (a condition keeps its lastTransitionTime while its status is unchanged);
 *  2. merge-patches the status subresource (`patch modelmonitors/status`,
 *     Content-Type application/merge-patch+json: the client's default would be a JSON patch);
 *  3. creates an events.k8s.io/v1 Event about the ModelMonitor: Normal when stable, Warning on
 *     drift or failure.
 * Monitoring must never fail the run: without cluster access (no in-cluster config and no
 * kubeconfig, API unreachable, forbidden, object missing) it logs one line and returns.
 */
import { alertOf } from '../../drift/alerting.ts';
import { hostname } from 'node:os';
import {
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  describeApiError,
  loadDefaultKubeConfig,
  requestOptions as deadline,
  reuseConnections,
} from './client.ts';
import { monitorEvent } from './events.ts';
import { API_GROUP, API_VERSION, type Condition, type ModelMonitor } from './spec.ts';
import type { DriftResult } from '../../drift/result.ts';
import type { Logger } from '../../logger.ts';

export const MODEL_MONITOR = { group: API_GROUP, version: API_VERSION, plural: 'modelmonitors', kind: 'ModelMonitor' } as const;
export const REPORTING_CONTROLLER = 'sentinelml.io/drift-job';

export type Verdict = 'Drift' | 'Stable' | 'Failed';

export type { Condition };

export interface PublishRunStatusOptions {
  /** Cluster access; default: in-cluster service account or the user's kubeconfig (KubeConfig.loadFromDefault). */
  kubeConfig?: KubeConfig;
  namespace: string;
  name: string;
  /** The completed run (drift or not). Exactly one of `result` and `failure`. */
  result?: DriftResult;
  /** The run could not complete. */
  failure?: { message: string };
  logger: Logger;
  /** Event reportingInstance (default: host name, i.e. the pod name). */
  instance?: string;
  /** Per-request timeout (default 10 s): a blackholed API server must not hold the job. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface PublishOutcome {
  /** Why nothing was published (no cluster access, object missing, API error), else null. */
  skipped: string | null;
  statusPatched: boolean;
  eventCreated: boolean;
  verdict: Verdict;
}

export { describeApiError };

/** Whether the run drifted: the alert rule of src/drift/alerting.ts, with the monitor's threshold. */
export function verdictOf(result: DriftResult, threshold: number | undefined): { drift: boolean; reason: string; message: string } {
  const score = result.drift_score.toFixed(4);
  const { reason } = alertOf(result, threshold);
  if (reason === 'DatasetDrift') {
    return {
      drift: true,
      reason: 'DatasetDrift',
      message: `${result.drifted_columns} of ${result.tested_columns} features drifted (share ${result.drift_share.toFixed(3)} >= ${result.drift_share_threshold}); drift score ${score}`,
    };
  }
  if (reason === 'DriftScoreAboveThreshold') {
    return { drift: true, reason: 'DriftScoreAboveThreshold', message: `drift score ${score} > threshold ${threshold}; ${result.drifted_columns} of ${result.tested_columns} features drifted` };
  }
  return { drift: false, reason: 'NoDrift', message: `drift score ${score}${threshold !== undefined ? ` <= threshold ${threshold}` : ''}; ${result.drifted_columns} of ${result.tested_columns} features drifted` };
}

/** Keeps lastTransitionTime of a condition whose status did not change. */
function mergeCondition(previous: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const old = previous.find((c) => c.type === next.type);
  return { ...next, lastTransitionTime: old !== undefined && old.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : now };
}

/** The status object merged into the ModelMonitor (pure; exported for tests). */
export function buildStatus(opts: {
  result?: DriftResult;
  failure?: { message: string };
  threshold: number | undefined;
  previous: Condition[];
  generation: number | undefined;
  now: Date;
}): { status: Record<string, unknown>; verdict: Verdict; eventType: 'Normal' | 'Warning'; reason: string; note: string } {
  const now = opts.now.toISOString();
  const gen = opts.generation === undefined ? {} : { observedGeneration: opts.generation };
  // RunSucceeded: this condition's name before the operator (v1alpha1 objects may still carry it).
  const ours = new Set(['LastRunSucceeded', 'DriftDetected', 'RunSucceeded']);
  const others = opts.previous.filter((c) => !ours.has(c.type));
  if (opts.result !== undefined) {
    const r = opts.result;
    const v = verdictOf(r, opts.threshold);
    const conditions = [
      mergeCondition(opts.previous, { type: 'LastRunSucceeded', status: 'True', reason: 'RunCompleted', message: `run ${r.run_id} compared ${r.current.rows} rows with ${r.reference.rows} reference rows`, ...gen }, now),
      mergeCondition(opts.previous, { type: 'DriftDetected', status: v.drift ? 'True' : 'False', reason: v.reason, message: v.message, ...gen }, now),
      ...others,
    ];
    const driftedFeatures = r.columns.filter((c) => c.drift_detected).map((c) => c.name).slice(0, 256);
    return {
      verdict: v.drift ? 'Drift' : 'Stable',
      eventType: v.drift ? 'Warning' : 'Normal',
      reason: v.reason,
      note: `Drift run ${r.run_id}: ${v.message}`,
      status: {
        verdict: v.drift ? 'Drift' : 'Stable',
        driftScore: r.drift_score,
        driftShare: r.drift_share,
        datasetDrift: r.dataset_drift,
        driftedColumns: r.drifted_columns,
        testedColumns: r.tested_columns,
        driftedFeatures,
        lastRunId: r.run_id,
        lastRunTime: r.finished_at,
        lastSuccessfulRunTime: r.finished_at,
        referenceRows: r.reference.rows,
        currentRows: r.current.rows,
        conditions,
        ...gen,
      },
    };
  }
  const message = (opts.failure?.message ?? 'unknown failure').slice(0, 1000);
  const conditions = [
    mergeCondition(opts.previous, { type: 'LastRunSucceeded', status: 'False', reason: 'RunFailed', message, ...gen }, now),
    ...opts.previous.filter((c) => c.type === 'DriftDetected'),
    ...others,
  ];
  return {
    verdict: 'Failed',
    eventType: 'Warning',
    reason: 'RunFailed',
    note: `Drift run failed: ${message}`,
    status: { verdict: 'Failed', lastRunTime: now, lastFailure: { time: now, message }, conditions, ...gen },
  };
}

/** Publishes the outcome of a drift run; never throws. */
export async function publishRunStatus(opts: PublishRunStatusOptions): Promise<PublishOutcome> {
  const log = opts.logger.child({ component: 'k8s-status' });
  const now = (opts.now ?? (() => new Date()))();
  const ref = `${MODEL_MONITOR.plural}/${opts.name} in namespace ${opts.namespace}`;
  const outcome = (skipped: string | null, statusPatched: boolean, eventCreated: boolean, verdict: Verdict): PublishOutcome => ({ skipped, statusPatched, eventCreated, verdict });
  const provisional: Verdict = opts.result === undefined ? 'Failed' : 'Stable';

  let kc: KubeConfig | null;
  try {
    kc = opts.kubeConfig ?? loadDefaultKubeConfig();
  } catch (err) {
    const why = `kubeconfig unreadable: ${describeApiError(err)}`;
    log.warn({ event: 'monitor_status_not_published', reason: why, monitor: ref }, `ModelMonitor status not published (no cluster access): ${why}`);
    return outcome(why, false, false, provisional);
  }
  if (kc === null) {
    const why = 'no in-cluster service account and no kubeconfig';
    log.warn({ event: 'monitor_status_not_published', reason: why, monitor: ref }, `ModelMonitor status not published (no cluster access): ${why}`);
    return outcome(why, false, false, provisional);
  }

  const timeoutMs = opts.timeoutMs ?? 10_000;
  const requestOptions = (contentType?: string) => deadline(timeoutMs, contentType);

  // Three calls, one connection.
  reuseConnections(kc);
  const objects = kc.makeApiClient(CustomObjectsApi);
  const events = kc.makeApiClient(EventsV1Api);
  const target = { group: MODEL_MONITOR.group, version: MODEL_MONITOR.version, namespace: opts.namespace, plural: MODEL_MONITOR.plural, name: opts.name };

  let monitor: ModelMonitor;
  try {
    monitor = (await objects.getNamespacedCustomObject(target, requestOptions())) as ModelMonitor;
  } catch (err) {
    const why = `cannot read ${ref}: ${describeApiError(err)}`;
    log.warn({ event: 'monitor_status_not_published', reason: why, monitor: ref }, `ModelMonitor status not published: ${why}`);
    return outcome(why, false, false, provisional);
  }

  const threshold = typeof monitor.spec?.driftScoreThreshold === 'number' ? monitor.spec.driftScoreThreshold : undefined;
  const built = buildStatus({
    result: opts.result,
    failure: opts.result === undefined ? (opts.failure ?? { message: 'unknown failure' }) : undefined,
    threshold,
    previous: Array.isArray(monitor.status?.conditions) ? monitor.status.conditions : [],
    generation: monitor.metadata?.generation,
    now,
  });

  let statusPatched = false;
  try {
    await objects.patchNamespacedCustomObjectStatus({ ...target, body: { status: built.status } }, requestOptions(PatchStrategy.MergePatch));
    statusPatched = true;
  } catch (err) {
    log.warn({ event: 'monitor_status_not_patched', reason: describeApiError(err), monitor: ref }, `ModelMonitor status not patched: ${describeApiError(err)}`);
  }

  const event = monitorEvent({
    namespace: opts.namespace,
    name: opts.name,
    uid: monitor.metadata?.uid,
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: opts.instance ?? hostname(),
    action: 'DriftRun',
    reason: built.reason,
    type: built.eventType,
    note: built.note,
    now,
  });
  let eventCreated = false;
  try {
    await events.createNamespacedEvent({ namespace: opts.namespace, body: event }, requestOptions());
    eventCreated = true;
  } catch (err) {
    log.warn({ event: 'monitor_event_not_created', reason: describeApiError(err), monitor: ref }, `ModelMonitor event not created: ${describeApiError(err)}`);
  }
  if (statusPatched) log.info({ event: 'monitor_status_published', monitor: ref, verdict: built.verdict, event_created: eventCreated }, `ModelMonitor status published: ${built.verdict}`);
  return outcome(null, statusPatched, eventCreated, built.verdict);
}

/**
 * The ModelMonitor a `sentinel drift --monitor` run follows, read through the API (the spec is
 * authoritative: it is read at run time, so spec changes apply at the next run). Throws a one-line
 * error naming what failed.
 */
export async function readModelMonitor(opts: { kubeConfig?: KubeConfig; namespace: string; name: string; timeoutMs?: number }): Promise<ModelMonitor> {
  const ref = `${MODEL_MONITOR.plural}/${opts.name} in namespace ${opts.namespace}`;
  let kc: KubeConfig | null;
  try {
    kc = opts.kubeConfig ?? loadDefaultKubeConfig();
  } catch (err) {
    throw new Error(`cannot read ${ref}: kubeconfig unreadable: ${describeApiError(err)}`, { cause: err });
  }
  if (kc === null) throw new Error(`cannot read ${ref}: no in-cluster service account and no kubeconfig`);
  const objects = kc.makeApiClient(CustomObjectsApi);
  try {
    return (await objects.getNamespacedCustomObject(
      { group: MODEL_MONITOR.group, version: MODEL_MONITOR.version, namespace: opts.namespace, plural: MODEL_MONITOR.plural, name: opts.name },
      deadline(opts.timeoutMs ?? 10_000),
    )) as ModelMonitor;
  } catch (err) {
    throw new Error(`cannot read ${ref}: ${describeApiError(err)}`, { cause: err });
  }
}
