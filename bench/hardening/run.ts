// bench/hardening: the issue-10 attack cases, the fixed code side by side with its baseline (the
// commit before the fixes, extracted with `git archive` into a temporary tree that shares our
// node_modules). Every case runs in its own child process; we report medians, ratios and CPU time.
//
//   node bench/hardening/run.ts [--rounds 3] [--requests 20000] [--base bb2a100] [--only cardinality,header,line,index]
//
// 1. cardinality: N requests (PURGE / TRACE / GET on random paths) to `sentinel serve` on loopback;
//    /metrics size, heap used and RSS after, server CPU time.
// 2. header: a reference CSV whose header line is 5 / 10 / 20 MB; time to read the header (the
//    drift job's first step). Baseline stopped after --timeout seconds.
// 3. line: one data line of 20 / 50 MB; time to read the file.
// 4. index: GET / of the report server over 5,000 runs.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from '../../test/support/process.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '20000' },
    base: { type: 'string', default: 'bb2a100' },
    timeout: { type: 'string', default: '60' },
    only: { type: 'string', default: 'cardinality,header,line,index' },
    out: { type: 'string', default: join(REPO, 'bench/hardening/RESULTS.md') },
    // internal: run one measurement in this process and print its JSON
    child: { type: 'string' },
    tree: { type: 'string' },
    arg: { type: 'string' },
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The log reader's path in either tree (it moved to src/io/log/ with issue 12's layered folders).
const readerOf = (tree: string) => [join(tree, 'src/io/log/reader.ts'), join(tree, 'src/log/reader.ts')].find((p) => existsSync(p))!;

// ---------------------------------------------------------------- child measurements
if (values.child !== undefined) {
  const tree = values.tree!;
  const arg = values.arg!;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let result: unknown;
  try {
    if (values.child === 'header') {
      const { readHeader } = await import(readerOf(tree));
      result = { columns: (await readHeader(arg)).length };
    } else if (values.child === 'header-raised') {
      const { readHeader } = await import(readerOf(tree));
      result = { columns: (await readHeader(arg, { maxHeaderBytes: 1 << 30, maxColumns: 1e8 })).length };
    } else if (values.child === 'line' || values.child === 'line-raised') {
      const { readLog } = await import(readerOf(tree));
      const limits = values.child === 'line-raised' ? { maxRecordBytes: 1 << 30 } : undefined;
      result = { rows: (await readLog(arg, { limits })).table.rows };
    }
  } catch (err) {
    result = { error: (err as Error).message.slice(0, 160) };
  }
  const cpu = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({ wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6, result }) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------- helpers
const work = mkdtempSync(join(tmpdir(), 'sentinel-bench-hardening-'));
const baseTree = join(work, 'base');
mkdirSync(baseTree);
execFileSync('bash', ['-c', `git -C "${REPO}" archive ${values.base} src bin models package.json | tar -x -C "${baseTree}"`]);
symlinkSync(join(REPO, 'node_modules'), join(baseTree, 'node_modules'));
const trees = { baseline: baseTree, fixed: REPO.replace(/\/$/, '') };
const rounds = Number(values.rounds);
const only = new Set(values.only.split(','));
const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};

function measure(kind: string, tree: string, arg: string, timeoutS: number): Promise<{ wallS: number; cpuS: number; result: any } | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--child', kind, '--tree', tree, '--arg', arg], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out.trim() ? JSON.parse(out.trim()) : null);
    });
  });
}

function cpuSecondsOf(pid: number): number {
  const f = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }))![1]) * 1024;
}

async function startServer(tree: string, args: string[]): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(tree, 'bin/sentinel.js'), ...args, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SENTINEL_LOG_LEVEL: 'info' } });
  let err = '';
  let started = false;
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      if (started) return; // the baseline logs a stack per 500: read and drop
      err += c;
      const m = /"url":"(http:[^"]+)"/.exec(err);
      if (m) {
        started = true;
        resolve(m[1]);
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGKILL');
      }),
  };
}

