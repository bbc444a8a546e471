import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog } from '../../src/io/log/reader.ts';
import { countCodes } from '../../src/table/parts.ts';
import type { ReadResult } from '../../src/table/csv.ts';
import { evictLogEntries, readLogIncremental, type IncrementalRead, type IncrementalReadOptions, type LogCacheOptions } from '../../src/io/log/file-cache.ts';
import type { Column, ColumnDigest, DeclaredTypes } from '../../src/table/columns.ts';
import { seededUniform } from '../../src/stats/random.ts';
import { sortedRunsOf } from '../../src/stats/index.ts';
import { firstSeenOf } from '../../src/io/log/digest.ts';
import { profileColumn, profileDigest, type SideProfile } from '../../src/drift/profile.ts';

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const T0 = Date.parse('2026-11-30T00:00:00.000Z');
const MINUTE = 60_000;

interface Scenario {
  files: number;
  rows: number;
  messy: boolean;
  seed: number;
}

/**
 * A log directory of `files` rotated files. Messy: every oddity a directory read resolves across
 * files — booleans spelled differently per file, a column that turns to text in a later file, a
 * column missing from some files, padded NA cells, -0 and ±inf, unparseable and out-of-order
 * timestamps, a bad row, a torn last line.
 */
function writeLogDir(dir: string, sc: Scenario): void {
  const r = seededUniform(sc.seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  let t = T0;
  for (let f = 0; f < sc.files; f++) {
    const cols = ['request_id', 'timestamp', 'age', 'score', 'color', 'level'];
    if (sc.messy) cols.push('flag', ...(f % 3 === 1 ? [] : ['extra']), 'code', 'pad');
    cols.push('prediction');
    const lines = [cols.join(',')];
    for (let i = 0; i < sc.rows; i++) {
      t += Math.floor(r() * 2 * MINUTE);
      let ts = new Date(t).toISOString();
      if (sc.messy && r() < 0.03) ts = pick(['garbage', '', new Date(t - 90 * MINUTE).toISOString()]);
      const cell: Record<string, string> = {
        request_id: `r${f}-${i}`,
        timestamp: ts,
        age: sc.messy && r() < 0.05 ? pick(['', 'NA', '41.0']) : String(18 + Math.floor(r() * 60)),
        score: sc.messy && r() < 0.05 ? pick(['-0', 'inf', '-inf', 'nan', '0']) : (r() * 10 - 5).toFixed(3),
        color: r() < 0.05 ? pick(['', 'NA']) : pick(['red', 'green', 'blue', 'cyan', '"a,b"']),
        level: String(1 + Math.floor(r() * 3)),
        flag: r() < 0.1 ? '' : f % 2 === 0 ? pick(['true', 'false']) : pick(['True', 'FALSE']),
        extra: String(Math.floor(r() * 5)),
        // Numbers in the first files, text from the last file on: a full read re-reads it as text.
        code: f === sc.files - 1 && i > sc.rows / 2 ? `x${Math.floor(r() * 3)}` : String(Math.floor(r() * 4)),
        // Padded NA cells before the first label of each file.
        pad: i < 3 ? pick([' NA', '  ', '']) : pick(['u', 'v']),
        prediction: pick(['<=50K', '>50K']),
      };
      let line = cols.map((c) => cell[c]).join(',');
      if (sc.messy && i === 5 && f === 1) line = 'a,b,c'; // wrong field count: skipped
      lines.push(line);
    }
    let text = lines.join('\n') + '\n';
    if (f === sc.files - 1) text += 'r-torn,2026-12-01T00:00:00.000Z,3'; // a row still being written
    writeFileSync(join(dir, `live_predictions-a-${String(f).padStart(3, '0')}.csv`), text);
  }
}

/** Every timestamp a window could start at: before all, through each file, after all. */
function cutoffs(dir: string): (number | undefined)[] {
  const out: (number | undefined)[] = [undefined, T0 - MINUTE];
  const all: number[] = [];
  for (const name of readdirSync(dir).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n').slice(1)) {
      const t = Date.parse(line.split(',')[1] ?? '');
      if (!Number.isNaN(t)) all.push(t);
    }
  }
  all.sort((a, b) => a - b);
  for (const q of [0.1, 0.33, 0.5, 0.77, 0.95]) out.push(all[Math.floor(q * (all.length - 1))]);
  out.push(all[all.length - 1] + 1);
  return out;
}

