/**
 * `sentinel card init`: writes a model card for an ONNX classifier from its graph (onnxruntime's
 * session metadata) and a reference CSV, then proves it by serving the first reference rows through
 * the real session. `sentinel card check`: an existing card against its model.
 * Exit 0 when done, 1 with one line per problem, 2 for a bad command line.
 */
import { createHash } from 'node:crypto';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { readHeader, readLog } from '../io/log/reader.ts';
import { loadModelCard, parseModelCard, type ModelCard } from '../io/model/card.ts';
import { boundaryRows, checkCardAgainstGraph, chooseOutputs, classesFromProbe, draftFeatures, matchInputs, referenceRows, type FeatureOverrides } from '../io/model/card-infer.ts';
import { loadOnnxModel, openOnnxGraph, type FeatureRow, type OnnxGraph } from '../io/model/onnx.ts';
import { createValidator } from '../io/model/validate.ts';
import type { ColumnType } from '../table/columns.ts';
import { EXIT_FAILURE, EXIT_USAGE, parseFlags, reportFailure, type Command } from './command.ts';
import { parsePositiveInt } from './flags.ts';

const HELP = `usage: sentinel card init --model FILE.onnx --reference FILE.csv [options]
       sentinel card check --model FILE.onnx [--card FILE.json]

init: writes the model card of an ONNX classifier. Features, their ONNX input names and dtypes come
from the graph; types, categories, ranges, whole-number and nullable flags from the reference CSV
(types inferred as \`sentinel drift\` does); classes and output names from the outputs (a probe run
over the reference maps probability columns to labels); the sha256 of the file. A reference that
does not fit the model is refused with one line per problem. The card is then proven by predicting
the first reference rows through the real session.

check: validates a card against its model (sha256, inputs, dtypes, outputs, class order).

options (init):
  --model FILE           the ONNX classifier                                         (required)
  --reference FILE       reference CSV with a header row (the training data or a sample of it) (required)
  --target COLUMN        the label column of the reference (not a feature)
  --out FILE             where to write the card (default: model.json beside the model)
  --force                overwrite an existing card
  --name NAME            model name (default: the file name without .onnx)
  --version VERSION      model version (default: NAME-<first 8 hex of the sha256>)
  --range F=MIN:MAX      allowed range of a numerical feature (repeatable); default: the reference's
                         min..max widened by --range-margin spans on each side (kept >= 0 for
                         non-negative data, whole for whole numbers)
  --range-margin X       default range widening in spans of the observed range (default 1; 0 = observed)
  --nullable F,...       features that may be null although the reference has no missing value
  --category F=VALUE     one more allowed value of a categorical feature (repeatable)
  --classes A,B,...      class labels in probability-column order (default: from the probe run)
  --label-output NAME    the label output (default: the one string/int64 [N] tensor)
  --probabilities-output NAME  the probabilities output (default: the one float [N, K] tensor)
  --rows N               reference rows predicted to prove the card (default 5)
options (check):
  --model FILE           the ONNX file                                               (required)
  --card FILE            the card (default: model.json beside the model)
  -h, --help             this help
`;

/** Rows of the reference the probe run reads to map probability columns to class labels. */
const PROBE_ROWS = 20_000;
const PROBE_BATCH = 2_000;

function usageError(message: string): never {
  throw new UsageError(message);
}

/** Problems that make the command fail: printed one per line. */
class CardProblems extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new CardProblems(problems);
}

const list = (v: string | undefined) => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));

function parseOverrides(v: { range?: string[]; nullable?: string; category?: string[]; 'range-margin': string }): FeatureOverrides {
  const rangeMargin = Number(v['range-margin']);
  if (v['range-margin'].trim() === '' || !(rangeMargin >= 0) || !Number.isFinite(rangeMargin)) usageError(`--range-margin must be a number >= 0 (got "${v['range-margin']}")`);
  const ranges: Record<string, { min: number; max: number }> = {};
  for (const r of v.range ?? []) {
    const m = /^(.+)=([^:]+):([^:]+)$/.exec(r);
    const min = Number(m?.[2]);
    const max = Number(m?.[3]);
    if (!m || !Number.isFinite(min) || !Number.isFinite(max) || min > max) usageError(`--range takes FEATURE=MIN:MAX with MIN <= MAX (got "${r}")`);
    ranges[m[1]] = { min, max };
  }
  const categories: Record<string, string[]> = {};
  for (const c of v.category ?? []) {
    const i = c.indexOf('=');
    if (i <= 0) usageError(`--category takes FEATURE=VALUE (got "${c}")`);
    (categories[c.slice(0, i)] ??= []).push(c.slice(i + 1));
  }
  return { ranges, nullable: list(v.nullable), categories, rangeMargin };
}

