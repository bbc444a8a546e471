/** Registry of stat tests by Evidently name. */
import type { FeatureKind, SampleInput, StatTest } from './types.ts';
import { StatTestError } from './types.ts';
import { ks } from './tests/ks.ts';
import { chisquare, fisherExact, gTest, z } from './tests/categorical.ts';
import { energyDistance, mannw, tTest, wasserstein } from './tests/numeric.ts';
import { hellinger, jensenshannon, klDiv, psi } from './tests/binned.ts';
import { anderson, cramerVonMises } from './tests/rank.ts';
import { empiricalMmd, eppsSingletonTest, tvd } from './tests/other.ts';
import { absTextContentDrift, percTextContentDrift } from './tests/text.ts';
import { kindOf, sizeOf, jointCounts } from './sample.ts';
import type { PreparedNumeric } from './types.ts';

/** Size of the union of two ascending distinct-value arrays, counting stops at `cap` (only ≤ 5 vs > 5 matters). */
function unionSize(a: Float64Array, b: Float64Array, cap: number): number {
  let i = 0, j = 0, k = 0;
  while ((i < a.length || j < b.length) && k < cap) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) i++;
    else if (i >= a.length || b[j] < a[i]) j++;
    else { i++; j++; }
    k++;
  }
  return k;
}

const ALL: readonly StatTest[] = [
  anderson, chisquare, cramerVonMises, energyDistance, eppsSingletonTest, fisherExact, gTest, hellinger,
  jensenshannon, klDiv, ks, mannw, empiricalMmd, psi, tTest, tvd, wasserstein, z,
  absTextContentDrift, percTextContentDrift,
];

const BY_NAME = new Map(ALL.map((t) => [t.name, t]));

/** Evidently registry names not implemented here: none since the text-content tests were added (kept for API compatibility). */
export const UNSUPPORTED_EVIDENTLY_TESTS: readonly string[] = [];

/** The test registered under Evidently's name (`ks`, `chisquare`, `z`, `wasserstein`, `psi`, `TVD`, `ed`, `es`, ...). Throws `unknown_stattest`. */
export function getStatTest(name: string): StatTest {
  const t = BY_NAME.get(name);
  if (!t) throw new StatTestError('unknown_stattest', `no stattest named '${name}'; available: ${[...BY_NAME.keys()].join(', ')}`);
  return t;
}

/**
 * A test requested by name for a column of the given kind, refused like Evidently's
 * `get_registered_stattest` when the test is not registered for that kind (e.g. `chisquare` or `z`
 * requested explicitly on a numerical column). Default selection bypasses this check, as in Evidently.
 */
export function resolveStatTest(name: string, kind: FeatureKind): StatTest {
  const t = getStatTest(name);
  if (!t.kinds.includes(kind)) {
    throw new StatTestError('invalid_feature_type', `stattest ${name} isn't applicable to a ${kind === 'num' ? 'numerical' : kind === 'cat' ? 'categorical' : 'text'} column (registered for: ${t.kinds.join(', ')})`);
  }
  return t;
}

/** Every registered test, sorted by name. */
export function listStatTests(): readonly StatTest[] {
  return [...ALL].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every test `selectStatTest` can return (none of them reads input order: `StatTest.inputOrder`). */
export const DEFAULT_STATTESTS: readonly string[] = ['z', 'chisquare', 'ks', 'jensenshannon', 'wasserstein'];

export interface SelectionInput {
  kind: FeatureKind;
  /** Reference rows after missing-value cleaning. */
  referenceSize: number;
  /** Distinct values over reference ∪ current after cleaning (pandas `concat([ref, cur]).nunique()`). */
  nUnique: number;
}

/**
 * Evidently's default test (`_get_default_stattest`), given the cleaned columns:
 *
 * | reference rows | kind | distinct values (ref ∪ cur) | test |
 * |---|---|---|---|
 * | ≤ 1000 | num | ≤ 2 | `z` |
 * | ≤ 1000 | num | 3–5 | `chisquare` |
 * | ≤ 1000 | num | > 5 | `ks` |
 * | ≤ 1000 | cat | ≤ 2 | `z` |
 * | ≤ 1000 | cat | > 2 | `chisquare` |
 * | > 1000 | num | ≤ 5 | `jensenshannon` |
 * | > 1000 | num | > 5 | `wasserstein` |
 * | > 1000 | cat | any | `jensenshannon` |
 */
export function selectStatTest(input: SelectionInput): string {
  const { kind, referenceSize, nUnique } = input;
  if (referenceSize <= 1000) {
    if (kind === 'num') return nUnique <= 5 ? (nUnique > 2 ? 'chisquare' : 'z') : 'ks';
    return nUnique > 2 ? 'chisquare' : 'z';
  }
  if (kind === 'num') return nUnique <= 5 ? 'jensenshannon' : 'wasserstein';
  return 'jensenshannon';
}

/** `selectStatTest` computed from the (cleaned or prepared) samples themselves. */
export function selectStatTestFor(reference: SampleInput, current: SampleInput, kind: FeatureKind = kindOf(reference)): string {
  const r = reference as PreparedNumeric, c = current as PreparedNumeric;
  // numerical profiles: merge the sorted distinct values (O(u), no hashing); otherwise count the union
  const nUnique = r.prepared === 'num' && c.prepared === 'num' ? unionSize(r.uniqueValues, c.uniqueValues, 6) : jointCounts(reference, current).keys.length;
  return selectStatTest({ kind, referenceSize: sizeOf(reference), nUnique });
}
