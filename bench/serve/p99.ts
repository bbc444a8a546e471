// bench/serve/p99: where the single-connection tail latency of the durable server comes from, and
// the writer before and after its fix, side by side. Each measurement runs in a child process: the
// inference app of a source tree (ours, or a base commit extracted with `git archive` into a temp
// tree sharing our node_modules), built from the same parts `sentinel serve` uses, with timing
// wrappers around the injected model and log, around the log file's write/datasync calls, and a GC
// observer; wrk -c1 drives it with single-row requests. Interleaved rounds, medians.
//
//   node bench/serve/p99.ts [--rounds 5] [--seconds 10] [--base <commit>] [--out bench/serve/RESULTS-p99.md]
import { spawn, spawnSync } from 'node:child_process';
import fs, { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { open } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { bundledCard, featureRowsFrom } from '../../test/support/model.ts';
import { REPO } from '../../test/support/process.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    base: { type: 'string', default: 'b46e5d6' },
    out: { type: 'string', default: join(REPO, 'bench/serve/RESULTS-p99.md') },
    child: { type: 'boolean', default: false },
    tree: { type: 'string' },
  },
});

interface Summary {
  requests: number;
  total: { p50: number; p99: number };
  /** Per stage: p50, p99, and its mean over the requests at or above the total's p99. */
  stages: Record<string, { p50: number; p99: number; tailMean: number }>;
  /** Share of the tail requests (≥ p99) during which a GC pause ran; GC pauses per 1000 requests and their p99 length. */
  gc: { tailShare: number; per1000: number; p99Ms: number };
  wrk: { p50: number; p99: number; rps: number };
  load: number;
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs: number[]) => pct(xs, 0.5);

