/**
 * Large-input smoke test: with both sides profiled once (the O(n log n) sort), every test on the
 * default path and the other O(n) tests run on 1M-row columns and give finite scores. Their speed
 * (typically 1–70 ms each, docs/stattests.md) is measured in bench/, never asserted: wall times on a
 * shared machine say more about the neighbours than about the code.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { getStatTest, prepareSample, selectStatTestFor } from '../../src/stats/index.ts';
import { LegacyRandomState } from '../../src/stats/random.ts';

it('1M vs 1M rows: profile once, then every O(n) test gives a finite score', () => {
  const r = new LegacyRandomState(5);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  const N = 1_000_000;
  const a = new Float64Array(N), b = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    a[i] = Math.round(1e4 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())) / 1e4;
    b[i] = Math.round(1e4 * (0.01 + Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))) / 1e4;
  }
  const pa = prepareSample(a), pb = prepareSample(b);
  assert.equal(selectStatTestFor(pa, pb, 'num'), 'wasserstein');
  for (const name of ['wasserstein', 'ks', 'psi', 'kl_div', 'jensenshannon', 'hellinger', 'ed', 't_test', 'mannw', 'anderson', 'cramer_von_mises', 'es']) {
    const res = getStatTest(name).compute(pa, pb, 'num');
    assert.ok(Number.isFinite(res.score), name);
  }
});
