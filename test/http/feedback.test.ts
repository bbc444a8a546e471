// @needs-tools: promtool, tmpfs (root)
// POST /feedback in-process with the real model: labels validated against the card's classes,
// durable in the label log before the answer, repeated and unknown ids as documented, 503 when
// the label log cannot be written.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { createInferenceApp } from '../../src/services/http/app.ts';
import { createLogger } from '../../src/logger.ts';
import { readLabels } from '../../src/io/log/labels.ts';
import { LABEL_DIR, LABEL_FILE_PREFIX, logColumns } from '../../src/io/log/schema.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
import { createLogWriter, type LogWriter } from '../../src/io/log/writer.ts';
import { createInferenceMetrics } from '../../src/services/metrics/inference.ts';
import type { Model } from '../../src/io/model/onnx.ts';
import { featureRowsFrom, loadBundledModel } from '../support/model.ts';
import { REPO } from '../support/process.ts';
import { mountTinyTmpfs } from '../support/tmpfs.ts';

interface Harness {
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

async function startApp(model: Model, dir: string, labelDir: string): Promise<Harness> {
  const registry = new Registry();
  const metrics = createInferenceMetrics(registry, model.card);
  const logger = createLogger({ level: 'fatal', stream: new Writable({ write(_c, _e, cb) { cb(); } }) });
  const log = createLogWriter({ dir, instanceId: 'test', columns: logColumns(model.card.features.map((f) => f.name)) });
  const labels: LogWriter = createLogWriter({
    dir: labelDir,
    instanceId: 'test',
    columns: [...LABEL_COLUMNS],
    filePrefix: LABEL_FILE_PREFIX,
    what: 'label log',
    onFlush: (s) => metrics.feedbackWriteDuration.observe(s),
    onFailure: () => metrics.feedbackWriteFailures.inc(),
  });
  const { app } = createInferenceApp({ model, log, labels, probeLog: async () => {}, registry, metrics, logger, maxBodyBytes: 64 * 1024, maxInstances: 100 });
  const server: Server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    registry,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await log.close();
      await labels.close();
    },
  };
}

const post = (url: string, path: string, body: unknown, type = 'application/json') =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function labelRows(labelDir: string): string[][] {
  const rows: string[][] = [];
  for (const f of readdirSync(labelDir).filter((n) => n.endsWith('.csv')).sort()) {
    const recs: string[][] = parse(readFileSync(join(labelDir, f)));
    assert.deepEqual(recs[0], [...LABEL_COLUMNS], `${f}: header`);
    assert.ok(f.startsWith(`${LABEL_FILE_PREFIX}-test-`), `${f}: label file name`);
    rows.push(...recs.slice(1));
  }
  return rows;
}

