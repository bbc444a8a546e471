// @needs-tools: etcd, kube-apiserver, kubectl
// The test harness itself against a real kube-apiserver + etcd (see test/support/kube-apiserver.ts):
// it comes up with RBAC, kubectl and @kubernetes/client-node work with its kubeconfig, ServiceAccount
// tokens and impersonation authenticate as the ServiceAccount, and the prometheus-operator CRDs install.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, ApiException } from '@kubernetes/client-node';
import { promOperatorCrdDir, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.ts';

let kube: KubeApiServer;
before(async () => { kube = await startKubeApiServer(); });
after(async () => { await kube?.stop(); });

test('the API server is ready, with RBAC authorization and its bootstrap roles', async () => {
  const ready = await kube.request('GET', '/readyz?verbose');
  assert.equal(ready.status, 200, String(ready.body));
  const version = await kube.request('GET', '/version');
  assert.equal(version.status, 200);
  assert.match(version.body.gitVersion, /^v1\.\d+\.\d+$/, 'the server reports a real version (kube.sh stamps it), not v0.0.0');
  assert.equal(kube.versions.kubeApiServer, `Kubernetes ${version.body.gitVersion}`);
  const modes = await kube.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin');
  assert.equal(modes.status, 200, 'bootstrap ClusterRole cluster-admin exists (RBAC post-start hook ran)');
  const anon = await kube.request('GET', '/api/v1/namespaces', undefined, { token: 'not-a-valid-token' });
  assert.equal(anon.status, 401, 'an invalid bearer token is rejected');
});

test('kubectl works with the kubeconfig: create a namespace and read it back with client-node', async () => {
  await kube.kubectl(['create', 'namespace', 'smoke']);
  const got = await kube.kubectl(['get', 'namespace', 'smoke', '-o', 'jsonpath={.status.phase}']);
  assert.equal(got.stdout, 'Active');
  const core = kube.kubeConfig().makeApiClient(CoreV1Api);
  const ns = await core.readNamespace({ name: 'smoke' });
  assert.equal(ns.metadata?.name, 'smoke');
  const whoami = await kube.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
  assert.match(whoami.stdout, /system:masters/);
});

test('a ServiceAccount token (TokenRequest) authenticates as the ServiceAccount, which has no rights by default', async () => {
  await kube.kubectl(['create', 'serviceaccount', 'probe', '-n', 'smoke']);
  const token = await kube.serviceAccountToken('smoke', 'probe');
  const saConfig = kube.writeKubeconfig('probe', { token, namespace: 'smoke' });
  const whoami = await kube.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: saConfig });
  assert.equal(whoami.stdout, 'system:serviceaccount:smoke:probe');
  const denied = await kube.kubectl(['get', 'configmaps', '-n', 'smoke'], { kubeconfig: saConfig, check: false });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /forbidden/i);
  const core = kube.kubeConfig({ token }).makeApiClient(CoreV1Api);
  await assert.rejects(core.listNamespacedSecret({ namespace: 'smoke' }), (e: unknown) => e instanceof ApiException && e.code === 403);
  // Impersonation by the admin yields the same identity (the API server adds the ServiceAccount groups).
  const as = await kube.kubectl(['auth', 'whoami', '-o', 'json'], { as: 'system:serviceaccount:smoke:probe' });
  const info = JSON.parse(as.stdout).status.userInfo;
  assert.equal(info.username, 'system:serviceaccount:smoke:probe');
  assert.ok(info.groups.includes('system:serviceaccounts:smoke'), JSON.stringify(info.groups));
  const canI = await kube.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'smoke'], { as: 'system:serviceaccount:smoke:probe', check: false });
  assert.equal(canI.stdout.trim(), 'no');
  const impersonated = kube.kubeConfig({ as: 'system:serviceaccount:smoke:probe' }).makeApiClient(CoreV1Api);
  await assert.rejects(impersonated.listNamespacedConfigMap({ namespace: 'smoke' }), (e: unknown) => e instanceof ApiException && e.code === 403);
});

// Controls for what the chart tests rely on: strict field validation rejects unknown fields, and a
// namespace labelled pod-security.kubernetes.io/warn=restricted warns about non-compliant pod templates.
test('strict server-side validation rejects unknown fields; Pod Security warns on a non-restricted pod template', async () => {
  const bad = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typo', namespace: 'smoke' }, data: { a: 'b' }, dataa: { c: 'd' } });
  const rejected = await kube.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'], { input: bad, check: false });
  assert.notEqual(rejected.code, 0);
  assert.match(rejected.stderr, /dataa.*(field not declared in schema|unknown field)|unknown field "dataa"/);
  await kube.kubectl(['create', 'namespace', 'psa']);
  await kube.kubectl(['label', 'namespace', 'psa', 'pod-security.kubernetes.io/warn=restricted']);
  const deployment = JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'root', namespace: 'psa' },
    spec: { selector: { matchLabels: { app: 'root' } }, template: { metadata: { labels: { app: 'root' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const warned = await kube.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'], { input: deployment });
  assert.match(warned.stderr, /Warning: would violate PodSecurity "restricted/);
});

test('the prometheus-operator CRDs (ServiceMonitor, PrometheusRule, ...) apply server-side and become Established', async () => {
  const dir = promOperatorCrdDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.some((f) => f.endsWith('_servicemonitors.yaml')) && files.some((f) => f.endsWith('_prometheusrules.yaml')), files.join(', '));
  for (const f of files) await kube.kubectl(['apply', '--server-side', '-f', join(dir, f)]);
  await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  const resources = await kube.kubectl(['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name']);
  assert.match(resources.stdout, /^servicemonitors\.monitoring\.coreos\.com$/m);
  assert.match(resources.stdout, /^prometheusrules\.monitoring\.coreos\.com$/m);
});
