// bench/serve: HTTP throughput and latency of the inference server against its baselines, side by
// side in one run. Load comes from wrk (a separate process, 1 thread, 64 connections) POSTing single-
// row requests drawn from the demo data. Rounds are interleaved across variants (A B C D, A B C D, ...)
// so machine noise hits every variant alike; we report the median of the rounds.
//
//   node bench/serve/run.ts [--rounds 5] [--seconds 10] [--connections 64] [--only a,b]
//
// Needs: wrk (apt), the Python baseline venv (bench/serve/python/requirements.txt), see README.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledCard, featureRowsFrom } from '../../test/support/model.ts';
import { REPO, SENTINEL } from '../../test/support/process.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    only: { type: 'string' },
    venv: { type: 'string', default: join(process.env.SENTINEL_CACHE ?? join(process.env.HOME ?? '/root', '.cache/sentinelml'), 'venv-bench') },
    out: { type: 'string', default: join(REPO, 'bench/serve/RESULTS.md') },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNS = Number(values.connections);
const py = join(values.venv, 'bin');

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

interface Variant {
  key: string;
  label: string;
  start(port: number, dir: string): ChildProcess;
}

const pyEnv = (dir: string) => ({ ...process.env, BENCH_LOG_PATH: join(dir, 'live_predictions.csv'), PYTHONUNBUFFERED: '1' });
const VARIANTS: Variant[] = [
  { key: 'flask', label: '(a) seed design: Flask dev server + scikit-learn + CSV append', start: (port, dir) => spawn(join(py, 'python'), ['app.py', '--port', String(port)], { cwd: join(REPO, 'bench/serve/python'), env: pyEnv(dir), stdio: 'ignore' }) },
  { key: 'gunicorn', label: '(a) seed design: gunicorn -w 2 + scikit-learn + CSV append', start: (port, dir) => spawn(join(py, 'gunicorn'), ['-w', '2', '-b', `127.0.0.1:${port}`, 'app:app'], { cwd: join(REPO, 'bench/serve/python'), env: pyEnv(dir), stdio: 'ignore' }) },
  { key: 'nolog', label: '(b) sentinel serve --no-log', start: (port) => spawn(process.execPath, [SENTINEL, 'serve', '--host', '127.0.0.1', '--port', String(port), '--no-log'], { cwd: REPO, stdio: 'ignore', env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' } }) },
  { key: 'durable', label: '(c) sentinel serve, durable log (fsync, group commit)', start: (port, dir) => spawn(process.execPath, [SENTINEL, 'serve', '--host', '127.0.0.1', '--port', String(port), '--log-dir', dir], { cwd: REPO, stdio: 'ignore', env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' } }) },
  { key: 'koa', label: '(d) bare Koa returning a constant (HTTP floor)', start: (port) => spawn(process.execPath, [join(REPO, 'bench/serve/koa-constant.ts'), String(port)], { cwd: REPO, stdio: 'ignore' }) },
];

async function waitUp(port: number, body: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.status === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on ${port} did not come up`);
}

// wrk script: cycles through real request bodies, prints a JSON summary at the end.
function writeWrkScript(bodies: string[], path: string) {
  const lua = `
local bodies = {${bodies.map((b) => `[==[${b}]==]`).join(',\n')}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/predict", nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
`;
  writeFileSync(path, lua);
}

interface Round { rps: number; p50: number; p99: number; errors: number; non2xx: number }

function runWrk(port: number, script: string, seconds: number): Round {
  const r = spawnSync('wrk', ['-t1', `-c${CONNS}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no wrk summary:\n${r.stdout}`);
  const s = JSON.parse(line);
  return { rps: s.requests / (s.duration_us / 1e6), p50: s.p50_us / 1000, p99: s.p99_us / 1000, errors: s.errors, non2xx: s.non2xx };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk');
  const card = bundledCard();
  const rows = featureRowsFrom(join(REPO, 'data/current.csv'), card, 200);
  const bodies = rows.map((features) => JSON.stringify({ features }));
  const work = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const script = join(work, 'predict.lua');
  writeWrkScript(bodies, script);
  const variants = VARIANTS.filter((v) => !values.only || values.only.split(',').includes(v.key));
  const results = new Map<string, Round[]>(variants.map((v) => [v.key, []]));
  const logged = new Map<string, number>();

  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const port = await freePort();
      const dir = mkdtempSync(join(work, `${v.key}-`));
      const child = v.start(port, dir);
      try {
        await waitUp(port, bodies[0]);
        runWrk(port, script, 2); // warm-up (JIT, connection setup), not counted
        const r = runWrk(port, script, SECONDS);
        results.get(v.key)!.push(r);
        process.stderr.write(`round ${round + 1}/${ROUNDS} ${v.key.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors} non-2xx ${r.non2xx}\n`);
      } finally {
        child.kill('SIGTERM');
        await new Promise((res) => (child.exitCode !== null ? res(null) : child.once('exit', res)));
      }
      if (v.key === 'durable') {
        const n = readdirSync(dir).filter((f) => f.endsWith('.csv')).reduce((a, f) => a + readFileSync(join(dir, f), 'utf8').split('\n').length - 2, 0);
        logged.set(v.key, (logged.get(v.key) ?? 0) + n);
      }
    }
  }
  rmSync(work, { recursive: true, force: true });

  const med = new Map([...results].map(([k, rs]) => [k, { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0) }]));
  const d = med.get('durable');
  const lines = [
    `| variant | req/s (median) | p50 ms | p99 ms | errors | (c) ÷ this |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...variants.map((v) => {
      const m = med.get(v.key)!;
      return `| ${v.label} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.errors} | ${d ? (d.rps / m.rps).toFixed(2) + '×' : '–'} |`;
    }),
  ];
  const checks: string[] = [];
  const ratio = (a: string, b: string) => (med.get(a) && med.get(b) ? med.get(a)!.rps / med.get(b)!.rps : NaN);
  if (d) {
    if (med.get('gunicorn')) checks.push(`(c) vs gunicorn -w 2: ${ratio('durable', 'gunicorn').toFixed(1)}× (target ≥ 12×)`);
    if (med.get('flask')) checks.push(`(c) vs Flask dev server: ${ratio('durable', 'flask').toFixed(1)}× (target ≥ 40×)`);
    if (med.get('nolog')) {
      checks.push(`(c) throughput loss vs (b): ${((1 - ratio('durable', 'nolog')) * 100).toFixed(1)} % (target ≤ 15 %)`);
      checks.push(`(c) p99 ÷ (b) p99: ${(d.p99 / med.get('nolog')!.p99).toFixed(2)} (target ≤ 2)`);
    }
    checks.push(`rows in the durable logs: ${logged.get('durable')} (every answered request of the measured and warm-up runs)`);
  }
  const report = `# bench/serve results

Command: \`node bench/serve/run.ts --rounds ${ROUNDS} --seconds ${SECONDS} --connections ${CONNS}\`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Load: wrk, 1 thread, ${CONNS} connections,
single-row POST /predict bodies from data/current.csv; ${ROUNDS} interleaved rounds of ${SECONDS} s (after a 2 s warm-up), medians.
Generated ${new Date().toISOString()}.

${lines.join('\n')}

${checks.map((c) => `- ${c}`).join('\n')}
`;
  writeFileSync(values.out, report);
  process.stdout.write(report);
}

await main();
