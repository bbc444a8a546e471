/**
 * Alarm-mode statistics: multiple-testing corrections against SciPy/statsmodels, chunk thresholds
 * against NannyML (test/fixtures/alarms/golden.json, made by tools/alarms/generate.py; each case
 * records its exact call), and the resampling calibration's null behaviour on seeded data.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  benjaminiHochberg, bonferroni, chunkEvidence, chunksByCount, chunksByPeriod, chunksBySize, evidenceOf, getStatTest,
  minResamples, nullEvidence, prepareSample, quantile, rankThreshold, resampledPValue, spreadThreshold, thresholdFromEvidence,
} from '../../src/stats/index.ts';
import type { PreparedNumeric, StatTest } from '../../src/stats/index.ts';
import { LegacyRandomState } from '../../src/stats/random.ts';

interface MultitestCase {
  name: string;
  p: number[];
  alpha: number;
  scipy_bh: number[];
  scipy_bh_call: string;
  statsmodels_bonferroni: { reject: boolean[]; corrected: number[] };
  statsmodels_bonferroni_call: string;
  statsmodels_fdr_bh: { reject: boolean[]; corrected: number[] };
  statsmodels_fdr_bh_call: string;
}
interface NannyCase {
  name: string;
  method: string;
  call: string;
  values: number[];
  chunk_start: number[];
  chunk_end_inclusive: number[];
  statistic: number[];
  upper_threshold: number;
  lower_threshold: number | null;
}
const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/alarms/golden.json', import.meta.url)), 'utf8')) as {
  multitest: MultitestCase[];
  nannyml_ks: NannyCase[];
  nannyml_period: { call: string; timestamps_ms: number[]; chunk_start: number[]; chunk_end_inclusive: number[] };
};

function closeTo(actual: number, expected: number, what: string, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

describe('multiple-testing control (golden: SciPy / statsmodels)', () => {
  for (const c of golden.multitest) {
    it(`${c.name}: Bonferroni = ${c.statsmodels_bonferroni_call.slice(0, 40)}...`, () => {
      const r = bonferroni(c.p, c.alpha);
      c.statsmodels_bonferroni.corrected.forEach((v, i) => closeTo(r.adjusted[i], v, `adjusted[${i}]`));
      assert.deepEqual(r.reject, c.statsmodels_bonferroni.reject);
      assert.equal(r.m, c.p.length);
    });
    it(`${c.name}: Benjamini–Hochberg = scipy false_discovery_control and statsmodels fdr_bh`, () => {
      const r = benjaminiHochberg(c.p, c.alpha);
      c.scipy_bh.forEach((v, i) => closeTo(r.adjusted[i], v, `adjusted[${i}] vs scipy`));
      c.statsmodels_fdr_bh.corrected.forEach((v, i) => closeTo(r.adjusted[i], v, `adjusted[${i}] vs statsmodels`));
      assert.deepEqual(r.reject, c.statsmodels_fdr_bh.reject);
    });
  }
  it('ignores missing p-values (NaN) and counts only the finite ones in m', () => {
    const r = benjaminiHochberg([0.01, NaN, 0.04], 0.05);
    assert.equal(r.m, 2);
    assert.ok(Number.isNaN(r.adjusted[1]));
    assert.equal(r.reject[1], false);
    assert.deepEqual(r.adjusted.filter(Number.isFinite), [0.02, 0.04]);
  });
  it('refuses p-values outside [0, 1] and a bad alpha', () => {
    assert.throws(() => bonferroni([0.5, 1.5]), /out of \[0, 1\] at index 1/);
    assert.throws(() => benjaminiHochberg([0.5], 0), /alpha must be in/);
  });
});

describe('chunk thresholds (golden: NannyML 0.13.1 UnivariateDriftCalculator on its reference chunks)', () => {
  for (const c of golden.nannyml_ks) {
    it(`${c.name}: same chunks, per-chunk statistic and mean + 3·σ upper threshold`, () => {
      const n = c.values.length;
      const chunks = c.name.includes('count') ? chunksByCount(n, 7) : chunksBySize(n, c.name.includes('700') ? 700 : 500);
      assert.deepEqual(chunks.map((r) => r.start), c.chunk_start);
      assert.deepEqual(chunks.map((r) => r.end - 1), c.chunk_end_inclusive);
      const ref = prepareSample(Float64Array.from(c.values)) as PreparedNumeric;
      // NannyML compares each reference chunk with the whole reference (against: 'all')
      const test = getStatTest(c.method === 'wasserstein' ? 'wasserstein' : 'ks');
      const { statistics } = chunkEvidence(ref, chunks, test, 'num', { against: 'all' });
      // our wasserstein is Evidently's, normed by the reference's population std; NannyML's is not
      const scale = c.method === 'wasserstein' ? ref.std : 1;
      statistics.forEach((d, i) => closeTo(d * scale, c.statistic[i], `chunk ${i} statistic`, 1e-10));
      const t = spreadThreshold(statistics.map((d) => d * scale), { rule: 'std', k: 3 });
      // NannyML clips KS to its limits [0, 1] (the tiny last chunk of the count case pushes it past 1)
      closeTo(c.method === 'wasserstein' ? t.upper : Math.min(1, t.upper), c.upper_threshold, 'upper threshold', 1e-10);
      assert.equal(c.lower_threshold, null, 'NannyML default: no lower threshold');
    });
  }
});

describe('chunk vs rest', () => {
  it('equals testing each chunk against the rest profiled from scratch (numerical and categorical)', () => {
    const x = normals(5, 600);
    const ref = prepareSample(x) as PreparedNumeric;
    const chunks = chunksBySize(600, 100);
    for (const name of ['ks', 'wasserstein', 'psi']) {
      const test = getStatTest(name);
      const fast = chunkEvidence(ref, chunks, test, 'num').values;
      const slow = chunks.map((c) => evidenceOf(test, test.compute(prepareSample(Float64Array.from([...x.subarray(0, c.start), ...x.subarray(c.end)])), prepareSample(x.slice(c.start, c.end)), 'num')));
      fast.forEach((v, i) => closeTo(v, slow[i], `${name} chunk ${i}`, 1e-9));
    }
    const labels = Array.from(x, (v) => (v < -0.5 ? 'low' : v < 0.7 ? 'mid' : 'high'));
    const cat = prepareSample(labels);
    const js = getStatTest('jensenshannon');
    const fastCat = chunkEvidence(cat, chunks, js, 'cat').values;
    chunks.forEach((c, i) => {
      const slow = evidenceOf(js, js.compute(prepareSample([...labels.slice(0, c.start), ...labels.slice(c.end)]), prepareSample(labels.slice(c.start, c.end)), 'cat'));
      closeTo(fastCat[i], slow, `js chunk ${i}`, 1e-9);
    });
  });
});

describe('chunkers', () => {
  it('size: keep, drop and append the incomplete last chunk', () => {
    assert.deepEqual(chunksBySize(10, 4), [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
    assert.deepEqual(chunksBySize(10, 4, 'drop'), [{ start: 0, end: 4 }, { start: 4, end: 8 }]);
    assert.deepEqual(chunksBySize(10, 4, 'append'), [{ start: 0, end: 4 }, { start: 4, end: 10 }]);
    assert.throws(() => chunksBySize(10, 0), /positive whole number/);
  });
  it(`period: daily chunks = ${golden.nannyml_period.call.slice(0, 60)}...`, () => {
    const g = golden.nannyml_period;
    const chunks = chunksByPeriod(g.timestamps_ms, 86_400_000);
    assert.deepEqual(chunks.map((r) => r.start), g.chunk_start);
    assert.deepEqual(chunks.map((r) => r.end - 1), g.chunk_end_inclusive);
  });
  it('period: rows grouped by UTC day, in time order', () => {
    const day = 86_400_000;
    const t = [0, 1000, day + 5, day + 6, 3 * day, 3 * day + 1];
    assert.deepEqual(chunksByPeriod(t, day), [{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 6 }]);
    assert.throws(() => chunksByPeriod([day, 0], day), /not in time order at row 1/);
  });
});

describe('thresholds from a spread, evidence scale', () => {
  it('mean ± k·σ uses the population σ; quantile is numpy linear', () => {
    const t = spreadThreshold([1, 2, 3, 4], { rule: 'std', k: 3 });
    closeTo(t.std, Math.sqrt(1.25), 'std');
    closeTo(t.upper, 2.5 + 3 * Math.sqrt(1.25), 'upper');
    // np.quantile([1, 2, 3, 4], 0.9) == 3.7
    closeTo(quantile([4, 1, 3, 2], 0.9), 3.7, 'q90');
    assert.throws(() => spreadThreshold([NaN], { rule: 'std', k: 3 }), /no finite calibration values/);
  });
  it('p-value tests are calibrated on −log10 p and mapped back to a p-value threshold', () => {
    const ks = getStatTest('ks');
    assert.equal(evidenceOf(ks, { statistic: 0.1, p_value: 0.001, score: 0.001, drift_detected: true }), 3);
    closeTo(thresholdFromEvidence(ks, 3), 0.001, 'p threshold');
    const w = getStatTest('wasserstein');
    assert.equal(thresholdFromEvidence(w, 0.07), 0.07);
  });
  it('resampled p-value is (1 + #null ≥ observed) / (B + 1)', () => {
    assert.equal(resampledPValue([0.1, 0.2, 0.3, 0.4], 0.25), 3 / 5);
    assert.equal(resampledPValue([0.1, 0.2, 0.3, 0.4], 9), 1 / 5);
  });
});

describe('rank rule of a resampling test', () => {
  it('threshold = the K-th largest null value, K = ⌊a·(B + 1)⌋; drift above it ⇔ resampled p ≤ a', () => {
    const nulls = Array.from({ length: 19 }, (_, i) => i + 1); // 1..19, B = 19
    assert.equal(rankThreshold(nulls, 0.1), 18); // K = 2
    assert.equal(resampledPValue(nulls, 18.5), 2 / 20); // ≤ 0.1: drift
    assert.equal(resampledPValue(nulls, 18), 3 / 20); // not above the threshold: no drift
    assert.equal(rankThreshold(nulls, 0.05), 19, 'K = 1: above every null value');
    assert.equal(rankThreshold(nulls, 0.04), Infinity, 'B + 1 = 20 < 1/a: level unreachable');
    assert.equal(rankThreshold([3, NaN, 1, 2], 0.5), 2, 'NaN values are left out (B = 3, K = 2)');
    // equivalence on seeded data, ties included
    const r = new LegacyRandomState(5);
    const v = Array.from({ length: 499 }, () => r.interval(40) / 10);
    for (const a of [0.05 / 14, 0.01, 0.05]) {
      const t = rankThreshold(v, a);
      for (let e = 0; e <= 4.05; e += 0.05) assert.equal(e > t, resampledPValue(v, e) <= a, `a=${a} e=${e}`);
    }
  });
  it('fewest resamples for level a: B + 1 ≥ 1/a', () => {
    assert.equal(minResamples(0.05 / 14), 279);
    assert.equal(minResamples(0.05), 19);
    assert.equal(rankThreshold(Array.from({ length: 279 }, (_, i) => i), 0.05 / 14), 278);
    assert.equal(rankThreshold(Array.from({ length: 278 }, (_, i) => i), 0.05 / 14), Infinity);
  });
  it('holds level a on exchangeable data for any B, where the interpolated quantile does not', () => {
    // B = 99 uniform null values and one more from the same law, 20 000 times: the new value exceeds the
    // rank threshold with probability K/(B + 1) = 5/100 at a = 0.05, and numpy's linear 0.95 quantile
    // with probability (B(1 − q) + q)/(B + 1) = 5.9/100.
    const r = new LegacyRandomState(8);
    let rank = 0;
    let interp = 0;
    const T = 20_000;
    for (let t = 0; t < T; t++) {
      const v = Array.from({ length: 99 }, () => r.nextUint32());
      const x = r.nextUint32();
      if (x > rankThreshold(v, 0.05)) rank++;
      if (x > quantile(v, 0.95)) interp++;
    }
    // binomial sd at 20 000 draws ≈ 0.15 %
    assert.ok(Math.abs(rank / T - 0.05) < 0.005, `rank rule: ${rank / T}`);
    assert.ok(Math.abs(interp / T - 0.059) < 0.005, `interpolated quantile: ${interp / T}`);
  });
});

function normals(seed: number, n: number, mu = 0, sd = 1): Float64Array {
  const r = new LegacyRandomState(seed);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  return Float64Array.from({ length: n }, () => mu + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('resampling calibration (seeded)', () => {
  const ref = prepareSample(normals(1, 2000)) as PreparedNumeric;
  const w = getStatTest('wasserstein');
  it('is reproducible for a seed and differs across seeds', () => {
    const a = nullEvidence(ref, w, 'num', { method: 'bootstrap', currentSize: 300, iterations: 50, seed: 3 });
    const b = nullEvidence(ref, w, 'num', { method: 'bootstrap', currentSize: 300, iterations: 50, seed: 3 });
    const c = nullEvidence(ref, w, 'num', { method: 'bootstrap', currentSize: 300, iterations: 50, seed: 4 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(a.length, 50);
  });
  it('null quantile shrinks with the window size (≈ 1/√n) and holds the false-alarm rate on fresh null samples', () => {
    const t100 = quantile(nullEvidence(ref, w, 'num', { method: 'bootstrap', currentSize: 100, iterations: 200, seed: 0 }), 0.95);
    const t1000 = quantile(nullEvidence(ref, w, 'num', { method: 'bootstrap', currentSize: 1000, iterations: 200, seed: 0 }), 0.95);
    assert.ok(t1000 < t100 * 0.6, `${t1000} vs ${t100}`);
    // fresh samples from the same N(0, 1): about 5 % exceed the 95 % threshold (binomial 200 draws: allow 0–12 %)
    let alarms = 0;
    for (let s = 0; s < 200; s++) {
      const cur = prepareSample(normals(1000 + s, 100));
      if (evidenceOf(w, w.compute(ref, cur, 'num')) >= t100) alarms++;
    }
    assert.ok(alarms <= 24, `false alarms ${alarms}/200`);
    // and a 1σ mean shift is always caught
    const shifted = prepareSample(normals(77, 100, 1));
    assert.ok(evidenceOf(w, w.compute(ref, shifted, 'num')) > t100);
  });
  it('subsample splits the reference without replacement: sizes N − n and n, no value on both sides', () => {
    const values = Float64Array.from({ length: 50 }, (_, i) => i * 1.5);
    const seen: string[] = [];
    const probe: StatTest = {
      ...getStatTest('wasserstein'),
      compute(r, c) {
        const a = [...(r as PreparedNumeric).sorted];
        const b = [...(c as PreparedNumeric).sorted];
        assert.equal(a.length, 40);
        assert.equal(b.length, 10);
        assert.deepEqual([...a, ...b].sort((x, y) => x - y), [...values], 'together: the reference, each value once');
        seen.push(b.join(','));
        return { statistic: 0, p_value: null, score: 0, drift_detected: false };
      },
    };
    const ref = prepareSample(values) as PreparedNumeric;
    nullEvidence(ref, probe, 'num', { method: 'subsample', currentSize: 10, iterations: 20, seed: 4 });
    assert.equal(new Set(seen).size, 20, 'a new split each time');
    assert.throws(() => nullEvidence(ref, probe, 'num', { method: 'subsample', currentSize: 50 }), /subsample size must be in \(0, 50\) \(got 50\)/);
  });
  it('permutation pools reference and current; categorical draws keep the category set', () => {
    const cur = prepareSample(normals(9, 150)) as PreparedNumeric;
    const v = nullEvidence(ref, getStatTest('ks'), 'num', { method: 'permutation', current: cur, iterations: 30, seed: 1 });
    assert.equal(v.length, 30);
    assert.ok(v.every((x) => x >= 0 && Number.isFinite(x)));
    const cat = prepareSample(Array.from({ length: 1000 }, (_, i) => ['a', 'b', 'c'][i % 3]));
    const js = getStatTest('jensenshannon');
    const nv = nullEvidence(cat, js, 'cat', { method: 'bootstrap', currentSize: 200, iterations: 40, seed: 2 });
    assert.equal(nv.length, 40);
    assert.ok(quantile(nv, 0.5) > 0 && quantile(nv, 0.99) < 0.2);
  });
});
