// @needs-tools: helm, etcd, kube-apiserver, kubelet, kubectl, node images
// SentinelML in real pods on a real single-node cluster (test/support/kube-node.ts): the image built
// from the unmodified Dockerfile (scripts/provision/node.sh), the chart installed with `helm install
// --wait` into namespaces that ENFORCE Pod Security `restricted`, and every user path exercised the way
// users reach it: `kubectl port-forward` for predictions and reports, `kubectl create job --from=cronjob`
// for a drift run, `kubectl delete pod` and `helm upgrade` under traffic, `helm uninstall`.
// The shared volume is a `local` PersistentVolume pre-bound to the chart's claim (no dynamic
// provisioner on this node), so the test reads the prediction log and reports back from the host.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { findTool, promOperatorCrdDir } from '../support/kube-apiserver.ts';
import { acquireLock, hostSnapshot, LOCK, NODE_NAME, STATE, startKubeNode, SYSCTLS, type KubeNode, type State } from '../support/kube-node.ts';
import { waitFor } from '../support/wait.ts';
import { runCronJobOnce } from '../support/kube-jobs.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'charts', 'sentinelml');
const APP_VERSION = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'))![1];
const UID = 10001;

const ROW = {
  age: 39, workclass: 'State-gov', education: 'Bachelors', 'education-num': 13, 'marital-status': 'Never-married',
  occupation: 'Adm-clerical', relationship: 'Not-in-family', race: 'White', sex: 'Male',
  'capital-gain': 2174, 'capital-loss': 0, 'hours-per-week': 40, 'native-country': 'United-States',
};
const row = (i: number) => ({ ...ROW, age: 20 + (i % 50), 'hours-per-week': 20 + (i % 40) });

let node: KubeNode;
let helm: string;
let appDigest: string;
let registryRepo: string;
let hostBefore: Record<string, unknown>;
let crashed: { dir: string; cgroup: string };

/**
 * Leaves on the host what a test process killed mid-run would: a lock whose owner is dead, its state
 * file, a mount under its scratch dir, an iptables chain, a kubepods cgroup, ip_forward switched on.
 */
function plantCrashedRun(): { dir: string; cgroup: string } {
  const run = (cmd: string, args: string[]) => { const r = spawnSync(cmd, args, { encoding: 'utf8' }); assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
  const dead = spawnSync('true').pid!;
  const dir = `/var/tmp/sentinel-node-crashed-${process.pid}`;
  mkdirSync(join(dir, 'mnt'), { recursive: true });
  const state: State = {
    owner: dead, startedAt: new Date().toISOString(), dir, pids: { kubelet: dead },
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, existsSync(`/proc/sys/${k}`) ? readFileSync(`/proc/sys/${k}`, 'utf8').trim() : undefined]).filter((e) => e[1] !== undefined)),
    iptables: run('iptables-save', []), ip6tables: run('ip6tables-save', []),
    absentBefore: [], netnsBefore: [], addedAddress: false,
  };
  run('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'mnt')]);
  run('iptables', ['-N', 'SENTINEL-CRASHED']);
  const cgroup = existsSync('/sys/fs/cgroup/memory') ? '/sys/fs/cgroup/memory/kubepods/crashed' : '/sys/fs/cgroup/kubepods/crashed';
  mkdirSync(cgroup, { recursive: true });
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  // This process holds the lock (before()); a crash leaves it with a dead owner. Written whole, then
  // renamed, so a waiting run never reads a half-written file.
  writeFileSync(STATE, JSON.stringify(state));
  writeFileSync(`${LOCK}.planted`, String(dead));
  renameSync(`${LOCK}.planted`, LOCK);
  return { dir, cgroup };
}

before(async () => {
  // Hold the machine first: another run's live cluster must be neither in the host snapshot nor taken
  // for the planted crash. Taking the lock also cleans a genuinely crashed earlier run (the same code
  // the start runs), so the snapshot is the clean host the teardown must restore.
  await acquireLock();
  hostBefore = hostSnapshot();
  crashed = plantCrashedRun();
  node = await startKubeNode();
  helm = findTool('helm', 'run `bash scripts/provision.sh helm`');
  // The chart's default image name (repository:appVersion) and the single-node scenario's local one,
  // as a user's `ctr -n k8s.io images import` + tag (or `kind load`) would leave them on the node.
  appDigest = await node.importImage(node.images.appArchive, node.images.appImage,
    [`ghcr.io/sentinelml/sentinelml:${APP_VERSION}`, 'docker.io/library/sentinelml:dev']);
  // Path a): pushed to a registry (the node's); the local tag is removed so the kubelet must pull.
  registryRepo = `${node.registry}/sentinelml`;
  await node.ctr(['images', 'tag', '--force', node.images.appImage, `${registryRepo}:${APP_VERSION}`]);
  await node.ctr(['images', 'push', '--plain-http', `${registryRepo}:${APP_VERSION}`]);
  await node.ctr(['images', 'rm', `${registryRepo}:${APP_VERSION}`]);
  const crds = promOperatorCrdDir();
  for (const f of readdirSync(crds).filter((x) => x.endsWith('.yaml')).sort()) await node.kubectl(['apply', '--server-side', '-f', join(crds, f)]);
}, { timeout: 900_000 });
after(async () => {
  await node?.stop();
  // Teardown restored the host: no bridge, address, chain, cgroup, mount, netns or sysctl of ours left.
  if (node) assert.deepEqual(hostSnapshot(), hostBefore);
}, { timeout: 120_000 });

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: any };
const parse = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o && typeof o.kind === 'string');