async function sha256Of(path: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CardProblems([`cannot read model ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`]);
  }
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Runs the reference (at most PROBE_ROWS rows) through the graph and maps probability columns to classes. */
async function probeClasses(graph: OnnxGraph, card: Pick<ModelCard, 'features'>, rows: FeatureRow[], out: { label: string | null; probabilities: string }, given?: string[]) {
  const fetch = out.label === null ? [out.probabilities] : [out.label, out.probabilities];
  const probs: number[] = [];
  const labels: (string | number | bigint)[] = [];
  let k = 0;
  for (let i = 0; i < rows.length; i += PROBE_BATCH) {
    const r = await graph.run(card.features, rows.slice(i, i + PROBE_BATCH), fetch);
    const p = r[out.probabilities];
    k = p.dims[1];
    for (let j = 0; j < p.data.length; j++) probs.push(Number(p.data[j]));
    if (out.label !== null) for (let j = 0; j < r[out.label].data.length; j++) labels.push(r[out.label].data[j]);
  }
  return { k, ...classesFromProbe(k, probs, out.label === null ? null : labels, given) };
}

/** Validates `rows` as API instances and predicts them with the server's own model code. */
async function prove(card: ModelCard, bytes: Uint8Array, rows: FeatureRow[]) {
  const validate = createValidator(card, { maxInstances: Math.max(1, rows.length) });
  const { rows: valid } = validate({ instances: rows });
  const model = await loadOnnxModel(card, bytes);
  try {
    return await model.predict(valid);
  } finally {
    await model.close();
  }
}

const fmtRow = (row: FeatureRow) => JSON.stringify(row).slice(0, 100);

