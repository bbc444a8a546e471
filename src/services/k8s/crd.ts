/**
 * The ModelMonitor CustomResourceDefinition, built from spec.ts (defaults, stattest names from the
 * stats registry, limits). Pure. `scripts/generate-crd.ts` writes it to
 * charts/sentinelml/crds/modelmonitors.sentinelml.io.yaml; a test keeps that file current.
 *
 * Validation lives in the schema where the API server can do it: types, ranges, enums and CEL
 * rules (x-kubernetes-validations) for cron shape, p-value thresholds, paths and exclusive fields.
 * What it cannot check (cron ranges, time zones, objects that must exist) the operator reports as
 * a Ready=False condition.
 */
import { ALARM_MODES, API_GROUP, API_VERSION, CRON_SHAPE, PVALUE_STATTESTS, SPEC_DEFAULTS, SPEC_LIMITS, STATTEST_NAMES } from './spec.ts';

type Schema = Record<string, unknown>;
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const num = (description: string, extra: Schema = {}): Schema => ({ type: 'number', description, ...extra });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const obj = (description: string, properties: Schema, extra: Schema = {}): Schema => ({ type: 'object', description, properties, ...extra });
const rule = (r: string, message: string, extra: Schema = {}): Schema => ({ rule: r, message, ...extra });

