import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, decodeProfile, encodeProfile, loadCachedProfile, saveCachedProfile, type ReferenceProfile } from '../../src/io/cache/profile-cache.ts';
import { readLog } from '../../src/io/log/reader.ts';
import { profileColumn, type SideProfile } from '../../src/drift/profile.ts';
import { detectColumnDrift } from '../../src/drift/detect.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function demoProfile(): Promise<ReferenceProfile> {
  const r = await readLog(join(ROOT, 'data/reference.csv'));
  const columns = new Map<string, SideProfile>();
  columns.set('age', profileColumn(r.table.columns.get('age')!, 'numerical'));
  columns.set('occupation', profileColumn(r.table.columns.get('occupation')!, 'categorical'));
  columns.set('education-num', profileColumn(r.table.columns.get('education-num')!, 'categorical'));
  columns.set('sex', profileColumn(r.table.columns.get('sex')!, 'numerical')); // wrong type: no data
  return { path: 'data/reference.csv', rows: r.table.rows, header: r.header, columns };
}

test('encode/decode round trip keeps every array, summary and the dictionary', async () => {
  const profile = await demoProfile();
  const decoded = decodeProfile('k1', encodeProfile('k1', profile))!;
  assert.ok(decoded !== null);
  assert.equal(decoded.rows, profile.rows);
  assert.deepEqual(decoded.header, profile.header);
  for (const [name, side] of profile.columns) {
    const got = decoded.columns.get(name)!;
    assert.deepEqual(got.summary, side.summary, name);
    assert.equal(got.wrongType, side.wrongType);
    if (side.type === 'numerical' && side.data !== null) {
      assert.ok(got.type === 'numerical' && got.data !== null);
      for (const k of ['values', 'sorted', 'uniqueValues', 'uniqueCounts'] as const) assert.deepEqual(Array.from(got.data[k]), Array.from(side.data[k]), `${name}.${k}`);
      assert.equal(got.data.mean, side.data.mean);
      assert.equal(got.data.std, side.data.std);
      assert.equal(got.data.integerDtype, side.data.integerDtype);
    } else if (side.type === 'categorical' && side.data !== null) {
      assert.ok(got.type === 'categorical' && got.data !== null);
      assert.deepEqual(got.data.dictionary, side.data.dictionary);
      assert.deepEqual(Array.from(got.data.counts), Array.from(side.data.counts));
      assert.deepEqual(Array.from(got.data.codes), Array.from(side.data.codes));
    } else {
      assert.equal(got.data, null);
    }
  }
  // Tests give the same numbers from the cached profile as from a fresh one.
  const cur = await readLog(join(ROOT, 'data/current.csv'));
  for (const [name, type] of [['age', 'numerical'], ['occupation', 'categorical']] as const) {
    const current = profileColumn(cur.table.columns.get(name)!, type);
    assert.deepEqual(
      detectColumnDrift({ name, reference: decoded.columns.get(name)!, current }),
      detectColumnDrift({ name, reference: profile.columns.get(name)!, current }),
    );
  }
});

test('a foreign key, a truncated or a garbage file is a miss, never an error', async () => {
  const buf = encodeProfile('k1', await demoProfile());
  assert.equal(decodeProfile('other', buf), null);
  assert.equal(decodeProfile('k1', buf.subarray(0, buf.length - 100)), null);
  assert.equal(decodeProfile('k1', Buffer.from('not a cache file at all')), null);
});

test('save + load through the file system (shared memory), atomically named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cache-'));
  const profile = await demoProfile();
  const path = await saveCachedProfile(dir, 'k2', 'reference-k2.bin', profile);
  assert.equal(path, join(dir, 'reference-k2.bin'));
  const loaded = await loadCachedProfile(dir, 'k2', 'reference-k2.bin');
  assert.ok(loaded !== null);
  const age = loaded.columns.get('age')!;
  assert.ok(age.type === 'numerical' && age.data !== null && age.data.sorted.buffer instanceof SharedArrayBuffer);
  assert.equal(await loadCachedProfile(dir, 'k2', 'absent.bin'), null);
  // A writer killed mid-write leaves a temp file; the next write removes it once it is an hour old.
  const stale = join(dir, '.tmp-reference-k3.bin-123-456');
  const fresh = join(dir, '.tmp-reference-k3.bin-124-457');
  writeFileSync(stale, 'x');
  writeFileSync(fresh, 'x');
  utimesSync(stale, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
  await saveCachedProfile(dir, 'k3', 'reference-k3.bin', profile);
  assert.equal(existsSync(stale), false);
  assert.equal(existsSync(fresh), true);
});

test('the key changes with the file (size, mtime) and with the column plan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cache-key-'));
  const p = join(dir, 'ref.csv');
  writeFileSync(p, 'a,b\n1,2\n');
  const plan = [{ name: 'a', type: 'numerical' as const }];
  const k1 = await cacheKey({ path: p, columns: plan });
  assert.equal((await cacheKey({ path: p, columns: plan })).key, k1.key);
  assert.notEqual((await cacheKey({ path: p, columns: [{ name: 'a', type: 'categorical' }] })).key, k1.key);
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  assert.notEqual((await cacheKey({ path: p, columns: plan })).key, k1.key);
  writeFileSync(p, 'a,b\n1,2\n3,4\n');
  assert.notEqual((await cacheKey({ path: p, columns: plan })).key, k1.key);
});