function assertSameRead(got: ReadResult, want: ReadResult, what: string): void {
  // The merged categorical columns also carry their counts per code (a full read does not): checked, then set aside.
  const columns = new Map<string, Column>();
  for (const [name, col] of got.table.columns) {
    if (col.kind === 'categorical' && col.counts !== undefined) {
      const { counts, ...rest } = col;
      assert.deepStrictEqual(Array.from(counts), Array.from(countCodes(col.codes, col.dictionary.length)), `${what}: counts of ${name}`);
      columns.set(name, rest);
    } else columns.set(name, col);
  }
  assert.deepStrictEqual({ ...got, table: { ...got.table, columns }, skipped: sortKeys(got.skipped) }, { ...want, skipped: sortKeys(want.skipped) }, what);
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The merged runs expand to exactly the sorted finite values (-0 before +0, bit for bit). */
function assertRuns(inc: IncrementalRead, what: string): void {
  for (const [name, col] of inc.result.table.columns) {
    const runs = inc.runs(name);
    if (col.kind !== 'numerical' || inc.stats.fullRead) {
      assert.equal(runs, null, `${what}: ${name} has no runs`);
      continue;
    }
    const sorted = Float64Array.from(col.values.filter((v) => Number.isFinite(v))).sort();
    const expanded: number[] = [];
    runs!.values.forEach((v, k) => {
      for (let c = 0; c < runs!.counts[k]; c++) expanded.push(v);
    });
    assert.deepStrictEqual(Float64Array.from(expanded), sorted, `${what}: runs of ${name}`);
  }
}

/** What a digest of the full read's column holds, computed from its rows (the oracle for the merged digests). */
function digestOfColumn(col: Column, rows: number): ColumnDigest {
  if (col.kind === 'numerical') return { kind: 'numerical', digest: true, rows, missing: col.missing, invalid: col.invalid, integerDtype: col.integerDtype, runs: sortedRunsOf(col.values), firstSeen: firstSeenOf(col.values),
    negativeInfinity: col.values.filter((v) => v === -Infinity).length, positiveInfinity: col.values.filter((v) => v === Infinity).length };
  return { kind: 'categorical', digest: true, rows, missing: col.missing, dictionary: col.dictionary, counts: countCodes(col.codes, col.dictionary.length) };
}

/** A profile as plain data, input order set aside (a digest does not keep it): bit-level comparable. */
function profileData(p: SideProfile): unknown {
  if (p.data === null) return { ...p };
  if (p.type === 'numerical') {
    const d = p.data;
    return { ...p, data: { n: d.n, mean: d.mean, std: d.std, sorted: Float64Array.from(d.sorted), uniqueValues: d.uniqueValues, uniqueCounts: d.uniqueCounts, integerDtype: d.integerDtype } };
  }
  const d = p.data;
  return { ...p, data: { n: d.n, dictionary: d.dictionary, counts: d.counts, fromNumbers: d.fromNumbers } };
}

/** The digests equal those of the full read's columns, and profile to the same numbers as the columns, either type. */
function assertDigests(got: IncrementalRead, want: ReadResult, what: string): void {
  if (got.stats.fullRead) {
    assert.equal(got.digests, null, `${what}: a full read has no digests`);
    return;
  }
  assert.equal(got.stats.digests, true, what);
  assert.equal(got.result.table.columns.size, 0, `${what}: no rows merged`);
  assert.deepStrictEqual([...got.digests!.keys()], [...want.table.columns.keys()], `${what}: columns`);
  for (const [name, col] of want.table.columns) {
    const d = got.digests!.get(name)!;
    assert.deepStrictEqual(d, digestOfColumn(col, want.table.rows), `${what}: digest of ${name}`);
    for (const type of ['numerical', 'categorical'] as const) {
      const fromDigest = profileDigest(d, type);
      const fromRows = profileColumn(col, type);
      if (fromDigest === null) {
        // Only a numerical column tested as categorical whose labels' order the digest does not hold.
        assert.ok(d.kind === 'numerical' && type === 'categorical' && (!d.integerDtype || d.firstSeen === null), `${what}: ${name} as ${type}`);
        continue;
      }
      assert.deepStrictEqual(profileData(fromDigest), profileData(fromRows), `${what}: profile of ${name} as ${type}`);
    }
  }
}

async function check(dir: string, cache: LogCacheOptions, opts: IncrementalReadOptions, what: string): Promise<IncrementalRead> {
  const keep = opts.keepNames === undefined ? undefined : (n: string) => opts.keepNames!.includes(n);
  const want = await readLog(dir, { sinceMs: opts.sinceMs, types: opts.types, keep });
  const got = await readLogIncremental(dir, opts, cache);
  assertSameRead(got.result, want, what);
  assertRuns(got, what);
  // The same files as digests (a second reader of the same cache).
  const digests = await readLogIncremental(dir, { ...opts, digests: true, deferWrites: true }, cache);
  await digests.finish(false);
  const { table: _t, ...counts } = want;
  const { table: _g, ...gotCounts } = digests.result;
  assert.deepStrictEqual({ ...gotCounts, rows: digests.result.table.rows, skipped: sortKeys(gotCounts.skipped) }, { ...counts, rows: want.table.rows, skipped: sortKeys(counts.skipped) }, `${what} (digests): counts`);
  assertDigests(digests, want, `${what} (digests)`);
  return got;
}

const KEEP = ['age', 'score', 'color', 'level', 'flag', 'extra', 'code', 'pad', 'prediction'];

for (const [messy, sliceRows] of [[false, undefined], [true, undefined], [false, 7], [true, 7]] as const) {
  test(`cold, then warm: the same read as readLog for every window (${messy ? 'messy' : 'clean'} files${sliceRows === undefined ? '' : `, slices of ${sliceRows} rows`})`, async () => {
    const dir = tmp('sentinel-inc-log-');
    writeLogDir(dir, { files: 5, rows: 60, messy, seed: messy ? 7 : 3 });
    const types: DeclaredTypes | undefined = messy ? undefined : new Map([['age', 'numerical'], ['color', 'categorical'], ['prediction', 'categorical']]);
    let sliced = 0;
    for (const sinceMs of cutoffs(dir)) {
      const cache = { dir: tmp('sentinel-inc-cache-'), settleMs: 0, sliceRows };
      const opts = { sinceMs, types, keepNames: KEEP };
      const cold = await check(dir, cache, opts, `cold since=${sinceMs}`);
      assert.equal(cold.stats.cached, 0);
      assert.equal(cold.stats.written, 5);
      const warm = await check(dir, cache, opts, `warm since=${sinceMs}`);
      assert.equal(warm.stats.written, 0, 'nothing new to store');
      // The messy directory has a column with numbers then text: only a full read resolves it.
      if (!messy || sinceMs === undefined) assert.equal(warm.stats.fullRead, messy, `since=${sinceMs}`);
      if (!messy) assert.ok(warm.stats.parsed <= 1, `at most the file the window cuts is parsed again (since=${sinceMs}): ${JSON.stringify(warm.stats)}`);
      sliced += warm.stats.sliced;
    }
    // Clean files are sliced (a cut reads one slice's rows); messy ones are not (padded NA cells).
    if (sliceRows !== undefined) assert.equal(sliced > 0, !messy, `files taken slice by slice: ${sliced}`);
  });
}

test('messy files without the numbers-then-text and padded-NA columns merge without a full read, windows included', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 4, rows: 80, messy: true, seed: 11 });
  // `pad`: " NA" before a file's first label is missing to that file alone, a label to a full read.
  for (const keepNames of [['pad'], ['code']]) {
    const r = await readLogIncremental(dir, { keepNames }, { dir: tmp('sentinel-inc-cache-'), settleMs: 0 });
    assert.equal(r.stats.fullRead, true, keepNames[0]);
  }
  const keepNames = KEEP.filter((n) => n !== 'code' && n !== 'pad');
  for (const sliceRows of [undefined, 5]) {
    for (const sinceMs of cutoffs(dir)) {
      const cache = { dir: tmp('sentinel-inc-cache-'), settleMs: 0, sliceRows };
      await check(dir, cache, { sinceMs, keepNames }, `cold since=${sinceMs} slices ${sliceRows}`);
      const warm = await check(dir, cache, { sinceMs, keepNames }, `warm since=${sinceMs} slices ${sliceRows}`);
      assert.equal(warm.stats.fullRead, false, `since=${sinceMs}`);
    }
  }
});

