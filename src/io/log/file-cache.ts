/**
 * Incremental reads of a prediction-log directory. A closed log file never changes (one writer per
 * file, append-only, rotation makes new files), so what parsing it produced — its typed columns, the
 * timestamp of each row and its summaries (sorted runs and first-seen values of its numbers, counts
 * of its labels; also per slice of rows) — is stored once in the cache directory and a scheduled
 * drift run parses only the files that are new or still being written, then merges: the rows
 * (`mergeParts`), or with `digests` only the summaries (`mergeDigests`, src/io/log/digest.ts), so the
 * run's cost follows the new rows. Either merge reproduces `readLog` on the whole directory exactly;
 * where it cannot (a column with numbers in one file and text in another), the run falls back to a
 * full read.
 *
 *   <cache>/log-<id>.bin   id = sha256(format version, absolute path, device, inode, size, mtime,
 *                                      ctime (ns), the columns kept and their declared types)
 *
 * Safety: any change to a file changes its size or its mtime and ctime (ctime cannot be set back by
 * a user), so a changed file simply misses; a file is stored only when it was not modified for
 * `settleMs` and its identity was the same before and after the parse. Entries are written temp +
 * rename (`writeCacheFile`), so several readers can share the directory; a corrupt, truncated or
 * vanished entry is a miss. The directory is bounded: least recently used entries beyond `maxBytes`
 * are deleted after each run (a read touches the entries it used).
 *
 * A window (`--since`) that starts inside a cached file is cut from the stored timestamps of its
 * rows (of the one slice the cut falls in, when the file is sliced); a file entirely inside the
 * window is used whole, one entirely before it is only counted.
 */

import { createHash } from 'node:crypto';
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { open } from 'node:fs/promises';
import { BlobBuilder, openBlob, stageCacheFile, type ArrayRef, type OpenBlob, type StagedCacheFile, type StoredArray } from '../cache/profile-cache.ts';
import { missingCodeOf, type CodeArray, type ColumnDigest, type DeclaredTypes } from '../../table/columns.ts';
import { mergeSortedRuns, sortedRunsOf, type SortedRuns } from '../../stats/index.ts';
import type { ReadResult, SkippedEntry } from '../../table/csv.ts';
import { isTextLabel } from '../../table/cells.ts';
import { mergeParts, windowCoverage, windowPart, type LogFilePart, type PartColumn } from '../../table/parts.ts';
import { emptySummaries, firstSeenOf, infinitiesOf, mergeDigests, summariesOfPart, type PartSummaries } from './digest.ts';
import { logFilesOf, readLog, readLogFilePart, requireTimeColumn, type ReadOptions } from './reader.ts';

const FORMAT = 'SNTLLOG1';
/** Bump when parsing or the entry layout changes: old entries then miss. */
const VERSION = 4; // 2: counts per code of categorical columns; 3: first-seen values of numerical columns, slices; 4: ±inf counts
const DEFAULT_SLICE_ROWS = 16_384;
const PREFIX = 'log-';
const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

export interface LogCacheOptions {
  /** Cache directory (the drift job uses `<out>/.cache`, beside the reference profiles). */
  dir: string;
  /**
   * Bound on the log entries' total size; least recently used ones are deleted beyond it. Default
   * 2 GiB (about 30 M rows of a 14-feature log). Size it above the entries of every file in the log
   * directory: a file outside the window still needs its entry, for the counts of filtered rows.
   */
  maxBytes?: number;
  /** A file modified less than this long ago is taken as still being written: parsed, not stored. Default 2 min. */
  settleMs?: number;
  now?: () => number;
  /**
   * Rows per slice of a stored file (default 16,384): each slice also keeps its own summaries, so a
   * window that cuts the file reads the rows of one slice, not of the whole file (see `SliceHeader`).
   */
  sliceRows?: number;
}

export interface IncrementalReadOptions extends Pick<ReadOptions, 'sinceMs' | 'types' | 'onProgress' | 'chunkSize'> {
  /** Columns to keep (by header name); default: all. Part of the cache key. */
  keepNames?: readonly string[];
  /**
   * Publish the entries this read writes only when `finish(true)` is called (a drift run calls it
   * once it has succeeded: a failed run leaves nothing behind). Default: published as written.
   */
  deferWrites?: boolean;
  /**
   * Merge the files' summaries into column digests (`IncrementalRead.digests`) instead of their rows:
   * a cached file entirely inside the window is then read without its per-row arrays. The result's
   * table then has no columns (`table.rows` and every count as a full read).
   */
  digests?: boolean;
}