/** Namespace with Pod Security `restricted` ENFORCED (a violating pod is rejected, not only warned about). */
async function restrictedNamespace(ns: string): Promise<void> {
  await node.kubectl(['create', 'namespace', ns]);
  await node.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
}

/**
 * A `local` PersistentVolume (a directory on the node, root-owned 0755 like a fresh disk) pre-bound to
 * `claim` in `ns`. Unlike hostPath, the kubelet applies the pods' fsGroup to local volumes, so the
 * chart's fsGroup is what makes it writable for UID 10001.
 */
async function localVolume(ns: string, claim: string, accessMode: string): Promise<string> {
  const path = join(node.dir, 'volumes', `${ns}-${claim}`);
  mkdirSync(path, { recursive: true, mode: 0o755 });
  await node.kubectl(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `${ns}-${claim}` },
    spec: {
      capacity: { storage: '10Gi' }, accessModes: [accessMode], persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: '', volumeMode: 'Filesystem', local: { path },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] }] } },
      claimRef: { namespace: ns, name: claim },
    },
  }) });
  return path;
}

/** Renders the chart (as helm install would) to find the claim it creates. */
async function claimOf(ns: string, release: string, args: string[]): Promise<{ name: string; accessMode: string } | undefined> {
  const r = await node.exec(helm, ['template', release, CHART, '-n', ns, '--kube-version=1.35.4', ...args]);
  const pvc = parse(r.stdout).find((o) => o.kind === 'PersistentVolumeClaim');
  return pvc ? { name: pvc.metadata.name, accessMode: pvc.spec.accessModes[0] } : undefined;
}

async function install(ns: string, release: string, args: string[]): Promise<string> {
  const r = await node.exec(helm, ['install', release, CHART, '-n', ns, '--wait', '--timeout=8m', ...args], { timeoutMs: 600_000 });
  return r.stdout + r.stderr;
}

