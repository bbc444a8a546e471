// @needs-tools: helm, etcd, kube-apiserver, kubectl, prometheus
// `sentinel operator` against a real kube-apiserver (test/support/kube-apiserver.ts: etcd +
// kube-apiserver, no kubelet, no controller-manager, so no garbage collector and no Jobs/pods: the
// deletion of a ModelMonitor's CronJob by the garbage collector and real CronJob runs belong to the
// real-node tests). The operator runs as its own process with the chart's ServiceAccount and RBAC
// (rendered from charts/sentinelml), the way its pod runs it.
//
// Proven here: the CRD's validation (CEL rules) refuses bad specs with its messages; create /
// update of a ModelMonitor creates / updates its CronJob (controller owner reference); hand edits
// and deletions of the CronJob are undone; an invalid spec or a missing ConfigMap/claim yields
// Ready=False with its reason and a Warning Event and no CronJob; `sentinel drift --monitor` reads
// the spec through the API and publishes the status, and a spec change flips the next verdict;
// 100 ModelMonitors in 5 namespaces converge (time measured); a restart writes nothing and
// duplicates nothing; with two replicas only the leader acts, failover is measured; RBAC both ways:
// the requests the operator and the drift job made (API server audit log) are exactly what the
// chart grants (SelfSubjectRulesReview), and impersonation confirms both directions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { findTool, freePort, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.ts';
import { tool } from '../chart/support/helm.ts';
import { DRIFT_NEEDS, expandRules, OPERATOR_NEEDS, parseManifest } from '../support/k8s-objects.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'charts', 'sentinelml');
const CRD = join(CHART, 'crds', 'modelmonitors.sentinelml.io.yaml');
const NS = 'ml';
const RELEASE = 'rel';
const OPERATOR_SA = 'rel-sentinelml-operator';
const DRIFT_SA = 'rel-sentinelml-drift';
const LEASE = 'rel-sentinelml-operator';
const MM = `/apis/sentinelml.io/v1alpha1`;

let kube: KubeApiServer;
let work: string;
let auditLog: string;
let operatorKubeconfig: string;
let jobTemplate: string;
const running = new Set<OperatorProc>();
let prometheus: ChildProcess | undefined;
let promUrl = '';