export interface LogReadPlan {
  dir: string;
  files: { path: string; key: string; entry: string; settled: boolean; size: number; identity: string }[];
  /** Bytes of CSV the read will parse (files without a cache entry). */
  bytesToParse: number;
  /** `*.csv` entries that are not regular files (see `listLogFiles`). */
  skipped: SkippedEntry[];
}

export interface IncrementalRead {
  result: ReadResult;
  /**
   * Sorted runs of a numerical column's finite values in the result, merged from the files' runs
   * (null when the read fell back to a full parse, or the column is not numerical).
   */
  runs(name: string): SortedRuns | null;
  /** With `digests`: every column's digest (null when the read fell back to a full parse: use `result`). */
  digests: Map<string, ColumnDigest> | null;
  /** With `deferWrites`: publishes (true) or drops (false) the entries written, then bounds the cache. */
  finish(ok: boolean): Promise<void>;
  stats: {
    files: number;
    /** Files taken from the cache (whole, windowed, or only counted: outside the window). */
    cached: number;
    /** Files parsed (new, still written, or a cached file the window cuts in a way the cache cannot tell). */
    parsed: number;
    written: number;
    evicted: number;
    /** CSV bytes parsed (the files parsed whole, the appended part of those still written). */
    bytesParsed: number;
    /** The merge could not reproduce a full read; the directory was read in full. */
    fullRead: boolean;
    /** The window's columns came as digests (`digests`): no file's rows merged. */
    digests: boolean;
    /** Cached files the window cuts, taken slice by slice (rows of the cut slice only). */
    sliced: number;
  };
}

function planKey(opts: IncrementalReadOptions): string {
  const types = opts.types === undefined ? null : [...opts.types].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ keep: opts.keepNames === undefined ? null : [...opts.keepNames].sort(), types });
}

/** Which files a read will take from the cache, without reading any: sizes the work before it starts. */
export async function planLogRead(dir: string, opts: IncrementalReadOptions, cache: LogCacheOptions): Promise<LogReadPlan> {
  const now = cache.now?.() ?? Date.now();
  const settleMs = cache.settleMs ?? 120_000;
  const plan = planKey(opts);
  const files: LogReadPlan['files'] = [];
  let bytesToParse = 0;
  const present = new Set(await readdir(cache.dir).catch(() => [] as string[]));
  const listed = await logFilesOf(dir);
  for (const path of listed.files) {
    const st = await stat(path, { bigint: true });
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const key = createHash('sha256').update(JSON.stringify({ v: VERSION, path: resolve(path), identity, plan })).digest('hex').slice(0, 32);
    const entry = `${PREFIX}${key}.bin`;
    const settled = now - Number(st.mtimeMs) >= settleMs;
    if (!present.has(entry)) bytesToParse += settled ? Number(st.size) : Number(st.size) - (await segmentsEnd(cache.dir, path, identity, plan));
    files.push({ path, key, entry, settled, size: Number(st.size), identity });
  }
  return { dir, files, bytesToParse, skipped: listed.skipped };
}

interface EntryColumn {
  name: string;
  kind: 'numerical' | 'categorical';
  missing: number;
  invalid?: number;
  allInt?: boolean;
  numCells?: number;
  paddedNa: number;
  mixed?: boolean;
  dictionary?: string[];
  counts?: ArrayRef;
  data: ArrayRef;
  runValues?: ArrayRef;
  runCounts?: ArrayRef;
  /** null: more distinct values than `FIRST_SEEN_LIMIT`. */
  firstSeen?: ArrayRef | null;
  /** Numerical: [-inf, +inf] cells. */
  infinities?: [number, number];
}

/** The JSON header of a cache entry: the part's counts (as `LogFilePart` has them) plus what identifies the entry. */
interface EntryHeader extends Pick<LogFilePart, 'file' | 'header' | 'rows' | 'rowsRead' | 'filtered' | 'tornLines' | 'skippedRows' | 'skipped'> {
  format: string;
  key: string;
  /** null: ±Infinity (no parseable timestamp). */
  minTs: number | null;
  maxTs: number | null;
  badTimestamps: number;
  timestamps: ArrayRef | null;
  columns: EntryColumn[];
  /** A segment of a file still being written: its byte range and checks of the bytes at both ends. */
  segment?: Segment;
  /** Consecutive row ranges of the file with their own summaries (absent: the file is not sliced). */
  slices?: SliceHeader[];
}

