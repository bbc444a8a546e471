/**
 * Typed column storage shared by the log reader (which fills it) and drift detection (which reads it).
 * Columns, never row objects: a numerical value costs 8 bytes, a categorical one 4 bytes plus its
 * dictionary entry. Pure data structures, no I/O.
 */

import type { SortedRuns } from '../stats/index.ts';

/** How a column is compared: by its values' distribution or by its labels' frequencies. */
export type ColumnType = 'numerical' | 'categorical';

/**
 * Missing categorical value (empty cell, NA token) as given to `CodeBuilder.push`, and as stored in a
 * Uint32Array of codes. Codes are stored in the narrowest array that holds the dictionary (Uint8Array
 * up to 255 labels, then Uint16Array, then Uint32Array); a missing cell is stored as that array type's
 * largest value: use `missingCodeOf(codes)` when reading.
 */
export const MISSING_CODE = 0xffffffff;

/** Dictionary codes of a categorical column, one per row. */
export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** The value that marks a missing cell in `codes`: 0xFF, 0xFFFF or 0xFFFFFFFF (MISSING_CODE) by array type. */
export function missingCodeOf(codes: CodeArray): number {
  return codes instanceof Uint8Array ? 0xff : codes instanceof Uint16Array ? 0xffff : MISSING_CODE;
}

export interface NumericColumn {
  kind: 'numerical';
  /** One value per row; NaN marks a missing cell. ±Infinity is kept (Evidently drops it before testing). */
  values: Float64Array;
  /** Cells that were empty or an NA token. */
  missing: number;
  /** Cells that were not numbers in a column declared numerical (counted as missing). */
  invalid: number;
  /**
   * True when every cell was present and an integer literal: what pandas reads as an int64 dtype.
   * Evidently infers int columns with <= 10 distinct values as categorical.
   */
  integerDtype: boolean;
}

export interface CategoricalColumn {
  kind: 'categorical';
  /** One code per row, an index into `dictionary`; `missingCodeOf(codes)` for a missing cell. */
  codes: CodeArray;
  dictionary: string[];
  missing: number;
  /**
   * How many rows hold each code (missing cells not counted), when the producer already knows it
   * (the incremental log reader merges per-file counts); lets profiling skip a pass over `codes`.
   */
  counts?: Float64Array;
}

export type Column = NumericColumn | CategoricalColumn;

/**
 * A column known only by what profiling needs, not row by row: merged by the incremental log reader
 * from per-file summaries (src/io/log/digest.ts), so a run's work follows the distinct values, not the
 * window's rows. The same `missing`, `invalid`, `integerDtype`, dictionary and counts a full read has.
 */
export type ColumnDigest =
  | {
      kind: 'numerical';
      digest: true;
      rows: number;
      missing: number;
      invalid: number;
      integerDtype: boolean;
      /** Sorted runs of the finite values. */
      runs: SortedRuns;
      /** The distinct non-missing values in first-seen order (read as categorical), null when too many were seen. */
      firstSeen: Float64Array | null;
      /** ±inf cells (counted in `missing`, absent from `runs`). */
      negativeInfinity: number;
      positiveInfinity: number;
    }
  | {
      kind: 'categorical';
      digest: true;
      rows: number;
      missing: number;
      /** First-seen order, as a full read builds it. */
      dictionary: string[];
      /** Rows per label (missing not counted). */
      counts: Float64Array;
    };

export function isDigest(c: Column | ColumnDigest): c is ColumnDigest {
  return (c as ColumnDigest).digest === true;
}

/** A table read from CSV: typed columns in header order. */
export interface Table {
  rows: number;
  columns: Map<string, Column>;
}

/** Type of a column as declared by a model card or decided by inference. */
export type DeclaredTypes = ReadonlyMap<string, ColumnType>;

const CHUNK = 1 << 16;

/**
 * Float64 storage: one reserved array when the row count can be estimated, else fixed chunks (no
 * repeated doubling copies) that `finish` concatenates once.
 */
export class Float64Builder {
  private chunks: Float64Array[] = [];
  private current = new Float64Array(CHUNK);
  private pos = 0;
  length = 0;

  /**
   * Reserves room for `n` values before the first push, as one array. Untouched pages of a large
   * zero-filled allocation are not resident, so a generous estimate costs address space, not memory;
   * `finish` then returns a view of it without copying.
   */
  reserve(n: number): void {
    if (this.length === 0 && n > CHUNK) this.current = new Float64Array(n);
  }

  push(v: number): void {
    if (this.pos === this.current.length) {
      this.chunks.push(this.current);
      this.current = new Float64Array(CHUNK);
      this.pos = 0;
    }
    this.current[this.pos++] = v;
    this.length++;
  }

  get(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i];
      i -= c.length;
    }
    return this.current[i];
  }

  finish(): Float64Array {
    const tail = this.current.subarray(0, this.pos);
    const out = this.chunks.length === 0 ? tail : joinChunks(this.chunks, tail, new Float64Array(this.length));
    this.chunks = [];
    this.current = new Float64Array(0);
    this.pos = 0;
    return out;
  }
}

/**
 * Dictionary codes, stored in the narrowest array type that holds them: Uint8Array while codes stay
 * below 255, then Uint16Array, then Uint32Array (widened once each, O(values so far)). A categorical
 * column of a few dozen labels costs 1 byte per row instead of 4. Chunked like Float64Builder.
 */
export class CodeBuilder {
  private chunks: CodeArray[] = [];
  private current: CodeArray = new Uint8Array(CHUNK);
  private pos = 0;
  /** Stored value of a missing cell in the current array type. */
  private missing = 0xff;
  length = 0;

  /** Reserves room for `n` values before the first push; see Float64Builder.reserve. */
  reserve(n: number): void {
    if (this.length === 0 && n > CHUNK) this.current = new Uint8Array(n);
  }

  /** Appends a dictionary code, or MISSING_CODE for a missing cell. */
  push(code: number): void {
    if (code === MISSING_CODE) code = this.missing;
    else if (code >= this.missing) this.widen(code);
    if (this.pos === this.current.length) {
      this.chunks.push(this.current);
      this.current = this.alloc(CHUNK);
      this.pos = 0;
    }
    this.current[this.pos++] = code;
    this.length++;
  }

  private alloc(n: number): CodeArray {
    return this.missing === 0xff ? new Uint8Array(n) : this.missing === 0xffff ? new Uint16Array(n) : new Uint32Array(n);
  }

  /** Moves every stored code to the next array type that can hold `code`. */
  private widen(code: number): void {
    const from = this.missing;
    this.missing = code < 0xffff ? 0xffff : MISSING_CODE;
    const convert = (a: CodeArray, used: number): CodeArray => {
      const b = this.alloc(a.length);
      for (let i = 0; i < used; i++) {
        const v = a[i];
        b[i] = v === from ? this.missing : v;
      }
      return b;
    };
    this.chunks = this.chunks.map((c) => convert(c, c.length));
    this.current = convert(this.current, this.pos);
  }

  finish(): CodeArray {
    const tail = this.current.subarray(0, this.pos);
    const out = this.chunks.length === 0 ? tail : joinChunks(this.chunks, tail, this.alloc(this.length));
    this.chunks = [];
    this.current = new Uint8Array(0);
    this.pos = 0;
    return out;
  }
}

/** Copies full chunks and the partly filled tail into `out` (sized to hold them all), once. */
function joinChunks<T extends Float64Array | CodeArray>(chunks: readonly ArrayLike<number>[], tail: ArrayLike<number>, out: T): T {
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  out.set(tail, off);
  return out;
}
