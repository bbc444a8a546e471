/**
 * Per-file parts of a table. A directory read is a fold over its files in name order; the
 * incremental reader (src/io/log/file-cache.ts) caches each closed file's part and merges parts
 * instead of re-parsing. `mergeParts` reproduces a read of the whole directory exactly, or says it
 * cannot (null). Pure.
 */

import { InputError } from '../errors.ts';
import { MISSING_CODE, missingCodeOf, type CodeArray, type Column, type DeclaredTypes } from './columns.ts';
import { canonicalBooleans, isTextLabel } from './cells.ts';
import type { ParseOptions, ReadResult, SkippedEntry } from './csv.ts';


/** One column of one file as the reader built it (boolean spellings not yet made canonical). */
export type PartColumn =
  | {
      kind: 'numerical';
      values: Float64Array;
      missing: number;
      invalid: number;
      /** Every cell an integer literal (the reader's int64 test before missing/invalid are counted). */
      allInt: boolean;
      /** Cells written with a dot, an exponent, or as ±Inf. */
      numCells: number;
      /** Missing cells that a text column would have kept as labels (`" NA"`). */
      paddedNa: number;
    }
  | {
      kind: 'categorical';
      /** Codes into `dictionary`; `missingCodeOf(codes)` for a missing cell. */
      codes: CodeArray;
      /** First-seen order; every label occurs in `codes`. */
      dictionary: string[];
      /** Rows per code (missing not counted). */
      counts: Float64Array;
      missing: number;
      /** Numbers came before the first text cell (`readLog` re-reads such a column as categorical). */
      mixed: boolean;
      /** Missing cells before the first text cell that a text column would have kept as labels. */
      paddedNa: number;
    };

/** What a read of one log file produced, before merging with the other files of its directory. */
export interface LogFilePart {
  /** The file's name (no directory). */
  file: string;
  /** Its header row, every name in file order; empty when the file has no header row. */
  header: string[];
  /** Kept rows. */
  rows: number;
  rowsRead: number;
  filtered: number;
  tornLines: number;
  skippedRows: number;
  skipped: Record<string, number>;
  /** Kept columns in the order the reader created them. */
  columns: Map<string, PartColumn>;
  /** The timestamp of each kept row (NaN: unparseable); null when the file has no timestamp column. */
  timestamps: Float64Array | null;
  /** Smallest / largest parseable timestamp of the kept rows (Infinity / -Infinity when none). */
  minTs: number;
  maxTs: number;
  /** Kept rows whose timestamp is unparseable. */
  badTimestamps: number;
}

export function windowCoverage(part: Pick<LogFilePart, 'rows' | 'timestamps' | 'minTs' | 'maxTs' | 'badTimestamps'> & { hasTimestamps?: boolean }, sinceMs: number | undefined): 'all' | 'none' | 'some' {
  const hasTimestamps = part.hasTimestamps ?? part.timestamps !== null;
  if (sinceMs === undefined || !hasTimestamps || part.rows === 0) return 'all';
  if (part.badTimestamps === 0 && part.minTs >= sinceMs) return 'all';
  if (part.maxTs < sinceMs) return 'none';
  return 'some';
}

/**
 * The rows of `part` with `timestamp >= sinceMs`, counted as `readLog` counts them: older rows are
 * `filtered`, unparseable timestamps are skipped (`bad_timestamp`). Null when the cached part cannot
 * tell what a read would have made of the kept rows alone (a column declared numerical with text in
 * it; a float column whose kept values are all whole numbers; a column mixing numbers and text):
 * the caller then reads the file again.
 */