/**
 * Rows [start, start + rows) of a stored file as a part of their own: a window that cuts the file
 * takes the slices it covers whole from their summaries and reads rows of the slice it cuts only.
 * Merging the slices is merging the file (the reader's kind decisions are the file's: a file is
 * sliced only when no column depends on where a cut falls, see `sliceable`). The per-row arrays are
 * ranges of the file's (`subRef`), the dictionary is the slice's own, in first-seen order.
 */
interface SliceHeader {
  start: number;
  rows: number;
  minTs: number | null;
  maxTs: number | null;
  badTimestamps: number;
  /** In the order of `EntryHeader.columns`. */
  columns: SliceColumn[];
}

interface SliceColumn {
  missing: number;
  allInt?: boolean;
  runValues?: ArrayRef;
  runCounts?: ArrayRef;
  firstSeen?: ArrayRef | null;
  infinities?: [number, number];
  /** Categorical: the file's codes in the slice's first-seen order (u32), and rows per slice code. */
  order?: ArrayRef;
  counts?: ArrayRef;
}

/** `r` restricted to elements [from, from + length). */
function subRef(r: ArrayRef, from: number, length: number): ArrayRef {
  const bytes = r.kind === 'f64' ? 8 : r.kind === 'u32' ? 4 : r.kind === 'u16' ? 2 : 1;
  return { kind: r.kind, offset: r.offset + from * bytes, length };
}

/**
 * Whether slices of `part` merge to what a read of any window of the file gives: timestamps present,
 * no column whose kind or integer-ness a cut could change (text cells in a numerical column, numbers
 * then text, padded NA cells, numeric-looking labels of an undeclared text column), and each slice's
 * integer-ness decidable from its values.
 */
function sliceable(part: LogFilePart, sliceRows: number, types: DeclaredTypes | undefined): boolean {
  if (part.timestamps === null || part.rows < 2 * sliceRows) return false;
  for (const [name, c] of part.columns) {
    if (c.paddedNa > 0) return false;
    if (c.kind === 'categorical') {
      if (c.mixed || (types?.get(name) !== 'categorical' && !c.dictionary.every(isTextLabel))) return false;
      continue;
    }
    if (c.invalid > 0) return false;
    if (c.allInt || c.numCells === 0) continue;
    // A float column: every slice must hold a missing or a non-integer value (else its integer-ness depends on cell spellings).
    for (let s = 0; s < part.rows; s += sliceRows) {
      let decided = false;
      for (let i = s; i < Math.min(part.rows, s + sliceRows) && !decided; i++) decided = !Number.isInteger(c.values[i]);
      if (!decided) return false;
    }
  }
  return true;
}

function encodeSlices(part: LogFilePart, sliceRows: number, blob: BlobBuilder): SliceHeader[] {
  const slices: SliceHeader[] = [];
  const ts = part.timestamps!;
  for (let start = 0; start < part.rows; start += sliceRows) {
    const end = Math.min(part.rows, start + sliceRows);
    let minTs = Infinity;
    let maxTs = -Infinity;
    let bad = 0;
    for (let i = start; i < end; i++) {
      const t = ts[i];
      if (Number.isNaN(t)) bad++;
      else {
        if (t < minTs) minTs = t;
        if (t > maxTs) maxTs = t;
      }
    }
    const columns: SliceColumn[] = [];
    for (const c of part.columns.values()) {
      if (c.kind === 'numerical') {
        const values = c.values.subarray(start, end);
        let missing = 0;
        for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) missing++;
        // As `windowPart` decides it for rows of the file (`sliceable` ruled out the undecidable case).
        let allInt = c.allInt;
        if (!allInt) allInt = missing === 0 && (c.numCells === 0 || values.every(Number.isInteger));
        const runs = sortedRunsOf(values);
        const seen = firstSeenOf(values);
        columns.push({ missing, allInt, runValues: blob.add(runs.values), runCounts: blob.add(runs.counts), firstSeen: seen === null ? null : blob.add(seen), infinities: infinitiesOf(values) });
      } else {
        const missingCode = missingCodeOf(c.codes);
        const local = new Int32Array(c.dictionary.length).fill(-1);
        const order: number[] = [];
        const counts: number[] = [];
        let missing = 0;
        for (let i = start; i < end; i++) {
          const code = c.codes[i];
          if (code === missingCode) {
            missing++;
            continue;
          }
          if (local[code] === -1) {
            local[code] = order.push(code) - 1;
            counts.push(0);
          }
          counts[local[code]]++;
        }
        columns.push({ missing, order: blob.add(Uint32Array.from(order)), counts: blob.add(Float64Array.from(counts)) });
      }
    }
    slices.push({ start, rows: end - start, minTs: Number.isFinite(minTs) ? minTs : null, maxTs: Number.isFinite(maxTs) ? maxTs : null, badTimestamps: bad, columns });
  }
  return slices;
}

