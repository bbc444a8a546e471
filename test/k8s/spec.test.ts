// The ModelMonitor spec: validation (every problem named by field), defaults that reproduce the
// chart's former drift CronJob, the run options a spec describes, and the generated CRD file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cronProblem, driftOptionsFromSpec, parseMonitorRef, PVALUE_STATTESTS, STATTEST_NAMES, validateMonitorSpec, type ModelMonitorSpec } from '../../src/services/k8s/spec.ts';
import { listStatTests } from '../../src/stats/index.ts';
import { renderCrdYaml } from '../../scripts/generate-crd.ts';

const VALID: ModelMonitorSpec = { predictionLog: { claimName: 'rel-sentinelml-data' } };
const fields = (spec: ModelMonitorSpec) => validateMonitorSpec(spec).map((p) => p.field);

test('the minimal spec (a claim) is valid; defaults give the chart\'s former drift CronJob arguments', () => {
  assert.deepEqual(validateMonitorSpec(VALID), []);
  assert.deepEqual(driftOptionsFromSpec(VALID), {
    reference: '/app/data/reference.csv', current: '/data/live', out: '/data/reports', modelCard: '/app/models/model.json',
    perColumnStattest: {}, perColumnThreshold: {}, workers: 1,
  });
});

test('without a claim the spec is invalid (the operator reports it; the CRD keeps old objects valid)', () => {
  assert.deepEqual(fields({}), ['spec.predictionLog.claimName']);
});

test('cron: shapes and ranges the CronJob controller accepts', () => {
  for (const ok of ['0 * * * *', '*/5 * * * *', '0 2 * * 1-5', '15,45 9-17 * jan-jun mon', '@hourly', '@daily', '0 0 1 */2 *', '0 0 ? * 7']) assert.equal(cronProblem(ok), null, ok);
  const cases: [string, RegExp][] = [
    ['75 * * * *', /minute field "75" is out of range 0-59/],
    ['0 24 * * *', /hour field "24" is out of range 0-23/],
    ['0 0 0 * *', /day of month field "0" is out of range 1-31/],
    ['0 0 * 13 *', /month field "13" is out of range 1-12/],
    ['0 0 * * 8', /day of week field "8" is out of range 0-7/],
    ['hourly', /5 fields/],
    ['* * * *', /5 fields/],
    ['@every 5m', /unknown macro/],
    ['*/0 * * * *', /malformed/],
    ['5-1 * * * *', /out of range/],
    ['TZ=UTC 0 * * * *', /spec.timeZone/],
  ];
  for (const [schedule, why] of cases) assert.match(cronProblem(schedule) ?? 'accepted', why, schedule);
});

