// @needs-tools: helm, etcd, kube-apiserver, kubectl, prometheus
// The Helm chart against a real kube-apiserver (test/support/kube-apiserver.ts), for every
// charts/sentinelml/ci/*-values.yaml scenario:
//   - `helm install` into its own namespace (Pod Security `warn: restricted` on it): the API server accepts
//     every object; the chart's CRDs and the prometheus-operator CRDs (installed first) are Established;
//     every object of the release exists; a server-side dry-run with strict field validation of the
//     release manifest reports no error and no warning (unknown or duplicate fields, deprecated APIs,
//     restricted Pod Security violations of pod templates);
//   - RBAC, asserted both ways with the ServiceAccounts' own tokens (TokenRequest): the drift job's
//     ServiceAccount holds exactly the rights it needs on top of what every authenticated user has, and
//     is refused anything else; the inference and report ServiceAccounts hold nothing beyond that, and
//     their pods do not mount a token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/logger.ts';
import type { DriftResult } from '../../src/drift/result.ts';
import { DRIFT_NEEDS, expandRules, OPERATOR_NEEDS, parseManifest, type K8sObj } from '../support/k8s-objects.ts';
import { spawn } from 'node:child_process';
import { freePort } from '../support/kube-apiserver.ts';
import { findTool, promOperatorCrdDir, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'charts', 'sentinelml');
const CI = join(CHART, 'ci');
const scenarios = existsSync(CI) ? readdirSync(CI).filter((f) => f.endsWith('-values.yaml')).sort() : [];

type Obj = K8sObj;

let kube: KubeApiServer;
let helm: string;
const baseline = new Map<string, Set<string>>(); // namespace -> rights of a ServiceAccount nobody bound anything to

before(async () => {
  kube = await startKubeApiServer();
  // ServiceMonitor and PrometheusRule need the prometheus-operator CRDs in the cluster before the chart.
  const dir = promOperatorCrdDir();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) await kube.kubectl(['apply', '--server-side', '-f', join(dir, f)]);
  await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
});
after(async () => { await kube?.stop(); });

/** What a ServiceAccount may do in `namespace`, from its own token (SelfSubjectRulesReview). */
async function rightsOf(namespace: string, sa: string): Promise<Set<string>> {
  const token = await kube.serviceAccountToken(namespace, sa);
  const r = await kube.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } }, { token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status.incomplete, false, `rules review incomplete: ${r.body.status.evaluationError}`);
  return expandRules(r.body.status.resourceRules);
}

async function baselineRights(namespace: string): Promise<Set<string>> {
  let b = baseline.get(namespace);
  if (!b) {
    await kube.kubectl(['create', 'serviceaccount', 'rbac-baseline-probe', '-n', namespace]);
    b = await rightsOf(namespace, 'rbac-baseline-probe');
    baseline.set(namespace, b);
  }
  return b;
}

/** Rights beyond those every authenticated ServiceAccount has (system:basic-user etc.). */
async function extraRights(namespace: string, sa: string): Promise<string[]> {
  const base = await baselineRights(namespace);
  return [...await rightsOf(namespace, sa)].filter((r) => !base.has(r)).sort();
}

