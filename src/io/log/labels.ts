/**
 * Reads the label log written by POST /feedback (`<log-dir>/labels/*.csv`, every replica's files)
 * into one map request_id → label. A repeated id keeps the label received last (greatest
 * `timestamp`; equal timestamps: the later file in name order, then the later row). Labels received
 * after `untilMs` are left out (counted as `late`), so a run evaluated later gives the same answer.
 * A torn last line (crash mid-write) is skipped and counted, like the prediction log's.
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { parse as ParseSync } from 'csv-parse/sync';
import { normalizeRequestId } from '../../drift/performance.ts';
import { InputError } from '../../errors.ts';
import { LABEL_DIR } from './schema.ts';
import { LABEL_COLUMNS } from '../../drift/log-columns.ts';

export interface LabelEntry {
  label: string;
  /** Receipt time, epoch ms. */
  t: number;
}

export interface LabelRead {
  /** Files read, in the order they were applied. */
  files: string[];
  labels: Map<string, LabelEntry>;
  /** Data rows read (every row of every file, before any rule below). */
  rows: number;
  /** Rows whose id was already labelled; the later label replaced the earlier one (or lost to a later one). */
  superseded: number;
  /** Rows received after `untilMs`. */
  late: number;
  tornLines: number;
  /** Malformed rows by reason (field_count, bad_quote, empty_request_id, bad_timestamp). */
  skipped: Record<string, number>;
}

/** The label directory of a prediction-log directory. */
export function labelDirOf(logDir: string): string {
  return join(logDir, LABEL_DIR);
}

/**
 * Reads every `*.csv` under `path` (a label directory, or one label file). A missing directory means
 * no labels yet (an empty result), not an error.
 */
export async function readLabels(path: string, opts: { untilMs?: number } = {}): Promise<LabelRead> {
  const out: LabelRead = { files: [], labels: new Map(), rows: 0, superseded: 0, late: 0, tornLines: 0, skipped: {} };
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new InputError('labels_unreadable', `cannot read labels ${path}: ${err.message}`, { cause: err });
  });
  if (st === null) return out;
  const files = st.isDirectory()
    ? (await readdir(path))
        .filter((n) => n.toLowerCase().endsWith('.csv'))
        .sort()
        .map((n) => join(path, n))
    : [path];
  // Loaded here, not at start-up: a drift run without labels never parses one.
  const { parse } = await import('csv-parse/sync');
  const until = opts.untilMs ?? Infinity;
  const skip = (why: string) => (out.skipped[why] = (out.skipped[why] ?? 0) + 1);
  const apply = (rawId: string, ts: string, label: string) => {
    const id = normalizeRequestId(rawId);
    if (id === '') return skip('empty_request_id');
    const t = Date.parse(ts);
    if (!Number.isFinite(t)) return skip('bad_timestamp');
    if (t > until) {
      out.late++;
      return;
    }
    const prev = out.labels.get(id);
    if (prev !== undefined) {
      out.superseded++;
      if (t < prev.t) return;
    }
    out.labels.set(id, { label, t });
  };
  for (const file of files) {
    out.files.push(file);
    const buf = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new InputError('labels_unreadable', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
    });
    const headerEnd = buf.indexOf(0x0a);
    if (headerEnd < 0) {
      // Created but its header never completed (a crash right after the O_EXCL create): no rows.
      if (buf.length > 0) out.tornLines++;
      continue;
    }
    const header = parseRecord(parse, buf.toString('utf8', 0, headerEnd)) ?? [];
    const idCol = header.indexOf(LABEL_COLUMNS[0]);
    const tsCol = header.indexOf(LABEL_COLUMNS[1]);
    const labelCol = header.indexOf(LABEL_COLUMNS[2]);
    if (idCol < 0 || tsCol < 0 || labelCol < 0) {
      throw new InputError('bad_label_file', `${file} is not a label file: its header must have ${LABEL_COLUMNS.join(', ')} (got ${header.join(',').slice(0, 200)})`);
    }
    const canonical = header.length === 3 && idCol === 0 && tsCol === 1 && labelCol === 2;
    // Lines are cut by hand instead of csv-parse's streaming parser (4.5 µs a row, most of a
    // 1M-label join): the writer's rows are three plain fields, taken straight from the buffer as
    // flat strings (`split` makes sliced strings, which made the join's Map lookups 2× slower).
    // A line with a quote goes through csv-parse.
    let start = headerEnd + 1;
    let nextQuote = buf.indexOf(0x22, start);
    while (start < buf.length) {
      let end = buf.indexOf(0x0a, start);
      if (end < 0) {
        out.tornLines++; // no final newline: a write cut short by a crash
        break;
      }
      const lineEnd = end > start && buf[end - 1] === 0x0d ? end - 1 : end; // CRLF
      // The next quote of the file, searched again only once passed (a search per line would
      // rescan the rest of the file each time: quadratic).
      if (nextQuote !== -1 && nextQuote < start) nextQuote = buf.indexOf(0x22, start);
      if (nextQuote < 0 || nextQuote >= lineEnd) {
        if (lineEnd > start) {
          out.rows++;
          if (canonical) {
            const c1 = buf.indexOf(0x2c, start);
            const c2 = c1 < 0 || c1 >= lineEnd ? -1 : buf.indexOf(0x2c, c1 + 1);
            const c3 = c2 < 0 || c2 >= lineEnd ? -1 : buf.indexOf(0x2c, c2 + 1);
            if (c2 < 0 || c2 >= lineEnd || (c3 >= 0 && c3 < lineEnd)) skip('field_count');
            else apply(buf.toString('utf8', start, c1), buf.toString('latin1', c1 + 1, c2), buf.toString('utf8', c2 + 1, lineEnd));
          } else {
            const r = buf.toString('utf8', start, lineEnd).split(',');
            if (r.length !== header.length) skip('field_count');
            else apply(r[idCol], r[tsCol], r[labelCol]);
          }
        }
        start = end + 1;
        continue;
      }
      // A quoted field may hold newlines: extend the record until its quotes balance. Still open
      // at the end of the file: the write was cut inside the field (torn).
      let line = buf.toString('utf8', start, end);
      let torn = false;
      while (countQuotes(line) % 2 === 1) {
        const next = end + 1 < buf.length ? buf.indexOf(0x0a, end + 1) : -1;
        if (next < 0) {
          torn = true;
          break;
        }
        end = next;
        line = buf.toString('utf8', start, end);
      }
      if (torn) {
        out.tornLines++;
        break;
      }
      start = end + 1;
      out.rows++;
      const r = parseRecord(parse, line);
      if (r === null) skip('bad_quote');
      else if (r.length !== header.length) skip('field_count');
      else apply(r[idCol], r[tsCol], r[labelCol]);
    }
  }
  return out;
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** One CSV record (RFC 4180), or null when it is malformed. */
function parseRecord(parse: typeof ParseSync, text: string): string[] | null {
  try {
    const rows: string[][] = parse(text.endsWith('\r') ? text.slice(0, -1) : text, { relax_column_count: true });
    return rows[0] ?? [];
  } catch {
    return null;
  }
}
