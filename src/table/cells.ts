/**
 * One CSV cell as pandas' read_csv (what Evidently users load) reads it: NA tokens, numbers (fast
 * path without a string), ±Inf spellings, booleans, ISO timestamps; and the byte-keyed dictionary
 * that turns text cells into codes, and the builder of one column from its cells. Pure: bytes in,
 * values out.
 */

import { CodeBuilder, Float64Builder, MISSING_CODE, missingCodeOf, type CategoricalColumn, type Column, type NumericColumn } from './columns.ts';

/** pandas' default NA tokens (read_csv `na_values`), which Evidently users get when loading a CSV. */
export const NA_TOKENS: ReadonlySet<string> = new Set([
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
]);
export const NA_MAX_LEN = 9;
const INF_TOKENS = new Map<string, number>([
  ['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity], ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity],
]);
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Result of reading one cell as a number. */
export const enum_NA = 0;
export const enum_NUM = 1;
export const enum_INT = 2;
export const enum_TEXT = 3;
/** Missing only once trimmed (`" NA"`, `"  "`): a text column keeps such a cell as a label. */
export const enum_NA_PADDED = 4;

/**
 * Parses buf[s, e) as a number into `out[0]`. Returns NA / NUM / INT (an integer literal) / TEXT.
 * Fast path: up to 15 significant digits and no exponent, computed as m / 10^k, which is exactly
 * JavaScript's (correctly rounded) Number() result because m < 2^53 and 10^k <= 10^22 are exact.
 */
export function parseNumber(buf: Buffer, s: number, e: number, out: Float64Array): number {
  if (s === e) return enum_NA;
  let i = s;
  let neg = false;
  const c0 = buf[i];
  if (c0 === 0x2d || c0 === 0x2b) {
    neg = c0 === 0x2d;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let seenDot = false;
  let ok = i < e;
  for (; i < e; i++) {
    const c = buf[i];
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 || c !== 0x30) digits++;
      m = m * 10 + (c - 0x30);
      if (seenDot) frac++;
    } else if (c === 0x2e && !seenDot) {
      seenDot = true;
    } else {
      ok = false;
      break;
    }
  }
  if (ok && digits <= 15 && frac <= 22 && !(seenDot && e - s === 1 + (neg || c0 === 0x2b ? 1 : 0))) {
    let v = frac === 0 ? m : m / POW10[frac];
    if (neg) v = -v;
    out[0] = v;
    return seenDot ? enum_NUM : enum_INT;
  }
  return parseNumberSlow(buf.toString('utf8', s, e), out);
}

export function parseNumberSlow(raw: string, out: Float64Array): number {
  if (raw.length <= NA_MAX_LEN && NA_TOKENS.has(raw)) return enum_NA;
  const str = raw.trim();
  if (str !== raw && (str === '' || NA_TOKENS.has(str))) return enum_NA_PADDED;
  if (NUMBER_RE.test(str)) {
    out[0] = Number(str);
    return /[.eE]/.test(str) ? enum_NUM : enum_INT;
  }
  const inf = INF_TOKENS.get(str.toLowerCase());
  if (inf !== undefined) {
    out[0] = inf;
    return enum_NUM;
  }
  return enum_TEXT;
}

/**
 * Hash of a label's bytes (FNV-1a): every byte of labels up to 64 bytes, else 32 bytes spread over
 * the label plus its length. Labels that collide are told apart by the byte compare in the probe.
 * Every byte counts for short labels because fixed-position sampling lets ids that share a layout
 * (UUIDs: fixed length, dashes in fixed places) collide en masse and the probes go quadratic.
 */
function hashBytes(b: Buffer, s: number, e: number): number {
  const len = e - s;
  let h = Math.imul(len + 1, 0x9e3779b1) ^ 0x811c9dc5;
  if (len <= 64) {
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  } else {
    for (let k = 0; k < 32; k++) h = Math.imul(h ^ b[s + Math.floor((k * (len - 1)) / 31)], 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/**
 * Dictionary encoder keyed by bytes: a cell that is already in the dictionary costs a hash and a
 * byte compare, no string. New values (and quoted cells with escapes) go through a string Map.
 */
export class Dictionary {
  readonly values: string[] = [];
  private readonly byString = new Map<string, number>();
  private slots = new Int32Array(64).fill(-1);
  private keys: Buffer[] = [];
  private hashes: number[] = [];

  codeOfString(str: string): number {
    let code = this.byString.get(str);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(str);
      this.byString.set(str, code);
      const key = Buffer.from(str, 'utf8');
      this.insertBytes(key, code);
    }
    return code;
  }

  codeOfBytes(buf: Buffer, s: number, e: number): number {
    const h = hashBytes(buf, s, e);
    const mask = this.slots.length - 1;
    const len = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const code = this.slots[slot];
      if (code === -1) break;
      if (this.hashes[code] === h) {
        const key = this.keys[code];
        if (key.length === len) {
          let k = 0;
          while (k < len && key[k] === buf[s + k]) k++;
          if (k === len) return code;
        }
      }
    }
    return this.codeOfString(buf.toString('utf8', s, e));
  }

  private insertBytes(key: Buffer, code: number): void {
    const h = hashBytes(key, 0, key.length);
    this.keys[code] = key;
    this.hashes[code] = h;
    if ((this.values.length + 1) * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2).fill(-1);
      for (let c = 0; c < this.keys.length; c++) this.place(this.hashes[c], c);
    } else {
      this.place(h, code);
    }
  }

  private place(h: number, code: number): void {
    const mask = this.slots.length - 1;
    let slot = h & mask;
    while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
    this.slots[slot] = code;
  }
}

