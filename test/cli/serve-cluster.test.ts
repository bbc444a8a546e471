// @needs-tools: promtool
// `sentinel serve --workers N` as a real process tree: a node:cluster primary and its workers, the
// real model and real log files.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { REPO, SENTINEL, startSentinel, type SentinelProcess } from '../support/process.ts';

const rows = featureRowsFrom(`${REPO}data/current.csv`, bundledCard(), 50);
const body = (i: number) => JSON.stringify({ features: rows[i % rows.length] });

/** One POST /predict on a connection of its own, so the primary's round robin hands each to the next worker. */
function predictOnNewConnection(url: string, i: number): Promise<{ status: number; id?: string }> {
  return new Promise((res, rej) => {
    const req = request(`${url}/predict`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, id: r.statusCode === 200 ? JSON.parse(text).id : undefined }));
    });
    req.on('error', rej);
    req.end(body(i));
  });
}

/** Clients posting single rows on keep-alive connections until `stop()`; a failed request (a worker died under it) is not acknowledged. */
function load(url: string, clients: number) {
  const acknowledged: string[] = [];
  let failed = 0;
  let running = true;
  const done = Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; running; i++) {
        try {
          // The timeout: node:cluster's round robin can leave a connection it was handing to a worker
          // at the instant that worker died open and unanswered (README, --workers).
          const r = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(c * 1000 + i), signal: AbortSignal.timeout(10_000) });
          const j = (await r.json()) as { id?: string };
          if (r.status === 200 && j.id) acknowledged.push(j.id);
          else failed++;
        } catch {
          failed++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }),
  );
  return {
    acknowledged,
    failed: () => failed,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** request_id → file, for every prediction-log file in `dir`. */
function loggedIds(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
    for (const r of parse(readFileSync(join(dir, f)), { columns: true }) as { request_id: string }[]) {
      assert.ok(!out.has(r.request_id), `${r.request_id} logged twice`);
      out.set(r.request_id, f);
    }
  }
  return out;
}

