/**
 * SentinelML's side of the quality benchmark (run by bench/quality/run.ts under /usr/bin/time):
 * read the prediction log and the label log, join by request id, realized metrics per chunk,
 * CBPE fitted on the labelled reference and estimated per chunk. Prints one JSON line: phase
 * times and the per-chunk numbers (cross-checked against NannyML's by run.ts).
 *
 *   node bench/quality/sentinel_side.ts DATA_DIR CHUNK_SIZE
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { CategoricalColumn, NumericColumn } from '../../src/table/columns.ts';
import { joinLabels, metricsOfRows } from '../../src/drift/performance.ts';
import { outputsOf } from '../../src/drift/probabilities.ts';
import { readLabels } from '../../src/io/log/labels.ts';
import { readLog } from '../../src/io/log/reader.ts';
import { estimateCbpe, fitCbpe } from '../../src/stats/cbpe.ts';

const [dir, chunkArg] = process.argv.slice(2);
const chunkSize = Number(chunkArg);
const classes = ['0', '1'];
const phases: Record<string, number> = {};
const cpuPhases: Record<string, number> = {};
let t = performance.now();
let c = process.cpuUsage();
const lap = (name: string) => {
  const now = performance.now();
  const cpu = process.cpuUsage(c);
  phases[name] = Math.round(now - t) / 1000;
  cpuPhases[name] = Math.round((cpu.user + cpu.system) / 1000) / 1000;
  t = now;
  c = process.cpuUsage();
  process.stderr.write(`${name}: ${phases[name]} s wall, ${cpuPhases[name]} s CPU\n`);
};

const log = await readLog(join(dir, 'live'), {
  types: new Map([['request_id', 'categorical'], ['prediction', 'categorical'], ['confidence', 'numerical']]),
  keep: (c) => c === 'request_id' || c === 'prediction' || c === 'confidence',
});
lap('read_predictions');
const labels = await readLabels(join(dir, 'live', 'labels'));
lap('read_labels');
const side = { predictions: log.table.columns.get('prediction') as CategoricalColumn, confidence: log.table.columns.get('confidence') as NumericColumn };
const outputs = outputsOf(side, classes);
const joined = joinLabels(log.table.columns.get('request_id') as CategoricalColumn, labels.labels, outputs, classes);
lap('join');
// Realized metrics per chunk of the log (rows in file order), on each chunk's labelled rows.
const realized: { accuracy: number; f1: number; roc_auc: number | null }[] = [];
let j = 0;
for (let start = 0; start < log.table.rows; start += chunkSize) {
  const end = Math.min(start + chunkSize, log.table.rows);
  const from = j;
  while (j < joined.rows.length && joined.rows[j] < end) j++;
  const m = metricsOfRows(joined.rows.subarray(from, j), joined.yTrue.subarray(from, j), outputs, classes);
  realized.push({ accuracy: m.accuracy, f1: m.per_class[1].f1, roc_auc: m.roc_auc });
}
lap('realized_metrics');
const refRows: Record<string, string>[] = parse(readFileSync(join(dir, 'reference.csv')), { columns: true });
const refProba = new Float64Array(2 * refRows.length);
refRows.forEach((r, i) => {
  const p1 = r.prediction === '1' ? Number(r.confidence) : 1 - Number(r.confidence);
  refProba[2 * i] = 1 - p1;
  refProba[2 * i + 1] = p1;
});
const model = fitCbpe({ k: 2, proba: refProba, yPred: Int32Array.from(refRows, (r) => Number(r.prediction)), yTrue: Int32Array.from(refRows, (r) => Number(r.class)) }, chunkSize);
lap('cbpe_fit');
const est = estimateCbpe(model, { k: 2, proba: outputs.proba!, yPred: outputs.predicted });
lap('cbpe_estimate');
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    phases,
    cpu_phases: cpuPhases,
    rows: log.table.rows,
    label_rows: labels.rows,
    labelled: joined.stats.labelled,
    unmatched_labels: joined.stats.unmatched_labels,
    superseded: labels.superseded,
    calibrated: model.calibrators.map((c) => c !== null),
    realized,
    estimated: est.map((c) => ({ accuracy: c.metrics.accuracy.value, f1: c.metrics.f1.value, roc_auc: c.metrics.roc_auc.value })),
    max_rss_kib: usage.maxRSS,
  })}\n`,
);