/** A real Prometheus (scripts/provision/prometheus.sh) scraping the leader every second, as its ServiceMonitor would. */
async function startPrometheus(target: number): Promise<void> {
  const port = await freePort();
  const config = join(work, 'prometheus.yml');
  writeFileSync(config, stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'rel-sentinelml-operator', static_configs: [{ targets: [`127.0.0.1:${target}`], labels: { namespace: NS } }] }],
  }));
  prometheus = spawn(tool('prometheus'), [`--config.file=${config}`, `--storage.tsdb.path=${join(work, 'prom-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  promUrl = `http://127.0.0.1:${port}`;
}

async function promQuery(expr: string): Promise<unknown[]> {
  const body = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as { status: string; error?: string; data: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
  return body.data.result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it returns a value (not undefined/false); throws naming `what`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

async function api(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
  const r = await kube.request(method, path, body, contentType ? { contentType } : {});
  if (r.status >= 300) throw Object.assign(new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`), { status: r.status, body: r.body });
  return r.body;
}
const getMonitor = (ns: string, name: string) => api('GET', `${MM}/namespaces/${ns}/modelmonitors/${name}`);
const getCronJob = async (ns: string, name: string) => {
  const r = await kube.request('GET', `/apis/batch/v1/namespaces/${ns}/cronjobs/${name}`);
  return r.status === 404 ? undefined : r.status === 200 ? r.body : Promise.reject(new Error(`GET cronjob: ${r.status}`));
};
const condition = (m: any, type: string) => (m?.status?.conditions ?? []).find((c: any) => c.type === type);
const events = async (ns: string, name: string) => (await api('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`)).items
  .filter((e: any) => e.regarding?.kind === 'ModelMonitor' && e.regarding?.name === name);

function monitor(name: string, spec: Record<string, unknown>, ns = NS): any {
  return { apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', metadata: { name, namespace: ns }, spec: { predictionLog: { claimName: 'data' }, ...spec } };
}
const createMonitor = (m: any) => api('POST', `${MM}/namespaces/${m.metadata.namespace}/modelmonitors`, m);
const patchMonitor = (ns: string, name: string, spec: unknown) => api('PATCH', `${MM}/namespaces/${ns}/modelmonitors/${name}`, { spec }, 'application/merge-patch+json');

async function readyOf(ns: string, name: string, status: 'True' | 'False', reason?: string): Promise<any> {
  return until(`${ns}/${name} Ready=${status}${reason ? ` (${reason})` : ''}`, async () => {
    const m = await getMonitor(ns, name);
    const c = condition(m, 'Ready');
    return c?.status === status && (reason === undefined || c.reason === reason) && c.observedGeneration === m.metadata.generation ? m : undefined;
  });
}

interface OperatorProc {
  name: string;
  proc: ChildProcess;
  port: number;
  lines: any[];
  exited: Promise<number | null>;
  metric(name: string, labels?: string): Promise<number>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** An operator process: this test's flags by default, or `o.args` (e.g. a chart Deployment's) with its own kubeconfig. */
async function startOperator(name: string, o: { args?: string[]; kubeconfig?: string } = {}): Promise<OperatorProc> {
  const port = await freePort();
  const args = o.args ?? ['operator',
    '--job-image=ghcr.io/sentinelml/sentinelml:test', `--job-service-account=${DRIFT_SA}`, `--job-template=${jobTemplate}`,
    `--lease-namespace=${NS}`, `--lease-name=${LEASE}`, '--lease-duration=4s', '--renew-deadline=3s', '--retry-period=1s',
    '--recheck=1s', '--workers=4'];
  const proc = spawn(process.execPath, [join(REPO, 'bin', 'sentinel.js'), ...args, `--metrics-port=${port}`], {
    env: { ...kube.env, KUBECONFIG: o.kubeconfig ?? operatorKubeconfig, SENTINEL_INSTANCE_ID: name, SENTINEL_POD_NAMESPACE: NS, SENTINEL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The log (pino, JSON lines) is on stderr.
  const lines: any[] = [];
  let buf = '';
  let stderr = '';
  proc.stdout!.resume();
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try { lines.push(JSON.parse(line)); } catch { lines.push({ msg: line }); }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const op: OperatorProc = {
    name, proc, port, lines, exited,
    async metric(metric, labels = '') {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${metric}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${metric} `)));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    },
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const code = await exited;
      running.delete(op);
      return code;
    },
    async kill() {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
      running.delete(op);
    },
  };
  running.add(op);
  await until(`operator ${name} serving /healthz (stderr: ${stderr.slice(-300)})`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 30_000);
  return op;
}

const leaseHolder = async () => (await kube.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE}`)).body?.spec?.holderIdentity ?? '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sentinel-operator-test-'));
  auditLog = join(work, 'audit.log');
  const policy = join(work, 'audit-policy.yaml');
  // Metadata of every request the two ServiceAccounts make: what they need, observed.
  writeFileSync(policy, JSON.stringify({
    apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'],
    rules: [
      { level: 'Metadata', users: [`system:serviceaccount:${NS}:${OPERATOR_SA}`, `system:serviceaccount:${NS}:${DRIFT_SA}`] },
      { level: 'None' },
    ],
  }));
  // OwnerReferencesPermissionEnforcement (on in OpenShift, off by default upstream): owner references
  // must not need rights the operator lacks.
  kube = await startKubeApiServer({ apiServerFlags: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, '--audit-log-mode=blocking',
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement'] });
  await kube.kubectl(['apply', '--server-side', '-f', CRD]);
  await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/modelmonitors.sentinelml.io']);
  await kube.kubectl(['create', 'namespace', NS]);
  // The chart's operator and drift ServiceAccounts and RBAC, as `helm install rel --namespace ml` renders them.
  const helm = findTool('helm', 'run `bash scripts/provision.sh helm` (npm test does it)');
  const rendered = (await kube.exec(helm, ['template', RELEASE, CHART, '--namespace', NS, '--kube-version', '1.35.4',
    '--show-only', 'templates/operator-serviceaccount.yaml', '--show-only', 'templates/operator-rbac.yaml', '--show-only', 'templates/operator-configmap.yaml',
    '--show-only', 'templates/serviceaccounts.yaml', '--show-only', 'templates/rbac.yaml'])).stdout;
  const objects = parseManifest(rendered);
  await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: objects.filter((o) => o.kind !== 'ConfigMap').map((o) => JSON.stringify(o)).join('\n') });
  jobTemplate = join(work, 'job-template.yaml');
  writeFileSync(jobTemplate, objects.find((o) => o.kind === 'ConfigMap')!.data['job-template.yaml']);
  operatorKubeconfig = kube.writeKubeconfig('operator', { token: await kube.serviceAccountToken(NS, OPERATOR_SA, { expirationSeconds: 7200 }) });
  await api('POST', `/api/v1/namespaces/${NS}/persistentvolumeclaims`, pvc('data'));
});

after(async () => {
  for (const op of [...running]) await op.kill();
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus!.once('exit', r));
  }
  await kube?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function pvc(name: string) {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } };
}

test('the CRD refuses invalid specs with its CEL and schema messages, and fills in the defaults', async () => {
  const dry = (spec: Record<string, unknown>) => kube.request('POST', `${MM}/namespaces/${NS}/modelmonitors?dryRun=All`, monitor('dry', spec));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['cron shape', { schedule: 'every hour' }, /spec.schedule: Invalid value.*must be a cron expression with 5 fields/],
    ['unknown stattest', { drift: { stattest: 'kstest' } }, /spec.drift.stattest: Unsupported value: "kstest"/],
    ['p-value threshold above 1', { drift: { columns: [{ name: 'age', stattest: 'ks', threshold: 5 }] } }, /threshold.*p-value test .* takes a threshold in \[0, 1\]/],
    ['global p-value threshold above 1', { drift: { stattest: 'chisquare', threshold: 2 } }, /p-value test/],
    ['column without settings', { drift: { columns: [{ name: 'age' }] } }, /a column entry sets stattest, threshold or both/],
    ['duplicate column', { drift: { columns: [{ name: 'age', threshold: 0.1 }, { name: 'age', threshold: 0.2 }] } }, /Duplicate value/],
    ['drift share 0', { drift: { driftShare: 0 } }, /must be in \(0, 1\]/],
    ['negative headline threshold', { driftScoreThreshold: -0.1 }, /spec.driftScoreThreshold: Invalid value: -0.1/],
    ['relative model card', { modelCard: 'models/model.json' }, /must be an absolute path/],
    ['path escaping the claim', { predictionLog: { claimName: 'data', path: '../other' } }, /must not contain "\.\."/],
    ['reference and ConfigMap', { reference: '/data/ref.csv', referenceConfigMap: { name: 'ref' } }, /set either reference \(a path\) or referenceConfigMap, not both/],
    ['history limit', { successfulJobsHistoryLimit: 1000 }, /successfulJobsHistoryLimit/],
    ['bad window', { since: 'yesterday' }, /spec.since/],
    ['claim name', { predictionLog: { claimName: 'Not_A_Name' } }, /claimName/],
    ['bad quantity', { resources: { limits: { memory: 'lots' } } }, /memory/],
    ['unknown alarm mode', { drift: { alarms: { mode: 'strict' } } }, /spec.drift.alarms.mode: Unsupported value: "strict"/],
    ['alarm alpha of 1', { drift: { alarms: { mode: 'bh', alpha: 1 } } }, /spec.drift.alarms.alpha.*must be in \(0, 1\)/],
    ['model volume with two sources', { modelVolume: { mountPath: '/models', configMap: 'a', claimName: 'b' } }, /set exactly one of configMap and claimName/],
    ['model volume over the data mount', { modelVolume: { mountPath: '/data/models', configMap: 'a' } }, /must not be \/, \/data, \/reference, \/tmp, \/app or inside them/],
  ];
  for (const [what, spec, message] of cases) {
    const r = await dry(spec);
    assert.equal(r.status, 422, `${what}: accepted ${JSON.stringify(spec)}`);
    assert.match(r.body.message, message, what);
  }
  // A cron expression of the right shape with an out-of-range field passes the CRD: the operator catches it (below).
  assert.equal((await dry({ schedule: '0 25 * * *' })).status, 201);
  const ok = await dry({ drift: { stattest: 'psi', threshold: 1.5, columns: [{ name: 'age', stattest: 'ks', threshold: 0.01 }] } });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const s = ok.body.spec;
  assert.deepEqual([s.schedule, s.suspend, s.predictionLog.path, s.reportsPath, s.driftScoreThreshold, s.keepLast, s.workers, s.modelCard, s.successfulJobsHistoryLimit],
    ['0 * * * *', false, 'live', 'reports', 0.1, 0, 1, '/app/models/model.json', 3]);
});

let leader: OperatorProc;

test('create: the operator makes the CronJob (controller owner reference), reports Ready=True and an Event', async () => {
  leader = await startOperator('op-a');
  await startPrometheus(leader.port);
  const created = await createMonitor(monitor('churn', { schedule: '0 * * * *', driftScoreThreshold: 0.2 }));
  const cj = await until('CronJob churn-drift', () => getCronJob(NS, 'churn-drift'));
  assert.deepEqual(cj.metadata.ownerReferences, [{ apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', name: 'churn', uid: created.metadata.uid, controller: true }]);
  assert.equal(cj.spec.schedule, '0 * * * *');
  assert.equal(cj.spec.concurrencyPolicy, 'Forbid');
  const pod = cj.spec.jobTemplate.spec.template.spec;
  assert.deepEqual(pod.containers[0].args, ['drift', `--monitor=${NS}/churn`, '--quiet']);
  assert.equal(pod.serviceAccountName, DRIFT_SA);
  assert.equal(pod.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName, 'data');
  assert.equal(pod.securityContext.runAsNonRoot, true, 'the chart\'s job template applies');
  const m = await readyOf(NS, 'churn', 'True', 'CronJobReady');
  assert.equal(m.status.cronJob, 'churn-drift');
  assert.equal(m.status.observedGeneration, m.metadata.generation);
  const ev = await until('CronJobCreated Event', async () => (await events(NS, 'churn')).find((e: any) => e.reason === 'CronJobCreated'));
  assert.equal(ev.reportingController, 'sentinelml.io/operator');
  assert.equal(ev.reportingInstance, 'op-a');
  assert.equal(ev.type, 'Normal');
  // kubectl get shows the printer columns.
  const table = (await kube.kubectl(['get', 'modelmonitors', '-n', NS])).stdout.trim().split('\n');
  const header = table[0].split(/\s{2,}/);
  assert.deepEqual(header, ['NAME', 'READY', 'VERDICT', 'SCORE', 'LAST RUN', 'AGE']);
  assert.equal(table.find((l) => l.startsWith('churn '))!.split(/\s{2,}/)[1], 'True');
});

test('update: schedule, suspend and resources reach the CronJob; drift settings do not touch it (runs read them)', async () => {
  const before = await getCronJob(NS, 'churn-drift');
  // 2000m: the API server stores the canonical "2"; the operator must not see that as drift.
  const m = await patchMonitor(NS, 'churn', { schedule: '*/5 * * * *', suspend: true, resources: { limits: { cpu: '2000m', memory: '2Gi' } } });
  const cj = await until('CronJob updated', async () => {
    const c = await getCronJob(NS, 'churn-drift');
    return c?.spec.schedule === '*/5 * * * *' ? c : undefined;
  });
  assert.equal(cj.spec.suspend, true);
  assert.deepEqual(cj.spec.jobTemplate.spec.template.spec.containers[0].resources, { limits: { cpu: '2', memory: '2Gi' } });
  assert.equal(cj.metadata.uid, before.metadata.uid, 'updated in place');
  const ready = await readyOf(NS, 'churn', 'True');
  assert.equal(ready.status.observedGeneration, m.metadata.generation);
  assert.match(condition(ready, 'Ready').message, /\(suspended\)/);

  const rv = cj.metadata.resourceVersion;
  const m2 = await patchMonitor(NS, 'churn', { drift: { stattest: 'psi', threshold: 0.3 }, keepLast: 5 });
  await until('Ready at the new generation', async () => condition(await getMonitor(NS, 'churn'), 'Ready')?.observedGeneration === m2.metadata.generation);
  assert.equal((await getCronJob(NS, 'churn-drift')).metadata.resourceVersion, rv, 'a drift-settings change does not rewrite the CronJob');
  assert.equal((await events(NS, 'churn')).filter((e: any) => e.reason === 'CronJobUpdated').length, 1, 'one correction, no update loop over canonicalised quantities');
});

test('hand edits are undone; a deleted CronJob is re-created; a CronJob stripped of its label is taken back', async () => {
  const t0 = Date.now();
  await api('PATCH', `/apis/batch/v1/namespaces/${NS}/cronjobs/churn-drift`, { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'drift', args: ['drift', '--reference=/etc/passwd'] }] } } } } } }, 'application/strategic-merge-patch+json');
  const fixed = await until('hand edit undone', async () => {
    const c = await getCronJob(NS, 'churn-drift');
    return c?.spec.schedule === '*/5 * * * *' && c.spec.jobTemplate.spec.template.spec.containers[0].args[1] === `--monitor=${NS}/churn` ? c : undefined;
  });
  const editMs = Date.now() - t0;
  const ev = await until('CronJobUpdated Event', async () => (await events(NS, 'churn')).find((e: any) => e.reason === 'CronJobUpdated' && /containers\[0\]\.args/.test(e.note)));
  assert.match(ev.note, /spec\.schedule/);

  const t1 = Date.now();
  await api('DELETE', `/apis/batch/v1/namespaces/${NS}/cronjobs/churn-drift`);
  const again = await until('CronJob re-created', async () => {
    const c = await getCronJob(NS, 'churn-drift');
    return c !== undefined && c.metadata.uid !== fixed.metadata.uid ? c : undefined;
  });
  const deleteMs = Date.now() - t1;
  assert.equal(again.spec.schedule, '*/5 * * * *');

  // Removing the managed-by label hides the CronJob from the operator's (label-selected) watch.
  await api('PATCH', `/apis/batch/v1/namespaces/${NS}/cronjobs/churn-drift`, { metadata: { labels: { 'app.kubernetes.io/managed-by': 'someone' } } }, 'application/merge-patch+json');
  await until('label restored', async () => (await getCronJob(NS, 'churn-drift'))?.metadata.labels['app.kubernetes.io/managed-by'] === 'sentinel-operator');
  assert.equal((await getCronJob(NS, 'churn-drift')).metadata.uid, again.metadata.uid, 'the same CronJob, not a duplicate');
  console.log(`# operator: hand edit undone in ${editMs} ms; deleted CronJob re-created in ${deleteMs} ms`);
});

