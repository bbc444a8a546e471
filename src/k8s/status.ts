/**
 * ModelMonitor status and Events after a drift run. The only module that imports
 * @kubernetes/client-node (loaded on demand by the drift command, so nothing else pays for it).
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
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  ApiException,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  V1MicroTime,
  Observable,
  type ConfigurationOptions,
  type EventsV1Event,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import type { DriftResult } from '../drift/result.ts';
import type { Logger } from '../logger.ts';

export const MODEL_MONITOR = { group: 'sentinelml.io', version: 'v1alpha1', plural: 'modelmonitors', kind: 'ModelMonitor' } as const;
export const REPORTING_CONTROLLER = 'sentinelml.io/drift-job';

export type Verdict = 'Drift' | 'Stable' | 'Failed';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

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

/** A default KubeConfig, or null when there is none (loadFromDefault then falls back to localhost:8080). */
function loadDefaultKubeConfig(): KubeConfig | null {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (cluster === null || (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080' && kc.getCurrentUser()?.name === 'user')) {
    return null;
  }
  return kc;
}

/** One line for logs from whatever the client threw (ApiException carries `code` and `body`). */
export function describeApiError(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; body?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  // AbortSignal.timeout() rejects with a DOMException named TimeoutError (whose numeric code is not HTTP).
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'request timed out';
  if (err instanceof ApiException) {
    let detail = '';
    try {
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') detail = (body as { message: string }).message;
    } catch {
      detail = String(e.body).slice(0, 200);
    }
    return `HTTP ${e.code}${detail ? `: ${detail}` : ''}`;
  }
  const cause = e?.cause?.code ?? e?.cause?.message;
  const message = String(e?.message ?? err);
  return cause ? `${message} (${String(cause)})` : message;
}

/** Whether the run drifted: dataset drift, or the headline score above the monitor's threshold. */
export function verdictOf(result: DriftResult, threshold: number | undefined): { drift: boolean; reason: string; message: string } {
  const score = result.drift_score.toFixed(4);
  if (result.dataset_drift) {
    return {
      drift: true,
      reason: 'DatasetDrift',
      message: `${result.drifted_columns} of ${result.tested_columns} features drifted (share ${result.drift_share.toFixed(3)} >= ${result.drift_share_threshold}); drift score ${score}`,
    };
  }
  if (threshold !== undefined && result.drift_score > threshold) {
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
  const ours = new Set(['RunSucceeded', 'DriftDetected']);
  const others = opts.previous.filter((c) => !ours.has(c.type));
  if (opts.result !== undefined) {
    const r = opts.result;
    const v = verdictOf(r, opts.threshold);
    const conditions = [
      mergeCondition(opts.previous, { type: 'RunSucceeded', status: 'True', reason: 'RunCompleted', message: `run ${r.run_id} compared ${r.current.rows} rows with ${r.reference.rows} reference rows`, ...gen }, now),
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
    mergeCondition(opts.previous, { type: 'RunSucceeded', status: 'False', reason: 'RunFailed', message, ...gen }, now),
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

interface ModelMonitorObject {
  metadata?: { uid?: string; generation?: number };
  spec?: { driftScoreThreshold?: number };
  status?: { conditions?: Condition[] };
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
    log.warn({ monitor: ref }, `ModelMonitor status not published (no cluster access): ${why}`);
    return outcome(why, false, false, provisional);
  }
  if (kc === null) {
    const why = 'no in-cluster service account and no kubeconfig';
    log.warn({ monitor: ref }, `ModelMonitor status not published (no cluster access): ${why}`);
    return outcome(why, false, false, provisional);
  }

  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Every request gets its own deadline; the patch also gets the merge-patch content type.
  // (What setHeaderOptions does, plus the deadline: the object-parameter API takes observable middleware.)
  const requestOptions = (contentType?: string): ConfigurationOptions => {
    const middleware: ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        if (contentType !== undefined) ctx.setHeaderParam('Content-Type', contentType);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res) => new Observable(Promise.resolve(res)),
    };
    return { middleware: [middleware], middlewareMergeStrategy: 'append' };
  };

  const objects = kc.makeApiClient(CustomObjectsApi);
  const events = kc.makeApiClient(EventsV1Api);
  const target = { group: MODEL_MONITOR.group, version: MODEL_MONITOR.version, namespace: opts.namespace, plural: MODEL_MONITOR.plural, name: opts.name };

  let monitor: ModelMonitorObject;
  try {
    monitor = (await objects.getNamespacedCustomObject(target, requestOptions())) as ModelMonitorObject;
  } catch (err) {
    const why = `cannot read ${ref}: ${describeApiError(err)}`;
    log.warn({ monitor: ref }, `ModelMonitor status not published: ${why}`);
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
    log.warn({ monitor: ref }, `ModelMonitor status not patched: ${describeApiError(err)}`);
  }

  const instance = (opts.instance ?? hostname()).slice(0, 128);
  const event: EventsV1Event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    // client-go's naming: <object>.<hex time> (a generateName ending in "." is not a valid prefix).
    metadata: { name: `${opts.name}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`, namespace: opts.namespace },
    eventTime: new V1MicroTime(now.getTime()),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance,
    action: 'DriftRun',
    reason: built.reason,
    type: built.eventType,
    note: built.note.slice(0, 1024),
    regarding: {
      apiVersion: `${MODEL_MONITOR.group}/${MODEL_MONITOR.version}`,
      kind: MODEL_MONITOR.kind,
      name: opts.name,
      namespace: opts.namespace,
      ...(monitor.metadata?.uid ? { uid: monitor.metadata.uid } : {}),
    },
  };
  let eventCreated = false;
  try {
    await events.createNamespacedEvent({ namespace: opts.namespace, body: event }, requestOptions());
    eventCreated = true;
  } catch (err) {
    log.warn({ monitor: ref }, `ModelMonitor event not created: ${describeApiError(err)}`);
  }
  if (statusPatched) log.info({ monitor: ref, verdict: built.verdict, event: eventCreated }, `ModelMonitor status published: ${built.verdict}`);
  return outcome(null, statusPatched, eventCreated, built.verdict);
}
