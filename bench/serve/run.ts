// bench/serve: HTTP throughput, latency and CPU per request of the inference server against the
// peers a Python team would pick, side by side in one run. Load comes from wrk (a separate process,
// 1 thread) POSTing single-row requests drawn from the demo data, at each connection count given.
// Rounds are interleaved across variants (A B C, A B C, ...) so the noise of a shared machine hits
// every variant alike; we report the median of the rounds, the load average seen, and CPU per
// request (user + sys of the server's whole process tree, from /proc, over the measured run).
//
//   node bench/serve/run.ts [--rounds 5] [--seconds 10] [--connections 64,1] [--only a,b] [--base <commit>]
//
// --base adds the durable server of an earlier commit (1 and 2 workers, extracted with `git archive`,
// sharing our node_modules) to the same interleaved rounds: a before/after of a change on one machine
// in one run. The batched limit (issue 17: bare Koa + the model's CPU per row in 64-row runs) is
// measured at the end, the model alone in this process (bench/serve/model-cost.ts).
//
// Needs: wrk (apt-get install wrk); the FastAPI peer's venv (bench/serve/fastapi/requirements.txt,
// default ~/.cache/sentinelml/venv-serve); for the optional seed-design variants (flask, gunicorn)
// the venv of bench/serve/python/requirements.txt (--venv).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledCard, featureRowsFrom } from '../../test/support/model.ts';
import { REPO } from '../../test/support/process.ts';
import { loadModelCard } from '../../src/io/model/card.ts';
import { loadOnnxModel } from '../../src/io/model/onnx.ts';
import { driveModel, holdoutRows } from './model-cost.ts';

const CACHE = process.env.SENTINEL_CACHE ?? join(process.env.HOME ?? '/root', '.cache/sentinelml');
const DEFAULT_ONLY = 'fastapi-1w,fastapi-1w-fsync,fastapi-2w,fastapi-2w-fsync,nolog,durable,durable-2w,koa';
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64,1' },
    only: { type: 'string', default: DEFAULT_ONLY },
    venv: { type: 'string', default: join(CACHE, 'venv-bench') },
    'fastapi-venv': { type: 'string', default: join(CACHE, 'venv-serve') },
    out: { type: 'string', default: join(REPO, 'bench/serve/RESULTS.md') },
    base: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = values.connections.split(',').map(Number);
const py = join(values.venv, 'bin');
const fastapiPy = join(values['fastapi-venv'], 'bin');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

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
  /** Rows of its log files are counted (durable variants). */
  logs?: boolean;
  start(port: number, dir: string): ChildProcess;
}

const pyEnv = (dir: string) => ({ ...process.env, BENCH_LOG_PATH: join(dir, 'live_predictions.csv'), PYTHONUNBUFFERED: '1' });
const fastapi = (workers: number, log: 'none' | 'fsync') => (port: number, dir: string) =>
  spawn(join(fastapiPy, 'uvicorn'), ['app:app', '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers), '--log-level', 'warning', '--no-access-log'], {
    cwd: join(REPO, 'bench/serve/fastapi'),
    env: { ...process.env, BENCH_LOG: log, BENCH_LOG_DIR: dir, PYTHONUNBUFFERED: '1' },
    stdio: 'ignore',
  });
const sentinelAt = (tree: string) => (args: string[]) => (port: number, dir: string) =>
  spawn(process.execPath, [join(tree, 'bin/sentinel.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), ...args.map((a) => (a === 'DIR' ? dir : a))], { cwd: tree, stdio: 'ignore', env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' } });
const sentinel = sentinelAt(REPO);
const VARIANTS: Variant[] = [
  { key: 'flask', label: 'seed design: Flask dev server + scikit-learn + CSV append', start: (port, dir) => spawn(join(py, 'python'), ['app.py', '--port', String(port)], { cwd: join(REPO, 'bench/serve/python'), env: pyEnv(dir), stdio: 'ignore' }) },
  { key: 'gunicorn', label: 'seed design: gunicorn -w 2 + scikit-learn + CSV append', start: (port, dir) => spawn(join(py, 'gunicorn'), ['-w', '2', '-b', `127.0.0.1:${port}`, 'app:app'], { cwd: join(REPO, 'bench/serve/python'), env: pyEnv(dir), stdio: 'ignore' }) },
  { key: 'fastapi-1w', label: 'FastAPI + uvicorn, 1 worker, onnxruntime, no log', start: fastapi(1, 'none') },
  { key: 'fastapi-1w-fsync', label: 'FastAPI + uvicorn, 1 worker, onnxruntime, fsync of a log row per request', logs: true, start: fastapi(1, 'fsync') },
  { key: 'fastapi-2w', label: 'FastAPI + uvicorn, 2 workers, onnxruntime, no log', start: fastapi(2, 'none') },
  { key: 'fastapi-2w-fsync', label: 'FastAPI + uvicorn, 2 workers, onnxruntime, fsync of a log row per request', logs: true, start: fastapi(2, 'fsync') },
  { key: 'nolog', label: 'sentinel serve --workers 1 --no-log', start: sentinel(['--workers', '1', '--no-log']) },
  { key: 'durable', label: '**sentinel serve --workers 1, durable log** (fsync, group commit)', logs: true, start: sentinel(['--workers', '1', '--log-dir', 'DIR']) },
  { key: 'durable-2w', label: '**sentinel serve --workers 2, durable log**', logs: true, start: sentinel(['--workers', '2', '--log-dir', 'DIR']) },
  { key: 'koa', label: 'bare Koa returning a constant (HTTP floor, 1 process)', start: (port) => spawn(process.execPath, [join(REPO, 'bench/serve/koa-constant.ts'), String(port)], { cwd: REPO, stdio: 'ignore' }) },
];

