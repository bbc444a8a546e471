/**
 * perc_text_content_drift and abs_text_content_drift: Evidently's text-column tests. Both train a
 * domain classifier (TF-IDF + L1 linear SGD, modified Huber loss) to tell current from reference
 * documents on a seeded 50/50 split and report its held-out ROC AUC; see `../textdrift.ts` for every
 * step. Evidently's comparisons are strict (`>`) for both.
 */
import { domainClassifierAuc, randomClassifierPercentile } from '../textdrift.ts';
import { StatTestError } from '../types.ts';
import type { FeatureKind, SampleInput, StatTest, StatTestOptions, StatTestResult } from '../types.ts';

/** Documents in input order (the split is positional): a string array or a categorical profile. */
function documents(x: SampleInput, side: string): readonly string[] {
  if (x instanceof Float64Array) throw new StatTestError('wrong_kind', `a text test was given a numerical ${side} sample`);
  if (!Array.isArray(x) && typeof x === 'object' && 'prepared' in x) {
    if (x.prepared === 'cat') return x.values;
    throw new StatTestError('wrong_kind', `a text test was given a numerical ${side} sample`);
  }
  const docs = x as readonly string[];
  if (docs.length === 0) throw new StatTestError('empty_column', `An empty column '${side}' was provided for drift calculation`);
  return docs;
}

function textTest(meta: Omit<StatTest, 'compute' | 'inputOrder'>, verdict: (auc: number, threshold: number, labels: Uint8Array) => boolean): StatTest {
  return {
    ...meta,
    // `inputOrder` is about numerical profiles sorted in place; documents are always read in input order
    inputOrder: false,
    compute(reference: SampleInput, current: SampleInput, _kind: FeatureKind, opts: StatTestOptions = {}): StatTestResult {
      const threshold = opts.threshold ?? meta.defaultThreshold;
      const { rocAuc, testLabels } = domainClassifierAuc(documents(reference, 'reference'), documents(current, 'current'));
      return { statistic: rocAuc, p_value: null, score: rocAuc, drift_detected: verdict(rocAuc, threshold, testLabels) };
    },
  };
}

/**
 * `abs_text_content_drift` — score = ROC AUC of the domain classifier on the held-out half
 * (0.5 = the sides are indistinguishable, 1 = perfectly separable). Drift when **AUC > threshold**
 * (strict), default threshold 0.55. NaN AUC (held-out half from one side only) → no drift.
 * Reference: Evidently `abs_text_content_drift_stat_test` → `calculate_text_drift_score(bootstrap=False)`.
 */
export const absTextContentDrift = textTest(
  { name: 'abs_text_content_drift', displayName: 'Absolute text content drift', kinds: ['text'], defaultThreshold: 0.55, decision: 'distance', inclusive: false },
  (auc, threshold) => auc > threshold,
);

/**
 * `perc_text_content_drift` — same score (domain-classifier ROC AUC); drift when **AUC > P**, strict,
 * where P is the 100·threshold-th percentile (numpy linear; Evidently passes p_value = 1 − threshold
 * and takes the 100·(1 − p_value) percentile, reproduced with the same float operations) of 1000 AUCs
 * of uniformly random scores on the same held-out labels (numpy legacy RNG: `seed(42)`, 1000 seeds
 * `randint(0, 10000)`, each `seed(s); rand(n)`). Default threshold 0.95: the AUC must beat 95 % of
 * random classifiers. The threshold is a percentile level, not an AUC.
 * Reference: Evidently `perc_text_content_drift_stat_test` → `calculate_text_drift_score(bootstrap=True)`.
 */
export const percTextContentDrift = textTest(
  { name: 'perc_text_content_drift', displayName: 'Percentile text content drift', kinds: ['text'], defaultThreshold: 0.95, decision: 'distance', inclusive: false },
  (auc, threshold, labels) => auc > randomClassifierPercentile(labels, 1 - threshold),
);