test('every field problem is reported at once, each naming its field', () => {
  const spec = {
    schedule: '0 25 * * *',
    timeZone: 'Mars/Olympus_Mons',
    since: 'yesterday',
    modelCard: 'models/model.json',
    reference: '/data/../etc/passwd',
    referenceConfigMap: { name: 'ref' },
    predictionLog: { claimName: 'Data_Claim', path: '/live' },
    reportsPath: '../reports',
    drift: { stattest: 'kstest', driftShare: 0, columns: [{ name: 'age', stattest: 'ks', threshold: 2 }, { name: 'age', threshold: 0.1 }, { name: 'x' }] },
    driftScoreThreshold: -1,
    keepLast: 1.5,
    successfulJobsHistoryLimit: 101,
    resources: { limits: { memory: 'lots' } },
  } as unknown as ModelMonitorSpec;
  assert.deepEqual(fields(spec).sort(), [
    'spec.drift.columns[0].threshold', 'spec.drift.columns[1].name', 'spec.drift.columns[2]',
    'spec.drift.driftShare', 'spec.drift.stattest', 'spec.driftScoreThreshold', 'spec.keepLast', 'spec.modelCard',
    'spec.predictionLog.claimName', 'spec.predictionLog.path', 'spec.reference', 'spec.referenceConfigMap', 'spec.reportsPath',
    'spec.resources.limits.memory', 'spec.schedule', 'spec.since', 'spec.successfulJobsHistoryLimit', 'spec.timeZone',
  ]);
  const byField = Object.fromEntries(validateMonitorSpec(spec).map((p) => [p.field, p.message]));
  assert.match(byField['spec.drift.columns[0].threshold'], /ks compares a p-value: the threshold must be in \[0, 1\]/);
  assert.match(byField['spec.drift.stattest'], /unknown stattest "kstest" \(known: .*wasserstein/);
  assert.match(byField['spec.schedule'], /hour field "25" is out of range/);
});

test('model volume: one source (ConfigMap or claim), an absolute mount path clear of the job\'s own mounts', () => {
  assert.deepEqual(validateMonitorSpec({ ...VALID, modelVolume: { mountPath: '/models/wine', configMap: 'wine-model' } }), []);
  assert.deepEqual(fields({ ...VALID, modelVolume: { mountPath: '/models', configMap: 'a', claimName: 'b' } }), ['spec.modelVolume']);
  assert.deepEqual(fields({ ...VALID, modelVolume: { mountPath: '/models' } }), ['spec.modelVolume']);
  for (const bad of ['/data', '/data/models', '/tmp', '/', 'models', '/reference/x']) {
    assert.deepEqual(fields({ ...VALID, modelVolume: { mountPath: bad, configMap: 'a' } }), ['spec.modelVolume.mountPath'], bad);
  }
});

test('alarm modes: the drift layer\'s own validation names the problem; the run gets its options', () => {
  assert.deepEqual(fields({ ...VALID, drift: { alarms: { mode: 'bh', alpha: 0.01 } } }), []);
  const bad = validateMonitorSpec({ ...VALID, drift: { alarms: { mode: 'chunks', alpha: 1 } } });
  assert.deepEqual(bad.map((p) => p.field), ['spec.drift.alarms']);
  assert.match(bad[0].message, /alarm alpha must be in \(0, 1\)/);
  assert.deepEqual(driftOptionsFromSpec({ ...VALID, drift: { alarms: { mode: 'chunks', columnModes: { age: 'bh' }, k: 2 } } }).alarm, { mode: 'chunks', perColumnMode: { age: 'bh' }, k: 2 });
});

test('stattest names and p-value tests come from the stats registry', () => {
  assert.deepEqual([...STATTEST_NAMES], listStatTests().map((t) => t.name));
  for (const n of ['ks', 'chisquare', 'z']) assert.ok(PVALUE_STATTESTS.includes(n), n);
  for (const n of ['wasserstein', 'psi', 'jensenshannon']) assert.ok(!PVALUE_STATTESTS.includes(n), n);
  // A distance threshold above 1 is fine (e.g. PSI).
  assert.deepEqual(validateMonitorSpec({ ...VALID, drift: { columns: [{ name: 'age', stattest: 'psi', threshold: 1.5 }] } }), []);
});

test('the spec decides every run option; paths on the volume follow --data-root, a ConfigMap reference --reference-root', () => {
  const spec: ModelMonitorSpec = {
    predictionLog: { claimName: 'c', path: 'models/churn/live' }, reportsPath: 'models/churn/reports', since: '24h',
    modelCard: '/data/models/churn/model.json', referenceConfigMap: { name: 'churn-ref', key: 'ref.csv' },
    drift: { stattest: 'psi', threshold: 0.2, driftShare: 0.3, compat: false, onlyColumns: ['age', 'tenure'], columns: [{ name: 'age', stattest: 'ks' }, { name: 'tenure', threshold: 0.05 }] },
    keepLast: 10, workers: 2,
  };
  assert.deepEqual(validateMonitorSpec(spec), []);
  assert.deepEqual(driftOptionsFromSpec(spec, { dataRoot: '/tmp/vol', referenceRoot: '/tmp/ref' }), {
    reference: '/tmp/ref/ref.csv', current: '/tmp/vol/models/churn/live', out: '/tmp/vol/models/churn/reports', modelCard: '/tmp/vol/models/churn/model.json',
    since: '24h', stattest: 'psi', threshold: 0.2, perColumnStattest: { age: 'ks' }, perColumnThreshold: { tenure: 0.05 }, driftShare: 0.3,
    compat: false, columns: ['age', 'tenure'], workers: 2, keepLast: 10,
  });
  // compat given is passed on; unset stays unset, so calibrated alarm modes get the corrected tests
  assert.equal(driftOptionsFromSpec({ ...VALID, drift: { compat: true } }).compat, true);
  assert.equal('compat' in driftOptionsFromSpec(VALID), false);
  // A reference path in the image stays where it is.
  assert.equal(driftOptionsFromSpec({ ...VALID, reference: '/app/data/other.csv' }, { dataRoot: '/x' }).reference, '/app/data/other.csv');
  assert.equal(driftOptionsFromSpec({ ...VALID, reference: '/data/ref/a.csv' }, { dataRoot: '/x' }).reference, '/x/ref/a.csv');
});

test('--monitor NAMESPACE/NAME', () => {
  assert.deepEqual(parseMonitorRef('ml/churn-model'), { namespace: 'ml', name: 'churn-model' });
  for (const bad of ['churn', 'ml/', '/x', 'ML/x', 'a/b/c']) assert.throws(() => parseMonitorRef(bad), /--monitor takes NAMESPACE\/NAME/, bad);
});

test('charts/sentinelml/crds is what scripts/generate-crd.ts writes', () => {
  const committed = readFileSync(join(import.meta.dirname, '../../charts/sentinelml/crds/modelmonitors.sentinelml.io.yaml'), 'utf8');
  assert.equal(committed, renderCrdYaml(), 'stale CRD: run node scripts/generate-crd.ts');
  for (const n of STATTEST_NAMES) assert.ok(committed.includes(`- ${n}\n`), `stattest ${n} in the CRD enum`);
});

test('one module owns the Kubernetes client: only src/services/k8s/client.ts imports @kubernetes/client-node; the CLI loads src/services/k8s lazily', async () => {
  const { readdirSync } = await import('node:fs');
  const src = join(import.meta.dirname, '../../src');
  const files = readdirSync(src, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  const importers = files.filter((f) => /from '@kubernetes\/client-node'/.test(readFileSync(join(src, f), 'utf8')));
  assert.deepEqual(importers, ['services/k8s/client.ts']);
  // Pure modules stay pure: the spec, the CRD, the CronJob builder and the work queue import no client.
  for (const f of ['services/k8s/spec.ts', 'services/k8s/crd.ts', 'services/k8s/cronjob.ts', 'services/k8s/workqueue.ts']) assert.doesNotMatch(readFileSync(join(src, f), 'utf8'), /^import .*(client\.ts|client-node)/m, f);
  // Commands import src/k8s modules that talk to the API only with import() (sentinel serve never loads the client).
  for (const f of files.filter((x) => x.startsWith('cli/'))) {
    assert.doesNotMatch(readFileSync(join(src, f), 'utf8'), /^import .* from '\.\.\/services\/k8s\/(client|status|operator|leader|events)\.ts'/m, f);
  }
});
