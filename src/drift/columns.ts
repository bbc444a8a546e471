/**
 * Typed column storage shared by the log reader (which fills it) and drift detection (which reads it).
 * Columns, never row objects: a numerical value costs 8 bytes, a categorical one 4 bytes plus its
 * dictionary entry. Pure data structures, no I/O.
 */

import type { ColumnType } from './result.ts';

/** Missing categorical value (empty cell, NA token). */
export const MISSING_CODE = 0xffffffff;

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
  /** One code per row, an index into `dictionary`; MISSING_CODE for a missing cell. */
  codes: Uint32Array;
  dictionary: string[];
  missing: number;
}

export type Column = NumericColumn | CategoricalColumn;

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
    if (this.chunks.length === 0) {
      const only = this.current.subarray(0, this.pos);
      this.current = new Float64Array(0);
      this.pos = 0;
      return only;
    }
    const out = new Float64Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    out.set(this.current.subarray(0, this.pos), off);
    this.chunks = [];
    this.current = new Float64Array(0);
    this.pos = 0;
    return out;
  }
}

/** Uint32 storage that grows in fixed chunks; see Float64Builder. */
export class Uint32Builder {
  private chunks: Uint32Array[] = [];
  private current = new Uint32Array(CHUNK);
  private pos = 0;
  length = 0;

  /**
   * Reserves room for `n` values before the first push, as one array. Untouched pages of a large
   * zero-filled allocation are not resident, so a generous estimate costs address space, not memory;
   * `finish` then returns a view of it without copying.
   */
  reserve(n: number): void {
    if (this.length === 0 && n > CHUNK) this.current = new Uint32Array(n);
  }

  push(v: number): void {
    if (this.pos === this.current.length) {
      this.chunks.push(this.current);
      this.current = new Uint32Array(CHUNK);
      this.pos = 0;
    }
    this.current[this.pos++] = v;
    this.length++;
  }

  finish(): Uint32Array {
    if (this.chunks.length === 0) {
      const only = this.current.subarray(0, this.pos);
      this.current = new Uint32Array(0);
      this.pos = 0;
      return only;
    }
    const out = new Uint32Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    out.set(this.current.subarray(0, this.pos), off);
    this.chunks = [];
    this.current = new Uint32Array(0);
    this.pos = 0;
    return out;
  }
}
