/**
 * From typed columns to what the tests need: column types (model card or Evidently's inference),
 * and per-side profiles (finite values sorted once, category counts) that the reference cache stores.
 * Pure: no I/O.
 */

import { CodeBuilder, isDigest, MISSING_CODE, missingCodeOf, type CategoricalColumn, type CodeArray, type Column, type ColumnDigest, type NumericColumn } from '../table/columns.ts';
import type { ColumnSummary } from './result.ts';
import type { ColumnType } from '../table/columns.ts';
import { distinctOfRuns, prepareNumeric, prepareNumericFromRuns, type PreparedCategorical, type PreparedNumeric, type SortedRuns } from '../stats/index.ts';

/** Evidently 0.7 `INTEGER_CARDINALITY_LIMIT`: an int column with at most this many distinct values is categorical. */
export const INTEGER_CARDINALITY_LIMIT = 10;

export interface InferredType {
  type: ColumnType;
  /** Evidently would call it a text column (strings, distinct > 50% of non-missing values). */
  text: boolean;
}

/**
 * Evidently 0.7's `infer_column_type` (evidently/core/datasets.py), on what pandas `read_csv` would
 * have made of the column:
 * - float dtype (any non-integer number, or an integer column with a missing cell) → numerical;
 * - int dtype (every cell an integer literal, none missing) → categorical when it has at most 10
 *   distinct values, numerical otherwise;
 * - strings → text when distinct > 50% of non-missing values, categorical otherwise;
 * - all missing → numerical (pandas reads it as float), which then fails as an empty column.
 * Evidently infers the types on the current dataset (`Report.run(current, reference)` takes the
 * data definition from its first input); callers do the same.
 */
export function inferColumnType(col: Column | ColumnDigest): InferredType {
  if (isDigest(col)) return inferDigestType(col);
  if (col.kind === 'numerical') {
    if (col.integerDtype && distinctNumbers(col.values, INTEGER_CARDINALITY_LIMIT) <= INTEGER_CARDINALITY_LIMIT) return { type: 'categorical', text: false };
    return { type: 'numerical', text: false };
  }
  if (isBoolDtype(col.missing, col.dictionary)) return { type: 'categorical', text: false };
  const count = col.codes.length - col.missing;
  return { type: 'categorical', text: countDistinct(col) > count * 0.5 };
}

/**
 * Only True/False (the reader canonicalises pandas' spellings) and no missing cell: pandas' bool
 * dtype, which Evidently types categorical whatever the number of rows.
 */
function isBoolDtype(missing: number, dictionary: readonly string[]): boolean {
  return missing === 0 && dictionary.length > 0 && dictionary.every((l) => l === 'True' || l === 'False');
}

/** `inferColumnType` on a digest: the same decisions from distinct values and counts. */
function inferDigestType(d: ColumnDigest): InferredType {
  if (d.kind === 'numerical') {
    // integerDtype: no missing cell, so every value is finite and in the runs.
    if (d.integerDtype && distinctOfRuns(d.runs) <= INTEGER_CARDINALITY_LIMIT) return { type: 'categorical', text: false };
    return { type: 'numerical', text: false };
  }
  if (isBoolDtype(d.missing, d.dictionary)) return { type: 'categorical', text: false };
  return { type: 'categorical', text: d.counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0) > (d.rows - d.missing) * 0.5 };
}

function distinctNumbers(values: Float64Array, limit: number): number {
  // At most limit + 1 values are ever held: a linear search beats a Set's hashing there.
  const seen = new Float64Array(limit + 1);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue; // NaN
    let k = 0;
    while (k < size && seen[k] !== v) k++;
    if (k < size) continue;
    seen[size++] = v;
    if (size > limit) break;
  }
  return size;
}

