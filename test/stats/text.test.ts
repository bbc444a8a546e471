/**
 * perc_text_content_drift / abs_text_content_drift: parity with Evidently on the `text_cases` of
 * test/fixtures/evidently/golden.json (tools/parity/generate.py), plus the building blocks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanCategorical, getStatTest, prepareSample, resolveStatTest, StatTestError } from '../../src/stats/index.ts';
import { analyze, domainClassifierAuc, percentileLinear, randomClassifierPercentile, rocAuc } from '../../src/stats/textdrift.ts';
import { logRn } from '../../src/stats/crlog.ts';
import { close, decodeNumber, loadGolden } from './golden.ts';

interface TextCase {
  name: string; note: string; stattest: string; threshold_requested: number | null; threshold: number;
  reference: string; current: string; error?: string;
  drift_score?: number | string; drift_detected?: boolean; random_percentile?: number | string;
}

const golden = loadGolden() as ReturnType<typeof loadGolden> & { text_cases: TextCase[] };

describe('text content drift: parity with Evidently', () => {
  it('has at least 6 datasets for each test', () => {
    for (const name of ['perc_text_content_drift', 'abs_text_content_drift']) {
      const datasets = new Set(golden.text_cases.filter((c) => c.stattest === name).map((c) => c.reference + c.current));
      assert.ok(datasets.size >= 6, `${name}: ${datasets.size} datasets`);
    }
  });
  for (const c of golden.text_cases) {
    it(`${c.name} — ${c.note}`, () => {
      const ref = cleanCategorical(golden.data[c.reference] as string[], 'reference');
      const cur = cleanCategorical(golden.data[c.current] as string[], 'current');
      const test = resolveStatTest(c.stattest, 'text');
      const opts = c.threshold_requested === null ? {} : { threshold: c.threshold_requested };
      assert.equal(c.threshold_requested ?? test.defaultThreshold, c.threshold, 'threshold');
      if (c.error !== undefined) {
        assert.throws(() => test.compute(ref, cur, 'text', opts), (e: unknown) => e instanceof StatTestError && e.code === 'evidently_failure', `Evidently raised: ${c.error}`);
        return;
      }
      const r = test.compute(ref, cur, 'text', opts);
      close(r.score, decodeNumber(c.drift_score!), 'drift score (ROC AUC)');
      assert.equal(r.statistic, r.score);
      assert.equal(r.p_value, null);
      assert.equal(r.drift_detected, c.drift_detected, 'drift verdict');
      // profiles (categorical, input order) give the same result as raw arrays
      assert.deepEqual(test.compute(prepareSample(ref), prepareSample(cur), 'text', opts), r);
      if (c.random_percentile !== undefined) {
        const { testLabels } = domainClassifierAuc(ref, cur);
        close(randomClassifierPercentile(testLabels, 1 - c.threshold), decodeNumber(c.random_percentile), 'random-classifier percentile');
      }
    });
  }
});

describe('text content drift: behaviour', () => {
  const docs = ['the cat sat on the mat', 'a dog barked at the mailman', 'cats and dogs are pets', 'my cat likes fish', 'the dog runs fast', 'fish swim in the sea', 'birds fly south', 'a bird sang loudly'];
  it('identical corpora are not drift (abs: AUC ≤ 0.55; perc: AUC ≤ the random percentile)', () => {
    const ref = [...docs, ...docs, ...docs];
    for (const name of ['abs_text_content_drift', 'perc_text_content_drift']) {
      const r = getStatTest(name).compute(ref, [...ref], 'text');
      assert.equal(r.drift_detected, false, name);
    }
  });
  it('registry: defaults, strict comparison, text kind only', () => {
    const abs = getStatTest('abs_text_content_drift'), perc = getStatTest('perc_text_content_drift');
    assert.deepEqual([abs.defaultThreshold, abs.decision, abs.inclusive, abs.kinds], [0.55, 'distance', false, ['text']]);
    assert.deepEqual([perc.defaultThreshold, perc.decision, perc.inclusive, perc.kinds], [0.95, 'distance', false, ['text']]);
    assert.throws(() => resolveStatTest('abs_text_content_drift', 'num'), (e: unknown) => e instanceof StatTestError && e.code === 'invalid_feature_type');
    assert.throws(() => resolveStatTest('ks', 'text'), (e: unknown) => e instanceof StatTestError && e.code === 'invalid_feature_type');
    assert.throws(() => abs.compute(new Float64Array([1, 2]), new Float64Array([3]), 'text'), (e: unknown) => e instanceof StatTestError && e.code === 'wrong_kind');
  });
  it('one document per side: the training half has one class → evidently_failure', () => {
    assert.throws(() => getStatTest('abs_text_content_drift').compute(['apple pie'], ['banana split'], 'text'), StatTestError);
  });
  it('tokeniser: lower case, ≥ 2 word characters, English stop words dropped', () => {
    assert.deepEqual(analyze("The Café's x_y, a1 b 42 AND don't!"), ['café', 'x_y', 'a1', '42', 'don']);
  });
  it('ROC AUC counts ties as ½ (Mann–Whitney form) and is NaN with one class', () => {
    const labels = Uint8Array.from([0, 1, 0, 1, 1, 0, 0, 1, 0, 1]);
    const scores = Float64Array.from([0.1, 0.9, 0.5, 0.5, 0.7, 0.7, 0.2, 0.2, 0.3, 1]);
    let s = 0, np = 0, nn = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]) np++; else nn++;
      for (let j = 0; j < labels.length; j++) if (labels[i] === 1 && labels[j] === 0) s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
    close(rocAuc(labels, scores), s / (np * nn), 'auc');
    assert.ok(Number.isNaN(rocAuc(Uint8Array.from([1, 1]), Float64Array.from([0.2, 0.4]))));
  });
  it('numpy linear percentile', () => {
    const v = Float64Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
    assert.equal(percentileLinear(v, 95), 7.949999999999998); // numpy: np.percentile([3, 1, 4, 1, 5, 9, 2, 6], 95)
    assert.equal(percentileLinear(v, 100), 9);
    assert.equal(percentileLinear(v, 0), 1);
  });
  it('logRn is correctly rounded where Math.log is not', () => {
    // ln(3) = 1.0986122886681097821…, ln(10) = 2.302585092994045684…
    assert.equal(logRn(3), 1.0986122886681098);
    assert.equal(logRn(10), 2.302585092994046);
    assert.equal(logRn(1), 0);
    for (let k = 2; k < 2000; k++) assert.ok(Math.abs(logRn(k) - Math.log(k)) <= 4.5e-16 * Math.log(k), `k=${k}`);
  });
});
