// @needs-tools: schemathesis (Python venv)
// Schemathesis (pinned, provisioned by scripts/provision/schemathesis.sh) over the /openapi.json of a
// real `sentinel serve`: every check, seeded. Then the log must hold exactly the predictions answered.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startSentinel } from '../support/process.ts';

const cache = process.env.SENTINEL_CACHE ?? join(homedir(), '.cache', 'sentinelml');
const ST = join(cache, 'venv-schemathesis', 'bin', 'st');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('Schemathesis over /openapi.json of a real sentinel serve', () => {
  it('passes every check; the log holds one row per prediction answered', async () => {
    assert.ok(existsSync(ST), `schemathesis not found at ${ST}; run: bash scripts/provision.sh schemathesis`);
    const work = mkdtempSync(join(tmpdir(), 'sentinel-st-'));
    const logDir = join(work, 'live');
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', logDir, '--max-instances', '20', '--max-body', '256KiB']);
    try {
      const st = await run(ST, ['run', `${proc.url}/openapi.json`, '--checks', 'all', '--max-examples', '40', '--seed', '20261201', '--workers', '1', '--generation-database', 'none', '--no-color', '--request-timeout', '20'], work);
      assert.equal(st.code, 0, `schemathesis found problems:\n${st.output.slice(-6000)}`);
      // /predict, /healthz, /readyz, /metrics (Schemathesis leaves out the schema's own URL).
      const tested = Number(/Tested:\s+(\d+)/.exec(st.output)?.[1]);
      assert.ok(tested >= 4, `only ${tested} operations tested`);
      assert.match(st.output, /No issues found/);
      const metrics = await (await fetch(`${proc.url}/metrics`)).text();
      const answered = [...metrics.matchAll(/^sentinelml_predictions_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      const logged = readdirSync(logDir)
        .filter((f) => f.endsWith('.csv'))
        .reduce((n, f) => n + (parse(readFileSync(join(logDir, f)), { columns: true }) as unknown[]).length, 0);
      assert.ok(answered > 0, 'schemathesis never got a prediction');
      assert.equal(logged, answered, 'every prediction answered has its log row, and no other row is logged');
      assert.ok(!proc.stderr.some((l) => l.includes('"level":50')), `server errors logged:\n${proc.stderr.filter((l) => l.includes('"level":50')).join('\n')}`);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
      rmSync(work, { recursive: true, force: true });
    }
  });
});
