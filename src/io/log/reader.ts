/**
 * The file reader: streams a prediction-log directory (every `*.csv` in it, name order) or a plain
 * CSV file through the pure table layer (src/table/csv.ts: tokenizer, cells, typed columns). Owns
 * what touches files: listing a log directory, chunked reads that never hold a whole file as a
 * string, and the log's policy: the time column is the log's `timestamp`, and a last line without
 * a trailing newline is torn in a log directory (the writer always ends rows with one) but a row in
 * a plain CSV file (where a missing final newline is common).
 */

import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../../errors.ts';
import { TIMESTAMP } from '../../drift/log-columns.ts';
import { Float64Builder, type Column } from '../../table/columns.ts';
import { countCodes, type LogFilePart, type PartColumn } from '../../table/parts.ts';
import { CsvParser, headerLine, headerTooLong, LF, QUOTE, READ_LIMITS, recordTooLong, tooManyColumns, type ParseOptions, type ReadLimits, type ReadResult, type SkippedEntry } from '../../table/csv.ts';

export interface ReadOptions extends Omit<ParseOptions, 'timeColumn'> {
  /**
   * How to treat a last line without a trailing newline: `torn` (prediction logs: the writer always
   * ends rows with a newline, so such a line is a partial write) or `row` (plain CSV files, where a
   * missing final newline is common). Default: `torn` for directories, `row` for a single file.
   */
  unterminatedLastLine?: 'torn' | 'row';
  /** Called after each chunk with the rows read so far (all files). */
  onProgress?: (rowsRead: number) => void;
  /** Read size; tests use tiny chunks to exercise records split across chunks. */
  chunkSize?: number;
  /** Also return each kept row's time (ms; NaN when unparsable or absent) in `ReadResult.timestamps`. */
  timestamps?: boolean;
}

/** The time column of every read: the prediction log's. */
const parseOptions = <T extends ParseOptions>(opts: T): T & { timeColumn: string } => ({ ...opts, timeColumn: TIMESTAMP });

/** A `--since` window needs the time column; `header` is the read's. */
export function requireTimeColumn(path: string, header: readonly string[], sinceMs: number | undefined): void {
  if (sinceMs !== undefined && !header.includes(TIMESTAMP)) {
    throw new InputError('no_timestamp', `--since needs a "${TIMESTAMP}" column, and ${path} has none`);
  }
}

/**
 * Reads a log directory or a CSV file into typed columns. Throws InputError for what makes a run
 * impossible. A column whose first text cell comes after number cells is read a second time as
 * categorical (numbers cannot be turned back into the text they were written as); only such mixed
 * columns cost that second pass.
 */
export async function readLog(path: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const first = await readOnce(path, opts);
  if (first.mixed.length === 0) return first.result;
  const types = new Map(opts.types ?? []);
  for (const name of first.mixed) types.set(name, 'categorical');
  const keep = (name: string): boolean => first.mixed.includes(name);
  const again = await readOnce(path, { ...opts, types, keep, onProgress: undefined });
  for (const name of first.mixed) first.result.table.columns.set(name, again.result.table.columns.get(name)!);
  return first.result;
}

async function readOnce(path: string, opts: ReadOptions): Promise<{ result: ReadResult; mixed: string[] }> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new InputError('not_found', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, { cause: err });
  }
  let files: string[];
  let skippedEntries: SkippedEntry[] = [];
  if (st.isDirectory()) ({ files, skipped: skippedEntries } = await logFilesOf(path));
  else files = [path];
  const unterminated = opts.unterminatedLastLine ?? (st.isDirectory() ? 'torn' : 'row');
  const chunkSize = opts.chunkSize ?? 1 << 20;

  const parser = new CsvParser(parseOptions(opts), unterminated);
  if (opts.timestamps) parser.timestamps = new Float64Builder();
  parser.reserveRows = await estimateRows(files, chunkSize);
  const reader = new FileReader(chunkSize);
  for (const file of files) await reader.parseFile(parser, file, opts.onProgress);
  const { builders, header, rows, counters, sawTimestamp, minTs, maxTs } = parser;

  if (builders.size === 0 && header.length === 0) throw new InputError('no_header', `${path} has no CSV header row`);
  requireTimeColumn(path, header, opts.sinceMs);
  const columns = new Map<string, Column>();
  const mixed: string[] = [];
  for (const [name, b] of builders) {
    if (b.lostNumberText) mixed.push(name);
    columns.set(name, b.finish());
  }
  const result: ReadResult = {
    path,
    files: files.map((f) => (st.isDirectory() ? basename(f) : f)),
    header,
    table: { rows, columns },
    rowsRead: counters.rowsRead,
    filtered: counters.filtered,
    tornLines: counters.torn,
    skippedRows: counters.skippedRows,
    skipped: counters.skipped,
    from: sawTimestamp ? new Date(minTs).toISOString() : null,
    to: sawTimestamp ? new Date(maxTs).toISOString() : null,
    skippedEntries,
  };
  if (parser.timestamps !== null && header.includes(TIMESTAMP)) result.timestamps = parser.timestamps.finish();
  return { result, mixed };
}

