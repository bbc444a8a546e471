// @needs-tools: promtool, tmpfs (root)
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { createInferenceApp } from '../../src/services/http/app.ts';
import { createLogger } from '../../src/logger.ts';
import { logColumns } from '../../src/io/log/schema.ts';
import { createLogWriter, type LogWriter } from '../../src/io/log/writer.ts';
import { createInferenceMetrics } from '../../src/services/metrics/inference.ts';
import type { Model } from '../../src/io/model/onnx.ts';
import { featureRowsFrom, loadBundledModel } from '../support/model.ts';
import { REPO } from '../support/process.ts';
import { mountTinyTmpfs } from '../support/tmpfs.ts';

interface Harness {
  url: string;
  dir: string;
  registry: Registry;
  log: LogWriter;
  logLines: string[];
  close(): Promise<void>;
}

async function startApp(model: Model, dir: string): Promise<Harness> {
  const registry = new Registry();
  const metrics = createInferenceMetrics(registry, model.card);
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', stream: new Writable({ write(c, _e, cb) { logLines.push(c.toString()); cb(); } }) });
  const log = createLogWriter({
    dir,
    instanceId: 'test',
    columns: logColumns(model.card.features.map((f) => f.name)),
    onFlush: (s) => metrics.logWriteDuration.observe(s),
    onFailure: () => metrics.logWriteFailures.inc(),
  });
  const probeLog = async () => {
    writeFileSync(join(dir, '.probe'), 'ok');
    rmSync(join(dir, '.probe'));
  };
  const { app } = createInferenceApp({ model, log, probeLog, registry, metrics, logger, maxBodyBytes: 64 * 1024, maxInstances: 100 });
  const server: Server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    registry,
    log,
    logLines,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await log.close();
    },
  };
}

