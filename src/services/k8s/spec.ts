/**
 * The ModelMonitor spec (sentinelml.io/v1alpha1): its shape, its defaults and its validation. Pure:
 * no I/O, no Kubernetes client. The CRD schema (crd.ts) is generated from the constants here; the
 * operator validates every spec again with `validateMonitorSpec` (the CRD cannot check cron ranges
 * or time zones, and a cluster may still run an older CRD), and the drift job turns a spec into its
 * run options with `driftOptionsFromSpec`.
 */
import { posix } from 'node:path';
import { parseDuration } from '../../drift/duration.ts';
import { DEFAULT_SCORE_THRESHOLD } from '../../drift/alerting.ts';
import { listStatTests } from '../../stats/index.ts';
import { alarmOptionsProblem, ALARM_MODES, type AlarmMode, type AlarmOptions } from '../../drift/alarms.ts';

export const API_GROUP = 'sentinelml.io';
export const API_VERSION = 'v1alpha1';

/** Where the job's volumes are mounted (the chart's layout: /data/live, /data/reports). */
export const DATA_MOUNT = '/data';
export const REFERENCE_MOUNT = '/reference';
/** Mount points the job uses itself: a model volume may not take them. */
export const RESERVED_MOUNTS = [DATA_MOUNT, REFERENCE_MOUNT, '/tmp', '/app'] as const;

/** Today's behaviour (the chart's former drift CronJob and its values). */
export const SPEC_DEFAULTS = {
  suspend: false,
  schedule: '0 * * * *',
  modelCard: '/app/models/model.json',
  reference: '/app/data/reference.csv',
  referenceConfigMapKey: 'reference.csv',
  predictionLogPath: 'live',
  reportsPath: 'reports',
  driftScoreThreshold: DEFAULT_SCORE_THRESHOLD,
  keepLast: 0,
  workers: 1,
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  startingDeadlineSeconds: 300,
  activeDeadlineSeconds: 1800,
  backoffLimit: 1,
  ttlSecondsAfterFinished: 86400,
  resources: {
    requests: { cpu: '250m', memory: '512Mi', 'ephemeral-storage': '64Mi' },
    limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '128Mi' },
  },
} as const;

/** Limits the CRD declares (they also bound the cost of its CEL rules). */
export const SPEC_LIMITS = { maxColumns: 512, maxPath: 1024, maxName: 253, maxHistory: 100, maxWorkers: 64 } as const;

export const STATTEST_NAMES: readonly string[] = listStatTests().map((t) => t.name);
/** Tests whose threshold is a p-value (drift when p < threshold), so the threshold lies in [0, 1]. */
export const PVALUE_STATTESTS: readonly string[] = listStatTests().filter((t) => t.decision === 'p_value').map((t) => t.name);

export interface ColumnSetting {
  name: string;
  stattest?: string;
  threshold?: number;
}

export interface ModelMonitorSpec {
  suspend?: boolean;
  schedule?: string;
  timeZone?: string;
  /** Trailing window of the prediction log (`24h`); absent = every row. */
  since?: string;
  /** Model card giving the column types: an absolute path in the job's container (image or /data/...). */
  modelCard?: string;
  /** Reference CSV: an absolute path in the job's container (image, or the data volume under /data). */
  reference?: string;
  /**
   * The model's files (card, reference) from a ConfigMap or a claim, mounted read-only at mountPath
   * (the chart's modelVolume). Only these two sources: a ModelMonitor must not mount host paths.
   */
  modelVolume?: { mountPath: string; configMap?: string; claimName?: string };
  /** Reference CSV from a ConfigMap key (small references; mounted read-only under /reference). */
  referenceConfigMap?: { name: string; key?: string };
  /** The PersistentVolumeClaim holding the prediction log (and the reports), mounted at /data. */
  predictionLog?: { claimName?: string; path?: string };
  /** Report directory on the same claim (relative), read by the report server. */
  reportsPath?: string;
  drift?: {
    stattest?: string;
    threshold?: number;
    driftShare?: number;
    compat?: boolean;
    /** Only these columns (default: every shared feature column). */
    onlyColumns?: string[];
    columns?: ColumnSetting[];
    /** Alarm modes (docs/drift.md): calibrated or corrected thresholds instead of Evidently's. */
    alarms?: Omit<AlarmOptions, 'perColumnMode'> & { columnModes?: Record<string, AlarmMode> };
  };
  /** Headline score threshold: DriftDetected when the drift score exceeds it (or on dataset drift). */
  driftScoreThreshold?: number;
  /** Report retention: keep the newest N runs (0 = keep every run). */
  keepLast?: number;
  workers?: number;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  /** ServiceAccount of the job pods (default: the operator's --job-service-account). */
  serviceAccountName?: string;
}