export function windowPart(part: LogFilePart, sinceMs: number | undefined, types?: DeclaredTypes): LogFilePart | null {
  const coverage = windowCoverage(part, sinceMs);
  if (coverage === 'all') return part;
  if (coverage === 'none') {
    // Every row is older (or unparseable): counts only, the per-row arrays are not read.
    const columns = new Map<string, PartColumn>();
    for (const name of part.columns.keys()) columns.set(name, emptyNumbers(0));
    const skipped = { ...part.skipped };
    if (part.badTimestamps > 0) skipped.bad_timestamp = (skipped.bad_timestamp ?? 0) + part.badTimestamps;
    return { ...part, rows: 0, filtered: part.filtered + part.rows - part.badTimestamps, skippedRows: part.skippedRows + part.badTimestamps, skipped, columns, timestamps: new Float64Array(0), minTs: Infinity, maxTs: -Infinity, badTimestamps: 0 };
  }
  const ts = part.timestamps!;
  const keep: number[] = [];
  let filtered = 0;
  let bad = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (Number.isNaN(t)) bad++;
    else if (t < sinceMs!) filtered++;
    else {
      keep.push(i);
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
    }
  }
  const columns = new Map<string, PartColumn>();
  for (const [name, col] of part.columns) {
    if (keep.length === 0) {
      // As a fresh builder starts: numbers unless declared categorical.
      columns.set(name, types?.get(name) === 'categorical' ? { kind: 'categorical', codes: new Uint8Array(0), dictionary: [], counts: new Float64Array(0), missing: 0, mixed: false, paddedNa: 0 } : emptyNumbers(0));
      continue;
    }
    if (col.kind === 'numerical') {
      if (col.invalid > 0) return null;
      const values = new Float64Array(keep.length);
      let missing = 0;
      let nonInteger = false;
      for (let k = 0; k < keep.length; k++) {
        const v = col.values[keep[k]];
        values[k] = v;
        if (Number.isNaN(v)) missing++;
        else if (!Number.isInteger(v)) nonInteger = true;
      }
      let allInt: boolean;
      if (missing > 0) allInt = false;
      else if (col.numCells === 0) allInt = true;
      else if (nonInteger) allInt = false;
      else return null; // "5.0" and "5" read alike: the cells' spelling is not cached
      columns.set(name, { kind: 'numerical', values, missing, invalid: 0, allInt, numCells: allInt ? 0 : col.numCells, paddedNa: col.paddedNa });
    } else {
      // Undeclared, the kept rows alone would start as numbers: exact only when every label is text
      // (then the first kept label turns the column into text, wherever it is) and no missing cell
      // was missing only as a number.
      const declared = types?.get(name) === 'categorical';
      if (!declared && (col.mixed || col.paddedNa > 0 || !col.dictionary.every(isTextLabel))) return null;
      const from = col.codes;
      const missingFrom = missingCodeOf(from);
      const codes = from instanceof Uint8Array ? new Uint8Array(keep.length) : from instanceof Uint16Array ? new Uint16Array(keep.length) : new Uint32Array(keep.length);
      const remap = new Int32Array(col.dictionary.length).fill(-1);
      const dictionary: string[] = [];
      let missing = 0;
      for (let k = 0; k < keep.length; k++) {
        const c = from[keep[k]];
        if (c === missingFrom) {
          codes[k] = missingFrom;
          missing++;
          continue;
        }
        if (remap[c] === -1) remap[c] = dictionary.push(col.dictionary[c]) - 1;
        codes[k] = remap[c];
      }
      if (!declared && dictionary.length === 0) {
        // No text among the kept cells: a read of them alone keeps numbers, all missing.
        columns.set(name, { ...emptyNumbers(keep.length), missing: keep.length, allInt: false });
        continue;
      }
      columns.set(name, { kind: 'categorical', codes, dictionary, counts: countCodes(codes, dictionary.length), missing, mixed: false, paddedNa: 0 });
    }
  }
  const keptTs = new Float64Array(keep.length);
  for (let k = 0; k < keep.length; k++) keptTs[k] = ts[keep[k]];
  const skipped = { ...part.skipped };
  if (bad > 0) skipped.bad_timestamp = (skipped.bad_timestamp ?? 0) + bad;
  return {
    ...part,
    rows: keep.length,
    filtered: part.filtered + filtered,
    skippedRows: part.skippedRows + bad,
    skipped,
    columns,
    timestamps: keptTs,
    minTs,
    maxTs,
    badTimestamps: 0,
  };
}