test('a cached file that changes (append, rewrite in place, truncate) is parsed again', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 3, rows: 40, messy: false, seed: 5 });
  const cache = { dir: tmp('sentinel-inc-cache-'), settleMs: 0 };
  const opts = { keepNames: KEEP };
  await check(dir, cache, opts, 'cold');
  const first = join(dir, readdirSync(dir).sort()[0]);
  const old = statSync(first);
  appendFileSync(first, `r-late,${new Date(T0).toISOString()},99,1.500,red,2,>50K\n`);
  utimesSync(first, old.atime, old.mtime); // same mtime: size and ctime still tell
  const afterAppend = await check(dir, cache, opts, 'after append');
  assert.equal(afterAppend.stats.parsed, 1);
  // Same size, same mtime, other content: ctime tells.
  const st = statSync(first);
  const text = readFileSync(first, 'utf8');
  assert.ok(text.includes(',red,'));
  writeFileSync(first, text.replace(',red,', ',tan,'));
  utimesSync(first, st.atime, st.mtime);
  assert.equal(statSync(first).size, st.size);
  const afterRewrite = await check(dir, cache, opts, 'after rewrite');
  assert.equal(afterRewrite.stats.parsed, 1);
  truncateSync(first, 200);
  const afterTruncate = await check(dir, cache, opts, 'after truncate');
  assert.equal(afterTruncate.stats.parsed, 1);
});

