/**
 * Pure statistics: Evidently's univariate drift tests with identical numbers. No I/O, no project imports.
 * See docs/stattests.md.
 */
export type {
  CategoricalSample, FeatureKind, NumericSample, PreparedCategorical, PreparedNumeric, PreparedSample, SampleInput,
  StatTest, StatTestOptions, StatTestResult,
} from './types.ts';
export { StatTestError } from './types.ts';
export { ksStatistic, ksStatisticOf } from './tests/ks.ts';
export { getStatTest, resolveStatTest, listStatTests, selectStatTest, selectStatTestFor, DEFAULT_STATTESTS, UNSUPPORTED_EVIDENTLY_TESTS } from './registry.ts';
export type { SelectionInput } from './registry.ts';
export { cleanCategorical, cleanNumeric, distinctOfRuns, orderedValues, prepareSample, prepareNumeric, prepareNumericFromRuns, prepareCategorical, sortedRunsOf, mergeSortedRuns, momentsOfCounts } from './sample.ts';
export type { PrepareOptions, SortedRuns } from './sample.ts';
export { bonferroni, benjaminiHochberg, adjustPValues } from './multitest.ts';
export type { MultipleTestingMethod, MultipleTestingResult } from './multitest.ts';
export { chunkEvidence, chunksByCount, chunksByPeriod, chunksBySize, decide, evidenceOf, nullEvidence, minResamples, quantile, rankThreshold, resampledPValue, spreadThreshold, thresholdFromEvidence } from './calibrate.ts';
export type { ChunkRange, NullOptions, SpreadRule, SpreadThreshold } from './calibrate.ts';
