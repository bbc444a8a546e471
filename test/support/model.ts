import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadModelCard, type ModelCard } from '../../src/io/model/card.ts';
import { loadOnnxModel, type Model, type Prediction } from '../../src/io/model/onnx.ts';
import { createLogWriter, type LogWriter } from '../../src/io/log/writer.ts';
import { LABEL_DIR, LABEL_FILE_PREFIX, logColumns } from '../../src/io/log/schema.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
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

/**
 * A served window: the bundled model's predictions for the first `n` rows of data/current.csv,
 * written to `dir` as a prediction log (fresh request ids, one timestamp, the file closed), and the
 * label log's writer opened in `dir/labels` for the caller to fill and close.
 */
export async function writeServedLog(dir: string, n: number, instanceId: string): Promise<{ card: ModelCard; records: Record<string, string>[]; predicted: Prediction[]; ids: string[]; timestamp: string; labels: LogWriter }> {
  const model = await loadBundledModel();
  const rows = featureRowsFrom(`${REPO}data/current.csv`, model.card, n);
  const records: Record<string, string>[] = parse(readFileSync(`${REPO}data/current.csv`), { columns: true, to: n });
  const predicted = await model.predict(rows);
  await model.close();
  const { card } = model;
  mkdirSync(join(dir, LABEL_DIR), { recursive: true });
  const log = createLogWriter({ dir, instanceId, columns: logColumns(card.features.map((f) => f.name)) });
  const labels = createLogWriter({ dir: join(dir, LABEL_DIR), instanceId, columns: [...LABEL_COLUMNS], filePrefix: LABEL_FILE_PREFIX });
  const timestamp = new Date().toISOString();
  const ids = rows.map(() => randomUUID());
  await log.append(rows.map((r, i) => [ids[i], timestamp, card.version, ...card.features.map((f) => r[f.name] ?? ''), predicted[i].label, predicted[i].confidence]));
  await log.close();
  return { card, records, predicted, ids, timestamp, labels };
}