test('invalid spec: Ready=False InvalidSpec with a Warning Event, no CronJob; missing ConfigMap or claim: their reasons until they exist', async () => {
  await createMonitor(monitor('bad-cron', { schedule: '0 25 * * *', timeZone: 'Mars/Olympus' }));
  const bad = await readyOf(NS, 'bad-cron', 'False', 'InvalidSpec');
  assert.match(condition(bad, 'Ready').message, /spec\.schedule "0 25 \* \* \*": hour field "25" is out of range 0-23; spec\.timeZone "Mars\/Olympus" is not a known IANA time zone/);
  const ev = await until('InvalidSpec Event', async () => (await events(NS, 'bad-cron')).find((e: any) => e.reason === 'InvalidSpec'));
  assert.equal(ev.type, 'Warning');
  assert.equal(await getCronJob(NS, 'bad-cron-drift'), undefined);

  await createMonitor(monitor('no-model', { modelVolume: { mountPath: '/models/wine', configMap: 'wine-model' } }));
  const noModel = await readyOf(NS, 'no-model', 'False', 'ModelVolumeMissing');
  assert.match(condition(noModel, 'Ready').message, /ConfigMap wine-model \(spec.modelVolume.configMap\)/);
  assert.equal(await getCronJob(NS, 'no-model-drift'), undefined);

  await createMonitor(monitor('no-claim', { predictionLog: { claimName: 'missing-claim' } }));
  await readyOf(NS, 'no-claim', 'False', 'PredictionLogMissing');
  assert.equal(await getCronJob(NS, 'no-claim-drift'), undefined);

  await createMonitor(monitor('cm-ref', { referenceConfigMap: { name: 'cm-ref', key: 'reference.csv' } }));
  const missing = await readyOf(NS, 'cm-ref', 'False', 'ReferenceMissing');
  assert.match(condition(missing, 'Ready').message, /ConfigMap cm-ref/);
  assert.equal(await getCronJob(NS, 'cm-ref-drift'), undefined);
  await api('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'cm-ref' }, data: { 'reference.csv': 'age\n1\n' } });
  await readyOf(NS, 'cm-ref', 'True');
  const cj = await getCronJob(NS, 'cm-ref-drift');
  assert.deepEqual(cj.spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'reference').configMap, { name: 'cm-ref', items: [{ key: 'reference.csv', path: 'reference.csv' }], defaultMode: 420 });

  // Fixing the spec makes it Ready.
  await patchMonitor(NS, 'bad-cron', { schedule: '0 23 * * *', timeZone: 'Europe/Berlin' });
  await readyOf(NS, 'bad-cron', 'True');
  assert.equal((await getCronJob(NS, 'bad-cron-drift')).spec.timeZone, 'Europe/Berlin');
});

