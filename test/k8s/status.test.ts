// @needs-tools: the Kubernetes OpenAPI schemas (scripts/provision/helm.sh)
// src/services/k8s/status.ts against a loopback HTTPS stand-in for the Kubernetes API: it checks the method,
// path, content type (merge patch for the status subresource), bearer token and body of every
// request, and answers like the API server would. Also the paths without cluster access: no
// kubeconfig at all, an unreachable server, a hanging server, 403 and 404 answers. The real
// kube-apiserver test is issue 6's harness; this one pins the wire format.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { crdToSchemas, readYamlDocs } from '../chart/support/schemas.ts';
import { TOOLS } from '../chart/support/helm.ts';
import type { DriftResult } from '../../src/drift/result.ts';
import { createLogger } from '../../src/logger.ts';
import { buildStatus, publishRunStatus, type Condition } from '../../src/services/k8s/status.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const cert = readFileSync(join(fixtures, 'server-cert.pem'));
const key = readFileSync(join(fixtures, 'server-key.pem'));
const TOKEN = 'stand-in-token';
const NS = 'ml';
const NAME = 'rel-sentinelml';
const MM_PATH = `/apis/sentinelml.io/v1alpha1/namespaces/${NS}/modelmonitors/${NAME}`;
const EVENTS_PATH = `/apis/events.k8s.io/v1/namespaces/${NS}/events`;
const NOW = new Date('2026-11-26T12:00:00.123Z');

interface Recorded { method: string; path: string; contentType: string | undefined; authorization: string | undefined; body: any }

/** The stand-in's state: the stored ModelMonitor and what each route answers. */
const state = {
  requests: [] as Recorded[],
  monitor: {} as any,
  getStatus: 200,
  patchStatus: 200,
  eventStatus: 201,
  hang: false,
};

function status(res: ServerResponse, code: number, reason: string, message: string) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const path = new URL(req.url ?? '/', 'https://x').pathname;
  state.requests.push({ method: req.method!, path, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: raw ? JSON.parse(raw) : undefined });
  if (state.hang) return; // never answers
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
  if (req.method === 'GET' && path === MM_PATH) {
    if (state.getStatus === 403) return status(res, 403, 'Forbidden', `modelmonitors.sentinelml.io "${NAME}" is forbidden: User "system:serviceaccount:ml:x" cannot get resource "modelmonitors"`);
    if (state.getStatus === 404) return status(res, 404, 'NotFound', `modelmonitors.sentinelml.io "${NAME}" not found`);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(state.monitor));
  }
  if (req.method === 'PATCH' && path === `${MM_PATH}/status`) {
    // The API server refuses a JSON patch body sent as merge patch and vice versa.
    if (req.headers['content-type'] !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', `unsupported content type ${req.headers['content-type']}`);
    if (state.patchStatus !== 200) return status(res, state.patchStatus, 'InternalError', 'patch failed');
    const body = JSON.parse(raw);
    state.monitor = { ...state.monitor, status: { ...(state.monitor.status ?? {}), ...body.status } };
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(state.monitor));
  }
  if (req.method === 'POST' && path === EVENTS_PATH) {
    if (state.eventStatus !== 201) return status(res, state.eventStatus, 'InternalError', 'etcd is sad');
    const body = JSON.parse(raw);
    // The API server's object-name rules (RFC 1123 subdomain; generateName is a prefix of one).
    const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    const generateName: string | undefined = body.metadata?.generateName;
    if (generateName !== undefined && !DNS1123.test(generateName.replace(/-$/, 'a'))) return status(res, 422, 'Invalid', `metadata.generateName: Invalid value: "${generateName}"`);
    const name = body.metadata?.name ?? `${generateName ?? ''}x1234`;
    if (!DNS1123.test(name) || name.length > 253) return status(res, 422, 'Invalid', `Event "${name}" is invalid: metadata.name`);
    res.writeHead(201, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ ...body, metadata: { ...body.metadata, name, uid: 'e-1' } }));
  }
  return status(res, 404, 'NotFound', `no route ${req.method} ${path}`);
}

let server: Server;
let port: number;
before(async () => {
  server = createServer({ key, cert }, (req, res) => void handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  state.requests = [];
  state.getStatus = 200;
  state.patchStatus = 200;
  state.eventStatus = 201;
  state.hang = false;
  state.monitor = {
    apiVersion: 'sentinelml.io/v1alpha1',
    kind: 'ModelMonitor',
    metadata: { name: NAME, namespace: NS, uid: 'mm-uid-1', generation: 2 },
    spec: { driftScoreThreshold: 0.1 },
  };
});

function kubeConfig(server = `https://127.0.0.1:${port}`): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'stand-in', server, caData: cert.toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'drift-job', token: TOKEN }],
    contexts: [{ name: 'ctx', cluster: 'stand-in', user: 'drift-job', namespace: NS }],
    currentContext: 'ctx',
  });
  return kc;
}

