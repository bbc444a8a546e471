// The one error policy of both HTTP apps (src/services/http/errors.ts): a 4xx names the problem
// (message and details), a 5xx never sends internals (no details, no OS message, no server path),
// and every 5xx is logged once, with what the client was not told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { createInferenceApp } from '../../src/services/http/app.ts';
import { createErrorMiddleware, logRequestErrors } from '../../src/services/http/errors.ts';
import { createInferenceMetrics } from '../../src/services/metrics/inference.ts';
import { createReportApp } from '../../src/services/report-server/server.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { makeResult } from '../render/fixture.ts';
import { listen, memoryLogger, rawGet, tempDir } from '../report-server/helpers.ts';
import { loadBundledModel } from '../support/model.ts';

test('inference app: a 4xx names the problem, a 503 from the OS names only the errno', async (t) => {
  const model = await loadBundledModel();
  const { logger, lines } = memoryLogger();
  const registry = new Registry();
  const secret = '/var/lib/sentinel/secret-volume/.probe';
  const probeLog = async () => {
    throw Object.assign(new Error(`EACCES: permission denied, open '${secret}'`), { code: 'EACCES' });
  };
  const { app } = createInferenceApp({ model, log: undefined, probeLog, registry, metrics: createInferenceMetrics(registry, model.card), logger });
  const base = await listen(t, app as unknown as Koa);

  const bad = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: { nope: 1 } }) });
  assert.equal(bad.status, 422);
  const badBody = (await bad.json()) as any;
  assert.equal(badBody.error.code, 'invalid_features');
  assert.ok(badBody.error.details.problems.some((p: any) => p.field === 'features.nope'), JSON.stringify(badBody));

  const ready = await rawGet(base, '/readyz');
  assert.equal(ready.status, 503);
  const body = JSON.parse(ready.body);
  assert.deepEqual(body, { error: { code: 'log_not_writable', message: 'the prediction log is not writable (EACCES)' } });
  assert.ok(!ready.body.includes('secret-volume'), ready.body);
  const logged = lines.find((l) => l.event === 'request_failed');
  assert.ok(logged && JSON.stringify(logged).includes(secret), `the log keeps the OS message: ${JSON.stringify(lines)}`);
});

test('report server: a 4xx names the problem, a 500 sends its code and message but not the server path', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'run-1', finishedAt: '2026-11-26T14:00:00.000Z' }));
  const { logger, lines } = memoryLogger();
  const base = await listen(t, createReportApp({ dir, registry: new Registry(), logger }));

  const bad = await rawGet(base, '/runs/a%20b/report.html');
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).error.message, /invalid run id/);

  await writeFile(join(dir, 'latest.json'), '{"run_id": ');
  const res = await rawGet(base, '/latest.json');
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(res.body), { error: { code: 'corrupt_latest', message: 'latest.json is not valid JSON' } });
  assert.ok(!res.body.includes(dir), res.body);
  const logged = lines.find((l) => l.event === 'request_failed' && l.path === '/latest.json');
  assert.deepEqual(logged?.details, { path: join(dir, 'latest.json') });
});

test('the middleware: a foreign error is "internal error" with no details; an http-error 4xx keeps its status', async (t) => {
  const { logger, lines } = memoryLogger();
  const app = new Koa();
  logRequestErrors(app, logger);
  app.use(createErrorMiddleware());
  app.use(async (ctx) => {
    if (ctx.path === '/boom') throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { details: { host: '10.0.0.7' } });
    ctx.throw(409, 'already there');
  });
  const base = await listen(t, app);
  const boom = await rawGet(base, '/boom');
  assert.equal(boom.status, 500);
  assert.deepEqual(JSON.parse(boom.body), { error: { code: 'internal', message: 'internal error' } });
  assert.equal(lines.filter((l) => l.event === 'request_failed').length, 1);
  const conflict = await rawGet(base, '/other');
  assert.equal(conflict.status, 409);
  assert.deepEqual(JSON.parse(conflict.body), { error: { code: 'bad_request', message: 'already there' } });
});
