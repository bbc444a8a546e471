/**
 * The drift CronJob a ModelMonitor should have (pure): what the operator creates, and the check
 * that tells it whether the CronJob in the cluster still matches (hand edits are undone).
 *
 * The CronJob runs `sentinel drift --monitor <namespace>/<name>`: the run reads the spec through the
 * API, so drift settings (tests, thresholds, window, retention) apply at the next run without
 * touching the CronJob. Only what Kubernetes itself needs lives in the CronJob: schedule, suspend,
 * volumes (prediction-log claim, reference ConfigMap), resources, history limits, ServiceAccount.
 */
import { createHash } from 'node:crypto';
import { API_GROUP, API_VERSION, DATA_MOUNT, REFERENCE_MOUNT, SPEC_DEFAULTS, type ModelMonitor } from './spec.ts';

export const MANAGED_BY = 'sentinel-operator';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** CronJob names are limited to 52 characters (the controller appends 11 to its Jobs). */
const MAX_CRONJOB_NAME = 52;

/** How the operator fills in the parts of the job pod a ModelMonitor does not describe. */
export interface JobTemplateConfig {
  /** Image with the `sentinel` entrypoint. */
  image: string;
  imagePullPolicy?: string;
  /** ServiceAccount of the job pods when the spec names none. */
  serviceAccountName: string;
  logLevel?: string;
  /** Pod-level fields copied as they are (securityContext, imagePullSecrets, nodeSelector, tolerations, affinity, priorityClassName). */
  pod?: Record<string, unknown>;
  /** Container securityContext. */
  containerSecurityContext?: Record<string, unknown>;
  /** Writable /tmp (the root file system is read-only). */
  tmp?: { medium?: string; sizeLimit?: string };
  /** Extra labels on the CronJob, its Jobs and pods. */
  labels?: Record<string, string>;
}

const RESTRICTED_POD = { securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } } };
const RESTRICTED_CONTAINER = {
  runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false,
  capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};

