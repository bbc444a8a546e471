import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readHeader, readLog } from '../../src/io/log/reader.ts';
import { missingCodeOf, type CategoricalColumn, type Column, type NumericColumn } from '../../src/table/columns.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'sentinel-reader-'));
}

function file(content: string | Buffer, name = 'data.csv', dir = tmp()): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Cell values back as strings (null = missing), to compare with csv-parse. */
function cells(col: Column): (string | null)[] {
  if (col.kind === 'numerical') return Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v)));
  return Array.from(col.codes, (c) => (c === missingCodeOf(col.codes) ? null : col.dictionary[c]));
}

const num = (c: Column | undefined): NumericColumn => {
  assert.equal(c?.kind, 'numerical');
  return c as NumericColumn;
};
const cat = (c: Column | undefined): CategoricalColumn => {
  assert.equal(c?.kind, 'categorical');
  return c as CategoricalColumn;
};

test('RFC 4180: quotes, doubled quotes, embedded commas and newlines, CRLF, BOM, UTF-8 — same fields as csv-parse', async () => {
  const text =
    '\uFEFFid,name,note\r\n' +
    '1,"Smith, John","said ""hi""\r\nand left"\r\n' +
    '2,Zoë,plain\r\n' +
    '3,"",""\r\n' +
    '4,"a""b",ünïcödé ✓\r\n';
  const expected = parse(text, { bom: true, columns: true }) as Record<string, string>[];
  for (const chunkSize of [3, 7, 64, 1 << 20]) {
    const r = await readLog(file(text), { chunkSize });
    assert.equal(r.table.rows, expected.length, `chunk ${chunkSize}`);
    assert.deepEqual(r.header, ['id', 'name', 'note']);
    const name = cells(r.table.columns.get('name')!);
    const note = cells(r.table.columns.get('note')!);
    assert.deepEqual(
      name,
      expected.map((e) => (e.name === '' ? null : e.name)),
    );
    assert.deepEqual(
      note,
      expected.map((e) => (e.note === '' ? null : e.note)),
    );
    assert.deepEqual(cells(r.table.columns.get('id')!), ['1', '2', '3', '4']);
    assert.equal(r.tornLines, 0);
    assert.equal(r.skippedRows, 0);
  }
});

test('numbers: pandas NA tokens are missing, inf parses, exponents and 16+ digit values match Number()', async () => {
  const values = ['1', '-2.5', '', 'NA', 'nan', 'NULL', 'inf', '-Infinity', '1e3', '0.1', '123456789.123456789', '00012', '.5', '+7'];
  const r = await readLog(file(`x,k\n${values.map((v) => `${v},1`).join('\n')}\n`));
  const x = num(r.table.columns.get('x'));
  const expected = [1, -2.5, NaN, NaN, NaN, NaN, Infinity, -Infinity, 1000, 0.1, 123456789.123456789, 12, 0.5, 7];
  assert.deepEqual(Array.from(x.values), expected);
  assert.equal(x.missing, 4);
  assert.equal(x.integerDtype, false);
});

test('fast-path decimals are bit-identical to Number() on random inputs', async () => {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const texts: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const intPart = Math.floor(rand() * 10 ** Math.floor(rand() * 9));
    const frac = String(Math.floor(rand() * 10 ** 7)).padStart(Math.floor(rand() * 7) + 1, '0');
    texts.push(`${rand() < 0.3 ? '-' : ''}${intPart}.${frac}`);
  }
  const r = await readLog(file(`v\n${texts.join('\n')}\n`));
  assert.deepEqual(Array.from(num(r.table.columns.get('v')).values), texts.map(Number));
});

test('a column switches to categorical at its first non-number; integer columns keep integerDtype', async () => {
  const r = await readLog(file('a,b,c\n1,x,3\n2,7,4\n1,y,5\n'));
  assert.deepEqual(cells(cat(r.table.columns.get('b'))), ['x', '7', 'y']);
  const a = num(r.table.columns.get('a'));
  assert.equal(a.integerDtype, true);
  const r2 = await readLog(file('a,b\n1,2\n3,4\n5,z\n'));
  assert.deepEqual(cells(cat(r2.table.columns.get('b'))), ['2', '4', 'z']);
});

