/**
 * False alarms and detection power of the alarm modes (docs/drift.md, "Alarm modes") vs Evidently's
 * defaults, on null windows and injected shifts. One command: `bash bench/alarms/run.sh` (makes the
 * virtualenv that exports the second dataset from the nannyml wheel, then runs this file):
 *
 *   node bench/alarms/run.ts --california FILE.csv [--reps 100] [--shift-reps 50] [--reps-100k 40]
 *                            [--sizes 100,1000,10000,100000] [--out bench/alarms/RESULTS.md]
 *
 * Per dataset, rows are split at random (seeded) into a reference half and a hold-out half; null
 * windows are drawn from the hold-out half, so a window never shares rows with the reference it is
 * compared with: random windows (without replacement; with replacement when the window is larger than
 * the half) and contiguous windows (a run of hold-out rows in file order; only up to the half's size).
 * Shifted windows are random windows with one column changed by a known amount. Every window is
 * tested once with Evidently's default tests (detectColumnDrift, the code `sentinel drift` runs);
 * each mode then decides from the same results (calibrateColumn / applyMultipleTesting /
 * finalizeAlarms). Calibration samples are computed once per (column, test, size), as the cache does.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readLog } from '../../src/log/reader.ts';
import type { Column, Table } from '../../src/drift/columns.ts';
import { missingCodeOf } from '../../src/drift/columns.ts';
import { assembleResult, detectColumnDrift, type ColumnPair, type RunMeta } from '../../src/drift/detect.ts';
import { profileColumn, resolveTypes, type SideProfile } from '../../src/drift/profile.ts';
import type { ColumnDrift, ColumnType } from '../../src/drift/result.ts';
import { applyMultipleTesting, calibrateColumn, finalizeAlarms, type AlarmMode, type AlarmOptions } from '../../src/drift/alarms.ts';
import { LegacyRandomState } from '../../src/stats/random.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    california: { type: 'string' },
    reps: { type: 'string', default: '100' },
    'shift-reps': { type: 'string', default: '50' },
    'reps-100k': { type: 'string', default: '40' },
    sizes: { type: 'string', default: '100,1000,10000,100000' },
    out: { type: 'string', default: join(ROOT, 'bench', 'alarms', 'RESULTS.md') },
  },
});
if (args.california === undefined) throw new Error('--california FILE.csv is required (bash bench/alarms/run.sh makes it)');
const SIZES = args.sizes.split(',').map(Number);
const REPS = Number(args.reps);
const SHIFT_REPS = Number(args['shift-reps']);
const REPS_BIG = Number(args['reps-100k']);

const MODES: AlarmMode[] = ['evidently', 'chunks', 'bootstrap', 'bonferroni', 'bh'];
const ALARM: Omit<AlarmOptions, 'mode'> = { alpha: 0.05, resamples: 500, seed: 0 };

type Shift =
  | { kind: 'mean'; column: string; sd: number }
  | { kind: 'variance'; column: string; factor: number }
  | { kind: 'reweight'; column: string; category: string; weight: number };

interface Dataset {
  name: string;
  path: string;
  /** Columns that are not features. */
  drop: string[];
  /** Reference rows: half the data (default) or a fixed small number. */
  referenceRows?: number;
  shifts: Shift[];
}

const DATASETS: Dataset[] = [
  {
    name: 'adult',
    path: join(ROOT, 'data', 'adult', 'adult.csv'),
    drop: ['class'],
    shifts: [
      { kind: 'mean', column: 'age', sd: 0.05 },
      { kind: 'mean', column: 'age', sd: 0.1 },
      { kind: 'mean', column: 'age', sd: 0.25 },
      { kind: 'variance', column: 'hours-per-week', factor: 1.1 },
      { kind: 'variance', column: 'hours-per-week', factor: 1.5 },
      { kind: 'reweight', column: 'marital-status', category: 'Never-married', weight: 1.2 },
      { kind: 'reweight', column: 'marital-status', category: 'Never-married', weight: 2 },
    ],
  },
  {
    name: 'adult-ref1000',
    path: join(ROOT, 'data', 'adult', 'adult.csv'),
    drop: ['class'],
    referenceRows: 1000,
    shifts: [
      { kind: 'mean', column: 'age', sd: 0.1 },
      { kind: 'mean', column: 'age', sd: 0.25 },
      { kind: 'variance', column: 'hours-per-week', factor: 1.5 },
      { kind: 'reweight', column: 'marital-status', category: 'Never-married', weight: 2 },
    ],
  },
  {
    name: 'california',
    path: args.california,
    drop: [],
    shifts: [
      { kind: 'mean', column: 'MedInc', sd: 0.05 },
      { kind: 'mean', column: 'MedInc', sd: 0.1 },
      { kind: 'mean', column: 'MedInc', sd: 0.25 },
      { kind: 'variance', column: 'HouseAge', factor: 1.1 },
      { kind: 'variance', column: 'HouseAge', factor: 1.5 },
    ],
  },
];