/** `<monitor>-drift`, or a truncated name plus a hash of the full one when that would exceed 52 characters. */
export function cronJobName(monitorName: string): string {
  const plain = `${monitorName}-drift`;
  if (plain.length <= MAX_CRONJOB_NAME) return plain;
  const hash = createHash('sha256').update(monitorName).digest('hex').slice(0, 8);
  const head = monitorName.slice(0, MAX_CRONJOB_NAME - '-drift'.length - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}-drift`;
}

/** Labels the monitor passes on to its job pods (so the chart's NetworkPolicy selects them). */
const INHERITED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of'];

export function cronJobLabels(monitor: ModelMonitor, config: JobTemplateConfig): Record<string, string> {
  const inherited = Object.fromEntries(INHERITED_LABELS.flatMap((k) => (monitor.metadata.labels?.[k] !== undefined ? [[k, monitor.metadata.labels[k]]] : [])));
  return {
    'app.kubernetes.io/name': 'sentinelml',
    ...inherited,
    ...config.labels,
    'app.kubernetes.io/component': 'drift',
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

/**
 * The owner reference that makes the CronJob the monitor's (garbage-collected with it). No
 * blockOwnerDeletion: under the OwnerReferencesPermissionEnforcement admission plugin it would need
 * update rights on modelmonitors/finalizers, and nothing waits for a foreground deletion of a monitor.
 */
export function ownerReference(monitor: ModelMonitor): Record<string, unknown> {
  return { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ModelMonitor', name: monitor.metadata.name, uid: monitor.metadata.uid, controller: true };
}

/** The controller owner reference of an object, if any. */
export function controllerOf(obj: { metadata?: { ownerReferences?: { controller?: boolean; kind?: string; name?: string; uid?: string; apiVersion?: string }[] } }): { kind?: string; name?: string; uid?: string; apiVersion?: string } | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * The CronJob for a (valid) ModelMonitor. `null` marks a field the operator owns and leaves unset:
 * `matchesDesired` requires it to be absent from the cluster's object.
 */
export function desiredCronJob(monitor: ModelMonitor, config: JobTemplateConfig): Record<string, any> {
  const s = monitor.spec ?? {};
  const ns = monitor.metadata.namespace ?? 'default';
  const labels = cronJobLabels(monitor, config);
  const cm = s.referenceConfigMap;
  const volumes: Record<string, unknown>[] = [
    { name: 'data', persistentVolumeClaim: { claimName: s.predictionLog?.claimName } },
    { name: 'tmp', emptyDir: { ...(config.tmp?.medium ? { medium: config.tmp.medium } : {}), sizeLimit: config.tmp?.sizeLimit ?? '64Mi' } },
  ];
  const mounts: Record<string, unknown>[] = [{ name: 'data', mountPath: DATA_MOUNT }, { name: 'tmp', mountPath: '/tmp' }];
  const mv = s.modelVolume;
  if (mv !== undefined) {
    volumes.push({ name: 'model', ...(mv.configMap !== undefined ? { configMap: { name: mv.configMap } } : { persistentVolumeClaim: { claimName: mv.claimName, readOnly: true } }) });
    mounts.push({ name: 'model', mountPath: mv.mountPath, readOnly: true });
  }
  if (cm !== undefined) {
    const key = cm.key ?? SPEC_DEFAULTS.referenceConfigMapKey;
    volumes.push({ name: 'reference', configMap: { name: cm.name, items: [{ key, path: key }] } });
    mounts.push({ name: 'reference', mountPath: REFERENCE_MOUNT, readOnly: true });
  }
  const container = {
    name: 'drift',
    image: config.image,
    imagePullPolicy: config.imagePullPolicy ?? 'IfNotPresent',
    args: ['drift', `--monitor=${ns}/${monitor.metadata.name}`, '--quiet'],
    env: [
      { name: 'SENTINEL_LOG_LEVEL', value: config.logLevel ?? 'info' },
      { name: 'TMPDIR', value: '/tmp' },
      { name: 'SENTINEL_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    resources: s.resources ?? SPEC_DEFAULTS.resources,
    securityContext: config.containerSecurityContext ?? RESTRICTED_CONTAINER,
    volumeMounts: mounts,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: cronJobName(monitor.metadata.name), namespace: ns, labels, ownerReferences: [ownerReference(monitor)] },
    spec: {
      schedule: s.schedule ?? SPEC_DEFAULTS.schedule,
      timeZone: s.timeZone ?? null,
      suspend: s.suspend ?? SPEC_DEFAULTS.suspend,
      // Runs never overlap: a slow run makes the next one wait or skip, never race on the reports.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: SPEC_DEFAULTS.startingDeadlineSeconds,
      successfulJobsHistoryLimit: s.successfulJobsHistoryLimit ?? SPEC_DEFAULTS.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: s.failedJobsHistoryLimit ?? SPEC_DEFAULTS.failedJobsHistoryLimit,
      jobTemplate: {
        metadata: { labels },
        spec: {
          activeDeadlineSeconds: SPEC_DEFAULTS.activeDeadlineSeconds,
          backoffLimit: SPEC_DEFAULTS.backoffLimit,
          ttlSecondsAfterFinished: SPEC_DEFAULTS.ttlSecondsAfterFinished,
          template: {
            metadata: { labels },
            spec: {
              ...RESTRICTED_POD,
              ...config.pod,
              restartPolicy: 'Never',
              serviceAccountName: s.serviceAccountName ?? config.serviceAccountName,
              // The token is needed to read the spec, write the status and emit Events.
              automountServiceAccountToken: true,
              containers: [container],
              volumes,
            },
          },
        },
      },
    },
  };
}

/**
 * Paths where `actual` differs from `desired`: every field desired sets must be equal in actual
 * (objects recursively, arrays element by element and of the same length); a desired `null` must be
 * absent. Fields only the API server or others set (defaults, status) are ignored.
 */
export function driftedFields(desired: unknown, actual: unknown, path = ''): string[] {
  if (desired === null) return actual === null || actual === undefined ? [] : [path];
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) return [path];
    return desired.flatMap((d, i) => driftedFields(d, actual[i], `${path}[${i}]`));
  }
  if (typeof desired === 'object' && desired !== undefined) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [path];
    return Object.entries(desired as Record<string, unknown>).flatMap(([k, v]) => driftedFields(v, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  if (desired === actual || (typeof desired === 'number' && String(desired) === String(actual))) return [];
  // The API server stores quantities canonically (1000m → 1, 0.5Gi → 512Mi): compare their values.
  if (/\.resources\.(requests|limits)\./.test(path)) {
    const a = quantityValue(desired);
    const b = quantityValue(actual);
    if (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a))) return [];
  }
  return [path];
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity (`250m`, `1Gi`, `1e3`, 2), or null when it is not one. */
export function quantityValue(q: unknown): number | null {
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  if (typeof q !== 'string') return null;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][-+]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(q.trim());
  if (m === null) return null;
  return m[2] !== undefined ? Number(m[1] + m[2]) : Number(m[1]) * QUANTITY_SUFFIX[m[3] ?? ''];
}

/** What must be fixed on the cluster's CronJob: drifted spec fields, missing labels, a missing owner reference. */
export function cronJobDrift(desired: Record<string, any>, actual: Record<string, any>): string[] {
  const out = driftedFields(desired.spec, actual.spec, 'spec');
  out.push(...driftedFields(desired.metadata.labels, actual.metadata?.labels ?? {}, 'metadata.labels'));
  const owner = controllerOf(actual);
  if (owner?.uid !== desired.metadata.ownerReferences[0].uid) out.push('metadata.ownerReferences');
  return out;
}

/** Removes the `null` markers (for create/replace bodies). */
export function withoutNulls<T>(x: T): T {
  if (Array.isArray(x)) return x.map(withoutNulls) as T;
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)])) as T;
  return x;
}
