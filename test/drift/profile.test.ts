import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog } from '../../src/io/log/reader.ts';
import { inferColumnType, profileColumn, resolveTypes } from '../../src/drift/profile.ts';

async function table(csv: string) {
  const p = join(mkdtempSync(join(tmpdir(), 'sentinel-profile-')), 'd.csv');
  writeFileSync(p, csv);
  return (await readLog(p)).table;
}

function csv(columns: Record<string, (string | number)[]>): string {
  const names = Object.keys(columns);
  const n = columns[names[0]].length;
  const lines = [names.join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((k) => String(columns[k][i])).join(','));
  return lines.join('\n') + '\n';
}

// Evidently 0.7.23 evidently/core/datasets.py infer_column_type, on what pandas.read_csv gives:
test('type inference follows Evidently: int dtype with <= 10 distinct values is categorical', async () => {
  const n = 100;
  const t = await table(
    csv({
      int10: Array.from({ length: n }, (_, i) => i % 10),
      int11: Array.from({ length: n }, (_, i) => i % 11),
      int3_missing: Array.from({ length: n }, (_, i) => (i === 5 ? '' : i % 3)),
      float3: Array.from({ length: n }, (_, i) => (i % 3) + 0.5),
      label: Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]),
      text: Array.from({ length: n }, (_, i) => `free text ${i}`),
      empty: Array.from({ length: n }, () => ''),
    }),
  );
  const infer = (name: string) => inferColumnType(t.columns.get(name)!);
  assert.deepEqual(infer('int10'), { type: 'categorical', text: false });
  assert.deepEqual(infer('int11'), { type: 'numerical', text: false });
  // A missing cell makes pandas read the column as float64 → numerical.
  assert.deepEqual(infer('int3_missing'), { type: 'numerical', text: false });
  assert.deepEqual(infer('float3'), { type: 'numerical', text: false });
  assert.deepEqual(infer('label'), { type: 'categorical', text: false });
  // Strings with distinct > 50% of the non-missing count: Evidently's text columns.
  assert.deepEqual(infer('text'), { type: 'categorical', text: true });
  assert.deepEqual(infer('empty'), { type: 'numerical', text: false });
});

test('model-card types win over inference', async () => {
  const t = await table(csv({ a: [1, 2, 1, 2], b: ['x', 'y', 'x', 'y'] }));
  const types = resolveTypes(t, ['a', 'b'], new Map([['a', 'numerical']]));
  assert.equal(types.get('a')!.type, 'numerical');
  assert.equal(types.get('b')!.type, 'categorical');
});

test('profiles: numerical drops NaN and ±Inf (Evidently), sorts once; categorical counts in first-seen order', async () => {
  const t = await table('x,c\n3,b\n,a\ninf,b\n1,\n2,c\n');
  const x = profileColumn(t.columns.get('x')!, 'numerical');
  assert.equal(x.type, 'numerical');
  assert.deepEqual(Array.from(x.data!.sorted), [1, 2, 3]);
  assert.deepEqual(Array.from(x.data!.values), [3, 1, 2]);
  assert.deepEqual(x.summary, { count: 3, missing: 2, min: 1, max: 3, mean: 2, positive_infinity: 1 });
  const c = profileColumn(t.columns.get('c')!, 'categorical');
  assert.equal(c.type, 'categorical');
  assert.deepEqual(c.data!.dictionary, ['b', 'a', 'c']);
  assert.deepEqual(Array.from(c.data!.counts), [2, 1, 1]);
  assert.deepEqual(c.summary, { count: 4, missing: 1, distinct: 3 });
  // A numeric column tested as categorical: labels are the numbers' string forms.
  const asCat = profileColumn(t.columns.get('x')!, 'categorical');
  assert.deepEqual(asCat.type === 'categorical' && asCat.data!.dictionary, ['3', 'Infinity', '1', '2']);
});

test('wrong type: text in a column tested as numerical is flagged, not coerced', async () => {
  const t = await table('x\na\nb\n');
  const p = profileColumn(t.columns.get('x')!, 'numerical');
  assert.equal(p.data, null);
  assert.match(p.wrongType!, /non-numeric/);
});
