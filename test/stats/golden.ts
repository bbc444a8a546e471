/** Loader for the Evidently golden fixture (test/fixtures/evidently/golden.json). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenCase {
  name: string;
  note: string;
  kind: 'num' | 'cat';
  dtype: string;
  stattest_requested: string | null;
  threshold_requested: number | null;
  call: string;
  /** Keys into `Golden.data` (each distinct array is stored once). */
  reference: string;
  current: string;
  error?: string;
  stattest?: string;
  threshold?: number;
  drift_score?: number | string;
  drift_detected?: boolean;
  statistic?: number | string | null;
}

export interface Golden {
  evidently_version: string;
  scipy_version: string;
  cases: GoldenCase[];
  data: Record<string, (number | string | null)[]>;
}

export function loadGolden(): Golden {
  const path = fileURLToPath(new URL('../fixtures/evidently/golden.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Golden;
}

export function decodeNumber(v: number | string | null): number {
  if (v === null) return Number.NaN;
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

export const REL = 1e-9;
export const ABS = 1e-12;

/** |actual − expected| ≤ 1e-9·|expected| or ≤ 1e-12 (near zero); NaN and ±Inf must match exactly. */
export function close(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) { assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`); return; }
  if (!Number.isFinite(expected)) { assert.equal(actual, expected, what); return; }
  const diff = Math.abs(actual - expected);
  assert.ok(diff <= ABS || diff <= REL * Math.abs(expected), `${what}: got ${actual}, Evidently ${expected} (rel ${diff / Math.abs(expected)})`);
}