function emptyNumbers(rows: number): PartColumn & { kind: 'numerical' } {
  return { kind: 'numerical', values: new Float64Array(rows).fill(NaN), missing: 0, invalid: 0, allInt: true, numCells: 0, paddedNa: 0 };
}

/**
 * What a read of the directory returns (`readLog(dir, opts)`), from the parts of every file of `dir` in name order, each already
 * restricted to the window (`windowPart`). Null when the files disagree about a column in a way only
 * a full read resolves (numbers in one file, text in another: `readLog` reads the column again as
 * text, and the parts no longer hold the numbers' text).
 */
export function mergeParts(path: string, parts: readonly LogFilePart[], opts: Pick<ParseOptions, 'types'> & { release?: boolean } = {}, skippedEntries: SkippedEntry[] = []): ReadResult | null {
  const header: string[] = [];
  const order: string[] = [];
  let rows = 0;
  let rowsRead = 0;
  let filtered = 0;
  let tornLines = 0;
  let skippedRows = 0;
  const skipped: Record<string, number> = {};
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const p of parts) {
    for (const name of p.header) if (!header.includes(name)) header.push(name);
    for (const name of p.columns.keys()) if (!order.includes(name)) order.push(name);
    rows += p.rows;
    rowsRead += p.rowsRead;
    filtered += p.filtered;
    tornLines += p.tornLines;
    skippedRows += p.skippedRows;
    for (const [k, v] of Object.entries(p.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
    if (p.rows > 0 && p.minTs < minTs) minTs = p.minTs;
    if (p.rows > 0 && p.maxTs > maxTs) maxTs = p.maxTs;
  }
  if (order.length === 0 && header.length === 0) throw new InputError('no_header', `${path} has no CSV header row`);
  const columns = new Map<string, Column>();
  for (const name of order) {
    const col = mergeColumn(parts, name, rows, opts.types?.get(name));
    if (col === null) return null;
    columns.set(name, col);
    // `release`: the parts' arrays of this column are garbage now (peak memory: one column twice, not the table).
    if (opts.release === true) for (const p of parts) p.columns.delete(name);
  }
  return {
    path,
    files: parts.map((p) => p.file),
    header,
    table: { rows, columns },
    rowsRead,
    filtered,
    tornLines,
    skippedRows,
    skipped,
    from: minTs <= maxTs ? new Date(minTs).toISOString() : null,
    to: minTs <= maxTs ? new Date(maxTs).toISOString() : null,
    skippedEntries,
  };
}

/**
 * How a full read ends with a column across the parts: numbers, or text with the dictionary in
 * first-seen order and each part's codes remapped into it (null: a part without text there). Null
 * when only a full read can tell (see `mergeParts`). Shared with the merge of summaries (src/io/log/digest.ts).
 */
export function mergeDictionaries(parts: readonly LogFilePart[], name: string, declared: 'numerical' | 'categorical' | undefined): { categorical: false } | { categorical: true; dictionary: string[]; remaps: (Int32Array | null)[] } | null {
  // The kind a full read ends with: categorical once any file has text in it (or declared so).
  const firstCat = parts.findIndex((p) => p.columns.get(name)?.kind === 'categorical' && p.rows > 0);
  const categorical = declared === 'categorical' || firstCat !== -1;
  if (!categorical) return { categorical: false };
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const remaps: (Int32Array | null)[] = [];
  for (let i = 0; i < parts.length; i++) {
    const c = parts[i].columns.get(name);
    if (c === undefined || parts[i].rows === 0) {
      remaps.push(null);
      continue;
    }
    if (c.kind === 'numerical') {
      // Only cells a text read also calls missing, and only before the first text: then the full
      // read held them as missing numbers when it turned the column into text.
      if (c.missing !== parts[i].rows || (i > firstCat && c.paddedNa > 0)) return null;
      remaps.push(null);
      continue;
    }
    // After the first text file a full read is already text: cells a file alone read as missing
    // numbers before its own first text (`" NA"`) would have been labels.
    if (c.mixed || (i > firstCat && c.paddedNa > 0)) return null;
    const remap = new Int32Array(c.dictionary.length);
    c.dictionary.forEach((label, k) => {
      let g = index.get(label);
      if (g === undefined) {
        g = dictionary.push(label) - 1;
        index.set(label, g);
      }
      remap[k] = g;
    });
    remaps.push(remap);
  }
  return { categorical: true, dictionary, remaps };
}

function mergeColumn(parts: readonly LogFilePart[], name: string, rows: number, declared: 'numerical' | 'categorical' | undefined): Column | null {
  const plan = mergeDictionaries(parts, name, declared);
  if (plan === null) return null;
  if (!plan.categorical) {
    const values = new Float64Array(rows);
    let off = 0;
    let missing = 0;
    let invalid = 0;
    let allInt = true;
    for (const p of parts) {
      const c = p.columns.get(name);
      if (c === undefined || p.rows === 0) {
        values.fill(NaN, off, off + p.rows);
        missing += p.rows;
      } else if (c.kind === 'numerical') {
        values.set(c.values, off);
        missing += c.missing;
        invalid += c.invalid;
        allInt &&= c.allInt;
      }
      off += p.rows;
    }
    return { kind: 'numerical', values, missing, invalid, integerDtype: allInt && missing === 0 && invalid === 0 };
  }
  const { dictionary, remaps } = plan;
  // The array type CodeBuilder ends with: the narrowest whose largest value is not a code.
  const codes: CodeArray = dictionary.length <= 0xff ? new Uint8Array(rows) : dictionary.length <= 0xffff ? new Uint16Array(rows) : new Uint32Array(rows);
  const counts = new Float64Array(dictionary.length);
  const missingCode = missingCodeOf(codes);
  let off = 0;
  let missing = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const c = p.columns.get(name);
    const remap = remaps[i];
    if (c === undefined || c.kind === 'numerical' || remap === null) {
      codes.fill(missingCode, off, off + p.rows);
      missing += p.rows;
    } else {
      remapCodes(codes, off, c.codes, remap, missingCode);
      for (let k = 0; k < remap.length; k++) counts[remap[k]] += c.counts[k];
      missing += c.missing;
    }
    off += p.rows;
  }
  return canonicalBooleans({ kind: 'categorical', codes, dictionary, missing, counts });
}

