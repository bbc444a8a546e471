/**
 * Model-quality benchmark: label join + realized metrics + CBPE over N predictions with N labels,
 * SentinelML (bench/quality/sentinel_side.ts) vs pandas + NannyML 0.13.1 (bench/quality/nannyml_side.py),
 * same files, same run, interleaved.
 *
 *   node bench/quality/run.ts [--rows 1000000] [--reference 100000] [--chunk 100000] [--repeats 3]
 *                             [--python .venv/bench-quality/bin/python] [--out bench/quality/RESULTS.md]
 *
 * Data (seeded, written once to .cache/bench-quality/N/, git-ignored): a binary model's outputs,
 * p = sigmoid(1.5·z + 0.3) rounded to 4 decimals, z standard normal; prediction = p ≥ 0.5;
 * y ~ Bernoulli(p^1.15) (slightly miscalibrated, so CBPE calibrates). The prediction log is 4
 * replicas' files in the log's own format; the N label rows (4 files, shuffled) label 98 % of the
 * predictions once, 1 % twice (relabels, the later wins) and carry 1 % unknown ids. The labelled
 * reference (class, prediction, confidence) has --reference rows from the same distribution.
 *
 * Each side is its own process under /usr/bin/time (wall, user+sys CPU, peak RSS). The per-chunk
 * realized and estimated values of both are compared (max absolute difference reported).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededUniform } from '../../src/stats/random.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    reference: { type: 'string', default: '100000' },
    chunk: { type: 'string', default: '100000' },
    repeats: { type: 'string', default: '3' },
    python: { type: 'string', default: join(ROOT, '.venv', 'bench-quality', 'bin', 'python') },
    out: { type: 'string', default: join(ROOT, 'bench', 'quality', 'RESULTS.md') },
  },
});
const N = Number(args.rows);
const REF = Number(args.reference);
const CHUNK = Number(args.chunk);
const REPEATS = Number(args.repeats);
const WORK = join(ROOT, '.cache', 'bench-quality', String(N));

function model(rand: () => number): { p: number; pred: number; conf: number; y: number } {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const p = Math.round((1 / (1 + Math.exp(-(1.5 * z + 0.3)))) * 1e4) / 1e4;
  const pred = p >= 0.5 ? 1 : 0;
  return { p, pred, conf: pred === 1 ? p : Math.round((1 - p) * 1e4) / 1e4, y: rand() < p ** 1.15 ? 1 : 0 };
}

async function writeLines(path: string, header: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  let buf = '';
  for (const l of lines) {
    buf += `${l}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

async function generate(): Promise<void> {
  if (existsSync(join(WORK, 'done'))) return;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'live', 'labels'), { recursive: true });
  const rand = seededUniform(20261201);
  const uuid = () => {
    const b = Array.from({ length: 16 }, () => Math.floor(rand() * 256));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const t0 = Date.parse('2026-11-30T00:00:00Z');
  const ids: string[] = new Array(N);
  const truth = new Uint8Array(N);
  const replicas = 4;
  const per = Math.ceil(N / replicas);
  for (let r = 0; r < replicas; r++) {
    const lines: string[] = [];
    for (let i = r * per; i < Math.min(N, (r + 1) * per); i++) {
      const m = model(rand);
      ids[i] = uuid();
      truth[i] = m.y;
      lines.push(`${ids[i]},${new Date(t0 + i * 10).toISOString()},bench-1,${m.pred},${m.conf}`);
    }
    await writeLines(join(WORK, 'live', `live_predictions-replica${r}-20261130T000000000Z-0000.csv`), 'request_id,timestamp,model_version,prediction,confidence', lines);
  }
  // N label rows: 98 % of ids once, 1 % of ids a second time (a later relabel), 1 % unknown ids.
  const labelRows: string[] = [];
  const tl = t0 + N * 10 + 60_000;
  for (let i = 0; i < N; i++) {
    const u = rand();
    if (u < 0.98) labelRows.push(`${ids[i]},${new Date(tl + i).toISOString()},${truth[i]}`);
    else if (u < 0.99) {
      labelRows.push(`${ids[i]},${new Date(tl + i).toISOString()},${1 - truth[i]}`);
      labelRows.push(`${ids[i]},${new Date(tl + N + i).toISOString()},${truth[i]}`);
    } else labelRows.push(`${uuid()},${new Date(tl + i).toISOString()},${truth[i]}`);
  }
  for (let i = labelRows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [labelRows[i], labelRows[j]] = [labelRows[j], labelRows[i]];
  }
  const lper = Math.ceil(labelRows.length / replicas);
  for (let r = 0; r < replicas; r++) {
    await writeLines(join(WORK, 'live', 'labels', `live_labels-replica${r}-20261130T000000000Z-0000.csv`), 'request_id,timestamp,label', labelRows.slice(r * lper, (r + 1) * lper));
  }
  const ref: string[] = [];
  for (let i = 0; i < REF; i++) {
    const m = model(rand);
    ref.push(`${m.y},${m.pred},${m.conf}`);
  }
  await writeLines(join(WORK, 'reference.csv'), 'class,prediction,confidence', ref);
  writeFileSync(join(WORK, 'done'), '');
}

interface Measured {
  wall: number;
  cpu: number;
  rssMiB: number;
  out: any;
}

function timed(cmd: string, argv: string[]): Measured {
  const p = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = /TIME (\S+) (\S+) (\S+) (\S+)\s*$/.exec(p.stderr);
  if (p.status !== 0 || m === null) throw new Error(`${cmd} ${argv.join(' ')} failed (${p.status}):\n${p.stderr.slice(-3000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024, out: JSON.parse(p.stdout.trim().split('\n').at(-1)!) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function ensurePython(): string {
  if (existsSync(args.python)) return args.python;
  const venv = join(args.python, '..', '..');
  for (const [cmd, argv] of [['python3.11', ['-m', 'venv', venv]], [join(venv, 'bin', 'pip'), ['install', '-q', '-r', join(ROOT, 'tools', 'nannyml', 'requirements.txt')]]] as const) {
    const r = spawnSync(cmd, argv, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed`);
  }
  return args.python;
}

await generate();
const python = ensurePython();
const ours: Measured[] = [];
const theirs: Measured[] = [];
for (let i = 0; i < REPEATS; i++) {
  ours.push(timed(process.execPath, [join(ROOT, 'bench', 'quality', 'sentinel_side.ts'), WORK, String(CHUNK)]));
  theirs.push(timed(python, [join(ROOT, 'bench', 'quality', 'nannyml_side.py'), WORK, String(CHUNK)]));
  console.error(`round ${i + 1}/${REPEATS}: sentinel ${ours.at(-1)!.wall}s, nannyml ${theirs.at(-1)!.wall}s`);
}

const a = ours[0].out;
const b = theirs[0].out;
const maxDiff = (key: 'realized' | 'estimated') =>
  Math.max(...a[key].flatMap((c: Record<string, number>, i: number) => ['accuracy', 'f1', 'roc_auc'].map((m) => Math.abs(c[m] - b[key][i][m]))));
const row = (name: string, ms: Measured[]) =>
  `| ${name} | ${median(ms.map((m) => m.wall)).toFixed(2)} | ${median(ms.map((m) => m.cpu)).toFixed(2)} | ${median(ms.map((m) => m.rssMiB)).toFixed(0)} |`;
const phaseNames = [...new Set([...Object.keys(b.phases), ...Object.keys(a.phases)])];
const phaseMedian = (ms: Measured[], p: string, key = 'phases') => (ms[0].out[key][p] === undefined ? '—' : median(ms.map((m) => m.out[key][p])).toFixed(2));
const report = `# Quality benchmark: label join + realized metrics + CBPE, SentinelML vs NannyML

Generated by \`node bench/quality/run.ts --rows ${N} --reference ${REF} --chunk ${CHUNK} --repeats ${REPEATS}\` on ${new Date().toISOString()}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; NannyML 0.13.1 with pandas (tools/nannyml/requirements.txt).

Data: ${N.toLocaleString('en-US')} predictions in 4 replicas' log files, ${a.label_rows.toLocaleString('en-US')} label rows in 4 shuffled label files
(${a.superseded.toLocaleString('en-US')} relabels, ${a.unmatched_labels.toLocaleString('en-US')} unknown ids), labelled reference of ${REF.toLocaleString('en-US')} rows; chunks of ${CHUNK.toLocaleString('en-US')}.
Work on both sides: read both logs, keep each id's last label, join by request id, realized accuracy/F1/ROC AUC per chunk,
CBPE fitted on the reference (calibration decision, isotonic calibration, thresholds from reference chunks) and estimated per chunk.
Each side is one process under \`/usr/bin/time\`: wall and CPU (user+sys) seconds, peak RSS; median of ${REPEATS} interleaved runs.

| side | wall s | CPU s | peak RSS MiB |
|---|---|---|---|
${row('SentinelML (node bench/quality/sentinel_side.ts)', ours)}
${row('pandas + NannyML (python bench/quality/nannyml_side.py)', theirs)}

Wall-time ratio NannyML / SentinelML: **${(median(theirs.map((m) => m.wall)) / median(ours.map((m) => m.wall))).toFixed(1)}×**; CPU ratio ${(median(theirs.map((m) => m.cpu)) / median(ours.map((m) => m.cpu))).toFixed(1)}×; peak RSS ratio ${(median(theirs.map((m) => m.rssMiB)) / median(ours.map((m) => m.rssMiB))).toFixed(1)}×.

Phases, median seconds (CPU = user+sys of the process during the phase; NannyML's \`import\` is its fixed start-up cost):

| phase | SentinelML wall | SentinelML CPU | NannyML wall | NannyML CPU |
|---|---|---|---|---|
${phaseNames.map((p) => `| ${p} | ${phaseMedian(ours, p)} | ${phaseMedian(ours, p, 'cpu_phases')} | ${phaseMedian(theirs, p)} | ${phaseMedian(theirs, p, 'cpu_phases')} |`).join('\n')}

Load: this machine is shared (2 cores); load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) when the report was written. Under load,
wall times stretch by the CPU share other processes take; CPU seconds are the steadier comparison.

Same answers: labelled predictions ${a.labelled.toLocaleString('en-US')} vs ${b.labelled.toLocaleString('en-US')}, unmatched labels ${a.unmatched_labels} vs ${b.unmatched_labels};
calibration ${JSON.stringify(a.calibrated)} vs ${JSON.stringify(b.calibrated)}; largest absolute difference over the ${a.realized.length} chunks × 3 metrics:
realized ${maxDiff('realized').toExponential(2)}, estimated ${maxDiff('estimated').toExponential(2)}
(ties among the 4-decimal probabilities are ordered stably here and by numpy's unstable sort in NannyML: see docs/quality.md).
`;
const tmp = `${args.out}.${randomBytes(3).toString('hex')}`;
writeFileSync(tmp, report);
renameSync(tmp, args.out);
process.stdout.write(report);
