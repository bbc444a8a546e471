/**
 * Unit tests of the statistics: identity cases (same sample → no drift), seeded random data, the
 * documented corrected variants (checked against SciPy values in the golden fixture), the default
 * selection table, the missing-value rule, profiles vs raw samples, and the numeric building blocks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cleanCategorical, cleanNumeric, getStatTest, listStatTests, prepareNumeric, prepareSample, resolveStatTest, selectStatTest,
  selectStatTestFor, StatTestError,
} from '../../src/stats/index.ts';
import type { PreparedNumeric, StatTestResult } from '../../src/stats/index.ts';
import { LegacyRandomState, seededUniform } from '../../src/stats/random.ts';
import { kthOfTwoSorted } from '../../src/stats/tests/other.ts';
import { ksStatistic, ksStatisticOf } from '../../src/stats/tests/ks.ts';
import { linspace, sturgesEdges } from '../../src/stats/binning.ts';
import { close, decodeNumber, loadGolden } from './golden.ts';

/** Deterministic generator for test data (seeded numpy-compatible MT19937 + Box–Muller). */
function rng(seed: number): { normal: (mu?: number, sd?: number) => number; int: (n: number) => number } {
  const r = new LegacyRandomState(seed);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  return {
    normal: (mu = 0, sd = 1) => mu + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
    int: (n) => r.interval(n - 1),
  };
}
function normals(seed: number, n: number, mu = 0, sd = 1): Float64Array {
  const g = rng(seed);
  return Float64Array.from({ length: n }, () => g.normal(mu, sd));
}
function labels(seed: number, n: number, cats: string[], weights: number[]): string[] {
  const g = rng(seed);
  const cum = weights.map((_, i) => weights.slice(0, i + 1).reduce((a, b) => a + b, 0));
  return Array.from({ length: n }, () => { const x = g.int(1_000_000) / 1_000_000; return cats[cum.findIndex((c) => x < c)] ?? cats[cats.length - 1]; });
}

const NUM_TESTS = ['anderson', 'cramer_von_mises', 'ed', 'es', 'empirical_mmd', 'hellinger', 'jensenshannon', 'kl_div', 'ks', 'mannw', 'psi', 't_test', 'wasserstein'];
const CAT_TESTS = ['chisquare', 'fisher_exact', 'g_test', 'hellinger', 'jensenshannon', 'kl_div', 'psi', 'TVD', 'z'];

describe('registry', () => {
  it('lists every Evidently univariate test with its default threshold and direction', () => {
    const got = Object.fromEntries(listStatTests().map((t) => [t.name, [t.defaultThreshold, t.decision, t.inclusive]]));
    assert.deepEqual(got, {
      TVD: [0.1, 'p_value', false], anderson: [0.1, 'p_value', false], chisquare: [0.05, 'p_value', false],
      cramer_von_mises: [0.1, 'p_value', true], ed: [0.1, 'distance', false], empirical_mmd: [0.1, 'p_value', false],
      es: [0.05, 'p_value', false], fisher_exact: [0.1, 'p_value', false], g_test: [0.1, 'p_value', false],
      hellinger: [0.1, 'distance', true], jensenshannon: [0.1, 'distance', true], kl_div: [0.1, 'distance', true],
      ks: [0.05, 'p_value', true], mannw: [0.05, 'p_value', false], psi: [0.1, 'distance', true],
      t_test: [0.05, 'p_value', false], wasserstein: [0.1, 'distance', true], z: [0.05, 'p_value', false],
      abs_text_content_drift: [0.55, 'distance', false], perc_text_content_drift: [0.95, 'distance', false],
    });
  });
  it('refuses unknown names and kinds Evidently refuses', () => {
    assert.throws(() => getStatTest('nope'), (e: unknown) => e instanceof StatTestError && e.code === 'unknown_stattest');
    assert.throws(() => resolveStatTest('chisquare', 'num'), (e: unknown) => e instanceof StatTestError && e.code === 'invalid_feature_type');
    assert.throws(() => resolveStatTest('ks', 'cat'), StatTestError);
    assert.equal(resolveStatTest('psi', 'num').name, 'psi');
  });
});