test('a file still being written is parsed every run and not stored until it settles', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 3, rows: 30, messy: false, seed: 9 });
  const names = readdirSync(dir).sort();
  const old = new Date(Date.now() - 3_600_000);
  for (const n of names.slice(0, -1)) utimesSync(join(dir, n), old, old);
  const cache = { dir: tmp('sentinel-inc-cache-') };
  const cold = await check(dir, cache, { keepNames: KEEP }, 'cold');
  assert.equal(cold.stats.written, 2, 'the two settled files');
  appendFileSync(join(dir, names[2]), '\n');
  const warm = await check(dir, cache, { keepNames: KEEP }, 'warm');
  assert.deepEqual([warm.stats.cached, warm.stats.parsed, warm.stats.written], [2, 1, 0]);
});

test('corrupt, truncated and foreign entries are misses, never errors or wrong rows', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 3, rows: 30, messy: false, seed: 13 });
  const cache = { dir: tmp('sentinel-inc-cache-'), settleMs: 0 };
  await check(dir, cache, { keepNames: KEEP }, 'cold');
  const entries = readdirSync(cache.dir).filter((n) => n.startsWith('log-')).sort();
  assert.equal(entries.length, 3);
  const first = readFileSync(join(cache.dir, entries[0]));
  truncateSync(join(cache.dir, entries[0]), first.length - 8);
  writeFileSync(join(cache.dir, entries[1]), 'garbage');
  writeFileSync(join(cache.dir, entries[2]), first); // a valid entry, of another file
  const warm = await check(dir, cache, { keepNames: KEEP }, 'after corruption');
  assert.deepEqual([warm.stats.cached, warm.stats.parsed], [0, 3], JSON.stringify(warm.stats));
});

test('the cache stays under its size bound (least recently used entries go), reads stay exact', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 6, rows: 50, messy: false, seed: 17 });
  const cacheDir = tmp('sentinel-inc-cache-');
  await check(dir, { dir: cacheDir, settleMs: 0 }, { keepNames: KEEP }, 'fill');
  const sizes = readdirSync(cacheDir).filter((n) => n.startsWith('log-')).map((n) => statSync(join(cacheDir, n)).size);
  assert.equal(sizes.length, 6);
  const bound = Math.max(...sizes) * 2.5;
  const total = (): number => readdirSync(cacheDir).filter((n) => n.startsWith('log-')).reduce((s, n) => s + statSync(join(cacheDir, n)).size, 0);
  const bounded = { dir: cacheDir, settleMs: 0, maxBytes: bound };
  const r = await check(dir, bounded, { keepNames: KEEP }, 'bounded');
  assert.equal(r.stats.evicted, 4, JSON.stringify(r.stats));
  assert.ok(total() <= bound);
  const again = await check(dir, bounded, { keepNames: KEEP }, 'after eviction');
  assert.deepEqual([again.stats.cached, again.stats.parsed], [2, 4]);
  assert.ok(total() <= bound);
});

test('eviction goes by last use', async () => {
  const cacheDir = tmp('sentinel-inc-cache-');
  const now = Date.now() / 1000;
  for (const [name, age] of [['log-a.bin', 30], ['log-b.bin', 10], ['log-c.bin', 20], ['reference-x.bin', 99]] as const) {
    writeFileSync(join(cacheDir, name), Buffer.alloc(100));
    utimesSync(join(cacheDir, name), now - age, now - age);
  }
  assert.equal(await evictLogEntries(cacheDir, 150), 2);
  assert.deepEqual(readdirSync(cacheDir).sort(), ['log-b.bin', 'reference-x.bin']);
});

