// Adds the bundled model's `prediction` and `confidence` columns (as in the prediction log) to
// data/reference.csv, so drift runs can compare the model's output distribution (prediction drift),
// and measure the reference's realized performance (with its `class` labels) that CBPE calibrates on.
// Idempotent: existing prediction/confidence columns are replaced. Uses the same loader and ONNX
// session as `sentinel serve`.
//
//   node models/predict-reference.ts [data/reference.csv] [models/model.onnx]
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { loadModelCard } from '../src/io/model/card.ts';
import { loadOnnxModel, type FeatureRow } from '../src/io/model/onnx.ts';

const [csvPath = 'data/reference.csv', modelPath = 'models/model.onnx'] = process.argv.slice(2);
const { card, onnxBytes } = await loadModelCard(modelPath);
const model = await loadOnnxModel(card, onnxBytes);
const records: Record<string, string>[] = parse(readFileSync(csvPath), { columns: true });
const header = Object.keys(records[0]).filter((c) => c !== 'prediction' && c !== 'confidence');
const rows: FeatureRow[] = records.map((r) => {
  const row: FeatureRow = {};
  for (const f of card.features) row[f.name] = r[f.name] === '' ? null : f.type === 'numerical' ? Number(r[f.name]) : r[f.name];
  return row;
});
const predictions = await model.predict(rows);
await model.close();
const out = stringify([[...header, 'prediction', 'confidence'], ...records.map((r, i) => [...header.map((c) => r[c]), predictions[i].label, predictions[i].confidence])]);
writeFileSync(`${csvPath}.tmp`, out);
renameSync(`${csvPath}.tmp`, csvPath);
const counts = predictions.reduce<Record<string, number>>((a, p) => ((a[p.label] = (a[p.label] ?? 0) + 1), a), {});
console.log(`${csvPath}: ${records.length} rows, prediction and confidence columns added ${JSON.stringify(counts)}`);
