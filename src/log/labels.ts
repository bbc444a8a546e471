/**
 * Reads the label log written by POST /feedback (`<log-dir>/labels/*.csv`, every replica's files)
 * into one map request_id → label. A repeated id keeps the label received last (greatest
 * `timestamp`; equal timestamps: the later file in name order, then the later row). Labels received
 * after `untilMs` are left out (counted as `late`), so a run evaluated later gives the same answer.
 * A torn last line (crash mid-write) is skipped and counted, like the prediction log's.
 */

import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { InputError } from '../errors.ts';
import { LABEL_COLUMNS, LABEL_DIR } from './schema.ts';

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
  /** Malformed rows by reason (wrong field count, empty id, bad timestamp). */
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
  const until = opts.untilMs ?? Infinity;
  const skip = (why: string) => (out.skipped[why] = (out.skipped[why] ?? 0) + 1);
  for (const file of files) {
    out.files.push(file);
    const { endsWithNewline, size } = await tail(file);
    if (size === 0) continue;
    const parser = createReadStream(file).pipe(parse({ relax_column_count: true, relax_quotes: true, skip_empty_lines: true }));
    let header: string[] | null = null;
    let idCol = 0;
    let tsCol = 1;
    let labelCol = 2;
    let pending: string[] | null = null;
    const apply = (r: string[]) => {
      out.rows++;
      if (r.length !== header!.length) return skip('field_count');
      const id = r[idCol].toLowerCase();
      if (id === '') return skip('empty_request_id');
      const t = Date.parse(r[tsCol]);
      if (!Number.isFinite(t)) return skip('bad_timestamp');
      if (t > until) {
        out.late++;
        return;
      }
      const prev = out.labels.get(id);
      if (prev === undefined) {
        out.labels.set(id, { label: r[labelCol], t });
        return;
      }
      out.superseded++;
      if (t >= prev.t) out.labels.set(id, { label: r[labelCol], t });
    };
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        if (header === null) {
          header = record;
          idCol = header.indexOf(LABEL_COLUMNS[0]);
          tsCol = header.indexOf(LABEL_COLUMNS[1]);
          labelCol = header.indexOf(LABEL_COLUMNS[2]);
          if (idCol < 0 || tsCol < 0 || labelCol < 0) {
            throw new InputError('bad_label_file', `${file} is not a label file: its header must have ${LABEL_COLUMNS.join(', ')} (got ${header.join(',').slice(0, 200)})`);
          }
          continue;
        }
        // One row behind: the last record of a file without a final newline is a torn write.
        if (pending !== null) apply(pending);
        pending = record;
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      // A torn quoted field at the end makes the parser fail; everything before it was applied.
      if (!endsWithNewline) {
        out.tornLines++;
        continue;
      }
      throw new InputError('bad_label_file', `cannot parse ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    if (pending !== null) {
      if (endsWithNewline) apply(pending);
      else out.tornLines++;
    }
  }
  return out;
}

async function tail(file: string): Promise<{ endsWithNewline: boolean; size: number }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return { endsWithNewline: true, size };
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return { endsWithNewline: b[0] === 0x0a, size };
  } finally {
    await fh.close();
  }
}