describe('POST /feedback', () => {
  let model: Model;
  let h: Harness;
  let dir: string;
  let labelDir: string;
  let ids: string[];
  before(async () => {
    model = await loadBundledModel();
    dir = mkdtempSync(join(tmpdir(), 'sentinel-feedback-'));
    labelDir = join(dir, LABEL_DIR);
    mkdirSync(labelDir);
    h = await startApp(model, dir, labelDir);
    const rows = featureRowsFrom(`${REPO}data/current.csv`, model.card, 5);
    const res = await post(h.url, '/predict', { instances: rows });
    ids = ((await res.json()) as any).predictions.map((p: any) => p.id);
  });
  after(async () => {
    await h.close();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a single label durably and answers with it', async () => {
    const before = labelRows(labelDir).length;
    const res = await post(h.url, '/feedback', { request_id: ids[0], label: '>50K' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.request_id, ids[0]);
    assert.equal(body.label, '>50K');
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
    // Answered after fsync: the row is in the file when the answer arrives.
    const rows = labelRows(labelDir);
    assert.equal(rows.length, before + 1);
    assert.deepEqual(rows.at(-1), [ids[0], body.timestamp, '>50K']);
    assert.match(await h.registry.metrics(), /sentinelml_feedback_total\{label=">50K"\} 1/);
  });

  it('records a batch in order; a repeated id keeps both rows and the last received wins', async () => {
    const res = await post(h.url, '/feedback', {
      instances: [
        { request_id: ids[1], label: '<=50K' },
        { request_id: ids[2], label: '>50K' },
      ],
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.deepEqual(body.feedback.map((f: any) => [f.request_id, f.label]), [[ids[1], '<=50K'], [ids[2], '>50K']]);
    await new Promise((r) => setTimeout(r, 5)); // a later receipt time
    assert.equal((await post(h.url, '/feedback', { request_id: ids[1], label: '>50K' })).status, 200);
    const rows = labelRows(labelDir).filter((r) => r[0] === ids[1]);
    assert.deepEqual(rows.map((r) => r[2]), ['<=50K', '>50K']);
    const read = await readLabels(labelDir);
    assert.equal(read.labels.get(ids[1])!.label, '>50K');
    assert.ok(read.superseded >= 1);
  });

  it('accepts an id this server never served (its prediction may be in another replica’s log) and lower-cases ids', async () => {
    const unknown = '0F8FAD5B-D9CB-469F-A165-70867728950E';
    const res = await post(h.url, '/feedback', { request_id: unknown, label: '<=50K' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).request_id, unknown.toLowerCase());
    assert.ok(labelRows(labelDir).some((r) => r[0] === unknown.toLowerCase()));
  });

  const cases: { name: string; body: unknown; type?: string; status: number; code: string; fields?: string[] }[] = [
    { name: 'an unknown class', body: { request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: '>60K' }, status: 422, code: 'invalid_feedback', fields: ['label'] },
    { name: 'a label that is not a string', body: { request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: 1 }, status: 422, code: 'invalid_feedback', fields: ['label'] },
    { name: 'a request id that is not a UUID', body: { request_id: 'abc', label: '>50K' }, status: 422, code: 'invalid_feedback', fields: ['request_id'] },
    { name: 'missing fields', body: {}, status: 422, code: 'invalid_feedback', fields: ['request_id', 'label'] },
    { name: 'an extra field', body: { request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: '>50K', score: 1 }, status: 422, code: 'invalid_feedback', fields: ['score'] },
    {
      name: 'a batch naming every bad item',
      body: { instances: [{ request_id: 'x', label: '>50K' }, { request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: 'no' }] },
      status: 422,
      code: 'invalid_feedback',
      fields: ['instances[0].request_id', 'instances[1].label'],
    },
    { name: 'an empty batch', body: { instances: [] }, status: 422, code: 'invalid_feedback', fields: ['instances'] },
    { name: 'a batch over the limit', body: { instances: Array(101).fill({ request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: '>50K' }) }, status: 422, code: 'invalid_feedback', fields: ['instances'] },
    { name: 'a JSON array', body: [], status: 400, code: 'invalid_body' },
    { name: 'malformed JSON', body: '{"request_id":', status: 400, code: 'malformed_json' },
    { name: 'a __proto__ key', body: '{"__proto__":{"x":1},"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","label":">50K"}', status: 400, code: 'forbidden_key' },
    { name: 'a text/plain body', body: '{}', type: 'text/plain', status: 415, code: 'unsupported_media_type' },
    { name: 'an oversized body', body: `{"label":"${'a'.repeat(70 * 1024)}"}`, status: 413, code: 'body_too_large' },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.status} ${c.code} and writes nothing`, async () => {
      const before = labelRows(labelDir).length;
      const res = await post(h.url, '/feedback', c.body, c.type);
      assert.equal(res.status, c.status);
      const body = (await res.json()) as any;
      assert.equal(body.error.code, c.code);
      if (c.fields) assert.deepEqual(body.error.details.problems.map((p: any) => p.field), c.fields);
      assert.equal(labelRows(labelDir).length, before);
    });
  }

  it('is described in the OpenAPI document and its metrics pass promtool check metrics', async () => {
    const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as any;
    assert.deepEqual(doc.paths['/feedback'].post.requestBody.content['application/json'].schema.oneOf[0], { $ref: '#/components/schemas/Feedback' });
    assert.deepEqual(doc.components.schemas.Feedback.properties.label.enum, model.card.classes);
    const text = await h.registry.metrics();
    for (const name of ['sentinelml_feedback_total', 'sentinelml_feedback_write_duration_seconds_bucket', 'sentinelml_feedback_write_failures_total']) assert.ok(text.includes(name), `${name} missing`);
    assert.equal(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim(), '');
  });
});

describe('POST /feedback when the label log cannot be written', () => {
  it('answers 503, counts the failure, and recovers when space returns', async () => {
    const model = await loadBundledModel();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-feedback-full-'));
    const fs = mountTinyTmpfs(64 * 1024);
    const h = await startApp(model, dir, fs.dir);
    const item = { request_id: '0f8fad5b-d9cb-469f-a165-70867728950e', label: '>50K' };
    try {
      assert.equal((await post(h.url, '/feedback', item)).status, 200);
      writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(60 * 1024));
      let saw503 = false;
      for (let i = 0; i < 100 && !saw503; i++) {
        const res = await post(h.url, '/feedback', { instances: Array(100).fill(item) });
        if (res.status === 503) {
          const body = (await res.json()) as any;
          assert.equal(body.error.code, 'log_write_failed');
          assert.match(body.error.message, /label log/);
          saw503 = true;
        } else assert.equal(res.status, 200);
      }
      assert.ok(saw503, 'the full disk never produced a 503');
      assert.match(await h.registry.metrics(), /sentinelml_feedback_write_failures_total [1-9]/);
      rmSync(join(fs.dir, 'filler'));
      assert.equal((await post(h.url, '/feedback', item)).status, 200);
    } finally {
      await h.close();
      await model.close();
      fs.unmount();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
