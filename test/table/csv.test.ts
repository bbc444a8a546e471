// The pure table layer on its own: bytes in memory, no files. The file reader's tests
// (test/log/reader.test.ts) cover the same semantics through real files and chunked reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { CsvParser } from '../../src/table/csv.ts';
import { missingCodeOf, type Column } from '../../src/table/columns.ts';

/** Feeds `bytes` to a parser in two chunks split at `at`, carrying an incomplete record as the file reader does. */
function parseSplit(bytes: Buffer, at: number, unterminated: 'torn' | 'row', timeColumn?: string): CsvParser {
  const p = new CsvParser({ timeColumn }, unterminated);
  p.beginFile();
  const rest = p.parse(bytes.subarray(0, at), 0, false);
  const carried = rest === -1 ? Buffer.alloc(0) : bytes.subarray(rest, at);
  p.parse(Buffer.concat([carried, bytes.subarray(at)]), 0, true);
  p.endFile();
  return p;
}

const cells = (col: Column): (string | null)[] =>
  col.kind === 'numerical' ? Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v))) : Array.from(col.codes, (c) => (c === missingCodeOf(col.codes) ? null : col.dictionary[c]));

test('the tokenizer gives csv-parse\'s fields wherever a chunk boundary falls (quotes, "" escapes, CRLF, UTF-8)', () => {
  const text = 'id,name,note\r\n1,"Smith, John","said ""hi""\r\nand left"\r\n2,Zoë,plain\r\n3,"",NA\r\n4,"a""b",ünïcödé ✓\r\n';
  const expected = parse(text, { columns: true }) as Record<string, string>[];
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 1; at < bytes.length; at++) {
    const p = parseSplit(bytes, at, 'row');
    assert.deepEqual(p.header, ['id', 'name', 'note'], `split at ${at}`);
    assert.equal(p.rows, expected.length, `split at ${at}`);
    for (const name of ['name', 'note']) {
      // pandas' NA tokens (and empty cells) are missing; csv-parse keeps them as text.
      assert.deepEqual(cells(p.builders.get(name)!.finish()), expected.map((e) => (e[name] === '' || e[name] === 'NA' ? null : e[name])), `${name}, split at ${at}`);
    }
    assert.deepEqual(cells(p.builders.get('id')!.finish()), ['1', '2', '3', '4']);
  }
});

test('record policy: torn vs row for an unterminated last line, field_count and bad_quote skipped, time column parsed not kept', () => {
  const text = 'timestamp,x\n2026-01-01T00:00:00Z,1\nbad\n2026-01-01T00:00:01Z,"2"x\n2026-01-01T00:00:02.5Z,3\n2026-01-01T00:00:03Z,4';
  const bytes = Buffer.from(text);
  for (const at of [5, 30, bytes.length - 3]) {
    const torn = parseSplit(bytes, at, 'torn', 'timestamp');
    assert.deepEqual([torn.rows, torn.counters.torn, torn.counters.skipped], [2, 1, { field_count: 1, bad_quote: 1 }], `split at ${at}`);
    assert.deepEqual([...torn.builders.keys()], ['x']);
    assert.deepEqual([torn.minTs, torn.maxTs], [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:02.500Z')]);
    const row = parseSplit(bytes, at, 'row', 'timestamp');
    assert.deepEqual([row.rows, row.counters.torn], [3, 0], `split at ${at}`);
    assert.deepEqual(cells(row.builders.get('x')!.finish()), ['1', '3', '4']);
    // Without a time column the timestamp is a column like any other.
    assert.deepEqual([...parseSplit(bytes, at, 'row').builders.keys()], ['timestamp', 'x']);
  }
});
