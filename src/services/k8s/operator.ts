/**
 * The ModelMonitor controller (`sentinel operator`): informers over ModelMonitors and the CronJobs
 * the operator owns feed a work queue of `namespace/name` keys; workers reconcile each key from the
 * caches into its drift CronJob (controller owner reference, so the garbage collector removes it
 * with the monitor) and into the monitor's Ready condition. Hand edits are undone and deleted
 * CronJobs re-created because every CronJob event enqueues its owner. API errors and conflicts
 * requeue the key with exponential backoff; conditions that may clear by themselves (a missing
 * ConfigMap or claim) requeue after a fixed interval.
 *
 * Status: the operator owns the Ready condition, status.cronJob and status.observedGeneration; the
 * drift job owns the run fields and LastRunSucceeded / DriftDetected (status.ts). Status patches
 * carry the resourceVersion the operator read, so a concurrent write by a run makes it retry
 * instead of dropping the run's conditions.
 */
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  apiStatus,
  describeApiError,
  makeInformer,
  requestOptions,
  reuseConnections,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
} from './client.ts';
import { controllerOf, cronJobDrift, cronJobName, desiredCronJob, MANAGED_BY, MANAGED_BY_LABEL, withoutNulls, type JobTemplateConfig } from './cronjob.ts';
import { monitorEvent } from './events.ts';
import { API_GROUP, API_VERSION, describeProblems, SPEC_DEFAULTS, validateMonitorSpec, type Condition, type ModelMonitor } from './spec.ts';
import { WorkQueue } from './workqueue.ts';
import type { Logger } from '../../logger.ts';
import type { OperatorMetrics } from '../metrics/operator.ts';

export const OPERATOR_CONTROLLER = 'sentinelml.io/operator';
const PLURAL = 'modelmonitors';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty = every namespace (needs a ClusterRole). */
  namespaces: string[];
  job: JobTemplateConfig;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** Reporting instance of Events (the pod name). */
  instance: string;
  /** Parallel reconciles (default 4). */
  workers?: number;
  /** Every key is reconciled again this often even without events (default 5 min). */
  resyncMs?: number;
  /** Re-check of a monitor waiting for a ConfigMap or claim (default 30 s). */
  waitRecheckMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  queue?: { baseDelayMs?: number; maxDelayMs?: number };
  now?: () => Date;
}

export interface ReconcileOutcome {
  ready: boolean;
  reason: string;
  /** What was written to the CronJob, if anything. */
  cronJob: 'created' | 'updated' | 'unchanged' | 'none';
  requeueAfterMs?: number;
}

export interface Operator {
  readonly queue: WorkQueue;
  /** Starts the informers (waits for their first list) and the workers. */
  start(): Promise<void>;
  /** Stops taking work, lets reconciles in progress finish, stops the informers. */
  stop(): Promise<void>;
  /** One reconcile of `namespace/name` from the caches (exported for tests). */
  reconcile(key: string): Promise<ReconcileOutcome | null>;
  /** Whether every informer has listed once. */
  synced(): boolean;
}

