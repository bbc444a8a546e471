// @needs-tools: helm, kubeconform, kube-score
// The Helm chart, checked with the real tools: helm lint --strict, helm template over every
// ci/*-values.yaml scenario, kubeconform -strict against Kubernetes, prometheus-operator and our CRD
// schemas, kube-score (exceptions justified in kube-score-exceptions.json), values.schema.json
// rejecting bad values, what the rendered objects promise (security, RBAC, volume, alerts,
// dashboards), manifests/ being current and skaffold.yaml being valid.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { parseDriftArgs } from '../../src/cli/drift.ts';
import { CHART, REPO, ciValuesFiles, find, helmTemplateArgs, kubeconform, render, renderText, run, schemaLocations, tool, type K8sObject } from './support/helm.ts';

const scenarios = ciValuesFiles();
const ciPath = (f: string) => join(CHART, 'ci', f);

/** Pod specs of every workload (Deployments, CronJob job templates). */
function podSpecs(objs: K8sObject[]): { owner: string; spec: any }[] {
  const out: { owner: string; spec: any }[] = [];
  for (const o of objs) {
    if (o.kind === 'Deployment') out.push({ owner: `Deployment/${o.metadata.name}`, spec: o.spec.template.spec });
    if (o.kind === 'CronJob') out.push({ owner: `CronJob/${o.metadata.name}`, spec: o.spec.jobTemplate.spec.template.spec });
  }
  return out;
}

test('at least five ci scenarios exist', () => {
  assert.ok(scenarios.length >= 5, scenarios.join(', '));
  for (const name of ['default-values.yaml', 'rwo-single-node-values.yaml', 'existing-claim-values.yaml', 'everything-off-values.yaml', 'hpa-networkpolicy-values.yaml']) {
    assert.ok(scenarios.includes(name), `missing ci/${name}`);
  }
});

describe('helm lint --strict', () => {
  for (const f of scenarios) {
    test(f, () => {
      const r = run(tool('helm'), ['lint', '--strict', CHART, '--kube-version', '1.35.4', '-f', ciPath(f)]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    });
  }
});

describe('kubeconform -strict: every rendered object valid (Kubernetes 1.35, prometheus-operator, ModelMonitor CRD)', () => {
  const locations = schemaLocations();
  for (const f of scenarios) {
    test(f, () => {
      const text = renderText({ valuesFiles: [ciPath(f)], includeCrds: true });
      const { resources, stderr } = kubeconform(text, locations);
      const kinds = new Set(resources.map((r) => r.kind));
      assert.ok(resources.length >= 5, `only ${resources.length} resources: ${stderr}`);
      const bad = resources.filter((r) => r.status !== 'statusValid');
      assert.deepEqual(bad, [], `invalid or skipped resources in ${f}`);
      assert.ok(kinds.has('CustomResourceDefinition') && kinds.has('Deployment'), [...kinds].join(','));
    });
  }

  test('the schemas are strict: misspelled or mistyped fields are rejected', () => {
    const text = renderText({ set: { 'operator.enabled': 'false' } })
      .replace('revisionHistoryLimit: 3', 'revisionHistoryLimitt: 3')
      .replace('scrapeTimeout: 10s', 'scrapeTimeoutt: 10s')
      .replace('driftScoreThreshold: 0.1', 'driftScoreThreshold: "high"')
      .replace('concurrencyPolicy: Forbid', 'concurrencyPolicy: Forbid\n  concurrency: 1');
    const { resources } = kubeconform(text, locations);
    const invalid = resources.filter((r) => r.status === 'statusInvalid').map((r) => r.kind).sort();
    assert.deepEqual(invalid, ['CronJob', 'Deployment', 'ModelMonitor', 'ServiceMonitor']);
  });

  test('manifests/ are valid too', () => {
    const text = readdirSync(join(REPO, 'manifests')).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(REPO, 'manifests', f), 'utf8')).join('\n---\n');
    const { resources } = kubeconform(text, locations);
    assert.ok(resources.length > 10);
    assert.deepEqual(resources.filter((r) => r.status !== 'statusValid'), []);
  });
});