/** The fields of /proc/<pid>/stat after the command name (index 0 = state, 1 = ppid, 11/12 = utime/stime, 13/14 = cutime/cstime). */
function procStat(pid: number | 'self'): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** The machine's CPU ticks from /proc/stat: all, and steal (time the hypervisor gave our vCPUs to someone else). */
function machineTicks(): { all: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { all: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
}

/** User + sys CPU seconds of `pid` and all its descendants (from /proc; workers included). */
function treeCpuSeconds(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = procStat(Number(d));
      stats.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* gone meanwhile */
    }
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [c, s] of stats) if (s.ppid === p) todo.push(c);
  }
  return ticks / CLK_TCK;
}

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

interface Round { rps: number; p50: number; p99: number; errors: number; non2xx: number; requests: number; cpuUsPerReq: number; wrkUsPerReq: number; load: number }

/** CPU seconds of this process's reaped children (cutime + cstime): around a spawnSync, the child's own. */
function reapedChildrenCpuSeconds(): number {
  const f = procStat('self');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

function runWrk(port: number, script: string, seconds: number, conns: number): Omit<Round, 'cpuUsPerReq' | 'wrkUsPerReq' | 'load'> & { wrkCpu: number } {
  const c0 = reapedChildrenCpuSeconds();
  const r = spawnSync('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no wrk summary:\n${r.stdout}`);
  const s = JSON.parse(line);
  return { rps: s.requests / (s.duration_us / 1e6), p50: s.p50_us / 1000, p99: s.p99_us / 1000, errors: s.errors, non2xx: s.non2xx, requests: s.requests, wrkCpu: reapedChildrenCpuSeconds() - c0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function countRows(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .reduce((a, f) => a + readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.length > 0).length - 1, 0);
}

async function main() {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk');
  const card = bundledCard();
  const rows = featureRowsFrom(join(REPO, 'data/current.csv'), card, 200);
  const bodies = rows.map((features) => JSON.stringify({ features }));
  const work = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const script = join(work, 'predict.lua');
  writeWrkScript(bodies, script);
  const only = values.only.split(',');
  const variants = VARIANTS.filter((v) => only.includes(v.key));
  if (values.base) {
    const tree = join(work, 'base');
    mkdirSync(tree);
    const arch = spawnSync('sh', ['-c', `git -C "${REPO}" archive "${values.base}" | tar -x -C "${tree}"`], { encoding: 'utf8' });
    if (arch.status !== 0) throw new Error(`git archive ${values.base} failed: ${arch.stderr}`);
    symlinkSync(join(REPO, 'node_modules'), join(tree, 'node_modules'));
    const at = sentinelAt(tree);
    // Each right after this tree's variant of the same worker count, so both see the same moment of the machine.
    const after = (key: string, v: Variant) => variants.splice(variants.findIndex((x) => x.key === key) + 1, 0, v);
    if (only.includes('durable')) after('durable', { key: 'durable-base', label: `sentinel serve --workers 1, durable log, at ${values.base}`, logs: true, start: at(['--workers', '1', '--log-dir', 'DIR']) });
    if (only.includes('durable-2w')) after('durable-2w', { key: 'durable-2w-base', label: `sentinel serve --workers 2, durable log, at ${values.base}`, logs: true, start: at(['--workers', '2', '--log-dir', 'DIR']) });
  }
  const key = (v: string, c: number) => `${v}@${c}`;
  const results = new Map<string, Round[]>();
  const logged = new Map<string, { rows: number; answered: number }>();

  const ticks0 = machineTicks();
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      // One server start per variant and round; each connection count is measured on it in turn.
      const port = await freePort();
      const dir = mkdtempSync(join(work, `${v.key}-`));
      const child = v.start(port, dir);
      let answered = 0;
      try {
        await waitUp(port, bodies[0]);
        answered += runWrk(port, script, 2, Math.max(...CONNECTIONS)).requests; // warm-up (JIT, connections), not counted
        for (const conns of CONNECTIONS) {
          const load = loadavg()[0];
          const cpu0 = treeCpuSeconds(child.pid!);
          const r = runWrk(port, script, SECONDS, conns);
          const cpu = treeCpuSeconds(child.pid!) - cpu0;
          answered += r.requests;
          const round_: Round = { ...r, cpuUsPerReq: (cpu / r.requests) * 1e6, wrkUsPerReq: (r.wrkCpu / r.requests) * 1e6, load };
          if (!results.has(key(v.key, conns))) results.set(key(v.key, conns), []);
          results.get(key(v.key, conns))!.push(round_);
          process.stderr.write(
            `round ${round + 1}/${ROUNDS} ${v.key.padEnd(17)} c=${String(conns).padEnd(3)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  CPU ${round_.cpuUsPerReq.toFixed(0)} µs/req  load ${load.toFixed(1)}  errors ${r.errors} non-2xx ${r.non2xx}\n`,
          );
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(null) : child.once('exit', res)));
      }
      if (v.logs) {
        const l = logged.get(v.key) ?? { rows: 0, answered: 0 };
        logged.set(v.key, { rows: l.rows + countRows(dir), answered: l.answered + answered });
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
  const ticks1 = machineTicks();
  const stealShare = (ticks1.steal - ticks0.steal) / Math.max(1, ticks1.all - ticks0.all);

  // The model alone on this (now idle) process: its CPU per row when runs are 64 rows.
  let limit: Awaited<ReturnType<typeof driveModel>> | undefined;
  if (only.includes('koa') && only.includes('durable')) {
    const { card, onnxBytes } = await loadModelCard(join(REPO, 'models/model.onnx'));
    const model = await loadOnnxModel(card, onnxBytes, { maxBatchRows: 64 });
    const holdout = holdoutRows();
    await driveModel(model, holdout, 64, 20000); // warm-up
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await driveModel(model, holdout, 64, 20000));
    await model.close();
    limit = { cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)), wallMs: median(runs.map((r) => r.wallMs)), rowsPerRun: median(runs.map((r) => r.rowsPerRun)) };
  }

  const med = (v: string, c: number) => {
    const rs = results.get(key(v, c));
    if (!rs) return undefined;
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpu: median(rs.map((r) => r.cpuUsPerReq)), wrk: median(rs.map((r) => r.wrkUsPerReq)), errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0) };
  };
  /** Cores the server and wrk kept busy: their CPU per request × requests per second. */
  const coresBusy = (m: { rps: number; cpu: number; wrk: number }, of: 'both' | 'cpu' | 'wrk' = 'both') => ((of === 'both' ? m.cpu + m.wrk : m[of]) * m.rps) / 1e6;
  const loads = [...results.values()].flat().map((r) => r.load);
  const tables = CONNECTIONS.map((c) => {
    const ours = med('durable', c);
    const lines = [
      `### ${c} connection${c === 1 ? '' : 's'}`,
      '',
      `| variant | req/s | p50 ms | p99 ms | CPU µs/request | wrk CPU µs/request | cores busy (server + wrk) | errors | durable 1w ÷ this (req/s) | durable 2w ÷ this (req/s) |`,
      `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
      ...variants.map((v) => {
        const m = med(v.key, c)!;
        const two = med('durable-2w', c);
        return `| ${v.label} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.cpu.toFixed(0)} | ${m.wrk.toFixed(0)} | ${coresBusy(m).toFixed(2)} | ${m.errors} | ${ours ? (ours.rps / m.rps).toFixed(2) + '×' : '–'} | ${two ? (two.rps / m.rps).toFixed(2) + '×' : '–'} |`;
      }),
    ];
    return lines.join('\n');
  });
  const checks: string[] = [];
  const ratio = (a: string, b: string, c: number, f: 'rps' | 'cpu' | 'p99' = 'rps') => {
    const x = med(a, c);
    const y = med(b, c);
    return x && y ? x[f] / y[f] : NaN;
  };
  const hi = Math.max(...CONNECTIONS);
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  checks.push(`durable, 2 workers ÷ FastAPI 2 workers, no log (${hi} connections): ${fmt(ratio('durable-2w', 'fastapi-2w', hi))}× req/s (issue 17 goal ≥ 4×); ÷ FastAPI 2 workers with fsync: ${fmt(ratio('durable-2w', 'fastapi-2w-fsync', hi))}×`);
  checks.push(`durable, 1 worker ÷ FastAPI 1 worker, no log (${hi} connections): ${fmt(ratio('durable', 'fastapi-1w', hi))}× req/s; ÷ with fsync: ${fmt(ratio('durable', 'fastapi-1w-fsync', hi))}×`);
  checks.push(`CPU per request, FastAPI ÷ ours (${hi} connections): 1 worker no log ${fmt(ratio('fastapi-1w', 'durable', hi, 'cpu'))}×, 2 workers no log ${fmt(ratio('fastapi-2w', 'durable-2w', hi, 'cpu'))}×`);
  const busy = (v: string, c: number) => {
    const m = med(v, c);
    return m ? `${fmt(coresBusy(m))} cores (server ${fmt(coresBusy(m, 'cpu'))} + wrk ${fmt(coresBusy(m, 'wrk'))})` : 'n/a';
  };
  checks.push(`a second worker (durable 2w ÷ 1w, ${hi} connections): ${fmt(ratio('durable-2w', 'durable', hi))}× req/s (goal ≥ 1.7×); busy: 1 worker ${busy('durable', hi)}, 2 workers ${busy('durable-2w', hi)} of ${cpus().length}`);
  if (values.base) {
    for (const [now, then] of [['durable', 'durable-base'], ['durable-2w', 'durable-2w-base']]) {
      const x = med(now, hi);
      const y = med(then, hi);
      // Each round's pair ran back to back: the spread of the paired ratios is this machine's noise.
      const pairs = (results.get(key(now, hi)) ?? []).map((r, i) => (results.get(key(then, hi))?.[i]?.cpuUsPerReq ?? NaN) / r.cpuUsPerReq).filter(Number.isFinite).sort((a, b) => a - b);
      if (x && y) checks.push(`${now}, this tree ÷ ${values.base} (${hi} connections): ${fmt(x.rps / y.rps)}× req/s; CPU per request ${y.cpu.toFixed(0)} → ${x.cpu.toFixed(0)} µs (${fmt(y.cpu / x.cpu)}× less); paired by round, CPU ${values.base} ÷ this tree: ${pairs.map(fmt).join(', ')}`);
    }
  }
  if (limit) {
    const koa = med('koa', hi)!;
    const bound = koa.cpu + limit.cpuUsPerRequest;
    const share = (v: string) => {
      const m = med(v, hi);
      return m ? `${((bound / m.cpu) * 100).toFixed(0)} % (${m.cpu.toFixed(0)} µs)` : 'n/a';
    };
    checks.push(
      `batched limit (issue 17): bare Koa ${koa.cpu.toFixed(0)} µs + the model ${limit.cpuUsPerRequest.toFixed(1)} µs per row in ${limit.rowsPerRun.toFixed(0)}-row runs (the model alone, this process, median of 3) = ${bound.toFixed(0)} µs of CPU per request; the limit's share of a request's CPU: durable 1w ${share('durable')}, 2w ${share('durable-2w')} (goal ≥ 60 %)`,
    );
  }
  if (CONNECTIONS.includes(1)) {
    checks.push(`p99 at 1 connection, durable 1w ÷ FastAPI 1w with fsync: ${fmt(ratio('durable', 'fastapi-1w-fsync', 1, 'p99'))} (goal ≤ 1); durable 2w ÷ FastAPI 2w with fsync: ${fmt(ratio('durable-2w', 'fastapi-2w-fsync', 1, 'p99'))}`);
  }
  for (const [k, l] of logged) checks.push(`${k}: ${l.rows} rows in its log files for ${l.answered} answered requests (warm-up and measured runs)`);
  const report = `# bench/serve results

Command: \`node bench/serve/run.ts --rounds ${ROUNDS} --seconds ${SECONDS} --connections ${CONNECTIONS.join(',')}${values.only === DEFAULT_ONLY ? '' : ` --only ${values.only}`}${values.base ? ` --base ${values.base}` : ''}\`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Load: wrk, 1 thread, single-row POST /predict bodies
from data/current.csv; ${ROUNDS} interleaved rounds of ${SECONDS} s per connection count (after a 2 s warm-up), medians.
CPU per request: user + sys of the server's process tree (workers included) over the measured run ÷ requests;
wrk's own CPU the same way (it runs on the same ${cpus().length} cores), and "cores busy" = (server + wrk) CPU per request × req/s:
near ${cpus().length}, the machine, not the server, bounds the throughput.
1-minute load average at the start of each measured run: median ${median(loads).toFixed(1)} (min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)})
on ${cpus().length} cores, the bench's own server and wrk included (about 1 to ${cpus().length} of it); anything above that is
other work on the machine. CPU steal over the rounds (the hypervisor running others on our vCPUs; it slows
everything measured, unevenly): ${(stealShare * 100).toFixed(0)} % of the machine's CPU time. Interleaved rounds make the ratios the meaningful part. Generated ${new Date().toISOString()}.

${tables.join('\n\n')}

${checks.map((c) => `- ${c}`).join('\n')}
`;
  writeFileSync(values.out, report);
  process.stdout.write(report);
}

await main();