/** The value of each sample of `name` in a Prometheus text exposition, summed. */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const workerPids = (p: SentinelProcess) => p.stderr.map((l) => JSON.parse(l)).filter((r) => r.event === 'worker_ready').map((r) => ({ worker: r.worker as number, pid: r.pid as number }));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sentinel serve --workers N (real processes)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-cluster-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('every worker logs to its own files, durably; /metrics sums the workers; /readyz is the whole server', async () => {
    const dir = join(tmp(), 'live');
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir, '--instance-id', 'cl', '--workers', '3']);
    try {
      assert.deepEqual(workerPids(proc).map((w) => w.worker).sort(), [0, 1, 2]);
      const answers = [];
      for (let i = 0; i < 30; i++) answers.push(await predictOnNewConnection(proc.url, i));
      assert.ok(answers.every((a) => a.status === 200));
      const logged = loggedIds(dir);
      for (const a of answers) assert.ok(logged.has(a.id!), 'an answered prediction is missing from the log');
      // Each worker wrote its own file(s), named after its slot, and each took part.
      const perWorker = [0, 1, 2].map((w) => [...logged.values()].filter((f) => f.startsWith(`live_predictions-cl-w${w}-`)).length);
      assert.equal(perWorker.reduce((a, b) => a + b), 30, `rows per worker: ${perWorker}`);
      for (const n of perWorker) assert.ok(n > 0, `rows per worker: ${perWorker}`);

      const metrics = await (await fetch(`${proc.url}/metrics`)).text();
      assert.equal(metricSum(metrics, 'sentinelml_predictions_total'), 30);
      assert.equal(metricSum(metrics, 'sentinelml_log_rows_total'), 30);
      assert.equal(metricSum(metrics, 'sentinelml_request_duration_seconds_count'), 30, 'histograms add up across workers');
      assert.match(metrics, /^sentinelml_serve_workers\{state="ready"\} 3$/m);
      assert.match(metrics, /^sentinelml_serve_worker_restarts_total 0$/m);
      assert.match(metrics, /^sentinelml_model_info\{[^}]*\} 1$/m);
      assert.equal(execFileSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim(), '', 'the aggregated exposition is valid');

      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
      // A probe failing in any worker makes the whole server unready, whichever worker answers.
      rmSync(dir, { recursive: true });
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${proc.url}/readyz`);
        assert.equal(r.status, 503);
        assert.match(((await r.json()) as { error: { message: string } }).error.message, /worker \d: /);
      }
      mkdirSync(dir);
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
    } finally {
      proc.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
    }
  });

  it('on SIGTERM under load every worker drains: every acknowledged row is in the log, exit 0', async () => {
    const dir = tmp();
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir, '--instance-id', 'drain', '--workers', '2']);
    const l = load(proc.url, 16);
    await until(() => l.acknowledged.length >= 200, '200 acknowledged predictions');
    proc.kill('SIGTERM');
    const { code } = await proc.exited;
    await l.stop();
    assert.equal(code, 0);
    const logged = loggedIds(dir);
    const missing = l.acknowledged.filter((id) => !logged.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${l.acknowledged.length} acknowledged rows are missing`);
    const files = new Set(l.acknowledged.map((id) => logged.get(id)!.replace(/-\d{8}T.*/, '')));
    assert.deepEqual([...files].sort(), ['live_predictions-drain-w0', 'live_predictions-drain-w1']);
    assert.equal(proc.stderr.filter((s) => s.includes('"event":"inference_api_stopped"')).length, 2);
  });

  it('kill -9 of one worker: the others keep serving, it comes back after a backoff and is counted', async () => {
    const dir = tmp();
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir, '--instance-id', 'k9', '--workers', '2']);
    try {
      const victim = workerPids(proc).find((w) => w.worker === 0)!;
      const l = load(proc.url, 8);
      await until(() => l.acknowledged.length >= 100, '100 acknowledged predictions');
      process.kill(victim.pid, 'SIGKILL');
      const atKill = l.acknowledged.length;
      await until(() => proc.stderr.some((s) => s.includes('"event":"worker_back"')), 'the worker to come back');
      const servedMeanwhile = l.acknowledged.length - atKill;
      await until(() => l.acknowledged.length >= atKill + servedMeanwhile + 50, '50 more predictions');
      await l.stop();
      assert.ok(servedMeanwhile > 0, 'no prediction was answered while the worker was down');
      const back = workerPids(proc).filter((w) => w.worker === 0);
      assert.equal(back.length, 2);
      assert.notEqual(back[1].pid, victim.pid);
      const metrics = await (await fetch(`${proc.url}/metrics`)).text();
      assert.match(metrics, /^sentinelml_serve_worker_restarts_total 1$/m);
      assert.match(metrics, /^sentinelml_serve_workers\{state="ready"\} 2$/m);
      const logged = loggedIds(dir);
      assert.deepEqual(l.acknowledged.filter((id) => !logged.has(id)), []);
      assert.ok(metricSum(metrics, 'sentinelml_log_rows_total') <= logged.size, 'the dead worker\'s counts left with it; the log keeps its rows');
    } finally {
      proc.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
    }
  });

  it('a bad --workers is a usage error (exit 2, one line); a worker that cannot start fails the server with one line', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [SENTINEL, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    for (const bad of ['0', '=-1', 'two', '1.5', '257', '=']) {
      const r = run(['serve', bad.startsWith('=') ? `--workers${bad}` : '--workers', ...(bad.startsWith('=') ? [] : [bad])]);
      assert.equal(r.status, 2, `--workers ${bad}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^sentinel serve: --workers must be a whole number from 1 to 256 \(got ".*"\)$/);
    }
    const r = run(['serve', '--workers', '2', '--port', '0', '--model', '/nonexistent/model.onnx']);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^sentinel serve: cannot read model card/);
  });
});