describe('kube-score: no CRITICAL or WARNING beyond the justified exceptions', () => {
  const exceptions = JSON.parse(readFileSync(join(REPO, 'test/chart/kube-score-exceptions.json'), 'utf8')) as {
    always: Record<string, string>;
    when: { if: Record<string, unknown>; checks: Record<string, string> }[];
  };
  for (const f of scenarios) {
    test(f, () => {
      const text = renderText({ valuesFiles: [ciPath(f)] });
      const objs = render({ valuesFiles: [ciPath(f)] });
      const facts: Record<string, unknown> = {
        'networkPolicy.enabled': objs.some((o) => o.kind === 'NetworkPolicy'),
        replicas: objs.some((o) => o.kind === 'Deployment' && o.spec.replicas === 1) ? 1 : 2,
        'persistence.accessMode': objs.find((o) => o.kind === 'PersistentVolumeClaim')?.spec.accessModes[0],
        'operator.enabled': objs.some((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'operator'),
      };
      const allowed = new Set(Object.keys(exceptions.always));
      for (const w of exceptions.when) {
        if (Object.entries(w.if).every(([k, v]) => facts[k] === v)) for (const c of Object.keys(w.checks)) allowed.add(c);
      }
      const r = run(tool('kube-score'), ['score', '--output-format', 'json', '-'], { input: text });
      const report = JSON.parse(r.stdout) as { object_name: string; checks: { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string }[] }[] }[];
      assert.ok(report.length >= 3);
      const findings = report.flatMap((o) =>
        o.checks.filter((c) => !c.skipped && c.grade < 10 && !allowed.has(c.check.id)).map((c) => `${o.object_name}: ${c.check.id} (${c.comments.map((x) => x.summary).join('; ')})`),
      );
      assert.deepEqual(findings, []);
    });
  }
  test('every exception carries a reason', () => {
    for (const [id, why] of [...Object.entries(exceptions.always), ...exceptions.when.flatMap((w) => Object.entries(w.checks))]) {
      assert.ok(why.length > 40, `exception ${id} needs a justification`);
    }
  });
});

describe('values.schema.json rejects bad values', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown top-level key', ['--set', 'replicas=2'], /additional properties 'replicas' not allowed/],
    ['misspelled nested key', ['--set', 'inference.replicaCont=2'], /additional properties 'replicaCont' not allowed/],
    ['negative replicas', ['--set', 'inference.replicaCount=-1'], /replicaCount/],
    ['access mode not RWX/RWO', ['--set', 'persistence.accessMode=ReadWriteOncePod'], /accessMode/],
    ['threshold not a number', ['--set-string', 'monitoring.driftScoreThreshold=high'], /driftScoreThreshold/],
    ['zero threshold', ['--set', 'monitoring.driftScoreThreshold=0'], /driftScoreThreshold/],
    ['bad severity', ['--set', 'prometheusRule.alerts.SentinelDriftScoreHigh.severity=page'], /severity/],
    ['bad duration', ['--set', 'prometheusRule.alerts.SentinelDriftScoreHigh.for=5 minutes'], /for/],
    ['root user', ['--set', 'podSecurityContext.runAsNonRoot=false'], /runAsNonRoot/],
    ['privilege escalation', ['--set', 'containerSecurityContext.allowPrivilegeEscalation=true'], /allowPrivilegeEscalation/],
    ['bad pull policy', ['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
    ['bad digest', ['--set', 'image.digest=latest'], /digest/],
    ['port out of range', ['--set', 'inference.port=70000'], /port/],
    ['relative reference path', ['--set', 'drift.referencePath=data/reference.csv'], /referencePath/],
    ['error-rate threshold above 1', ['--set', 'prometheusRule.alerts.SentinelInferenceErrorRate.threshold=5'], /threshold/],
    ['bad cron', ['--set', 'drift.schedule=hourly'], /schedule/],
    ['unknown alarm mode', ['--set', 'drift.alarms.mode=strict'], /mode/],
    ['alarm alpha not in (0, 1)', ['--set', 'drift.alarms.alpha=1'], /alpha/],
    ['unknown operator RBAC scope', ['--set', 'operator.rbacScope=global'], /rbacScope/],
    ['bad lease duration', ['--set', 'operator.leaderElection.leaseDuration=15 seconds'], /leaseDuration/],
    ['bad watched namespace', ['--set', 'operator.watchNamespaces[0]=Team_A'], /watchNamespaces/],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = run(tool('helm'), [...helmTemplateArgs(), ...args]);
      assert.notEqual(r.status, 0, `accepted: ${args.join(' ')}`);
      assert.match(r.stderr, message);
    });
  }
  test('cross-value checks fail with a clear message', () => {
    const hpa = run(tool('helm'), [...helmTemplateArgs(), '--set', 'inference.autoscaling.enabled=true,inference.autoscaling.minReplicas=5,inference.autoscaling.maxReplicas=2']);
    assert.notEqual(hpa.status, 0);
    assert.match(hpa.stderr, /minReplicas \(5\) must not exceed maxReplicas \(2\)/);
    const cron = run(tool('helm'), [...helmTemplateArgs(), '--set', 'drift.schedule=0 2 * * 1-5']);
    assert.notEqual(cron.status, 0);
    assert.match(cron.stderr, /set drift.schedulePeriodSeconds/);
  });
  test('values.schema.json is what values.schema.mjs generates', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sentinelml-schema-')), 'values.schema.json');
    const r = run(process.execPath, [join(CHART, 'values.schema.mjs'), out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(CHART, 'values.schema.json'), 'utf8'), readFileSync(out, 'utf8'), 'run: node charts/sentinelml/values.schema.mjs charts/sentinelml/values.schema.json');
  });
  test('the defaults and every scenario pass the schema (draft-07, checked with ajv too)', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const defaults = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    assert.ok(validate(defaults), JSON.stringify(validate.errors));
    for (const f of scenarios) {
      const v = parseYaml(readFileSync(ciPath(f), 'utf8')) ?? {};
      // Scenario files are partial: each key they set must be valid where it sits (checked by helm
      // lint/template above); here only that they do not invent top-level keys.
      for (const k of Object.keys(v)) assert.ok(k in schema.properties, `${f}: unknown key ${k}`);
    }
  });
});