const celList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
const ABSOLUTE = [
  rule("self.startsWith('/')", 'must be an absolute path in the job container'),
  rule("!self.matches('(^|/)[.][.](/|$)')", 'must not contain ".."'),
];
const RELATIVE = [
  rule("!self.startsWith('/')", 'must be a relative path inside the volume'),
  rule("!self.matches('(^|/)[.][.](/|$)')", 'must not contain ".."'),
];
const absPath = (description: string, def?: string): Schema => str(description, { minLength: 1, maxLength: SPEC_LIMITS.maxPath, 'x-kubernetes-validations': ABSOLUTE, ...(def !== undefined ? { default: def } : {}) });
const relPath = (description: string): Schema => str(description, { minLength: 1, maxLength: SPEC_LIMITS.maxPath, 'x-kubernetes-validations': RELATIVE });
const name = (description: string): Schema => str(description, { minLength: 1, maxLength: SPEC_LIMITS.maxName, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' });
const stattest = (description: string): Schema => str(description, { enum: [...STATTEST_NAMES] });
const threshold = (description: string): Schema => num(description, { minimum: 0 });
// A p-value threshold above 1 would flag every column or none: refuse it where the test is named.
const PVALUE_RULE = rule(`!has(self.threshold) || !has(self.stattest) || !(self.stattest in ${celList(PVALUE_STATTESTS)}) || self.threshold <= 1.0`,
  `a p-value test (${PVALUE_STATTESTS.join(', ')}) takes a threshold in [0, 1]`, { fieldPath: '.threshold' });
const quantity: Schema = { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^[+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+|m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$' };

const specSchema: Schema = obj('What to monitor and how: the operator reconciles it into a drift CronJob; each run reads it through the API.', {
  suspend: { type: 'boolean', description: 'Suspend the drift CronJob (no new runs).', default: SPEC_DEFAULTS.suspend },
  schedule: str('Cron schedule of the drift runs (5 fields, or @hourly, @daily, ...).', {
    default: SPEC_DEFAULTS.schedule, minLength: 1, maxLength: 128,
    'x-kubernetes-validations': [rule(`self.matches('${CRON_SHAPE}')`, 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week) or a macro such as @hourly')],
  }),
  timeZone: str('IANA time zone of the schedule (e.g. Europe/Berlin); default: the CronJob controller\'s (UTC).', { minLength: 1, maxLength: 64 }),
  since: str('Compare only the prediction-log rows of this trailing window (24h, 30m, 7d); absent = every row.', { maxLength: 32, pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$' }),
  modelCard: absPath('Model card (model.json) giving the column types: a path in the image or on the data volume (/data/...).', SPEC_DEFAULTS.modelCard),
  reference: absPath(`Reference CSV: a path in the image or on the data volume (/data/...). Default ${SPEC_DEFAULTS.reference} (the bundled model's). Exclusive with referenceConfigMap.`),
  referenceConfigMap: obj('Reference CSV from a ConfigMap key (small references, under 1 MiB), mounted read-only in the job.', {
    name: name('ConfigMap in the ModelMonitor\'s namespace.'),
    key: str('Key holding the CSV.', { default: SPEC_DEFAULTS.referenceConfigMapKey, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' }),
  }, { required: ['name'] }),
  modelVolume: obj('The model\'s files (card, reference) from a ConfigMap or a PersistentVolumeClaim, mounted read-only at mountPath (the chart\'s modelVolume).', {
    mountPath: { ...absPath('Where the job sees the files (not /, /data, /reference, /tmp or /app).'), 'x-kubernetes-validations': [...ABSOLUTE, rule(`!(self in ['/', '/data', '/reference', '/tmp', '/app']) && !self.startsWith('/data/') && !self.startsWith('/reference/') && !self.startsWith('/tmp/') && !self.startsWith('/app/')`, 'must not be /, /data, /reference, /tmp, /app or inside them')] },
    configMap: name('ConfigMap in the ModelMonitor\'s namespace.'),
    claimName: name('PersistentVolumeClaim in the ModelMonitor\'s namespace (mounted read-only).'),
  }, { required: ['mountPath'], 'x-kubernetes-validations': [rule('has(self.configMap) != has(self.claimName)', 'set exactly one of configMap and claimName')] }),
  predictionLog: obj('Where the prediction log lives: a PersistentVolumeClaim (mounted at /data; the reports go there too) and a directory in it.', {
    claimName: name('PersistentVolumeClaim in the ModelMonitor\'s namespace.'),
    path: { ...relPath('Directory of the log inside the claim.'), default: SPEC_DEFAULTS.predictionLogPath },
  }, { required: ['claimName'] }),
  reportsPath: { ...relPath('Report directory inside the claim (read by the report server).'), default: SPEC_DEFAULTS.reportsPath },
  drift: obj('Drift settings (Evidently names and defaults).', {
    stattest: stattest('Test for every column; default: Evidently\'s choice per column.'),
    threshold: threshold('Threshold for every column; default: the test\'s own.'),
    driftShare: num('Dataset drift when the share of drifted columns is at least this, in (0, 1].', { minimum: 0, maximum: 1, 'x-kubernetes-validations': [rule('self > 0.0', 'must be in (0, 1]')] }),
    compat: { type: 'boolean', description: 'Evidently-compatible tests (false: corrected variants, see docs/drift.md).' },
    onlyColumns: { type: 'array', description: 'Compare only these columns.', minItems: 1, maxItems: SPEC_LIMITS.maxColumns, items: str('Column name.', { minLength: 1, maxLength: 256 }) },
    columns: {
      type: 'array', description: 'Per-column test and threshold.', maxItems: SPEC_LIMITS.maxColumns,
      'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
      items: obj('One column\'s settings.', {
        name: str('Column name.', { minLength: 1, maxLength: 256 }),
        stattest: stattest('Test for this column.'),
        threshold: threshold('Threshold for this column.'),
      }, { required: ['name'], 'x-kubernetes-validations': [rule('has(self.stattest) || has(self.threshold)', 'a column entry sets stattest, threshold or both'), PVALUE_RULE] }),
    },
    alarms: obj('Alarm modes (docs/drift.md): thresholds calibrated from the reference or p-values corrected for multiple testing, at a dataset false-alarm rate of about alpha; default: Evidently\'s thresholds.', {
      mode: str('Mode for every column.', { enum: [...ALARM_MODES] }),
      columnModes: { type: 'object', description: 'Mode per column, e.g. {age: bh}.', maxProperties: SPEC_LIMITS.maxColumns, additionalProperties: { type: 'string', enum: [...ALARM_MODES] } },
      alpha: num('Dataset-level false-alarm target, in (0, 1).', { minimum: 0, maximum: 1, 'x-kubernetes-validations': [rule('self > 0.0 && self < 1.0', 'must be in (0, 1)')] }),
      k: num('chunks: threshold = mean + k·sd of the reference-chunk statistics.', { minimum: 0, 'x-kubernetes-validations': [rule('self > 0.0', 'must be positive')] }),
      quantile: num('chunks: this upper quantile instead of mean + k·sd, in (0, 1).', { minimum: 0, maximum: 1, 'x-kubernetes-validations': [rule('self > 0.0 && self < 1.0', 'must be in (0, 1)')] }),
      chunkSize: int('chunks: rows per reference chunk (default: the current window\'s size).', { minimum: 1 }),
      chunkPeriod: str('chunks: time chunks of the reference\'s timestamp column, e.g. 1d.', { maxLength: 32, pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$' }),
      chunkAgainst: str('chunks: each chunk against the rest of the reference or all of it.', { enum: ['rest', 'all'] }),
      resamples: int('Resamples of bootstrap / permutation calibration.', { minimum: 10, maximum: 100000 }),
      seed: int('Seed of the resampling.', { minimum: 0, maximum: 4294967295 }),
    }),
  }, { 'x-kubernetes-validations': [PVALUE_RULE] }),
  driftScoreThreshold: num('DriftDetected is True when the headline drift score exceeds this, or the run found dataset drift.', { minimum: 0, default: SPEC_DEFAULTS.driftScoreThreshold }),
  keepLast: int('Report retention: keep the newest N runs in the report directory (0 = keep every run).', { minimum: 0, maximum: 100000, default: SPEC_DEFAULTS.keepLast }),
  workers: int('Threads for the column tests (keep it at most the CPU limit; 0 = main thread only).', { minimum: 0, maximum: SPEC_LIMITS.maxWorkers, default: SPEC_DEFAULTS.workers }),
  resources: obj('Resources of the drift container (default: the chart\'s former drift job).', {
    requests: { type: 'object', additionalProperties: quantity },
    limits: { type: 'object', additionalProperties: quantity },
  }),
  successfulJobsHistoryLimit: int('Successful Jobs kept.', { minimum: 0, maximum: SPEC_LIMITS.maxHistory, default: SPEC_DEFAULTS.successfulJobsHistoryLimit }),
  failedJobsHistoryLimit: int('Failed Jobs kept.', { minimum: 0, maximum: SPEC_LIMITS.maxHistory, default: SPEC_DEFAULTS.failedJobsHistoryLimit }),
  serviceAccountName: name('ServiceAccount of the job pods (needs get on this ModelMonitor, patch on its status, create Events); default: the operator\'s --job-service-account.'),
  // v1alpha1 fields written by earlier charts: still accepted, no longer read.
  current: str('Deprecated (use predictionLog): ignored.'),
  reports: str('Deprecated (use reportsPath): ignored.'),
  cronJob: str('Deprecated: the operator names the CronJob in status.cronJob.'),
  inferenceService: str('Name of the inference API Service (informational).'),
  reportsService: str('Name of the report server Service (informational).'),
}, {
  'x-kubernetes-validations': [rule('!(has(self.reference) && has(self.referenceConfigMap))', 'set either reference (a path) or referenceConfigMap, not both', { fieldPath: '.referenceConfigMap' })],
});

const condition: Schema = obj('metav1.Condition.', {
  type: str('Ready, LastRunSucceeded or DriftDetected.', { maxLength: 316 }),
  status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
  observedGeneration: int('metadata.generation this condition was set for.', { format: 'int64', minimum: 0 }),
  lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
  reason: str('CamelCase reason.', { maxLength: 1024, minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: str('Human-readable detail.', { maxLength: 32768 }),
}, { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] });

const statusSchema: Schema = obj('Written by the operator (Ready, cronJob) and by the drift job (the run fields).', {
  observedGeneration: int('metadata.generation of the spec last acted on (by the operator or a run).', { format: 'int64', minimum: 0 }),
  cronJob: str('Name of the drift CronJob the operator maintains.'),
  verdict: str('Outcome of the latest run.', { enum: ['Drift', 'Stable', 'Failed'] }),
  driftScore: num('Headline drift score of the latest successful run.'),
  driftShare: num('Share of the features that drifted in the latest successful run.'),
  datasetDrift: { type: 'boolean' },
  driftedColumns: int('', { minimum: 0 }),
  testedColumns: int('', { minimum: 0 }),
  driftedFeatures: { type: 'array', description: 'Names of the features that drifted in the latest successful run.', items: { type: 'string' }, maxItems: 256 },
  lastRunId: str(''),
  lastRunTime: str('', { format: 'date-time' }),
  lastSuccessfulRunTime: str('', { format: 'date-time' }),
  referenceRows: int(''),
  currentRows: int(''),
  lastFailure: obj('', { time: str('', { format: 'date-time' }), message: str('', { maxLength: 1024 }) }),
  conditions: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: condition },
});

/** Drops empty descriptions (kept terse above for the status counters). */
function clean<T>(x: T): T {
  if (Array.isArray(x)) return x.map(clean) as T;
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).filter(([k, v]) => !(k === 'description' && v === '')).map(([k, v]) => [k, clean(v)])) as T;
  }
  return x;
}

export function modelMonitorCrd(): Record<string, unknown> {
  return clean({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `modelmonitors.${API_GROUP}`, labels: { 'app.kubernetes.io/name': 'sentinelml', 'app.kubernetes.io/part-of': 'sentinelml' } },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: { kind: 'ModelMonitor', listKind: 'ModelMonitorList', plural: 'modelmonitors', singular: 'modelmonitor', shortNames: ['mm'], categories: ['sentinelml'] },
      versions: [{
        name: API_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'The operator maintains the drift CronJob of a valid spec.' },
          { name: 'Verdict', type: 'string', jsonPath: '.status.verdict', description: 'Drift, Stable, or Failed (the latest run could not complete).' },
          { name: 'Score', type: 'number', jsonPath: '.status.driftScore', description: 'Headline drift score of the latest successful run (higher = more drift).' },
          { name: 'Drifted Share', type: 'number', jsonPath: '.status.driftShare', description: 'Share of the features that drifted in the latest successful run.', priority: 1 },
          { name: 'Last Run', type: 'date', jsonPath: '.status.lastRunTime', description: 'When the latest run (successful or not) finished.' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: obj('ModelMonitor: the authoritative description of how one model is monitored for drift.', {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
            spec: specSchema,
            status: statusSchema,
          }, { type: 'object' }),
        },
      }],
    },
  });
}

export const CRD_HEADER = `# ModelMonitor: one per monitored model. The spec is authoritative: \`sentinel operator\` reconciles it
# into a drift CronJob, whose runs read it through the API and write .status (conditions, verdict).
# Generated by scripts/generate-crd.ts from src/services/k8s/crd.ts: do not edit, regenerate.
# Helm installs files in crds/ before the templates and never upgrades or deletes them
# (upgrade the CRD with \`kubectl apply -f\` from manifests/ or this file).
`;
