// Generates values.schema.json (draft-07): node charts/sentinelml/values.schema.mjs charts/sentinelml/values.schema.json
// test/chart/chart.test.ts fails when the committed schema differs from this generator's output.
import { writeFileSync } from 'node:fs';
const obj = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const str = (description, extra = {}) => ({ type: 'string', description, ...extra });
const bool = (description) => ({ type: 'boolean', description });
const int = (description, extra = {}) => ({ type: 'integer', description, ...extra });
const num = (description, extra = {}) => ({ type: 'number', description, ...extra });
const anyObj = (description) => ({ type: 'object', description });
const list = (description, items = { type: 'object' }) => ({ type: 'array', description, items });
const duration = (description) => ({ type: 'string', description, pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' });
const quantity = { oneOf: [{ type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$' }, { type: 'number', minimum: 0 }] };
const resources = obj({
  requests: { type: 'object', additionalProperties: quantity },
  limits: { type: 'object', additionalProperties: quantity },
  claims: list('Resource claims.'),
}, { description: 'Container resources (requests and limits).' });
const probe = anyObj('Probe (Kubernetes Probe object).');
const sa = obj({ create: bool('Create the ServiceAccount.'), name: str('ServiceAccount name.', { pattern: '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 }), annotations: { type: 'object', additionalProperties: { type: 'string' } } });
const scheduling = {
  podAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
  podLabels: { type: 'object', additionalProperties: { type: 'string' } },
  nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
  tolerations: list('Tolerations.'),
  affinity: anyObj('Affinity.'),
  priorityClassName: str('Priority class name.'),
};
const port = (d) => int(d, { minimum: 1, maximum: 65535 });
const service = obj({ type: str('Service type.', { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }), port: port('Service port.'), annotations: { type: 'object', additionalProperties: { type: 'string' } } });
const pdb = obj({ enabled: bool('Create a PodDisruptionBudget.'), minAvailable: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+%$' }] } });
const envList = list('Extra environment variables (EnvVar objects).', { type: 'object', required: ['name'] });
const argList = list('Extra command-line arguments.', { type: 'string' });
const severity = str('Severity label.', { enum: ['critical', 'warning', 'info'] });
const alert = (props) => obj({ enabled: bool('Create this alert.'), for: duration('How long the condition must hold.'), severity, ...props }, { required: ['enabled', 'for', 'severity'] });
// `helm --set x=0.2` passes floats as strings: accept positive decimal strings as well.
const POSITIVE = '^(0*[1-9][0-9]*(\\.[0-9]+)?|0*\\.[0-9]*[1-9][0-9]*|0+\\.[0-9]*[1-9][0-9]*)$';
const RATIO = '^(0*\\.[0-9]*[1-9][0-9]*|0+\\.[0-9]*[1-9][0-9]*|1(\\.0*)?)$';
const positive = (d) => ({ description: d, oneOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: POSITIVE }] });
const ratio = (d) => ({ description: d, oneOf: [{ type: 'number', exclusiveMinimum: 0, maximum: 1 }, { type: 'string', pattern: RATIO }] });

const schema0 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'SentinelML chart values',
  ...obj({
    nameOverride: str('Chart name override.', { maxLength: 63 }),
    fullnameOverride: str('Full name override.', { maxLength: 63, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
    commonLabels: { type: 'object', additionalProperties: { type: 'string' } },
    image: obj({
      repository: str('Image repository.', { minLength: 1 }),
      tag: str('Image tag.'),
      digest: str('Image digest.', { pattern: '^$|^sha256:[a-f0-9]{64}$' }),
      pullPolicy: str('Pull policy.', { enum: ['Always', 'IfNotPresent', 'Never'] }),
    }, { required: ['repository'] }),
    imagePullSecrets: list('Pull secrets.', { type: 'object', required: ['name'] }),
    logLevel: str('Log level.', { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
    podSecurityContext: {
      type: 'object', description: 'Pod security context (must stay non-root).',
      properties: { runAsNonRoot: { const: true }, runAsUser: int('UID.', { minimum: 1 }), runAsGroup: int('GID.', { minimum: 1 }), fsGroup: int('fsGroup shared by all pods.', { minimum: 1 }) },
      required: ['runAsNonRoot', 'fsGroup'],
    },
    containerSecurityContext: {
      type: 'object', description: 'Container security context (restricted).',
      properties: { allowPrivilegeEscalation: { const: false }, readOnlyRootFilesystem: { type: 'boolean' }, privileged: { const: false }, runAsNonRoot: { const: true } },
      required: ['allowPrivilegeEscalation', 'runAsNonRoot'],
    },
    tmp: obj({ medium: str('emptyDir medium.', { enum: ['', 'Memory'] }), sizeLimit: quantity }),
    modelVolume: obj({
      enabled: bool('Mount the bring-your-own-model volume in the inference and drift pods.'),
      mountPath: str('Mount path.', { pattern: '^/' }),
      configMap: str('ConfigMap holding model.onnx, model.json and the reference CSV.', { pattern: '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }),
      source: anyObj('Any other Volume source (used when configMap is empty).'),
    }),
    persistence: obj({
      enabled: bool('Use a PVC.'),
      existingClaim: str('Existing PVC.', { pattern: '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }),
      accessMode: str('Access mode.', { enum: ['ReadWriteMany', 'ReadWriteOnce'] }),
      storageClass: str('StorageClass.'),
      size: quantity,
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
      emptyDirSizeLimit: quantity,
    }),
    monitoring: obj({ driftScoreThreshold: positive('Headline drift score threshold.') }, { required: ['driftScoreThreshold'] }),
    inference: obj({
      enabled: bool('Deploy the inference API.'),
      replicaCount: int('Replicas.', { minimum: 0 }),
      workers: int('Worker processes per pod (sentinel serve --workers).', { minimum: 1, maximum: 256 }),
      port: port('Container port.'),
      modelPath: str('Model path.', { minLength: 1 }),
      extraArgs: argList, extraEnv: envList, resources,
      livenessProbe: probe, readinessProbe: probe, startupProbe: probe,
      service,
      autoscaling: obj({ enabled: bool('Create an HPA.'), minReplicas: int('Min replicas.', { minimum: 1 }), maxReplicas: int('Max replicas.', { minimum: 1 }), targetCPUUtilizationPercentage: int('Target CPU %.', { minimum: 1, maximum: 100 }) }),
      podDisruptionBudget: pdb, serviceAccount: sa,
      ...scheduling,
      topologySpreadConstraints: list('Topology spread constraints.'),
      podAntiAffinityPreset: str('Anti-affinity preset.', { enum: ['', 'soft', 'hard'] }),
      terminationGracePeriodSeconds: int('Grace period.', { minimum: 0 }),
    }),
    reports: obj({
      enabled: bool('Deploy the report server.'),
      replicaCount: int('Replicas.', { minimum: 0 }),
      port: port('Container port.'),
      extraArgs: argList, extraEnv: envList, resources,
      livenessProbe: probe, readinessProbe: probe,
      service, podDisruptionBudget: pdb, serviceAccount: sa,
      ...scheduling,
      topologySpreadConstraints: list('Topology spread constraints.'),
      podAntiAffinityPreset: str('Anti-affinity preset.', { enum: ['', 'soft', 'hard'] }),
    }),
    drift: obj({
      enabled: bool('Run drift jobs (the operator\'s CronJob, or the chart\'s own without the operator).'),
      schedule: str('Cron schedule.', { pattern: '^(@(hourly|daily|midnight|weekly|monthly|yearly|annually)|(\\S+\\s+){4}\\S+)$' }),
      schedulePeriodSeconds: int('Seconds between runs (0 = derive from schedule).', { minimum: 0 }),
      timeZone: str('IANA time zone.'),
      suspend: bool('Suspend the CronJob.'),
      startingDeadlineSeconds: int('Starting deadline.', { minimum: 10 }),
      activeDeadlineSeconds: int('Run deadline.', { minimum: 1 }),
      backoffLimit: int('Retries.', { minimum: 0 }),
      ttlSecondsAfterFinished: int('TTL of finished Jobs.', { minimum: 0 }),
      successfulJobsHistoryLimit: int('Successful Jobs kept.', { minimum: 0 }),
      failedJobsHistoryLimit: int('Failed Jobs kept.', { minimum: 0 }),
      referencePath: str('Reference dataset path.', { pattern: '^/' }),
      since: { type: 'string', description: 'Trailing window (--since).', pattern: '^$|^[0-9]+(ms|s|m|h|d)$' },
      modelCard: str('Model card path.', { pattern: '^$|^/' }),
      keepLast: int('Retention: newest runs kept in the report directory (--keep-last); 0 keeps all.', { minimum: 0 }),
      workers: int('Column-test threads.', { minimum: 0, maximum: 64 }),
      alarms: obj({
        mode: str('Alarm mode (--alarm-mode).', { enum: ['evidently', 'chunks', 'bootstrap', 'permutation', 'bonferroni', 'bh'] }),
        columnModes: { type: 'object', description: 'Per-column alarm mode (--column-alarm-mode).', additionalProperties: { type: 'string', enum: ['evidently', 'chunks', 'bootstrap', 'permutation', 'bonferroni', 'bh'] } },
        alpha: num('Dataset-level false-alarm target (--alarm-alpha).', { exclusiveMinimum: 0, exclusiveMaximum: 1 }),
        k: num('chunks: mean + k·sd (--alarm-k).', { exclusiveMinimum: 0 }),
        quantile: num('chunks: upper quantile instead of mean + k·sd; 0 = off (--alarm-quantile).', { minimum: 0, exclusiveMaximum: 1 }),
        chunkSize: int('chunks: rows per reference chunk; 0 = the window size (--alarm-chunk-size).', { minimum: 0 }),
        chunkPeriod: { type: 'string', description: 'chunks: time chunks, e.g. 1d; "" = off (--alarm-chunk-period).', pattern: '^$|^([0-9]+(ms|s|m|h|d|w))+$' },
        resamples: int('Bootstrap/permutation resamples (--alarm-resamples).', { minimum: 10 }),
        seed: int('Resampling seed (--alarm-seed).', { minimum: 0 }),
      }, { description: 'How drift verdicts are decided (docs/drift.md, Alarm modes).' }),
      reportStatus: bool('Write the ModelMonitor status and Events.'),
      extraArgs: argList, extraEnv: envList, resources, serviceAccount: sa,
      ...scheduling,
    }),
    modelMonitor: obj({ enabled: bool('Create the ModelMonitor.'), spec: anyObj('Extra ModelMonitor spec fields (operator mode; the CRD validates them).') }),
    operator: obj({
      enabled: bool('Deploy sentinel operator.'),
      replicaCount: int('Replicas (leader election makes more than one safe).', { minimum: 0 }),
      rbacScope: str('ClusterRole (cluster) or a Role per watched namespace (namespace).', { enum: ['cluster', 'namespace'] }),
      watchNamespaces: list('Namespaces watched with rbacScope namespace.', { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
      port: port('Metrics port.'),
      workers: int('Parallel reconciles.', { minimum: 1, maximum: 64 }),
      resync: duration('Resync period.'),
      leaderElection: obj({ enabled: bool('Campaign for the Lease.'), leaseDuration: duration('Lease duration.'), renewDeadline: duration('Renew deadline.'), retryPeriod: duration('Retry period.') }),
      extraArgs: argList, extraEnv: envList, resources,
      livenessProbe: probe, readinessProbe: probe, serviceAccount: sa,
      ...scheduling,
      topologySpreadConstraints: list('Topology spread constraints.'),
      podAntiAffinityPreset: str('Anti-affinity preset.', { enum: ['', 'soft', 'hard'] }),
    }),
    serviceMonitor: obj({
      enabled: bool('Create a ServiceMonitor.'),
      additionalLabels: { type: 'object', additionalProperties: { type: 'string' } },
      interval: duration('Scrape interval.'), scrapeTimeout: duration('Scrape timeout.'),
      relabelings: list('Relabelings.'), metricRelabelings: list('Metric relabelings.'),
    }),
    prometheusRule: obj({
      enabled: bool('Create the PrometheusRule.'),
      additionalLabels: { type: 'object', additionalProperties: { type: 'string' } },
      alertLabels: { type: 'object', additionalProperties: { type: 'string' } },
      runbookUrl: str('Runbook URL.', { pattern: '^https?://' }),
      metricSelector: str('PromQL label matchers.'),
      alerts: obj({
        SentinelDriftScoreHigh: alert({}),
        SentinelDatasetDrift: alert({}),
        SentinelFeatureDrift: alert({}),
        SentinelModelPerformanceDrop: alert({ metrics: str('Metric name regex.', { minLength: 1 }), maxDrop: positive('Largest tolerated drop.'), minLabelled: int('Minimum labelled predictions.', { minimum: 1 }) }),
        SentinelEstimatedPerformanceDrop: alert({}),
        SentinelDriftJobStale: alert({ periods: int('Schedule periods.', { minimum: 1 }) }),
        SentinelDriftRunsFailing: alert({ periods: int('Schedule periods.', { minimum: 1 }) }),
        SentinelInferenceErrorRate: alert({ threshold: ratio('Error ratio.'), window: duration('Rate window.') }),
        SentinelInferenceLatencyHigh: alert({ quantile: ratio('Quantile.'), thresholdSeconds: positive('Seconds.'), window: duration('Rate window.') }),
        SentinelPredictionLogWriteFailures: alert({ window: duration('Look-back window.') }),
      }),
    }),
    dashboards: obj({
      enabled: bool('Create dashboard ConfigMaps.'),
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      folder: str('Grafana folder.'),
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
      namespace: str('ConfigMap namespace.'),
    }),
    networkPolicy: obj({
      enabled: bool('Create NetworkPolicies.'),
      inferenceFrom: list('Peers allowed to call the API.'),
      reportsFrom: list('Peers allowed to read reports.'),
      metricsFrom: list('Peers allowed to scrape.'),
      apiServer: obj({ cidrs: list('API server CIDRs.', { type: 'string', pattern: '^[0-9a-fA-F:.]+/[0-9]+$' }), ports: list('API server ports.', { type: 'integer', minimum: 1, maximum: 65535 }) }),
    }),
  }),
};

const schema = { ...schema0, properties: { global: { type: 'object', description: 'Values shared with a parent chart (when used as a subchart).' }, ...schema0.properties } };
writeFileSync(process.argv[2], JSON.stringify(schema, null, 2) + '\n');
