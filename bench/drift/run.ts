/**
 * Drift benchmark: Evidently's DataDriftPreset report vs `sentinel drift`, same data, same run.
 *
 *   node bench/drift/run.ts [--sizes 100000,1000000,5000000] [--repeats 3] [--evidently-max 5000000]
 *                           [--rss-rows 10000000] [--out bench/drift/RESULTS.md]
 *
 * Data: the demo split (data/reference.csv = Adult rows whose education is NOT in {Some-college,
 * HS-grad, Bachelors}; data/current.csv = the rest), each resampled with replacement to N rows with a
 * fixed seed (reference and current equal size). Files go to .cache/bench-drift/ (git-ignored).
 *
 * Evidently runs from .venv/bench-drift (created from bench/drift/requirements.txt when missing).
 * Each side runs as its own process under /usr/bin/time (wall, user+sys CPU, peak RSS):
 *   - evidently: python bench/drift/evidently_drift.py REF CUR OUT.json OUT.html (import, read_csv,
 *     Report([DataDriftPreset()]).run, save_html);
 *   - sentinel cold: node bin/sentinel.js drift --reference REF --current CUR --out DIR --no-cache --json;
 *   - sentinel warm: the same with the reference-profile cache already filled (a hit);
 *   - scheduled: the same two runs as `sentinel schedule` and the demo make them, in one long-lived
 *     drift runner each (src/services/schedule/drift-process.ts): CPU per run after the first from
 *     the runner's done line (getrusage of the runner, every thread), the first run (start-up
 *     included) from /proc/<pid>/stat.
 * Per-column verdicts are compared (Evidently's from its ValueDrift tests).
 * The memory check: a prediction-log directory with a current window of --rss-rows rows.
 * With an empty --sizes (`--sizes ''`) only the memory check runs (no Evidently, no virtualenv) and
 * only the memory section of --out is replaced; the size tables already there are kept.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededUniform } from '../../src/stats/random.ts';
import { createDriftProcessJob, type DriftProcessJob } from '../../src/services/schedule/drift-process.ts';
import { createLogger } from '../../src/logger.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WORK = join(ROOT, '.cache', 'bench-drift');
const VENV = join(ROOT, '.venv', 'bench-drift');
const PY = join(VENV, 'bin', 'python');
const SENTINEL = join(ROOT, 'bin', 'sentinel.js');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000,5000000' },
    repeats: { type: 'string', default: '3' },
    'evidently-max': { type: 'string', default: '5000000' },
    'evidently-repeats-max': { type: 'string', default: '1000000' },
    'rss-rows': { type: 'string', default: '10000000' },
    out: { type: 'string', default: join(ROOT, 'bench', 'drift', 'RESULTS.md') },
  },
});
const sizes = args.sizes.split(',').filter((s) => s !== '').map(Number);
const repeats = Number(args.repeats);
const evidentlyMax = Number(args['evidently-max']);
const evidentlyRepeatsMax = Number(args['evidently-repeats-max']);
const rssRows = Number(args['rss-rows']);

function readRows(path: string): { header: string; rows: string[] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  return { header: lines[0], rows: lines.slice(1) };
}

async function writeResampled(path: string, header: string, rows: string[], n: number, seed: number, prefix?: (i: number) => string): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  const rand = seededUniform(seed);
  out.write(`${prefix ? prefix(-1) : ''}${header}\n`);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += `${prefix ? prefix(i) : ''}${rows[Math.floor(rand() * rows.length)]}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(buf);
  out.end();
  await once(out, 'finish');
  const { renameSync } = await import('node:fs');
  renameSync(tmp, path);
}

interface Measured {
  wall: number;
  cpu: number;
  rssMiB: number;
  code: number;
  stderr: string;
  stdout: string;
}

function timed(cmd: string, argv: string[]): Measured {
  const p = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' } });
  const m = /TIME (\S+) (\S+) (\S+) (\d+)\s*$/.exec(p.stderr);
  if (!m) throw new Error(`no timing from ${cmd} ${argv.join(' ')}: ${p.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024, code: p.status ?? -1, stderr: p.stderr, stdout: p.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ensureVenv(): void {
  if (existsSync(PY)) return;
  const r1 = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const r2 = spawnSync(join(VENV, 'bin', 'pip'), ['install', '-q', '-r', join(ROOT, 'bench', 'drift', 'requirements.txt')], { stdio: 'inherit' });
  if (r1.status !== 0 || r2.status !== 0) throw new Error('could not create .venv/bench-drift');
}

interface SizeResult {
  n: number;
  evidently: Measured[] | null;
  cold: Measured[];
  warm: Measured[];
  verdicts: { same: boolean; differing: string[]; columns: number } | null;
  evidentlyPhases: Record<string, number> | null;
  /** Evidently's CPU seconds after its import (read_csv + report + html), one per run. */
  evidentlyComputeCpu: number[];
  /** Runs in a long-lived drift runner (what `sentinel schedule` does), without / with the cache. */
  scheduled: { cold: Scheduled; warm: Scheduled };
}