function shiftLabel(s: Shift): string {
  if (s.kind === 'mean') return `mean +${s.sd}σ ${s.column}`;
  if (s.kind === 'variance') return `sd ×${s.factor} ${s.column}`;
  return `${s.column}=${s.category} weight ×${s.weight}`;
}

/** A column restricted to the given rows (indices may repeat). */
function take(col: Column, idx: Int32Array): Column {
  if (col.kind === 'numerical') {
    const values = new Float64Array(idx.length);
    let missing = 0;
    for (let i = 0; i < idx.length; i++) {
      values[i] = col.values[idx[i]];
      if (Number.isNaN(values[i])) missing++;
    }
    return { kind: 'numerical', values, missing, invalid: 0, integerDtype: col.integerDtype && missing === 0 };
  }
  const codes = new Uint32Array(idx.length);
  const miss = missingCodeOf(col.codes);
  let missing = 0;
  for (let i = 0; i < idx.length; i++) {
    const c = col.codes[idx[i]];
    codes[i] = c === miss ? 0xffffffff : c;
    if (c === miss) missing++;
  }
  return { kind: 'categorical', codes, dictionary: col.dictionary, missing };
}

function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

interface Tally {
  windows: number;
  datasetAlarms: number;
  columnAlarms: number;
  columnTests: number;
  /** Shift scenarios: the shifted column flagged. */
  shiftedFlagged: number;
}
const tally = (): Tally => ({ windows: 0, datasetAlarms: 0, columnAlarms: 0, columnTests: 0, shiftedFlagged: 0 });

const META: RunMeta = {
  runId: 'bench',
  startedAt: new Date(0),
  finishedAt: new Date(0),
  since: null,
  window: { from: null, to: null },
  reference: { path: 'bench', rows: 0 },
  current: { path: 'bench', rows: 0, files: 0, torn_lines: 0, skipped_rows: 0 },
};

interface Row {
  dataset: string;
  size: number;
  scenario: string;
  mode: AlarmMode;
  t: Tally;
}