interface Segment {
  start: number;
  end: number;
  /** Offset past the file's header record (the header is parsed before a later segment). */
  headerEnd: number;
  /** sha256 of the first and last (up to) 4 KiB of the range. */
  head: string;
  tail: string;
}

function encodeEntry(key: string, part: LogFilePart, sums: PartSummaries, slicing: { rows: number; types?: DeclaredTypes } | null, segment?: Segment): Buffer {
  const blob = new BlobBuilder();
  const columns: EntryColumn[] = [];
  for (const [name, c] of part.columns) {
    if (c.kind === 'numerical') {
      const r = sums.runs.get(name)!;
      const seen = sums.firstSeen.get(name)!;
      columns.push({ name, kind: c.kind, missing: c.missing, invalid: c.invalid, allInt: c.allInt, numCells: c.numCells, paddedNa: c.paddedNa, data: blob.add(c.values), runValues: blob.add(r.values), runCounts: blob.add(r.counts), firstSeen: seen === null ? null : blob.add(seen), infinities: sums.infinities.get(name)! });
    } else {
      columns.push({ name, kind: c.kind, missing: c.missing, mixed: c.mixed, paddedNa: c.paddedNa, dictionary: c.dictionary, counts: blob.add(c.counts), data: blob.add(c.codes) });
    }
  }
  const header: EntryHeader = {
    format: FORMAT,
    key,
    file: part.file,
    header: part.header,
    rows: part.rows,
    rowsRead: part.rowsRead,
    filtered: part.filtered,
    tornLines: part.tornLines,
    skippedRows: part.skippedRows,
    skipped: part.skipped,
    minTs: Number.isFinite(part.minTs) ? part.minTs : null,
    maxTs: Number.isFinite(part.maxTs) ? part.maxTs : null,
    badTimestamps: part.badTimestamps,
    timestamps: part.timestamps === null ? null : blob.add(part.timestamps),
    columns,
    ...(segment !== undefined ? { segment } : {}),
    ...(slicing !== null && sliceable(part, slicing.rows, slicing.types) ? { slices: encodeSlices(part, slicing.rows, blob) } : {}),
  };
  return blob.encode(FORMAT, header);
}

/** A cached part: counts from the header; arrays read only when the window needs them. */
interface CachedPart {
  header: EntryHeader;
  blob: OpenBlob;
}

async function openEntry(dir: string, entry: string, key: string): Promise<CachedPart | null> {
  const blob = await openBlob(join(dir, entry), FORMAT).catch(() => null);
  if (blob === null) return null;
  const h = blob.header as EntryHeader;
  if (h === null || typeof h !== 'object' || h.format !== FORMAT || h.key !== key || !Array.isArray(h.columns)) {
    await blob.close();
    return null;
  }
  return { header: h, blob };
}

/**
 * The part as stored, with per-row arrays read only when `withRows` (else empty) and the summaries
 * (runs, first-seen values, counts per code) only when `withSummaries` (else counts only).
 */
async function loadPart(c: CachedPart, withRows: boolean, withSummaries: boolean, withTimestamps: boolean): Promise<{ part: LogFilePart; sums: PartSummaries }> {
  const h = c.header;
  const columns = new Map<string, PartColumn>();
  const sums: PartSummaries = emptySummaries();
  const read = async (r: ArrayRef): Promise<StoredArray> => (withRows ? c.blob.read(r) : new Float64Array(0));
  for (const col of h.columns) {
    if (col.kind === 'numerical') {
      const values = (await read(col.data)) as Float64Array;
      if (withSummaries) {
        sums.runs.set(col.name, { values: (await c.blob.read(col.runValues!)) as Float64Array, counts: (await c.blob.read(col.runCounts!)) as Float64Array });
        sums.firstSeen.set(col.name, col.firstSeen == null ? null : ((await c.blob.read(col.firstSeen)) as Float64Array));
        sums.infinities.set(col.name, col.infinities!);
      }
      columns.set(col.name, { kind: 'numerical', values, missing: col.missing, invalid: col.invalid!, allInt: col.allInt!, numCells: col.numCells!, paddedNa: col.paddedNa });
    } else {
      const codes = (withRows ? await c.blob.read(col.data) : new Uint8Array(0)) as CodeArray;
      const counts = (withRows || withSummaries ? await c.blob.read(col.counts!) : new Float64Array(0)) as Float64Array;
      columns.set(col.name, { kind: 'categorical', codes, dictionary: col.dictionary!, counts, missing: col.missing, mixed: col.mixed!, paddedNa: col.paddedNa });
    }
  }
  const timestamps = h.timestamps === null ? null : withTimestamps ? ((await c.blob.read(h.timestamps)) as Float64Array) : new Float64Array(0);
  const part: LogFilePart = {
    file: h.file,
    header: h.header,
    rows: h.rows,
    rowsRead: h.rowsRead,
    filtered: h.filtered,
    tornLines: h.tornLines,
    skippedRows: h.skippedRows,
    skipped: h.skipped,
    columns,
    timestamps,
    minTs: h.minTs ?? Infinity,
    maxTs: h.maxTs ?? -Infinity,
    badTimestamps: h.badTimestamps,
  };
  return { part, sums };
}

