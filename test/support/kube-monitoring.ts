// In-cluster monitoring on the single-node test cluster (kube-node.ts), set up the way
// kube-prometheus-stack sets it up: prometheus-operator (the CRDs' version, built from its Go module by
// scripts/provision/kube.sh) running as a Deployment with the project's own example RBAC, a `Prometheus`
// selecting ServiceMonitors and PrometheusRules labelled `release: kube-prometheus-stack` in every
// namespace, and an `Alertmanager` whose only receiver is a webhook: a Service without selector whose
// endpoint is an HTTP listener of the test on the node address. All images are built locally
// (scripts/provision/prometheus-operator.sh): the operator, its config-reloader sidecar, and Debian's
// Prometheus and Alertmanager.
//
//   const mon = await startMonitoring(node);         // after startKubeNode(); stops with the node
//   await mon.query('up');  mon.webhook.calls        // Prometheus HTTP API, notifications received
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseAllDocuments } from 'yaml';
import { promOperatorCrdDir, toolDirs } from './kube-apiserver.ts';
import { NODE_IP, type KubeNode } from './kube-node.ts';
import { waitFor } from './wait.ts';

export const MONITORING_NS = 'monitoring';
/** What kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules by (its release name). */
export const RELEASE_SELECTOR = { release: 'kube-prometheus-stack' };

export interface MonitoringImages {
  operatorVersion: string;
  rbacDir: string;
  operator: { image: string; archive: string };
  reloader: { image: string; archive: string };
  prometheus: { image: string; archive: string; version: string };
  alertmanager: { image: string; archive: string; version: string };
}

/** The images scripts/provision/prometheus-operator.sh built ($SENTINEL_TOOLS/monitoring-images.env). */
export function monitoringImages(): MonitoringImages {
  for (const d of toolDirs()) {
    if (!d.endsWith('/bin')) continue;
    const p = join(d, '..', 'monitoring-images.env');
    if (!existsSync(p)) continue;
    const e: Record<string, string> = {};
    for (const l of readFileSync(p, 'utf8').split('\n')) { const m = /^([A-Z_]+)=(.*)$/.exec(l); if (m) e[m[1]] = m[2]; }
    const archives = [e.OPERATOR_ARCHIVE, e.RELOADER_ARCHIVE, e.PROMETHEUS_ARCHIVE, e.ALERTMANAGER_ARCHIVE];
    if (archives.every((a) => a && existsSync(a)) && e.PROM_OPERATOR_RBAC && existsSync(e.PROM_OPERATOR_RBAC)) {
      return {
        operatorVersion: e.PROM_OPERATOR_VERSION, rbacDir: e.PROM_OPERATOR_RBAC,
        operator: { image: e.OPERATOR_IMAGE, archive: e.OPERATOR_ARCHIVE },
        reloader: { image: e.RELOADER_IMAGE, archive: e.RELOADER_ARCHIVE },
        prometheus: { image: e.PROMETHEUS_IMAGE, archive: e.PROMETHEUS_ARCHIVE, version: e.PROMETHEUS_VERSION },
        alertmanager: { image: e.ALERTMANAGER_IMAGE, archive: e.ALERTMANAGER_ARCHIVE, version: e.ALERTMANAGER_VERSION },
      };
    }
  }
  throw new Error('the monitoring images are not built: run `bash scripts/provision.sh kube node prometheus-operator` (npm test does it)');
}

export interface WebhookCall {
  /** Date.now() when the notification arrived. */
  at: number;
  body: {
    status: string; receiver: string; groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }[];
  };
}

export interface Monitoring {
  images: MonitoringImages;
  /** Base URL of the Prometheus pod's HTTP API (pod IP: the host routes to the pod network). */
  promUrl: string;
  webhook: { calls: WebhookCall[]; url: string };
  /** Instant query; throws on a query error. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** GET of a Prometheus API path, `data` of the answer. */
  api(path: string): Promise<any>;
  /** The Prometheus/Alertmanager resources as applied (for diagnostics). */
  scrapeInterval: string;
  evaluationInterval: string;
  stop(): Promise<void>;
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: any };
const yamlObjects = (file: string): Obj[] => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()).filter((o) => o && typeof o.kind === 'string');

/**
 * Installs the CRDs, the operator, Prometheus, Alertmanager and the webhook; resolves once Prometheus
 * answers and Alertmanager is a discovered, active alerting target of it.
 */
