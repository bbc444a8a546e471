// Memory savings that must not change a number: narrow categorical codes, and the current side's
// numbers compacted and sorted in place when its test does not read input order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeBuilder, MISSING_CODE, missingCodeOf, type NumericColumn } from '../../src/table/columns.ts';
import { numericToCategorical, profileColumn, type SideProfile } from '../../src/drift/profile.ts';
import { detectColumnDrift, testNeedsInputOrder } from '../../src/drift/detect.ts';
import { runColumnTask, type ColumnTask } from '../../src/drift/task.ts';
import { getStatTest, listStatTests, orderedValues, prepareNumeric, DEFAULT_STATTESTS, type PreparedNumeric } from '../../src/stats/index.ts';

function decode(codes: Uint8Array | Uint16Array | Uint32Array): (number | null)[] {
  const miss = missingCodeOf(codes);
  return Array.from(codes, (c) => (c === miss ? null : c));
}

test('CodeBuilder: narrowest array type, widened with missing cells kept, chunked or reserved', () => {
  for (const reserve of [0, 200_000]) {
    const b = new CodeBuilder();
    b.reserve(reserve);
    const want: (number | null)[] = [];
    const push = (c: number | null): void => {
      b.push(c === null ? MISSING_CODE : c);
      want.push(c);
    };
    for (let i = 0; i < 1000; i++) push(i % 7 === 0 ? null : i % 254);
    const small = new CodeBuilder();
    for (const c of want) small.push(c === null ? MISSING_CODE : c);
    const u8 = small.finish();
    assert.ok(u8 instanceof Uint8Array);
    assert.deepEqual(decode(u8), want);
    push(255); // the first code that does not fit a Uint8Array next to 0xFF (missing)
    for (let i = 0; i < 70_000; i++) push(i % 11 === 0 ? null : i % 1000);
    const mid = new CodeBuilder();
    for (const c of want) mid.push(c === null ? MISSING_CODE : c);
    const u16 = mid.finish();
    assert.ok(u16 instanceof Uint16Array);
    assert.deepEqual(decode(u16), want);
    push(0xffff); // needs Uint32
    for (let i = 0; i < 70_000; i++) push(i % 13 === 0 ? null : i);
    const out = b.finish();
    assert.ok(out instanceof Uint32Array);
    assert.equal(out.length, want.length);
    assert.deepEqual(decode(out), want);
  }
});

test('numericToCategorical: narrow codes, missing kept, same labels', () => {
  const values = Float64Array.from([3, NaN, 3, 1.5, 2, NaN, 1.5]);
  const cat = numericToCategorical({ kind: 'numerical', values, missing: 2, invalid: 0, integerDtype: false });
  assert.ok(cat.codes instanceof Uint8Array);
  assert.deepEqual(cat.dictionary, ['3', '1.5', '2']);
  assert.deepEqual(decode(cat.codes), [0, null, 0, 1, 2, null, 1]);
  assert.equal(cat.missing, 2);
});

function num(p: SideProfile): PreparedNumeric {
  assert.ok(p.type === 'numerical' && p.data !== null);
  return p.data;
}

function column(values: number[]): NumericColumn {
  return { kind: 'numerical', values: Float64Array.from(values), missing: 0, invalid: 0, integerDtype: false };
}