test("a column mixing numbers and text keeps every cell's own text, wherever the first text cell is (pandas: object dtype)", async () => {
  // Number cells before the first text cell were stored as doubles; the column is read again as text.
  const late = await readLog(file('a,m\n1,9.0\n2,1.50\n3,01\n4,1e3\n5,\n6,UNK\n7,9.0\n'), { chunkSize: 8 });
  assert.deepEqual(cells(cat(late.table.columns.get('m'))), ['9.0', '1.50', '01', '1e3', null, 'UNK', '9.0']);
  assert.deepEqual(cells(num(late.table.columns.get('a'))), ['1', '2', '3', '4', '5', '6', '7']);
  assert.equal(late.rowsRead, 7);
  // Same in a log directory read with a window, across files.
  const dir = tmp();
  file('timestamp,m\n2026-01-01T00:00:00Z,9.0\n2026-01-02T00:00:00Z,2.0\n', 'a.csv', dir);
  file('timestamp,m\n2026-01-03T00:00:00Z,UNK\n2026-01-04T00:00:00Z,9.0\n', 'b.csv', dir);
  const logged = await readLog(dir, { sinceMs: Date.parse('2026-01-02T00:00:00Z') });
  assert.deepEqual(cells(cat(logged.table.columns.get('m'))), ['2.0', 'UNK', '9.0']);
  assert.equal(logged.filtered, 1);
});

test('a column of pandas boolean spellings only reads as True/False; with other text it stays as written', async () => {
  const r = await readLog(file('b,t\ntrue,TRUE\nFalse,x\nFALSE,\nTrue,True\n'));
  assert.deepEqual(cells(cat(r.table.columns.get('b'))), ['True', 'False', 'False', 'True']);
  assert.deepEqual(cells(cat(r.table.columns.get('t'))), ['TRUE', 'x', null, 'True']);
});

test('declared types: categorical stays text; non-numbers in a numerical column are counted as invalid', async () => {
  const r = await readLog(file('code,n\n01,1\n02,oops\n01,3\n'), { types: new Map([['code', 'categorical'], ['n', 'numerical']]) });
  assert.deepEqual(cells(cat(r.table.columns.get('code'))), ['01', '02', '01']);
  const n = num(r.table.columns.get('n'));
  assert.equal(n.invalid, 1);
  assert.deepEqual(Array.from(n.values), [1, NaN, 3]);
});

test('log directory: a last line without newline is torn and counted, per file', async () => {
  const dir = tmp();
  const header = 'request_id,timestamp,model_version,x,prediction,confidence\n';
  file(`${header}a,2026-01-01T00:00:00.000Z,v1,1,yes,0.9\nb,2026-01-01T00:00:01.000Z,v1,2,no,0.8`, 'a.csv', dir);
  file(`${header}c,2026-01-01T00:00:02.000Z,v1,3,yes,0.7\nd,2026-01-01T00:00:03.000Z,v1,4,n`, 'b.csv', dir);
  const r = await readLog(dir);
  assert.equal(r.tornLines, 2);
  assert.equal(r.skippedRows, 0);
  assert.deepEqual(r.files, ['a.csv', 'b.csv']);
  assert.deepEqual(Array.from(num(r.table.columns.get('x')).values), [1, 3]);
  assert.equal(r.from, '2026-01-01T00:00:00.000Z');
  assert.equal(r.to, '2026-01-01T00:00:02.000Z');
  assert.equal(r.table.columns.has('timestamp'), false);
});

test('torn last line variants: wrong field count at EOF, unterminated quote at EOF', async () => {
  const dir = tmp();
  file('x,y\n1,2\n3\n', 'a.csv', dir);
  file('x,y\n1,2\n4,"unterminated\n', 'b.csv', dir);
  const r = await readLog(dir);
  assert.equal(r.tornLines, 2);
  assert.equal(r.skippedRows, 0);
  assert.deepEqual(Array.from(num(r.table.columns.get('x')).values), [1, 1]);
});

test('plain CSV: a last line without newline is a row when complete, torn when it is not', async () => {
  const ok = await readLog(file('x,y\n1,2\n3,4'));
  assert.equal(ok.table.rows, 2);
  assert.equal(ok.tornLines, 0);
  const torn = await readLog(file('x,y\n1,2\n3'));
  assert.equal(torn.table.rows, 1);
  assert.equal(torn.tornLines, 1);
});