test('several readers at once share one cache directory', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 4, rows: 60, messy: false, seed: 21 });
  const cache = { dir: tmp('sentinel-inc-cache-'), settleMs: 0, maxBytes: 1 };
  const windows = cutoffs(dir);
  // maxBytes 1: every reader evicts what the others wrote, while they read it.
  await Promise.all(windows.flatMap((sinceMs) => [check(dir, cache, { sinceMs, keepNames: KEEP }, `a ${sinceMs}`), check(dir, cache, { sinceMs, keepNames: KEEP }, `b ${sinceMs}`)]));
  assert.deepEqual(readdirSync(cache.dir).filter((n) => n.startsWith('.tmp-')), [], 'no temp file left');
});

test('prepareNumeric from merged runs equals prepareNumeric by sorting, bit for bit (-0, duplicates)', async () => {
  const { prepareNumeric, sortedRunsOf, mergeSortedRuns } = await import('../../src/stats/index.ts');
  const r = seededUniform(99);
  const parts = [0, 1, 2].map(() => Float64Array.from({ length: 500 }, () => (r() < 0.1 ? -0 : r() < 0.1 ? 0 : Math.round(r() * 50) / 4 - 5)));
  const all = Float64Array.from(parts.flatMap((p) => Array.from(p)));
  const runs = mergeSortedRuns(parts.map(sortedRunsOf));
  const sorted = prepareNumeric(Float64Array.from(all), { sortInPlace: true });
  const fromRuns = prepareNumeric(Float64Array.from(all), { sortInPlace: true, runs });
  assert.deepStrictEqual(fromRuns, sorted);
  assert.ok(Object.is(fromRuns.sorted[fromRuns.sorted.indexOf(0)], -0), '-0 sorts first');
  // Runs that do not describe the sample are ignored, never trusted.
  const wrong = prepareNumeric(Float64Array.from(all), { runs: sortedRunsOf(parts[0]) });
  assert.deepStrictEqual(wrong.sorted, sorted.sorted);
});

test('a file still being written: each run parses only what was appended since the last one (segments), exactly', async () => {
  const dir = tmp('sentinel-inc-log-');
  writeLogDir(dir, { files: 3, rows: 40, messy: false, seed: 23 });
  const names = readdirSync(dir).sort();
  const open = join(dir, names[2]);
  // The open file: drop its torn line, then append rows run after run.
  writeFileSync(open, readFileSync(open, 'utf8').replace(/\nr-torn[^\n]*$/, '\n'));
  const old = new Date(Date.now() - 3_600_000);
  for (const n of names.slice(0, 2)) utimesSync(join(dir, n), old, old);
  const cache = { dir: tmp('sentinel-inc-cache-') }; // default settle time: the open file is recent
  let t = Date.parse('2026-12-02T00:00:00.000Z');
  const row = (i: number): string => `r-new-${i},${new Date((t += 30_000)).toISOString()},${30 + (i % 40)},${(i % 7) - 3}.250,${['red', 'blue', 'teal'][i % 3]},${1 + (i % 3)},${i % 2 ? '>50K' : '<=50K'}\n`;
  const first = await check(dir, cache, { keepNames: KEEP }, 'first');
  assert.equal(first.stats.written, 3, 'two closed files and the open file\'s first segment');
  for (let run = 0; run < 4; run++) {
    let text = '';
    for (let i = 0; i < 10; i++) text += row(run * 10 + i);
    appendFileSync(open, text);
    for (const sinceMs of [undefined, t - 5 * 60_000]) {
      const r = await check(dir, cache, { keepNames: KEEP, sinceMs }, `run ${run} since ${sinceMs}`);
      assert.equal(r.stats.fullRead, false);
      // Only the appended rows are parsed (and only once: the second window finds them stored).
      assert.equal(r.stats.bytesParsed, sinceMs === undefined ? Buffer.byteLength(text) : 0, `run ${run}`);
    }
  }
  // A torn append (the writer is mid-line) is torn now, and read whole once completed.
  appendFileSync(open, 'r-half,2026-12-03T00:00:00.000Z,4');
  const torn = await check(dir, cache, { keepNames: KEEP }, 'torn tail');
  assert.equal(torn.result.tornLines, 1);
  appendFileSync(open, '1,1.000,red,1,<=50K\n');
  const done = await check(dir, cache, { keepNames: KEEP }, 'completed');
  assert.equal(done.result.tornLines, 0);
  // The file replaced by another with the same name (rotation tools, a restore): checks fail, parsed again.
  const text = readFileSync(open, 'utf8');
  writeFileSync(open, text.replace(',red,', ',tan,'));
  await check(dir, cache, { keepNames: KEEP }, 'rewritten');
});