async function child(tree: string, seconds: number): Promise<Summary> {
  // The modules by their place after issue 12's layout, else before it (an older base commit).
  const mod = (now: string, before: string) => import(join(tree, 'src', existsSync(join(tree, 'src', now)) ? now : before));
  const { loadModelCard } = await mod('io/model/card.ts', 'model/card.ts');
  const { loadOnnxModel } = await mod('io/model/onnx.ts', 'model/onnx.ts');
  const { createLogWriter } = await mod('io/log/writer.ts', 'log/writer.ts');
  const { logColumns } = await mod('io/log/schema.ts', 'log/schema.ts');
  const { createInferenceApp } = await mod('services/http/app.ts', 'http/app.ts');
  const { createInferenceMetrics } = await mod('services/metrics/inference.ts', 'metrics/inference.ts');
  const { createLogger } = await mod('logger.ts', 'logger.ts');
  const { createHttpServer, listen } = await mod('services/server.ts', 'cli/lifecycle.ts');
  const { Registry } = await import('prom-client');

  // Time every write/datasync of a log file (FileHandle methods, shared by all handles).
  const probe = await open(join(tmpdir(), `p99-probe-${process.pid}`), 'w');
  const proto = Object.getPrototypeOf(probe) as Record<string, (...a: unknown[]) => Promise<unknown>>;
  await probe.close();
  const fileTimes = { write: 0, datasync: 0, stat: 0 };
  for (const m of ['write', 'datasync'] as const) {
    const orig = proto[m];
    proto[m] = async function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      try {
        return await orig.apply(this, a);
      } finally {
        fileTimes[m] += performance.now() - t;
      }
    };
  }
  // The synchronous calls (writeSync, statSync, fdatasyncSync) and the promise stat: patched on the module objects,
  // then synced into the ESM named exports the writer imported.
  const timeSync = <T extends (...a: never[]) => unknown>(orig: T, into: 'write' | 'stat' | 'datasync'): T =>
    function (this: unknown, ...a: Parameters<T>) {
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        fileTimes[into] += performance.now() - t;
      }
    } as T;
  // fdatasyncSync: a lone request's sync on the event-loop thread (the writer's inline path).
  Object.assign(fs, { writeSync: timeSync(fs.writeSync, 'write'), statSync: timeSync(fs.statSync, 'stat'), fdatasyncSync: timeSync(fs.fdatasyncSync, 'datasync') });
  const promiseStat = fs.promises.stat;
  fs.promises.stat = (async (...a: Parameters<typeof promiseStat>) => {
    const t = performance.now();
    try {
      return await promiseStat(...a);
    } finally {
      fileTimes.stat += performance.now() - t;
    }
  }) as typeof promiseStat;
  syncBuiltinESMExports();
  const gcs: { start: number; end: number }[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
  }).observe({ entryTypes: ['gc'] });

  const { card, onnxBytes } = await loadModelCard(join(REPO, 'models/model.onnx'));
  const model = await loadOnnxModel(card, onnxBytes);
  const registry = new Registry();
  const metrics = createInferenceMetrics(registry, card);
  const dir = mkdtempSync(join(tmpdir(), 'p99-log-'));
  const log = createLogWriter({ dir, instanceId: 'p99', columns: logColumns(card.features.map((f: { name: string }) => f.name)) });
  const logger = createLogger({ level: 'warn' });

  interface Req { t0: number; predict: number; log: number; write: number; datasync: number; stat: number; end: number }
  const reqs: Req[] = [];
  let current: Req | undefined;
  const timedModel = {
    ...model,
    predict: async (rows: unknown[]) => {
      const t = performance.now();
      try {
        return await model.predict(rows);
      } finally {
        if (current) current.predict = performance.now() - t;
      }
    },
  };
  const timedLog = {
    ...log,
    append: async (rows: unknown[][]) => {
      const t = performance.now();
      const w0 = { ...fileTimes };
      try {
        return await log.append(rows);
      } finally {
        if (current) {
          current.log = performance.now() - t;
          current.write = fileTimes.write - w0.write;
          current.datasync = fileTimes.datasync - w0.datasync;
          current.stat = fileTimes.stat - w0.stat;
        }
      }
    },
  };
  const { app } = createInferenceApp({ model: timedModel, log: timedLog, probeLog: async () => {}, registry, metrics, logger });
  const handler = app.callback();
  // One connection: one request at a time, so `current` is that request.
  const server = createHttpServer((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const r: Req = { t0: performance.now(), predict: 0, log: 0, write: 0, datasync: 0, stat: 0, end: 0 };
    current = r;
    res.on('finish', () => {
      r.end = performance.now();
      reqs.push(r);
    });
    handler(req, res);
  });
  const url = await listen(server, 0, '127.0.0.1');

  const rows = featureRowsFrom(join(REPO, 'data/current.csv'), bundledCard(), 200);
  const script = join(dir, 'p.lua');
  writeFileSync(
    script,
    `local bodies = {${rows.map((f) => `[==[${JSON.stringify({ features: f })}]==]`).join(',')}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function() i = i % #bodies + 1 return wrk.format(nil, "/predict", nil, bodies[i]) end
done = function(s, latency, r) io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\\n', s.requests, s.duration, latency:percentile(50), latency:percentile(99))) end
`,
  );
  const wrk = (secs: number) =>
    new Promise<string>((res, rej) => {
      const c = spawn('wrk', ['-t1', '-c1', `-d${secs}s`, '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`wrk exited ${code}`))));
    });
  await wrk(2); // warm-up
  reqs.length = 0;
  gcs.length = 0;
  const load = loadavg()[0];
  const out = await wrk(seconds);
  const w = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
  server.close();
  await log.close();
  await model.close();
  rmSync(dir, { recursive: true, force: true });

  const totals = reqs.map((r) => r.end - r.t0);
  const p99 = pct(totals, 0.99);
  const tail = reqs.filter((r) => r.end - r.t0 >= p99);
  const stageOf: Record<string, (r: Req) => number> = {
    'predict (queue + onnxruntime)': (r) => r.predict,
    'log append (all)': (r) => r.log,
    '  of which write()': (r) => r.write,
    '  of which fdatasync()': (r) => r.datasync,
    '  of which the name check (stat)': (r) => r.stat,
    '  of which waiting (event loop, thread-pool hand-offs)': (r) => r.log - r.write - r.datasync - r.stat,
    'rest (HTTP parse, validation, JSON, response)': (r) => r.end - r.t0 - r.predict - r.log,
  };
  const stages: Summary['stages'] = {};
  for (const [k, f] of Object.entries(stageOf)) {
    const xs = reqs.map(f);
    stages[k] = { p50: pct(xs, 0.5), p99: pct(xs, 0.99), tailMean: tail.reduce((a, r) => a + f(r), 0) / tail.length };
  }
  const overlaps = (r: Req) => gcs.some((g) => g.start < r.end && g.end > r.t0);
  return {
    requests: reqs.length,
    total: { p50: pct(totals, 0.5), p99 },
    stages,
    gc: { tailShare: tail.filter(overlaps).length / tail.length, per1000: (gcs.length / reqs.length) * 1000, p99Ms: pct(gcs.map((g) => g.end - g.start), 0.99) },
    wrk: { p50: w.p50_us / 1000, p99: w.p99_us / 1000, rps: w.requests / (w.duration_us / 1e6) },
    load,
  };
}

if (values.child) {
  process.stdout.write(JSON.stringify(await child(values.tree!, Number(values.seconds))) + '\n');
  process.exit(0);
}

const ROUNDS = Number(values.rounds);
const work = mkdtempSync(join(tmpdir(), 'bench-p99-'));
const base = join(work, 'base');
spawnSync('mkdir', ['-p', base]);
const arch = spawnSync('sh', ['-c', `git -C "${REPO}" archive ${values.base} | tar -x -C "${base}"`], { encoding: 'utf8' });
if (arch.status !== 0) throw new Error(`git archive ${values.base} failed: ${arch.stderr}`);
symlinkSync(join(REPO, 'node_modules'), join(base, 'node_modules'));
const trees = { [`before (${values.base})`]: base, 'after (this tree)': REPO.replace(/\/$/, '') };
const results = new Map<string, Summary[]>(Object.keys(trees).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, tree] of Object.entries(trees)) {
    const c = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', '--tree', tree, '--seconds', values.seconds!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (c.status !== 0) throw new Error(`child failed for ${name}`);
    const s = JSON.parse(c.stdout.trim().split('\n').pop()!) as Summary;
    results.get(name)!.push(s);
    process.stderr.write(`round ${r + 1}/${ROUNDS} ${name.padEnd(22)} wrk p50 ${s.wrk.p50.toFixed(2)} p99 ${s.wrk.p99.toFixed(2)} ms, ${s.wrk.rps.toFixed(0)} req/s, load ${s.load.toFixed(1)}\n`);
  }
}
rmSync(work, { recursive: true, force: true });

