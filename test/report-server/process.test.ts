// @needs-tools: promtool
// `sentinel reports` as a real process: serves, survives bad requests and a corrupt latest.json,
// passes promtool, and stops cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordFailedRun } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { startSentinel } from '../support/process.ts';
import { makeResult } from '../render/fixture.ts';
import { promtoolCheckMetrics, rawGet, tempDir } from './helpers.ts';

test('sentinel reports: a real process serving a report directory', async (t) => {
  const dir = await tempDir(t);
  await saveRun(dir, makeResult({ runId: 'run-1', finishedAt: '2026-11-26T14:00:00.000Z' }));
  await recordFailedRun(dir, 'run-2', 'current log unreadable');
  const proc = await startSentinel(['reports', '--port', '0', '--host', '127.0.0.1', '--dir', dir]);
  t.after(() => proc.kill('SIGKILL'));
  const base = proc.url;

  const index = await rawGet(base, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /run-1/);
  assert.equal((await rawGet(base, '/runs/run-1/report.html')).status, 200);
  assert.equal((await rawGet(base, '/runs/%2e%2e/report.html')).status, 400);
  assert.equal((await rawGet(base, '/runs/nope/report.html')).status, 404);

  const metrics = await rawGet(base, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^sentinelml_drift_run_failures_total 1$/m);
  assert.match(metrics.body, /^process_cpu_seconds_total /m, 'process metrics of the report server too');
  const check = promtoolCheckMetrics(metrics.body);
  assert.equal(check.status, 0, check.output);

  await writeFile(join(dir, 'latest.json'), 'not json');
  const broken = await rawGet(base, '/metrics');
  assert.equal(broken.status, 500);
  assert.equal(JSON.parse(broken.body).error.code, 'corrupt_latest');
  assert.equal((await rawGet(base, '/healthz')).status, 200, 'still up');
  assert.ok(proc.stderr.some((l) => /"event":"request_failed"/.test(l) && /corrupt_latest/.test(l)), proc.stderr.join('\n'));

  proc.kill('SIGTERM');
  const { code } = await proc.exited;
  assert.equal(code, 0);
  assert.ok(proc.stderr.some((l) => /"event":"report_server_stopped"/.test(l)));
});

test('sentinel reports: bad flags exit non-zero with one line', async () => {
  await assert.rejects(startSentinel(['reports', '--port', 'abc'], { timeoutMs: 20_000 }), /--port must be a port number/);
});