async function init(argv: string[]): Promise<number> {
  const { values: v } = parseFlags({
    args: argv,
    options: {
      model: { type: 'string' },
      reference: { type: 'string' },
      target: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      name: { type: 'string' },
      version: { type: 'string' },
      range: { type: 'string', multiple: true },
      nullable: { type: 'string' },
      category: { type: 'string', multiple: true },
      classes: { type: 'string' },
      'label-output': { type: 'string' },
      'probabilities-output': { type: 'string' },
      rows: { type: 'string', default: '5' },
      'range-margin': { type: 'string', default: '1' },
    },
  });
  if (v.model === undefined) usageError('--model FILE.onnx is required');
  if (v.reference === undefined) usageError('--reference FILE.csv is required');
  const overrides = parseOverrides(v);
  const proveRows = parsePositiveInt(v.rows, '--rows');
  const given = v.classes === undefined ? undefined : list(v.classes);
  const modelPath = resolve(v.model);
  const outPath = resolve(v.out ?? resolve(dirname(modelPath), 'model.json'));
  if (!v.force && (await access(outPath).then(() => true, () => false))) {
    throw new CardProblems([`${outPath} exists; pass --force to overwrite it, or --out FILE`]);
  }

  const { bytes, sha256 } = await sha256Of(modelPath);
  const graph = await openOnnxGraph(bytes);
  try {
    const header = await readHeader(v.reference).catch((err: Error) => fail([err.message]) as never);
    const matched = matchInputs(graph.inputs, header, v.target);
    const outputs = chooseOutputs(graph.outputs, { label: v['label-output'], probabilities: v['probabilities-output'] });
    // String inputs are categorical whatever their values look like; the rest is read (and typed) as drift reads it.
    const types = new Map<string, ColumnType>(matched.matches.filter((m) => m.input.type === 'string').map((m) => [m.column, 'categorical']));
    const used = new Set(matched.matches.map((m) => m.column));
    const read = await readLog(v.reference, { types, keep: (c) => used.has(c), unterminatedLastLine: 'row' });
    if (read.skippedRows > 0) process.stderr.write(`card: ${read.skippedRows} malformed reference row(s) skipped\n`);
    if (read.table.rows === 0) fail([`the reference ${v.reference} has no data rows`]);
    const drafted = draftFeatures(matched.matches, read.table, overrides);
    // Every misfit at once, so one run tells the user everything to fix.
    fail([...matched.problems, ...outputs.problems, ...drafted.problems]);

    const name = v.name ?? basename(modelPath).replace(/\.onnx$/i, '');
    const partial = { features: drafted.features };
    const probeRows = referenceRows(read.table, drafted.features, 0, PROBE_ROWS);
    const probe = await probeClasses(graph, partial, probeRows, { label: outputs.label, probabilities: outputs.probabilities! }, given);
    fail(probe.problems);

    const draft = {
      name,
      version: v.version ?? `${name}-${sha256.slice(0, 8)}`,
      onnx_file: relative(dirname(outPath), modelPath),
      sha256,
      // What the server feeds for a missing categorical value (src/io/model/onnx.ts).
      missing_category: '',
      features: drafted.features,
      classes: probe.classes!,
      // The server reads `probabilities`; a model without a label output gets its class from them.
      outputs: { label: outputs.label ?? outputs.probabilities!, probabilities: outputs.probabilities! },
    };
    const card = parseModelCard(draft, 'the drafted card');

    const first = probeRows.slice(0, proveRows);
    const predictions = await prove(card, bytes, first);
    const lines = predictions.map((p, i) => `  row ${i + 1}: ${p.label} (confidence ${p.confidence.toFixed(4)})  ${fmtRow(first[i])}`);

    const tmp = `${outPath}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(card, null, 2) + '\n');
    await rename(tmp, outPath);
    for (const n of drafted.notes) process.stderr.write(`card: note: ${n}\n`);
    if (matched.ignored.length > 0) process.stderr.write(`card: note: reference column(s) not fed to the model: ${matched.ignored.join(', ')}\n`);
    process.stdout.write(
      `wrote ${outPath}: ${card.features.length} features (${card.features.filter((f) => f.type === 'categorical').length} categorical), ` +
        `classes ${card.classes.join(', ')} (from ${probeRows.length} probed rows), outputs ${card.outputs.label} / ${card.outputs.probabilities}\n` +
        `proved on the first ${predictions.length} reference row(s) through onnxruntime:\n${lines.join('\n')}\n`,
    );
    return 0;
  } finally {
    await graph.close();
  }
}

async function check(argv: string[]): Promise<number> {
  const { values: v } = parseFlags({ args: argv, options: { model: { type: 'string' }, card: { type: 'string' } } });
  if (v.model === undefined) usageError('--model FILE.onnx is required');
  const loaded = await loadModelCard(v.model, v.card === undefined ? undefined : resolve(v.card)).catch((err: Error) => fail([err.message]) as never);
  const { card, onnxBytes } = loaded;
  const graph = await openOnnxGraph(onnxBytes);
  try {
    fail(checkCardAgainstGraph(card, graph.inputs, graph.outputs));
    const rows = boundaryRows(card);
    const label = card.outputs.label !== card.outputs.probabilities ? card.outputs.label : null;
    const probe = await probeClasses(graph, card, rows, { label, probabilities: card.outputs.probabilities }, card.classes);
    fail(probe.problems.map((p) => p.replace('--classes', 'the card\'s "classes"')));
    const predictions = await prove(card, onnxBytes, rows);
    process.stdout.write(
      `card OK: ${card.name} ${card.version}, ${card.features.length} features, classes ${card.classes.join(', ')}; ` +
        `predicted its boundary rows as ${predictions.map((p) => p.label).join(', ')}\n`,
    );
    return 0;
  } finally {
    await graph.close();
  }
}

export const cardCommand: Command = async (argv) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  try {
    if (sub === 'init') return await init(rest);
    if (sub === 'check') return await check(rest);
    usageError(`unknown subcommand "${sub}" (init or check)`);
  } catch (err) {
    if (err instanceof CardProblems) {
      for (const p of err.problems) process.stderr.write(`sentinel card ${sub}: ${p}\n`);
      return EXIT_FAILURE;
    }
    return reportFailure(`card ${sub}`, err);
  }
};
