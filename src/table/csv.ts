/**
 * The byte-level CSV tokenizer (RFC 4180, UTF-8, header row) and the record policy of a read:
 * chunks of bytes in, typed columns out (numbers straight into Float64Array, text through a
 * byte-keyed dictionary; cells as pandas reads them, src/table/cells.ts). Pure: the file reader
 * (src/io/log/reader.ts) owns the files, the chunking and which policy a read uses.
 *
 * Why not csv-parse (the project's CSV dependency): it builds an array of strings per record, and
 * measured 11.4 s for 1M Adult rows here; this parser is roughly 10x faster. csv-parse stays the
 * oracle the reader's tests compare against.
 *
 * Tolerance: a torn last line (with `unterminated` 'torn': no trailing newline; always: wrong field
 * count, or a quote still open at the end) is dropped and counted in `torn`; other bad rows are
 * dropped and counted in `skipped` by reason. Rows outside the time window are `filtered`.
 */

import { InputError } from '../errors.ts';
import { Float64Builder, type DeclaredTypes, type Table } from './columns.ts';
import { parseTimestamp } from './cells.ts';
import { ColumnBuilder } from './cells.ts';

/** What the parser keeps and how it reads cells. */
export interface ParseOptions {
  /** Keep only rows whose time column is >= this instant (ms since epoch). Needs a time column. */
  sinceMs?: number;
  /** Column types from a model card; columns not listed are read as numbers until a non-number shows up. */
  types?: DeclaredTypes;
  /** Which columns to keep (by header name). Default: all. */
  keep?: (name: string) => boolean;
  /** Size limits (defaults: READ_LIMITS); a file over one of them fails the read with an error naming it. */
  limits?: Partial<ReadLimits>;
  /**
   * The column holding each row's time (ISO 8601): parsed for the window and the from/to range,
   * never kept as a table column. The file reader names it (a prediction log's `timestamp`).
   */
  timeColumn?: string;
}


/**
 * Bounds on what one CSV may hold, so a hostile or broken file fails fast with a clear message
 * instead of exhausting memory: the header line, any other record, and the number of columns.
 */
export interface ReadLimits {
  maxHeaderBytes: number;
  maxRecordBytes: number;
  maxColumns: number;
}

export const READ_LIMITS: ReadLimits = { maxHeaderBytes: 1024 * 1024, maxRecordBytes: 16 * 1024 * 1024, maxColumns: 10_000 };

const MIB = 1024 * 1024;
const sizeText = (n: number) => (n % MIB === 0 ? `${n / MIB} MiB` : `${n} bytes`);

export function headerTooLong(file: string, limits: ReadLimits): InputError {
  return new InputError('header_too_long', `${file}: the CSV header line is longer than ${sizeText(limits.maxHeaderBytes)} (the limit of a header)`);
}

export function recordTooLong(file: string, offset: number, limits: ReadLimits): InputError {
  return new InputError('record_too_long', `${file}: the CSV record starting at byte ${offset} is longer than ${sizeText(limits.maxRecordBytes)} (the limit of one record)`);
}

export function tooManyColumns(file: string, n: number, limits: ReadLimits): InputError {
  return new InputError('too_many_columns', `${file}: the CSV header has ${n} columns, more than the limit of ${limits.maxColumns}`);
}

export interface ReadResult {
  /** The file or directory read. */
  path: string;
  /** CSV files read (one for a plain file). */
  files: string[];
  /** Column names in header order (the first file's header, then new names from later files). */
  header: string[];
  table: Table;
  /** Data rows parsed (kept + filtered + skipped). Torn lines are not rows. */
  rowsRead: number;
  /** Rows outside the time window. */
  filtered: number;
  tornLines: number;
  skippedRows: number;
  /** Skipped rows by reason: `field_count`, `bad_quote`, `bad_timestamp`. */
  skipped: Record<string, number>;
  /** First and last timestamp of the kept rows (ISO 8601), null without a timestamp column. */
  from: string | null;
  to: string | null;
  /** `*.csv` entries of a directory that are not regular files (skipped, not read). */
  skippedEntries: SkippedEntry[];
  /** Per kept row, with `ReadOptions.timestamps` and a time column. */
  timestamps?: Float64Array;
}

/** A `*.csv` entry of a log directory that is not read, and why. */
export interface SkippedEntry {
  name: string;
  reason: string;
}

export const COMMA = 0x2c;
export const QUOTE = 0x22;
export const LF = 0x0a;
export const CR = 0x0d;

/** Per-file parse state. Field positions of the current record live in reusable typed arrays. */
interface FileState {
  /** Column builder for each header position (null: column not kept). */
  targets: (ColumnBuilder | null)[];
  /** Builders of kept columns this file does not have (filled with missing). */
  absent: ColumnBuilder[];
  width: number;
  tsIndex: number;
  /** A record with the wrong field count whose fate (skipped vs torn) depends on whether another follows. */
  pendingBad: boolean;
}