/** A numeric column read as numbers but tested as categorical: labels are the numbers' string forms, first-seen order. */
export function numericToCategorical(col: NumericColumn): CategoricalColumn {
  const dict = new Map<number, number>();
  const dictionary: string[] = [];
  const codes = new CodeBuilder();
  codes.reserve(col.values.length);
  let missing = 0;
  // The first few labels are looked up by a linear search (a column tested as categorical has few):
  // no hashing per row. `===` and the Map's SameValueZero agree on every number but NaN (missing here).
  const FEW = 16;
  const few = new Float64Array(FEW);
  for (let i = 0; i < col.values.length; i++) {
    const v = col.values[i];
    if (v !== v) {
      codes.push(MISSING_CODE);
      missing++;
      continue;
    }
    const nFew = Math.min(dictionary.length, FEW);
    let c = 0;
    while (c < nFew && few[c] !== v) c++;
    if (c < nFew) {
      codes.push(c);
      continue;
    }
    let code = dict.get(v);
    if (code === undefined) {
      code = dictionary.length;
      dict.set(v, code);
      if (code < FEW) few[code] = v;
      dictionary.push(String(v));
    }
    codes.push(code);
  }
  return { kind: 'categorical', codes: codes.finish(), dictionary, missing };
}

/** Categorical side data in a form that crosses threads and the cache as typed arrays. */
export interface CategoricalData {
  n: number;
  /** Non-missing rows only, input order (the column's code array type; the cache stores them as Uint32). */
  codes: CodeArray;
  /** Labels by code, first-seen order. */
  dictionary: string[];
  /** Count per code. */
  counts: Float64Array;
  /**
   * The column was read as numbers (pandas: a numeric dtype). pandas compares values, so a number
   * never equals a text label: `5` on one side and `"5"` on the other are different categories
   * (see `separateNumbersFromText`).
   */
  fromNumbers?: boolean;
}

/**
 * One side of one column, ready for testing and for the cache; plain data (typed arrays, strings,
 * numbers) so it can be transferred to a worker and stored. `data` is null when the side has no
 * usable value (all missing) or the wrong type (`wrongType`).
 */
export type SideProfile =
  | { type: 'numerical'; summary: ColumnSummary; data: PreparedNumeric | null; wrongType: string | null }
  | { type: 'categorical'; summary: ColumnSummary; data: CategoricalData | null; wrongType: string | null };

export interface ProfileOptions {
  /**
   * The caller gives the column up (a worker's current side): its missing cells may be dropped in
   * place (numbers or codes) and its numbers sorted in place rather than copied. Default false:
   * `col` is left untouched.
   */
  owned?: boolean;
  /**
   * Keep the finite values in input order (`PreparedNumeric.values`), as the tests with
   * `StatTest.inputOrder` and the reference cache need. Default true; false only matters with `owned`.
   */
  inputOrder?: boolean;
  /** The sorted runs of the column's finite values, when known (see `prepareNumeric`): no sort then. */
  runs?: SortedRuns;
}

/**
 * Profiles one side of a column as `type`. Numerical: finite values (Evidently drops NaN and ±Inf),
 * sorted once, moments, distinct values. Categorical: counts per label in first-seen order.
 */
