/**
 * The `timestamp` column of a reference CSV, for time-based alarm chunks (docs/drift.md, "Alarm
 * modes"). The fast reader (reader.ts) never keeps timestamps as data; this reads that one column
 * with csv-parse, once per reference file (the resulting chunk bounds are cached).
 */
import { createReadStream } from 'node:fs';
import { InputError } from '../../errors.ts';
import { TIMESTAMP } from '../../drift/log-columns.ts';

/**
 * Milliseconds since the epoch per data row, in file order; NaN for an empty or unparseable cell.
 * Times without a zone designator are read as UTC (`2020-10-01 00:00:00` → `2020-10-01T00:00:00Z`),
 * which groups rows by the calendar day written in the file, as pandas does with naive timestamps.
 */
export async function readTimestampColumn(path: string): Promise<Float64Array> {
  const out: number[] = [];
  let index = -1;
  // Loaded here, not at start-up: only time-based alarm chunks read timestamps this way.
  const { parse } = await import('csv-parse');
  const parser = createReadStream(path).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  try {
    for await (const rec of parser as AsyncIterable<string[]>) {
      if (index === -1) {
        index = rec.indexOf(TIMESTAMP);
        if (index === -1) throw new InputError('no_timestamp', `time-based alarm chunks need a "${TIMESTAMP}" column, and ${path} has none`);
        continue;
      }
      out.push(parseTime(rec[index] ?? ''));
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('bad_reference', `cannot read the timestamps of ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  } finally {
    parser.destroy();
  }
  if (index === -1) throw new InputError('no_timestamp', `${path} is empty`);
  return Float64Array.from(out);
}

function parseTime(text: string): number {
  const t = text.trim();
  if (t === '') return NaN;
  const naive = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(t);
  return Date.parse(naive ? `${t.replace(' ', 'T')}${t.length === 10 ? 'T00:00:00' : ''}Z` : t);
}
