/**
 * What log contract v2's per-class probability columns cost (docs/quality.md): a three-class model
 * (test/fixtures/multiclass) logs `proba_<class>` columns; v1 logs lacked them. Side by side, same run:
 *
 *   node bench/quality/proba-columns.ts [--rows 300000] [--repeats 5] [--out bench/quality/RESULTS-proba-columns.md]
 *
 * 1. Serve path: the real `sentinel serve` answers the fixture's 3,000 rows (batches of 100) into
 *    its log; bytes per row of that file (v2), and of the same rows without the three columns (v1).
 *    The writer's per-row formatting CPU (src/table/csv-write.ts, as the writer formats) of both, median.
 * 2. Drift run: the served rows repeated to --rows (fresh ids) in a v2 and a v1 log directory, all
 *    labelled; `runDriftJob` with the card (join, realized metrics, CBPE where possible), in this
 *    process, interleaved after one uncounted warm-up round; median wall and CPU (user+sys) seconds. v2 computes ROC AUC, log loss
 *    and CBPE, v1 reports them unavailable: the difference is reading the columns plus that work;
 *    the read alone (readLog of the kept columns) is timed too.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvRecords } from '../../src/table/csv-write.ts';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { readLog } from '../../src/io/log/reader.ts';
import { LABEL_DIR, logColumns } from '../../src/io/log/schema.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
import type { ModelCard } from '../../src/io/model/card.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test', 'fixtures', 'multiclass');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '300000' },
    repeats: { type: 'string', default: '5' },
    out: { type: 'string', default: join(ROOT, 'bench', 'quality', 'RESULTS-proba-columns.md') },
  },
});
const N = Number(args.rows);
const REPEATS = Number(args.repeats);
const card: ModelCard = JSON.parse(readFileSync(join(FIXTURE, 'model.json'), 'utf8'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function serveFixture(dir: string): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'sentinel.js'), 'serve', '--workers', '1', '--port', '0', '--host', '127.0.0.1', '--model', join(FIXTURE, 'model.onnx'), '--log-dir', dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SENTINEL_LOG_LEVEL: 'info' } });
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"url":"([^"]+)"[^\n]*listening|listening[^\n]*"url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1] ?? m[2]);
    });
    child.on('exit', (code) => reject(new Error(`sentinel serve exited (${code}): ${buf}`)));
  });
  const records: Record<string, string>[] = parse(gunzipSync(readFileSync(join(FIXTURE, 'current.csv.gz'))), { columns: true });
  const rows = records.map((r) => Object.fromEntries(card.features.map((f) => [f.name, f.type === 'numerical' ? Number(r[f.name]) : r[f.name]])));
  for (let i = 0; i < rows.length; i += 100) {
    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows.slice(i, i + 100) }) });
    if (res.status !== 200) throw new Error(`/predict ${res.status}: ${await res.text()}`);
  }
  child.kill('SIGTERM');
  await once(child, 'exit');
  // One worker, one file, rows in request order: the labels below are matched to rows by position.
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv'));
  if (files.length !== 1) throw new Error(`expected one served log file, found ${files.length}: ${files.join(', ')}`);
  return join(dir, files[0]);
}

function formatCpu(rows: unknown[][], reps: number): number {
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < rows.length; i++) csvRecords([rows[i]]); // one request's row at a time, as the writer formats
    const d = process.cpuUsage(t0);
    out.push(((d.user + d.system) / 1e6 / rows.length) * 1e6);
  }
  return median(out);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-proba-'));
  try {
    const served = await serveFixture(join(work, 'served'));
    const text = readFileSync(served, 'utf8');
    const all: string[][] = parse(text);
    const header = all[0];
    const body = all.slice(1);
    const v1Cols = logColumns(card.features.map((f) => f.name));
    const keep = v1Cols.map((c) => header.indexOf(c));
    const v1Rows = body.map((r) => keep.map((i) => r[i]));
    const v2Bytes = Buffer.byteLength(stringify(body));
    const v1Bytes = Buffer.byteLength(stringify(v1Rows));
    const perRow = { v1: v1Bytes / body.length, v2: v2Bytes / body.length };
    if (Math.abs(statSync(served).size - Buffer.byteLength(stringify([header])) - v2Bytes) > 0) throw new Error('re-formatted rows differ from the served file');
    // Formatting CPU per row (µs), numbers as numbers like the app hands them to the writer.
    const asValues = (rows: string[][], cols: string[]) => rows.map((r) => r.map((v, i) => (['request_id', 'timestamp', 'model_version', 'prediction'].includes(cols[i]) || card.features.find((f) => f.name === cols[i])?.type === 'categorical' ? v : Number(v))));
    const times10 = <T,>(xs: T[]) => Array.from({ length: 10 }, () => xs).flat();
    const fmtV2 = times10(asValues(body, header));
    const fmtV1 = times10(asValues(v1Rows, v1Cols));
    const fmt = { v1: [] as number[], v2: [] as number[] };
    formatCpu(fmtV1, 1); // warm-up (JIT), not counted
    formatCpu(fmtV2, 1);
    for (let r = 0; r < REPEATS; r++) {
      fmt.v1.push(formatCpu(fmtV1, 1));
      fmt.v2.push(formatCpu(fmtV2, 1));
    }

    // Drift-run directories: the served rows repeated to N rows with fresh ids, all labelled.
    const truth: string[] = (parse(gunzipSync(readFileSync(join(FIXTURE, 'current.csv.gz'))), { columns: true }) as Record<string, string>[]).map((r) => r.y_true);
    const dirs = { v1: join(work, 'v1'), v2: join(work, 'v2') };
    for (const d of Object.values(dirs)) mkdirSync(join(d, LABEL_DIR), { recursive: true });
    const rowsV2: string[][] = [];
    const labels: string[][] = [];
    for (let i = 0; i < N; i++) {
      const src = body[i % body.length];
      const id = randomUUID();
      rowsV2.push([id, ...src.slice(1)]);
      labels.push([id, src[1], truth[i % body.length]]);
    }
    writeFileSync(join(dirs.v2, 'live_predictions-bench-20261201T000000000Z-0000.csv'), stringify([header, ...rowsV2]));
    writeFileSync(join(dirs.v1, 'live_predictions-bench-20261201T000000000Z-0000.csv'), stringify([v1Cols, ...rowsV2.map((r) => keep.map((i) => r[i]))]));
    for (const d of Object.values(dirs)) writeFileSync(join(d, LABEL_DIR, 'live_labels-bench-20261201T000000000Z-0000.csv'), stringify([[...LABEL_COLUMNS], ...labels]));
    const reference = join(work, 'reference.csv');
    writeFileSync(reference, gunzipSync(readFileSync(join(FIXTURE, 'reference.csv.gz'))));
    const runs = { v1: { wall: [] as number[], cpu: [] as number[], read: [] as number[], quality: [] as number[], readCpu: [] as number[] }, v2: { wall: [] as number[], cpu: [] as number[], read: [] as number[], quality: [] as number[], readCpu: [] as number[] } };
    // The read alone: the columns a drift run with a card keeps (features, ids, outputs), typed as it types them.
    const types = new Map<string, 'numerical' | 'categorical'>([...card.features.map((f) => [f.name, f.type] as [string, 'numerical' | 'categorical']), ['request_id', 'categorical'], ['prediction', 'categorical'], ['confidence', 'numerical'], ...card.classes.map((c) => [`proba_${c}`, 'numerical'] as [string, 'numerical'])]);
    const readCpu = async (dirPath: string): Promise<number> => {
      const c0 = process.cpuUsage();
      const r = await readLog(dirPath, { types, keep: (n) => types.has(n) });
      if (r.table.rows !== N) throw new Error(`read ${r.table.rows} rows`);
      const d = process.cpuUsage(c0);
      return (d.user + d.system) / 1e6;
    };
    const answers: Record<string, string> = {};
    // Round 0 warms up (JIT, page cache) and is not counted.
    for (let r = 0; r <= REPEATS; r++) {
      for (const side of ['v1', 'v2'] as const) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const { result, timings } = await runDriftJob({ reference, current: dirs[side], out: join(work, 'reports'), modelCard: join(FIXTURE, 'model.json'), target: 'y_true', workers: 0, cache: false, save: false });
        const d = process.cpuUsage(c0);
        const readSeconds = await readCpu(dirs[side]);
        if (r > 0) {
          runs[side].readCpu.push(readSeconds);
          runs[side].wall.push((performance.now() - t0) / 1000);
          runs[side].cpu.push((d.user + d.system) / 1e6);
          runs[side].read.push(timings.read_current / 1000);
          runs[side].quality.push(timings.performance / 1000);
        }
        const p = result.performance!;
        answers[side] = `labelled ${p.join.labelled}, accuracy ${p.current!.accuracy.toFixed(6)}, ROC AUC ${p.current!.roc_auc?.toFixed(6) ?? 'unavailable'}, log loss ${p.current!.log_loss?.toFixed(6) ?? 'unavailable'}, CBPE ${p.estimated === null ? 'unavailable' : `accuracy ${p.estimated.metrics.accuracy.value!.toFixed(6)}`}`;
      }
    }
    const sizes = { v1: statSync(join(dirs.v1, 'live_predictions-bench-20261201T000000000Z-0000.csv')).size, v2: statSync(join(dirs.v2, 'live_predictions-bench-20261201T000000000Z-0000.csv')).size };
    const m = (xs: number[]) => median(xs).toFixed(2);
    const md = `# Per-class probability columns (log contract v2): what they cost

Generated by \`node bench/quality/proba-columns.ts --rows ${N} --repeats ${REPEATS}\` on ${new Date().toISOString()}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (shared machine: CPU seconds are the steadier comparison).
Model: test/fixtures/multiclass (3 classes, 7 features). v1 = the same rows without the \`proba_<class>\` columns.

## Serve path (the real \`sentinel serve\`, 3,000 rows of the fixture, batches of 100)

| | v1 | v2 | v2 / v1 |
|---|---|---|---|
| bytes per log row | ${perRow.v1.toFixed(1)} | ${perRow.v2.toFixed(1)} | ${(perRow.v2 / perRow.v1).toFixed(2)}× |
| CPU to format a row (src/table/csv-write.ts, µs per row over 30,000 rows, median of ${REPEATS}) | ${median(fmt.v1).toFixed(2)} | ${median(fmt.v2).toFixed(2)} | ${(median(fmt.v2) / median(fmt.v1)).toFixed(2)}× |

## Drift run with labels (${N.toLocaleString('en-US')} rows, all labelled; join + realized metrics + CBPE, workers 0, no cache)

| | log MiB | wall s (median of ${REPEATS}) | CPU s (median) | of the wall: reading the window s | of the wall: labels, join, metrics, CBPE s |
|---|---|---|---|---|---|
| v1 | ${(sizes.v1 / 2 ** 20).toFixed(1)} | ${m(runs.v1.wall)} | ${m(runs.v1.cpu)} | ${m(runs.v1.read)} | ${m(runs.v1.quality)} |
| v2 | ${(sizes.v2 / 2 ** 20).toFixed(1)} | ${m(runs.v2.wall)} | ${m(runs.v2.cpu)} | ${m(runs.v2.read)} | ${m(runs.v2.quality)} |

CPU ratio v2 / v1: **${(median(runs.v2.cpu) / median(runs.v1.cpu)).toFixed(2)}×** (wall ${(median(runs.v2.wall) / median(runs.v1.wall)).toFixed(2)}×).

Reading alone (\`readLog\` of the columns a run with the card keeps: features, ids, outputs), CPU s, median:
v1 ${m(runs.v1.readCpu)}, v2 ${m(runs.v2.readCpu)}, ratio **${(median(runs.v2.readCpu) / median(runs.v1.readCpu)).toFixed(2)}×**.
The v2 run does more than read three more columns: it also computes ROC AUC, log loss and CBPE, which v1 cannot.

Answers: v1 — ${answers.v1}; v2 — ${answers.v2}.
`;
    writeFileSync(args.out!, md);
    process.stdout.write(md);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