async function runDataset(ds: Dataset, rows: Row[]): Promise<{ referenceRows: number; holdout: number; columns: number; seconds: number; cpu: number; cpuEvidently: number; cpuModes: Map<AlarmMode, number> }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const read = await readLog(ds.path, { unterminatedLastLine: 'row' });
  const table: Table = read.table;
  const names = read.header.filter((n) => !ds.drop.includes(n));
  const types = resolveTypes(table, names);
  const N = table.rows;
  const rng = new LegacyRandomState(20261201);
  const perm = rng.permutation(N);
  const half = Math.floor(N / 2);
  const refCount = ds.referenceRows ?? half;
  const refIdx = Int32Array.from(perm.subarray(0, refCount)).sort();
  const pool = Int32Array.from(perm.subarray(half)).sort();
  const reference = new Map<string, SideProfile>();
  for (const n of names) reference.set(n, profileColumn(take(table.columns.get(n)!, refIdx), types.get(n)!.type));
  const m = names.length;
  const cache = new Map<string, number[]>();
  let cpuEvidently = 0;
  const cpuModes = new Map<AlarmMode, number>();
  const refStats = new Map<string, { mean: number; std: number }>();
  for (const n of names) {
    const p = reference.get(n)!;
    if (p.type === 'numerical' && p.data !== null) refStats.set(n, { mean: p.data.mean, std: p.data.std });
  }

  const evaluate = (idx: Int32Array, shift: Shift | null): Map<AlarmMode, { dataset: boolean; drifted: number; tested: number; shifted: boolean }> => {
    let windowIdx = idx;
    const pairs: ColumnPair[] = names.map((n) => {
      let col = take(table.columns.get(n)!, windowIdx);
      if (shift !== null && shift.column === n && col.kind === 'numerical') {
        const { mean, std } = refStats.get(n)!;
        const v = col.values;
        for (let i = 0; i < v.length; i++) v[i] = shift.kind === 'mean' ? v[i] + shift.sd * std : shift.kind === 'variance' ? mean + shift.factor * (v[i] - mean) : v[i];
        col = { ...col, integerDtype: false };
      }
      return { name: n, reference: reference.get(n)!, current: profileColumn(col, types.get(n)!.type, { owned: true }) };
    });
    void windowIdx;
    const c0 = process.cpuUsage();
    const base = pairs.map((p) => detectColumnDrift(p, { maxChartCategories: 1, chartBins: 1 }));
    cpuEvidently += cpuSince(c0);
    const out = new Map<AlarmMode, { dataset: boolean; drifted: number; tested: number; shifted: boolean }>();
    for (const mode of MODES) {
      let cols: ColumnDrift[];
      const alarm: AlarmOptions = { ...ALARM, mode };
      const m0 = process.cpuUsage();
      if (mode === 'evidently') cols = base;
      else {
        const nulls = new Map<string, number[]>();
        cols = pairs.map((p, i) => {
          const cal = calibrateColumn(p, base[i], alarm, { familySize: m, cached: cache });
          for (const [k, v] of cal.fresh) cache.set(k, v);
          if (cal.nullSample !== null) nulls.set(p.name, cal.nullSample);
          return cal.drift;
        });
        cols = applyMultipleTesting(cols, alarm, nulls);
      }
      cpuModes.set(mode, (cpuModes.get(mode) ?? 0) + cpuSince(m0));
      const res = finalizeAlarms(assembleResult(cols, null, META), mode === 'evidently' ? undefined : alarm);
      const shifted = shift === null ? false : cols.find((c) => c.name === shift.column)!.drift_detected;
      out.set(mode, { dataset: res.dataset_drift, drifted: res.drifted_columns, tested: res.tested_columns, shifted });
    }
    return out;
  };

  const record = (size: number, scenario: string, r: ReturnType<typeof evaluate>): void => {
    for (const [mode, v] of r) {
      let row = rows.find((x) => x.dataset === ds.name && x.size === size && x.scenario === scenario && x.mode === mode);
      if (row === undefined) rows.push((row = { dataset: ds.name, size, scenario, mode, t: tally() }));
      row.t.windows++;
      if (v.dataset) row.t.datasetAlarms++;
      row.t.columnAlarms += v.drifted;
      row.t.columnTests += v.tested;
      if (v.shifted) row.t.shiftedFlagged++;
    }
  };

  const P = pool.length;
  const randomWindow = (n: number, weights?: Float64Array): Int32Array => {
    const out = new Int32Array(n);
    if (weights !== undefined) {
      // weighted draw with replacement over the hold-out rows
      const cum = new Float64Array(P);
      let s = 0;
      for (let i = 0; i < P; i++) cum[i] = s += weights[i];
      for (let i = 0; i < n; i++) {
        const u = (rng.nextUint32() / 4294967296) * s;
        let lo = 0, hi = P - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cum[mid] > u) hi = mid;
          else lo = mid + 1;
        }
        out[i] = pool[lo];
      }
      return out;
    }
    if (n <= P) {
      const perm = rng.permutation(P);
      for (let i = 0; i < n; i++) out[i] = pool[perm[i]];
      return out.sort();
    }
    for (let i = 0; i < n; i++) out[i] = pool[rng.interval(P - 1)];
    return out;
  };

  for (const size of SIZES) {
    const reps = size >= 100_000 ? REPS_BIG : REPS;
    const shiftReps = size >= 100_000 ? Math.min(SHIFT_REPS, REPS_BIG) : SHIFT_REPS;
    for (let r = 0; r < reps; r++) record(size, 'null, random', evaluate(randomWindow(size), null));
    if (size <= P) {
      for (let r = 0; r < reps; r++) {
        const start = rng.interval(P - size);
        record(size, 'null, contiguous', evaluate(pool.slice(start, start + size), null));
      }
    }
    for (const s of ds.shifts) {
      let weights: Float64Array | undefined;
      if (s.kind === 'reweight') {
        const col = table.columns.get(s.column)!;
        if (col.kind !== 'categorical') throw new Error(`${s.column} is not categorical`);
        const code = col.dictionary.indexOf(s.category);
        weights = Float64Array.from(pool, (row) => (col.codes[row] === code ? s.weight : 1));
      }
      for (let r = 0; r < shiftReps; r++) record(size, shiftLabel(s), evaluate(randomWindow(size, weights), s));
    }
    process.stderr.write(`${ds.name}: size ${size} done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const c = process.cpuUsage(c0);
  return { referenceRows: refCount, holdout: P, columns: m, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, cpuEvidently, cpuModes };
}

function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function pct(k: number, n: number): string {
  if (n === 0) return 'n/a';
  const [lo, hi] = wilson(k, n);
  return `${((100 * k) / n).toFixed(1)} % [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]`;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const info: Record<string, Awaited<ReturnType<typeof runDataset>>> = {};
  for (const ds of DATASETS) info[ds.name] = await runDataset(ds, rows);
  const get = (d: string, size: number, sc: string, mode: AlarmMode): Tally | undefined => rows.find((r) => r.dataset === d && r.size === size && r.scenario === sc && r.mode === mode)?.t;

  const lines: string[] = [];
  lines.push('# Alarm modes: false alarms and detection (bench/alarms)', '');
  lines.push(`Reproduce: \`bash bench/alarms/run.sh\` (one command; ${cpus().length} cores here, ${cpus()[0]?.model ?? '?'}).`);
  lines.push(`Generated by \`bench/alarms/run.ts\` on ${new Date().toISOString().slice(0, 10)}; repetitions: ${REPS} null windows per size and kind (${REPS_BIG} at 100k), ${SHIFT_REPS} per shift (${Math.min(SHIFT_REPS, REPS_BIG)} at 100k).`);
  lines.push('Method: each dataset\'s rows are split at random (seeded) into a reference and a hold-out half (adult-ref1000: a 1 000-row reference, so Evidently picks its p-value tests). Null windows come from the hold-out half, never from the reference rows they are compared with: random windows without replacement (with replacement above the hold-out size, which only widens the null), contiguous windows = consecutive hold-out rows in file order (only up to the hold-out size: n/a above). Shifted windows are random hold-out windows with one column changed: mean + δ·σ_ref, spread × f around the reference mean, or one category\'s sampling weight × w (drawn with replacement). A column alarm on a null window is a false alarm; a dataset alarm on a null window is a false dataset alarm. Every window is tested once with Evidently\'s default tests (the code `sentinel drift` runs); each mode decides from the same results.');
  lines.push('Rates are with 95 % Wilson intervals. α = 0.05 for every calibrated mode; 500 bootstrap resamples, seed 0; chunks: mean + 3σ, chunk size = window size, chunk vs rest (fewer than 5 chunks → bootstrap fallback).', '');
  lines.push(`| dataset | features | reference rows | hold-out rows | wall s | CPU s | of which Evidently tests | ${MODES.filter((x) => x !== 'evidently').map((x) => `${x} (incl. calibration)`).join(' | ')} |`, `|---|---:|---:|---:|---:|---:|---:|${MODES.filter((x) => x !== 'evidently').map(() => '---:').join('|')}|`);
  for (const [d, i] of Object.entries(info)) lines.push(`| ${d} | ${i.columns} | ${i.referenceRows} | ${i.holdout} | ${i.seconds.toFixed(0)} | ${i.cpu.toFixed(0)} | ${i.cpuEvidently.toFixed(1)} | ${MODES.filter((x) => x !== 'evidently').map((x) => (i.cpuModes.get(x) ?? 0).toFixed(1)).join(' | ')} |`);
  lines.push('', 'CPU seconds are this process\'s user + system time (one thread). Calibration runs once per dataset, column, test and window size (as the cache does), so the per-mode CPU is mostly that one-time cost; bonferroni/bh reuse the bootstrap null samples the bootstrap mode computed first.');
  lines.push('');
  for (const ds of DATASETS) {
    lines.push(`## ${ds.name}`, '', '### Null windows: dataset-level false-alarm rate', '');
    lines.push(`| window | kind | ${MODES.join(' | ')} |`, `|---|---|${MODES.map(() => '---').join('|')}|`);
    for (const size of SIZES) for (const kind of ['null, random', 'null, contiguous']) {
      const cells = MODES.map((mo) => {
        const t = get(ds.name, size, kind, mo);
        return t === undefined ? 'n/a' : pct(t.datasetAlarms, t.windows);
      });
      lines.push(`| ${size} | ${kind.slice(6)} | ${cells.join(' | ')} |`);
    }
    lines.push('', '### Null windows: column-level false-alarm rate (share of column tests flagged)', '');
    lines.push(`| window | kind | ${MODES.join(' | ')} |`, `|---|---|${MODES.map(() => '---').join('|')}|`);
    for (const size of SIZES) for (const kind of ['null, random', 'null, contiguous']) {
      const cells = MODES.map((mo) => {
        const t = get(ds.name, size, kind, mo);
        return t === undefined ? 'n/a' : `${((100 * t.columnAlarms) / Math.max(1, t.columnTests)).toFixed(2)} %`;
      });
      lines.push(`| ${size} | ${kind.slice(6)} | ${cells.join(' | ')} |`);
    }
    lines.push('', '### Injected shifts: detection rate of the shifted column (dataset-level in parentheses)', '');
    lines.push(`| shift | window | ${MODES.join(' | ')} |`, `|---|---|${MODES.map(() => '---').join('|')}|`);
    for (const s of ds.shifts) for (const size of SIZES) {
      const cells = MODES.map((mo) => {
        const t = get(ds.name, size, shiftLabel(s), mo)!;
        return `${((100 * t.shiftedFlagged) / t.windows).toFixed(0)} % (${((100 * t.datasetAlarms) / t.windows).toFixed(0)} %)`;
      });
      lines.push(`| ${shiftLabel(s)} | ${size} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }

  // Goals
  lines.push('## Goals', '');
  const calibrated = MODES.filter((m) => m !== 'evidently');
  lines.push('Dataset-level false alarms ≤ 5 % at every window size (point estimate; worst case over datasets and window kinds):', '');
  lines.push(`| mode | worst rate | where | met |`, '|---|---|---|---|');
  for (const mo of MODES) {
    let worst = -1;
    let where = '';
    let worstT: Tally | undefined;
    for (const r of rows) if (r.mode === mo && r.scenario.startsWith('null')) {
      const rate = r.t.datasetAlarms / r.t.windows;
      if (rate > worst) { worst = rate; where = `${r.dataset}, ${r.size}, ${r.scenario.slice(6)}`; worstT = r.t; }
    }
    lines.push(`| ${mo} | ${pct(worstT!.datasetAlarms, worstT!.windows)} | ${where} | ${worst <= 0.05 ? 'yes' : 'no'} |`);
  }
  lines.push('', 'Detection at 10k rows of the shifts Evidently\'s defaults detect there (column flagged in ≥ 50 % of the windows), column-level:', '');
  lines.push(`| dataset | shift | evidently | ${calibrated.join(' | ')} |`, `|---|---|---|${calibrated.map(() => '---').join('|')}|`);
  const kept: Record<string, number[]> = Object.fromEntries(calibrated.map((m) => [m, []]));
  for (const ds of DATASETS) for (const s of ds.shifts) {
    const ev = get(ds.name, 10000, shiftLabel(s), 'evidently');
    if (ev === undefined || ev.shiftedFlagged / ev.windows < 0.5) continue;
    const cells = calibrated.map((mo) => {
      const t = get(ds.name, 10000, shiftLabel(s), mo)!;
      kept[mo].push(t.shiftedFlagged / t.windows);
      return `${((100 * t.shiftedFlagged) / t.windows).toFixed(0)} %`;
    });
    lines.push(`| ${ds.name} | ${shiftLabel(s)} | ${((100 * ev.shiftedFlagged) / ev.windows).toFixed(0)} % | ${cells.join(' | ')} |`);
  }
  lines.push(`| **mean** | | | ${calibrated.map((mo) => (kept[mo].length === 0 ? 'n/a' : `**${((100 * kept[mo].reduce((a, b) => a + b, 0)) / kept[mo].length).toFixed(0)} %**`)).join(' | ')} |`);
  lines.push('');
  writeFileSync(args.out, lines.join('\n'));
  process.stderr.write(`wrote ${args.out}\n`);
}

await main();
