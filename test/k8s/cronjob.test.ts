// The drift CronJob a ModelMonitor describes, and the drift check that undoes hand edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronJobDrift, cronJobName, desiredCronJob, driftedFields, quantityValue, withoutNulls } from '../../src/services/k8s/cronjob.ts';
import type { ModelMonitor } from '../../src/services/k8s/spec.ts';

const JOB = { image: 'ghcr.io/sentinelml/sentinelml:0.1.0', serviceAccountName: 'rel-sentinelml-drift' };
const monitor = (spec: ModelMonitor['spec'] = {}, name = 'rel-sentinelml'): ModelMonitor => ({
  metadata: { name, namespace: 'ml', uid: 'uid-1', generation: 1, labels: { 'app.kubernetes.io/instance': 'rel' } },
  spec: { predictionLog: { claimName: 'rel-sentinelml-data' }, ...spec },
});

test('defaults: the chart\'s former CronJob (schedule, Forbid, deadlines, history, volume, restricted pod) running --monitor', () => {
  const cj = desiredCronJob(monitor(), JOB);
  assert.equal(cj.metadata.name, 'rel-sentinelml-drift');
  assert.deepEqual(cj.metadata.ownerReferences, [{ apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', name: 'rel-sentinelml', uid: 'uid-1', controller: true }]);
  assert.equal(cj.metadata.labels['app.kubernetes.io/instance'], 'rel', 'inherited, so the chart\'s NetworkPolicy selects the pods');
  assert.equal(cj.metadata.labels['app.kubernetes.io/component'], 'drift');
  const s = cj.spec;
  assert.deepEqual([s.schedule, s.suspend, s.concurrencyPolicy, s.startingDeadlineSeconds, s.successfulJobsHistoryLimit, s.failedJobsHistoryLimit], ['0 * * * *', false, 'Forbid', 300, 3, 3]);
  assert.deepEqual([s.jobTemplate.spec.activeDeadlineSeconds, s.jobTemplate.spec.backoffLimit], [1800, 1]);
  const pod = s.jobTemplate.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'rel-sentinelml-drift');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const c = pod.containers[0];
  assert.deepEqual(c.args, ['drift', '--monitor=ml/rel-sentinelml', '--quiet']);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(pod.volumes[0], { name: 'data', persistentVolumeClaim: { claimName: 'rel-sentinelml-data' } });
  assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath), ['/data', '/tmp']);
});

test('the spec shapes the CronJob: schedule, time zone, suspend, history, resources, ServiceAccount, reference ConfigMap', () => {
  const cj = desiredCronJob(monitor({
    schedule: '*/10 * * * *', timeZone: 'Europe/Berlin', suspend: true, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5,
    resources: { limits: { cpu: '2', memory: '2Gi' } }, serviceAccountName: 'churn-drift', referenceConfigMap: { name: 'churn-ref' },
  }), JOB);
  assert.deepEqual([cj.spec.schedule, cj.spec.timeZone, cj.spec.suspend, cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit], ['*/10 * * * *', 'Europe/Berlin', true, 1, 5]);
  const pod = cj.spec.jobTemplate.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'churn-drift');
  assert.deepEqual(pod.containers[0].resources, { limits: { cpu: '2', memory: '2Gi' } });
  assert.deepEqual(pod.volumes[2], { name: 'reference', configMap: { name: 'churn-ref', items: [{ key: 'reference.csv', path: 'reference.csv' }] } });
  assert.deepEqual(pod.containers[0].volumeMounts[2], { name: 'reference', mountPath: '/reference', readOnly: true });
});

test('names: <monitor>-drift within 52 characters, distinct for long names sharing a prefix', () => {
  assert.equal(cronJobName('churn'), 'churn-drift');
  const a = cronJobName('a'.repeat(60) + '-one');
  const b = cronJobName('a'.repeat(60) + '-two');
  assert.ok(a.length <= 52 && b.length <= 52, `${a} ${b}`);
  assert.notEqual(a, b);
  assert.match(a, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});

test('drift check: server defaults are ignored; hand edits, removed optional fields, lost labels and owners are found', () => {
  const desired = desiredCronJob(monitor(), JOB);
  // What the API server returns: our fields plus defaults.
  const actual = structuredClone(withoutNulls(desired));
  actual.spec.jobTemplate.spec.template.spec.dnsPolicy = 'ClusterFirst';
  actual.spec.jobTemplate.spec.template.spec.containers[0].terminationMessagePath = '/dev/termination-log';
  actual.metadata.labels.extra = 'kept';
  assert.deepEqual(cronJobDrift(desired, actual), []);
  const edited = structuredClone(actual);
  edited.spec.schedule = '* * * * *';
  edited.spec.jobTemplate.spec.template.spec.containers[0].args = ['drift', '--reference=/x.csv'];
  edited.spec.timeZone = 'Asia/Tokyo';
  delete edited.metadata.labels['app.kubernetes.io/managed-by'];
  edited.metadata.ownerReferences = [];
  assert.deepEqual(cronJobDrift(desired, edited).sort(), [
    'metadata.labels.app.kubernetes.io/managed-by', 'metadata.ownerReferences', 'spec.jobTemplate.spec.template.spec.containers[0].args',
    'spec.schedule', 'spec.timeZone',
  ].sort());
  assert.deepEqual(driftedFields({ a: [1, 2] }, { a: [1, 2, 3] }), ['a']);
  assert.deepEqual(driftedFields({ n: 3 }, { n: '3' }), []);
});

test('quantities compare by value (the API server stores them canonically), elsewhere strings are strings', () => {
  const at = 'spec.jobTemplate.spec.template.spec.containers[0].resources.limits';
  assert.deepEqual(driftedFields({ cpu: '1000m', memory: '0.5Gi', storage: 2 }, { cpu: '1', memory: '512Mi', storage: '2' }, at), []);
  assert.deepEqual(driftedFields({ cpu: '1500m' }, { cpu: '1' }, at), [`${at}.cpu`]);
  assert.deepEqual(driftedFields({ schedule: '1000m' }, { schedule: '1' }, 'spec'), ['spec.schedule']);
  assert.deepEqual(['250m', '1Gi', '1e3', '64Mi', 2, 'lots'].map(quantityValue), [0.25, 2 ** 30, 1000, 64 * 2 ** 20, 2, null]);
});

test('a model volume (ConfigMap or claim) is mounted read-only where the spec\'s card and reference point', () => {
  const cm = desiredCronJob(monitor({ modelVolume: { mountPath: '/models/wine', configMap: 'wine-model' } }), JOB).spec.jobTemplate.spec.template.spec;
  assert.deepEqual(cm.volumes.find((v: any) => v.name === 'model'), { name: 'model', configMap: { name: 'wine-model' } });
  assert.deepEqual(cm.containers[0].volumeMounts.find((m: any) => m.name === 'model'), { name: 'model', mountPath: '/models/wine', readOnly: true });
  const pvc = desiredCronJob(monitor({ modelVolume: { mountPath: '/models', claimName: 'models' } }), JOB).spec.jobTemplate.spec.template.spec;
  assert.deepEqual(pvc.volumes.find((v: any) => v.name === 'model'), { name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
});