/** The synchronous byte parser: state shared across the files of one read. */
export class CsvParser {
  readonly builders = new Map<string, ColumnBuilder>();
  readonly header: string[] = [];
  rows = 0;
  readonly counters = { rowsRead: 0, filtered: 0, torn: 0, skippedRows: 0, skipped: {} as Record<string, number> };
  minTs = Infinity;
  maxTs = -Infinity;
  sawTimestamp = false;
  /** Field positions of the record being parsed. */
  cap = 64;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  escaped = new Uint8Array(64);
  badQuote = false;
  /** The file being read; null until its header is parsed. */
  state: FileState | null = null;
  /** Estimated data rows of the whole read, reserved in each column when its builder is created. */
  reserveRows = 0;
  /** File offset just past the header record (-1: none yet). */
  headerEnd = -1;
  /** The last record of the file had a wrong field count (counted torn at the end of the file). */
  pendingAtEnd = false;
  /** When set, the timestamp of every kept row (NaN when unparseable) of a file with a timestamp column. */
  timestamps: Float64Builder | null = null;
  readonly opts: ParseOptions;
  readonly unterminated: 'torn' | 'row';
  readonly limits: ReadLimits;
  /** The file being read and the file offset of the buffer being parsed, for error messages. */
  file = '';
  offset = 0;

  constructor(opts: ParseOptions, unterminated: 'torn' | 'row') {
    this.opts = opts;
    this.unterminated = unterminated;
    this.limits = { ...READ_LIMITS, ...opts.limits };
  }

  skip(reason: string): void {
    this.counters.skippedRows++;
    this.counters.skipped[reason] = (this.counters.skipped[reason] ?? 0) + 1;
  }

  /** Starts a new file. */
  beginFile(): void {
    this.state = null;
  }

  /** Ends a file: a pending bad record was its last line, so it is torn. */
  endFile(): void {
    this.pendingAtEnd = this.state !== null && this.state.pendingBad;
    if (this.state !== null && this.state.pendingBad) {
      this.counters.torn++;
      this.state.pendingBad = false;
    }
  }

  /**
   * Parses every complete record of buf[pos..] (at EOF the last unterminated one too). Returns the
   * offset where an incomplete record starts (to carry over to the next chunk), or -1.
   */
  parse(buf: Buffer, pos: number, eof: boolean): number {
    let starts = this.starts;
    let ends = this.ends;
    let escaped = this.escaped;
    for (;;) {
      if (pos >= buf.length) return -1;
      // --- one record ---
      const start = pos;
      let i = pos;
      let nf = 0;
      let complete = false;
      let openQuote = false;
      this.badQuote = false;
      const n = buf.length;
      for (;;) {
        if (nf === this.cap) {
          this.cap *= 2;
          const s2 = new Int32Array(this.cap);
          s2.set(starts);
          this.starts = s2;
          const e2 = new Int32Array(this.cap);
          e2.set(ends);
          this.ends = e2;
          const x2 = new Uint8Array(this.cap);
          x2.set(escaped);
          this.escaped = x2;
        }
        if (i < n && buf[i] === QUOTE) {
          let j = i + 1;
          let esc = 0;
          let close = -1;
          for (;;) {
            const q = buf.indexOf(QUOTE, j);
            if (q === -1) break;
            if (q + 1 < n && buf[q + 1] === QUOTE) {
              esc = 1;
              j = q + 2;
              continue;
            }
            if (q + 1 >= n && !eof) break; // cannot tell "" from " yet
            close = q;
            break;
          }
          if (close === -1) {
            openQuote = true;
            break;
          }
          starts[nf] = i + 1;
          ends[nf] = close;
          escaped[nf] = esc | 2;
          nf++;
          i = close + 1;
          if (i < n && buf[i] !== COMMA && buf[i] !== LF && !(buf[i] === CR && (i + 1 >= n || buf[i + 1] === LF))) {
            // Text after a closing quote: not RFC 4180. Skip to the end of the field.
            this.badQuote = true;
            while (i < n && buf[i] !== COMMA && buf[i] !== LF) i++;
          }
        } else {
          const s = i;
          while (i < n) {
            const c = buf[i];
            if (c === COMMA || c === LF) break;
            i++;
          }
          starts[nf] = s;
          ends[nf] = i > s && i < n && buf[i] === LF && buf[i - 1] === CR ? i - 1 : i;
          escaped[nf] = 0;
          nf++;
        }
        if (i >= n) break; // record not terminated in this buffer
        if (buf[i] === CR) i++;
        if (buf[i] === COMMA) {
          i++;
          if (i >= n) {
            if (eof) {
              // "a,b," at EOF: the record ends with an empty field.
              starts[nf] = i;
              ends[nf] = i;
              escaped[nf] = 0;
              nf++;
            }
            break;
          }
          continue;
        }
        if (buf[i] === LF) {
          i++;
          complete = true;
          break;
        }
      }
      if (!complete && !eof) return pos;
      // At EOF without a newline: strip a final CR of an unquoted last field.
      if (!complete && !openQuote && nf > 0 && escaped[nf - 1] === 0 && ends[nf - 1] > starts[nf - 1] && buf[ends[nf - 1] - 1] === CR) ends[nf - 1]--;
      pos = complete ? i : buf.length;
      if (pos - start > this.limits.maxRecordBytes && this.state !== null) throw recordTooLong(this.file, this.offset + start, this.limits);

      if (this.state === null) {
        // Header record.
        if (!complete && (openQuote || this.unterminated === 'torn')) {
          this.counters.torn++;
          continue;
        }
        if (pos - start > this.limits.maxHeaderBytes) throw headerTooLong(this.file, this.limits);
        if (nf > this.limits.maxColumns) throw tooManyColumns(this.file, nf, this.limits);
        const known = new Set(this.builders.keys());
        this.headerEnd = this.offset + pos;
        this.state = setupFile(buf, nf, starts, ends, escaped, this.builders, this.header, this.rows, this.opts);
        if (this.rows === 0 && this.reserveRows > 0) for (const [name, b] of this.builders) if (!known.has(name)) b.reserve(this.reserveRows);
        continue;
      }
      // Blank line: skipped silently, as pandas does.
      if (nf === 1 && ends[0] === starts[0] && escaped[0] === 0) continue;
      if (this.state.pendingBad) {
        this.skip('field_count');
        this.state.pendingBad = false;
      }
      if (openQuote || (!complete && this.unterminated === 'torn')) {
        this.counters.torn++;
        continue;
      }
      if (nf !== this.state.width) {
        if (complete) this.state.pendingBad = true;
        else this.counters.torn++;
        continue;
      }
      this.counters.rowsRead++;
      if (this.badQuote) {
        this.skip('bad_quote');
        continue;
      }
      if (this.state.tsIndex >= 0) {
        const ts = parseTimestamp(buf, starts[this.state.tsIndex], ends[this.state.tsIndex]);
        if (Number.isNaN(ts)) {
          if (this.opts.sinceMs !== undefined) {
            this.skip('bad_timestamp');
            continue;
          }
          this.timestamps?.push(NaN);
        } else {
          if (this.opts.sinceMs !== undefined && ts < this.opts.sinceMs) {
            this.counters.filtered++;
            continue;
          }
          this.sawTimestamp = true;
          if (ts < this.minTs) this.minTs = ts;
          if (ts > this.maxTs) this.maxTs = ts;
          this.timestamps?.push(ts);
        }
      } else this.timestamps?.push(NaN);
      const targets = this.state.targets;
      for (let f = 0; f < nf; f++) {
        const b = targets[f];
        if (b === null) continue;
        const x = escaped[f];
        b.push(buf, starts[f], ends[f], x === 3 ? buf.toString('utf8', starts[f], ends[f]).replaceAll('""', '"') : null);
      }
      for (const b of this.state.absent) b.pushMissing();
      this.rows++;
    }
  }
}

