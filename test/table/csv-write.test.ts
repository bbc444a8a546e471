// The log's hand-written CSV encoder (src/table/csv-write.ts) against the library it replaces on the hot
// path: the same bytes as csv-stringify's defaults, and csv-parse reads every field back.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvField, csvRecords } from '../../src/table/csv-write.ts';
import { seededUniform } from '../../src/stats/random.ts';

// Pieces that exercise quoting: delimiters, quotes, both line breaks, spaces, non-ASCII, look-alikes.
const PIECES = ['a', 'Köln', ',', '"', '""', '\n', '\r', '\r\n', ' ', "'", ';', '\t', '=', '-', '€', '😀', '\\', 'x"y', ''];
const NUMBERS = [0, -0, 1, -1, 0.1, 1 / 3, 1e21, 1e-7, -2.5e-300, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity, 39, 77516];

function randomRows(seed: number, n: number): unknown[][] {
  const u = seededUniform(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)];
  const field = (): unknown => {
    const r = u();
    if (r < 0.35) return Array.from({ length: Math.floor(u() * 4) }, () => pick(PIECES)).join('');
    if (r < 0.7) return pick(NUMBERS);
    if (r < 0.8) return u() * 1000 - 500;
    if (r < 0.85) return null;
    if (r < 0.9) return undefined;
    if (r < 0.95) return u() < 0.5;
    return BigInt(Math.floor(u() * 1e6)) * 1_000_000_007n;
  };
  // At least two fields a row: a record of one empty field is an empty line, which readers skip.
  return Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(u() * 20) }, field));
}

describe('csvRecords (the log files encoding)', () => {
  it('writes the bytes csv-stringify writes with its defaults, over 5,000 random rows', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rows = randomRows(seed, 1000);
      assert.equal(csvRecords(rows), stringify(rows), `seed ${seed}`);
      // Row by row as well: the server encodes one request's rows at a time.
      for (const row of rows.slice(0, 50)) assert.equal(csvRecords([row]), stringify([row]));
    }
  });

  it('round-trips through csv-parse: strings exactly, numbers as String(n), null and undefined as empty', () => {
    const rows = randomRows(7, 2000);
    const back = parse(csvRecords(rows), { relax_column_count: true }) as string[][];
    assert.equal(back.length, rows.length);
    rows.forEach((row, i) => assert.deepEqual(back[i], row.map((v) => (v === true ? '1' : v === false || v == null ? '' : String(v))), `row ${i}`));
  });

  it('quotes exactly the fields that need it', () => {
    assert.equal(csvField('plain text'), 'plain text');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(''), '');
    assert.equal(csvField(0.25), '0.25');
  });

  it('refuses a field that is not a scalar, naming its type', () => {
    assert.throws(() => csvField({ a: 1 }), /must be a string, number, boolean or null \(got \[object Object\]\)/);
    assert.throws(() => csvRecords([['ok', [1, 2]]]), /got \[object Array\]/);
  });
});