export interface ModelMonitor {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  spec?: ModelMonitorSpec;
  status?: { conditions?: Condition[]; [k: string]: unknown };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface SpecProblem {
  /** JSON path of the offending field, e.g. `spec.drift.columns[2].threshold`. */
  field: string;
  message: string;
}

// ---- cron -------------------------------------------------------------------------------------

export const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
] as const;

/** The shape the CRD's CEL rule accepts; `cronProblem` checks the ranges on top. */
export const CRON_SHAPE = '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9A-Za-z*/,?-]+( +[0-9A-Za-z*/,?-]+){4})$';

/**
 * Why a schedule is not a cron expression the CronJob controller (robfig/cron, standard 5 fields)
 * accepts, or null. Covers what the CRD's shape check cannot: value ranges, names, steps.
 */
export function cronProblem(schedule: string): string | null {
  const s = schedule.trim();
  if (s.startsWith('@')) return (CRON_MACROS as readonly string[]).includes(s) ? null : `unknown macro "${s}" (use ${CRON_MACROS.join(', ')})`;
  if (/^(CRON_)?TZ=/.test(s)) return 'time zones go in spec.timeZone, not in the schedule';
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const value = (text: string): number | null => {
      const names = 'names' in f ? (f.names as readonly string[]) : undefined;
      const byName = names?.indexOf(text.toLowerCase()) ?? -1;
      if (byName >= 0) return byName + (f.name === 'month' ? 1 : 0);
      return /^\d+$/.test(text) ? Number(text) : null;
    };
    for (const part of fields[i].split(',')) {
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || range === '' || (step !== undefined && !/^[1-9]\d*$/.test(step))) return `${f.name} field "${fields[i]}" is malformed`;
      if (range === '*' || (range === '?' && (i === 2 || i === 4))) continue;
      const [a, b, more] = range.split('-');
      const lo = value(a);
      const hi = b === undefined ? lo : value(b);
      if (more !== undefined || lo === null || hi === null) return `${f.name} field "${fields[i]}" is malformed`;
      if (lo < f.min || hi > f.max || lo > hi) return `${f.name} field "${fields[i]}" is out of range ${f.min}-${f.max}`;
    }
  }
  return null;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---- validation ------------------------------------------------------------------------------

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+|m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$/;

/** A relative path inside a volume that stays inside it. */
function relativePathProblem(p: string): string | null {
  if (p === '' || p.startsWith('/')) return 'must be a relative path inside the volume';
  if (p.split('/').includes('..')) return 'must not contain ".."';
  return null;
}

function absolutePathProblem(p: string): string | null {
  if (!p.startsWith('/')) return 'must be an absolute path in the job container';
  if (p.split('/').includes('..')) return 'must not contain ".."';
  return null;
}

/**
 * Every problem of a spec, each naming its field (empty: valid). Checks what the CRD schema checks
 * (so an object stored under an older CRD is caught too) plus cron ranges and the time zone.
 */