/**
 * The window's rows of a sliced file, slice by slice (each already through `windowPart`): a slice
 * inside the window from its summaries (and its rows unless `digests`), the cut one from its rows,
 * older ones counted only. Null when a cut slice cannot be windowed (the caller reads the file).
 */
async function loadSlices(c: CachedPart, sinceMs: number | undefined, types: DeclaredTypes | undefined, digests: boolean): Promise<{ part: LogFilePart; sums: PartSummaries | null }[] | null> {
  const h = c.header;
  const out: { part: LogFilePart; sums: PartSummaries | null }[] = [];
  const slices = h.slices!;
  for (let k = 0; k < slices.length; k++) {
    const sl = slices[k];
    const last = k === slices.length - 1;
    const coverage = windowCoverage({ rows: sl.rows, timestamps: null, hasTimestamps: true, minTs: sl.minTs ?? Infinity, maxTs: sl.maxTs ?? -Infinity, badTimestamps: sl.badTimestamps }, sinceMs);
    const withRows = coverage === 'some' || (coverage === 'all' && !digests);
    const sums: PartSummaries = emptySummaries();
    const columns = new Map<string, PartColumn>();
    for (let j = 0; j < h.columns.length; j++) {
      const col = h.columns[j];
      const sc = sl.columns[j];
      if (col.kind === 'numerical') {
        const values = withRows ? ((await c.blob.read(subRef(col.data, sl.start, sl.rows))) as Float64Array) : new Float64Array(0);
        if (coverage === 'all') {
          sums.runs.set(col.name, { values: (await c.blob.read(sc.runValues!)) as Float64Array, counts: (await c.blob.read(sc.runCounts!)) as Float64Array });
          sums.firstSeen.set(col.name, sc.firstSeen == null ? null : ((await c.blob.read(sc.firstSeen)) as Float64Array));
          sums.infinities.set(col.name, sc.infinities!);
        }
        columns.set(col.name, { kind: 'numerical', values, missing: sc.missing, invalid: 0, allInt: sc.allInt!, numCells: col.numCells!, paddedNa: 0 });
        continue;
      }
      const order = coverage === 'none' ? new Uint32Array(0) : ((await c.blob.read(sc.order!)) as Uint32Array);
      const counts = coverage === 'none' ? new Float64Array(0) : ((await c.blob.read(sc.counts!)) as Float64Array);
      const dictionary = Array.from(order, (code) => col.dictionary![code]);
      let codes: CodeArray = new Uint8Array(0);
      if (withRows) {
        // The file's codes of the slice, renumbered in the slice's first-seen order.
        const from = (await c.blob.read(subRef(col.data, sl.start, sl.rows))) as CodeArray;
        const missingFrom = missingCodeOf(from);
        const remap = new Uint32Array(col.dictionary!.length);
        order.forEach((code, i) => (remap[code] = i));
        codes = dictionary.length <= 0xff ? new Uint8Array(sl.rows) : dictionary.length <= 0xffff ? new Uint16Array(sl.rows) : new Uint32Array(sl.rows);
        const missingTo = missingCodeOf(codes);
        for (let i = 0; i < from.length; i++) codes[i] = from[i] === missingFrom ? missingTo : remap[from[i]];
      }
      columns.set(col.name, { kind: 'categorical', codes, dictionary, counts, missing: sc.missing, mixed: false, paddedNa: 0 });
    }
    const part: LogFilePart = {
      file: h.file,
      header: h.header,
      rows: sl.rows,
      // The file's other counts go with its last slice: only their sums matter.
      rowsRead: sl.rows + (last ? h.rowsRead - h.rows : 0),
      filtered: last ? h.filtered : 0,
      tornLines: last ? h.tornLines : 0,
      skippedRows: last ? h.skippedRows : 0,
      skipped: last ? h.skipped : {},
      columns,
      timestamps: coverage === 'some' ? ((await c.blob.read(subRef(h.timestamps!, sl.start, sl.rows))) as Float64Array) : new Float64Array(0),
      minTs: sl.minTs ?? Infinity,
      maxTs: sl.maxTs ?? -Infinity,
      badTimestamps: sl.badTimestamps,
    };
    const windowed = windowPart(part, sinceMs, types);
    if (windowed === null) return null;
    out.push({ part: windowed, sums: coverage === 'all' ? sums : null });
  }
  return out;
}