test('sentinel drift --monitor reads the spec through the API with the drift ServiceAccount, publishes the status; a spec change flips the next verdict', async () => {
  const vol = join(work, 'volume');
  mkdirSync(join(vol, 'live'), { recursive: true });
  mkdirSync(join(vol, 'ref'), { recursive: true });
  const slice = (src: string, dst: string) => writeFileSync(dst, readFileSync(join(REPO, 'data', src), 'utf8').split('\n').slice(0, 1501).join('\n') + '\n');
  slice('reference.csv', join(vol, 'ref', 'reference.csv'));
  slice('current.csv', join(vol, 'live', 'current.csv'));
  writeFileSync(join(vol, 'model.json'), readFileSync(join(REPO, 'models', 'model.json')));
  // What the operator's CronJob runs, with the claim "mounted" at --data-root.
  const cj = await getCronJob(NS, 'churn-drift');
  const args: string[] = cj.spec.jobTemplate.spec.template.spec.containers[0].args;
  const kubeconfig = kube.writeKubeconfig('drift-job', { token: await kube.serviceAccountToken(NS, DRIFT_SA) });
  const run = async () => {
    const r = await kube.exec(process.execPath, [join(REPO, 'bin', 'sentinel.js'), ...args, `--data-root=${vol}`, '--json', '--no-cache'], {
      check: false, timeoutMs: 300_000, env: { ...kube.env, KUBECONFIG: kubeconfig, SENTINEL_LOG_LEVEL: 'warn', SENTINEL_INSTANCE_ID: 'churn-drift-29000000-abcde' },
    });
    assert.equal(r.code, 0, `sentinel drift failed:\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  // The spec decides the run: its reference, window, tests, share, retention.
  const spec = await patchMonitor(NS, 'churn', {
    reference: '/data/ref/reference.csv', modelCard: '/data/model.json', workers: 0, keepLast: 1,
    driftScoreThreshold: 0, drift: { stattest: 'psi', threshold: 0.1, driftShare: 1, onlyColumns: ['age', 'race', 'sex'], columns: [{ name: 'age', stattest: 'wasserstein' }] },
  });
  const first = await run();
  assert.deepEqual(first.columns.map((c: any) => [c.name, c.stattest]), [['age', 'wasserstein'], ['race', 'psi'], ['sex', 'psi']]);
  assert.equal(first.drift_share_threshold, 1);
  assert.equal(first.dataset_drift, false, 'not every column drifted');
  const m1 = await getMonitor(NS, 'churn');
  assert.equal(m1.status.lastRunId, first.run_id);
  assert.equal(m1.status.verdict, 'Drift', `drift score ${first.drift_score} > threshold 0`);
  assert.equal(condition(m1, 'DriftDetected').status, 'True');
  assert.equal(condition(m1, 'LastRunSucceeded').status, 'True');
  assert.equal(condition(m1, 'LastRunSucceeded').observedGeneration, spec.metadata.generation);
  assert.equal(condition(m1, 'Ready')?.status, 'True', 'the run kept the operator\'s condition');

  // Only the spec changes: the next run's verdict follows.
  await patchMonitor(NS, 'churn', { driftScoreThreshold: 1000 });
  const second = await run();
  const m2 = await getMonitor(NS, 'churn');
  assert.equal(m2.status.lastRunId, second.run_id);
  assert.equal(m2.status.verdict, 'Stable');
  assert.equal(condition(m2, 'DriftDetected').reason, 'NoDrift');
  // keepLast: 1 — only the newest run is kept.
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(join(vol, 'reports')).filter((d) => !d.startsWith('.') && d !== 'latest.json'), [second.run_id]);
  // The operator keeps Ready through the run's status writes.
  await readyOf(NS, 'churn', 'True');

  // An invalid spec fails the run with the reason, published as RunFailed.
  await api('PATCH', `${MM}/namespaces/${NS}/modelmonitors/churn`, { spec: { schedule: '0 0 31 2 8' } }, 'application/merge-patch+json');
  const r = await kube.exec(process.execPath, [join(REPO, 'bin', 'sentinel.js'), ...args, `--data-root=${vol}`], { check: false, env: { ...kube.env, KUBECONFIG: kubeconfig, SENTINEL_LOG_LEVEL: 'warn' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ModelMonitor ml\/churn has an invalid spec: spec.schedule/);
  const m3 = await getMonitor(NS, 'churn');
  assert.equal(condition(m3, 'LastRunSucceeded').reason, 'RunFailed');
  await readyOf(NS, 'churn', 'False', 'InvalidSpec');
  await patchMonitor(NS, 'churn', { schedule: '*/5 * * * *' });
  await readyOf(NS, 'churn', 'True');
});

const SCALE = { namespaces: 5, perNamespace: 20 };
let convergeMs = 0;

test(`${SCALE.namespaces * SCALE.perNamespace} ModelMonitors across ${SCALE.namespaces} namespaces converge (time measured)`, async () => {
  const nss = Array.from({ length: SCALE.namespaces }, (_, i) => `team-${i}`);
  for (const ns of nss) {
    await api('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await api('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, pvc('data'));
  }
  const reconcilesBefore = await leader.metric('sentinelml_operator_reconciles_total', 'result="success"');
  const t0 = Date.now();
  await Promise.all(nss.flatMap((ns) => Array.from({ length: SCALE.perNamespace }, (_, i) => createMonitor(monitor(`model-${i}`, { schedule: `${i} * * * *` }, ns)))));
  const createdMs = Date.now() - t0;
  await until('every CronJob created and every monitor Ready', async () => {
    let ready = 0;
    let cronJobs = 0;
    for (const ns of nss) {
      cronJobs += (await api('GET', `/apis/batch/v1/namespaces/${ns}/cronjobs`)).items.length;
      ready += (await api('GET', `${MM}/namespaces/${ns}/modelmonitors`)).items.filter((m: any) => condition(m, 'Ready')?.status === 'True' && condition(m, 'Ready').observedGeneration === m.metadata.generation).length;
    }
    return cronJobs === SCALE.namespaces * SCALE.perNamespace && ready === cronJobs;
  }, 120_000);
  convergeMs = Date.now() - t0;
  const reconciles = (await leader.metric('sentinelml_operator_reconciles_total', 'result="success"')) - reconcilesBefore;
  const errors = await leader.metric('sentinelml_operator_reconcile_errors_total', 'reason="conflict"');
  const line = `# operator scale: ${SCALE.namespaces * SCALE.perNamespace} ModelMonitors in ${SCALE.namespaces} namespaces: created in ${createdMs} ms, all CronJobs made and all Ready in ${convergeMs} ms (${reconciles} successful reconciles, ${errors} conflicts retried so far)`;
  console.log(line);
  for (const ns of nss) {
    const cjs = (await api('GET', `/apis/batch/v1/namespaces/${ns}/cronjobs`)).items;
    assert.deepEqual(cjs.map((c: any) => c.metadata.name).sort(), Array.from({ length: SCALE.perNamespace }, (_, i) => `model-${i}-drift`).sort());
  }
  await until('queue drained', async () => (await leader.metric('sentinelml_operator_queue_depth')) === 0);
  const metrics = await (await fetch(`http://127.0.0.1:${leader.port}/metrics`)).text();
  for (const name of ['sentinelml_operator_reconciles_total', 'sentinelml_operator_reconcile_errors_total', 'sentinelml_operator_reconcile_duration_seconds_bucket', 'sentinelml_operator_queue_depth', 'sentinelml_operator_leader 1']) {
    assert.ok(metrics.includes(name), `metric ${name}`);
  }
  // The Operator row of the Overview dashboard queries series this operator exports.
  const overview = JSON.parse(readFileSync(join(CHART, 'dashboards', 'overview.json'), 'utf8'));
  const exprs: string[] = overview.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr)).filter((e: string) => e.includes('sentinelml_operator_'));
  assert.ok(exprs.length >= 6, `${exprs.length} operator queries`);
  for (const e of exprs) for (const m of e.match(/sentinelml_operator_\w+/g)!) assert.match(metrics, new RegExp(`^${m}[{ ]`, 'm'), `dashboard query ${e}: ${m} is exported`);
  // ... and each query returns data from a Prometheus that scraped this operator (Grafana's "All" for $namespace).
  const vars: Record<string, string> = { namespace: '.*', __rate_interval: '20s' };
  for (const e of exprs) {
    const expr = e.replace(/\$\{?(\w+)\}?/g, (m0, name: string) => vars[name] ?? m0);
    await until(`dashboard query ${expr} returns data`, async () => (await promQuery(expr)).length > 0, 30_000);
  }
});