// pandas' default true_values / false_values: a column holding only these (and missing cells) is
// read as booleans, so `true` in one file equals `True` in another.
const BOOLEAN_SPELLINGS = new Map([['True', 'True'], ['TRUE', 'True'], ['true', 'True'], ['False', 'False'], ['FALSE', 'False'], ['false', 'False']]);

/** A column of boolean spellings only, relabelled `True` / `False` as pandas reads it; others unchanged. */
export function canonicalBooleans(col: CategoricalColumn): CategoricalColumn {
  const d = col.dictionary;
  if (d.length === 0 || !d.every((l) => BOOLEAN_SPELLINGS.has(l)) || d.every((l) => BOOLEAN_SPELLINGS.get(l) === l)) return col;
  const dictionary: string[] = [];
  const remap = d.map((l) => {
    const canonical = BOOLEAN_SPELLINGS.get(l)!;
    let c = dictionary.indexOf(canonical);
    if (c === -1) c = dictionary.push(canonical) - 1;
    return c;
  });
  const missing = missingCodeOf(col.codes);
  const codes = col.codes;
  for (let i = 0; i < codes.length; i++) if (codes[i] !== missing) codes[i] = remap[codes[i]];
  if (col.counts === undefined) return { ...col, dictionary };
  const counts = new Float64Array(dictionary.length);
  col.counts.forEach((n, c) => (counts[remap[c]] += n));
  return { ...col, dictionary, counts };
}

const NA_BY_LENGTH: Buffer[][] = [];
for (const t of NA_TOKENS) (NA_BY_LENGTH[Buffer.byteLength(t)] ??= []).push(Buffer.from(t, 'latin1'));

/** Whether buf[s, e) is one of pandas' NA tokens, by byte comparison (no string). */
export function isNaToken(buf: Buffer, s: number, e: number): boolean {
  const c = buf[s];
  // Every NA token starts with one of these bytes: # - 1 < N n
  if (c !== 0x23 && c !== 0x2d && c !== 0x31 && c !== 0x3c && c !== 0x4e && c !== 0x6e) return false;
  const candidates = NA_BY_LENGTH[e - s];
  if (candidates === undefined) return false;
  for (const t of candidates) {
    let k = 0;
    while (k < t.length && t[k] === buf[s + k]) k++;
    if (k === t.length) return true;
  }
  return false;
}

/** Parses `YYYY-MM-DDTHH:MM:SS[.fff...](Z|+00:00)` without a string; falls back to Date.parse. */
export function parseTimestamp(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len >= 20 && buf[s + 4] === 0x2d && buf[s + 7] === 0x2d && (buf[s + 10] === 0x54 || buf[s + 10] === 0x20) && buf[s + 13] === 0x3a && buf[s + 16] === 0x3a) {
    const d = (i: number, n: number): number => {
      let v = 0;
      for (let k = 0; k < n; k++) {
        const c = buf[s + i + k] - 0x30;
        if (c < 0 || c > 9) return NaN;
        v = v * 10 + c;
      }
      return v;
    };
    let i = 19;
    let ms = 0;
    if (buf[s + i] === 0x2e) {
      i++;
      let scale = 100;
      while (i < len && buf[s + i] >= 0x30 && buf[s + i] <= 0x39) {
        ms += (buf[s + i] - 0x30) * scale;
        scale /= 10;
        i++;
      }
    }
    const zulu = i === len - 1 && buf[s + i] === 0x5a;
    const utcOffset = i === len - 6 && buf.toString('latin1', s + i, e) === '+00:00';
    if (zulu || utcOffset) {
      const t = Date.UTC(d(0, 4), d(5, 2) - 1, d(8, 2), d(11, 2), d(14, 2), d(17, 2)) + Math.floor(ms);
      if (!Number.isNaN(t)) return t;
    }
  }
  return Date.parse(buf.toString('utf8', s, e));
}

const scratch = new Float64Array(1);
/** A label a numbers-first read would also call text (not a number, not missing even when trimmed). */
export function isTextLabel(label: string): boolean {
  return parseNumberSlow(label, scratch) === enum_TEXT;
}