async function identityOf(path: string): Promise<string | null> {
  return stat(path, { bigint: true }).then((st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, () => null);
}

const CHECK_BYTES = 4096;

/** sha256 of bytes [from, to) of a file. */
async function hashRange(path: string, from: number, to: number): Promise<string> {
  return createHash('sha256').update(await readRange(path, from, to)).digest('hex');
}

async function segmentChecks(path: string, start: number, end: number): Promise<{ head: string; tail: string }> {
  return { head: await hashRange(path, start, Math.min(end, start + CHECK_BYTES)), tail: await hashRange(path, Math.max(start, end - CHECK_BYTES), end) };
}

function segmentKeyOf(path: string, identity: string, plan: string): (start: number) => string {
  const [dev, ino] = identity.split(':');
  return (start) => createHash('sha256').update(JSON.stringify({ v: VERSION, path: resolve(path), dev, ino, plan, start })).digest('hex').slice(0, 32);
}

/** Where the stored segments of a file being written end (0: none), from their headers only. */
async function segmentsEnd(dir: string, path: string, identity: string, plan: string): Promise<number> {
  const key = segmentKeyOf(path, identity, plan);
  let start = 0;
  for (;;) {
    const k = key(start);
    const e = await openEntry(dir, `${PREFIX}seg-${k}.bin`, k);
    if (e === null) return start;
    await e.blob.close();
    const seg = e.header.segment;
    if (seg === undefined || seg.end <= start) return start;
    start = seg.end;
  }
}

/**
 * A file still being written, as consecutive segments. Its writer only appends (one writer per file,
 * never rewritten: the log's contract), so the byte range a run parsed reads the same in later runs:
 * each run stores what it parsed as a segment (when it ends with a complete record), keyed by
 * device, inode and start offset and checked against the bytes at both ends of its range, and the
 * next run parses only from the last segment's end. A truncated, replaced or rewritten file fails
 * a check (or has another inode) and is parsed again from where the checks fail.
 */
async function readOpenFile(
  f: LogReadPlan['files'][number],
  parseOpts: { types?: DeclaredTypes; keep?: (n: string) => boolean; chunkSize?: number },
  opts: IncrementalReadOptions,
  cache: LogCacheOptions,
  stats: IncrementalRead['stats'],
  store: (entry: string, data: Buffer) => Promise<void>,
  fromCache: (cached: CachedPart, entry: string) => Promise<{ part: LogFilePart; sums: PartSummaries | null }[] | null>,
  take: (part: LogFilePart, sums: PartSummaries | null) => void,
): Promise<void> {
  const segmentKey = segmentKeyOf(f.path, f.identity, planKey(opts));
  let start = 0;
  let headerEnd = -1;
  for (;;) {
    const key = segmentKey(start);
    const entry = `${PREFIX}seg-${key}.bin`;
    const cached = await openEntry(cache.dir, entry, key);
    if (cached === null) break;
    const seg = cached.header.segment;
    const ok = seg !== undefined && seg.start === start && seg.end <= f.size && seg.end > start && JSON.stringify(await segmentChecks(f.path, seg.start, seg.end).catch(() => null)) === JSON.stringify({ head: seg.head, tail: seg.tail });
    const hit = ok ? await fromCache(cached, entry) : (await cached.blob.close(), null);
    if (hit === null) break;
    for (const h of hit) take(h.part, h.sums);
    if (start === 0) headerEnd = seg!.headerEnd;
    start = seg!.end;
  }
  if (start > 0 && start >= f.size) return;
  const header = start > 0 ? Buffer.from(await readRange(f.path, 0, headerEnd)) : undefined;
  const rest = await readLogFilePart(f.path, { ...parseOpts, from: start, header });
  stats.bytesParsed += rest.end - start;
  const sums = summariesOfPart(rest);
  if (rest.cleanEnd && rest.rows > 0 && rest.end > start) {
    const segment: Segment = { start, end: rest.end, headerEnd: start === 0 ? rest.headerEnd : headerEnd, ...(await segmentChecks(f.path, start, rest.end)) };
    const key = segmentKey(start);
    try {
      await store(`${PREFIX}seg-${key}.bin`, encodeEntry(key, rest, sums, null, segment));
    } catch {
      // Not stored: the next run parses this range again.
    }
  }
  const part = windowPart(rest, opts.sinceMs, opts.types);
  take(part ?? (await readLogFilePart(f.path, { ...parseOpts, from: start, header, sinceMs: opts.sinceMs })), part === rest ? sums : null);
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, to - from));
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, from + off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