/** Every drift CronJob in the cluster, by namespace/name, with uid and resourceVersion. */
async function allCronJobs(): Promise<Map<string, string>> {
  const items = (await api('GET', '/apis/batch/v1/cronjobs')).items;
  return new Map(items.map((c: any) => [`${c.metadata.namespace}/${c.metadata.name}`, `${c.metadata.uid}@${c.metadata.resourceVersion}`]));
}

test('restart: a new operator process writes nothing and duplicates nothing', async () => {
  const before = await allCronJobs();
  const monitorsBefore = (await api('GET', `${MM}/modelmonitors`)).items.map((m: any) => `${m.metadata.namespace}/${m.metadata.name}@${m.metadata.resourceVersion}`).sort();
  assert.equal(await leader.stop(), 0, 'SIGTERM: clean exit');
  assert.equal(await leaseHolder(), '', 'the Lease was released');
  leader = await startOperator('op-a2');
  const total = monitorsBefore.length;
  // Every monitor reconciled once by the new process (the first sync enqueues them all).
  await until('the new operator reconciled every monitor', async () => (await leader.metric('sentinelml_operator_reconciles_total', 'result="success"'))
    + (await leader.metric('sentinelml_operator_reconciles_total', 'result="requeue"')) >= total, 60_000);
  await until('queue drained', async () => (await leader.metric('sentinelml_operator_queue_depth')) === 0 && (await leader.metric('sentinelml_operator_reconciles_in_flight')) === 0);
  assert.deepEqual(await allCronJobs(), before, 'the same CronJobs, none rewritten, none added');
  assert.equal(await leader.metric('sentinelml_operator_cronjob_writes_total', 'action="create"'), 0);
  assert.equal(await leader.metric('sentinelml_operator_cronjob_writes_total', 'action="update"'), 0);
  const monitorsAfter = (await api('GET', `${MM}/modelmonitors`)).items.map((m: any) => `${m.metadata.namespace}/${m.metadata.name}@${m.metadata.resourceVersion}`).sort();
  assert.deepEqual(monitorsAfter, monitorsBefore, 'no status rewritten either');
});