/**
 * The regular `*.csv` files of a log directory (symlinks followed), in name order. Anything else
 * with a .csv name — a directory, a FIFO, a dangling symlink or a symlink loop — is skipped and
 * reported, so one stray entry never blocks a run.
 */
export async function listLogFiles(dir: string): Promise<{ files: string[]; skipped: SkippedEntry[] }> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.name.toLowerCase().endsWith('.csv')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  const skipped: SkippedEntry[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isFile()) {
      files.push(full);
      continue;
    }
    let reason: string;
    if (e.isSymbolicLink()) {
      try {
        const target = await stat(full);
        if (target.isFile()) {
          files.push(full);
          continue;
        }
        reason = `symbolic link to ${kindOf(target)}`;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reason = code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'dangling symbolic link' : `unreadable symbolic link (${code ?? (err as Error).message})`;
      }
    } else {
      reason = `not a regular file (${kindOf(e)})`;
    }
    skipped.push({ name: e.name, reason });
  }
  return { files, skipped };
}

function kindOf(e: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  return e.isDirectory() ? 'a directory' : e.isFIFO() ? 'a FIFO' : e.isSocket() ? 'a socket' : e.isBlockDevice() || e.isCharacterDevice() ? 'a device' : 'not a regular file';
}

/** `listLogFiles`, failing with `no_log_files` (naming any skipped entries) when there is no file to read. */
export async function logFilesOf(dir: string): Promise<{ files: string[]; skipped: SkippedEntry[] }> {
  const listed = await listLogFiles(dir);
  if (listed.files.length === 0) {
    const why = listed.skipped.length > 0 ? ` (skipped: ${listed.skipped.map((e) => `${e.name}: ${e.reason}`).join('; ')})` : '';
    throw new InputError('no_log_files', `no *.csv files in ${dir}${why}`);
  }
  return listed;
}


/** Reads files chunk by chunk into a parser, with one working buffer reused for every file. */
class FileReader {
  // The unparsed tail of a chunk moves to the buffer's start and the next chunk is read in after it.
  // No per-chunk allocation (garbage buffers would otherwise pile up between collections and count in the RSS).
  private work: Buffer;
  private readonly chunkSize: number;

  constructor(chunkSize: number) {
    this.chunkSize = chunkSize;
    this.work = Buffer.allocUnsafe(chunkSize * 2);
  }

  /** The last byte read by `parseFile` (-1: none), to tell whether a file ends with a complete line. */
  lastByte = -1;
  /** File offset just past the last byte read by `parseFile`. */
  endOffset = 0;

  /**
   * Parses `file` from byte `from` on; with `header` (the file's header record) first, so that a
   * later part of a file is read as the file would be (`readLogFilePart` with `from`).
   */
  async parseFile(parser: CsvParser, file: string, onProgress?: (rowsRead: number) => void, from = 0, header?: Buffer): Promise<void> {
    const chunkSize = this.chunkSize;
    parser.beginFile();
    parser.file = file;
    this.lastByte = -1;
    if (header !== undefined) {
      parser.offset = 0;
      parser.parse(header, 0, false);
    }
    const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw new InputError('unreadable', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
    });
    try {
      let carried = 0;
      let firstChunk = from === 0;
      let offset = from; // file offset of work[0]
      for (;;) {
        // An incomplete record is parsed again from its start once more bytes are in; reading at
        // least as much as is carried keeps that linear however long the record (was quadratic).
        const want = Math.max(chunkSize, carried);
        if (this.work.length < carried + want) {
          const bigger = Buffer.allocUnsafe(Math.max(this.work.length * 2, carried + want));
          this.work.copy(bigger, 0, 0, carried);
          this.work = bigger;
        }
        const work = this.work;
        const { bytesRead } = await fh.read(work, carried, want, offset + carried);
        const eof = bytesRead === 0;
        if (bytesRead > 0) this.lastByte = work[carried + bytesRead - 1];
        if (eof && carried === 0) {
          this.endOffset = offset;
          break;
        }
        const buf = work.subarray(0, carried + bytesRead);
        let pos = 0;
        if (firstChunk && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
        firstChunk = false;
        parser.offset = offset;
        const rest = parser.parse(buf, pos, eof);
        if (rest === -1) {
          offset += buf.length;
          carried = 0;
        } else {
          work.copy(work, 0, rest, buf.length);
          offset += rest;
          carried = buf.length - rest;
          if (parser.state === null && carried > parser.limits.maxHeaderBytes) throw headerTooLong(file, parser.limits);
          if (carried > parser.limits.maxRecordBytes) throw recordTooLong(file, offset, parser.limits);
        }
        onProgress?.(parser.counters.rowsRead);
        if (eof) {
          this.endOffset = offset + carried;
          break;
        }
      }
      parser.endFile();
    } finally {
      await fh.close();
    }
  }
}