async function canI(namespace: string, sa: string, ...args: string[]): Promise<boolean> {
  const r = await kube.kubectl(['auth', 'can-i', ...args, '-n', namespace], { as: `system:serviceaccount:${namespace}:${sa}`, check: false });
  const answer = r.stdout.trim();
  assert.ok(answer === 'yes' || answer === 'no', `kubectl auth can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return answer === 'yes';
}

/** What src/services/k8s/status.ts (publishRunStatus) uses: read its ModelMonitor, merge-patch the status, create an Event. */
function driftRightsNeeded(monitor: string): string[] {
  return [`get sentinelml.io/modelmonitors/${monitor}`, `patch sentinelml.io/modelmonitors/status/${monitor}`, 'create events.k8s.io/events'];
}
/** Rights the Role may grant beyond the needed ones: none. */
const DRIFT_RIGHTS_TOLERATED = (_monitor: string): string[] => [];

/** Every needed right is granted; nothing beyond the needed and the tolerated ones is. */
function assertDriftRights(extra: string[], monitor: string): void {
  const needed = driftRightsNeeded(monitor);
  const allowed = new Set([...needed, ...DRIFT_RIGHTS_TOLERATED(monitor)]);
  assert.deepEqual(needed.filter((r) => !extra.includes(r)), [], `the drift ServiceAccount lacks rights it needs (has: ${extra.join(', ')})`);
  assert.deepEqual(extra.filter((r) => !allowed.has(r)), [], 'the drift ServiceAccount has rights beyond what it needs');
}

function podSpecOf(o: Obj): any {
  if (o.kind === 'CronJob') return o.spec.jobTemplate.spec.template.spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind)) return o.spec.template.spec;
  return undefined;
}

function componentOf(o: Obj): string | undefined {
  return o.metadata.labels?.['app.kubernetes.io/component'];
}

/** A drift result as the drift job produces it (only the fields the status code reads matter here). */
function driftResult(runId: string, drift: boolean): DriftResult {
  const col = (name: string, drifted: boolean) => ({ name, type: 'numerical', stattest: 'wasserstein', drift_detected: drifted, score: drifted ? 0.4 : 0.01 });
  const columns = [col('age', drift), col('hours-per-week', drift), col('capital-gain', false), col('education-num', false)];
  const drifted = columns.filter((c) => c.drift_detected).length;
  return {
    schema_version: 1, run_id: runId, started_at: '2026-11-26T10:00:00.000Z', finished_at: '2026-11-26T10:00:05.000Z',
    window: { since: null, from: null, to: null },
    reference: { path: '/app/data/reference.csv', rows: 14155 },
    current: { path: '/data/live', rows: 34687, files: 1, torn_lines: 0, skipped_rows: 0 },
    compat: true, columns, prediction: null,
    drifted_columns: drifted, tested_columns: columns.length, drift_share: drifted / columns.length, drift_share_threshold: 0.5,
    dataset_drift: drifted / columns.length >= 0.5, drift_score: drift ? 0.3125 : 0.01,
  } as unknown as DriftResult;
}

/** Runs src/services/k8s/status.ts's publishRunStatus with the drift ServiceAccount's own token (as in the pod) and reads back. */
async function checkStatusWrites(namespace: string, sa: string, monitor: string, operatorMode = false): Promise<void> {
  const { publishRunStatus } = await import('../../src/services/k8s/status.ts');
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', stream: { write: (l: string) => { lines.push(l); } } });
  const token = await kube.serviceAccountToken(namespace, sa);
  const kubeConfig = kube.kubeConfig({ token, namespace });
  // RBAC is served from informer caches: give a just-created RoleBinding a moment to take effect
  // (bounded; a missing grant still fails below, with the status code's own error).
  for (let i = 0; i < 40 && !(await canI(namespace, sa, 'patch', `modelmonitors.sentinelml.io/${monitor}`, '--subresource=status')); i++) {
    await new Promise((r) => setTimeout(r, 250));
  }

  // 1. A run with drift: Warning Event, verdict Drift.
  const first = await publishRunStatus({ kubeConfig, namespace, name: monitor, result: driftResult('run-1', true), logger, instance: 'drift-job-pod-1' });
  assert.deepEqual(first, { skipped: null, statusPatched: true, eventCreated: true, verdict: 'Drift' }, lines.join(''));
  const mm1 = JSON.parse((await kube.kubectl(['get', `modelmonitors.sentinelml.io/${monitor}`, '-n', namespace, '-o', 'json'])).stdout);
  assert.equal(mm1.status.verdict, 'Drift');
  assert.equal(mm1.status.driftScore, 0.3125);
  assert.equal(mm1.status.driftShare, 0.5);
  assert.equal(mm1.status.lastRunId, 'run-1');
  assert.deepEqual(mm1.status.driftedFeatures, ['age', 'hours-per-week']);
  const drift1 = mm1.status.conditions.find((c: any) => c.type === 'DriftDetected');
  assert.equal(drift1?.status, 'True');
  assert.equal(mm1.spec.driftScoreThreshold !== undefined, true, 'the spec written by the chart is untouched');

  // 2. A stable run: Normal Event, verdict Stable, DriftDetected flips to False.
  const second = await publishRunStatus({ kubeConfig, namespace, name: monitor, result: driftResult('run-2', false), logger, instance: 'drift-job-pod-2',
    now: () => new Date(Date.parse(drift1.lastTransitionTime) + 3_600_000) });
  assert.deepEqual(second, { skipped: null, statusPatched: true, eventCreated: true, verdict: 'Stable' }, lines.join(''));
  const mm2 = JSON.parse((await kube.kubectl(['get', `modelmonitors.sentinelml.io/${monitor}`, '-n', namespace, '-o', 'json'])).stdout);
  assert.equal(mm2.status.verdict, 'Stable');
  assert.equal(mm2.status.lastRunId, 'run-2');
  assert.equal(mm2.status.conditions.find((c: any) => c.type === 'DriftDetected')?.status, 'False');
  assert.notEqual(mm2.status.conditions.find((c: any) => c.type === 'DriftDetected')?.lastTransitionTime, drift1.lastTransitionTime);

  // The Events, read back as admin through events.k8s.io/v1.
  // (The operator's own Events about the monitor, if it ran, are not the drift job's.)
  const evs = JSON.parse((await kube.kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])).stdout).items
    .filter((e: any) => e.regarding?.kind === 'ModelMonitor' && e.regarding?.name === monitor && e.reportingController !== 'sentinelml.io/operator');
  assert.equal(evs.length, 2, JSON.stringify(evs, null, 1));
  for (const e of evs) {
    assert.equal(e.regarding.apiVersion, 'sentinelml.io/v1alpha1');
    assert.equal(e.regarding.uid, mm2.metadata.uid);
    assert.equal(e.reportingController, 'sentinelml.io/drift-job');
    assert.equal(e.action, 'DriftRun');
  }
  const byInstance = (i: string) => evs.find((e: any) => e.reportingInstance === i);
  assert.equal(byInstance('drift-job-pod-1')?.type, 'Warning');
  assert.equal(byInstance('drift-job-pod-2')?.type, 'Normal');
  // ... and as core/v1 events, which is what `kubectl describe` and `kubectl get events` show.
  const described = await kube.kubectl(['describe', `modelmonitors.sentinelml.io/${monitor}`, '-n', namespace]);
  assert.match(described.stdout, /Warning\s+\S+\s+\S+\s+sentinelml\.io\/drift-job/);

  // `kubectl get modelmonitors` prints the CRD's printer columns with the status values.
  const crd = JSON.parse((await kube.kubectl(['get', 'crd', 'modelmonitors.sentinelml.io', '-o', 'json'])).stdout);
  // Columns of priority 0 are the ones `kubectl get` shows without -o wide.
  const columns: string[] = crd.spec.versions.find((v: any) => v.storage).additionalPrinterColumns.filter((c: any) => !c.priority).map((c: any) => c.name.toUpperCase());
  assert.ok(columns.length > 0, 'the CRD declares printer columns');
  const table = (await kube.kubectl(['get', 'modelmonitors', '-n', namespace])).stdout.trimEnd().split('\n');
  const header = table[0].split(/\s{2,}/);
  assert.deepEqual(header, ['NAME', ...columns], table.join('\n'));
  const row = table.find((l) => l.startsWith(`${monitor} `));
  assert.ok(row, table.join('\n'));
  // Cells by the header's column offsets (an empty cell, e.g. READY without an operator, is blank).
  const starts = header.map((h) => table[0].indexOf(h));
  const cells = starts.map((st, i) => row.slice(st, i + 1 < starts.length ? starts[i + 1] : undefined).trim());
  const cell = (name: string) => cells[header.indexOf(name)];
  if (header.includes('VERDICT')) assert.equal(cell('VERDICT'), 'Stable');
  assert.equal(Number(cell('SCORE')), 0.01);
  // READY is the operator's condition: without the operator nothing sets it.
  cells.forEach((c, i) => { if (operatorMode || header[i] !== 'READY') assert.ok(c !== '<none>' && c !== '', `every column has a value:\n${table.join('\n')}`); });
  if (operatorMode) assert.equal(cell('READY'), 'True');
  // The short name works too.
  const short = crd.spec.names.shortNames?.[0];
  if (short) await kube.kubectl(['get', short, monitor, '-n', namespace]);

  // The same token cannot touch a ModelMonitor outside its reach (operator mode: another namespace;
  // operator-less: another ModelMonitor of the namespace): the status code reports it, never throws.
  const other = `${monitor.slice(0, 50)}-other`;
  const otherNs = operatorMode ? `${namespace.slice(0, 50)}-other` : namespace;
  if (operatorMode) await kube.kubectl(['create', 'namespace', otherNs]);
  await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', metadata: { name: other, namespace: otherNs }, spec: {} }) });
  const refused = await publishRunStatus({ kubeConfig, namespace: otherNs, name: other, result: driftResult('run-3', true), logger });
  assert.equal(refused.statusPatched, false);
  assert.match(refused.skipped ?? '', /403/);
  const untouched = JSON.parse((await kube.kubectl(['get', `modelmonitors.sentinelml.io/${other}`, '-n', otherNs, '-o', 'json'])).stdout);
  assert.equal(untouched.status, undefined);
}

/**
 * The real `sentinel drift` process with the env the chart's CronJob sets (SENTINEL_MONITOR_NAMESPACE /
 * SENTINEL_MONITOR_NAME) and, in place of the in-cluster token file, a kubeconfig holding the drift
 * ServiceAccount's token: after the run, the ModelMonitor's status names the run drift.json names.
 */
async function checkDriftCommandPublishes(namespace: string, sa: string, monitor: string, podEnv: any[], monitorArgs: string[] = []): Promise<void> {
  // Operator mode: the CronJob passes --monitor (the paths given here win over the spec's image paths).
  if (monitorArgs.length === 0) assert.ok(podEnv.some((e) => e.name === 'SENTINEL_MONITOR_NAMESPACE'), 'the CronJob sets SENTINEL_MONITOR_NAMESPACE');
  const work = mkdtempSync(join(tmpdir(), 'sentinel-kube-drift-'));
  try {
    // Small slices of the demo split: enough rows for every test, quick to run.
    const slice = (src: string, dst: string) => writeFileSync(dst, readFileSync(join(REPO, 'data', src), 'utf8').split('\n').slice(0, 1501).join('\n') + '\n');
    slice('reference.csv', join(work, 'reference.csv'));
    slice('current.csv', join(work, 'current.csv'));
    const kubeconfig = kube.writeKubeconfig(`drift-job-${namespace}`, { token: await kube.serviceAccountToken(namespace, sa), namespace });
    // With --monitor the spec's paths are the image's (/app/...): the local files are given as flags, which win.
    const local = monitorArgs.length > 0 ? ['--model-card', join(REPO, 'models', 'model.json')] : [];
    const r = await kube.exec(process.execPath, [join(REPO, 'bin', 'sentinel.js'), 'drift', ...monitorArgs, ...local, '--reference', join(work, 'reference.csv'),
      '--current', join(work, 'current.csv'), '--out', join(work, 'reports'), '--json', '--quiet', '--workers', '0', '--no-cache'], {
      check: false, timeoutMs: 300_000,
      env: { ...kube.env, KUBECONFIG: kubeconfig, SENTINEL_LOG_LEVEL: 'info', ...(monitorArgs.length === 0 ? { SENTINEL_MONITOR_NAMESPACE: namespace, SENTINEL_MONITOR_NAME: monitor } : {}) },
    });
    assert.equal(r.code, 0, `sentinel drift failed:\n${r.stderr}`);
    const runId = JSON.parse(r.stdout).run_id as string;
    assert.ok(runId, r.stdout.slice(0, 500));
    const mm = JSON.parse((await kube.kubectl(['get', `modelmonitors.sentinelml.io/${monitor}`, '-n', namespace, '-o', 'json'])).stdout);
    assert.equal(mm.status?.lastRunId, runId, `the drift command did not publish run ${runId} to the ModelMonitor (status: ${JSON.stringify(mm.status)}); its log:\n${r.stderr}`);
    const evs = JSON.parse((await kube.kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])).stdout).items
      .filter((e: any) => e.regarding?.name === monitor && String(e.note).includes(runId));
    assert.equal(evs.length, 1, `one Event about run ${runId}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The operator as the chart's Deployment runs it (its args, its ServiceAccount's token, the job
 * template from its ConfigMap), until the release's ModelMonitor has its CronJob and Ready=True.
 * Returns the CronJob. A claim or model ConfigMap the chart expects to exist (persistence.existingClaim,
 * modelVolume.configMap) is created first, as it would exist in a real cluster.
 */
async function runChartOperator(namespace: string, objects: Obj[]): Promise<any> {
  const dep = objects.find((o) => o.kind === 'Deployment' && componentOf(o) === 'operator')!;
  const spec = dep.spec.template.spec;
  const mm = objects.find((o) => o.kind === 'ModelMonitor')!;
  const claim = mm.spec.predictionLog?.claimName;
  if (claim && (await kube.kubectl(['get', 'pvc', claim, '-n', namespace], { check: false })).code !== 0) {
    await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim, namespace }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } }) });
  }
  // Likewise the model ConfigMap a bring-your-own-model install mounts (ci/byo-model-values.yaml says how it is made).
  const modelCm = mm.spec.modelVolume?.configMap;
  if (modelCm && (await kube.kubectl(['get', 'configmap', modelCm, '-n', namespace], { check: false })).code !== 0) {
    const files = ['model.onnx', 'model.json', 'reference.csv'].map((f) => `--from-file=${join(REPO, 'models', 'wine', f)}`);
    await kube.kubectl(['create', 'configmap', modelCm, '-n', namespace, ...files]);
  }
  const work = mkdtempSync(join(tmpdir(), 'sentinel-kube-operator-'));
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === spec.volumes.find((v: any) => v.name === 'job-template').configMap.name)!;
  writeFileSync(join(work, 'job-template.yaml'), cm.data['job-template.yaml']);
  const port = await freePort();
  const args = (spec.containers[0].args as string[]).map((a) => a.startsWith('--job-template=') ? `--job-template=${join(work, 'job-template.yaml')}`
    : a.startsWith('--metrics-port=') ? `--metrics-port=${port}` : a.startsWith('--host=') ? '--host=127.0.0.1' : a);
  const kubeconfig = kube.writeKubeconfig(`operator-${namespace}`, { token: await kube.serviceAccountToken(namespace, spec.serviceAccountName) });
  const proc = spawn(process.execPath, [join(REPO, 'bin', 'sentinel.js'), ...args], {
    env: { ...kube.env, KUBECONFIG: kubeconfig, SENTINEL_POD_NAMESPACE: namespace, SENTINEL_INSTANCE_ID: `${dep.metadata.name}-0`, SENTINEL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = await kube.request('GET', `/apis/sentinelml.io/v1alpha1/namespaces/${namespace}/modelmonitors/${mm.metadata.name}`);
      const ready = got.body?.status?.conditions?.find((c: any) => c.type === 'Ready');
      if (ready?.status === 'True') {
        const cj = await kube.request('GET', `/apis/batch/v1/namespaces/${namespace}/cronjobs/${got.body.status.cronJob}`);
        assert.equal(cj.status, 200);
        return cj.body;
      }
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`the operator did not make ${mm.metadata.name} Ready (last: ${JSON.stringify(ready)}); its stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    proc.kill('SIGTERM');
    await exited;
    rmSync(work, { recursive: true, force: true });
  }
}

test('the chart and its ci/*-values.yaml scenarios exist', () => {
  assert.ok(existsSync(join(CHART, 'Chart.yaml')), `no chart at ${CHART} (the chart's owner adds it)`);
  assert.ok(scenarios.length > 0, `no ${CI}/*-values.yaml scenarios (the chart's owner adds them)`);
});

for (const file of scenarios) {
  const scenario = file.replace(/-values\.yaml$/, '');
  const slug = scenario.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  const namespace = `ci-${slug}`;
  const release = `sml-${slug}`;

  test(`scenario ${scenario}: helm install is accepted, CRDs Established, strict dry-run clean, RBAC least privilege`, async (t) => {
    helm ??= findTool('helm', 'run `bash scripts/provision.sh helm` (npm test does it)');
    // A namespace that warns on pod templates violating the restricted Pod Security Standard.
    await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' } },
    }) });
    // Namespaces other than the release's that the scenario puts objects in (e.g. dashboards in Grafana's)
    // exist in a real cluster beforehand.
    const version = (await kube.request('GET', '/version')).body.gitVersion as string;
    const rendered = parseManifest((await kube.exec(helm, ['template', release, CHART, '--namespace', namespace, '--values', join(CI, file), '--kube-version', version])).stdout);
    for (const ns of new Set(rendered.map((o) => o.metadata.namespace).filter((n): n is string => !!n && n !== namespace))) {
      if ((await kube.kubectl(['get', 'namespace', ns], { check: false })).code !== 0) await kube.kubectl(['create', 'namespace', ns]);
    }
    const install = await kube.exec(helm, ['install', release, CHART, '--namespace', namespace, '--values', join(CI, file), '--timeout', '2m']);
    assert.doesNotMatch(install.stderr, /^(W\d{4}|Warning:)/m, `helm install printed warnings:\n${install.stderr}`);

    const manifest = (await kube.exec(helm, ['get', 'manifest', release, '--namespace', namespace])).stdout;
    const objects = parseManifest(manifest);
    assert.ok(objects.length > 0, 'the release has objects');

    await t.test('the CRDs are Established', async () => {
      const crdDir = join(CHART, 'crds');
      const crds = existsSync(crdDir)
        ? readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => parseManifest(readFileSync(join(crdDir, f), 'utf8')))
        : [];
      const all = [...crds, ...objects].filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `crd/${o.metadata.name}`);
      assert.ok(all.includes('crd/modelmonitors.sentinelml.io'), `the ModelMonitor CRD ships with the chart (found ${all.join(', ') || 'none'})`);
      await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...all,
        'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
    });

    await t.test('every object of the release exists in the API server', async () => {
      // Every namespaced object of the chart names its namespace (no --namespace here: kubectl would
      // reject objects placed elsewhere on purpose, e.g. dashboards.namespace).
      const got = await kube.kubectl(['get', '-f', '-', '-o', 'name'], { input: manifest });
      assert.equal(got.stdout.trim().split('\n').length, objects.length, got.stdout);
    });

    await t.test('strict server-side validation: no unknown or duplicate fields, no warnings (deprecations, restricted Pod Security)', async () => {
      const r = await kube.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--force-conflicts',
        '--field-manager=strict-check', '-f', '-'], { input: manifest, check: false });
      assert.equal(r.code, 0, `the API server rejected the manifest:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /warning/i, `the API server warned:\n${r.stderr}`);
    });

    const sas = new Map(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => [o.metadata.name, o]));
    const workloads = objects.filter((o) => podSpecOf(o));
    const operatorDep = objects.find((o) => o.kind === 'Deployment' && componentOf(o) === 'operator');
    const monitorObj = objects.find((o) => o.kind === 'ModelMonitor');

    if (operatorDep && monitorObj) {
      const driftSa: string = monitorObj.spec.serviceAccountName;
      let cronJob: any;
      await t.test('the operator, run as the chart runs it, makes the release\'s drift CronJob from its ModelMonitor (helm install gives the whole pipeline)', async () => {
        cronJob = await runChartOperator(namespace, objects);
        const pod = cronJob.spec.jobTemplate.spec.template.spec;
        assert.deepEqual(pod.containers[0].args, ['drift', `--monitor=${namespace}/${monitorObj.metadata.name}`, '--quiet']);
        assert.equal(pod.serviceAccountName, driftSa);
        assert.equal(cronJob.spec.schedule, monitorObj.spec.schedule);
        assert.equal(pod.containers[0].image, podSpecOf(operatorDep).containers[0].image);
        const mv = monitorObj.spec.modelVolume;
        if (mv) {
          assert.deepEqual(pod.volumes.find((v: any) => v.name === 'model').configMap?.name, mv.configMap, 'the model ConfigMap is mounted');
          assert.deepEqual(pod.containers[0].volumeMounts.find((m: any) => m.name === 'model'), { name: 'model', mountPath: mv.mountPath, readOnly: true });
        }
        // The strict server-side check of the chart's objects, applied to what the operator made too.
        const { metadata: { name }, apiVersion, kind, spec } = cronJob;
        const r = await kube.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--force-conflicts', '--field-manager=strict-check', '-f', '-'],
          { input: JSON.stringify({ apiVersion, kind, metadata: { name, namespace }, spec }), check: false });
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /warning/i, `the API server warned (restricted Pod Security?):\n${r.stderr}`);
      });
      await t.test(`drift job status code, as ServiceAccount ${driftSa}: ModelMonitor status and Events written, printer columns shown`, async () => {
        await checkStatusWrites(namespace, driftSa, monitorObj.metadata.name, true);
      });
      if (scenario === 'default') {
        await t.test('sentinel drift --monitor (the operator\'s CronJob command) reads the spec and publishes the status with the drift ServiceAccount\'s token', async () => {
          await checkDriftCommandPublishes(namespace, driftSa, monitorObj.metadata.name, [], cronJob.spec.jobTemplate.spec.template.spec.containers[0].args.slice(1));
        });
      }
      await t.test(`drift job ServiceAccount ${driftSa} (operator mode): exactly the rights a run needs, for the ModelMonitors of its namespace`, async () => {
        assert.deepEqual(await extraRights(namespace, driftSa), [...DRIFT_NEEDS]);
        assert.equal(await canI(namespace, driftSa, 'list', 'modelmonitors.sentinelml.io'), false);
        assert.equal(await canI(namespace, driftSa, 'create', 'cronjobs.batch'), false);
        assert.equal(await canI(namespace, driftSa, 'get', 'secrets'), false);
      });
    }

    for (const w of workloads) {
      const component = componentOf(w) ?? w.metadata.name;
      const spec = podSpecOf(w);
      const saName: string = spec.serviceAccountName ?? 'default';
      const sa = sas.get(saName);
      const mounts = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;

      if (w.kind === 'CronJob' && component === 'drift') {
        const driftEnv: any[] = spec.containers.flatMap((c: any) => c.env ?? []);
        const monitorName: string | undefined = driftEnv.find((e) => e.name === 'SENTINEL_MONITOR_NAME')?.value;
        if (monitorName !== undefined) {
          await t.test(`drift job status code, as ServiceAccount ${saName}: ModelMonitor status and Events written, printer columns shown`, async () => {
            await checkStatusWrites(namespace, saName, monitorName);
          });
          if (scenario === 'default') {
            await t.test(`sentinel drift, configured as the CronJob configures it (SENTINEL_MONITOR_*), publishes the ModelMonitor status with the drift ServiceAccount's token`, async () => {
              await checkDriftCommandPublishes(namespace, saName, monitorName, driftEnv);
            });
          }
        }
        await t.test(`drift job (${w.kind}/${w.metadata.name}, ServiceAccount ${saName}): exactly the rights it needs`, async () => {
          assert.ok(sa, `the drift job's ServiceAccount ${saName} is part of the release`);
          const monitors = objects.filter((o) => o.kind === 'ModelMonitor').map((o) => o.metadata.name);
          const env: any[] = spec.containers.flatMap((c: any) => c.env ?? []);
          const reportsStatus = env.some((e) => e.name === 'SENTINEL_MONITOR_NAME');
          const extra = await extraRights(namespace, saName);
          if (!reportsStatus) {
            assert.deepEqual(extra, [], 'without status reporting the drift job needs no API rights');
            assert.equal(mounts, false, 'without status reporting the drift pods mount no token');
            return;
          }
          assert.equal(mounts, true, 'the drift pods mount a token to write the status');
          assert.equal(monitors.length, 1, 'one ModelMonitor per release');
          const m = monitors[0];
          assert.equal(env.find((e) => e.name === 'SENTINEL_MONITOR_NAME')?.value, m, 'SENTINEL_MONITOR_NAME names the release\'s ModelMonitor');
          assertDriftRights(extra, m);
          const sub = (...a: string[]) => canI(namespace, saName, ...a);
          // Allowed, via impersonation (kubectl auth can-i --as) as a second, independent check.
          assert.equal(await sub('patch', `modelmonitors.sentinelml.io/${m}`, '--subresource=status'), true);
          assert.equal(await sub('get', `modelmonitors.sentinelml.io/${m}`), true);
          assert.equal(await sub('create', 'events.events.k8s.io'), true);
          // Refused.
          for (const args of [
            ['get', 'secrets'], ['list', 'secrets'], ['watch', 'secrets'], ['get', 'configmaps'],
            ['patch', 'deployments.apps'], ['update', 'deployments.apps'], ['delete', 'deployments.apps'],
            ['create', 'pods'], ['create', 'pods/exec'], ['patch', 'cronjobs.batch'], ['create', 'jobs.batch'],
            ['list', 'modelmonitors.sentinelml.io'], ['watch', 'modelmonitors.sentinelml.io'],
            ['patch', `modelmonitors.sentinelml.io/${m}`], ['update', `modelmonitors.sentinelml.io/${m}`],
            ['delete', `modelmonitors.sentinelml.io/${m}`], ['create', 'modelmonitors.sentinelml.io'],
            ['patch', 'modelmonitors.sentinelml.io/some-other-monitor', '--subresource=status'],
            ['update', `modelmonitors.sentinelml.io/${m}`, '--subresource=status'],
            ['create', 'events'], ['delete', 'events.events.k8s.io'], ['list', 'events.events.k8s.io'],
            ['create', 'serviceaccounts/token'], ['create', 'roles.rbac.authorization.k8s.io'], ['create', 'rolebindings.rbac.authorization.k8s.io'],
            ['impersonate', 'serviceaccounts'],
          ]) assert.equal(await sub(...args), false, `the drift ServiceAccount must not ${args.join(' ')}`);
          // Nothing outside its namespace.
          const other = await kube.kubectl(['auth', 'can-i', 'create', 'events.events.k8s.io', '-n', 'kube-system'], { as: `system:serviceaccount:${namespace}:${saName}`, check: false });
          assert.equal(other.stdout.trim(), 'no');
          const clusterWide = await kube.kubectl(['auth', 'can-i', 'list', 'modelmonitors.sentinelml.io', '--all-namespaces'], { as: `system:serviceaccount:${namespace}:${saName}`, check: false });
          assert.equal(clusterWide.stdout.trim(), 'no');
        });
      } else if (component === 'operator') {
        await t.test(`operator (${w.kind}/${w.metadata.name}, ServiceAccount ${saName}): exactly the rights it needs`, async () => {
          assert.equal(mounts, true, 'the operator mounts its token');
          assert.equal(sa?.automountServiceAccountToken, false, 'only the operator pod mounts it, not every pod using the ServiceAccount');
          // In the release namespace: the ClusterRole plus its Lease (by name for get/update).
          const extra = (await extraRights(namespace, saName)).map((r) => r.replace(/^((get|update) coordination\.k8s\.io\/leases)\/.*$/, '$1'));
          assert.deepEqual([...new Set(extra)].sort(), [...OPERATOR_NEEDS]);
          for (const args of [['get', 'secrets'], ['delete', 'cronjobs.batch'], ['create', 'pods'], ['update', 'modelmonitors.sentinelml.io'], ['list', 'configmaps']]) {
            assert.equal(await canI(namespace, saName, ...args), false, `the operator must not ${args.join(' ')}`);
          }
        });
      } else {
        await t.test(`${component} (${w.kind}/${w.metadata.name}, ServiceAccount ${saName}): no API rights, no token mounted`, async () => {
          assert.equal(mounts, false, `${w.kind}/${w.metadata.name} pods must not mount a ServiceAccount token (automountServiceAccountToken: false)`);
          if (!sa) {
            // serviceAccount.create=false: an existing ServiceAccount (e.g. the namespace's `default`, which
            // kube-controller-manager would have made; this test cluster has none) — create it bare.
            if ((await kube.kubectl(['get', 'serviceaccount', saName, '-n', namespace], { check: false })).code !== 0) {
              await kube.kubectl(['create', 'serviceaccount', saName, '-n', namespace]);
            }
          } else {
            assert.equal(sa.automountServiceAccountToken, false, `ServiceAccount ${saName} disables token automount too`);
          }
          assert.deepEqual(await extraRights(namespace, saName), [], `${saName} has no rights beyond every authenticated user's`);
          for (const args of [['get', 'secrets'], ['list', 'pods'], ['get', 'configmaps'], ['create', 'events.events.k8s.io'], ['get', 'modelmonitors.sentinelml.io']]) {
            assert.equal(await canI(namespace, saName, ...args), false, `${saName} must not ${args.join(' ')}`);
          }
        });
      }
    }
  });
}