test('docs/kubernetes.md "A second model": its ModelMonitor, applied as shown, becomes Ready with its CronJob', async () => {
  const doc = readFileSync(join(REPO, 'docs', 'kubernetes.md'), 'utf8');
  const yaml = /kubectl apply -f - <<'YAML'\n([\s\S]*?)\nYAML/.exec(doc)?.[1];
  assert.ok(yaml, 'the docs show the ModelMonitor');
  // The docs' release is "sentinelml" in namespace sentinelml; here it is "rel" in ml.
  const m = parseManifest(yaml.replaceAll('namespace: sentinelml', `namespace: ${NS}`).replaceAll('sentinelml-data', 'data').replaceAll('sentinelml-drift', DRIFT_SA))[0];
  m.metadata.name = 'second-model'; // "churn" is taken by this file's first monitor
  const cm = /--from-file=reference\.csv=\S+/.test(doc) ? 'churn-reference' : '';
  assert.equal(m.spec.referenceConfigMap.name, cm);
  await api('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: cm }, data: { 'reference.csv': 'tenure\n1\n' } });
  await createMonitor(m);
  const ready = await readyOf(NS, m.metadata.name, 'True');
  const cj = await getCronJob(NS, ready.status.cronJob);
  assert.equal(cj.spec.schedule, m.spec.schedule);
  assert.equal(cj.spec.jobTemplate.spec.template.spec.serviceAccountName, DRIFT_SA);
  // The drift ServiceAccount the chart made may read and report to it (same namespace, no new RBAC).
  assert.equal(await canI(DRIFT_SA, NS, 'get', `modelmonitors.sentinelml.io/${m.metadata.name}`), true);
  assert.equal(await canI(DRIFT_SA, NS, 'patch', `modelmonitors.sentinelml.io/${m.metadata.name}`, '--subresource=status'), true);
});

test('API errors requeue the monitor with exponential backoff; it converges once the cause is gone', async () => {
  // Take the operator's cluster-wide rights away: its CronJob create is refused (403).
  const binding = (await api('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rel-sentinelml-operator'));
  await api('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rel-sentinelml-operator');
  const errorsBefore = await leader.metric('sentinelml_operator_reconcile_errors_total', 'reason="api"');
  const linesBefore = leader.lines.length;
  await createMonitor(monitor('backoff', {}));
  const failures = await until('five failed reconciles of ml/backoff', async () => {
    const f = leader.lines.slice(linesBefore).filter((l) => l.event === 'reconcile_failed' && l.monitor === `${NS}/backoff`);
    return f.length >= 5 ? f : undefined;
  }, 30_000);
  assert.match(failures[0].err, /HTTP 403/);
  assert.deepEqual(failures.slice(0, 5).map((f) => f.retryInMs), [100, 200, 400, 800, 1600], 'the delay doubles per failure');
  assert.ok(await leader.metric('sentinelml_operator_reconcile_errors_total', 'reason="api"') >= errorsBefore + 5);
  assert.equal(await getCronJob(NS, 'backoff-drift'), undefined);
  // Rights back: the next retry succeeds.
  const { metadata: { name, labels }, roleRef, subjects } = binding;
  await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { metadata: { name, labels }, roleRef, subjects });
  await until('ml/backoff converged', () => getCronJob(NS, 'backoff-drift'), 60_000);
  await readyOf(NS, 'backoff', 'True');
});