/**
 * Rows in `files`, estimated from the bytes per line of the first file's first chunk, plus 15%:
 * columns are allocated once at that size (see Float64Builder.reserve) instead of growing and copying.
 */
async function estimateRows(files: string[], chunkSize: number): Promise<number> {
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  if (total <= chunkSize) return 0;
  const fh = await open(files[0], 'r');
  try {
    // 64 KiB of lines give the bytes per line well enough; counting a whole MiB cost ~5 ms a run.
    const buf = Buffer.allocUnsafe(Math.min(chunkSize, 1 << 16));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let lines = 0;
    for (let i = buf.indexOf(LF, 0); i !== -1 && i < bytesRead; i = buf.indexOf(LF, i + 1)) lines++;
    if (lines < 2) return 0;
    return Math.ceil((total / (bytesRead / lines)) * 1.15) + 1024;
  } finally {
    await fh.close();
  }
}

/**
 * The header of a CSV file, or of the first non-empty `*.csv` in a directory, without reading the
 * data: enough to plan columns before deciding whether the cached reference profile applies.
 */
export async function readHeader(path: string, limitsIn: Partial<ReadLimits> = {}): Promise<string[]> {
  const limits = { ...READ_LIMITS, ...limitsIn };
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new InputError('not_found', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, { cause: err });
  }
  const files = st.isDirectory() ? (await listLogFiles(path)).files : [path];
  for (const file of files) {
    const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw new InputError('unreadable', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
    });
    try {
      // Chunks are kept and scanned once for the end of the first record (a newline outside
      // quotes), then decoded once: linear in the header's length (re-decoding was quadratic).
      const chunks: Buffer[] = [];
      let total = 0;
      let inQuote = false;
      let end = -1;
      while (end === -1) {
        const chunk = Buffer.allocUnsafe(64 * 1024);
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, total);
        if (bytesRead === 0) break;
        for (let i = 0; i < bytesRead; i++) {
          const c = chunk[i];
          if (c === QUOTE) inQuote = !inQuote;
          else if (c === LF && !inQuote) {
            end = total + i;
            break;
          }
        }
        chunks.push(chunk.subarray(0, bytesRead));
        total += bytesRead;
        if ((end === -1 ? total : end) > limits.maxHeaderBytes) throw headerTooLong(file, limits);
      }
      const bytes = Buffer.concat(chunks, total).subarray(0, end === -1 ? total : end + 1);
      const line = headerLine(bytes.toString('utf8').replace(/^\uFEFF/, ''), true);
      if (line !== null) {
        if (line.length > limits.maxColumns) throw tooManyColumns(file, line.length, limits);
        return line;
      }
    } finally {
      await fh.close();
    }
  }
  throw new InputError('no_header', `${path} has no CSV header row`);
}

/**
 * Reads one log file as a directory read would read it (a torn last line is torn), recording each
 * kept row's timestamp so a time window can be applied to the part later (`windowPart`).
 */
export async function readLogFilePart(
  file: string,
  opts: Pick<ReadOptions, 'types' | 'keep' | 'sinceMs' | 'chunkSize' | 'limits'> & { from?: number; header?: Buffer } = {},
): Promise<LogFilePart & { headerEnd: number; cleanEnd: boolean; end: number }> {
  const parser = new CsvParser(parseOptions(opts), 'torn');
  parser.timestamps = new Float64Builder();
  const reader = new FileReader(opts.chunkSize ?? 1 << 20);
  await reader.parseFile(parser, file, undefined, opts.from ?? 0, opts.header);
  const columns = new Map<string, PartColumn>();
  for (const [name, b] of parser.builders) {
    const col = b.finish(false);
    columns.set(
      name,
      col.kind === 'numerical'
        ? { kind: 'numerical', values: col.values, missing: col.missing, invalid: col.invalid, allInt: b.allInt, numCells: b.numCells, paddedNa: b.paddedNa }
        : { kind: 'categorical', codes: col.codes, dictionary: col.dictionary, counts: countCodes(col.codes, col.dictionary.length), missing: col.missing, mixed: b.lostNumberText, paddedNa: b.paddedNa },
    );
  }
  const timestamps = parser.timestamps.finish();
  const hasTimestamp = parser.header.includes(TIMESTAMP);
  let bad = 0;
  for (let i = 0; i < timestamps.length; i++) if (Number.isNaN(timestamps[i])) bad++;
  const c = parser.counters;
  return {
    file: basename(file),
    header: parser.header,
    rows: parser.rows,
    rowsRead: c.rowsRead,
    filtered: c.filtered,
    tornLines: c.torn,
    skippedRows: c.skippedRows,
    skipped: c.skipped,
    columns,
    timestamps: hasTimestamp ? timestamps : null,
    minTs: parser.minTs,
    maxTs: parser.maxTs,
    badTimestamps: bad,
    headerEnd: parser.headerEnd,
    end: reader.endOffset,
    // Ends with a complete, well-formed record: more rows appended later read the same way.
    cleanEnd: reader.lastByte === LF && !parser.pendingAtEnd && parser.state !== null,
  };
}