test('bad rows in the middle are skipped with their reason, not torn', async () => {
  const r = await readLog(file('x,y\n1,2\n3\n"5"x,6\n7,8\n9,10,11\n12,13\n'));
  assert.deepEqual(Array.from(num(r.table.columns.get('x')).values), [1, 7, 12]);
  assert.equal(r.skippedRows, 3);
  assert.deepEqual(r.skipped, { field_count: 2, bad_quote: 1 });
  assert.equal(r.tornLines, 0);
});

test('--since window keeps rows with timestamp >= cutoff; unparseable timestamps are skipped', async () => {
  const rows = [
    'a,2026-01-01T00:00:00.000Z,v,1',
    'b,2026-01-02T00:00:00Z,v,2',
    'c,2026-01-03T12:00:00.500+00:00,v,3',
    'd,not-a-time,v,4',
    'e,2026-01-04 00:00:00Z,v,5',
  ];
  const p = file(`request_id,timestamp,model_version,x\n${rows.join('\n')}\n`);
  const r = await readLog(p, { sinceMs: Date.parse('2026-01-02T00:00:00Z') });
  assert.deepEqual(Array.from(num(r.table.columns.get('x')).values), [2, 3, 5]);
  assert.equal(r.filtered, 1);
  assert.deepEqual(r.skipped, { bad_timestamp: 1 });
  assert.equal(r.from, '2026-01-02T00:00:00.000Z');
  assert.equal(r.to, '2026-01-04T00:00:00.000Z');
  await assert.rejects(readLog(file('x\n1\n'), { sinceMs: 0 }), /--since needs a "timestamp" column/);
});

test('files with different headers: columns matched by name, absent ones missing; empty lines ignored', async () => {
  const dir = tmp();
  file('x,y\n1,a\n\n2,b\n', 'a.csv', dir);
  file('y,z\nc,9\n', 'b.csv', dir);
  mkdirSync(join(dir, 'sub.csv.d'));
  file('not csv', 'notes.txt', dir);
  const r = await readLog(dir);
  assert.equal(r.table.rows, 3);
  assert.deepEqual(cells(r.table.columns.get('x')!), ['1', '2', null]);
  assert.deepEqual(cells(r.table.columns.get('y')!), ['a', 'b', 'c']);
  assert.deepEqual(cells(r.table.columns.get('z')!), [null, null, '9']);
});

test('errors: missing path, directory without CSV files, duplicate header', async () => {
  await assert.rejects(readLog('/nonexistent/x.csv'), { code: 'not_found' });
  await assert.rejects(readLog(tmp()), { code: 'no_log_files' });
  await assert.rejects(readLog(file('a,a\n1,2\n')), { code: 'duplicate_column' });
  await assert.rejects(readHeader(file('')), { code: 'no_header' });
  assert.deepEqual(await readHeader(file('"a,1",b\r\n1,2\n')), ['a,1', 'b']);
});

test('streams: a file far larger than the chunk size is read chunk by chunk', async () => {
  const n = 50_000;
  const lines = ['v,c'];
  for (let i = 0; i < n; i++) lines.push(`${i * 0.5},k${i % 7}`);
  let progressCalls = 0;
  const r = await readLog(file(lines.join('\n') + '\n'), { chunkSize: 4096, onProgress: () => progressCalls++ });
  assert.equal(r.table.rows, n);
  assert.ok(progressCalls > 100, `progress called per chunk (${progressCalls})`);
  const v = num(r.table.columns.get('v'));
  assert.equal(v.values[n - 1], (n - 1) * 0.5);
  assert.equal(cat(r.table.columns.get('c')).dictionary.length, 7);
});

// --- issue 10: hostile sizes and stray directory entries -------------------------------------

test('a header over the limit fails with an error naming the limit (readLog and readHeader)', async () => {
  const wide = file(`${Array.from({ length: 400 }, (_, i) => `column_${i}`).join(',')}\n${Array(400).fill('1').join(',')}\n`);
  const limits = { maxHeaderBytes: 1000 };
  await assert.rejects(readLog(wide, { limits, chunkSize: 64 }), { code: 'header_too_long', message: /header line is longer than 1000 bytes \(the limit of a header\)/ });
  await assert.rejects(readLog(wide, { limits }), { code: 'header_too_long' }); // complete within one chunk
  await assert.rejects(readHeader(wide, limits), { code: 'header_too_long', message: /longer than 1000 bytes/ });
  // The default limit is a round MiB and named as such.
  const huge = file(`a,${'x'.repeat(1024 * 1024 + 10)}\n1,2\n`);
  await assert.rejects(readHeader(huge), { message: /longer than 1 MiB/ });
  await assert.rejects(readLog(huge), { message: /longer than 1 MiB/ });
});