export async function startMonitoring(node: KubeNode, opts: { scrapeInterval?: string; evaluationInterval?: string } = {}): Promise<Monitoring> {
  const images = monitoringImages();
  const scrapeInterval = opts.scrapeInterval ?? '5s';
  const evaluationInterval = opts.evaluationInterval ?? '5s';
  const ns = MONITORING_NS;
  const apply = (objs: unknown[]) => node.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });

  for (const i of [images.operator, images.reloader, images.prometheus, images.alertmanager]) await node.importImage(i.archive, i.image, [i.image]);
  const crds = promOperatorCrdDir();
  for (const f of readdirSync(crds).filter((x) => x.endsWith('.yaml')).sort()) await node.kubectl(['apply', '--server-side', '-f', join(crds, f)]);
  await node.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  await node.kubectl(['create', 'namespace', ns]);

  // The webhook receiver: this process, on the node address; reached from pods through a Service.
  const calls: WebhookCall[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      try { calls.push({ at: Date.now(), body: JSON.parse(body) }); res.writeHead(200).end(); } catch { res.writeHead(400).end(); }
    });
  });
  server.listen(0, NODE_IP);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const stopServer = async () => { server.closeAllConnections(); server.close(); };
  try {
    await apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alert-webhook', namespace: ns }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'alert-webhook-test', namespace: ns, labels: { 'kubernetes.io/service-name': 'alert-webhook', 'endpointslice.kubernetes.io/managed-by': 'sentinelml-test' } },
        addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }], endpoints: [{ addresses: [NODE_IP], conditions: { ready: true } }] },
    ]);
    const webhookIp = JSON.parse((await node.kubectl(['get', 'svc', '-n', ns, 'alert-webhook', '-o', 'json'])).stdout).spec.clusterIP as string;
    const webhookUrl = `http://${webhookIp}/hook`;

    // The operator and Prometheus RBAC as the project ships it (example/rbac/), moved to our namespace.
    const rbac = (sub: string, skip: string[]) => readdirSync(join(images.rbacDir, sub)).filter((f) => f.endsWith('.yaml')).sort()
      .flatMap((f) => yamlObjects(join(images.rbacDir, sub, f))).filter((o) => !skip.includes(o.kind)).map((o) => {
        if (!o.kind.startsWith('Cluster')) o.metadata.namespace = ns;
        for (const s of o.subjects ?? []) if (s.kind === 'ServiceAccount') s.namespace = ns;
        return o;
      });
    const operatorObjs = rbac('prometheus-operator', ['ServiceMonitor']);
    const dep = operatorObjs.find((o) => o.kind === 'Deployment');
    if (!dep) throw new Error(`no operator Deployment in ${images.rbacDir}/prometheus-operator`);
    const c = dep.spec.template.spec.containers[0];
    c.image = images.operator.image;
    c.imagePullPolicy = 'Never';
    c.args = (c.args as string[]).filter((a) => !a.startsWith('--prometheus-config-reloader=')).concat([
      `--prometheus-config-reloader=${images.reloader.image}`,
      // The default 10m CPU limit of the reloader (init container included) throttles it to a crawl on
      // a busy 2-core test machine; limits are not what is tested here.
      '--config-reloader-cpu-limit=0',
    ]);
    await apply([...operatorObjs, ...rbac('prometheus', ['Prometheus'])]);
    await node.kubectl(['rollout', 'status', '-n', ns, `deployment/${dep.metadata.name}`, '--timeout=240s'], { timeoutMs: 260_000 });

    // Alertmanager: its configuration is the Secret alertmanager-<name> (the operator's default).
    const amConfig = {
      route: { receiver: 'webhook', group_by: ['alertname', 'namespace', 'job'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
    };
    await apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'alertmanager-main', namespace: ns }, stringData: { 'alertmanager.yaml': JSON.stringify(amConfig) } },
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'Alertmanager', metadata: { name: 'main', namespace: ns },
        spec: { image: images.alertmanager.image, version: images.alertmanager.version, replicas: 1 } },
      { apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus', metadata: { name: 'main', namespace: ns },
        spec: {
          image: images.prometheus.image, version: images.prometheus.version, replicas: 1, serviceAccountName: 'prometheus',
          scrapeInterval, evaluationInterval,
          // As kube-prometheus-stack: objects labelled with its release name, in every namespace.
          serviceMonitorSelector: { matchLabels: RELEASE_SELECTOR }, serviceMonitorNamespaceSelector: {},
          ruleSelector: { matchLabels: RELEASE_SELECTOR }, ruleNamespaceSelector: {},
          alerting: { alertmanagers: [{ namespace: ns, name: 'alertmanager-operated', port: 'web', apiVersion: 'v2' }] },
        } },
    ]);
    const podIp = (name: string) => waitFor(`pod ${name} Ready`, 300_000, async () => {
      const p = JSON.parse((await node.kubectl(['get', 'pod', '-n', ns, name, '-o', 'json'], { check: false })).stdout || '{}');
      const ready = p.status?.conditions?.find((x: any) => x.type === 'Ready')?.status === 'True';
      return ready ? (p.status.podIP as string) : undefined;
    }, async () => (await node.kubectl(['get', 'pods,events', '-n', ns, '-o', 'wide'], { check: false })).stdout);
    const promIp = await podIp('prometheus-main-0');
    await podIp('alertmanager-main-0');
    const promUrl = `http://${promIp}:9090`;
    const api = async (path: string) => {
      const r = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
      const body = await r.json() as { status: string; data: any; error?: string };
      if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
      return body.data;
    };
    await waitFor('Alertmanager discovered by Prometheus', 180_000, async () => {
      const d = await api('/api/v1/alertmanagers');
      return d.activeAlertmanagers.length > 0 ? true : undefined;
    });
    return {
      images, promUrl, scrapeInterval, evaluationInterval,
      webhook: { calls, url: webhookUrl },
      api,
      async query(expr) {
        const d = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
        return d.resultType === 'scalar' ? [{ metric: {}, value: d.result }] : d.result;
      },
      stop: stopServer,
    };
  } catch (e) {
    await stopServer();
    throw e;
  }
}