test('owned profiles: compacted and sorted in place, bit-identical to the copying profile', () => {
  const values: number[] = [];
  let x = 0.1;
  for (let i = 0; i < 5000; i++) {
    x = (x * 9301 + 49297) % 233280;
    values.push(i % 97 === 0 ? NaN : i % 89 === 0 ? Infinity : (x / 233280) * 1e6 - 3e5 + 1 / (i + 3));
  }
  const copiedSide = profileColumn(column(values), 'numerical');
  const keptCol = column(values);
  const keptSide = profileColumn(keptCol, 'numerical', { owned: true, inputOrder: true });
  const sortedCol = column(values);
  const sortedSide = profileColumn(sortedCol, 'numerical', { owned: true, inputOrder: false });
  const copied = { data: num(copiedSide) }, kept = { data: num(keptSide) }, sorted = { data: num(sortedSide) };
  for (const p of [kept, sorted]) {
    assert.equal(p.data.n, copied.data.n);
    assert.ok(Object.is(p.data.mean, copied.data.mean));
    assert.ok(Object.is(p.data.std, copied.data.std));
    assert.deepEqual(p.data.sorted, copied.data.sorted);
    assert.deepEqual(p.data.uniqueValues, copied.data.uniqueValues);
    assert.deepEqual(p.data.uniqueCounts, copied.data.uniqueCounts);
  }
  assert.deepEqual(keptSide.summary, copiedSide.summary);
  assert.deepEqual(sortedSide.summary, copiedSide.summary);
  // input order kept: the same values, written over the front of the column itself (no new array)
  assert.deepEqual(kept.data.values, copied.data.values);
  assert.equal(kept.data.values.buffer, keptCol.values.buffer);
  assert.equal(orderedValues(kept.data), kept.data.values);
  // sorted in place: no second array, and the order-reading tests refuse it instead of miscomputing
  assert.equal(sorted.data.sorted.buffer, sortedCol.values.buffer);
  assert.equal(sorted.data.values, sorted.data.sorted);
  assert.throws(() => orderedValues(sorted.data), /input order/);
  assert.throws(() => getStatTest('t_test').compute(copied.data, sorted.data, 'num'), /input order/);
  // every test that does not read input order gives the same numbers on either profile
  const ref = num(profileColumn(column(values.slice(0, 3000).map((v) => v * 1.01)), 'numerical'));
  for (const t of listStatTests()) {
    if (t.inputOrder || !t.kinds.includes('num') || t.name === 'empirical_mmd') continue;
    assert.deepEqual(t.compute(ref, sorted.data, 'num'), t.compute(ref, copied.data, 'num'), t.name);
  }
  // and prepareNumeric itself
  const finite = Float64Array.from(values.filter(Number.isFinite));
  const inPlace = prepareNumeric(Float64Array.from(finite), { sortInPlace: true });
  const copy = prepareNumeric(finite);
  assert.ok(Object.is(inPlace.mean, copy.mean) && Object.is(inPlace.std, copy.std));
  assert.deepEqual(inPlace.sorted, copy.sorted);
  assert.equal(copy.inputOrderDropped, undefined);
});

test('which tests read input order; the task keeps it exactly for them', () => {
  assert.deepEqual(listStatTests().filter((t) => t.inputOrder).map((t) => t.name).sort(), ['TVD', 'empirical_mmd', 'es', 't_test']);
  for (const name of DEFAULT_STATTESTS) assert.equal(getStatTest(name).inputOrder, false, name);
  assert.equal(testNeedsInputOrder('a', {}), false);
  assert.equal(testNeedsInputOrder('a', { stattest: 'ks' }), false);
  assert.equal(testNeedsInputOrder('a', { stattest: 'ks', perColumnStattest: { a: 't_test' } }), true);
  assert.equal(testNeedsInputOrder('b', { stattest: 'es', perColumnStattest: { a: 'ks' } }), true);
  assert.equal(testNeedsInputOrder('a', { stattest: 'no_such_test' }), true);

  const values = Array.from({ length: 3000 }, (_, i) => ((i * 7919) % 1000) / 7 + (i % 5 === 0 ? NaN : 0));
  const refValues = values.map((v, i) => v + (i % 3));
  for (const stattest of ['t_test', 'es', 'wasserstein', 'ks', undefined]) {
    const task = (): ColumnTask => ({
      id: 0,
      name: 'x',
      type: 'numerical',
      text: false,
      reference: { raw: column(refValues) },
      current: column(values),
      options: { stattest },
      prediction: false,
    });
    const viaTask = runColumnTask(task());
    // the copying path: profiles of untouched columns
    const ref = profileColumn(column(refValues), 'numerical');
    const cur = profileColumn(column(values), 'numerical');
    const plain = detectColumnDrift({ name: 'x', reference: ref, current: cur }, { stattest });
    assert.equal(viaTask.error, null);
    assert.ok(viaTask.drift!.error === null, `${stattest}: ${JSON.stringify(viaTask.drift!.error)}`);
    assert.deepEqual(viaTask.drift, plain, String(stattest));
    assert.deepEqual(viaTask.referenceProfile!.data, ref.data);
  }
});
