import { CodeBuilder, Float64Builder, MISSING_CODE, type CategoricalColumn, type Column, type NumericColumn } from './columns.ts';
import { canonicalBooleans, Dictionary, enum_INT, enum_NA, enum_NA_PADDED, enum_NUM, isNaToken, NA_MAX_LEN, NA_TOKENS, parseNumber, parseNumberSlow } from './cells.ts';

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