describe('default selection (Evidently _get_default_stattest)', () => {
  const table: [Parameters<typeof selectStatTest>[0], string][] = [
    [{ kind: 'num', referenceSize: 1000, nUnique: 1 }, 'z'],
    [{ kind: 'num', referenceSize: 1000, nUnique: 2 }, 'z'],
    [{ kind: 'num', referenceSize: 1000, nUnique: 3 }, 'chisquare'],
    [{ kind: 'num', referenceSize: 1000, nUnique: 5 }, 'chisquare'],
    [{ kind: 'num', referenceSize: 1000, nUnique: 6 }, 'ks'],
    [{ kind: 'cat', referenceSize: 10, nUnique: 2 }, 'z'],
    [{ kind: 'cat', referenceSize: 10, nUnique: 3 }, 'chisquare'],
    [{ kind: 'num', referenceSize: 1001, nUnique: 5 }, 'jensenshannon'],
    [{ kind: 'num', referenceSize: 1001, nUnique: 6 }, 'wasserstein'],
    [{ kind: 'cat', referenceSize: 1001, nUnique: 2 }, 'jensenshannon'],
  ];
  for (const [input, name] of table) it(`${JSON.stringify(input)} → ${name}`, () => assert.equal(selectStatTest(input), name));
  it('counts distinct values over reference ∪ current', () => {
    const ref = prepareSample(Float64Array.from([1, 2, 3, 1, 2]));
    const cur = prepareSample(Float64Array.from([4, 5, 6]));
    assert.equal(selectStatTestFor(ref, cur, 'num'), 'ks'); // 6 distinct in the union
    assert.equal(selectStatTestFor(Float64Array.from([1, 2]), Float64Array.from([2, 3]), 'num'), 'chisquare');
    assert.equal(selectStatTestFor(['a', 'b'], ['a'], 'cat'), 'z');
  });
});

describe("Evidently's missing-value rule", () => {
  it('drops NaN, +Inf and -Inf per side and keeps order', () => {
    assert.deepEqual(Array.from(cleanNumeric([1, Number.NaN, Infinity, 2, -Infinity, 3])), [1, 2, 3]);
    const clean = Float64Array.from([1, 2]);
    assert.equal(cleanNumeric(clean), clean, 'no copy when nothing is dropped');
  });
  it('raises on an empty side, like Evidently', () => {
    assert.throws(() => cleanNumeric([Number.NaN, Infinity], 'current'), (e: unknown) => e instanceof StatTestError && e.code === 'empty_column');
    assert.throws(() => cleanCategorical([null, undefined]), StatTestError);
    assert.deepEqual(cleanCategorical(['a', null, 'b']), ['a', 'b']);
  });
});

describe('identity: the same sample never drifts', () => {
  const x = normals(1, 400);
  for (const name of NUM_TESTS) {
    it(`${name} (numerical)`, () => {
      const r: StatTestResult = getStatTest(name).compute(x, x, 'num');
      assert.equal(r.drift_detected, false, JSON.stringify(r));
      // hellinger = sqrt(1 − BC): a BC one ulp-ish below 1 gives ~1e-8 (Evidently computes the same)
      if (getStatTest(name).decision === 'distance') assert.ok(Math.abs(r.score) < (name === 'hellinger' ? 1e-7 : 1e-12), `distance ${r.score}`);
    });
  }
  const c = labels(2, 400, ['a', 'b'], [0.4, 0.6]);
  for (const name of CAT_TESTS) {
    it(`${name} (categorical)`, () => {
      const r = getStatTest(name).compute(c, c, 'cat');
      assert.equal(r.drift_detected, false, JSON.stringify(r));
    });
  }
});