function send(agent: Agent, url: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- 1. cardinality
if (only.has('cardinality')) {
  const n = Number(values.requests);
  say(`## 1. Metric cardinality: ${n} requests to random paths (PURGE, TRACE, GET in turn), 16 at a time, loopback\n`);
  const rows: Record<string, { size: number[]; heap: number[]; rss: number[]; cpu: number[]; statuses: Set<number> }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, tree] of Object.entries(trees)) {
      const row = (rows[name] ??= { size: [], heap: [], rss: [], cpu: [], statuses: new Set() });
      const s = await startServer(tree, ['serve', '--log-dir', join(work, `live-${name}-${r}`)]);
      const agent = new Agent({ keepAlive: true, maxSockets: 16 });
      const cpu0 = cpuSecondsOf(s.pid);
      const methods = ['PURGE', 'TRACE', 'GET'];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < n) {
            const i = next++;
            const res = await send(agent, s.url, methods[i % 3], `/x/${i}/${Math.random().toString(36).slice(2)}`);
            row.statuses.add(res.status);
          }
        }),
      );
      const cpu = cpuSecondsOf(s.pid) - cpu0;
      const metrics = (await send(agent, s.url, 'GET', '/metrics')).body;
      row.size.push(metrics.length);
      row.heap.push(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN));
      row.rss.push(rssOf(s.pid));
      row.cpu.push(cpu);
      agent.destroy();
      await s.stop();
    }
  }
  say('| variant | statuses seen | /metrics bytes (median) | heap used MB | RSS MB | server CPU s |');
  say('|---|---|---:|---:|---:|---:|');
  for (const [name, row] of Object.entries(rows)) {
    say(`| ${name} | ${[...row.statuses].sort().join(', ')} | ${median(row.size).toLocaleString('en')} | ${(median(row.heap) / 2 ** 20).toFixed(1)} | ${(median(row.rss) / 2 ** 20).toFixed(1)} | ${median(row.cpu).toFixed(2)} |`);
  }
  say(`\n/metrics ratio baseline ÷ fixed: ${(median(rows.baseline.size) / median(rows.fixed.size)).toFixed(0)}×\n`);
}

// ---------------------------------------------------------------- 2./3. huge header and line
async function sizeCase(title: string, sizesMb: number[], makeFile: (path: string, bytes: number) => void, kinds: { name: string; tree: string; kind: string }[]) {
  const timeout = Number(values.timeout);
  say(title);
  say(`| size | ${kinds.map((k) => k.name).join(' | ')} |`);
  say(`|---:|${kinds.map(() => '---:|').join('')}`);
  for (const mb of sizesMb) {
    const path = join(work, `case-${mb}.csv`);
    makeFile(path, mb * 1e6);
    const cells: string[] = [];
    for (const k of kinds) {
      const runs: { wallS: number; cpuS: number; result: any }[] = [];
      let timedOut = false;
      for (let r = 0; r < rounds && !timedOut; r++) {
        const m = await measure(k.kind, k.tree, path, timeout);
        if (m === null) timedOut = true;
        else runs.push(m);
      }
      if (timedOut) cells.push(`> ${timeout} s (stopped)`);
      else {
        const res = runs[0].result;
        cells.push(`${median(runs.map((x) => x.wallS)).toFixed(2)} s (CPU ${median(runs.map((x) => x.cpuS)).toFixed(2)} s)${res.error ? `: error "${res.error.replace(/^.*?: /, '')}"` : ''}`);
      }
    }
    say(`| ${mb} MB | ${cells.join(' | ')} |`);
    rmSync(path, { force: true });
  }
  say('');
}

if (only.has('header')) {
  await sizeCase(
    '## 2. A reference CSV with a huge header line (columns `c0,c1,…`): time to read the header\n',
    [5, 10, 20],
    (path, bytes) => {
      const parts: string[] = [];
      let size = 0;
      for (let i = 0; size < bytes; i++) {
        const c = `c${i}`;
        parts.push(c);
        size += c.length + 1;
      }
      writeFileSync(path, `${parts.join(',')}\n${parts.map(() => '1').join(',')}\n`);
    },
    [
      { name: 'baseline', tree: trees.baseline, kind: 'header' },
      { name: 'fixed, default limits (1 MiB header)', tree: trees.fixed, kind: 'header' },
      { name: 'fixed, limits raised', tree: trees.fixed, kind: 'header-raised' },
    ],
  );
}