const names = Object.keys(trees);
const m = (name: string, f: (s: Summary) => number) => median(results.get(name)!.map(f)).toFixed(3);
const stageNames = Object.keys(results.get(names[0])![0].stages);
const loads = [...results.values()].flat().map((s) => s.load);
const report = `# Single-connection tail latency (bench/serve/p99.ts)

Command: \`node bench/serve/p99.ts --rounds ${ROUNDS} --seconds ${values.seconds} --base ${values.base}\`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; 1-minute load average (the bench's own
server and wrk included) median ${median(loads).toFixed(1)} (min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}) on ${cpus().length} cores. wrk -c1, single-row
requests, ${ROUNDS} interleaved rounds of ${values.seconds} s, medians of the rounds. Times in ms. Generated ${new Date().toISOString()}.

| | ${names.join(' | ')} |
|---|${names.map(() => '---:').join('|')}|
| wrk p50 | ${names.map((n) => m(n, (s) => s.wrk.p50)).join(' | ')} |
| wrk p99 | ${names.map((n) => m(n, (s) => s.wrk.p99)).join(' | ')} |
| req/s | ${names.map((n) => m(n, (s) => s.wrk.rps)).join(' | ')} |
| in-server p50 / p99 | ${names.map((n) => `${m(n, (s) => s.total.p50)} / ${m(n, (s) => s.total.p99)}`).join(' | ')} |
${stageNames.map((k) => `| ${k}: p50 / p99 / mean in the tail (≥ p99) | ${names.map((n) => `${m(n, (s) => s.stages[k].p50)} / ${m(n, (s) => s.stages[k].p99)} / ${m(n, (s) => s.stages[k].tailMean)}`).join(' | ')} |`).join('\n')}
| tail requests overlapping a GC pause | ${names.map((n) => `${(Number(m(n, (s) => s.gc.tailShare)) * 100).toFixed(0)} %`).join(' | ')} |
| GC pauses per 1000 requests; their p99 (ms) | ${names.map((n) => `${m(n, (s) => s.gc.per1000)}; ${m(n, (s) => s.gc.p99Ms)}`).join(' | ')} |
`;
writeFileSync(values.out!, report);
process.stdout.write(report);