describe('seeded random data: a large shift is detected, the same distribution is not', () => {
  const ref = normals(11, 800), same = normals(12, 700), shifted = normals(13, 700, 0.8, 1);
  for (const name of NUM_TESTS) {
    it(name, () => {
      const t = getStatTest(name);
      assert.equal(t.compute(ref, shifted, 'num').drift_detected, true, `${name} misses a 0.8 sd shift`);
      if (name !== 'ed' && name !== 'wasserstein' && name !== 'hellinger' && name !== 'kl_div' && name !== 'psi' && name !== 'jensenshannon') {
        assert.equal(t.compute(ref, same, 'num').drift_detected, false, `${name} flags the same distribution`);
      }
    });
  }
  const cr = labels(21, 600, ['a', 'b', 'c'], [0.5, 0.3, 0.2]);
  const cs = labels(22, 600, ['a', 'b', 'c'], [0.5, 0.3, 0.2]);
  const cd = labels(23, 600, ['a', 'b', 'c'], [0.2, 0.3, 0.5]);
  for (const name of ['chisquare', 'g_test', 'hellinger', 'jensenshannon', 'kl_div', 'psi', 'TVD', 'z']) {
    it(`${name} (categorical)`, () => {
      const t = getStatTest(name);
      assert.equal(t.compute(cr, cd, 'cat').drift_detected, true);
      // Evidently's chisquare / g_test treat the reference as the true distribution (goodness of fit),
      // which inflates false alarms between two samples; the no-drift check uses the corrected test.
      const compat = name !== 'chisquare' && name !== 'g_test';
      assert.equal(t.compute(cr, cs, 'cat', { compat }).drift_detected, false);
    });
  }
});

describe('profiles: prepared samples give the same numbers as raw ones', () => {
  const a = normals(31, 700), b = normals(32, 600, 0.1, 1.1);
  const pa = prepareSample(a), pb = prepareSample(b);
  for (const t of listStatTests()) {
    if (!t.kinds.includes('num')) continue;
    it(t.name, () => assert.deepEqual(t.compute(pa, pb, 'num'), t.compute(a, b, 'num')));
  }
  it('categorical profiles', () => {
    const x = labels(33, 500, ['u', 'v', 'w'], [0.2, 0.3, 0.5]), y = labels(34, 400, ['u', 'v', 'w', 'z'], [0.2, 0.3, 0.4, 0.1]);
    for (const name of CAT_TESTS.filter((n) => n !== 'fisher_exact' && n !== 'g_test')) {
      assert.deepEqual(getStatTest(name).compute(prepareSample(x), prepareSample(y), 'cat'), getStatTest(name).compute(x, y, 'cat'), name);
    }
  });
});

describe('compat: false — the documented corrected variants, against SciPy', () => {
  const golden = loadGolden() as ReturnType<typeof loadGolden> & { corrected: { name: string; stattest: string; kind: 'num' | 'cat'; reference: string; current: string; score: number }[] };
  for (const c of golden.corrected) {
    it(`${c.name}`, () => {
      const ref = c.kind === 'num' ? Float64Array.from(golden.data[c.reference].map(decodeNumber)) : (golden.data[c.reference] as string[]);
      const cur = c.kind === 'num' ? Float64Array.from(golden.data[c.current].map(decodeNumber)) : (golden.data[c.current] as string[]);
      const r = getStatTest(c.stattest).compute(ref, cur, c.kind, { compat: false });
      close(r.score, c.score, `${c.stattest} corrected`);
    });
  }
  it('mannw: compat is one-sided (blind to a downward shift), corrected is two-sided', () => {
    const ref = normals(41, 300), down = normals(42, 300, -0.5, 1);
    assert.equal(getStatTest('mannw').compute(ref, down, 'num').drift_detected, false);
    assert.equal(getStatTest('mannw').compute(ref, down, 'num', { compat: false }).drift_detected, true);
  });
  it('g_test: compat refuses unequal sizes like Evidently, corrected runs', () => {
    const a = labels(43, 300, ['a', 'b'], [0.5, 0.5]), b = labels(44, 200, ['a', 'b'], [0.5, 0.5]);
    assert.throws(() => getStatTest('g_test').compute(a, b, 'cat'), (e: unknown) => e instanceof StatTestError && e.code === 'unequal_sizes');
    assert.ok(getStatTest('g_test').compute(a, b, 'cat', { compat: false }).score > 0.01);
  });
  it('psi / kl_div / jensenshannon honour nBins only when compat is false', () => {
    const a = normals(45, 3000), b = normals(46, 3000, 0.2, 1);
    const sturges = getStatTest('psi').compute(a, b, 'num', { nBins: 10 });
    assert.deepEqual(sturges, getStatTest('psi').compute(a, b, 'num'), 'compat ignores nBins like Evidently');
    const q10 = getStatTest('psi').compute(a, b, 'num', { compat: false, nBins: 10 });
    assert.notEqual(q10.score, sturges.score);
    assert.ok(q10.score > 0 && q10.score < 1);
  });
  it('jensenshannon: natural log in compat (max sqrt(ln 2)), base 2 corrected (max 1)', () => {
    const r1 = getStatTest('jensenshannon').compute(['a', 'a'], ['b', 'b'], 'cat');
    const r2 = getStatTest('jensenshannon').compute(['a', 'a'], ['b', 'b'], 'cat', { compat: false });
    close(r1.score, Math.sqrt(Math.LN2), 'compat maximum');
    close(r2.score, 1, 'corrected maximum');
  });
});