describe('rendered objects keep their promises', () => {
  const objs = render({});
  // Operator-less mode: the chart renders the drift CronJob itself.
  const plain = render({ set: { 'operator.enabled': 'false' } });

  test('restricted security context everywhere, writable /tmp only as an emptyDir, one fsGroup', () => {
    const pods = podSpecs(objs);
    assert.equal(pods.length, 3);
    const fsGroups = new Set<number>();
    for (const { owner, spec } of pods) {
      assert.equal(spec.securityContext.runAsNonRoot, true, owner);
      assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault', owner);
      fsGroups.add(spec.securityContext.fsGroup);
      for (const c of spec.containers) {
        const sc = c.securityContext;
        assert.equal(sc.allowPrivilegeEscalation, false, owner);
        assert.equal(sc.readOnlyRootFilesystem, true, owner);
        assert.equal(sc.runAsNonRoot, true, owner);
        assert.deepEqual(sc.capabilities.drop, ['ALL'], owner);
        assert.equal(sc.seccompProfile.type, 'RuntimeDefault', owner);
        assert.ok(c.resources.requests.cpu && c.resources.limits.memory, owner);
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        assert.ok(tmp, `${owner}: /tmp mount`);
        assert.ok(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir, `${owner}: /tmp is an emptyDir`);
      }
    }
    assert.equal(fsGroups.size, 1);
  });

  test('one image with the sentinel entrypoint, each workload its subcommand', () => {
    const args = podSpecs(objs).map(({ spec }) => spec.containers[0].args);
    assert.deepEqual(args.map((a) => a[0]).sort(), ['operator', 'reports', 'serve']);
    assert.equal(new Set(podSpecs(objs).map(({ spec }) => spec.containers[0].image)).size, 1);
    const operator = args.find((a) => a[0] === 'operator');
    assert.ok(operator.includes(`--job-image=${podSpecs(objs)[0].spec.containers[0].image}`), 'the drift jobs run the same image');
    assert.ok(operator.includes('--job-service-account=rel-sentinelml-drift') && operator.includes('--lease-name=rel-sentinelml-operator'));
    const plainArgs = podSpecs(plain).map(({ spec }) => spec.containers[0].args);
    assert.deepEqual(plainArgs.map((a) => a[0]).sort(), ['drift', 'reports', 'serve']);
    const drift = plainArgs.find((a) => a[0] === 'drift');
    assert.deepEqual(drift, ['drift', '--reference=/app/data/reference.csv', '--current=/data/live', '--out=/data/reports', '--model-card=/app/models/model.json', '--workers=1', '--keep-last=500']);
    const serve = args.find((a) => a[0] === 'serve');
    assert.ok(serve.includes('--log-dir=/data/live') && serve.includes('--host=0.0.0.0'));
    assert.ok(serve.includes('--workers=1'), 'one process per pod by default (replicas scale)');
    const reports = args.find((a) => a[0] === 'reports');
    assert.ok(reports.includes('--dir=/data/reports') && reports.includes('--host=0.0.0.0'));
  });

  test('inference probes /healthz and /readyz; report server mounts the shared volume read-only', () => {
    const inf = find(objs, 'Deployment', '-inference').spec.template.spec;
    assert.equal(inf.containers[0].livenessProbe.httpGet.path, '/healthz');
    assert.equal(inf.containers[0].readinessProbe.httpGet.path, '/readyz');
    const rep = find(objs, 'Deployment', '-reports').spec.template.spec;
    assert.equal(rep.containers[0].volumeMounts.find((m: any) => m.name === 'data').readOnly, true);
    // read-only in the container, not at the volume: a read-only volume gets no fsGroup (and a local PV
    // only on its first mount), which left the volume unwritable on a real node (test/kube/node.test.ts)
    for (const { spec } of podSpecs(objs)) {
      const data = spec.volumes?.find((v: any) => v.name === 'data');
      if (data) assert.equal(data.persistentVolumeClaim.readOnly, undefined);
    }
    const claim = find(objs, 'PersistentVolumeClaim', '-data');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
    // Every pod but the operator's (an API client, no data) mounts the shared claim.
    const pods = podSpecs(objs);
    const mounting = pods.filter(({ spec }) => spec.volumes.some((v: any) => v.name === 'data'));
    assert.deepEqual(pods.filter((p) => !mounting.includes(p)).map((p) => p.owner), ['Deployment/rel-sentinelml-operator']);
    for (const { spec } of mounting) assert.equal(spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName, claim.metadata.name);
    assert.equal(find(objs, 'ModelMonitor').spec.predictionLog.claimName, claim.metadata.name, 'and so do the operator\'s drift jobs');
  });

  test('drift CronJob (operator-less mode): alarm-mode values become sentinel drift flags that the CLI accepts; operator mode: the spec', async () => {
    // a values file: helm --set reads 0.01 as a string
    const values = join(mkdtempSync(join(tmpdir(), 'sentinelml-alarms-')), 'values.yaml');
    writeFileSync(values, 'drift:\n  alarms:\n    mode: bh\n    columnModes: {age: bootstrap}\n    chunkSize: 500\n    chunkPeriod: 1d\n    alpha: 0.01\n');
    const cj = find(render({ valuesFiles: [values], set: { 'operator.enabled': 'false' } }), 'CronJob');
    const args: string[] = cj.spec.jobTemplate.spec.template.spec.containers[0].args;
    const alarm = args.filter((a) => a.includes('alarm'));
    assert.deepEqual(alarm, ['--alarm-mode=bh', '--column-alarm-mode=age=bootstrap', '--alarm-alpha=0.01', '--alarm-k=3', '--alarm-chunk-size=500', '--alarm-chunk-period=1d', '--alarm-resamples=500', '--alarm-seed=0']);
    const parsed = parseDriftArgs(args.slice(1));
    assert.ok(!parsed.help);
    if (!parsed.help) assert.deepEqual(parsed.options.alarm, { mode: 'bh', perColumnMode: { age: 'bootstrap' }, alpha: 0.01, k: 3, quantile: undefined, chunkSize: 500, chunkAgainst: undefined, chunkPeriod: '1d', resamples: 500, seed: 0 });
    // Operator mode: the same settings in the ModelMonitor's spec, which the run reads.
    const mm = find(render({ valuesFiles: [values] }), 'ModelMonitor');
    assert.deepEqual(mm.spec.drift.alarms, { mode: 'bh', columnModes: { age: 'bootstrap' }, alpha: 0.01, k: 3, chunkSize: 500, chunkPeriod: '1d', resamples: 500, seed: 0 });
    const { driftOptionsFromSpec, validateMonitorSpec } = await import('../../src/services/k8s/spec.ts');
    assert.deepEqual(validateMonitorSpec(mm.spec), []);
    assert.deepEqual(driftOptionsFromSpec(mm.spec).alarm, { mode: 'bh', perColumnMode: { age: 'bootstrap' }, alpha: 0.01, k: 3, chunkSize: 500, chunkPeriod: '1d', resamples: 500, seed: 0 });
    assert.equal(find(render({}), 'ModelMonitor').spec.drift, undefined, 'evidently mode: nothing in the spec');
  });

  test('operator mode: no chart CronJob; the ModelMonitor spec says what the former CronJob did', () => {
    assert.equal(objs.filter((o) => o.kind === 'CronJob').length, 0);
    const mm = find(objs, 'ModelMonitor');
    const cj = find(plain, 'CronJob');
    const job = cj.spec.jobTemplate.spec.template.spec;
    const arg = (name: string) => job.containers[0].args.find((a: string) => a.startsWith(`--${name}=`))?.split('=')[1];
    assert.equal(mm.spec.schedule, cj.spec.schedule);
    assert.equal(mm.spec.suspend, cj.spec.suspend);
    assert.equal(mm.spec.reference, arg('reference'));
    assert.equal(mm.spec.modelCard, arg('model-card'));
    assert.equal(`/data/${mm.spec.predictionLog.path}`, arg('current'));
    assert.equal(`/data/${mm.spec.reportsPath}`, arg('out'));
    assert.equal(String(mm.spec.workers), arg('workers'));
    assert.equal(String(mm.spec.keepLast), arg('keep-last'));
    assert.equal(mm.spec.predictionLog.claimName, job.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName);
    assert.equal(mm.spec.serviceAccountName, job.serviceAccountName);
    assert.deepEqual(mm.spec.resources, job.containers[0].resources);
    assert.deepEqual([mm.spec.successfulJobsHistoryLimit, mm.spec.failedJobsHistoryLimit], [cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit]);
    const dep = find(objs, 'Deployment', '-operator').spec.template.spec;
    assert.equal(dep.automountServiceAccountToken, true, 'the operator is an API client');
    assert.equal(dep.containers[0].readinessProbe.httpGet.path, '/readyz');
    const env = Object.fromEntries(dep.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    assert.deepEqual(env.SENTINEL_POD_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
    // The job template the operator applies to every drift pod: the chart's security context.
    const template = parseYaml(find(objs, 'ConfigMap', '-operator').data!['job-template.yaml']);
    assert.equal(template.pod.securityContext.runAsNonRoot, true);
    assert.equal(template.containerSecurityContext.readOnlyRootFilesystem, true);
    const drifted = render({ set: { 'drift.enabled': 'false' } });
    assert.equal(find(drifted, 'ModelMonitor').spec.suspend, true, 'drift.enabled=false suspends the operator\'s CronJob');
  });

  test('drift CronJob (operator-less mode): Forbid, deadlines, history limits, status env', () => {
    const cj = find(plain, 'CronJob');
    assert.equal(cj.spec.concurrencyPolicy, 'Forbid');
    assert.equal(cj.spec.startingDeadlineSeconds, 300);
    assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec.failedJobsHistoryLimit, 3);
    assert.equal(cj.spec.jobTemplate.spec.activeDeadlineSeconds, 1800);
    const pod = cj.spec.jobTemplate.spec.template.spec;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.automountServiceAccountToken, true);
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    assert.deepEqual(env.SENTINEL_MONITOR_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(env.SENTINEL_MONITOR_NAME, find(plain, 'ModelMonitor').metadata.name);
    assert.ok(cj.metadata.name.length <= 52);
  });

  test('least privilege (operator mode): the operator and the drift job have exactly these rights', () => {
    for (const sa of objs.filter((o) => o.kind === 'ServiceAccount')) assert.equal(sa.automountServiceAccountToken, false);
    for (const name of ['-inference', '-reports']) assert.equal(find(objs, 'Deployment', name).spec.template.spec.automountServiceAccountToken, false);
    const roles = objs.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').map((r) => `${r.kind}/${r.metadata.name}`).sort();
    assert.deepEqual(roles, ['ClusterRole/rel-sentinelml-operator', 'Role/rel-sentinelml-drift', 'Role/rel-sentinelml-leader-election']);
    assert.deepEqual(find(objs, 'Role', '-drift').rules, [
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors'], verbs: ['get'] },
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors/status'], verbs: ['patch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    assert.deepEqual(find(objs, 'ClusterRole', '-operator').rules, [
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors'], verbs: ['list', 'watch'] },
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors/status'], verbs: ['patch'] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
      { apiGroups: [''], resources: ['configmaps', 'persistentvolumeclaims'], verbs: ['get'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    assert.deepEqual(find(objs, 'Role', '-leader-election').rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['rel-sentinelml-operator'], verbs: ['get', 'update'] },
    ]);
    assert.deepEqual(find(objs, 'ClusterRoleBinding').subjects, [{ kind: 'ServiceAccount', name: 'rel-sentinelml-operator', namespace: 'ml' }]);
    // rbacScope namespace: a Role (same rules) per watched namespace, and --namespace flags.
    const scoped = render({ set: { 'operator.rbacScope': 'namespace', 'operator.watchNamespaces[0]': 'team-a', 'operator.watchNamespaces[1]': 'team-b' } });
    assert.ok(!scoped.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
    const opRoles = scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'rel-sentinelml-operator');
    assert.deepEqual(opRoles.map((r) => r.metadata.namespace), ['team-a', 'team-b']);
    assert.deepEqual(opRoles[0].rules, find(objs, 'ClusterRole', '-operator').rules);
    const args = find(scoped, 'Deployment', '-operator').spec.template.spec.containers[0].args;
    assert.deepEqual(args.filter((a: string) => a.startsWith('--namespace=')), ['--namespace=team-a', '--namespace=team-b']);
  });

  test('least privilege (operator-less mode): only the drift job has rights, exactly these', () => {
    const objs = plain;
    for (const sa of objs.filter((o) => o.kind === 'ServiceAccount')) assert.equal(sa.automountServiceAccountToken, false);
    for (const name of ['-inference', '-reports']) assert.equal(find(objs, 'Deployment', name).spec.template.spec.automountServiceAccountToken, false);
    const roles = objs.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    assert.equal(roles.length, 1);
    assert.equal(roles[0].kind, 'Role');
    assert.deepEqual(roles[0].rules, [
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors'], resourceNames: ['rel-sentinelml'], verbs: ['get'] },
      { apiGroups: ['sentinelml.io'], resources: ['modelmonitors/status'], resourceNames: ['rel-sentinelml'], verbs: ['patch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    const binding = find(objs, 'RoleBinding');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: find(objs, 'CronJob').spec.jobTemplate.spec.template.spec.serviceAccountName, namespace: 'ml' }]);
  });

  test('ModelMonitor CRD: v1alpha1, status subresource, printer columns', () => {
    const crd = parseYaml(readFileSync(join(CHART, 'crds/modelmonitors.sentinelml.io.yaml'), 'utf8'));
    const v = crd.spec.versions[0];
    assert.equal(crd.spec.group, 'sentinelml.io');
    assert.equal(v.name, 'v1alpha1');
    assert.deepEqual(v.subresources, { status: {} });
    assert.deepEqual(v.additionalPrinterColumns.map((c: any) => c.name), ['Ready', 'Verdict', 'Score', 'Drifted Share', 'Last Run', 'Age']);
    assert.equal(find(objs, 'ModelMonitor').spec.driftScoreThreshold, 0.1);
  });

  test('ServiceMonitor and PrometheusRule carry release: kube-prometheus-stack and select this release', () => {
    const sm = find(objs, 'ServiceMonitor', 'rel-sentinelml');
    const pr = find(objs, 'PrometheusRule');
    const opSm = find(objs, 'ServiceMonitor', '-operator');
    assert.equal(opSm.metadata.labels?.release, 'kube-prometheus-stack');
    assert.deepEqual(opSm.spec.selector.matchLabels, find(objs, 'Service', '-operator').spec.selector);
    assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
    assert.equal(pr.metadata.labels?.release, 'kube-prometheus-stack');
    for (const svc of objs.filter((o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/component'] !== 'operator')) {
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels?.[k], v);
      assert.ok(svc.spec.ports.some((p: any) => p.name === sm.spec.endpoints[0].port));
    }
    const alerts = pr.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    assert.deepEqual(alerts.sort(), [
      'SentinelDatasetDrift', 'SentinelDriftJobStale', 'SentinelDriftRunsFailing', 'SentinelDriftScoreHigh', 'SentinelEstimatedPerformanceDrop', 'SentinelFeatureDrift',
      'SentinelInferenceErrorRate', 'SentinelInferenceLatencyHigh', 'SentinelModelPerformanceDrop', 'SentinelPredictionLogWriteFailures',
    ]);
    for (const r of pr.spec.groups.flatMap((g: any) => g.rules)) {
      assert.ok(['critical', 'warning', 'info'].includes(r.labels.severity), r.alert);
      assert.ok(r.annotations.summary && r.annotations.description, r.alert);
      assert.equal(r.annotations.runbook_url, `https://github.com/sentinelml/sentinelml/blob/main/docs/runbook.md#${r.alert.toLowerCase()}`);
      assert.match(r.expr, /namespace="ml",job=~"rel-sentinelml-inference\|rel-sentinelml-reports"/, r.alert);
    }
    const high = pr.spec.groups[0].rules.find((r: any) => r.alert === 'SentinelDriftScoreHigh');
    assert.match(high.expr, /sentinelml_drift_score\{[^}]*\}\) > 0.1$/);
    assert.match(high.annotations.description, /\{\{ \$labels.namespace \}\}/);
  });

  test('every runbook anchor exists in docs/runbook.md', () => {
    const runbook = readFileSync(join(REPO, 'docs/runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const r of find(objs, 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules)) {
      assert.ok(anchors.has(r.annotations.runbook_url.split('#')[1]), `docs/runbook.md lacks a heading for ${r.alert}`);
    }
  });

  test('per-alert switches, threshold and staleness window follow the values', () => {
    // --set passes 0.25 as a string: the schema accepts numeric strings.
    const objs2 = render({ set: { 'prometheusRule.alerts.SentinelFeatureDrift.enabled': 'false', 'monitoring.driftScoreThreshold': '0.25', 'drift.schedule': '*/10 * * * *' } });
    const rules = find(objs2, 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules);
    assert.ok(!rules.some((r: any) => r.alert === 'SentinelFeatureDrift'));
    assert.match(rules.find((r: any) => r.alert === 'SentinelDriftScoreHigh').expr, /> 0.25$/);
    assert.match(rules.find((r: any) => r.alert === 'SentinelDriftJobStale').expr, /> 1800$/); // 3 periods of 600 s
    assert.match(rules.find((r: any) => r.alert === 'SentinelDriftRunsFailing').expr, /\[1200s\]/);
    assert.equal(find(objs2, 'ModelMonitor').spec.driftScoreThreshold, 0.25);
    const drift = JSON.parse(find(objs2, 'ConfigMap', 'dashboard-drift').data!['sentinelml-drift.json']);
    assert.equal(drift.templating.list.find((v: any) => v.name === 'threshold').query, '0.25');
  });

  test('alerts follow the deployed components (no staleness alert without the drift CronJob)', () => {
    const alertsOf = (set: Record<string, string>) => {
      const pr = render({ set }).find((o) => o.kind === 'PrometheusRule');
      return pr === undefined ? [] : pr.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)).sort();
    };
    assert.deepEqual(alertsOf({ 'drift.enabled': 'false' }), [
      'SentinelDatasetDrift', 'SentinelDriftScoreHigh', 'SentinelEstimatedPerformanceDrop', 'SentinelFeatureDrift', 'SentinelInferenceErrorRate', 'SentinelInferenceLatencyHigh',
      'SentinelModelPerformanceDrop', 'SentinelPredictionLogWriteFailures',
    ]);
    assert.deepEqual(alertsOf({ 'reports.enabled': 'false' }), ['SentinelInferenceErrorRate', 'SentinelInferenceLatencyHigh', 'SentinelPredictionLogWriteFailures']);
    assert.deepEqual(alertsOf({ 'reports.enabled': 'false', 'inference.enabled': 'false' }), []);
  });

  test('one dashboard ConfigMap per dashboard, labelled for the Grafana sidecar, stable UIDs, $datasource', () => {
    const files = readdirSync(join(CHART, 'dashboards')).filter((f) => f.endsWith('.json'));
    const cms = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    assert.equal(cms.length, files.length);
    for (const cm of cms) {
      assert.equal(cm.metadata.annotations?.['k8s-sidecar-target-directory'], 'SentinelML');
      const [key, json] = Object.entries(cm.data!)[0];
      const d = JSON.parse(json);
      assert.equal(`sentinelml-${d.uid.replace('sentinelml-', '')}.json`, key);
      assert.ok(d.templating.list.some((v: any) => v.name === 'datasource' && v.type === 'datasource'));
      for (const p of d.panels.filter((x: any) => x.type !== 'row')) assert.equal(p.datasource.uid, '${datasource}', p.title);
    }
    assert.deepEqual(cms.map((c) => JSON.parse(Object.values(c.data!)[0]).uid).sort(), ['sentinelml-drift', 'sentinelml-overview']);
  });

  test('names stay within 63 characters for a long release name', () => {
    const release = 'a-very-long-release-name-that-goes-on-and-on-and-on-x'; // Helm's maximum: 53 characters
    assert.equal(release.length, 53);
    const long = render({ release });
    for (const o of long) assert.ok(o.metadata.name.length <= 63, o.metadata.name);
    assert.ok(find(render({ release, set: { 'operator.enabled': 'false' } }), 'CronJob').metadata.name.length <= 52);
    for (const o of long) for (const v of Object.values(o.metadata.labels ?? {})) assert.ok(String(v).length <= 63);
  });

  test('ReadWriteOnce uses Recreate; existingClaim creates no PVC; everything-off renders only the two servers', () => {
    const rwo = render({ valuesFiles: [ciPath('rwo-single-node-values.yaml')] });
    assert.equal(find(rwo, 'Deployment', '-inference').spec.strategy.type, 'Recreate');
    assert.deepEqual(find(rwo, 'PersistentVolumeClaim').spec.accessModes, ['ReadWriteOnce']);
    const existing = render({ valuesFiles: [ciPath('existing-claim-values.yaml')] });
    assert.ok(!existing.some((o) => o.kind === 'PersistentVolumeClaim'));
    for (const { spec } of podSpecs(existing).filter(({ owner }) => !owner.endsWith('-operator'))) assert.equal(spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName, 'shared-ml-data');
    assert.equal(find(existing, 'ModelMonitor').spec.predictionLog.claimName, 'shared-ml-data');
    assert.equal(find(existing, 'ServiceMonitor').metadata.labels?.release, 'monitoring');
    const off = render({ valuesFiles: [ciPath('everything-off-values.yaml')] });
    assert.deepEqual(off.map((o) => o.kind).sort(), ['Deployment', 'Deployment', 'Service', 'Service']);
    for (const { spec } of podSpecs(off)) assert.ok(spec.volumes.find((v: any) => v.name === 'data').emptyDir);
  });

  test('HPA and NetworkPolicies when enabled', () => {
    const prod = render({ valuesFiles: [ciPath('hpa-networkpolicy-values.yaml')] });
    const hpa = find(prod, 'HorizontalPodAutoscaler');
    assert.equal(hpa.spec.scaleTargetRef.name, find(prod, 'Deployment', '-inference').metadata.name);
    assert.equal(find(prod, 'Deployment', '-inference').spec.replicas, undefined);
    const policies = prod.filter((o) => o.kind === 'NetworkPolicy');
    assert.equal(policies.length, 4);
    const op = find(prod, 'NetworkPolicy', '-operator');
    assert.ok(op.spec.egress.some((e: any) => e.ports.some((p: any) => p.port === 6443)), 'the operator reaches the API server');
    const drift = find(prod, 'NetworkPolicy', '-drift');
    assert.equal(drift.spec.ingress, undefined);
    assert.deepEqual(drift.spec.policyTypes, ['Ingress', 'Egress']);
    assert.ok(drift.spec.egress.some((e: any) => e.ports.some((p: any) => p.port === 6443)));
    const inf = find(prod, 'NetworkPolicy', '-inference');
    assert.equal(inf.spec.ingress[0].from.length, 2); // the payments namespace + Prometheus
  });

  test('NOTES.txt prints the port-forward commands', () => {
    // `helm template` never renders NOTES.txt and `helm install --dry-run` wants a cluster: render a
    // copy of the chart in which NOTES.txt is a named template included by a YAML template.
    const copy = join(mkdtempSync(join(tmpdir(), 'sentinelml-notes-')), 'sentinelml');
    cpSync(CHART, copy, { recursive: true });
    const notes = readFileSync(join(copy, 'templates/NOTES.txt'), 'utf8');
    rmSync(join(copy, 'templates/NOTES.txt'));
    writeFileSync(join(copy, 'templates/_notes.tpl'), `{{- define "notes-under-test" -}}\n${notes}\n{{- end -}}\n`);
    writeFileSync(join(copy, 'templates/zz-notes.yaml'), 'notes: |\n{{ include "notes-under-test" . | indent 2 }}\n');
    const r = run(tool('helm'), ['template', 'rel', copy, '--namespace', 'ml', '--kube-version', '1.35.4', '--show-only', 'templates/zz-notes.yaml']);
    assert.equal(r.status, 0, r.stderr);
    const text = parseYaml(r.stdout.replace(/^---\n# Source: .*\n/, '')).notes as string;
    assert.match(text, /kubectl -n ml port-forward svc\/rel-sentinelml-inference 8080:80/);
    assert.match(text, /kubectl -n ml port-forward svc\/rel-sentinelml-reports 8081:80/);
    assert.match(text, /kubectl -n ml get modelmonitors/);
  });
});

test('manifests/ is what charts/sentinelml/generate-manifests.sh writes', () => {
  const out = mkdtempSync(join(tmpdir(), 'sentinelml-manifests-'));
  process.env.HELM = tool('helm');
  const r = run('bash', [join(CHART, 'generate-manifests.sh'), out]);
  assert.equal(r.status, 0, r.stderr);
  const expected = readdirSync(out).sort();
  assert.deepEqual(readdirSync(join(REPO, 'manifests')).filter((f) => f.endsWith('.yaml')).sort(), expected);
  for (const f of expected) {
    assert.equal(readFileSync(join(REPO, 'manifests', f), 'utf8'), readFileSync(join(out, f), 'utf8'), `manifests/${f} is stale: run charts/sentinelml/generate-manifests.sh`);
  }
});

test('skaffold.yaml is valid against Skaffold v4beta14 schema and deploys this chart', () => {
  const schema = JSON.parse(readFileSync(join(REPO, 'test/chart/fixtures/skaffold-v4beta14.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  const validate = ajv.compile(schema);
  const config = parseYaml(readFileSync(join(REPO, 'skaffold.yaml'), 'utf8')) as any;
  const valid = validate(structuredClone(config)); // (validate is a type guard: keep `config` typed)
  assert.ok(valid, JSON.stringify(validate.errors, null, 2));
  assert.equal(config.apiVersion, 'skaffold/v4beta14');
  assert.equal(config.deploy.helm.releases[0].chartPath, 'charts/sentinelml');
  assert.equal(config.build.artifacts[0].docker.dockerfile, 'Dockerfile');
});

test('modelVolume (ci/byo-model-values.yaml): the ConfigMap is mounted read-only where inference and drift read the model', () => {
  // Operator mode: the ModelMonitor asks the operator for the same mount.
  const mm = find(render({ valuesFiles: [ciPath('byo-model-values.yaml')] }), 'ModelMonitor').spec;
  assert.deepEqual(mm.modelVolume, { mountPath: '/models/wine', configMap: 'wine-model' });
  assert.deepEqual([mm.reference, mm.modelCard], ['/models/wine/reference.csv', '/models/wine/model.json']);
  const pvc = find(render({ valuesFiles: [ciPath('byo-model-values.yaml')], set: { 'modelVolume.configMap': '', 'modelVolume.source.persistentVolumeClaim.claimName': 'models' } }), 'ModelMonitor').spec;
  assert.deepEqual(pvc.modelVolume, { mountPath: '/models/wine', claimName: 'models' });
  const hostPath = run(tool('helm'), [...helmTemplateArgs({ valuesFiles: [ciPath('byo-model-values.yaml')] }), '--set', 'modelVolume.configMap=', '--set', 'modelVolume.source.hostPath.path=/srv/models']);
  assert.notEqual(hostPath.status, 0);
  assert.match(hostPath.stderr, /with the operator only a configMap or source.persistentVolumeClaim/);
  // Operator-less mode: the chart's CronJob mounts it.
  const objs = render({ valuesFiles: [ciPath('byo-model-values.yaml')], set: { 'operator.enabled': 'false' } });
  const inference = find(objs, 'Deployment', '-inference').spec.template.spec;
  const drift = find(objs, 'CronJob').spec.jobTemplate.spec.template.spec;
  for (const pod of [inference, drift]) {
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'model'), { name: 'model', configMap: { name: 'wine-model' } });
    assert.deepEqual(pod.containers[0].volumeMounts.find((m: any) => m.name === 'model'), { name: 'model', mountPath: '/models/wine', readOnly: true });
  }
  assert.ok(inference.containers[0].args.includes('--model=/models/wine/model.onnx'));
  const driftArgs = drift.containers[0].args as string[];
  assert.ok(driftArgs.includes('--reference=/models/wine/reference.csv'), driftArgs.join(' '));
  assert.ok(driftArgs.includes('--model-card=/models/wine/model.json'), driftArgs.join(' '));
  // Off by default: no model volume anywhere.
  for (const { spec } of podSpecs(render())) assert.ok(!spec.volumes?.some((v: any) => v.name === 'model'));
  assert.equal(find(render(), 'ModelMonitor').spec.modelVolume, undefined);
});