test('too many columns and a record over the limit fail with errors naming the limit', async () => {
  const many = file(`${Array.from({ length: 50 }, (_, i) => `c${i}`).join(',')}\n`);
  await assert.rejects(readLog(many, { limits: { maxColumns: 20 } }), { code: 'too_many_columns', message: /50 columns, more than the limit of 20/ });
  await assert.rejects(readHeader(many, { maxColumns: 20 }), { code: 'too_many_columns' });
  const long = file(`a,b\n1,2\n3,"${'y'.repeat(5000)}"\n4,5\n`);
  await assert.rejects(readLog(long, { limits: { maxRecordBytes: 2048 }, chunkSize: 256 }), { code: 'record_too_long', message: /record starting at byte 8 is longer than 2048 bytes/ });
  // A record over the limit that still completes inside one read is refused too.
  await assert.rejects(readLog(long, { limits: { maxRecordBytes: 2048 } }), { code: 'record_too_long', message: /record starting at byte 8 is longer than 2048 bytes/ });
  await assert.rejects(readLog(long, { limits: { maxRecordBytes: 4096 }, chunkSize: 2048 }), { code: 'record_too_long' });
  // Under the limit it reads fine, however small the chunks.
  const ok = await readLog(long, { limits: { maxRecordBytes: 8192 }, chunkSize: 256 });
  assert.equal(ok.table.rows, 3);
});

test('a record far longer than the chunk is read in a logarithmic number of chunks (linear, was quadratic)', async () => {
  const n = 1 << 20;
  const path = file(`a,b\n1,${'7'.repeat(n)}\n2,3\n`);
  let chunks = 0;
  const r = await readLog(path, { chunkSize: 1024, onProgress: () => chunks++ });
  assert.equal(r.table.rows, 2);
  // Re-parsing a carried record from its start is only linear if reads grow with it: 1 MiB in
  // 1 KiB chunks took 1024+ parses before, about log2(1024) + a few now.
  assert.ok(chunks < 40, `${chunks} chunks for a 1 MiB record`);
  const header = await readHeader(file(`"a,""quoted""",${'h'.repeat(n)},c\r\n1,2,3\n`), { maxHeaderBytes: 2 * n });
  assert.deepEqual([header[0], header[1].length, header[2]], ['a,"quoted"', n, 'c']);
});

test('non-regular *.csv entries of a log directory are skipped and reported; the rest is read', async () => {
  const dir = tmp();
  file('request_id,timestamp,x\nr1,2026-01-01T00:00:00Z,1\n', 'a.csv', dir);
  mkdirSync(join(dir, 'x.csv'));
  symlinkSync('loop.csv', join(dir, 'loop.csv'));
  symlinkSync('missing-target', join(dir, 'dangling.csv'));
  symlinkSync('a.csv', join(dir, 'link.csv')); // a symlink to a regular file is read
  execFileSync('mkfifo', [join(dir, 'pipe.csv')]);
  const r = await readLog(dir);
  assert.deepEqual(r.files, ['a.csv', 'link.csv']);
  assert.equal(r.table.rows, 2);
  assert.deepEqual(r.skippedEntries, [
    { name: 'dangling.csv', reason: 'dangling symbolic link' },
    { name: 'loop.csv', reason: 'symbolic link loop' },
    { name: 'pipe.csv', reason: 'not a regular file (a FIFO)' },
    { name: 'x.csv', reason: 'not a regular file (a directory)' },
  ]);
  assert.deepEqual(await readHeader(dir), ['request_id', 'timestamp', 'x']);
  const onlyStray = tmp();
  mkdirSync(join(onlyStray, 'x.csv'));
  await assert.rejects(readLog(onlyStray), { code: 'no_log_files', message: /x\.csv: not a regular file \(a directory\)/ });
});