describe('building blocks', () => {
  it("numpy's legacy MT19937 stream and permutation", () => {
    const r = new LegacyRandomState(0);
    assert.deepEqual([r.nextUint32(), r.nextUint32()], [2357136044, 2546248239]);
    assert.deepEqual(Array.from(new LegacyRandomState(0).permutation(10)), [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
  });
  it('k-th order statistic of two sorted arrays', () => {
    for (let s = 0; s < 30; s++) {
      const g = rng(100 + s);
      const a = Float64Array.from({ length: g.int(20) }, () => g.int(15)).sort();
      const b = Float64Array.from({ length: g.int(20) + 1 }, () => g.int(15)).sort();
      const all = Float64Array.from([...a, ...b]).sort();
      for (let k = 0; k < all.length; k++) assert.equal(kthOfTwoSorted(a, b, k), all[k]);
    }
  });
  it('KS statistic on ties and disjoint samples', () => {
    assert.equal(ksStatistic(Float64Array.from([1, 2, 3]), Float64Array.from([4, 5])), 1);
    assert.equal(ksStatistic(Float64Array.from([1, 1, 2]), Float64Array.from([1, 1, 2])), 0);
    // From distinct values and counts: the same D as the walk over the sorted samples (ties, -0, seeded data).
    const rand = seededUniform(5);
    for (let k = 0; k < 50; k++) {
      const x = Float64Array.from({ length: 1 + Math.floor(rand() * 60) }, () => Math.round(rand() * 8) - 4 || (rand() < 0.5 ? -0 : 0));
      const y = Float64Array.from({ length: 1 + Math.floor(rand() * 60) }, () => Math.round(rand() * 10) - 3);
      const px = prepareNumeric(x), py = prepareNumeric(y);
      assert.equal(ksStatisticOf(px, py), ksStatistic(px.sorted, py.sorted), `case ${k}`);
    }
  });
  it("numpy linspace / Sturges edges (incl. integer dtype and constant data)", () => {
    assert.deepEqual(Array.from(linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(Array.from(sturgesEdges(8, 3, 3, false)), [2.5, 3.5]);
    assert.equal(sturgesEdges(1024, 0, 5, true).length - 1, 5, 'width floored at 1 for integers');
    assert.equal(sturgesEdges(1024, 0, 5, false).length - 1, 11);
  });
  it('reference profile: sorted copy, moments, run lengths', () => {
    const p = prepareSample(Float64Array.from([3, 1, 2, 2])) as PreparedNumeric;
    assert.deepEqual(Array.from(p.sorted), [1, 2, 2, 3]);
    assert.deepEqual(Array.from(p.uniqueValues), [1, 2, 3]);
    assert.deepEqual(Array.from(p.uniqueCounts), [1, 2, 1]);
    assert.equal(p.mean, 2);
    close(p.std, Math.sqrt(0.5), 'population std');
  });
});