type CronJob = KubernetesObject & { spec?: any };
type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** A condition like metav1.Condition: lastTransitionTime kept while the status does not change. */
function nextCondition(previous: Condition | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition {
  const keep = previous !== undefined && previous.status === next.status && previous.lastTransitionTime;
  return { ...next, lastTransitionTime: keep ? previous.lastTransitionTime : now.toISOString() };
}

export function createOperator(o: OperatorOptions): Operator {
  const log = o.logger.child({ component: 'operator' });
  const timeoutMs = o.timeoutMs ?? 10_000;
  const now = o.now ?? (() => new Date());
  const queue = new WorkQueue(o.queue);
  reuseConnections(o.kubeConfig);
  const objects = o.kubeConfig.makeApiClient(CustomObjectsApi);
  const batch = o.kubeConfig.makeApiClient(BatchV1Api);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const events = o.kubeConfig.makeApiClient(EventsV1Api);
  const opts = (contentType?: string) => requestOptions(timeoutMs, contentType);
  const scopes: (string | null)[] = o.namespaces.length === 0 ? [null] : o.namespaces;
  const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

  const monitorInformers: Cache<ModelMonitor & KubernetesObject>[] = scopes.map((ns) => makeInformer(
    o.kubeConfig,
    ns === null ? `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}` : `/apis/${API_GROUP}/${API_VERSION}/namespaces/${ns}/${PLURAL}`,
    async () => (ns === null
      ? objects.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL }, opts())
      : objects.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: PLURAL }, opts())) as any,
  ));
  const cronJobInformers: Cache<CronJob>[] = scopes.map((ns) => makeInformer<CronJob>(
    o.kubeConfig,
    ns === null ? '/apis/batch/v1/cronjobs' : `/apis/batch/v1/namespaces/${ns}/cronjobs`,
    async () => (ns === null
      ? batch.listCronJobForAllNamespaces({ labelSelector: selector }, opts())
      : batch.listNamespacedCronJob({ namespace: ns, labelSelector: selector }, opts())) as any,
    selector,
  ));
  const informerOf = <T extends KubernetesObject>(list: Cache<T>[], namespace: string) => (o.namespaces.length === 0 ? list[0] : list[o.namespaces.indexOf(namespace)]);
  const getMonitor = (ns: string, name: string) => (informerOf(monitorInformers, ns)?.get(name, ns) as ModelMonitor | undefined);
  const getCronJob = (ns: string, name: string) => informerOf(cronJobInformers, ns)?.get(name, ns) as CronJob | undefined;

  const enqueueMonitor = (m: KubernetesObject) => {
    if (m.metadata?.name && m.metadata.namespace) queue.add(`${m.metadata.namespace}/${m.metadata.name}`);
  };
  const enqueueOwner = (cj: KubernetesObject) => {
    const owner = controllerOf(cj as any);
    if (owner?.kind === 'ModelMonitor' && owner.name && cj.metadata?.namespace) queue.add(`${cj.metadata.namespace}/${owner.name}`);
  };
  let stopping = false;
  let syncedCount = 0;
  const allInformers: Cache<any>[] = [...monitorInformers, ...cronJobInformers];
  for (const inf of monitorInformers) for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, enqueueMonitor);
  for (const inf of cronJobInformers) for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, enqueueOwner);
  // An informer stops on a list or watch error; start it again with a growing delay.
  for (const inf of allInformers) {
    let delay = 500;
    inf.on('connect', () => { /* listing or watching again */ });
    inf.on('error', (err: unknown) => {
      if (stopping) return;
      log.warn({ event: 'watch_failed', err: describeApiError(err), retryInMs: delay }, 'watch failed; restarting');
      const t = setTimeout(() => { if (!stopping) inf.start().then(() => { delay = 500; }, () => undefined); }, delay);
      t.unref();
      delay = Math.min(delay * 2, 30_000);
    });
  }

  async function emit(m: ModelMonitor, type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const ns = m.metadata.namespace!;
    try {
      await events.createNamespacedEvent({ namespace: ns, body: monitorEvent({ namespace: ns, name: m.metadata.name, uid: m.metadata.uid, reportingController: OPERATOR_CONTROLLER, reportingInstance: o.instance, action: 'Reconcile', reason, type, note, now: now() }) }, opts());
    } catch (err) {
      log.warn({ event: 'monitor_event_not_created', monitor: `${ns}/${m.metadata.name}`, err: describeApiError(err) }, 'event not created');
    }
  }

  /** Writes Ready (and status.cronJob, observedGeneration) when they changed; Events on transitions. */
  async function setReady(m: ModelMonitor, ready: boolean, reason: string, message: string, cronJob?: string): Promise<void> {
    const previous = (m.status?.conditions ?? []).find((c) => c.type === 'Ready');
    const generation = m.metadata.generation;
    const cond = nextCondition(previous, { type: 'Ready', status: ready ? 'True' : 'False', reason, message: message.slice(0, 32_000), ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now());
    const unchanged = previous !== undefined && previous.status === cond.status && previous.reason === cond.reason && previous.message === cond.message
      && previous.observedGeneration === cond.observedGeneration && (cronJob === undefined || m.status?.cronJob === cronJob) && m.status?.observedGeneration === generation;
    if (unchanged) return;
    const conditions = [...(m.status?.conditions ?? []).filter((c) => c.type !== 'Ready'), cond];
    const body = {
      // Optimistic concurrency: a status written since our cache saw it makes this a 409 (retried).
      metadata: { resourceVersion: m.metadata.resourceVersion },
      status: { conditions, ...(generation !== undefined ? { observedGeneration: generation } : {}), ...(cronJob !== undefined ? { cronJob } : {}) },
    };
    await objects.patchNamespacedCustomObjectStatus({ group: API_GROUP, version: API_VERSION, namespace: m.metadata.namespace!, plural: PLURAL, name: m.metadata.name, body }, opts(PatchStrategy.MergePatch));
    if (previous?.status !== cond.status || previous?.reason !== cond.reason) {
      await emit(m, ready ? 'Normal' : 'Warning', reason, message);
    }
  }

  /** A missing object the spec refers to: the reason, or null when everything exists. */
  async function missingReference(m: ModelMonitor): Promise<{ reason: string; message: string } | null> {
    const ns = m.metadata.namespace!;
    const s = m.spec ?? {};
    const exists = async (read: () => Promise<unknown>) => {
      try {
        return await read();
      } catch (err) {
        if (apiStatus(err) === 404) return null;
        throw err;
      }
    };
    if (s.referenceConfigMap !== undefined) {
      const key = s.referenceConfigMap.key ?? SPEC_DEFAULTS.referenceConfigMapKey;
      const cm = (await exists(() => core.readNamespacedConfigMap({ name: s.referenceConfigMap!.name, namespace: ns }, opts()))) as { data?: Record<string, string>; binaryData?: Record<string, string> } | null;
      if (cm === null) return { reason: 'ReferenceMissing', message: `ConfigMap ${s.referenceConfigMap.name} (spec.referenceConfigMap) does not exist in namespace ${ns}` };
      if (cm.data?.[key] === undefined && cm.binaryData?.[key] === undefined) return { reason: 'ReferenceMissing', message: `ConfigMap ${s.referenceConfigMap.name} has no key ${key} (spec.referenceConfigMap.key)` };
    }
    const mv = s.modelVolume;
    if (mv?.configMap !== undefined && (await exists(() => core.readNamespacedConfigMap({ name: mv.configMap!, namespace: ns }, opts()))) === null) {
      return { reason: 'ModelVolumeMissing', message: `ConfigMap ${mv.configMap} (spec.modelVolume.configMap) does not exist in namespace ${ns}` };
    }
    if (mv?.claimName !== undefined && (await exists(() => core.readNamespacedPersistentVolumeClaim({ name: mv.claimName!, namespace: ns }, opts()))) === null) {
      return { reason: 'ModelVolumeMissing', message: `PersistentVolumeClaim ${mv.claimName} (spec.modelVolume.claimName) does not exist in namespace ${ns}` };
    }
    const claim = s.predictionLog?.claimName;
    if (claim !== undefined && (await exists(() => core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns }, opts()))) === null) {
      return { reason: 'PredictionLogMissing', message: `PersistentVolumeClaim ${claim} (spec.predictionLog.claimName) does not exist in namespace ${ns}` };
    }
    return null;
  }

  async function reconcile(key: string): Promise<ReconcileOutcome | null> {
    const { namespace, name } = splitKey(key);
    const m = getMonitor(namespace, name);
    // Deleted: its CronJob goes with it (garbage collector, through the owner reference).
    if (m === undefined || m.metadata.deletionTimestamp) return null;

    const problems = validateMonitorSpec(m.spec);
    if (problems.length > 0) {
      // No CronJob for an invalid spec; one made for an earlier valid spec is left as it was.
      await setReady(m, false, 'InvalidSpec', describeProblems(problems));
      return { ready: false, reason: 'InvalidSpec', cronJob: 'none' };
    }
    const missing = await missingReference(m);
    if (missing !== null) {
      await setReady(m, false, missing.reason, missing.message);
      return { ready: false, reason: missing.reason, cronJob: 'none', requeueAfterMs: o.waitRecheckMs ?? 30_000 };
    }

    const desired = desiredCronJob(m, o.job);
    const cjName = cronJobName(name);
    let actual = getCronJob(namespace, cjName);
    let wrote: ReconcileOutcome['cronJob'] = 'unchanged';
    if (actual === undefined) {
      try {
        await batch.createNamespacedCronJob({ namespace, body: withoutNulls(desired) as any }, opts());
        wrote = 'created';
        o.metrics?.cronJobWrites.inc({ action: 'create' });
        log.info({ event: 'cronjob_created', monitor: key, cronJob: cjName }, 'CronJob created');
        await emit(m, 'Normal', 'CronJobCreated', `Created CronJob ${cjName} (schedule "${desired.spec.schedule}")`);
      } catch (err) {
        if (apiStatus(err) !== 409) throw err;
        // Exists but not in our cache: not labelled as ours (someone else's), or the cache lags.
        actual = (await batch.readNamespacedCronJob({ name: cjName, namespace }, opts())) as CronJob;
      }
    }
    if (actual !== undefined) {
      const owner = controllerOf(actual as any);
      const ours = owner?.kind === 'ModelMonitor' && owner.name === name;
      // The CronJob of an earlier ModelMonitor of this name (deleted, not yet collected): wait for the
      // garbage collector rather than adopt it (rewriting owner references needs delete rights under
      // the OwnerReferencesPermissionEnforcement admission plugin, which the operator does not hold).
      if (ours && owner.uid !== m.metadata.uid) {
        await setReady(m, false, 'WaitingForGarbageCollection', `CronJob ${cjName} still belongs to an earlier ModelMonitor ${name} (uid ${owner.uid}); it is re-created once the garbage collector has removed it`);
        return { ready: false, reason: 'WaitingForGarbageCollection', cronJob: 'none', requeueAfterMs: o.waitRecheckMs ?? 30_000 };
      }
      // One whose managed-by label was edited away gets it back below (and is watched again).
      if (!ours) {
        const holder = owner ? `${owner.kind}/${owner.name}` : 'nobody (not created by the operator)';
        await setReady(m, false, 'CronJobConflict', `CronJob ${cjName} already exists and is owned by ${holder}; delete or rename it`);
        return { ready: false, reason: 'CronJobConflict', cronJob: 'none', requeueAfterMs: o.waitRecheckMs ?? 30_000 };
      }
      const drift = cronJobDrift(desired, actual);
      if (drift.length > 0) {
        const others = (actual.metadata?.ownerReferences ?? []).filter((r) => !r.controller);
        const body = {
          ...actual,
          metadata: { ...actual.metadata, labels: { ...actual.metadata?.labels, ...desired.metadata.labels }, ownerReferences: [...others, ...desired.metadata.ownerReferences] },
          spec: withoutNulls(desired.spec),
        };
        delete (body as any).status;
        await batch.replaceNamespacedCronJob({ name: cjName, namespace, body: body as any }, opts());
        wrote = 'updated';
        o.metrics?.cronJobWrites.inc({ action: 'update' });
        log.info({ event: 'cronjob_updated', monitor: key, cronJob: cjName, fields: drift.slice(0, 20) }, 'CronJob updated');
        await emit(m, 'Normal', 'CronJobUpdated', `Updated CronJob ${cjName} to match the spec: ${drift.slice(0, 10).join(', ')}${drift.length > 10 ? ', ...' : ''}`);
      }
    }
    const s = m.spec ?? {};
    await setReady(m, true, 'CronJobReady', `CronJob ${cjName} runs "${s.schedule ?? SPEC_DEFAULTS.schedule}"${s.suspend ? ' (suspended)' : ''}`, cjName);
    return { ready: true, reason: 'CronJobReady', cronJob: wrote };
  }

  const errorReason = (err: unknown) => (apiStatus(err) === 409 ? 'conflict' : apiStatus(err) !== undefined ? 'api' : 'other');

  async function worker(): Promise<void> {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const end = o.metrics?.reconcileDuration.startTimer();
      try {
        const out = await reconcile(key);
        queue.forget(key);
        if (out?.requeueAfterMs !== undefined) queue.addAfter(key, out.requeueAfterMs);
        o.metrics?.reconciles.inc({ result: out?.requeueAfterMs !== undefined ? 'requeue' : 'success' });
      } catch (err) {
        const delay = queue.addRateLimited(key);
        o.metrics?.reconciles.inc({ result: 'error' });
        o.metrics?.reconcileErrors.inc({ reason: errorReason(err) });
        // Conflicts are routine (a stale cache); anything else is worth a warning.
        log[apiStatus(err) === 409 ? 'debug' : 'warn']({ event: 'reconcile_failed', monitor: key, err: describeApiError(err), retryInMs: delay }, 'reconcile failed; requeued');
      } finally {
        end?.();
        queue.done(key);
      }
    }
  }

  let workers: Promise<void>[] = [];
  let resync: NodeJS.Timeout | undefined;
  let counter: NodeJS.Timeout | undefined;
  const enqueueAll = () => {
    for (const inf of monitorInformers) for (const m of inf.list()) enqueueMonitor(m);
  };
  const countMonitors = () => {
    if (o.metrics === undefined) return;
    const counts = { True: 0, False: 0, Unknown: 0 };
    for (const inf of monitorInformers) for (const m of inf.list() as ModelMonitor[]) {
      const s = m.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
      counts[s] += 1;
    }
    for (const [ready, n] of Object.entries(counts)) o.metrics.monitors.set({ ready }, n);
  };

  return {
    queue,
    reconcile,
    synced: () => syncedCount === allInformers.length,
    async start() {
      // CronJobs first: a monitor reconciled before its CronJob is cached would try to create it again.
      for (const inf of [...cronJobInformers, ...monitorInformers]) {
        await inf.start();
        syncedCount += 1;
      }
      log.info({ event: 'caches_synced', namespaces: o.namespaces.length === 0 ? 'all' : o.namespaces, monitors: monitorInformers.reduce((n, i) => n + i.list().length, 0) }, 'caches synced; reconciling');
      workers = Array.from({ length: o.workers ?? 4 }, () => worker());
      resync = setInterval(enqueueAll, o.resyncMs ?? 300_000);
      resync.unref();
      counter = setInterval(countMonitors, 10_000);
      counter.unref();
      countMonitors();
    },
    async stop() {
      stopping = true;
      if (resync !== undefined) clearInterval(resync);
      if (counter !== undefined) clearInterval(counter);
      queue.shutDown();
      await Promise.all(workers);
      await Promise.all(allInformers.map((i) => i.stop()));
      log.info({ event: 'operator_stopped' }, 'operator stopped');
    },
  };
}