export function validateMonitorSpec(spec: ModelMonitorSpec | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const bad = (field: string, message: string) => problems.push({ field: `spec.${field}`, message });
  const s = spec ?? {};
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const int = (v: unknown, field: string, min: number, max: number) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) bad(field, `must be a whole number in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  };
  if (s.suspend !== undefined && typeof s.suspend !== 'boolean') bad('suspend', 'must be true or false');
  if (s.schedule !== undefined) {
    const why = typeof s.schedule === 'string' ? cronProblem(s.schedule) : 'must be a string';
    if (why !== null) bad('schedule', `"${s.schedule}": ${why}`);
  }
  if (s.timeZone !== undefined && !(typeof s.timeZone === 'string' && validTimeZone(s.timeZone))) bad('timeZone', `"${s.timeZone}" is not a known IANA time zone`);
  if (s.since !== undefined && !(typeof s.since === 'string' && parseDuration(s.since) !== null)) bad('since', `"${s.since}" is not a duration like 24h, 30m or 7d`);
  if (s.modelCard !== undefined) {
    const why = typeof s.modelCard === 'string' ? absolutePathProblem(s.modelCard) : 'must be a string';
    if (why) bad('modelCard', why);
  }
  if (s.reference !== undefined) {
    const why = typeof s.reference === 'string' ? absolutePathProblem(s.reference) : 'must be a string';
    if (why) bad('reference', why);
  }
  if (s.referenceConfigMap !== undefined) {
    if (s.reference !== undefined) bad('referenceConfigMap', 'set either reference (a path) or referenceConfigMap, not both');
    const cm = s.referenceConfigMap;
    if (typeof cm?.name !== 'string' || !DNS_SUBDOMAIN.test(cm.name)) bad('referenceConfigMap.name', 'must be a ConfigMap name');
    if (cm?.key !== undefined && !(typeof cm.key === 'string' && CONFIGMAP_KEY.test(cm.key))) bad('referenceConfigMap.key', 'must be a ConfigMap key');
  }
  if (s.modelVolume !== undefined) {
    const mv = s.modelVolume;
    const why = typeof mv?.mountPath === 'string' ? absolutePathProblem(mv.mountPath) : 'is required';
    if (why) bad('modelVolume.mountPath', why);
    else if (RESERVED_MOUNTS.some((r) => mv.mountPath === r || mv.mountPath.startsWith(`${r}/`) || r.startsWith(`${mv.mountPath.replace(/\/$/, '')}/`) || mv.mountPath === '/')) bad('modelVolume.mountPath', `must not be or contain ${RESERVED_MOUNTS.join(', ')}`);
    if ((mv?.configMap === undefined) === (mv?.claimName === undefined)) bad('modelVolume', 'set exactly one of configMap and claimName');
    for (const k of ['configMap', 'claimName'] as const) if (mv?.[k] !== undefined && !DNS_SUBDOMAIN.test(mv[k]!)) bad(`modelVolume.${k}`, `"${mv[k]}" is not a valid name`);
  }
  const log = s.predictionLog;
  if (log?.claimName === undefined || log.claimName === '') bad('predictionLog.claimName', 'is required: the PersistentVolumeClaim holding the prediction log');
  else if (!DNS_SUBDOMAIN.test(log.claimName)) bad('predictionLog.claimName', `"${log.claimName}" is not a PersistentVolumeClaim name`);
  if (log?.path !== undefined) {
    const why = typeof log.path === 'string' ? relativePathProblem(log.path) : 'must be a string';
    if (why) bad('predictionLog.path', why);
  }
  if (s.reportsPath !== undefined) {
    const why = typeof s.reportsPath === 'string' ? relativePathProblem(s.reportsPath) : 'must be a string';
    if (why) bad('reportsPath', why);
  }
  const d = s.drift ?? {};
  // `inherited`: the test a column gets from drift.stattest (its name is checked there, once).
  const checkTest = (name: unknown, threshold: unknown, at: string, inherited?: unknown) => {
    if (name !== undefined && !(typeof name === 'string' && STATTEST_NAMES.includes(name))) bad(`${at}stattest`, `unknown stattest ${JSON.stringify(name)} (known: ${STATTEST_NAMES.join(', ')})`);
    name ??= inherited;
    if (threshold !== undefined && !(num(threshold) && threshold >= 0)) bad(`${at}threshold`, `must be a non-negative number (got ${JSON.stringify(threshold)})`);
    else if (num(threshold) && threshold > 1 && typeof name === 'string' && PVALUE_STATTESTS.includes(name)) bad(`${at}threshold`, `${name} compares a p-value: the threshold must be in [0, 1] (got ${threshold})`);
  };
  checkTest(d.stattest, d.threshold, 'drift.');
  if (d.driftShare !== undefined && !(num(d.driftShare) && d.driftShare > 0 && d.driftShare <= 1)) bad('drift.driftShare', `must be in (0, 1] (got ${JSON.stringify(d.driftShare)})`);
  if (d.compat !== undefined && typeof d.compat !== 'boolean') bad('drift.compat', 'must be true or false');
  if (d.onlyColumns !== undefined && !(Array.isArray(d.onlyColumns) && d.onlyColumns.length > 0 && d.onlyColumns.every((c) => typeof c === 'string' && c !== ''))) bad('drift.onlyColumns', 'must be a non-empty list of column names');
  const seen = new Set<string>();
  (d.columns ?? []).forEach((c, i) => {
    const at = `drift.columns[${i}].`;
    if (typeof c?.name !== 'string' || c.name === '') bad(`${at}name`, 'is required');
    else if (seen.has(c.name)) bad(`${at}name`, `column "${c.name}" is listed twice`);
    else seen.add(c.name);
    if (c?.stattest === undefined && c?.threshold === undefined) bad(at.slice(0, -1), 'sets neither stattest nor threshold');
    checkTest(c?.stattest, c?.threshold, at, d.stattest);
  });
  if (d.alarms !== undefined) {
    const why = alarmOptionsProblem(alarmOptionsOf(d.alarms));
    if (why !== null) bad('drift.alarms', why);
  }
  if (s.driftScoreThreshold !== undefined && !(num(s.driftScoreThreshold) && s.driftScoreThreshold >= 0)) bad('driftScoreThreshold', `must be a non-negative number (got ${JSON.stringify(s.driftScoreThreshold)})`);
  int(s.keepLast, 'keepLast', 0, 100_000);
  int(s.workers, 'workers', 0, SPEC_LIMITS.maxWorkers);
  int(s.successfulJobsHistoryLimit, 'successfulJobsHistoryLimit', 0, SPEC_LIMITS.maxHistory);
  int(s.failedJobsHistoryLimit, 'failedJobsHistoryLimit', 0, SPEC_LIMITS.maxHistory);
  for (const kind of ['requests', 'limits'] as const) {
    for (const [k, v] of Object.entries(s.resources?.[kind] ?? {})) {
      if (!(typeof v === 'number' ? v >= 0 : typeof v === 'string' && QUANTITY.test(v))) bad(`resources.${kind}.${k}`, `${JSON.stringify(v)} is not a quantity`);
    }
  }
  if (s.serviceAccountName !== undefined && !DNS_SUBDOMAIN.test(s.serviceAccountName)) bad('serviceAccountName', `"${s.serviceAccountName}" is not a ServiceAccount name`);
  return problems;
}

/** The drift layer's alarm options from the spec's `drift.alarms` (columnModes → perColumnMode). */
function alarmOptionsOf(a: NonNullable<NonNullable<ModelMonitorSpec['drift']>['alarms']>): AlarmOptions {
  const { columnModes, ...rest } = a;
  return { ...rest, ...(columnModes !== undefined ? { perColumnMode: columnModes } : {}) };
}

export { ALARM_MODES };

/** One line for a condition message / Event: every problem, field first. */
export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field} ${p.message}`).join('; ');
}