/** Every pod of the release Running and Ready with no restarts (finished job pods excepted). */
async function assertPodsHealthy(ns: string): Promise<any[]> {
  const pods = JSON.parse((await node.kubectl(['get', 'pods', '-n', ns, '-o', 'json'])).stdout).items as any[];
  // Job pods finish; pods being replaced (a rollout's old ones, terminating) are not the release's now.
  const servers = pods.filter((p) => !p.metadata.ownerReferences?.some((o: any) => o.kind === 'Job') && !p.metadata.deletionTimestamp);
  assert.ok(servers.length > 0, `no pods in ${ns}`);
  for (const p of servers) {
    assert.equal(p.status.phase, 'Running', `${p.metadata.name}: ${JSON.stringify(p.status)}`);
    const ready = p.status.conditions?.find((c: any) => c.type === 'Ready')?.status;
    assert.equal(ready, 'True', `${p.metadata.name} not Ready`);
    for (const c of p.status.containerStatuses) assert.equal(c.restartCount, 0, `${p.metadata.name}/${c.name} restarted ${c.restartCount}x: ${JSON.stringify(c.lastState)}`);
  }
  // Nothing was refused, failed to mount, crashed, evicted or unschedulable on the way (Pod Security
  // rejections show up as FailedCreate of the ReplicaSet or Job).
  const bad = JSON.parse((await node.kubectl(['get', 'events', '-n', ns, '--field-selector', 'type=Warning', '-o', 'json'])).stdout).items
    .filter((e: any) => ['FailedCreate', 'FailedMount', 'FailedAttachVolume', 'BackOff', 'Failed', 'FailedScheduling', 'Evicted', 'OOMKilling', 'FailedKillPod'].includes(e.reason));
  assert.deepEqual(bad.map((e: any) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`), []);
  return servers;
}

/** `kubectl port-forward svc/NAME :PORT` on a random local port; stop() kills it by PID. */
class PortForward {
  proc!: ChildProcess;
  port = 0;
  log = '';
  readonly ns: string;
  readonly target: string;
  readonly remote: number;
  constructor(ns: string, target: string, remote: number) { this.ns = ns; this.target = target; this.remote = remote; }
  async start(): Promise<this> {
    const kubectl = findTool('kubectl');
    this.log = '';
    this.proc = spawn(kubectl, [`--kubeconfig=${node.api.kubeconfig}`, 'port-forward', '-n', this.ns, this.target, `:${this.remote}`, '--address=127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`port-forward ${this.target}: no port within 60 s: ${this.log}`)), 60_000);
      const on = (d: Buffer) => {
        this.log += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(this.log);
        if (m) { clearTimeout(t); resolve(Number(m[1])); }
      };
      this.proc.stdout!.on('data', on);
      this.proc.stderr!.on('data', on);
      this.proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`port-forward ${this.target} exited ${c}: ${this.log}`)); });
    });
    return this;
  }
  get alive(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }
  url(path: string): string { return `http://127.0.0.1:${this.port}${path}`; }
  stop(): void { if (this.proc?.pid && this.alive) this.proc.kill('SIGTERM'); }
}

async function predict(pf: PortForward, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(pf.url('/predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  const text = await r.text();
  let parsed: any = text;
  try { parsed = JSON.parse(text); } catch { /* text */ }
  return { status: r.status, body: parsed };
}

/** request_id column of every prediction-log CSV on the volume (read from the host path). */
function loggedIds(volume: string): Set<string> {
  const dir = join(volume, 'live');
  const ids = new Set<string>();
  if (!existsSync(dir)) return ids;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.csv'))) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    assert.match(lines[0], /^request_id,timestamp,model_version,/, `${f}: header`);
    for (const l of lines.slice(1)) if (l) ids.add(l.slice(0, l.indexOf(',')));
  }
  return ids;
}

/** Sends one prediction every ~`gapMs` until stopped; restarts the port-forward when its pod goes away. */
function trickle(ns: string, svc: string, gapMs = 100) {
  const acked: string[] = [];
  const failures: string[] = [];
  let running = true;
  let pf: PortForward | undefined;
  const loop = (async () => {
    let i = 0;
    while (running) {
      try {
        if (!pf || !pf.alive) { pf?.stop(); pf = await new PortForward(ns, `svc/${svc}`, 80).start(); }
        const r = await predict(pf, { features: row(i++) });
        if (r.status === 200) acked.push(r.body.id); else failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      } catch (e) { failures.push((e as Error).message.slice(0, 200)); await new Promise((r) => setTimeout(r, 500)); }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return {
    acked, failures,
    async stop() { running = false; await loop; pf?.stop(); },
  };
}

const runDriftJob = async (ns: string, cronJob: string, name: string) => (await runCronJobOnce(node, ns, cronJob, name)).state;

async function jobLogs(ns: string, job: string): Promise<string> {
  return (await node.kubectl(['logs', '-n', ns, `job/${job}`, '--tail=30'], { check: false })).stdout;
}

async function getJson(url: string): Promise<any> {
  const r = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  assert.equal(r.status, 200, `${url}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

/** Audit-log entries (verb, resource, subresource, user) for writes to `resource` in `ns`. */
function auditWrites(ns: string, resource: string): { verb: string; subresource?: string; user: string; code: number }[] {
  if (!existsSync(node.auditLog)) return [];
  return readFileSync(node.auditLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.stage === 'ResponseComplete' && e.objectRef?.namespace === ns && e.objectRef?.resource === resource)
    .map((e) => ({ verb: e.verb, subresource: e.objectRef.subresource, user: e.user.username, code: e.responseStatus?.code }));
}

// ---------------------------------------------------------------------------------------------------

test('a crashed previous run was cleaned up before the cluster started', () => {
  assert.equal(existsSync(crashed.dir), false, 'its scratch dir (and the mount in it) is gone');
  assert.doesNotMatch(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout, /SENTINEL-CRASHED/);
  assert.equal(existsSync(crashed.cgroup), false, 'its kubepods cgroup is gone');
  assert.deepEqual(spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(crashed.dir)), [], 'none of its processes runs');
  assert.equal(readFileSync(LOCK, 'utf8').trim(), String(process.pid), 'the lock is ours now');
});

test('the node is Ready, runs the images built here, and enforces restricted Pod Security', { timeout: 300_000 }, async () => {
  const n = JSON.parse((await node.kubectl(['get', 'node', '-o', 'json'])).stdout).items;
  assert.equal(n.length, 1);
  assert.equal(n[0].status.nodeInfo.kubeletVersion, 'v1.35.4');
  assert.match(n[0].status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
  const images = (await node.ctr(['images', 'ls', '-q'])).stdout;
  assert.match(images, new RegExp(`ghcr.io/sentinelml/sentinelml:${APP_VERSION.replace(/\./g, '\\.')}`));
  // Control: a root pod is refused by the enforcing namespace (so "Ready" below means restricted-compliant).
  await restrictedNamespace('psa-control');
  const r = await node.kubectl(['run', 'root', '-n', 'psa-control', `--image=ghcr.io/sentinelml/sentinelml:${APP_VERSION}`, '--image-pull-policy=Never', '--restart=Never'], { check: false });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /violates PodSecurity "restricted:latest"/);
});

test('default values: helm install --wait, predictions, drift job, reports, ModelMonitor, pod loss, upgrade, failed run, uninstall', { timeout: 3_000_000 }, async (t) => {
  const ns = 'sentinel-default';
  const release = 'sentinelml';
  await restrictedNamespace(ns);
  const values = ['-f', join(CHART, 'ci', 'default-values.yaml')]; // `{}`: the defaults as they are
  const claim = await claimOf(ns, release, values);
  assert.ok(claim, 'the default values create a PVC');
  const volume = await localVolume(ns, claim.name, claim.accessMode);
  await install(ns, release, values);
  await assertPodsHealthy(ns);
  const nameOf = async (kind: string, component?: string) => {
    const items = JSON.parse((await node.kubectl(['get', kind, '-n', ns, ...(component ? ['-l', `app.kubernetes.io/component=${component}`] : []), '-o', 'json'])).stdout).items;
    assert.equal(items.length, 1, `one ${kind} ${component ?? ''} in ${ns}`);
    return items[0];
  };
  const inferenceSvc = (await nameOf('service', 'inference')).metadata.name;
  const inferenceDeployment = (await nameOf('deployment', 'inference')).metadata.name;
  const reportsSvc = (await nameOf('service', 'reports')).metadata.name;
  const cron = await nameOf('cronjob', 'drift');
  const cronJob = cron.metadata.name;
  const driftSa = cron.spec.jobTemplate.spec.template.spec.serviceAccountName;
  const monitor = (await nameOf('modelmonitors')).metadata.name;

  let sent = 0;
  await t.test('port-forward to the inference Service: single and batch /predict; rows on the volume', async () => {
    const pf = await new PortForward(ns, `svc/${inferenceSvc}`, 80).start();
    try {
      const one = await predict(pf, { features: ROW });
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.ok(['<=50K', '>50K'].includes(one.body.prediction));
      const batch = await predict(pf, { instances: Array.from({ length: 40 }, (_, i) => row(i)) });
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      assert.equal(batch.body.predictions.length, 40);
      const bad = await predict(pf, { features: { ...ROW, age: 'old' } });
      assert.equal(bad.status, 422);
      const ids = loggedIds(volume);
      for (const id of [one.body.id, ...batch.body.predictions.map((p: any) => p.id)]) assert.ok(ids.has(id), `prediction ${id} not on the volume`);
      sent = ids.size;
      // the files are the pod's (UID 10001); the volume root got the chart's fsGroup from the kubelet
      const live = join(volume, 'live');
      for (const f of readdirSync(live)) assert.equal(statSync(join(live, f)).uid, UID);
      assert.equal(statSync(volume).gid, UID);
    } finally { pf.stop(); }
  });

  let firstRun = '';
  await t.test('the drift CronJob runs in a pod and writes drift.json, report.html, latest.json', async () => {
    const state = await runDriftJob(ns, cronJob, 'drift-1');
    assert.equal(state, 'Complete', await jobLogs(ns, 'drift-1'));
    const latest = JSON.parse(readFileSync(join(volume, 'reports', 'latest.json'), 'utf8'));
    firstRun = latest.run_id;
    assert.ok(firstRun);
    const drift = JSON.parse(readFileSync(join(volume, 'reports', latest.path), 'utf8'));
    assert.equal(drift.run_id, firstRun);
    assert.equal(drift.current.rows, sent);
    assert.ok(existsSync(join(volume, 'reports', firstRun, 'report.html')));
  });

  await t.test('the report server serves that report through port-forward; /metrics has the drift gauges', async () => {
    const pf = await new PortForward(ns, `svc/${reportsSvc}`, 80).start();
    try {
      const latest = await getJson(pf.url('/latest.json'));
      assert.equal(latest.run_id, firstRun);
      const html = await fetch(pf.url(`/runs/${firstRun}/report.html`));
      assert.equal(html.status, 200);
      assert.match(html.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await html.text(), new RegExp(firstRun));
      const metrics = await (await fetch(pf.url('/metrics'))).text();
      assert.match(metrics, /^sentinelml_drift_score(\{[^}]*\})? [0-9.e-]+$/m);
      assert.match(metrics, /^sentinelml_drift_last_run_timestamp_seconds(\{[^}]*\})? \d/m);
    } finally { pf.stop(); }
  });

  await t.test('the job pod\'s own ServiceAccount wrote the ModelMonitor status and an Event', async () => {
    const mm = JSON.parse((await node.kubectl(['get', 'modelmonitor', '-n', ns, monitor, '-o', 'json'])).stdout);
    assert.equal(mm.status.lastRunId, firstRun);
    assert.ok(['Drift', 'Stable'].includes(mm.status.verdict), JSON.stringify(mm.status));
    const events = JSON.parse((await node.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])).stdout).items
      .filter((e: any) => e.regarding?.kind === 'ModelMonitor' && e.regarding?.name === monitor);
    assert.ok(events.some((e: any) => (e.note ?? '').includes(firstRun)), JSON.stringify(events.map((e: any) => e.note)));
    const sa = `system:serviceaccount:${ns}:${driftSa}`;
    // The run's status comes from the job pod's token; the operator (its own ServiceAccount) writes
    // only its Ready condition. Nobody else (no admin, no other account) touched the status.
    const operatorSa = `system:serviceaccount:${ns}:${(await nameOf('deployment', 'operator')).spec.template.spec.serviceAccountName}`;
    const statusWrites = auditWrites(ns, 'modelmonitors').filter((w) => w.subresource === 'status' && w.code < 300);
    assert.ok(statusWrites.some((w) => w.user === sa), JSON.stringify(statusWrites));
    assert.deepEqual(statusWrites.filter((w) => w.user !== sa && w.user !== operatorSa), []);
    const eventWrites = auditWrites(ns, 'events').filter((w) => w.verb === 'create' && w.code < 300 && w.user.startsWith('system:serviceaccount:'));
    assert.ok(eventWrites.some((w) => w.user === sa), JSON.stringify(eventWrites));
  });

  // Issue 13's last proofs, on a second ModelMonitor applied next to the release's (how a second model
  // is added): its CronJob runs the drift job, which reads the spec at run time, so a threshold changed
  // on the spec changes the next verdict with no rollout; deleting the monitor lets the garbage
  // collector remove its CronJob and the Jobs created from it.
  await t.test('a second ModelMonitor: its CronJob\'s runs follow threshold changes on the spec; deleting it garbage-collects the CronJob and its Jobs', async () => {
    const name = 'second-model';
    const getMonitor = async () => JSON.parse((await node.kubectl(['get', 'modelmonitor', '-n', ns, name, '-o', 'json'])).stdout);
    const chartMonitor = JSON.parse((await node.kubectl(['get', 'modelmonitor', '-n', ns, monitor, '-o', 'json'])).stdout);
    const inherited = Object.fromEntries(['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of']
      .filter((k) => chartMonitor.metadata.labels?.[k] !== undefined).map((k) => [k, chartMonitor.metadata.labels[k]]));
    // jensenshannon on every column (a distance in [0, sqrt(ln 2)], drift when >= threshold): with
    // threshold 1 no column can drift, and no drift score in [0, 1] exceeds a headline threshold of 1.
    const spec = { ...chartMonitor.spec, reportsPath: 'reports-second', drift: { ...chartMonitor.spec.drift, stattest: 'jensenshannon', threshold: 1 }, driftScoreThreshold: 1 };
    await node.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', metadata: { name, namespace: ns, labels: inherited }, spec }) });
    const uid = (await getMonitor()).metadata.uid;
    const created = Date.now();
    const cron = await waitFor('the operator\'s CronJob for the second monitor', 60_000, async () =>
      JSON.parse((await node.kubectl(['get', 'cronjob', '-n', ns, '-o', 'json'])).stdout).items
        .find((c: any) => c.metadata.ownerReferences?.some((o: any) => o.controller === true && o.kind === 'ModelMonitor' && o.uid === uid)));
    t.diagnostic(`second monitor: its CronJob ${cron.metadata.name} appeared ${Date.now() - created} ms after the apply`);
    assert.deepEqual(cron.spec.jobTemplate.spec.template.spec.containers[0].args.slice(0, 2), ['drift', `--monitor=${ns}/${name}`]);

    /** One run from the operator's CronJob; its drift.json (on the volume) and the monitor afterwards. */
    const run = async (job: string) => {
      const state = await runDriftJob(ns, cron.metadata.name, job);
      assert.equal(state, 'Complete', await jobLogs(ns, job));
      const mm = await getMonitor();
      const drift = JSON.parse(readFileSync(join(volume, 'reports-second', mm.status.lastRunId, 'drift.json'), 'utf8'));
      const cond = (type: string) => mm.status.conditions.find((c: any) => c.type === type);
      // The run read the spec as it is now: its conditions carry the current generation.
      for (const type of ['LastRunSucceeded', 'DriftDetected']) assert.equal(cond(type)?.observedGeneration, mm.metadata.generation, JSON.stringify(mm.status.conditions));
      assert.equal(cond('LastRunSucceeded').status, 'True');
      return { mm, drift, detected: cond('DriftDetected') };
    };
    const tested = (d: any) => d.columns.filter((c: any) => c.error === null);
    const setSpec = async (patch: unknown) => {
      const before = (await getMonitor()).metadata.generation;
      await node.kubectl(['patch', 'modelmonitor', '-n', ns, name, '--type=merge', '-p', JSON.stringify({ spec: patch })]);
      assert.equal((await getMonitor()).metadata.generation, before + 1);
    };

    // 1. Loose thresholds: Stable.
    const loose = await run('second-loose');
    assert.equal(loose.mm.status.verdict, 'Stable', JSON.stringify(loose.mm.status));
    assert.equal(loose.detected.status, 'False');
    assert.equal(loose.detected.reason, 'NoDrift');
    assert.equal(loose.drift.dataset_drift, false);
    assert.ok(tested(loose.drift).length > 0);
    for (const c of tested(loose.drift)) {
      assert.equal(c.stattest, 'jensenshannon', `${c.name}: the spec's stattest`);
      assert.equal(c.threshold, 1, `${c.name}: the spec's threshold`);
      assert.equal(c.drift_detected, false, c.name);
    }
    const scores = tested(loose.drift).map((c: any) => c.stattest_score as number);
    assert.ok(Math.min(...scores) > 0, `every tested column differs from the reference: ${scores}`);

    // 2. The per-column threshold below every column's distance (same log, same test, same distances):
    // every tested column drifts, so the dataset drifts (share 1 >= 0.5), and the verdict flips.
    const strictThreshold = Number((Math.min(...scores) / 2).toPrecision(3));
    await setSpec({ drift: { threshold: strictThreshold } });
    const strict = await run('second-strict');
    assert.deepEqual(tested(strict.drift).map((c: any) => c.stattest_score), scores, 'the same data gives the same distances');
    for (const c of tested(strict.drift)) {
      assert.equal(c.threshold, strictThreshold, c.name);
      assert.equal(c.drift_detected, true, c.name);
    }
    assert.equal(strict.drift.dataset_drift, true);
    assert.equal(strict.mm.status.verdict, 'Drift', JSON.stringify(strict.mm.status));
    assert.equal(strict.detected.status, 'True');
    assert.equal(strict.detected.reason, 'DatasetDrift');
    assert.notEqual(strict.detected.lastTransitionTime, loose.detected.lastTransitionTime, 'DriftDetected changed status: a new transition');

    // 3. Back to the loose column threshold, but the headline threshold below the run's drift score:
    // no column drifts, yet DriftDetected is True for the headline score.
    const headline = Number((loose.drift.drift_score / 2).toPrecision(3));
    await setSpec({ drift: { threshold: 1 }, driftScoreThreshold: headline });
    const head = await run('second-headline');
    assert.equal(head.drift.dataset_drift, false);
    assert.equal(head.drift.drift_score, loose.drift.drift_score);
    assert.ok(tested(head.drift).every((c: any) => !c.drift_detected && c.threshold === 1));
    assert.equal(head.mm.status.verdict, 'Drift', JSON.stringify(head.mm.status));
    assert.equal(head.detected.status, 'True');
    assert.equal(head.detected.reason, 'DriftScoreAboveThreshold');
    assert.match(head.detected.message, new RegExp(`> threshold ${headline}`));
    t.diagnostic(`threshold flips: column threshold 1 → ${strictThreshold}: Stable → Drift (DatasetDrift); headline threshold 1 → ${headline} (score ${loose.drift.drift_score.toFixed(4)}): Drift (DriftScoreAboveThreshold)`);

    // 4. Deleting the monitor: the garbage collector (kube-controller-manager) removes its CronJob, and
    // with it the Jobs `kubectl create job --from` made (owned by the CronJob) and their pods.
    const jobs = ['second-loose', 'second-strict', 'second-headline'];
    for (const j of jobs) {
      const job = JSON.parse((await node.kubectl(['get', 'job', '-n', ns, j, '-o', 'json'])).stdout);
      assert.ok(job.metadata.ownerReferences?.some((o: any) => o.kind === 'CronJob' && o.uid === cron.metadata.uid), `${j} is owned by the CronJob`);
    }
    const deleted = Date.now();
    await node.kubectl(['delete', 'modelmonitor', '-n', ns, name, '--wait=true'], { timeoutMs: 60_000 });
    await waitFor('the second monitor\'s CronJob garbage-collected', 120_000, async () =>
      ((await node.kubectl(['get', 'cronjob', '-n', ns, cron.metadata.name], { check: false })).code !== 0 ? true : undefined));
    const cronGone = Date.now() - deleted;
    await waitFor('its Jobs and their pods garbage-collected', 120_000, async () => {
      const left = JSON.parse((await node.kubectl(['get', 'jobs,pods', '-n', ns, '-o', 'json'])).stdout).items
        .filter((o: any) => jobs.includes(o.metadata.name) || jobs.includes(o.metadata.labels?.['job-name']));
      return left.length === 0 ? true : undefined;
    });
    t.diagnostic(`garbage collection after deleting the ModelMonitor: CronJob gone in ${cronGone} ms, its Jobs and pods in ${Date.now() - deleted} ms`);
    // The release's own monitor and CronJob are untouched.
    await node.kubectl(['get', 'modelmonitor', '-n', ns, monitor]);
    await node.kubectl(['get', 'cronjob', '-n', ns, cronJob]);
  });

  await t.test('kubectl delete pod of the inference pod under a trickle of requests loses no acknowledged row', async () => {
    const tr = trickle(ns, inferenceSvc);
    await waitFor('some predictions', 60_000, async () => (tr.acked.length >= 10 ? true : undefined));
    const pods = JSON.parse((await node.kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items;
    assert.equal(pods.length, 1);
    const old = pods[0].metadata.name;
    await node.kubectl(['delete', 'pod', '-n', ns, old, '--wait=true'], { timeoutMs: 120_000 });
    await node.kubectl(['rollout', 'status', '-n', ns, `deployment/${inferenceDeployment}`, '--timeout=300s'], { timeoutMs: 320_000 });
    const before = tr.acked.length;
    await waitFor('predictions through the new pod', 120_000, async () => (tr.acked.length >= before + 10 ? true : undefined));
    await tr.stop();
    const ids = loggedIds(volume);
    const lost = tr.acked.filter((id) => !ids.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${tr.acked.length} acknowledged predictions are not on the volume`);
    t.diagnostic(`pod delete: ${tr.acked.length} acknowledged, ${tr.failures.length} refused/failed during the switch`);
  });

  await t.test('helm upgrade with a changed value rolls out without losing a row', async () => {
    const before = JSON.parse((await node.kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items.map((p: any) => p.metadata.name);
    const tr = trickle(ns, inferenceSvc);
    await waitFor('some predictions', 60_000, async () => (tr.acked.length >= 10 ? true : undefined));
    await node.exec(helm, ['upgrade', release, CHART, '-n', ns, '--reuse-values', '--set', 'logLevel=debug', '--wait', '--timeout=8m'], { timeoutMs: 600_000 });
    const n = tr.acked.length;
    await waitFor('predictions after the upgrade', 120_000, async () => (tr.acked.length >= n + 10 ? true : undefined));
    await tr.stop();
    const after = JSON.parse((await node.kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items;
    assert.ok(after.every((p: any) => !before.includes(p.metadata.name)), 'the upgrade replaced the inference pod');
    assert.ok(after.every((p: any) => p.spec.containers[0].env.some((e: any) => e.name === 'SENTINEL_LOG_LEVEL' && e.value === 'debug')));
    const ids = loggedIds(volume);
    const lost = tr.acked.filter((id) => !ids.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${tr.acked.length} acknowledged predictions are not on the volume`);
    await assertPodsHealthy(ns);
  });

  await t.test('a failing drift run (empty log) keeps the previous report served and the ModelMonitor Failed; the next good run recovers', async () => {
    const goodLatest = JSON.parse(readFileSync(join(volume, 'reports', 'latest.json'), 'utf8'));
    // Empty the prediction log (moved aside on the host, put back for the recovery run).
    const live = join(volume, 'live');
    const aside = join(node.dir, 'live-aside');
    mkdirSync(aside, { recursive: true });
    for (const f of readdirSync(live)) renameSync(join(live, f), join(aside, f));
    const putBack = () => { for (const f of readdirSync(aside)) renameSync(join(aside, f), join(live, f)); rmSync(aside, { recursive: true }); };
    try {
      const state = await runDriftJob(ns, cronJob, 'drift-empty');
      assert.equal(state, 'Failed', await jobLogs(ns, 'drift-empty'));
      const mm = JSON.parse((await node.kubectl(['get', 'modelmonitor', '-n', ns, monitor, '-o', 'json'])).stdout);
      assert.equal(mm.status.verdict, 'Failed', JSON.stringify(mm.status));
      assert.ok(mm.status.lastFailure?.message, 'the failure reason is on the ModelMonitor');
      const cond = mm.status.conditions.find((c: any) => c.type === 'LastRunSucceeded');
      assert.equal(cond.status, 'False');
      t.diagnostic(`failed run reason: ${mm.status.lastFailure.message}`);
      const pf = await new PortForward(ns, `svc/${reportsSvc}`, 80).start();
      try {
        const latest = await getJson(pf.url('/latest.json'));
        assert.equal(latest.run_id, goodLatest.run_id, 'the previous good report is still the latest');
        assert.ok(latest.last_failure, 'latest.json records the failure');
        assert.equal((await fetch(pf.url(`/runs/${goodLatest.run_id}/report.html`))).status, 200);
      } finally { pf.stop(); }
    } finally { putBack(); }
    const again = await runDriftJob(ns, cronJob, 'drift-recover');
    assert.equal(again, 'Complete', await jobLogs(ns, 'drift-recover'));
    const mm2 = JSON.parse((await node.kubectl(['get', 'modelmonitor', '-n', ns, monitor, '-o', 'json'])).stdout);
    assert.ok(['Drift', 'Stable'].includes(mm2.status.verdict), JSON.stringify(mm2.status));
    assert.notEqual(mm2.status.lastRunId, goodLatest.run_id);
    assert.equal(mm2.status.conditions.find((c: any) => c.type === 'LastRunSucceeded').status, 'True');
  });

  await t.test('helm uninstall removes the chart\'s PVC (as the chart README says); the data stays on the Retain volume', async () => {
    await node.exec(helm, ['uninstall', release, '-n', ns, '--wait', '--timeout=5m'], { timeoutMs: 360_000 });
    const pvc = await node.kubectl(['get', 'pvc', '-n', ns, claim.name], { check: false });
    assert.notEqual(pvc.code, 0, 'the PVC is gone');
    assert.match(pvc.stderr, /NotFound/);
    const pv = JSON.parse((await node.kubectl(['get', 'pv', `${ns}-${claim.name}`, '-o', 'json'])).stdout);
    assert.equal(pv.status.phase, 'Released');
    assert.ok(loggedIds(volume).size > 0);
  });
});

test('the report server mounts the volume first: it still becomes writable for the inference API (fsGroup)', { timeout: 900_000 }, async () => {
  // A local PV gets the pods' fsGroup only on its first mount on the node, and never through a
  // read-only volume: the report server (read-only in its container) must not make it read-only.
  const ns = 'sentinel-reports-first';
  await restrictedNamespace(ns);
  const first = ['--set', 'inference.enabled=false', '--set', 'drift.enabled=false'];
  const claim = (await claimOf(ns, 'rf', first))!;
  const volume = await localVolume(ns, claim.name, claim.accessMode);
  await install(ns, 'rf', first);
  await assertPodsHealthy(ns);
  assert.equal(statSync(volume).gid, UID, 'the report server\'s mount applied the fsGroup');
  await node.exec(helm, ['upgrade', 'rf', CHART, '-n', ns, '--reuse-values', '--set', 'inference.enabled=true', '--wait', '--timeout=4m'], { timeoutMs: 300_000 });
  await assertPodsHealthy(ns);
  const svc = JSON.parse((await node.kubectl(['get', 'svc', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items[0].metadata.name;
  const pf = await new PortForward(ns, `svc/${svc}`, 80).start();
  try {
    const r = await predict(pf, { features: ROW });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(loggedIds(volume).has(r.body.id));
  } finally { pf.stop(); }
  await node.exec(helm, ['uninstall', 'rf', '-n', ns, '--wait', '--timeout=5m'], { timeoutMs: 360_000 });
});

test('persistence.annotations helm.sh/resource-policy=keep: helm uninstall leaves the PVC', { timeout: 900_000 }, async () => {
  const ns = 'sentinel-keep';
  await restrictedNamespace(ns);
  const args = ['--set', 'persistence.annotations.helm\\.sh/resource-policy=keep', '--set', 'drift.enabled=false', '--set', 'reports.enabled=false'];
  const claim = (await claimOf(ns, 'keep', args))!;
  await localVolume(ns, claim.name, claim.accessMode);
  await install(ns, 'keep', args);
  await assertPodsHealthy(ns);
  await node.exec(helm, ['uninstall', 'keep', '-n', ns, '--wait', '--timeout=5m'], { timeoutMs: 360_000 });
  const pvc = JSON.parse((await node.kubectl(['get', 'pvc', '-n', ns, claim.name, '-o', 'json'])).stdout);
  assert.equal(pvc.status.phase, 'Bound');
});

// Every ci/ scenario on one node: all pods Ready with no restarts, a prediction answered. A scenario
// file without an entry here fails (a new scenario must be decided on, not silently left out).
const WINE = join(REPO, 'models', 'wine');
/** The first `n` rows of a CSV as feature objects (numbers where they parse), without `drop` columns. */
function csvRows(file: string, n: number, drop: string[]): Record<string, unknown>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.slice(0, n).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number.isNaN(Number(v)) ? v : Number(v)]).filter(([k]) => !drop.includes(k as string))));
}
interface Scenario {
  /**
   * Pulls the image from the node's registry. Such tests run last: after the kubelet pulled the image
   * by digest, containerd 1.6's CRI no longer resolved the `ctr import`ed tags of the same image
   * (ImagePullBackOff for ghcr.io/sentinelml/sentinelml:<appVersion>, seen once).
   */
  fromRegistry?: boolean;
  setup?: (ns: string) => Promise<string[]>;
  /** Prediction body (default: one Adult row). */
  body?: unknown;
  /** After the prediction, before uninstall. */
  check?: (ns: string, pf: PortForward) => Promise<void>;
  /** After uninstall. */
  after?: (ns: string) => Promise<void>;
}
const SCENARIOS: Record<string, Scenario | null> = {
  // the big test above installs the defaults with it
  'default-values.yaml': null,
  'rwo-single-node-values.yaml': {},
  'operator-less-values.yaml': {},
  'everything-off-values.yaml': {},
  'hpa-networkpolicy-values.yaml': { setup: async () => { await node.kubectl(['create', 'namespace', 'monitoring']); return []; } },
  // The scenario's digest is a placeholder: here it is the digest of the image pushed to the node's
  // registry (a digest reference is resolved by the registry, not by local tags).
  'existing-claim-values.yaml': {
    fromRegistry: true,
    setup: async (ns) => {
      await localVolume(ns, 'shared-ml-data', 'ReadWriteMany');
      await node.kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'shared-ml-data' },
        spec: { accessModes: ['ReadWriteMany'], storageClassName: '', resources: { requests: { storage: '1Gi' } } } }) });
      return ['--set', `image.repository=${registryRepo}`, '--set', `image.digest=${appDigest}`];
    },
    // helm uninstall never touches a claim it did not create
    after: async (ns) => { await node.kubectl(['get', 'pvc', '-n', ns, 'shared-ml-data']); },
  },
  // The wine model from a ConfigMap, as the scenario's header says; predictions and a drift run with it.
  'byo-model-values.yaml': {
    setup: async (ns) => {
      await node.kubectl(['create', 'configmap', 'wine-model', '-n', ns, `--from-file=${join(WINE, 'model.onnx')}`, `--from-file=${join(WINE, 'model.json')}`, `--from-file=${join(WINE, 'reference.csv')}`]);
      return [];
    },
    body: { instances: csvRows(join(WINE, 'current.csv'), 30, ['cultivar']) },
    check: async (ns) => {
      const cron = JSON.parse((await node.kubectl(['get', 'cronjob', '-n', ns, '-o', 'json'])).stdout).items[0].metadata.name;
      const state = await runDriftJob(ns, cron, 'wine-drift');
      assert.equal(state, 'Complete', await jobLogs(ns, 'wine-drift'));
      const mm = JSON.parse((await node.kubectl(['get', 'modelmonitors', '-n', ns, '-o', 'json'])).stdout).items[0];
      assert.ok(['Drift', 'Stable'].includes(mm.status?.verdict), JSON.stringify(mm.status));
      assert.equal(mm.status.currentRows, 30, 'the drift job compared the 30 rows predicted through the ConfigMap model');
    },
  },
};
const ciFiles = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
for (const file of [...ciFiles.filter((f) => !SCENARIOS[f]?.fromRegistry), ...ciFiles.filter((f) => SCENARIOS[f]?.fromRegistry)]) {
  const s = SCENARIOS[file];
  if (s === null) continue;
  test(`ci/${file}: helm install --wait, pods Ready without restarts, a prediction answered`, { timeout: 900_000 }, async () => {
    assert.ok(s, `ci/${file} has no entry in SCENARIOS of ${import.meta.filename}: decide how it runs on the test node`);
    const ns = `ci-${file.replace('-values.yaml', '')}`;
    await restrictedNamespace(ns);
    const args = ['-f', join(CHART, 'ci', file), ...(s.setup ? await s.setup(ns) : [])];
    const claim = await claimOf(ns, 'ci', args);
    if (claim) await localVolume(ns, claim.name, claim.accessMode);
    await install(ns, 'ci', args);
    const pods = await assertPodsHealthy(ns);
    assert.ok(pods.length >= 2);
    const svc = JSON.parse((await node.kubectl(['get', 'svc', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items[0].metadata.name;
    const pf = await new PortForward(ns, `svc/${svc}`, 80).start();
    try {
      const r = await predict(pf, s.body ?? { features: ROW });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await s.check?.(ns, pf);
    } finally { pf.stop(); }
    await node.exec(helm, ['uninstall', 'ci', '-n', ns, '--wait', '--timeout=5m'], { timeoutMs: 360_000 });
    await s.after?.(ns);
  });
}

test('image pushed to a registry: the chart pulls it with image.repository/tag and pullPolicy Always', { timeout: 900_000 }, async () => {
  const ns = 'sentinel-registry';
  const repo = registryRepo;
  const ref = `${repo}:${APP_VERSION}`;
  await restrictedNamespace(ns);
  await install(ns, 'reg', ['--set', `image.repository=${repo}`, '--set', `image.tag=${APP_VERSION}`, '--set', 'image.pullPolicy=Always',
    '--set', 'persistence.enabled=false', '--set', 'drift.enabled=false', '--set', 'modelMonitor.enabled=false']);
  const pods = await assertPodsHealthy(ns);
  assert.ok(pods.every((p) => p.spec.containers[0].image === ref));
  const events = JSON.parse((await node.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout).items;
  assert.ok(events.some((e: any) => e.reason === 'Pulled' && e.message.includes(`Successfully pulled image "${ref}"`)), JSON.stringify(events.map((e: any) => e.message)));
  const svc = JSON.parse((await node.kubectl(['get', 'svc', '-n', ns, '-l', 'app.kubernetes.io/component=inference', '-o', 'json'])).stdout).items[0].metadata.name;
  const pf = await new PortForward(ns, `svc/${svc}`, 80).start();
  try { assert.equal((await predict(pf, { features: ROW })).status, 200); } finally { pf.stop(); }
  await node.exec(helm, ['uninstall', 'reg', '-n', ns, '--wait', '--timeout=5m'], { timeoutMs: 360_000 });
});
