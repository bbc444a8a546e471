// Loads the NannyML parity fixtures written by tools/nannyml/generate.py.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { CbpeData } from '../../src/stats/cbpe.ts';
import { REPO } from '../support/process.ts';

export interface GoldenChunk {
  start: number;
  end: number;
  value: number | null;
  sampling_error?: number | null;
  realized?: number | null;
  upper_confidence_boundary?: number | null;
  lower_confidence_boundary?: number | null;
  upper_threshold?: number | null;
  lower_threshold?: number | null;
  alert?: boolean;
}

export interface Golden {
  nannyml: string;
  chunk_size: number;
  reference_rows: number;
  analysis_rows: number;
  classes: string[] | null;
  /** What was changed in NannyML for this variant, or null (as shipped). */
  patch: string | null;
  calibrated: { call: string; value: boolean[] };
  cbpe: { call: string; metrics: Record<string, { reference: GoldenChunk[]; analysis: GoldenChunk[] }> };
  realized: { call: string; metrics: Record<string, GoldenChunk[]> };
}

export function loadNannymlCase(name: 'car_loan' | 'multiclass', variant: '' | '-stable-sort' = ''): { golden: Golden; reference: CbpeData; analysis: CbpeData; classes: string[] } {
  const dir = `${REPO}test/fixtures/nannyml/`;
  const golden: Golden = JSON.parse(readFileSync(`${dir}${name}${variant}.json`, 'utf8'));
  const rows: Record<string, string>[] = parse(gunzipSync(readFileSync(`${dir}${name}.csv.gz`)), { columns: true });
  let data: CbpeData;
  let classes: string[];
  if (name === 'car_loan') {
    classes = ['0', '1'];
    const n = rows.length;
    const proba = new Float64Array(2 * n);
    rows.forEach((r, i) => {
      const p = Number(r.y_pred_proba);
      proba[2 * i] = 1 - p;
      proba[2 * i + 1] = p;
    });
    data = { k: 2, proba, yPred: Int32Array.from(rows, (r) => Number(r.y_pred)), yTrue: Int32Array.from(rows, (r) => Number(r.repaid)) };
  } else {
    classes = golden.classes!;
    const k = classes.length;
    const proba = new Float64Array(k * rows.length);
    rows.forEach((r, i) => classes.forEach((c, j) => (proba[i * k + j] = Number(r[`y_pred_proba_${c}`]))));
    data = { k, proba, yPred: Int32Array.from(rows, (r) => classes.indexOf(r.y_pred)), yTrue: Int32Array.from(rows, (r) => classes.indexOf(r.y_true)) };
  }
  const cut = golden.reference_rows;
  const part = (a: number, b: number): CbpeData => ({ k: data.k, proba: data.proba.slice(a * data.k, b * data.k), yPred: data.yPred.slice(a, b), yTrue: data.yTrue!.slice(a, b) });
  return { golden, reference: part(0, cut), analysis: part(cut, rows.length), classes };
}
