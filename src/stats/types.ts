/**
 * The contract between pure statistics (src/stats) and drift detection (src/drift).
 * Statistics import nothing from the rest of the project and do no I/O.
 */

/** Numerical column: finite values only are passed in (see `cleanNumeric`, Evidently's missing-value rule). */
export type NumericSample = Float64Array;
/** Categorical column: category labels as strings (missing removed upstream, see `cleanCategorical`). */
export type CategoricalSample = readonly string[];

/** `text`: free-text column (documents as strings), accepted only by the two text-content tests. */
export type FeatureKind = 'num' | 'cat' | 'text';

/**
 * A sample profiled once (sorted copy, moments, category counts) so that repeated tests — every
 * stattest of a run, and later runs against the same cached reference — skip the O(n log n) work.
 * Build with `prepareSample`; every `StatTest.compute` accepts it in place of a raw sample, for the
 * reference and for the current side alike. Treat as immutable.
 */
export interface PreparedNumeric {
  readonly prepared: 'num';
  /**
   * Values in input order (read only by the tests whose `StatTest.inputOrder` is true: t_test, es,
   * empirical_mmd, TVD). When the profile was built with `sortInPlace` this is the same array as
   * `sorted` and `inputOrderDropped` is true; those tests then refuse the sample (`orderedValues`).
   */
  readonly values: Float64Array;
  /** Set when `values` is not in input order (built with `prepareNumeric(..., { sortInPlace: true })`). */
  readonly inputOrderDropped?: boolean;
  /** Ascending copy. */
  readonly sorted: Float64Array;
  readonly n: number;
  /** Mean and population standard deviation (numpy `np.std`, ddof 0). */
  readonly mean: number;
  readonly std: number;
  /** Distinct values, ascending, and how often each occurs (run lengths of `sorted`). */
  readonly uniqueValues: Float64Array;
  readonly uniqueCounts: Float64Array;
  /**
   * Whether pandas would hold this column as an integer dtype (all values integral and the raw column
   * had no missing values). Only numpy's histogram bin-width rule depends on it; see `StatTestOptions.integerDtype`.
   */
  readonly integerDtype: boolean;
}

export interface PreparedCategorical {
  readonly prepared: 'cat';
  /** Labels in input order (needed only by the TVD permutation test). */
  readonly values: CategoricalSample;
  readonly n: number;
  /** Count per label, in first-seen order. */
  readonly counts: ReadonlyMap<string, number>;
}

export type PreparedSample = PreparedNumeric | PreparedCategorical;

/** Anything a test accepts on either side. */
export type SampleInput = NumericSample | CategoricalSample | PreparedSample;

export interface StatTestResult {
  /** The test statistic (D for KS, chi2, z, U, normed Wasserstein distance, PSI value, ...). */
  statistic: number;
  /** p-value for hypothesis tests, null for distances. */
  p_value: number | null;
  /** What Evidently calls the column's drift_score: p-value for tests, the distance otherwise. */
  score: number;
  drift_detected: boolean;
}

export interface StatTestOptions {
  /** Defaults to the test's `defaultThreshold` (Evidently's). */
  threshold?: number;
  /** Evidently-compatible semantics (default true); false gives the documented corrected variant. */
  compat?: boolean;
  /**
   * Number of bins for binned tests (PSI, KL, JS). Evidently ignores it (always Sturges bins on the
   * pooled data); honoured only with `compat: false`, where it selects reference-quantile bins.
   */
  nBins?: number;
  /**
   * The column is an integer dtype in pandas terms (parsed as integers, no missing values on that
   * side of the data before cleaning). numpy's 'sturges' bins then use width ≥ 1. Only affects
   * psi / kl_div / jensenshannon / hellinger on numerical columns. Default: false, unless a
   * `PreparedNumeric` with `integerDtype` is passed for both sides.
   */
  integerDtype?: boolean;
  /** Permutation tests (TVD, empirical_mmd): iterations. Defaults as Evidently (TVD 1000, MMD 100). */
  iterations?: number;
}

export interface StatTest {
  /** Evidently's registry name: `ks`, `chisquare`, `z`, `wasserstein`, `psi`, ... */
  name: string;
  displayName: string;
  /** Which feature kinds Evidently registers it for (default selection may still apply `z`/`chisquare` to numerical columns). */
  kinds: readonly FeatureKind[];
  /** Default threshold as in Evidently. */
  defaultThreshold: number;
  /** `p_value`: drift when p < (or ≤, see `inclusive`) threshold. `distance`: drift when distance ≥ (or >) threshold. As in Evidently. */
  decision: 'p_value' | 'distance';
  /** Whether the comparison includes equality (`p <= t` / `d >= t`), per test, as in Evidently. */
  inclusive: boolean;
  /**
   * Whether the test reads a numerical sample's values in input order (`PreparedNumeric.values`):
   * permutation tests (empirical_mmd, TVD) and the order-dependent floating-point sums of t_test and
   * es. Every other test reads only `sorted`, moments and distinct values, so a profile whose input
   * order was dropped (sorted in place, to save a copy) gives it bit-identical results.
   */
  inputOrder: boolean;
  compute(reference: SampleInput, current: SampleInput, kind: FeatureKind, opts?: StatTestOptions): StatTestResult;
}

/** A test that cannot run on this data (Evidently raises for the same input). Report it as the column's error. */
export class StatTestError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StatTestError';
    this.code = code;
  }
}
