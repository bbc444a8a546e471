/**
 * Per-file summaries of a log's columns, and their merge into the digests of a whole window
 * (`ColumnDigest`): sorted runs of each numerical column's finite values (plus its first distinct
 * values in first-seen order), counts per label of each categorical one. Everything a drift run reads
 * from the current side (the default tests, the charts, the summary) follows from these; merging them
 * costs O(distinct values) per file, where merging the files' rows costs O(rows). It degrades where a
 * column has about as many distinct values as rows (ids, continuous floats): O(rows) again, still
 * without parsing. The merge follows `mergeParts` exactly (same column kinds, dictionary order and
 * counts; null where only a full read can tell), so a profile of a digest equals the profile of the
 * column a full read returns (test/log/file-cache.test.ts checks both against each other).
 */

import { mergeSortedRuns, sortedRunsOf, type SortedRuns } from '../../stats/index.ts';
import type { ColumnDigest, DeclaredTypes } from '../../table/columns.ts';
import { canonicalBooleans } from '../../table/cells.ts';
import { mergeDictionaries, type LogFilePart } from '../../table/parts.ts';

/**
 * First-seen values kept per numerical column: a numerical column is tested as categorical only
 * with at most 10 distinct values (Evidently's int-cardinality rule), so a longer list is never needed.
 */
export const FIRST_SEEN_LIMIT = 64;

/** The summaries of one part's numerical columns (categorical counts live in the part itself). */
export interface PartSummaries {
  runs: Map<string, SortedRuns>;
  /** Distinct non-missing values in first-seen order (`===`), null beyond `FIRST_SEEN_LIMIT`. */
  firstSeen: Map<string, Float64Array | null>;
  /** [-inf, +inf] cells (not in the runs, which hold finite values; Evidently's legacy share counts them). */
  infinities: Map<string, Infinities>;
}

export type Infinities = [negative: number, positive: number];

export function emptySummaries(): PartSummaries {
  return { runs: new Map(), firstSeen: new Map(), infinities: new Map() };
}

export function infinitiesOf(values: Float64Array): Infinities {
  let neg = 0;
  let pos = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === Infinity) pos++;
    else if (v === -Infinity) neg++;
  }
  return [neg, pos];
}

/** Distinct non-NaN values of `values` in first-seen order, null once more than `limit` were seen. */
export function firstSeenOf(values: Float64Array, limit = FIRST_SEEN_LIMIT): Float64Array | null {
  const seen = new Float64Array(limit);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    let k = 0;
    while (k < size && seen[k] !== v) k++;
    if (k < size) continue;
    if (size === limit) return null;
    seen[size++] = v;
  }
  return seen.slice(0, size);
}

export function summariesOfPart(part: LogFilePart): PartSummaries {
  const out = emptySummaries();
  for (const [name, c] of part.columns) {
    if (c.kind !== 'numerical') continue;
    out.runs.set(name, sortedRunsOf(c.values));
    out.firstSeen.set(name, firstSeenOf(c.values));
    out.infinities.set(name, infinitiesOf(c.values));
  }
  return out;
}

/**
 * The digest of every column `mergeParts(parts)` would return, from the parts' counts and
 * `summaries` (one per part, null for a part without rows in the window); the parts' per-row arrays
 * are not read. Null when `mergeParts` would be null (the caller then reads in full) or a part with
 * rows lacks its summaries.
 */
export function mergeDigests(parts: readonly LogFilePart[], summaries: readonly (PartSummaries | null)[], types?: DeclaredTypes): Map<string, ColumnDigest> | null {
  const order: string[] = [];
  let rows = 0;
  for (const p of parts) {
    for (const name of p.columns.keys()) if (!order.includes(name)) order.push(name);
    rows += p.rows;
  }
  const out = new Map<string, ColumnDigest>();
  for (const name of order) {
    const plan = mergeDictionaries(parts, name, types?.get(name));
    if (plan === null) return null;
    let missing = 0;
    if (!plan.categorical) {
      let invalid = 0;
      let allInt = true;
      const lists: SortedRuns[] = [];
      let firstSeen: number[] | null = [];
      const infinities: Infinities = [0, 0];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        const c = p.columns.get(name);
        if (c === undefined || p.rows === 0) {
          missing += p.rows;
          continue;
        }
        if (c.kind !== 'numerical') continue;
        missing += c.missing;
        invalid += c.invalid;
        allInt &&= c.allInt;
        const runs = summaries[i]?.runs.get(name);
        const seen = summaries[i]?.firstSeen.get(name);
        const inf = summaries[i]?.infinities.get(name);
        if (runs === undefined || seen === undefined || inf === undefined) return null;
        lists.push(runs);
        infinities[0] += inf[0];
        infinities[1] += inf[1];
        if (firstSeen !== null && seen !== null) {
          for (const v of seen) if (!firstSeen.includes(v)) firstSeen.push(v);
          if (firstSeen.length > FIRST_SEEN_LIMIT) firstSeen = null;
        } else firstSeen = null;
      }
      out.set(name, {
        kind: 'numerical',
        digest: true,
        rows,
        missing,
        invalid,
        integerDtype: allInt && missing === 0 && invalid === 0,
        runs: mergeSortedRuns(lists),
        firstSeen: firstSeen === null ? null : Float64Array.from(firstSeen),
        negativeInfinity: infinities[0],
        positiveInfinity: infinities[1],
      });
      continue;
    }
    const counts = new Float64Array(plan.dictionary.length);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const c = p.columns.get(name);
      const remap = plan.remaps[i];
      if (c === undefined || c.kind === 'numerical' || remap === null) {
        missing += p.rows;
        continue;
      }
      for (let k = 0; k < remap.length; k++) counts[remap[k]] += c.counts[k];
      missing += c.missing;
    }
    const col = canonicalBooleans({ kind: 'categorical', codes: new Uint8Array(0), dictionary: plan.dictionary, missing, counts });
    out.set(name, { kind: 'categorical', digest: true, rows, missing, dictionary: col.dictionary, counts: col.counts! });
  }
  return out;
}