// ---- run options -----------------------------------------------------------------------------

/** What one drift run does, from a (valid) spec: the fields of DriftJobOptions the spec decides. */
export interface SpecRunOptions {
  reference: string;
  current: string;
  out: string;
  modelCard: string;
  since?: string;
  stattest?: string;
  threshold?: number;
  perColumnStattest: Record<string, string>;
  perColumnThreshold: Record<string, number>;
  driftShare?: number;
  /** Absent: Evidently's tests, the corrected ones in calibrated alarm modes (drift/alarms.ts `columnCompat`). */
  compat?: boolean;
  columns?: string[];
  workers: number;
  alarm?: AlarmOptions;
  /** Retention (absent: keep every run). */
  keepLast?: number;
}

/**
 * The drift run a spec describes. Paths on the data volume are resolved under `dataRoot` (the
 * CronJob mounts the claim at /data; a local run may point it elsewhere), a ConfigMap reference
 * under `referenceRoot`.
 */
export function driftOptionsFromSpec(spec: ModelMonitorSpec | undefined, roots: { dataRoot?: string; referenceRoot?: string } = {}): SpecRunOptions {
  const s = spec ?? {};
  const dataRoot = roots.dataRoot ?? DATA_MOUNT;
  const onData = (p: string) => posix.join(dataRoot, p);
  // Absolute paths under /data are on the volume: they follow dataRoot too.
  const inContainer = (p: string) => (p === DATA_MOUNT || p.startsWith(`${DATA_MOUNT}/`) ? onData(p.slice(DATA_MOUNT.length)) : p);
  const d = s.drift ?? {};
  const perColumnStattest: Record<string, string> = {};
  const perColumnThreshold: Record<string, number> = {};
  for (const c of d.columns ?? []) {
    if (c.stattest !== undefined) perColumnStattest[c.name] = c.stattest;
    if (c.threshold !== undefined) perColumnThreshold[c.name] = c.threshold;
  }
  const reference = s.referenceConfigMap !== undefined
    ? posix.join(roots.referenceRoot ?? REFERENCE_MOUNT, s.referenceConfigMap.key ?? SPEC_DEFAULTS.referenceConfigMapKey)
    : inContainer(s.reference ?? SPEC_DEFAULTS.reference);
  return {
    reference,
    current: onData(s.predictionLog?.path ?? SPEC_DEFAULTS.predictionLogPath),
    out: onData(s.reportsPath ?? SPEC_DEFAULTS.reportsPath),
    modelCard: inContainer(s.modelCard ?? SPEC_DEFAULTS.modelCard),
    ...(s.since !== undefined ? { since: s.since } : {}),
    ...(d.stattest !== undefined ? { stattest: d.stattest } : {}),
    ...(d.threshold !== undefined ? { threshold: d.threshold } : {}),
    perColumnStattest,
    perColumnThreshold,
    ...(d.driftShare !== undefined ? { driftShare: d.driftShare } : {}),
    ...(d.compat !== undefined ? { compat: d.compat } : {}),
    ...(d.onlyColumns !== undefined ? { columns: [...d.onlyColumns] } : {}),
    workers: s.workers ?? SPEC_DEFAULTS.workers,
    ...(d.alarms !== undefined ? { alarm: alarmOptionsOf(d.alarms) } : {}),
    ...(s.keepLast !== undefined && s.keepLast > 0 ? { keepLast: s.keepLast } : {}),
  };
}

/** `namespace/name` → parts; throws a message naming the problem. */
export function parseMonitorRef(text: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  if (m === null || m[1].length > 63 || m[3].length > SPEC_LIMITS.maxName) throw new Error(`--monitor takes NAMESPACE/NAME of a ModelMonitor (got "${text}")`);
  return { namespace: m[1], name: m[3] };
}