function fieldText(buf: Buffer, s: number, e: number, esc: number): string {
  const t = buf.toString('utf8', s, e);
  return esc === 3 ? t.replaceAll('""', '"') : t;
}

function setupFile(
  buf: Buffer,
  nf: number,
  starts: Int32Array,
  ends: Int32Array,
  escaped: Uint8Array,
  builders: Map<string, ColumnBuilder>,
  header: string[],
  rowsSoFar: number,
  opts: ParseOptions,
): FileState {
  const names: string[] = [];
  for (let f = 0; f < nf; f++) names.push(fieldText(buf, starts[f], ends[f], escaped[f]));
  const targets: (ColumnBuilder | null)[] = [];
  const present = new Set<string>();
  const inHeader = new Set(header); // header.includes per name was quadratic in the column count
  for (const name of names) {
    if (present.has(name)) throw new InputError('duplicate_column', `duplicate column "${name}" in the CSV header`);
    present.add(name);
    if (!inHeader.has(name)) {
      header.push(name);
      inHeader.add(name);
    }
    if (name === opts.timeColumn || (opts.keep !== undefined && !opts.keep(name))) {
      targets.push(null);
      continue;
    }
    let b = builders.get(name);
    if (b === undefined) {
      b = new ColumnBuilder(opts.types?.get(name));
      // A column first seen in a later file: earlier rows had no value for it.
      for (let r = 0; r < rowsSoFar; r++) b.pushMissing();
      builders.set(name, b);
    }
    targets.push(b);
  }
  const absent = [...builders].filter(([name]) => !present.has(name)).map(([, b]) => b);
  return { targets, absent, width: nf, tsIndex: opts.timeColumn === undefined ? -1 : names.indexOf(opts.timeColumn), pendingBad: false };
}

/** Splits the first record of `text` into fields (RFC 4180); null if it is not complete yet. */
export function headerLine(text: string, eof: boolean): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) return null;
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
    }
    // The rest of the field up to the next comma or newline, as one slice.
    let j = i;
    while (j < text.length && text.charCodeAt(j) !== COMMA && text.charCodeAt(j) !== LF) j++;
    field += text.slice(i, j);
    i = j;
    if (i >= text.length && !eof) return null;
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  return fields.length === 1 && fields[0] === '' ? null : fields;
}