test('two replicas: only the leader acts; failover after a crash and after a graceful stop (measured)', async () => {
  const standby = await startOperator('op-b');
  await until('standby sees the leader', async () => standby.lines.some((l) => l.event === 'leader_observed'));
  await sleep(2_500); // a few retry periods: the standby must not take over a renewed Lease
  assert.match(await leaseHolder(), /^op-a2_/);
  await createMonitor(monitor('ha-1', {}));
  await until('ha-1 CronJob', () => getCronJob(NS, 'ha-1-drift'));
  const ev = await until('ha-1 Event', async () => (await events(NS, 'ha-1')).find((e: any) => e.reason === 'CronJobCreated'));
  assert.equal(ev.reportingInstance, 'op-a2', 'the leader acted');
  assert.equal(await standby.metric('sentinelml_operator_reconciles_total', 'result="success"'), 0, 'the standby reconciled nothing');
  assert.equal(await standby.metric('sentinelml_operator_leader'), 0);

  // Crash: the Lease is not released; the standby waits until it expires (lease 4 s).
  const t0 = Date.now();
  await leader.kill();
  await until('standby holds the Lease', async () => /^op-b_/.test(await leaseHolder()), 30_000);
  const takeoverMs = Date.now() - t0;
  await createMonitor(monitor('ha-2', {}));
  await until('ha-2 CronJob by the new leader', () => getCronJob(NS, 'ha-2-drift'), 30_000);
  const actingMs = Date.now() - t0;

  // Graceful: the leader releases the Lease on SIGTERM; a standby takes over at its next retry (1 s).
  const third = await startOperator('op-c');
  await until('op-c sees the leader', async () => third.lines.some((l) => l.event === 'leader_observed'));
  const t1 = Date.now();
  assert.equal(await standby.stop(), 0);
  await until('op-c holds the Lease', async () => /^op-c_/.test(await leaseHolder()), 30_000);
  const gracefulMs = Date.now() - t1;
  await createMonitor(monitor('ha-3', {}));
  await until('ha-3 CronJob by op-c', () => getCronJob(NS, 'ha-3-drift'), 30_000);
  leader = third;
  console.log(`# operator failover (lease 4s, renew deadline 3s, retry 1s): after SIGKILL of the leader the standby held the Lease in ${takeoverMs} ms and created a new monitor's CronJob ${actingMs} ms after the kill; after SIGTERM (Lease released) in ${gracefulMs} ms`);
  assert.ok((await allCronJobs()).size >= SCALE.namespaces * SCALE.perNamespace + 4);
});

/** `verb group/resource[/subresource]` of every request a user made, from the audit log. */
function observed(user: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(auditLog, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.user?.username !== user || e.stage !== 'ResponseComplete' && e.stage !== 'ResponseStarted') continue;
    if (e.responseStatus?.code === 403) continue;
    const o = e.objectRef;
    if (o === undefined) continue;
    out.add(`${e.verb} ${o.apiGroup ?? ''}/${o.resource}${o.subresource ? `/${o.subresource}` : ''}`);
  }
  return out;
}

async function granted(sa: string, ns: string, token: string): Promise<Set<string>> {
  const r = await kube.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } }, { token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return expandRules(r.body.status.resourceRules);
}

async function beyondBaseline(sa: string, ns: string): Promise<string[]> {
  await kube.kubectl(['create', 'serviceaccount', `baseline-${ns}`, '-n', ns], { check: false });
  const base = await granted('baseline', ns, await kube.serviceAccountToken(ns, `baseline-${ns}`));
  const mine = await granted(sa, ns, await kube.serviceAccountToken(NS, sa));
  return [...mine].filter((x) => !base.has(x)).map((x) => x.replace(/\/(rel-sentinelml-operator)$/, '')).sort();
}

const canI = async (sa: string, ns: string, ...args: string[]) => {
  const r = await kube.kubectl(['auth', 'can-i', ...args, '-n', ns], { as: `system:serviceaccount:${NS}:${sa}`, check: false });
  return r.stdout.trim() === 'yes';
};

test('RBAC both ways: what the operator and the drift job did (audit log) is exactly what the chart grants', async () => {
  assert.deepEqual([...observed(`system:serviceaccount:${NS}:${OPERATOR_SA}`)].sort(), [...OPERATOR_NEEDS], 'the operator made exactly these kinds of requests');
  // Granted in the release namespace (Lease role included) and in another watched namespace.
  assert.deepEqual(await beyondBaseline(OPERATOR_SA, NS), [...OPERATOR_NEEDS], 'granted in the release namespace = needed');
  assert.deepEqual(await beyondBaseline(OPERATOR_SA, 'team-0'), OPERATOR_NEEDS.filter((r) => !r.includes('leases')), 'granted elsewhere = needed (no Lease rights)');
  // Impersonation, both directions.
  for (const r of OPERATOR_NEEDS.filter((x) => !x.includes('leases'))) {
    const [verb, gr] = r.split(' ');
    const [group, resource, sub] = gr.split('/');
    assert.equal(await canI(OPERATOR_SA, 'team-3', verb, `${resource}${group ? `.${group}` : ''}`, ...(sub ? [`--subresource=${sub}`] : [])), true, `operator may ${r}`);
  }
  assert.equal(await canI(OPERATOR_SA, NS, 'update', `leases.coordination.k8s.io/${LEASE}`), true);
  for (const args of [
    ['get', 'secrets'], ['list', 'configmaps'], ['watch', 'configmaps'], ['update', 'configmaps'], ['delete', 'cronjobs.batch'], ['patch', 'cronjobs.batch'],
    ['create', 'jobs.batch'], ['create', 'pods'], ['create', 'modelmonitors.sentinelml.io'], ['update', 'modelmonitors.sentinelml.io'],
    ['delete', 'modelmonitors.sentinelml.io'], ['get', 'modelmonitors.sentinelml.io'], ['update', 'modelmonitors.sentinelml.io', '--subresource=status'],
    ['update', 'leases.coordination.k8s.io/someone-elses-lease'], ['delete', 'leases.coordination.k8s.io'], ['create', 'serviceaccounts/token'],
    ['create', 'rolebindings.rbac.authorization.k8s.io'], ['impersonate', 'serviceaccounts'], ['delete', 'events.events.k8s.io'],
  ]) assert.equal(await canI(OPERATOR_SA, 'team-1', ...args), false, `the operator must not ${args.join(' ')}`);
  assert.equal(await canI(OPERATOR_SA, 'team-1', 'create', 'leases.coordination.k8s.io'), false, 'Lease rights only in its own namespace');

  assert.deepEqual([...observed(`system:serviceaccount:${NS}:${DRIFT_SA}`)].sort(), [...DRIFT_NEEDS], 'the drift job made exactly these kinds of requests');
  assert.deepEqual(await beyondBaseline(DRIFT_SA, NS), [...DRIFT_NEEDS], 'granted = needed (every ModelMonitor of its namespace)');
  assert.equal(await canI(DRIFT_SA, 'team-0', 'get', 'modelmonitors.sentinelml.io'), false, 'nothing in other namespaces');
  for (const args of [['list', 'modelmonitors.sentinelml.io'], ['update', 'modelmonitors.sentinelml.io'], ['get', 'secrets'], ['create', 'cronjobs.batch']]) {
    assert.equal(await canI(DRIFT_SA, NS, ...args), false, `the drift job must not ${args.join(' ')}`);
  }
});