function capture() {
  const lines: any[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { logger: createLogger({ stream, level: 'debug' }), lines };
}

function result(over: Partial<DriftResult> = {}): DriftResult {
  const column = (name: string, drift: boolean, score: number) => ({
    name, type: 'numerical' as const, stattest: 'wasserstein', threshold: 0.1, statistic: score, p_value: null, stattest_score: score,
    score, score_method: 'wasserstein', drift_detected: drift, error: null,
    reference: { count: 100, missing: 0 }, current: { count: 80, missing: 0 }, distribution: null,
  });
  return {
    schema_version: 1, run_id: '20261126T115900Z-abc', started_at: '2026-11-26T11:59:00.000Z', finished_at: '2026-11-26T11:59:30.000Z',
    window: { since: null, from: null, to: null }, reference: { path: '/app/data/reference.csv', rows: 14155 },
    current: { path: '/data/live', rows: 34687, files: 1, torn_lines: 0, skipped_rows: 0 }, compat: true,
    columns: [column('age', false, 0.02), column('education-num', true, 0.31)], prediction: null,
    drifted_columns: 1, tested_columns: 2, drift_share: 0.5, drift_share_threshold: 0.5, dataset_drift: false, drift_score: 0.05,
    ...over,
  };
}

const MICROTIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// What the API server would enforce on the bodies: the chart's ModelMonitor CRD schema (structural,
// unknown fields rejected instead of silently pruned) and the events.k8s.io/v1 Event schema from the
// Kubernetes OpenAPI document (generated offline by scripts/provision/helm.sh).
const ajv = new Ajv({ strict: false, allErrors: true });
const crdSchema = crdToSchemas(readYamlDocs([join(import.meta.dirname, '../../charts/sentinelml/crds/modelmonitors.sentinelml.io.yaml')])).get('modelmonitor-sentinelml-v1alpha1.json')!;
const validateMonitor = ajv.compile(crdSchema);
const k8sVersion = /K8S_SCHEMA_VERSION=(\S+)/.exec(readFileSync(join(TOOLS, 'schemas/VERSIONS'), 'utf8'))![1];
const validateEvent = ajv.compile(JSON.parse(readFileSync(join(TOOLS, `schemas/kubernetes/${k8sVersion}-standalone-strict/event-events-v1.json`), 'utf8')));

describe('publishRunStatus against the HTTPS stand-in', () => {
  const cases: { name: string; input: { result?: DriftResult; failure?: { message: string } }; verdict: string; eventType: string; reason: string; drift: string }[] = [
    { name: 'stable run', input: { result: result() }, verdict: 'Stable', eventType: 'Normal', reason: 'NoDrift', drift: 'False' },
    { name: 'score above the monitor threshold', input: { result: result({ drift_score: 0.3 }) }, verdict: 'Drift', eventType: 'Warning', reason: 'DriftScoreAboveThreshold', drift: 'True' },
    { name: 'dataset drift', input: { result: result({ dataset_drift: true, drift_share: 1, drifted_columns: 2, drift_score: 0.08 }) }, verdict: 'Drift', eventType: 'Warning', reason: 'DatasetDrift', drift: 'True' },
    { name: 'failed run', input: { failure: { message: 'reference file /app/data/reference.csv: no such file' } }, verdict: 'Failed', eventType: 'Warning', reason: 'RunFailed', drift: 'absent' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { logger, lines } = capture();
      const out = await publishRunStatus({ kubeConfig: kubeConfig(), namespace: NS, name: NAME, ...c.input, logger, instance: 'rel-sentinelml-drift-29000000-x7k2p', now: () => NOW });
      assert.deepEqual(out, { skipped: null, statusPatched: true, eventCreated: true, verdict: c.verdict });

      assert.deepEqual(state.requests.map((r) => `${r.method} ${r.path}`), [`GET ${MM_PATH}`, `PATCH ${MM_PATH}/status`, `POST ${EVENTS_PATH}`]);
      for (const r of state.requests) assert.equal(r.authorization, `Bearer ${TOKEN}`);

      const patch = state.requests[1];
      assert.equal(patch.contentType, 'application/merge-patch+json');
      assert.deepEqual(Object.keys(patch.body), ['status']);
      const s = patch.body.status;
      assert.equal(s.verdict, c.verdict);
      assert.equal(s.observedGeneration, 2);
      const cond = Object.fromEntries((s.conditions as Condition[]).map((x) => [x.type, x]));
      assert.equal(cond.LastRunSucceeded.status, c.verdict === 'Failed' ? 'False' : 'True');
      assert.equal(cond.LastRunSucceeded.lastTransitionTime, NOW.toISOString());
      assert.equal(cond.LastRunSucceeded.observedGeneration, 2);
      if (c.drift === 'absent') {
        assert.equal(cond.DriftDetected, undefined);
        assert.deepEqual(s.lastFailure, { time: NOW.toISOString(), message: c.input.failure!.message });
        assert.equal(s.lastRunTime, NOW.toISOString());
        assert.equal(s.driftScore, undefined, 'a failed run keeps the last successful numbers');
      } else {
        const r = c.input.result!;
        assert.equal(cond.DriftDetected.status, c.drift);
        assert.equal(cond.DriftDetected.reason, c.reason);
        assert.equal(s.driftScore, r.drift_score);
        assert.equal(s.driftShare, r.drift_share);
        assert.equal(s.datasetDrift, r.dataset_drift);
        assert.equal(s.lastRunId, r.run_id);
        assert.equal(s.lastRunTime, r.finished_at);
        assert.deepEqual(s.driftedFeatures, r.columns.filter((x) => x.drift_detected).map((x) => x.name));
        assert.equal(s.referenceRows, 14155);
        assert.equal(s.currentRows, 34687);
      }
      for (const x of s.conditions as Condition[]) assert.match(x.reason, /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
      const merged = { ...state.monitor, status: s };
      assert.ok(validateMonitor(merged), `status not valid under the CRD schema: ${JSON.stringify(validateMonitor.errors)}`);

      const ev = state.requests[2];
      assert.equal(ev.contentType, 'application/json');
      assert.equal(ev.body.apiVersion, 'events.k8s.io/v1');
      assert.equal(ev.body.kind, 'Event');
      assert.match(ev.body.metadata.name, new RegExp(`^${NAME}\\.[0-9a-f]{18,}$`));
      assert.equal(ev.body.type, c.eventType);
      assert.equal(ev.body.reason, c.reason);
      assert.equal(ev.body.action, 'DriftRun');
      assert.equal(ev.body.reportingController, 'sentinelml.io/drift-job');
      assert.equal(ev.body.reportingInstance, 'rel-sentinelml-drift-29000000-x7k2p');
      assert.match(ev.body.eventTime, MICROTIME, 'eventTime is a MicroTime (RFC 3339 with microseconds)');
      assert.equal(ev.body.eventTime, '2026-11-26T12:00:00.123000Z');
      assert.deepEqual(ev.body.regarding, { apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', name: NAME, namespace: NS, uid: 'mm-uid-1' });
      assert.ok(ev.body.note.length > 10 && ev.body.note.length <= 1024);
      assert.ok(validateEvent(ev.body), `not a valid events.k8s.io/v1 Event: ${JSON.stringify(validateEvent.errors)}`);

      assert.equal(lines.filter((l) => l.level >= 40).length, 0, JSON.stringify(lines));
      assert.ok(lines.some((l) => l.event === 'monitor_status_published' && l.verdict === c.verdict));
    });
  }

  test('a condition keeps its lastTransitionTime while its status does not change', async () => {
    const earlier = '2026-11-20T08:00:00.000Z';
    state.monitor.status = {
      conditions: [
        { type: 'LastRunSucceeded', status: 'True', reason: 'RunCompleted', message: 'x', lastTransitionTime: earlier },
        { type: 'DriftDetected', status: 'True', reason: 'DatasetDrift', message: 'x', lastTransitionTime: earlier },
        { type: 'SomeoneElses', status: 'True', reason: 'Other', message: 'kept', lastTransitionTime: earlier },
      ],
    };
    const { logger } = capture();
    await publishRunStatus({ kubeConfig: kubeConfig(), namespace: NS, name: NAME, result: result(), logger, now: () => NOW });
    const cond = Object.fromEntries((state.requests[1].body.status.conditions as Condition[]).map((x) => [x.type, x]));
    assert.equal(cond.LastRunSucceeded.lastTransitionTime, earlier); // still True
    assert.equal(cond.DriftDetected.lastTransitionTime, NOW.toISOString()); // True → False
    assert.equal(cond.SomeoneElses.message, 'kept'); // merge patch replaces lists: others are carried over
    // A failure after that keeps the DriftDetected verdict of the last successful run.
    state.requests = [];
    await publishRunStatus({ kubeConfig: kubeConfig(), namespace: NS, name: NAME, failure: { message: 'boom' }, logger, now: () => new Date('2026-11-26T13:00:00Z') });
    const after = Object.fromEntries((state.requests[1].body.status.conditions as Condition[]).map((x) => [x.type, x]));
    assert.equal(after.LastRunSucceeded.status, 'False');
    assert.equal(after.LastRunSucceeded.lastTransitionTime, '2026-11-26T13:00:00.000Z');
    assert.equal(after.DriftDetected.status, 'False');
    assert.equal(after.DriftDetected.lastTransitionTime, NOW.toISOString());
  });

  test('the default kubeconfig path (KUBECONFIG) is used when none is injected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinelml-kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(file, kubeConfig().exportConfig());
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      const { logger } = capture();
      const out = await publishRunStatus({ namespace: NS, name: NAME, result: result(), logger, now: () => NOW });
      assert.equal(out.statusPatched, true);
      assert.equal(out.eventCreated, true);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  test('the status is still patched when the event cannot be created', async () => {
    state.eventStatus = 500;
    const { logger, lines } = capture();
    const out = await publishRunStatus({ kubeConfig: kubeConfig(), namespace: NS, name: NAME, result: result(), logger, now: () => NOW });
    assert.deepEqual(out, { skipped: null, statusPatched: true, eventCreated: false, verdict: 'Stable' });
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].event, 'monitor_event_not_created');
    assert.match(warnings[0].reason, /HTTP 500: etcd is sad/);
  });
});

describe('without cluster access it logs one clear line and returns', () => {
  const run = async (opts: { kubeConfig?: KubeConfig; timeoutMs?: number }) => {
    const { logger, lines } = capture();
    const t0 = Date.now();
    const out = await publishRunStatus({ namespace: NS, name: NAME, result: result(), logger, now: () => NOW, ...opts });
    return { out, lines, ms: Date.now() - t0 };
  };
  const oneWarning = (lines: any[], re: RegExp) => {
    const warnings = lines.filter((l) => l.level >= 40);
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.equal(warnings[0].event, 'monitor_status_not_published');
    assert.match(warnings[0].reason, re);
  };

  test('no in-cluster service account and no kubeconfig', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    process.env.KUBECONFIG = '';
    process.env.HOME = mkdtempSync(join(tmpdir(), 'sentinelml-home-'));
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      const { out, lines } = await run({});
      assert.deepEqual(out, { skipped: 'no in-cluster service account and no kubeconfig', statusPatched: false, eventCreated: false, verdict: 'Stable' });
      oneWarning(lines, /^no in-cluster service account and no kubeconfig$/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    assert.equal(state.requests.length, 0);
  });

  test('API server unreachable', async () => {
    const closed = createServer({ key, cert });
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as AddressInfo).port;
    closed.close();
    const { out, lines } = await run({ kubeConfig: kubeConfig(`https://127.0.0.1:${deadPort}`) });
    assert.equal(out.statusPatched, false);
    assert.match(out.skipped!, /cannot read modelmonitors\/rel-sentinelml in namespace ml: .*ECONNREFUSED/);
    oneWarning(lines, /^cannot read .*ECONNREFUSED/);
  });

  test('API server that never answers: bounded by the timeout', async () => {
    state.hang = true;
    const { out, lines, ms } = await run({ kubeConfig: kubeConfig(), timeoutMs: 300 });
    assert.equal(out.statusPatched, false);
    assert.ok(ms < 5000, `took ${ms} ms`);
    oneWarning(lines, /^cannot read modelmonitors\/rel-sentinelml in namespace ml: request timed out$/);
  });

  test('forbidden (RBAC missing)', async () => {
    state.getStatus = 403;
    const { out, lines } = await run({ kubeConfig: kubeConfig() });
    assert.equal(out.statusPatched, false);
    oneWarning(lines, /HTTP 403: modelmonitors.sentinelml.io "rel-sentinelml" is forbidden/);
    assert.equal(state.requests.length, 1);
  });

  test('the ModelMonitor does not exist', async () => {
    state.getStatus = 404;
    const { out, lines } = await run({ kubeConfig: kubeConfig() });
    assert.equal(out.eventCreated, false);
    oneWarning(lines, /HTTP 404: modelmonitors.sentinelml.io "rel-sentinelml" not found/);
  });
});

test('buildStatus without a threshold in the spec uses dataset drift only', () => {
  const b = buildStatus({ result: result({ drift_score: 0.9 }), threshold: undefined, previous: [], generation: undefined, now: NOW });
  assert.equal(b.verdict, 'Stable');
  assert.equal(b.status.observedGeneration, undefined);
});
