import type { ClassificationMetrics } from '../stats/classification.ts';
import type { Outputs } from './performance.ts';
import type { EstimatedPerformance } from './result.ts';

export function estimateWithCbpe(_ref: { yTrue: Int32Array; outputs: Outputs } | null, _cur: Outputs, _realized: ClassificationMetrics | null): { estimated: EstimatedPerformance | null; unavailable: string | null } {
  return { estimated: null, unavailable: 'not implemented yet' };
}
