import type { FeatureKind, SampleInput, StatTest, StatTestOptions, StatTestResult } from './types.ts';

/** A StatTest's description (see `StatTest` for each field) plus the computation. */
export interface StatTestSpec extends Omit<StatTest, 'compute' | 'inputOrder'> {
  /** See `StatTest.inputOrder`; default false. */
  inputOrder?: boolean;
  /** Returns the statistic and the score (p-value or distance); the verdict is derived here. */
  run(reference: SampleInput, current: SampleInput, kind: FeatureKind, opts: StatTestOptions): { statistic: number; score: number };
}

/** Build a StatTest whose verdict follows Evidently's comparison for that test. */
export function defineStatTest(spec: StatTestSpec): StatTest {
  const { run, ...meta } = spec;
  return {
    ...meta,
    inputOrder: spec.inputOrder ?? false,
    compute(reference, current, kind, opts = {}): StatTestResult {
      const threshold = opts.threshold ?? spec.defaultThreshold;
      const { statistic, score } = run(reference, current, kind, opts);
      let drift: boolean;
      if (spec.decision === 'p_value') drift = spec.inclusive ? score <= threshold : score < threshold;
      else drift = spec.inclusive ? score >= threshold : score > threshold;
      return { statistic, p_value: spec.decision === 'p_value' ? score : null, score, drift_detected: drift };
    },
  };
}

/** numpy.round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
