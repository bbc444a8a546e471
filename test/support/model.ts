import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { loadModelCard, type ModelCard } from '../../src/io/model/card.ts';
import { loadOnnxModel, type Model } from '../../src/io/model/onnx.ts';
import { REPO } from './process.ts';

export const MODEL_PATH = `${REPO}models/model.onnx`;

/** The real bundled model, through the same loader the server uses. */
export async function loadBundledModel(): Promise<Model> {
  const { card, onnxBytes } = await loadModelCard(MODEL_PATH);
  return loadOnnxModel(card, onnxBytes);
}

export function bundledCard(): ModelCard {
  return JSON.parse(readFileSync(`${REPO}models/model.json`, 'utf8'));
}

/** Rows of a demo CSV turned into request feature objects (numbers as numbers, missing as null). */
export function featureRowsFrom(csvPath: string, card: ModelCard, limit = Infinity): Record<string, number | string | null>[] {
  const records: Record<string, string>[] = parse(readFileSync(csvPath), { columns: true, to: Number.isFinite(limit) ? limit : undefined });
  return records.map((r) => {
    const out: Record<string, number | string | null> = {};
    for (const f of card.features) {
      const v = r[f.name];
      out[f.name] = v === '' || v === undefined ? null : f.type === 'numerical' ? Number(v) : v;
    }
    return out;
  });
}
