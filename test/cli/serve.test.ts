import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { REPO, SENTINEL, startSentinel } from '../support/process.ts';

const run = (args: string[]) => spawnSync(process.execPath, [SENTINEL, ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });

describe('sentinel serve (real process)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-serve-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('on SIGTERM stops accepting, answers in-flight requests, flushes the log and exits 0', async () => {
    const dir = tmp();
    const rows = featureRowsFrom(`${REPO}data/current.csv`, bundledCard(), 100);
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir]);
    assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
    // Big batches keep requests in flight while the signal arrives.
    const inflight = Array.from({ length: 20 }, () =>
      fetch(`${proc.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as any }),
        () => ({ status: 0, body: null }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    proc.kill('SIGTERM');
    const results = await Promise.all(inflight);
    const { code } = await proc.exited;
    assert.equal(code, 0);
    const answered = results.filter((r) => r.status === 200);
    for (const r of results) assert.ok([200, 503, 0].includes(r.status), `unexpected status ${r.status}`);
    const logged = new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('.csv'))
        .flatMap((f) => parse(readFileSync(join(dir, f)), { columns: true }).map((r: any) => r.request_id)),
    );
    for (const r of answered) for (const p of r.body.predictions) assert.ok(logged.has(p.id), 'answered prediction missing from the log');
    assert.ok(proc.stderr.some((l) => l.includes('"event":"inference_api_stopped"')));
  });

  it('after rm -rf of the log directory: 503 and not ready, never an answer without its row; recovers when it is back (issue 10)', async () => {
    const dir = join(tmp(), 'live');
    const rows = featureRowsFrom(`${REPO}data/current.csv`, bundledCard(), 3);
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir]);
    try {
      const predict = async (i: number) => {
        const r = await fetch(`${proc.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: rows[i] }) });
        return { status: r.status, body: (await r.json()) as any };
      };
      assert.equal((await predict(0)).status, 200);
      rmSync(dir, { recursive: true });
      const gone = await predict(1);
      assert.equal(gone.status, 503);
      assert.equal(gone.body.error.code, 'log_write_failed');
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 503);
      mkdirSync(dir);
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
      const back = await predict(2);
      assert.equal(back.status, 200);
      const logged = readdirSync(dir)
        .filter((f) => f.endsWith('.csv'))
        .flatMap((f) => parse(readFileSync(join(dir, f)), { columns: true }).map((r: any) => r.request_id));
      assert.deepEqual(logged, [back.body.id]);
      assert.ok(proc.stderr.some((l) => l.includes('"event":"log_file_lost"')));
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('rejects bad flags and a bad model with one line and a non-zero exit', () => {
    const bad = [
      { args: ['serve', '--port', 'eighty'], re: /--port must be a port number/ },
      { args: ['serve', '--max-log-age', 'soon'], re: /--max-log-age must be a positive duration/ },
      { args: ['serve', '--bogus'], re: /Unknown option '--bogus'/ },
      { args: ['serve', '--model', '/nonexistent/model.onnx'], re: /cannot read model card/ },
    ];
    for (const b of bad) {
      const r = run(b.args);
      assert.notEqual(r.status, 0, b.args.join(' '));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
      assert.match(lines[0], b.re);
    }
  });

  it('refuses a model whose ONNX file does not match its card', () => {
    const dir = tmp();
    copyFileSync(`${REPO}models/model.onnx`, join(dir, 'model.onnx'));
    const card = JSON.parse(readFileSync(`${REPO}models/model.json`, 'utf8'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...card, sha256: '0'.repeat(64) }));
    const r = run(['serve', '--model', join(dir, 'model.onnx')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not match its card/);
  });

  it('prints its help', () => {
    const r = run(['serve', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--log-dir DIR/);
  });
});