// manifests/ (plain YAML generated from the chart, for users without Helm) against the same API server.
const MANIFESTS = join(REPO, 'manifests');
test('manifests/: plain YAML applies server-side with strict validation and no warnings; same least-privilege RBAC', async () => {
  const files = ['crd.yaml', 'sentinelml.yaml', 'monitoring.yaml'];
  for (const f of files) assert.ok(existsSync(join(MANIFESTS, f)), `manifests/${f} exists (generated from the chart)`);
  const objects = files.flatMap((f) => parseManifest(readFileSync(join(MANIFESTS, f), 'utf8')));
  const namespaces = [...new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name))];
  // Pod Security warnings for pod templates, on top of whatever the manifests' Namespace sets.
  for (const ns of namespaces) {
    await kube.kubectl(['apply', '--server-side', '--field-manager=test-psa-warn', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/warn': 'restricted' } },
    }) });
  }
  for (const f of files) {
    const r = await kube.kubectl(['apply', '--server-side', '--validate=strict', '-f', join(MANIFESTS, f)], { check: false });
    assert.equal(r.code, 0, `kubectl apply --server-side -f manifests/${f}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /warning/i, `the API server warned on manifests/${f}:\n${r.stderr}`);
    if (f === 'crd.yaml') {
      const crds = parseManifest(readFileSync(join(MANIFESTS, f), 'utf8')).filter((o) => o.kind === 'CustomResourceDefinition');
      await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((o) => `crd/${o.metadata.name}`)]);
    }
  }
  const got = await kube.kubectl(['get', '-f', '-', '-o', 'name'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  assert.equal(got.stdout.trim().split('\n').length, objects.length, got.stdout);

  const operator = objects.find((o) => o.kind === 'Deployment' && componentOf(o) === 'operator');
  const monitor = objects.find((o) => o.kind === 'ModelMonitor');
  assert.ok(operator && monitor, 'the manifests carry the operator and a ModelMonitor');
  const ns = monitor.metadata.namespace as string;
  assert.deepEqual(await extraRights(ns, monitor.spec.serviceAccountName), [...DRIFT_NEEDS]);
  const opExtra = (await extraRights(ns, podSpecOf(operator).serviceAccountName)).map((r) => r.replace(/^((get|update) coordination\.k8s\.io\/leases)\/.*$/, '$1'));
  assert.deepEqual([...new Set(opExtra)].sort(), [...OPERATOR_NEEDS]);
  for (const w of objects.filter((o) => o.kind === 'Deployment' && componentOf(o) !== 'operator')) {
    const spec = podSpecOf(w);
    assert.equal(spec.automountServiceAccountToken, false, `${w.metadata.name} mounts no token`);
    assert.deepEqual(await extraRights(ns, spec.serviceAccountName), [], `${spec.serviceAccountName} has no API rights`);
  }
});