/** Any method, raw (fetch refuses TRACE and friends). */
function rawRequest(base: string, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const post = (url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${url}/predict`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

function readLog(dir: string): Record<string, string>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .flatMap((f) => parse(readFileSync(join(dir, f)), { columns: true }) as Record<string, string>[]);
}

describe('inference API (in-process, real ONNX model, real files)', () => {
  let model: Model;
  let h: Harness;
  let rows: Record<string, number | string | null>[];
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  before(async () => {
    model = await loadBundledModel();
    h = await startApp(model, mkdtempSync(join(tmpdir(), 'sentinel-app-')));
    rows = featureRowsFrom(`${REPO}data/current.csv`, model.card, 200);
  });
  after(async () => {
    await h.close();
    await model.close();
    rmSync(h.dir, { recursive: true, force: true });
  });

  it('answers a single prediction with every field of the contract', async () => {
    const res = await post(h.url, { features: rows[0] });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.match(body.id, UUID_V4);
    assert.equal(new Date(body.timestamp).toISOString(), body.timestamp);
    assert.ok(model.card.classes.includes(body.prediction));
    assert.deepEqual(Object.keys(body.probabilities), model.card.classes);
    assert.equal(body.confidence, body.probabilities[body.prediction]);
    assert.equal(body.confidence, Math.max(...(Object.values(body.probabilities) as number[])));
    assert.equal(body.model_version, model.card.version);
  });

  it('answers a batch in order, same as single predictions', async () => {
    const res = await post(h.url, { instances: rows.slice(0, 5) });
    assert.equal(res.status, 200);
    const { predictions } = (await res.json()) as any;
    assert.equal(predictions.length, 5);
    for (let i = 0; i < 5; i++) {
      const single = (await (await post(h.url, { features: rows[i] })).json()) as any;
      assert.equal(predictions[i].prediction, single.prediction);
      assert.equal(predictions[i].confidence, single.confidence);
    }
    assert.equal(new Set(predictions.map((p: any) => p.id)).size, 5);
  });

  it('accepts null for a nullable feature', async () => {
    const res = await post(h.url, { features: { ...rows[0], workclass: null } });
    assert.equal(res.status, 200);
  });

  it('logs exactly one row per returned prediction, matching id, prediction and confidence', async () => {
    const got: any[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const res = await post(h.url, i % 4 === 0 ? { instances: rows.slice(i, i + 3) } : { features: rows[i] });
        assert.equal(res.status, 200);
        const body = (await res.json()) as any;
        got.push(...(body.predictions ?? [body]));
      }),
    );
    const logged = new Map(readLog(h.dir).map((r) => [r.request_id, r]));
    for (const p of got) {
      const r = logged.get(p.id);
      assert.ok(r, `prediction ${p.id} has no log row`);
      assert.equal(r.prediction, p.prediction);
      assert.equal(Number(r.confidence), p.confidence);
      assert.equal(r.model_version, p.model_version);
      assert.equal(r.timestamp, p.timestamp);
    }
    const header = Object.keys(readLog(h.dir)[0]);
    assert.deepEqual(header, logColumns(model.card.features.map((f) => f.name)));
  });

  // Each bad request: expected status, error code, and the fields that must be named.
  const cases: { name: string; body: () => unknown; headers?: Record<string, string>; status: number; code: string; fields?: string[] }[] = [
    { name: 'wrong types', body: () => ({ features: { ...rows[0], age: '39', education: 5 } }), status: 422, code: 'invalid_features', fields: ['features.age', 'features.education'] },
    { name: 'missing feature', body: () => { const { age, ...rest } = rows[0]; return { features: rest }; }, status: 422, code: 'invalid_features', fields: ['features.age'] },
    { name: 'unknown feature', body: () => ({ features: { ...rows[0], salary: 1 } }), status: 422, code: 'invalid_features', fields: ['features.salary'] },
    { name: 'unknown category', body: () => ({ features: { ...rows[0], sex: 'Unknown' } }), status: 422, code: 'invalid_features', fields: ['features.sex'] },
    { name: 'Infinity (1e999)', body: () => `{"features": ${JSON.stringify({ ...rows[0], age: 0 }).replace('"age":0', '"age":1e999')}}`, status: 422, code: 'invalid_features', fields: ['features.age'] },
    { name: 'NaN literal', body: () => `{"features": {"age": NaN}}`, status: 400, code: 'malformed_json' },
    { name: 'out of range', body: () => ({ features: { ...rows[0], age: 500, 'hours-per-week': -1 } }), status: 422, code: 'invalid_features', fields: ['features.age', 'features.hours-per-week'] },
    { name: 'not an integer', body: () => ({ features: { ...rows[0], age: 39.5 } }), status: 422, code: 'invalid_features', fields: ['features.age'] },
    { name: 'null for a non-nullable feature', body: () => ({ features: { ...rows[0], age: null } }), status: 422, code: 'invalid_features', fields: ['features.age'] },
    { name: 'every problem of a batch, by index', body: () => ({ instances: [rows[0], { ...rows[1], race: 1 }, { ...rows[2], age: -5 }] }), status: 422, code: 'invalid_features', fields: ['instances[1].race', 'instances[2].age'] },
    { name: 'empty batch', body: () => ({ instances: [] }), status: 422, code: 'invalid_features', fields: ['instances'] },
    { name: 'batch too large', body: () => ({ instances: Array(101).fill(rows[0]) }), status: 422, code: 'invalid_features', fields: ['instances'] },
    { name: 'both features and instances', body: () => ({ features: rows[0], instances: [rows[0]] }), status: 400, code: 'invalid_body' },
    { name: 'neither features nor instances', body: () => ({}), status: 400, code: 'invalid_body' },
    { name: 'a JSON array body', body: () => [rows[0]], status: 400, code: 'invalid_body' },
    { name: 'malformed JSON', body: () => '{"features": {', status: 400, code: 'malformed_json' },
    { name: 'wrong content type', body: () => JSON.stringify({ features: rows[0] }), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
    { name: 'oversized body', body: () => JSON.stringify({ features: { ...rows[0], pad: 'x'.repeat(100 * 1024) } }), status: 413, code: 'body_too_large' },
    { name: 'a __proto__ key', body: () => `{"features": {"__proto__": {"polluted": 1}}}`, status: 400, code: 'forbidden_key' },
    { name: 'a constructor.prototype key', body: () => `{"features": {"constructor": {"prototype": {"polluted": 1}}}}`, status: 422, code: 'invalid_features', fields: ['features.constructor', 'features.age'] },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.status} ${c.code}`, async () => {
      const before = readLog(h.dir).length;
      const res = await post(h.url, c.body(), c.headers);
      assert.equal(res.status, c.status);
      const body = (await res.json()) as any;
      assert.equal(body.error.code, c.code);
      assert.equal(typeof body.error.message, 'string');
      if (c.fields) {
        const named = body.error.details.problems.map((p: any) => p.field);
        for (const f of c.fields) assert.ok(named.includes(f), `${f} not named in ${JSON.stringify(named)}`);
      }
      assert.equal(({} as any).polluted, undefined);
      assert.equal(readLog(h.dir).length, before, 'an invalid request must not be logged');
    });
  }

  it('counts invalid requests by reason', async () => {
    const text = await h.registry.metrics();
    assert.match(text, /sentinelml_invalid_requests_total\{reason="invalid_features"\} \d+/);
    assert.match(text, /sentinelml_invalid_requests_total\{reason="unsupported_media_type"\} 1/);
  });

  it('serves health, readiness, OpenAPI, JSON 404 and 405', async () => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 200);
    const spec = (await (await fetch(`${h.url}/openapi.json`)).json()) as any;
    assert.equal(spec.openapi, '3.1.0');
    assert.ok(spec.paths['/predict'].post);
    assert.deepEqual(spec.components.schemas.Features.required, model.card.features.map((f) => f.name));
    // Issue 10: the limits and the error statuses the server really answers are declared.
    const predictOp = spec.paths['/predict'].post;
    assert.equal(predictOp.requestBody.content['application/json'].schema.oneOf[1].properties.instances.maxItems, 100);
    for (const code of ['400', '405', '413', '415', '422', '503']) assert.ok(predictOp.responses[code], `/predict does not declare ${code}`);
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json']) assert.ok(spec.paths[p].get.responses['405'], `${p} does not declare 405`);
    const nf = await fetch(`${h.url}/nope`);
    assert.equal(nf.status, 404);
    assert.equal(((await nf.json()) as any).error.code, 'not_found');
    const m = await fetch(`${h.url}/predict`);
    assert.equal(m.status, 405);
    assert.equal(((await m.json()) as any).error.code, 'method_not_allowed');
  });

  it('answers any method a route does not take (TRACE, PURGE, PUT) with a JSON 405 and Allow, never 5xx (issue 10)', async () => {
    for (const method of ['TRACE', 'PURGE', 'PUT', 'DELETE', 'PATCH', 'LOCK']) {
      const r = await rawRequest(h.url, method, '/predict');
      assert.equal(r.status, 405, `${method} /predict`);
      assert.equal(r.headers.allow, 'POST');
      assert.equal(JSON.parse(r.body).error.code, 'method_not_allowed');
      const g = await rawRequest(h.url, method, '/healthz');
      assert.equal(g.status, 405, `${method} /healthz`);
      assert.match(String(g.headers.allow), /GET/);
    }
    const nf = await rawRequest(h.url, 'PURGE', '/no/such/path');
    assert.equal(nf.status, 404);
    assert.equal(JSON.parse(nf.body).error.code, 'not_found');
    assert.ok(!h.logLines.some((l) => l.includes('"event":"request_failed"')), 'no request was logged as a server error');
  });

  it('keeps request-metric labels to the route table whatever paths and methods arrive (issue 10)', async () => {
    const methods = ['GET', 'POST', 'TRACE', 'PURGE', 'PUT', 'OPTIONS', 'MKCOL'];
    for (let i = 0; i < 600; i++) await rawRequest(h.url, methods[i % methods.length], `/random-${i}-${Math.random().toString(36).slice(2)}`);
    const text = await h.registry.metrics();
    const routes = new Set([...text.matchAll(/sentinelml_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((m) => m[1]));
    const allowed = new Set(['/predict', '/healthz', '/readyz', '/metrics', '/openapi.json', '/openapi', 'unmatched']);
    for (const r of routes) assert.ok(allowed.has(r), `route label "${r}" is not from the route table`);
    const labelMethods = new Set([...text.matchAll(/sentinelml_request_duration_seconds_count\{[^}]*method="([^"]*)"/g)].map((m) => m[1]));
    for (const m of labelMethods) assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'].includes(m), `method label "${m}"`);
    assert.ok(text.length < 64 * 1024, `/metrics grew to ${text.length} bytes`);
  });

  it('bounds the error body whatever the size of an offending field name (issue 10)', async () => {
    const huge = 'k'.repeat(60 * 1024);
    for (const body of [{ features: { ...rows[0], [huge]: 1 } }, { instances: [{ ...rows[0], [huge]: 1 }] }, { [huge]: 1 }]) {
      const res = await post(h.url, body);
      assert.equal(res.status, (body as Record<string, unknown>)[huge] === 1 ? 400 : 422);
      const text = await res.text();
      assert.ok(text.length < 8 * 1024, `error body of ${text.length} bytes`);
    }
  });

  it('exposes the inference metrics, valid for promtool check metrics', async () => {
    const res = await fetch(`${h.url}/metrics`);
    const text = await res.text();
    for (const name of ['sentinelml_predictions_total', 'sentinelml_request_duration_seconds_bucket', 'sentinelml_invalid_requests_total', 'sentinelml_log_write_duration_seconds_bucket', 'sentinelml_log_write_failures_total']) {
      assert.ok(text.includes(name), `${name} missing`);
    }
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
  });
});

describe('inference API when the log cannot be written', () => {
  it('answers 503 without a prediction, counts the failure, and is not ready; recovers when space returns', async () => {
    const model = await loadBundledModel();
    const fs = mountTinyTmpfs(64 * 1024);
    const h = await startApp(model, fs.dir);
    try {
      const rows = featureRowsFrom(`${REPO}data/current.csv`, model.card, 5);
      assert.equal((await post(h.url, { features: rows[0] })).status, 200);
      writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(60 * 1024));
      let saw503 = false;
      for (let i = 0; i < 100 && !saw503; i++) {
        const res = await post(h.url, { instances: Array(20).fill(rows[1]) });
        if (res.status === 503) {
          const body = (await res.json()) as any;
          assert.equal(body.error.code, 'log_write_failed');
          assert.equal(body.predictions, undefined);
          assert.equal(body.prediction, undefined);
          saw503 = true;
        } else assert.equal(res.status, 200);
      }
      assert.ok(saw503, 'the full disk never produced a 503');
      assert.match(await h.registry.metrics(), /sentinelml_log_write_failures_total [1-9]/);
      assert.equal((await fetch(`${h.url}/readyz`)).status, 503);
      rmSync(join(fs.dir, 'filler'));
      assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
      assert.equal((await post(h.url, { features: rows[2] })).status, 200);
    } finally {
      await h.close();
      await model.close();
      fs.unmount();
    }
  });
});