if (only.has('line')) {
  await sizeCase(
    '## 3. One huge data line (a 2-column CSV whose second row has one giant field): time to read the file\n',
    [20, 50],
    (path, bytes) => writeFileSync(path, `a,b\n1,2\n3,${'7'.repeat(bytes)}\n4,5\n`),
    [
      { name: 'baseline', tree: trees.baseline, kind: 'line' },
      { name: 'fixed, default limits (16 MiB record)', tree: trees.fixed, kind: 'line' },
      { name: 'fixed, limits raised', tree: trees.fixed, kind: 'line-raised' },
    ],
  );
}

// ---------------------------------------------------------------- 4. report index
if (only.has('index')) {
  const runs = 5000;
  const dir = join(work, 'reports');
  const { recordFailedRun } = await import('../../src/io/report-store.ts');
  const { saveRun } = await import('../../src/services/run/save-run.ts');
  const { makeResult } = await import('../../test/render/fixture.ts');
  await saveRun(dir, makeResult({ runId: 'r00000', finishedAt: '2026-11-01T00:00:00.000Z' }));
  await recordFailedRun(dir, 'f00000', 'no data', new Date('2026-11-01T00:00:30.000Z'));
  for (let i = 1; i < runs; i++) cpSync(join(dir, i % 10 === 0 ? 'f00000' : 'r00000'), join(dir, `${i % 10 === 0 ? 'f' : 'r'}${String(i).padStart(5, '0')}`), { recursive: true });
  say(`## 4. Report index over ${runs} runs (10% failed): GET / on loopback\n`);
  say('| variant | first request s | later requests s (median of 9) | server CPU s per later request |');
  say('|---|---:|---:|---:|');
  const med: Record<string, number> = {};
  for (const [name, tree] of Object.entries(trees)) {
    const s = await startServer(tree, ['reports', '--dir', dir]);
    const agent = new Agent({ keepAlive: true });
    let t = performance.now();
    const first = await send(agent, s.url, 'GET', '/');
    if (first.status !== 200) throw new Error(`index answered ${first.status}`);
    const firstS = (performance.now() - t) / 1000;
    const later: number[] = [];
    const cpu0 = cpuSecondsOf(s.pid);
    for (let i = 0; i < 9; i++) {
      t = performance.now();
      await send(agent, s.url, 'GET', '/');
      later.push((performance.now() - t) / 1000);
    }
    const cpu = (cpuSecondsOf(s.pid) - cpu0) / 9;
    med[name] = median(later);
    say(`| ${name} | ${firstS.toFixed(3)} | ${median(later).toFixed(3)} | ${cpu.toFixed(3)} |`);
    agent.destroy();
    await s.stop();
  }
  say(`\nlater requests, baseline ÷ fixed: ${(med.baseline / med.fixed).toFixed(1)}×\n`);
}

rmSync(work, { recursive: true, force: true });
const header = `# bench/hardening results\n\n\`node bench/hardening/run.ts --rounds ${rounds} --requests ${values.requests} --base ${values.base}\` on ${new Date().toISOString().slice(0, 10)}, 2 shared cores, loopback. Baseline = commit ${values.base} (before the issue-10 fixes), same node_modules.\n\n`;
if (values.only === 'cardinality,header,line,index') writeFileSync(values.out, header + lines.join('\n') + '\n');
else {
  // A partial run replaces its own sections ("## N. ...") of the existing results, keeping the rest.
  const fresh = `\n${lines.join('\n')}\n`.split('\n## ').slice(1);
  const old = readFileSync(values.out, 'utf8').split('\n## ');
  for (const f of fresh) {
    const i = old.findIndex((o) => o.slice(0, 3) === f.slice(0, 3));
    old[i === -1 ? old.length : i] = `${f.trimEnd()}\n${i === old.length - 1 || i === -1 ? '' : '\n'}`;
  }
  writeFileSync(values.out, old.join('\n## '));
}
