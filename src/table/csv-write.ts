/**
 * The CSV encoder, the writing side of src/table/csv.ts's tokenizer: RFC 4180 exactly as
 * csv-stringify writes it with its defaults (and csv-parse reads back). Pure: the log writer
 * (src/io/log/writer.ts) owns the files. Written by hand because the server encodes one row per
 * request on its event-loop thread: csv-stringify's sync API normalises its options and builds a
 * transform on every call, ~3.5 µs a row against ~0.7 µs here (it was 5.5 % of the durable
 * server's event-loop thread in a CPU profile under load; README, "Serving").
 * test/table/csv-write.test.ts checks the bytes against csv-stringify's.
 */

/** A field is quoted when it holds a delimiter, a quote or a line break; quotes inside are doubled. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: strings as they are (quoted when needed), numbers as String(n), null and undefined empty. */
export function csvField(value: unknown): string {
  if (typeof value === 'string') return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return '';
  // csv-stringify's default for booleans.
  if (typeof value === 'boolean') return value ? '1' : '';
  throw new TypeError(`a CSV field must be a string, number, boolean or null (got ${Object.prototype.toString.call(value)})`);
}

/** Rows as CSV records, each ended by "\n". */
export function csvRecords(rows: readonly (readonly unknown[])[]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) out += ',';
      out += csvField(row[i]);
    }
    out += '\n';
  }
  return out;
}