/** Rows per code of a code array (missing cells not counted), one monomorphic loop per array type. */
export function countCodes(codes: CodeArray, labels: number): Float64Array {
  const counts = new Float64Array(labels + 1);
  const missing = missingCodeOf(codes);
  if (codes instanceof Uint8Array) countInto(codes, counts, missing, labels);
  else if (codes instanceof Uint16Array) countInto16(codes, counts, missing, labels);
  else for (let i = 0; i < codes.length; i++) counts[codes[i] === missing ? labels : codes[i]]++;
  return counts.subarray(0, labels);
}

function countInto(codes: Uint8Array, counts: Float64Array, missing: number, labels: number): void {
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    counts[c === missing ? labels : c]++;
  }
}

function countInto16(codes: Uint16Array, counts: Float64Array, missing: number, labels: number): void {
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    counts[c === missing ? labels : c]++;
  }
}

/**
 * codes[off + k] = the global code of from[k]. 8- and 16-bit sources go through a table covering
 * every value (missing included): one load per cell, no branch.
 */
function remapCodes(codes: CodeArray, off: number, from: CodeArray, remap: Int32Array, missingCode: number): void {
  const missingFrom = missingCodeOf(from);
  if (missingFrom === MISSING_CODE) {
    for (let k = 0; k < from.length; k++) {
      const v = from[k];
      codes[off + k] = v === missingFrom ? missingCode : remap[v];
    }
    return;
  }
  const table = new Uint32Array(missingFrom + 1).fill(missingCode);
  table.set(remap);
  const out = codes.subarray(off, off + from.length);
  for (let k = 0; k < from.length; k++) out[k] = table[from[k]];
}
