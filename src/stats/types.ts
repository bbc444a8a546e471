/**
 * The contract between pure statistics (src/stats) and drift detection (src/drift).
 * Statistics import nothing from the rest of the project and do no I/O.
 */

/** Numerical column: finite values only are passed in (missing/NaN/Inf handling follows Evidently upstream). */
export type NumericSample = Float64Array;
/** Categorical column: category labels as strings (missing removed upstream). */
export type CategoricalSample = readonly string[];

export type FeatureKind = 'num' | 'cat';

export interface StatTestResult {
  /** The test statistic (D for KS, chi2, normed Wasserstein distance, PSI value, ...). */
  statistic: number;
  /** p-value for hypothesis tests, null for distances. */
  p_value: number | null;
  /** What Evidently calls the column's drift_score: p-value for tests, the distance otherwise. */
  score: number;
  drift_detected: boolean;
}

export interface StatTestOptions {
  threshold: number;
  /** Evidently-compatible semantics (default true); false gives the documented corrected variant. */
  compat?: boolean;
  /** Number of bins for binned tests (PSI, KL, JS, ...), where the test honours it. */
  nBins?: number;
}

export interface StatTest {
  /** Evidently's registry name: `ks`, `chisquare`, `z`, `wasserstein`, `psi`, ... */
  name: string;
  displayName: string;
  /** Which feature kinds it applies to. */
  kinds: readonly FeatureKind[];
  /** Default threshold as in Evidently. */
  defaultThreshold: number;
  /** `p_value`: drift when p < threshold. `distance`: drift when distance >= threshold. As in Evidently. */
  decision: 'p_value' | 'distance';
  compute(reference: NumericSample | CategoricalSample, current: NumericSample | CategoricalSample, kind: FeatureKind, opts: StatTestOptions): StatTestResult;
}