// ColumnBuilder lives beside the cell readers on purpose: as a module of its own (importing the
// cell-kind constants) the per-cell push measured ~8% more CPU for a 283 k-row read.

/** Builds one column: numbers while every cell is a number (or declared numerical), codes otherwise. */
export class ColumnBuilder {
  mode: 'num' | 'cat';
  readonly declared: 'numerical' | 'categorical' | undefined;
  nums: Float64Builder | null = new Float64Builder();
  codes: CodeBuilder | null = null;
  dict: Dictionary | null = null;
  missing = 0;
  invalid = 0;
  allInt = true;
  /** Number cells written with a dot, an exponent or as ±Inf (not integer literals). */
  numCells = 0;
  /** Cells read as missing numbers that a text column would keep as labels (see enum_NA_PADDED). */
  paddedNa = 0;
  /** Number cells were already stored as doubles when the first text cell showed up (their text is lost). */
  lostNumberText = false;
  private readonly tmp = new Float64Array(1);

  constructor(declared: 'numerical' | 'categorical' | undefined) {
    this.declared = declared;
    this.mode = declared === 'categorical' ? 'cat' : 'num';
    if (this.mode === 'cat') this.toCategorical();
  }

  get length(): number {
    return this.mode === 'num' ? this.nums!.length : this.codes!.length;
  }

  private reserved = 0;

  reserve(rows: number): void {
    this.reserved = rows;
    if (this.mode === 'num') this.nums!.reserve(rows);
    else this.codes!.reserve(rows);
  }

  /** A missing cell (the column is absent from one file of a directory). */
  pushMissing(): void {
    this.missing++;
    if (this.mode === 'num') this.nums!.push(NaN);
    else this.codes!.push(MISSING_CODE);
  }

  push(buf: Buffer, s: number, e: number, unescaped: string | null): void {
    if (this.mode === 'num') {
      const kind = unescaped === null ? parseNumber(buf, s, e, this.tmp) : parseNumberSlow(unescaped, this.tmp);
      if (kind === enum_INT || kind === enum_NUM) {
        if (kind === enum_NUM) {
          this.allInt = false;
          this.numCells++;
        }
        this.nums!.push(this.tmp[0]);
        return;
      }
      if (kind === enum_NA || kind === enum_NA_PADDED) {
        if (kind === enum_NA_PADDED) this.paddedNa++;
        this.missing++;
        this.allInt = false;
        this.nums!.push(NaN);
        return;
      }
      if (this.declared === 'numerical') {
        this.invalid++;
        this.allInt = false;
        this.nums!.push(NaN);
        return;
      }
      this.toCategorical();
    }
    const len = e - s;
    if (unescaped !== null) {
      if (unescaped.length <= NA_MAX_LEN && NA_TOKENS.has(unescaped)) {
        this.missing++;
        this.codes!.push(MISSING_CODE);
      } else {
        this.codes!.push(this.dict!.codeOfString(unescaped));
      }
      return;
    }
    if (len === 0 || (len <= NA_MAX_LEN && isNaToken(buf, s, e))) {
      this.missing++;
      this.codes!.push(MISSING_CODE);
      return;
    }
    this.codes!.push(this.dict!.codeOfBytes(buf, s, e));
  }

  /**
   * Switches to dictionary codes. Number cells read so far are kept as placeholders of their
   * JavaScript string form and `lostNumberText` is set: `readLog` then reads the file again with the
   * column declared categorical, so every cell keeps its own text as pandas does (`9.0` stays `9.0`).
   */
  private toCategorical(): void {
    const prev = this.nums;
    this.mode = 'cat';
    this.codes = new CodeBuilder();
    if (this.reserved > 0) this.codes.reserve(this.reserved);
    this.dict = new Dictionary();
    this.allInt = false;
    if (prev !== null) {
      for (let i = 0; i < prev.length; i++) {
        const v = prev.get(i);
        if (!Number.isNaN(v)) this.lostNumberText = true;
        this.codes.push(Number.isNaN(v) ? MISSING_CODE : this.dict.codeOfString(String(v)));
      }
    }
    this.nums = null;
  }

  /** The finished column; `canonical` false keeps boolean spellings as read (see `mergeParts`). */
  finish(canonical = true): Column {
    if (this.mode === 'num') {
      const col: NumericColumn = {
        kind: 'numerical',
        values: this.nums!.finish(),
        missing: this.missing,
        invalid: this.invalid,
        integerDtype: this.allInt && this.missing === 0 && this.invalid === 0,
      };
      this.nums = null;
      return col;
    }
    const raw: CategoricalColumn = { kind: 'categorical', codes: this.codes!.finish(), dictionary: this.dict!.values, missing: this.missing };
    const col = canonical ? canonicalBooleans(raw) : raw;
    this.codes = null;
    return col;
  }
}
