/**
 * Alarm-mode calibration samples (reference chunk evidence, bootstrap null evidence) cached beside
 * the reference profile they were computed from:
 *
 *   <out>/.cache/reference-<id>-<plan>.calibration.json   { format, key, entries: { <calibrationKey>: number[] } }
 *
 * The profile key (reference file identity + column plan) is part of the name, so a changed
 * reference never reuses old thresholds. Written atomically; an unreadable or foreign file is a miss,
 * and failing to write it never fails a run (the caller logs it).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../report-store.ts';

export const CALIBRATION_FORMAT = 'SNTLCAL1';

interface CalibrationFile {
  format: string;
  key: string;
  entries: Record<string, number[]>;
}

export function calibrationFileName(profileKey: string): string {
  return `${profileKey}.calibration.json`;
}

/** The cached samples for this profile key; an empty map on a miss. NaN is stored as null. */
export async function loadCalibration(dir: string, profileKey: string): Promise<Map<string, number[]>> {
  let text: string;
  try {
    text = await readFile(join(dir, calibrationFileName(profileKey)), 'utf8');
  } catch {
    return new Map();
  }
  try {
    const f = JSON.parse(text) as CalibrationFile;
    if (f.format !== CALIBRATION_FORMAT || f.key !== profileKey || typeof f.entries !== 'object' || f.entries === null) return new Map();
    const out = new Map<string, number[]>();
    for (const [k, v] of Object.entries(f.entries)) if (Array.isArray(v)) out.set(k, v.map((x) => (typeof x === 'number' ? x : NaN)));
    return out;
  } catch {
    return new Map();
  }
}

/** Writes all entries (old and new) atomically (the report store's temp + fsync + rename). */
export async function saveCalibration(dir: string, profileKey: string, entries: ReadonlyMap<string, number[]>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const body: CalibrationFile = { format: CALIBRATION_FORMAT, key: profileKey, entries: Object.fromEntries(entries) };
  await writeFileAtomic(dir, calibrationFileName(profileKey), JSON.stringify(body));
  return join(dir, calibrationFileName(profileKey));
}