test('deleting a ModelMonitor leaves a CronJob for the garbage collector (controller owner reference; no collector here); a new monitor of that name waits for it', async () => {
  const m = await getMonitor(NS, 'ha-1');
  await api('DELETE', `${MM}/namespaces/${NS}/modelmonitors/ha-1`);
  await sleep(1_500);
  const cj = await getCronJob(NS, 'ha-1-drift');
  // Without kube-controller-manager nothing deletes it; the reference is what the collector follows.
  assert.deepEqual(cj.metadata.ownerReferences.map((r: any) => [r.kind, r.uid, r.controller]), [['ModelMonitor', m.metadata.uid, true]]);
  // A new ModelMonitor of the same name waits for the collector instead of adopting the old CronJob
  // (that would rewrite owner references, which OwnerReferencesPermissionEnforcement, on here, refuses).
  const fresh = await createMonitor(monitor('ha-1', { schedule: '7 * * * *' }));
  const waiting = await readyOf(NS, 'ha-1', 'False', 'WaitingForGarbageCollection');
  assert.match(condition(waiting, 'Ready').message, new RegExp(`uid ${m.metadata.uid}`));
  // What the garbage collector would do; then the operator makes the new monitor's CronJob.
  await api('DELETE', `/apis/batch/v1/namespaces/${NS}/cronjobs/ha-1-drift`);
  const made = await until('CronJob of the new ha-1', async () => {
    const c = await getCronJob(NS, 'ha-1-drift');
    return c?.metadata.ownerReferences?.[0]?.uid === fresh.metadata.uid ? c : undefined;
  });
  assert.equal(made.spec.schedule, '7 * * * *');
  assert.notEqual(made.metadata.uid, cj.metadata.uid);
  await readyOf(NS, 'ha-1', 'True');
  assert.ok(convergeMs > 0);
});

test('rbacScope namespace: the chart\'s namespaced operator (a Role per watched namespace) reconciles only there', async () => {
  assert.equal(await leader.stop(), 0); // the cluster-wide operator leaves the field
  const helm = findTool('helm', 'run `bash scripts/provision.sh helm` (npm test does it)');
  const rendered = parseManifest((await kube.exec(helm, ['template', 'nsrel', CHART, '--namespace', NS, '--kube-version', '1.35.4',
    '--set', 'operator.rbacScope=namespace', '--set', 'operator.watchNamespaces[0]=team-4',
    '--show-only', 'templates/operator-serviceaccount.yaml', '--show-only', 'templates/operator-rbac.yaml', '--show-only', 'templates/operator-deployment.yaml'])).stdout);
  assert.deepEqual(rendered.filter((o) => o.kind.startsWith('Cluster')), [], 'no cluster-wide RBAC');
  await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: rendered.filter((o) => o.kind !== 'Deployment').map((o) => JSON.stringify(o)).join('\n') });
  const dep = rendered.find((o) => o.kind === 'Deployment')!;
  const sa: string = dep.spec.template.spec.serviceAccountName;
  const args = (dep.spec.template.spec.containers[0].args as string[])
    .filter((a) => !a.startsWith('--metrics-port=') && !a.startsWith('--host='))
    .map((a) => (a.startsWith('--job-template=') ? `--job-template=${jobTemplate}` : a));
  assert.ok(args.includes('--namespace=team-4'), args.join(' '));
  const scoped = await startOperator('op-ns', { args, kubeconfig: kube.writeKubeconfig('ns-operator', { token: await kube.serviceAccountToken(NS, sa) }) });
  await createMonitor(monitor('scoped', {}, 'team-4'));
  await createMonitor(monitor('unwatched', {}, 'team-3'));
  await readyOf('team-4', 'scoped', 'True');
  assert.ok(await getCronJob('team-4', 'scoped-drift'));
  // The scoped operator also reconciled the other 20 monitors of team-4 (already converged: no writes).
  await until('queue drained', async () => (await scoped.metric('sentinelml_operator_queue_depth')) === 0 && (await scoped.metric('sentinelml_operator_reconciles_total', 'result="success"')) >= SCALE.perNamespace + 1);
  assert.equal(await getCronJob('team-3', 'unwatched-drift'), undefined, 'team-3 is not watched');
  assert.equal(condition(await getMonitor('team-3', 'unwatched'), 'Ready'), undefined);
  assert.equal(await canI(sa, 'team-3', 'list', 'modelmonitors.sentinelml.io'), false);
  assert.equal(await canI(sa, 'team-4', 'list', 'modelmonitors.sentinelml.io'), true);
  const all = await kube.kubectl(['auth', 'can-i', 'list', 'modelmonitors.sentinelml.io', '--all-namespaces'], { as: `system:serviceaccount:${NS}:${sa}`, check: false });
  assert.equal(all.stdout.trim(), 'no');
  assert.equal(await scoped.stop(), 0);
});
