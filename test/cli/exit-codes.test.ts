// The command contract (src/cli/command.ts), per command, through the real bin: a usage error (the
// command line or SENTINEL_* environment is wrong) exits 2, a runtime failure exits 1, each with one
// line on stderr naming the problem.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, SENTINEL } from '../support/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-exit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const missing = join(dir, 'missing');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [SENTINEL, ...args], { cwd: REPO, env: { ...process.env, SENTINEL_LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', rej);
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stderr });
    });
  });
}

/** A port something already listens on, so a server command fails at run time. */
async function busyPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  after(() => s.close());
  return (s.address() as { port: number }).port;
}

type Case = { args: string[]; env?: Record<string, string>; stderr: RegExp };
const usage: Record<string, Case[]> = {
  drift: [
    { args: ['drift', '--bogus'], stderr: /^sentinel drift: Unknown option '--bogus'/ },
    { args: ['drift', '--current', 'data/current.csv'], stderr: /^sentinel drift: --reference FILE\.csv is required$/ },
    { args: ['drift', '--reference', 'data/reference.csv', '--current', 'data/current.csv'], env: { SENTINEL_LOG_LEVEL: 'loud' }, stderr: /^sentinel drift: SENTINEL_LOG_LEVEL must be one of/ },
  ],
  serve: [
    { args: ['serve', '--bogus'], stderr: /^sentinel serve: Unknown option '--bogus'/ },
    { args: ['serve', '--port', 'x'], stderr: /^sentinel serve: --port must be a port number 0-65535 \(got "x"\)$/ },
    { args: ['serve', '--max-log-size', 'lots'], stderr: /^sentinel serve: --max-log-size must be a size/ },
  ],
  reports: [
    { args: ['reports', '--bogus'], stderr: /^sentinel reports: Unknown option '--bogus'/ },
    { args: ['reports', '--threshold', 'high'], stderr: /^sentinel reports: --threshold must be a non-negative number \(got "high"\)$/ },
  ],
  schedule: [
    { args: ['schedule', '--out', dir], stderr: /^sentinel schedule: --every is required/ },
    { args: ['schedule', '--every', 'often'], stderr: /^sentinel schedule: --every must be a positive duration/ },
    { args: ['schedule', '--every'], stderr: /^sentinel schedule: --every needs a value$/ },
  ],
  card: [
    { args: ['card'], stderr: /^$/ }, // no subcommand: the help on stdout, exit 2
    { args: ['card', 'frobnicate'], stderr: /^sentinel card frobnicate: unknown subcommand "frobnicate"/ },
    { args: ['card', 'check', '--bogus'], stderr: /^sentinel card check: Unknown option '--bogus'/ },
    { args: ['card', 'init', '--reference', 'data/reference.csv'], stderr: /^sentinel card init: --model FILE\.onnx is required$/ },
  ],
  operator: [
    { args: ['operator', '--bogus'], stderr: /^sentinel operator: Unknown option '--bogus'/ },
    { args: ['operator', '--no-leader-elect'], stderr: /^sentinel operator: --job-image IMAGE is required$/ },
    { args: ['operator', '--job-image', 'x', '--no-leader-elect', '--workers', '0'], stderr: /^sentinel operator: --workers must be a positive whole number/ },
  ],
  demo: [
    { args: ['demo', '--bogus'], stderr: /^sentinel demo: Unknown option '--bogus'/ },
    { args: ['demo', '--label-share', '2'], stderr: /^sentinel demo: --label-share must be a number from 0 to 1/ },
  ],
};

describe('usage errors exit 2, one line on stderr', () => {
  it('an unknown command and no command at all', async () => {
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run([])).code, 2);
  });
  for (const [command, cases] of Object.entries(usage)) {
    it(`sentinel ${command}`, async () => {
      for (const c of cases) {
        const r = await run(c.args, c.env);
        assert.equal(r.code, 2, `${c.args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr.trimEnd(), c.stderr, c.args.join(' '));
        assert.ok(r.stderr.trimEnd().split('\n').length <= 1, `one line: ${r.stderr}`);
      }
    });
  }
});

describe('runtime failures exit 1', () => {
  it('sentinel drift: a reference file that does not exist', async () => {
    const r = await run(['drift', '--reference', missing, '--current', 'data/current.csv', '--out', dir, '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel drift: .*missing/);
  });
  it('sentinel serve: a model that does not exist', async () => {
    const r = await run(['serve', '--port', '0', '--model', join(missing, 'model.onnx'), '--log-dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel serve: cannot read model card /);
  });
  it('sentinel reports: the port is taken', async () => {
    const r = await run(['reports', '--port', String(await busyPort()), '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel reports: .*EADDRINUSE/m);
  });
  it('sentinel card: checking a model that does not exist', async () => {
    const r = await run(['card', 'check', '--model', join(missing, 'model.onnx')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel card check: cannot read model card /);
  });
  it('sentinel operator: a --job-template file that does not exist', async () => {
    const r = await run(['operator', '--job-image', 'x', '--no-leader-elect', '--job-template', missing]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel operator: --job-template .*missing/);
  });
  it('sentinel demo: a model that does not exist', async () => {
    const r = await run(['demo', '--port', '0', '--reports-port', '0', '--model', join(missing, 'model.onnx'), '--log-dir', join(dir, 'live'), '--reports-dir', join(dir, 'reports')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^sentinel demo: cannot read model card /);
  });
  // `sentinel schedule` has no failure of its own after its flags: each run's failure is recorded
  // (failed.json, the failure counter) and the schedule keeps going; test/schedule covers that.
});
