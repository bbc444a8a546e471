/**
 * CBPE's reference fits (`CbpeReferenceFit` in src/stats/cbpe.ts: the calibrators and the
 * sampling-error components) cached beside the reference profiles. Checking whether the reference
 * needs calibration fits ten isotonic maps: most of a labelled run's CPU, and the same on every run
 * until the reference changes.
 *
 *   <out>/.cache/reference-<id>-cbpe-<plan>.json   { format, fits: { file?, time? } }
 *
 * id = the reference file's identity (profile-cache.ts `referenceIdentity`: path, size, mtime); plan =
 * sha256 of what picks and reads its quality columns (classes, target, their declared types) and of
 * CBPE_FIT_VERSION. JSON keeps every double exactly (NaN is written as null). Written atomically; an
 * unreadable or foreign file is a miss, and failing to write it never fails a run (the caller logs it).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CbpeFitCache } from '../../drift/estimate.ts';
import type { CbpeReferenceFit, IsotonicModel } from '../../stats/cbpe.ts';
import { writeFileAtomic } from '../report-store.ts';

export const CBPE_CACHE_FORMAT = 'SNTLCBPE1';
/** Bump when fitCbpeReference changes: old entries then simply miss. */
const CBPE_FIT_VERSION = 1;

/** The cache file's name for a reference identity prefix (`reference-<id>`) and its quality plan. */
export function cbpeCacheName(identityPrefix: string, plan: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify({ v: CBPE_FIT_VERSION, plan })).digest('hex').slice(0, 16);
  return `${identityPrefix}-cbpe-${hash}.json`;
}

/** The cached fits; an empty cache on a miss. */
export async function loadCbpeFits(dir: string, name: string): Promise<CbpeFitCache> {
  const out: CbpeFitCache = new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, name), 'utf8'));
  } catch {
    return out;
  }
  const f = parsed as { format?: unknown; fits?: Record<string, unknown> };
  if (f === null || typeof f !== 'object' || f.format !== CBPE_CACHE_FORMAT || typeof f.fits !== 'object' || f.fits === null) return out;
  for (const order of ['file', 'time'] as const) {
    const fit = decodeFit(f.fits[order]);
    if (fit !== null) out.set(order, fit);
  }
  return out;
}

export async function saveCbpeFits(dir: string, name: string, fits: CbpeFitCache): Promise<void> {
  await mkdir(dir, { recursive: true });
  const encode = (fit: CbpeReferenceFit) => ({ k: fit.k, calibrators: fit.calibrators.map((c) => (c === null ? null : { x: Array.from(c.x), y: Array.from(c.y) })), components: fit.components });
  await writeFileAtomic(dir, name, JSON.stringify({ format: CBPE_CACHE_FORMAT, fits: Object.fromEntries([...fits].map(([order, fit]) => [order, encode(fit)])) }));
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : v === null ? NaN : undefined);

function pairs(v: unknown): [number, number][] | null {
  if (!Array.isArray(v)) return null;
  const out: [number, number][] = [];
  for (const p of v) {
    const a = Array.isArray(p) && p.length === 2 ? [num(p[0]), num(p[1])] : [];
    if (a[0] === undefined || a[1] === undefined) return null;
    out.push([a[0], a[1]]);
  }
  return out;
}

function isotonic(v: unknown): IsotonicModel | null | undefined {
  if (v === null) return null;
  const c = v as { x?: unknown; y?: unknown };
  if (typeof c !== 'object' || !Array.isArray(c.x) || !Array.isArray(c.y) || c.x.length !== c.y.length || c.x.length === 0) return undefined;
  if (!c.x.every((n) => typeof n === 'number') || !c.y.every((n) => typeof n === 'number')) return undefined;
  return { x: Float64Array.from(c.x as number[]), y: Float64Array.from(c.y as number[]) };
}

/** A fit as written by saveCbpeFits, or null for anything else. */
function decodeFit(v: unknown): CbpeReferenceFit | null {
  const f = v as { k?: unknown; calibrators?: unknown; components?: { accuracy?: unknown; f1?: unknown; rocAuc?: unknown } };
  if (f === null || typeof f !== 'object' || typeof f.k !== 'number' || !Array.isArray(f.calibrators) || typeof f.components !== 'object' || f.components === null) return null;
  const calibrators = f.calibrators.map(isotonic);
  const accuracy = num(f.components.accuracy);
  const f1 = pairs(f.components.f1);
  const rocAuc = pairs(f.components.rocAuc);
  if (calibrators.some((c) => c === undefined) || accuracy === undefined || f1 === null || rocAuc === null) return null;
  return { k: f.k, calibrators: calibrators as (IsotonicModel | null)[], components: { accuracy, f1, rocAuc } };
}
