// @needs-tools: promtool
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createReportApp } from '../../src/services/report-server/server.ts';
import { recordFailedRun } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { HOSTILE, makeResult } from '../render/fixture.ts';
import { listen, memoryLogger, promtoolCheckMetrics, rawGet, tempDir } from './helpers.ts';

async function startApp(t: Parameters<typeof tempDir>[0], dir: string) {
  const { logger, lines } = memoryLogger();
  const app = createReportApp({ dir, registry: new Registry(), logger });
  const base = await listen(t, app);
  return { base, lines };
}

async function seeded(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'run-1', finishedAt: '2026-11-26T14:00:00.000Z', driftScore: 0.04 }));
  await recordFailedRun(dir, 'run-2', 'reference file missing', new Date('2026-11-26T14:30:00.000Z'));
  await saveRun(dir, makeResult({ runId: 'run-3', finishedAt: '2026-11-26T15:00:00.000Z', hostile: true }));
  return dir;
}

test('serves the index, each run file and latest.json with content types and caching headers', async (t) => {
  const dir = await seeded(t);
  const { base } = await startApp(t, dir);

  const index = await rawGet(base, '/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.ok(index.headers.etag);
  assert.match(String(index.headers['content-security-policy']), /default-src 'none'/);
  assert.match(index.body, /run-1/);
  assert.match(index.body, /reference file missing/);
  assert.match(index.body, /<svg class="chart chart-timeline"/);
  const again = await rawGet(base, '/', { 'If-None-Match': String(index.headers.etag) });
  assert.equal(again.status, 304);

  const report = await rawGet(base, '/runs/run-3/report.html');
  assert.equal(report.status, 200);
  assert.equal(report.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(report.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.ok(report.headers.etag && report.headers['last-modified']);
  assert.equal(report.headers['x-content-type-options'], 'nosniff');
  assert.ok(!report.body.includes(HOSTILE), 'the hostile column name is escaped');
  assert.ok(report.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  const cached = await rawGet(base, '/runs/run-3/report.html', { 'If-None-Match': String(report.headers.etag) });
  assert.equal(cached.status, 304);
  const since = await rawGet(base, '/runs/run-3/report.html', { 'If-Modified-Since': String(report.headers['last-modified']) });
  assert.equal(since.status, 304);

  const json = await rawGet(base, '/runs/run-1/drift.json');
  assert.equal(json.status, 200);
  assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(JSON.parse(json.body).run_id, 'run-1');

  const latest = await rawGet(base, '/latest.json');
  assert.equal(latest.status, 200);
  assert.equal(latest.headers['cache-control'], 'no-cache');
  assert.ok(latest.headers.etag && latest.headers['last-modified']);
  const pointer = JSON.parse(latest.body);
  assert.equal(pointer.run_id, 'run-3');
  assert.deepEqual(pointer.last_failure, { at: '2026-11-26T14:30:00.000Z', message: 'reference file missing' });

  const head = await rawGet(base, '/runs/run-3/report.html', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');

  const redirect = await rawGet(base, '/runs/run-3');
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.location, 'run-3/report.html');
  assert.equal((await rawGet(base, '/runs/run-3/')).headers.location, 'report.html');
  const post = await rawGet(base, '/', {}, 'POST');
  assert.deepEqual([post.status, JSON.parse(post.body).error.code], [405, 'method_not_allowed']);
  // Methods the server knows nothing of are bad input too (issue 10): a JSON 405 with Allow, never 5xx.
  for (const method of ['TRACE', 'PURGE', 'PUT', 'DELETE']) {
    for (const path of ['/', '/runs/run-3/report.html', '/metrics']) {
      const r = await rawGet(base, path, {}, method);
      assert.deepEqual([r.status, JSON.parse(r.body).error.code], [405, 'method_not_allowed'], `${method} ${path}`);
      assert.match(String(r.headers.allow), /GET/);
      assert.equal(r.headers['cache-control'], 'no-store');
    }
  }
  const unknown = await rawGet(base, '/nowhere', {}, 'PURGE');
  assert.deepEqual([unknown.status, JSON.parse(unknown.body).error.code], [404, 'not_found']);

  const health = await rawGet(base, '/healthz');
  assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: 'ok' }]);
});

test('traversal attempts and unknown ids get a clear 4xx and never a file outside the directory', async (t) => {
  const dir = await seeded(t);
  // A file next to the report directory that no URL may reach, and a symlink pointing at it.
  await writeFile(join(dir, '..', `secret-${process.pid}.txt`), 'secret');
  t.after(async () => (await import('node:fs/promises')).rm(join(dir, '..', `secret-${process.pid}.txt`), { force: true }));
  await mkdir(join(dir, 'linked'));
  await symlink(join(dir, '..', `secret-${process.pid}.txt`), join(dir, 'linked', 'report.html'));
  const { base } = await startApp(t, dir);
  const cases: Array<[string, number, string]> = [
    ['/runs/../latest.json', 400, 'invalid_run_id'],
    ['/runs/..%2f..%2fetc/report.html', 400, 'invalid_run_id'],
    ['/runs/%2e%2e/report.html', 400, 'invalid_run_id'],
    ['/runs/%2E%2E/drift.json', 400, 'invalid_run_id'],
    ['/runs/run-1/..%2f..%2fsecret.txt', 404, 'not_found'],
    ['/runs/run-1/%2e%2e', 404, 'not_found'],
    ['/runs/%2fetc%2fpasswd/report.html', 400, 'invalid_run_id'],
    ['/runs//etc/passwd', 404, 'not_found'],
    ['/../../etc/passwd', 404, 'not_found'],
    ['/etc/passwd', 404, 'not_found'],
    ['/runs/.hidden/report.html', 400, 'invalid_run_id'],
    ['/runs/run-1/summary.json', 404, 'not_found'],
    ['/runs/linked/report.html', 404, 'run_not_found'],
    ['/runs/no-such-run/report.html', 404, 'run_not_found'],
    ['/runs/no-such-run/drift.json', 404, 'run_not_found'],
    ['/runs/run-2/report.html', 404, 'run_failed'],
    ['/runs/%E0%A4%A/report.html', 400, 'invalid_run_id'],
  ];
  for (const [path, status, code] of cases) {
    const res = await rawGet(base, path);
    assert.equal(res.status, status, `${path}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/json/, path);
    assert.equal(JSON.parse(res.body).error.code, code, path);
    assert.ok(!res.body.includes('secret'), path);
  }
  assert.match(JSON.parse((await rawGet(base, '/runs/run-2/report.html')).body).error.message, /reference file missing/);
  const failed = await rawGet(base, '/runs/run-2/failed.json');
  assert.equal(failed.status, 200);
  // Still up after all of that.
  assert.equal((await rawGet(base, '/healthz')).status, 200);
});

test('an empty or missing reports directory: an index that says so, 404 for latest, metrics still valid', async (t) => {
  for (const make of [true, false]) {
    const root = await tempDir(t);
    const dir = make ? root : join(root, 'does-not-exist');
    const { base } = await startApp(t, dir);
    const index = await rawGet(base, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /No runs yet/);
    const latest = await rawGet(base, '/latest.json');
    assert.equal(latest.status, 404);
    assert.equal(JSON.parse(latest.body).error.code, 'no_runs');
    const metrics = await rawGet(base, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^sentinelml_drift_run_failures_total 0$/m);
    assert.doesNotMatch(metrics.body, /sentinelml_feature_drift_score\{/);
    const check = promtoolCheckMetrics(metrics.body);
    assert.equal(check.status, 0, check.output);
  }
});

test('a corrupt latest.json: 500 with a clear code on /latest.json and /metrics, a log line, the rest keeps working', async (t) => {
  const dir = await seeded(t);
  const { base, lines } = await startApp(t, dir);
  await writeFile(join(dir, 'latest.json'), '{"run_id": "run-3", ');
  for (const path of ['/latest.json', '/metrics']) {
    const res = await rawGet(base, path);
    assert.equal(res.status, 500, path);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = JSON.parse(res.body);
    assert.equal(body.error.code, 'corrupt_latest', path);
    assert.match(body.error.message, /latest\.json is not valid JSON/);
  }
  assert.ok(lines.some((l) => l.level === 50 && l.event === 'request_failed' && l.path === '/metrics'), JSON.stringify(lines));
  const index = await rawGet(base, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /class="banner"/);
  assert.equal((await rawGet(base, '/runs/run-3/report.html')).status, 200);
  assert.equal((await rawGet(base, '/healthz')).status, 200);
  // A pointer at a run that is not there is as broken as bad JSON.
  await writeFile(join(dir, 'latest.json'), JSON.stringify({ run_id: 'gone', path: 'gone/drift.json', finished_at: '2026-11-26T15:00:00.000Z', drift_score: 0.2, dataset_drift: false, drift_share: 0.1, last_failure: null }));
  const metrics = await rawGet(base, '/metrics');
  assert.equal(metrics.status, 500);
  assert.equal(JSON.parse(metrics.body).error.code, 'latest_run_missing');
  // Repaired by the next good run, without a restart.
  await saveRun(dir, makeResult({ runId: 'run-4', finishedAt: '2026-11-26T16:00:00.000Z' }));
  assert.equal((await rawGet(base, '/metrics')).status, 200);
  assert.equal(JSON.parse((await rawGet(base, '/latest.json')).body).run_id, 'run-4');
});

test('/metrics: drift gauges from the latest run at scrape time, failures counted, valid for promtool', async (t) => {
  const dir = await seeded(t);
  const { base } = await startApp(t, dir);
  const res = await rawGet(base, '/metrics');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  const latest = makeResult({ runId: 'run-3', finishedAt: '2026-11-26T15:00:00.000Z', hostile: true });
  assert.match(text, new RegExp(`^sentinelml_drift_score ${latest.drift_score}$`, 'm'));
  assert.match(text, /^sentinelml_feature_drift_score\{feature="age",stattest="wasserstein"\} 0\.1894$/m);
  assert.match(text, /^sentinelml_feature_drift_score\{feature="education",stattest="jensenshannon"\} 0\.8326$/m);
  assert.match(text, /^sentinelml_feature_drift_detected\{feature="hours-per-week"\} 0$/m);
  assert.match(text, /^sentinelml_feature_drift_detected\{feature="capital-gain"\} 1$/m);
  assert.match(text, /^sentinelml_feature_drift_detected\{feature="<script>alert\(1\)<\/script>"\} 0$/m);
  assert.doesNotMatch(text, /feature="native-country"/, 'an untested column has no gauge');
  assert.match(text, new RegExp(`^sentinelml_dataset_drift_share ${latest.drift_share}$`, 'm'));
  assert.match(text, /^sentinelml_dataset_drift_detected 1$/m);
  assert.match(text, /^sentinelml_drift_last_run_timestamp_seconds 1795705200$/m);
  assert.match(text, /^sentinelml_drift_run_failures_total 1$/m);
  assert.match(text, /^sentinelml_prediction_drift_score\{stattest="jensenshannon"\} 0\.1123$/m);
  assert.match(text, /^# TYPE sentinelml_drift_run_failures_total counter$/m);
  const check = promtoolCheckMetrics(text);
  assert.equal(check.status, 0, check.output);
  assert.equal(check.output.trim(), '', 'no lint warnings');

  // A new run and a new failure show up on the next scrape.
  await recordFailedRun(dir, 'run-4', 'current log unreadable');
  await saveRun(dir, makeResult({ runId: 'run-5', finishedAt: '2026-11-26T16:00:00.000Z', driftScore: 0.0312 }));
  const next = (await rawGet(base, '/metrics')).body;
  assert.match(next, /^sentinelml_drift_score 0\.0312$/m);
  assert.match(next, /^sentinelml_drift_run_failures_total 2$/m);
  assert.match(next, /^sentinelml_drift_last_run_timestamp_seconds 1795708800$/m);
});

test('/metrics: label values with quotes, backslashes and newlines stay valid exposition text', async (t) => {
  const dir = await tempDir(t);
  const r = makeResult({ runId: 'odd' });
  r.columns[0].name = 'a"b\\c\nd é';
  await saveRun(dir, r);
  const { base } = await startApp(t, dir);
  const text = (await rawGet(base, '/metrics')).body;
  assert.ok(text.includes('sentinelml_feature_drift_score{feature="a\\"b\\\\c\\nd é",stattest="wasserstein"} 0.1894'), text);
  const check = promtoolCheckMetrics(text);
  assert.equal(check.status, 0, check.output);
});