/**
 * `readLog(dir, opts)`, parsing only the files the cache does not hold (or whose kept rows it cannot
 * tell apart from the window's cut), and storing the settled ones it parsed. Same result, bit for bit.
 */
export async function readLogIncremental(dir: string, opts: IncrementalReadOptions, cache: LogCacheOptions, plan?: LogReadPlan): Promise<IncrementalRead> {
  const p = plan ?? (await planLogRead(dir, opts, cache));
  const keepSet = opts.keepNames === undefined ? null : new Set(opts.keepNames);
  const parseOpts = { types: opts.types, keep: keepSet === null ? undefined : (n: string) => keepSet.has(n), chunkSize: opts.chunkSize };
  const stats: IncrementalRead['stats'] = { files: p.files.length, cached: 0, parsed: 0, written: 0, evicted: 0, bytesParsed: 0, fullRead: false, digests: false, sliced: 0 };
  const parts: LogFilePart[] = [];
  const partSums: (PartSummaries | null)[] = [];
  const digests = opts.digests === true;
  const used = new Set<string>();
  const staged = new Map<string, StagedCacheFile>();
  /** Writes an entry (a temp file until `finish`); failing to cache only costs a later run a parse. */
  const store = async (entry: string, data: Buffer): Promise<void> => {
    const s = await stageCacheFile(cache.dir, entry, data).catch(() => null);
    if (s !== null) staged.set(entry, s);
  };
  let rowsSoFar = 0;
  const nowMs = cache.now?.() ?? Date.now();
  const take = (part: LogFilePart, sums: PartSummaries | null): void => {
    parts.push(part);
    partSums.push(sums);
    rowsSoFar += part.rowsRead;
    opts.onProgress?.(rowsSoFar);
  };
  /** A cached part restricted to the window; null when the window cannot be cut from it. */
  const fromCache = async (cached: CachedPart, entry: string): Promise<{ part: LogFilePart; sums: PartSummaries | null }[] | null> => {
    try {
      const h = cached.header;
      const coverage = windowCoverage({ rows: h.rows, timestamps: null, hasTimestamps: h.timestamps !== null, minTs: h.minTs ?? Infinity, maxTs: h.maxTs ?? -Infinity, badTimestamps: h.badTimestamps }, opts.sinceMs);
      if (coverage === 'some' && Array.isArray(h.slices)) {
        // The window cuts a sliced file: rows of the cut slice only.
        const sliced = await loadSlices(cached, opts.sinceMs, opts.types, digests);
        if (sliced !== null) {
          used.add(entry);
          stats.sliced++;
        }
        return sliced;
      }
      // Digests of a file wholly inside the window need its summaries only, not its rows.
      const loaded = await loadPart(cached, coverage === 'some' || (coverage === 'all' && !digests), coverage === 'all', coverage === 'some');
      used.add(entry);
      const part = windowPart(loaded.part, opts.sinceMs, opts.types);
      return part === null ? null : [{ part, sums: coverage === 'all' ? loaded.sums : null }];
    } catch {
      return null; // truncated or corrupt entry: a miss
    } finally {
      await cached.blob.close();
    }
  };
  for (const f of p.files) {
    const cached = await openEntry(cache.dir, f.entry, f.key);
    const hit = cached === null ? null : await fromCache(cached, f.entry);
    if (hit !== null) {
      stats.cached++;
      for (const h of hit) take(h.part, h.sums);
      continue;
    }
    stats.parsed++;
    if (!f.settled) {
      // Still being written: the segments stored by earlier runs, then only what was appended since.
      await readOpenFile(f, parseOpts, opts, cache, stats, store, fromCache, take);
      continue;
    }
    let part: LogFilePart | null = null;
    let sums: PartSummaries | null = null;
    if (cached === null) {
      const before = f.identity;
      const whole = await readLogFilePart(f.path, parseOpts);
      stats.bytesParsed += whole.end;
      const after = await identityOf(f.path);
      const wholeSums = summariesOfPart(whole);
      if (after === before) {
        try {
          await store(f.entry, encodeEntry(f.key, whole, wholeSums, { rows: cache.sliceRows ?? DEFAULT_SLICE_ROWS, types: opts.types }));
        } catch {
          // A cache that cannot be written only costs the next run a parse.
        }
      }
      part = windowPart(whole, opts.sinceMs, opts.types);
      if (part === whole) sums = wholeSums;
    }
    if (part === null) {
      part = await readLogFilePart(f.path, { ...parseOpts, sinceMs: opts.sinceMs });
      stats.bytesParsed += f.size;
    }
    take(part, sums);
  }
  let finished = false;
  const finish = async (ok: boolean): Promise<void> => {
    if (finished) return;
    finished = true;
    for (const [entry, s] of staged) {
      if (!ok) await s.discard();
      else
        await s.commit().then(
          () => {
            used.add(entry);
            stats.written++;
          },
          () => {},
        );
    }
    if (!ok) return;
    for (const entry of used) await utimes(join(cache.dir, entry), new Date(nowMs), new Date(nowMs)).catch(() => {});
    stats.evicted = await evictLogEntries(cache.dir, cache.maxBytes ?? DEFAULT_MAX_BYTES);
  };
  if (opts.deferWrites !== true) await finish(true);

  // Summaries of the parts that have none stored (cut by the window, or parsed with it), before the
  // merge releases the parts' arrays.
  parts.forEach((part, i) => {
    if (partSums[i] === null && part.rows > 0) partSums[i] = summariesOfPart(part);
  });
  const fullRead = async (): Promise<IncrementalRead> => {
    stats.fullRead = true;
    const result = await readLog(dir, { sinceMs: opts.sinceMs, types: opts.types, keep: parseOpts.keep, chunkSize: opts.chunkSize });
    return { result, runs: () => null, digests: null, finish, stats };
  };
  if (digests) {
    const merged = mergeDigests(parts, partSums, opts.types);
    if (merged === null) return fullRead();
    // The counts, window and files of a full read, from the parts without their columns.
    const result = mergeParts(dir, parts.map((p) => ({ ...p, columns: new Map() })), opts, p.skipped)!;
    requireTimeColumn(dir, result.header, opts.sinceMs);
    result.files = p.files.map((f) => basename(f.path));
    stats.digests = true;
    return { result, runs: (name) => (merged.get(name)?.kind === 'numerical' ? (merged.get(name) as { runs: SortedRuns }).runs : null), digests: merged, finish, stats };
  }
  const merged = mergeParts(dir, parts, { ...opts, release: true }, p.skipped);
  if (merged === null) return fullRead();
  requireTimeColumn(dir, merged.header, opts.sinceMs);
  merged.files = p.files.map((f) => basename(f.path));
  const runs = (name: string): SortedRuns | null => {
    const col = merged.table.columns.get(name);
    if (col === undefined || col.kind !== 'numerical') return null;
    const lists: SortedRuns[] = [];
    for (const r of partSums) {
      const l = r?.runs.get(name);
      if (l !== undefined) lists.push(l);
    }
    return mergeSortedRuns(lists);
  };
  return { result: merged, runs, digests: null, finish, stats };
}

/**
 * Deletes least recently used log entries (oldest mtime: a read touches what it uses) until they
 * total at most `maxBytes`. A bound smaller than one run's entries makes runs parse again, never
 * read wrong: another reader still holding a deleted entry open reads it whole.
 */
export async function evictLogEntries(dir: string, maxBytes: number): Promise<number> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX) && n.endsWith('.bin'));
  const entries: { name: string; size: number; mtimeMs: number }[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st !== null) entries.push({ name, size: st.size, mtimeMs: st.mtimeMs });
  }
  let total = entries.reduce((s, e) => s + e.size, 0);
  let evicted = 0;
  for (const e of entries.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1))) {
    if (total <= maxBytes) break;
    await rm(join(dir, e.name), { force: true });
    total -= e.size;
    evicted++;
  }
  return evicted;
}