interface Scheduled {
  /** CPU seconds of the runner's first run, process start-up included (/proc). */
  firstCpu: number;
  /** CPU and wall seconds of each later run. */
  cpu: number[];
  wall: number[];
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a live process, in seconds (every thread, ended ones too). */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** A drift job in its own runner, as the scheduler makes it; the first run is made here. */
async function scheduledJob(args: string[], dir: string, into: Scheduled): Promise<{ job: DriftProcessJob; run: () => Promise<void> }> {
  rmSync(dir, { recursive: true, force: true });
  const job = createDriftProcessJob({ driftArgs: args, dir, env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn' }, logger: createLogger({ level: 'warn' }), onLogLine: () => {} });
  await job.run();
  into.firstCpu = procCpu(job.runnerPid()!);
  return {
    job,
    run: async () => {
      const t0 = performance.now();
      const done = await job.run();
      into.wall.push((performance.now() - t0) / 1000);
      into.cpu.push(done.cpu_ms! / 1000);
    },
  };
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  if (sizes.length > 0) ensureVenv();
  const ref = readRows(join(ROOT, 'data', 'reference.csv'));
  const cur = readRows(join(ROOT, 'data', 'current.csv'));
  const results: SizeResult[] = [];
  for (const n of sizes) {
    const refPath = join(WORK, `reference-${n}.csv`);
    const curPath = join(WORK, `current-${n}.csv`);
    await writeResampled(refPath, ref.header, ref.rows, n, 1);
    await writeResampled(curPath, cur.header, cur.rows, n, 2);
    const res: SizeResult = { n, evidently: null, cold: [], warm: [], verdicts: null, evidentlyPhases: null, evidentlyComputeCpu: [], scheduled: { cold: { firstCpu: 0, cpu: [], wall: [] }, warm: { firstCpu: 0, cpu: [], wall: [] } } };
    const outDir = join(WORK, `reports-${n}`);
    const ours = (extra: string[]): Measured => timed(process.execPath, [SENTINEL, 'drift', '--reference', refPath, '--current', curPath, '--out', outDir, '--json', '--quiet', ...extra]);
    rmSync(outDir, { recursive: true, force: true });
    ours([]); // fills the reference cache for the warm runs
    const driftArgs = ['--reference', refPath, '--current', curPath, '--quiet'];
    const schedCold = await scheduledJob([...driftArgs, '--no-cache'], join(WORK, `scheduled-${n}-cold`), res.scheduled.cold);
    const schedWarm = await scheduledJob(driftArgs, join(WORK, `scheduled-${n}-warm`), res.scheduled.warm);
    // Interleaved (Evidently, cold, warm per round) so that a change in machine load hits both sides.
    let evJson: { columns: Record<string, { drift: boolean }>; timings: Record<string, number>; cpu: { import: number; compute: number } } | null = null;
    const withEvidently = n <= evidentlyMax;
    if (withEvidently) res.evidently = [];
    const evidentlyRounds = n <= evidentlyRepeatsMax ? repeats : 1;
    for (let i = 0; i < repeats; i++) {
      if (withEvidently && i < evidentlyRounds) {
        const jsonPath = join(WORK, `evidently-${n}.json`);
        const m = timed(PY, [join(ROOT, 'bench', 'drift', 'evidently_drift.py'), refPath, curPath, jsonPath, join(WORK, `evidently-${n}.html`)]);
        if (m.code !== 0) throw new Error(`evidently failed at ${n}: ${m.stderr.slice(-3000)}`);
        res.evidently!.push(m);
        evJson = JSON.parse(readFileSync(jsonPath, 'utf8'));
        res.evidentlyComputeCpu.push(evJson!.cpu.compute);
      }
      res.cold.push(ours(['--no-cache']));
      res.warm.push(ours([]));
      await schedCold.run();
      await schedWarm.run();
    }
    await Promise.all([schedCold.job.close(), schedWarm.job.close()]);
    for (const m of [...res.cold, ...res.warm]) if (m.code !== 0) throw new Error(`sentinel drift failed at ${n}: ${m.stderr}`);
    if (withEvidently) {
      res.evidentlyPhases = evJson!.timings;
      const ourResult = JSON.parse(res.warm[0].stdout) as { columns: { name: string; drift_detected: boolean; error: unknown }[] };
      const differing: string[] = [];
      for (const c of ourResult.columns) {
        const ev = evJson!.columns[c.name];
        if (ev === undefined || ev.drift !== c.drift_detected || c.error !== null) differing.push(c.name);
      }
      for (const name of Object.keys(evJson!.columns)) if (!ourResult.columns.some((c) => c.name === name)) differing.push(name);
      res.verdicts = { same: differing.length === 0, differing, columns: ourResult.columns.length };
    }
    results.push(res);
    console.log(JSON.stringify({ n, evidently: res.evidently?.map((m) => m.wall), cold: res.cold.map((m) => m.wall), warm: res.warm.map((m) => m.wall), scheduledCpu: { cold: res.scheduled.cold.cpu, warm: res.scheduled.warm.cpu }, verdicts: res.verdicts }));
  }

  // Memory bound: a prediction-log directory with one 10M-row current window.
  let rss: RssResult | null = null;
  if (rssRows > 0) {
    const logDir = join(WORK, `log-${rssRows}`);
    mkdirSync(logDir, { recursive: true });
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    // The prediction-log layout: request_id,timestamp,model_version,<features>,prediction,confidence.
    // Columns are picked by name, so a reference that carries the model's `prediction` works too.
    const features = cur.header.split(',').filter((c) => c !== 'class' && c !== 'prediction');
    const pick = (src: { header: string }) => {
      const names = src.header.split(',');
      const idx = features.map((f) => names.indexOf(f));
      const pred = names.includes('prediction') ? names.indexOf('prediction') : names.indexOf('class');
      return (row: string): string[] => {
        const cells = row.split(',');
        return [...idx.map((i) => cells[i]), cells[pred]];
      };
    };
    const fromCur = pick(cur);
    const rows = cur.rows.map((r) => {
      const cells = fromCur(r);
      return `${cells.join(',')},${(0.5 + (cells[0].length % 5) / 10).toFixed(2)}`;
    });
    const header = `request_id,timestamp,model_version,${features.join(',')},prediction,confidence`;
    await writeResampled(join(logDir, 'live_predictions.csv'), header, rows, rssRows, 3, (i) =>
      i < 0 ? '' : `00000000-0000-4000-8000-${String(i).padStart(12, '0')},${new Date(start + i * 10).toISOString()},adult-rf-1.0.0,`,
    );
    const refPath = join(WORK, 'reference-log.csv');
    if (!existsSync(refPath)) {
      const fromRef = pick(ref);
      writeFileSync(refPath, [header, ...ref.rows.map((r, i) => `r${i},2025-12-01T00:00:00.000Z,adult-rf-1.0.0,${fromRef(r).join(',')},0.9`)].join('\n') + '\n');
    }
    const outDir = join(WORK, 'reports-rss');
    rmSync(outDir, { recursive: true, force: true });
    const m = timed(process.execPath, [SENTINEL, 'drift', '--reference', refPath, '--current', logDir, '--out', outDir, '--json', '--quiet']);
    if (m.code !== 0) throw new Error(`10M-row run failed: ${m.stderr.slice(-2000)}`);
    const result = JSON.parse(m.stdout) as { columns: { type: string }[]; prediction: unknown; current: { rows: number } };
    const columns = result.columns.length + (result.prediction !== null ? 1 : 0);
    const numeric = result.columns.filter((c) => c.type === 'numerical').length;
    rss = { rows: result.current.rows, m, columns, numeric, rawNumericMiB: (result.current.rows * numeric * 8) / 2 ** 20, allColumnsMiB: (result.current.rows * columns * 8) / 2 ** 20 };
    console.log(JSON.stringify({ rss: { rows: rss.rows, rssMiB: m.rssMiB, wall: m.wall } }));
  }

  if (sizes.length === 0 && rss !== null && existsSync(args.out)) {
    // Memory check only: replace that section of the existing results, keep the rest.
    const old = readFileSync(args.out, 'utf8');
    const start = old.indexOf(MEMORY_HEADING);
    const next = start === -1 ? -1 : old.indexOf('\n## ', start + MEMORY_HEADING.length);
    const section = renderMemory(rss, true).join('\n') + '\n';
    const updated = start === -1 ? `${old.trimEnd()}\n\n${section}` : `${old.slice(0, start)}${section}${next === -1 ? '' : old.slice(next)}`;
    writeFileSync(args.out, updated);
  } else {
    let text = renderResults(results, rss);
    const old = existsSync(args.out) ? readFileSync(args.out, 'utf8') : '';
    // Hand-written notes (earlier runs, profiles) stay, before the memory section.
    const notes = old.indexOf(NOTES_MARKER);
    if (notes !== -1) {
      const end = old.indexOf(MEMORY_HEADING, notes);
      const kept = old.slice(notes, end === -1 ? undefined : end).trimEnd();
      const at = text.indexOf(MEMORY_HEADING);
      text = at === -1 ? `${text.trimEnd()}\n\n${kept}\n` : `${text.slice(0, at)}${kept}\n\n${text.slice(at)}`;
    }
    // No memory check this time (--rss-rows 0): keep the one already in the file.
    if (rss === null) {
      const start = old.indexOf(MEMORY_HEADING);
      if (start !== -1) text = `${text.trimEnd()}\n\n${old.slice(start).trimEnd()}\n`;
    }
    writeFileSync(args.out, text);
  }
  console.log(`wrote ${args.out}`);
}

type RssResult = { rows: number; m: Measured; rawNumericMiB: number; allColumnsMiB: number; columns: number; numeric: number };

const MEMORY_HEADING = '## Memory bound: a large current window';
const NOTES_MARKER = '<!-- notes: bench/drift/run.ts keeps what follows, up to the memory section, when it rewrites this file -->';

function renderMemory(rss: RssResult, withCommand: boolean): string[] {
  const f = (x: number): string => x.toFixed(2);
  const lines: string[] = [MEMORY_HEADING, ''];
  if (withCommand) lines.push(`Generated by \`node bench/drift/run.ts --sizes '' --rss-rows ${args['rss-rows']}\` on ${new Date().toISOString()} (memory check only).`, '');
  lines.push(`Prediction-log directory, one file of ${rss.rows.toLocaleString('en-US')} rows (request_id,timestamp,model_version, 14 Adult features, prediction, confidence), reference = the demo reference in the same layout.`);
  lines.push(`- wall ${f(rss.m.wall)} s, CPU ${f(rss.m.cpu)} s, peak RSS **${rss.m.rssMiB.toFixed(0)} MiB**`);
  lines.push(`- raw numeric bytes of the tested columns (${rss.numeric} numerical × ${rss.rows.toLocaleString('en-US')} rows × 8 B): ${rss.rawNumericMiB.toFixed(0)} MiB → ratio ${(rss.m.rssMiB / rss.rawNumericMiB).toFixed(2)}×`);
  lines.push(`- all ${rss.columns} tested columns as float64 (${rss.columns} × rows × 8 B): ${rss.allColumnsMiB.toFixed(0)} MiB → ratio ${(rss.m.rssMiB / rss.allColumnsMiB).toFixed(2)}×`);
  return lines;
}

function renderResults(results: SizeResult[], rss: RssResult | null): string {
  const f = (x: number): string => x.toFixed(2);
  const lines: string[] = [];
  lines.push('# Drift benchmark: Evidently DataDriftPreset vs `sentinel drift`', '');
  lines.push(`Generated by \`node bench/drift/run.ts --sizes ${args.sizes} --repeats ${args.repeats} --evidently-max ${args['evidently-max']} --evidently-repeats-max ${args['evidently-repeats-max']} --rss-rows ${args['rss-rows']}\` on ${new Date().toISOString()}.`);
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}; Evidently from bench/drift/requirements.txt.`, '');
  lines.push('Wall and CPU (user+sys) seconds and peak RSS from `/usr/bin/time`, per process, median of the runs (n runs in brackets).');
  lines.push('Evidently = python process: import + `pd.read_csv` ×2 + `Report([DataDriftPreset()]).run` + `save_html`. sentinel cold = no cache (parse both CSVs, profile, test, write drift.json + report.html); warm = reference profile from the cache.', '');
  lines.push('| rows (each side) | Evidently wall | Evidently CPU | Evidently RSS MiB | sentinel cold wall | cold CPU | cold RSS MiB | sentinel warm wall | warm CPU | warm RSS MiB | speed-up cold / warm (wall) | verdicts identical |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const ev = r.evidently;
    const e = ev === null ? null : { wall: median(ev.map((m) => m.wall)), cpu: median(ev.map((m) => m.cpu)), rss: median(ev.map((m) => m.rssMiB)) };
    const c = { wall: median(r.cold.map((m) => m.wall)), cpu: median(r.cold.map((m) => m.cpu)), rss: median(r.cold.map((m) => m.rssMiB)) };
    const w = { wall: median(r.warm.map((m) => m.wall)), cpu: median(r.warm.map((m) => m.cpu)), rss: median(r.warm.map((m) => m.rssMiB)) };
    lines.push(
      `| ${r.n.toLocaleString('en-US')} | ${e ? `${f(e.wall)} [${ev!.length}]` : 'not run'} | ${e ? f(e.cpu) : '-'} | ${e ? e.rss.toFixed(0) : '-'} | ${f(c.wall)} [${r.cold.length}] | ${f(c.cpu)} | ${c.rss.toFixed(0)} | ${f(w.wall)} [${r.warm.length}] | ${f(w.cpu)} | ${w.rss.toFixed(0)} | ${e ? `${(e.wall / c.wall).toFixed(1)}× / ${(e.wall / w.wall).toFixed(1)}×` : '-'} | ${r.verdicts ? (r.verdicts.same ? `yes (${r.verdicts.columns} columns)` : `NO: ${r.verdicts.differing.join(', ')}`) : '-'} |`,
    );
  }
  lines.push('');
  lines.push('By CPU, Evidently\'s import excluded (what a long-running Evidently service would pay per run: `read_csv` + report + html, `time.process_time` inside its process), against the whole `sentinel drift` process (start-up included):', '');
  lines.push('| rows (each side) | Evidently compute CPU | sentinel cold CPU | sentinel warm CPU | less CPU cold / warm |', '|---|---|---|---|---|');
  for (const r of results) {
    if (r.evidentlyComputeCpu.length === 0) continue;
    const e = median(r.evidentlyComputeCpu);
    const c = median(r.cold.map((m) => m.cpu));
    const w = median(r.warm.map((m) => m.cpu));
    lines.push(`| ${r.n.toLocaleString('en-US')} | ${f(e)} | ${f(c)} | ${f(w)} | ${(e / c).toFixed(1)}× / ${(e / w).toFixed(1)}× |`);
  }
  lines.push('');
  lines.push('Scheduled runs: what `sentinel schedule` and the demo pay per run. Their runs go to one long-lived drift runner, so start-up and module loading are paid by its first run only; the like-for-like peer is the same long-running Evidently service as above. CPU per later run = the runner\'s getrusage (every thread) around the run, median; first run = the runner\'s whole CPU after it, from /proc (start-up included):', '');
  lines.push('| rows (each side) | Evidently compute CPU | runner first run CPU cold / warm | later runs CPU cold / warm | later runs wall cold / warm | less CPU cold / warm |', '|---|---|---|---|---|---|');
  for (const r of results) {
    const s = r.scheduled;
    if (s.cold.cpu.length === 0) continue;
    const e = r.evidentlyComputeCpu.length > 0 ? median(r.evidentlyComputeCpu) : null;
    const c = median(s.cold.cpu);
    const w = median(s.warm.cpu);
    lines.push(`| ${r.n.toLocaleString('en-US')} | ${e !== null ? f(e) : '-'} | ${f(s.cold.firstCpu)} / ${f(s.warm.firstCpu)} | ${f(c)} / ${f(w)} [${s.cold.cpu.length}] | ${f(median(s.cold.wall))} / ${f(median(s.warm.wall))} | ${e !== null ? `${(e / c).toFixed(1)}× / ${(e / w).toFixed(1)}×` : '-'} |`);
  }
  lines.push('');
  lines.push('Evidently phase times (seconds, last run) — its import alone is a fixed cost:', '');
  lines.push('| rows | import | read_csv | report run | save_html |', '|---|---|---|---|---|');
  for (const r of results) if (r.evidentlyPhases) lines.push(`| ${r.n.toLocaleString('en-US')} | ${f(r.evidentlyPhases.import)} | ${f(r.evidentlyPhases.read_csv)} | ${f(r.evidentlyPhases.run)} | ${f(r.evidentlyPhases.html)} |`);
  if (rss !== null) lines.push('', ...renderMemory(rss, false));
  lines.push('');
  return lines.join('\n');
}

await main();
