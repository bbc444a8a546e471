import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, InputError } from '../../errors.ts';
import { LOG_HEAD, LOG_TAIL, PREDICTION_COLUMN } from '../../drift/log-columns.ts';
import type { ColumnType } from '../../table/columns.ts';

/** One model input as the model card describes it. */
export interface FeatureSpec {
  name: string;
  /** The ONNX graph input that receives this feature (names there cannot hold every character). */
  onnx_input: string;
  type: 'numerical' | 'categorical';
  dtype: 'float32' | 'float64' | 'int64' | 'string';
  nullable: boolean;
  categories?: string[];
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface ModelCard {
  name: string;
  version: string;
  onnx_file: string;
  sha256: string;
  features: FeatureSpec[];
  /** Class labels in the order of the probabilities output. */
  classes: string[];
  outputs: { label: string; probabilities: string };
  /** How the model was trained; `target` names the true-class column of the reference data. */
  training?: { target?: string };
}

export interface LoadedCard {
  card: ModelCard;
  /** Absolute path of the ONNX file, checked against the card's sha256. */
  onnxPath: string;
  onnxBytes: Uint8Array;
}

function problemsOf(card: any): string[] {
  const p: string[] = [];
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (card === null || typeof card !== 'object') return ['the card must be a JSON object'];
  for (const k of ['name', 'version', 'onnx_file', 'sha256']) if (!str(card[k])) p.push(`"${k}" must be a non-empty string`);
  if (!Array.isArray(card.classes) || card.classes.length < 2 || !card.classes.every(str)) p.push('"classes" must list at least two class labels');
  if (!card.outputs || !str(card.outputs.label) || !str(card.outputs.probabilities)) p.push('"outputs" must name the "label" and "probabilities" outputs');
  if (!Array.isArray(card.features) || card.features.length === 0) {
    p.push('"features" must be a non-empty array');
    return p;
  }
  const seen = new Set<string>();
  card.features.forEach((f: any, i: number) => {
    const at = `features[${i}]`;
    if (!f || typeof f !== 'object') return void p.push(`${at} must be an object`);
    p.push(...nameTypeProblems(f, at, seen));
    if (!str(f.onnx_input)) p.push(`${at}.onnx_input must be a non-empty string`);
    if (!['float32', 'float64', 'int64', 'string'].includes(f.dtype)) p.push(`${at}.dtype must be float32, float64, int64 or string`);
    if (typeof f.nullable !== 'boolean') p.push(`${at}.nullable must be true or false`);
    if (f.type === 'categorical' && (!Array.isArray(f.categories) || f.categories.length === 0 || !f.categories.every((c: unknown) => typeof c === 'string'))) {
      p.push(`${at}.categories must list the allowed values of a categorical feature`);
    }
    if (f.type === 'numerical') {
      for (const k of ['min', 'max']) if (f[k] !== undefined && !Number.isFinite(f[k])) p.push(`${at}.${k} must be a finite number`);
      if (Number.isFinite(f.min) && Number.isFinite(f.max) && f.min > f.max) p.push(`${at}.min is greater than max`);
    }
  });
  p.push(...reservedProblems(seen));
  return p;
}

/** A feature's name (non-empty, not listed twice: `seen` collects them) and type; what a drift run checks too. */
function nameTypeProblems(f: any, at: string, seen: Set<string>): string[] {
  const p: string[] = [];
  if (typeof f.name !== 'string' || f.name.length === 0) p.push(`${at}.name must be a non-empty string`);
  else if (seen.has(f.name)) p.push(`${at}.name "${f.name}" is listed twice`);
  else seen.add(f.name);
  if (f.type !== 'numerical' && f.type !== 'categorical') p.push(`${at}.type must be "numerical" or "categorical"`);
  return p;
}

function reservedProblems(names: ReadonlySet<string>): string[] {
  return [...LOG_HEAD, ...LOG_TAIL].filter((n) => names.has(n)).map((n) => `feature name "${n}" collides with a prediction-log column`);
}

/** Checks a parsed card; throws a ConfigError listing every problem. */
export function parseModelCard(raw: unknown, source = 'model card'): ModelCard {
  const problems = problemsOf(raw);
  if (problems.length > 0) throw new ConfigError(`${source} is invalid: ${problems.join('; ')}`, { details: problems });
  return raw as ModelCard;
}

/**
 * Reads a model: `modelPath` is the ONNX file; its card is `model.json` beside it (or `cardPath`).
 * The ONNX file must match the card's sha256, so a card never describes another model.
 */
export async function loadModelCard(modelPath: string, cardPath = resolve(dirname(modelPath), 'model.json')): Promise<LoadedCard> {
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read model card ${cardPath}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`model card ${cardPath} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const card = parseModelCard(raw, `model card ${cardPath}`);
  const onnxPath = resolve(modelPath);
  let onnxBytes: Uint8Array;
  try {
    onnxBytes = await readFile(onnxPath);
  } catch (err) {
    throw new ConfigError(`cannot read model ${onnxPath}: ${(err as Error).message}`, { cause: err });
  }
  const digest = createHash('sha256').update(onnxBytes).digest('hex');
  if (digest !== card.sha256.toLowerCase()) {
    throw new ConfigError(`model ${onnxPath} does not match its card: sha256 is ${digest}, the card says ${card.sha256}`);
  }
  return { card, onnxPath, onnxBytes };
}

/** What a drift run takes from a model card: column types and, for model quality, classes and target. */
export interface DriftCard {
  /** `features[].type` by name, and the prediction (a class label) as categorical. */
  types: Map<string, ColumnType>;
  /** Model quality: the card's classes and the reference's target column; null without classes. */
  quality: { classes: string[]; target: string | null } | null;
}

/**
 * Reads a card for a drift run, which needs only its features' names and types (no ONNX file: a
 * card beside a log directory may be just `{"features": [{"name", "type"}]}`). Checked like a
 * serving card for the fields it uses; any problem is an InputError `bad_model_card` naming them.
 */
export async function loadDriftCard(path: string): Promise<DriftCard> {
  let raw: any;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InputError('bad_model_card', `cannot read model card ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || !Array.isArray(raw.features)) throw new InputError('bad_model_card', `model card ${path} has no "features" list`);
  const p: string[] = [];
  const seen = new Set<string>();
  const types = new Map<string, ColumnType>();
  (raw.features as any[]).forEach((f, i) => {
    const at = `features[${i}]`;
    if (f === null || typeof f !== 'object') return void p.push(`${at} must be an object`);
    const problems = nameTypeProblems(f, at, seen);
    if (problems.length === 0) types.set(f.name, f.type);
    p.push(...problems);
  });
  p.push(...reservedProblems(seen));
  const classes = raw.classes;
  if (classes !== undefined && (!Array.isArray(classes) || classes.length < 2 || !classes.every((c: unknown) => typeof c === 'string' && c.length > 0))) p.push('"classes" must list at least two class labels');
  if (p.length > 0) throw new InputError('bad_model_card', `model card ${path} is invalid: ${p.join('; ')}`, { details: p });
  types.set(PREDICTION_COLUMN, 'categorical');
  const target = typeof raw.training?.target === 'string' ? raw.training.target : null;
  return { types, quality: classes === undefined ? null : { classes, target } };
}