export function profileColumn(col: Column, type: ColumnType, opts: ProfileOptions = {}): SideProfile {
  const owned = opts.owned === true;
  const rows = col.kind === 'numerical' ? col.values.length : col.codes.length;
  if (type === 'numerical') {
    if (col.kind === 'categorical') {
      const distinct = countDistinct(col);
      return { type, summary: { count: rows - col.missing, missing: col.missing, distinct }, data: null, wrongType: `has non-numeric values (${distinct} distinct labels)` };
    }
    let n = 0;
    let negInf = 0;
    let posInf = 0;
    for (let i = 0; i < col.values.length; i++) {
      const v = col.values[i];
      if (Number.isFinite(v)) n++;
      else if (v === Infinity) posInf++;
      else if (v === -Infinity) negInf++;
    }
    let finite = col.values;
    if (n !== col.values.length) {
      // Owned: move the finite values to the front of the column itself (order kept), no new array.
      finite = owned ? col.values.subarray(0, n) : new Float64Array(n);
      let j = 0;
      for (let i = 0; i < col.values.length; i++) {
        const v = col.values[i];
        if (Number.isFinite(v)) finite[j++] = v;
      }
    }
    const sortInPlace = owned && opts.inputOrder === false;
    const data = n > 0 ? prepareNumeric(finite, { integerDtype: col.integerDtype, sortInPlace, runs: opts.runs }) : null;
    const summary = numericSummary(data, n, rows);
    // Counted among `missing` (dropped before testing), kept apart for Evidently's legacy share (legacy-share.ts).
    if (negInf > 0) summary.negative_infinity = negInf;
    if (posInf > 0) summary.positive_infinity = posInf;
    return { type, summary, data, wrongType: wrongTypeOf(col.invalid) };
  }
  const cat = col.kind === 'numerical' ? numericToCategorical(col) : col;
  const missingCode = missingCodeOf(cat.codes);
  let counts: Float64Array;
  let n = 0;
  if (cat.counts !== undefined) {
    // Known counts (merged by the incremental reader): no pass over the codes.
    counts = Float64Array.from(cat.counts);
    n = cat.codes.length - cat.missing;
  } else {
    counts = new Float64Array(cat.dictionary.length);
    for (let i = 0; i < cat.codes.length; i++) {
      const c = cat.codes[i];
      if (c !== missingCode) {
        counts[c]++;
        n++;
      }
    }
  }
  let codes = cat.codes;
  if (n !== codes.length) {
    // Owned (or converted here): drop the missing cells in place, order kept, no new array.
    codes = owned || cat !== col ? cat.codes.subarray(0, n) : codes instanceof Uint8Array ? new Uint8Array(n) : codes instanceof Uint16Array ? new Uint16Array(n) : new Uint32Array(n);
    let j = 0;
    for (let i = 0; i < cat.codes.length; i++) if (cat.codes[i] !== missingCode) codes[j++] = cat.codes[i];
  }
  let distinct = 0;
  for (let c = 0; c < counts.length; c++) if (counts[c] > 0) distinct++;
  const data: CategoricalData | null = n > 0 ? { n, codes, dictionary: cat.dictionary, counts, fromNumbers: col.kind === 'numerical' } : null;
  return { type, summary: { count: n, missing: rows - n, distinct }, data, wrongType: null };
}

/** Min and max from the distinct values (the sign of a zero extreme then does not depend on row order). */
function numericSummary(data: PreparedNumeric | null, n: number, rows: number): ColumnSummary {
  if (data === null) return { count: n, missing: rows - n };
  return { count: n, missing: rows - n, min: data.uniqueValues[0], max: data.uniqueValues[data.uniqueValues.length - 1], mean: data.mean };
}

function wrongTypeOf(invalid: number): string | null {
  return invalid > 0 ? `has ${invalid} non-numeric value(s)` : null;
}

/**
 * `profileColumn` of the column a digest summarises, from the digest alone (O(distinct values)): the
 * same profile bit for bit, except that the input order is unknown (`PreparedNumeric.inputOrderDropped`,
 * and a categorical side without codes), which only the tests with `StatTest.inputOrder` read. Null
 * when the digest cannot tell: a numerical column tested as categorical needs its labels' first-seen
 * order (`firstSeen`) and no missing or non-finite cell.
 */
export function profileDigest(d: ColumnDigest, type: ColumnType): SideProfile | null {
  if (type === 'numerical') {
    if (d.kind === 'categorical') {
      const distinct = d.counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
      return { type, summary: { count: d.rows - d.missing, missing: d.missing, distinct }, data: null, wrongType: `has non-numeric values (${distinct} distinct labels)` };
    }
    const data = d.runs.values.length > 0 ? prepareNumericFromRuns(d.runs, { integerDtype: d.integerDtype }) : null;
    const summary = numericSummary(data, data?.n ?? 0, d.rows);
    // As profileColumn reports them (legacy-share.ts reads them).
    if (d.negativeInfinity > 0) summary.negative_infinity = d.negativeInfinity;
    if (d.positiveInfinity > 0) summary.positive_infinity = d.positiveInfinity;
    return { type, summary, data, wrongType: wrongTypeOf(d.invalid) };
  }
  let dictionary: string[];
  let counts: Float64Array;
  let missing = d.missing;
  if (d.kind === 'numerical') {
    // numericToCategorical's labels: String(v) in first-seen order, one per value as `===` tells them.
    if (d.firstSeen === null || !d.integerDtype) return null;
    const index = new Map<number, number>();
    d.firstSeen.forEach((v, k) => index.set(v, k));
    dictionary = Array.from(d.firstSeen, (v) => String(v));
    counts = new Float64Array(dictionary.length);
    for (let r = 0; r < d.runs.values.length; r++) {
      const k = index.get(d.runs.values[r]);
      if (k === undefined) return null;
      counts[k] += d.runs.counts[r];
    }
    missing = d.rows - counts.reduce((a, b) => a + b, 0);
  } else {
    dictionary = d.dictionary;
    counts = Float64Array.from(d.counts);
  }
  const n = d.rows - missing;
  let distinct = 0;
  for (let c = 0; c < counts.length; c++) if (counts[c] > 0) distinct++;
  const data: CategoricalData | null = n > 0 ? { n, codes: new Uint8Array(0), dictionary, counts, fromNumbers: d.kind === 'numerical' } : null;
  return { type, summary: { count: n, missing, distinct }, data, wrongType: null };
}

function countDistinct(col: CategoricalColumn): number {
  if (col.counts !== undefined) return col.counts.reduce((d, n) => d + (n > 0 ? 1 : 0), 0);
  const seen = new Uint8Array(col.dictionary.length);
  const missing = missingCodeOf(col.codes);
  let d = 0;
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    if (c !== missing && seen[c] === 0) {
      seen[c] = 1;
      d++;
    }
  }
  return d;
}

const preparedCache = new WeakMap<CategoricalData, PreparedCategorical>();

/**
 * The stats module's view of a categorical side: counts in first-seen order (dictionary codes are
 * assigned in first-seen order); the label-per-row array is built only if a test reads it (TVD).
 */
export function preparedCategorical(data: CategoricalData): PreparedCategorical {
  let p = preparedCache.get(data);
  if (p !== undefined) return p;
  const map = new Map<string, number>();
  for (let c = 0; c < data.counts.length; c++) if (data.counts[c] > 0) map.set(data.dictionary[c], data.counts[c]);
  let values: string[] | null = null;
  p = {
    prepared: 'cat',
    n: data.n,
    counts: map,
    get values(): string[] {
      // A side profiled from a digest has no rows (only the input-order tests read them; they are not run on one).
      if (data.codes.length !== data.n) throw new Error('this test needs the categorical sample in input order, which a digest does not keep');
      if (values === null) {
        values = new Array<string>(data.n);
        for (let i = 0; i < data.n; i++) values[i] = data.dictionary[data.codes[i]];
      }
      return values;
    },
  };
  preparedCache.set(data, p);
  return p;
}

/** The sample the stats module takes for this side (null when the side has no data). */
/**
 * Evidently on pandas frames: when one side of a categorical column was read as numbers and the
 * other as text, no value of one side equals a value of the other (`5 != "5"` in Python), so every
 * category differs. The numeric side's labels are marked ` (number)` to keep them apart; sides of
 * the same origin are returned as they are.
 */
export function separateNumbersFromText(reference: SideProfile, current: SideProfile): [SideProfile, SideProfile] {
  if (reference.type !== 'categorical' || current.type !== 'categorical') return [reference, current];
  const r = reference.data;
  const c = current.data;
  if (r === null || c === null || (r.fromNumbers === true) === (c.fromNumbers === true)) return [reference, current];
  const mark = (side: typeof reference, d: CategoricalData): SideProfile => ({ ...side, data: { ...d, dictionary: d.dictionary.map((l) => `${l} (number)`) } });
  return r.fromNumbers === true ? [mark(reference, r), current] : [reference, mark(current, c)];
}

export function sampleOf(side: SideProfile): PreparedNumeric | PreparedCategorical | null {
  if (side.data === null) return null;
  return side.type === 'numerical' ? side.data : preparedCategorical(side.data);
}

/** Resolves each column's type: the model card's when given, else Evidently's inference on the current side. */
export function resolveTypes(current: { columns: ReadonlyMap<string, Column | ColumnDigest> }, names: readonly string[], declared?: ReadonlyMap<string, ColumnType>): Map<string, InferredType> {
  const out = new Map<string, InferredType>();
  for (const name of names) {
    const d = declared?.get(name);
    if (d !== undefined) {
      out.set(name, { type: d, text: false });
      continue;
    }
    const col = current.columns.get(name);
    out.set(name, col === undefined ? { type: 'numerical', text: false } : inferColumnType(col));
  }
  return out;
}
