/**
 * The pure part of `sentinel card`: a model card drafted from an ONNX graph's inputs and outputs
 * (onnxruntime's session metadata) and a reference table, and an existing card checked against a
 * graph. No I/O. Column types come from the drift layer's inference (`inferColumnType`, Evidently's
 * rules), so a card and a card-less drift run agree on what each column is.
 */
import { inferColumnType } from '../../drift/profile.ts';
import { missingCodeOf, type Column, type Table } from '../../table/columns.ts';
import type { FeatureSpec, ModelCard } from './card.ts';
import type { FeatureRow, OnnxValueInfo } from './onnx.ts';

const DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'int64', 'string']);
const FLOATS: ReadonlySet<string> = new Set(['float32', 'float64']);

/** How train.py names an ONNX input after a column: ONNX names cannot hold every character. */
export const onnxInputName = (column: string): string => column.replace(/[^A-Za-z0-9_]/g, '_');

export interface InputMatch {
  input: OnnxValueInfo;
  /** The reference column that feeds it (exact name, else the one whose onnxInputName matches). */
  column: string;
}

/**
 * Pairs every ONNX input with its reference column. Problems (one line each): inputs that are not
 * `[N, 1]` tensors of a supported type, inputs without a column, a missing target column.
 * `ignored`: reference columns that feed nothing (besides the target).
 */
export function matchInputs(inputs: readonly OnnxValueInfo[], header: readonly string[], target?: string): { matches: InputMatch[]; ignored: string[]; problems: string[] } {
  const problems: string[] = [];
  const matches: InputMatch[] = [];
  const candidates = header.filter((c) => c !== target);
  if (target !== undefined && !header.includes(target)) problems.push(`--target "${target}" is not a column of the reference`);
  for (const input of inputs) {
    const what = `ONNX input "${input.name}"`;
    if (!input.isTensor || input.type === null) {
      problems.push(`${what} is not a tensor; sentinel feeds one [N, 1] tensor per feature`);
      continue;
    }
    if (!DTYPES.has(input.type)) {
      problems.push(`${what} has element type ${input.type}; a card supports float32, float64, int64 and string inputs`);
      continue;
    }
    if (input.shape.length !== 2 || (typeof input.shape[1] === 'number' && input.shape[1] !== 1)) {
      problems.push(`${what} has shape [${input.shape.map((d) => (d === '' ? 'N' : d)).join(', ')}]; sentinel feeds one [N, 1] tensor per feature: export the model with one input per column (skl2onnx: one initial_types entry per column)`);
      continue;
    }
    let column = candidates.find((c) => c === input.name);
    if (column === undefined) {
      const alike = candidates.filter((c) => onnxInputName(c) === input.name);
      if (alike.length > 1) {
        problems.push(`${what} matches several reference columns (${alike.join(', ')})`);
        continue;
      }
      column = alike[0];
    }
    if (column === undefined) {
      problems.push(`${what} (${input.type}) has no reference column "${input.name}"`);
      continue;
    }
    matches.push({ input, column });
  }
  const used = new Set(matches.map((m) => m.column));
  return { matches, ignored: candidates.filter((c) => !used.has(c)), problems };
}

export interface FeatureOverrides {
  /** Allowed range of a numerical feature instead of the reference's observed min and max. */
  ranges?: Record<string, { min: number; max: number }>;
  /** Features that may be null although the reference has no missing value. */
  nullable?: readonly string[];
  /** Extra allowed values of categorical features. */
  categories?: Record<string, readonly string[]>;
  /** Default ranges extend the observed min..max by this many spans on each side (default 1); 0 = observed. */
  rangeMargin?: number;
}

/**
 * The default allowed range of a numerical feature: the reference's [lo, hi] widened by `margin`
 * spans on each side, so a new value somewhat beyond the reference is served while a gross error
 * (a unit mix-up, a sign flip on non-negative data) is refused. Non-negative data stays >= 0;
 * whole-number data gets whole bounds; bounds are rounded outward to 3 significant digits of the span.
 */
export function defaultRange(lo: number, hi: number, integer: boolean, margin: number): { min: number; max: number } {
  if (margin === 0) return { min: lo, max: hi };
  const span = hi - lo || Math.abs(hi) || 1;
  let min = lo - margin * span;
  let max = hi + margin * span;
  if (lo >= 0) min = Math.max(0, min);
  const exp = Math.floor(Math.log10(span)) - 2;
  const step = integer ? Math.max(1, 10 ** exp) : 10 ** exp;
  // Outward to a multiple of step; toPrecision trims binary noise such as 18.470000000000002.
  const round = (x: number, f: (y: number) => number) => Number((f(x / step) * step).toPrecision(12));
  min = round(min, Math.floor);
  max = round(max, Math.ceil);
  return { min, max };
}

function firstText(col: Column): string | undefined {
  if (col.kind !== 'categorical') return undefined;
  return col.dictionary.find((v) => !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) && !/^[+-]?inf(inity)?$/i.test(v));
}

/**
 * Card features in ONNX input order, from the reference columns. Types follow `inferColumnType`; a
 * numeric input stays numerical even where that inference says categorical (integers with at most
 * 10 distinct values), since the API takes numbers for it: that case is returned as a note.
 */
export function draftFeatures(matches: readonly InputMatch[], table: Table, overrides: FeatureOverrides = {}): { features: FeatureSpec[]; problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const features: FeatureSpec[] = [];
  const names = new Set(matches.map((m) => m.column));
  for (const [flag, list] of [['--range', Object.keys(overrides.ranges ?? {})], ['--nullable', overrides.nullable ?? []], ['--category', Object.keys(overrides.categories ?? {})]] as const) {
    for (const n of list) if (!names.has(n)) problems.push(`${flag} names "${n}", which is not a feature of the model`);
  }
  for (const { input, column } of matches) {
    const col = table.columns.get(column);
    const dtype = input.type as FeatureSpec['dtype'];
    if (col === undefined) {
      problems.push(`reference column "${column}" could not be read`);
      continue;
    }
    const inferred = inferColumnType(col);
    const nullable = col.missing > 0 || (overrides.nullable ?? []).includes(column);
    if (dtype === 'string') {
      if (col.kind !== 'categorical') throw new Error(`internal: column "${column}" feeds a string input and must be read as categorical`);
      if (inferred.text) notes.push(`feature "${column}": most values are distinct (free text?); the card lists every one as an allowed category`);
      const seen = new Set<string>();
      const missing = missingCodeOf(col.codes);
      for (let i = 0; i < col.codes.length; i++) if (col.codes[i] !== missing) seen.add(col.dictionary[col.codes[i]]);
      for (const c of overrides.categories?.[column] ?? []) seen.add(c);
      features.push({ name: column, onnx_input: input.name, type: 'categorical', dtype, nullable, categories: [...seen].sort() });
      continue;
    }
    if (col.kind !== 'numerical') {
      const example = firstText(col);
      problems.push(`reference column "${column}" holds non-numbers${example === undefined ? '' : ` (e.g. "${example}")`} but ONNX input "${input.name}" takes ${dtype}`);
      continue;
    }
    let lo = Infinity;
    let hi = -Infinity;
    let integer = true;
    let infinite = 0;
    for (const v of col.values) {
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) {
        infinite++;
        continue;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (integer && !Number.isInteger(v)) integer = false;
    }
    if (dtype === 'int64' && !integer) {
      problems.push(`reference column "${column}" holds fractional numbers but ONNX input "${input.name}" takes int64`);
      continue;
    }
    if (infinite > 0) notes.push(`feature "${column}": ${infinite} infinite value(s) in the reference; the API accepts finite numbers only`);
    if (inferred.type === 'categorical') {
      notes.push(`feature "${column}": integers with at most 10 distinct values, which drift detection infers as categorical; the card keeps it numerical because ONNX input "${input.name}" takes ${dtype} numbers`);
    }
    const spec: FeatureSpec = { name: column, onnx_input: input.name, type: 'numerical', dtype, nullable };
    const range = overrides.ranges?.[column];
    if (range !== undefined) {
      if (lo <= hi && (lo < range.min || hi > range.max)) {
        problems.push(`--range ${column}=${range.min}:${range.max} excludes reference values (observed ${lo}..${hi})`);
        continue;
      }
      spec.min = range.min;
      spec.max = range.max;
    } else if (lo <= hi) {
      Object.assign(spec, defaultRange(lo, hi, integer, overrides.rangeMargin ?? 1));
    }
    spec.integer = lo <= hi && integer;
    features.push(spec);
  }
  return { features, problems, notes };
}

/** The outputs the server reads: a float probabilities tensor [N, K], and the label tensor when there is one. */
export function chooseOutputs(outputs: readonly OnnxValueInfo[], given: { label?: string; probabilities?: string } = {}): { label: string | null; probabilities: string | null; classCount: number | null; problems: string[] } {
  const problems: string[] = [];
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const isProb = (o: OnnxValueInfo) => o.isTensor && FLOATS.has(o.type ?? '') && o.shape.length === 2;
  const isLabel = (o: OnnxValueInfo) => o.isTensor && (o.type === 'string' || o.type === 'int64') && (o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1));
  const pick = (kind: string, flag: string, name: string | undefined, ok: (o: OnnxValueInfo) => boolean, required: boolean): OnnxValueInfo | null => {
    if (name !== undefined) {
      const o = byName.get(name);
      if (o === undefined) problems.push(`${flag} "${name}" is not an output of the model (outputs: ${outputs.map((x) => x.name).join(', ')})`);
      else if (!ok(o)) problems.push(`${flag} "${name}" is not a ${kind} tensor`);
      return o !== undefined && ok(o) ? o : null;
    }
    const found = outputs.filter(ok);
    if (found.length === 1) return found[0];
    if (found.length > 1) problems.push(`the model has several ${kind} outputs (${found.map((o) => o.name).join(', ')}); choose one with ${flag}`);
    else if (required) {
      const maps = outputs.filter((o) => !o.isTensor).map((o) => o.name);
      problems.push(maps.length > 0
        ? `the model's probabilities come as a ZipMap (output ${maps.map((m) => `"${m}"`).join(', ')}, a sequence of maps), which onnxruntime-node cannot return: export them as a tensor (skl2onnx: options={"zipmap": False})`
        : `the model has no probabilities output (a float tensor [N, classes]); outputs: ${outputs.map((o) => `${o.name} ${o.type ?? 'non-tensor'} [${o.shape.join(', ')}]`).join('; ')}`);
    }
    return null;
  };
  const probabilities = pick('probabilities (float [N, K])', '--probabilities-output', given.probabilities, isProb, true);
  const label = pick('label (string or int64 [N])', '--label-output', given.label, isLabel, false);
  const k = probabilities !== null && typeof probabilities.shape[1] === 'number' ? probabilities.shape[1] : null;
  return { label: label?.name ?? null, probabilities: probabilities?.name ?? null, classCount: k, problems };
}

/**
 * Class labels in probability-column order, from a probe run: on each row with a single most likely
 * column, the label output names that column's class. `given` (--classes) is checked the same way.
 */
export function classesFromProbe(k: number, probs: ArrayLike<number>, labels: ArrayLike<string | number | bigint> | null, given?: readonly string[]): { classes: string[] | null; problems: string[] } {
  const rows = Math.floor(probs.length / k);
  const argmax = (i: number): number => {
    let best = 0;
    let tie = false;
    for (let c = 1; c < k; c++) {
      const p = probs[i * k + c];
      if (p > probs[i * k + best]) {
        best = c;
        tie = false;
      } else if (p === probs[i * k + best]) tie = true;
    }
    return tie ? -1 : best;
  };
  if (given !== undefined) {
    if (given.length !== k) return { classes: null, problems: [`--classes names ${given.length} classes but the probabilities output has ${k} columns`] };
    if (new Set(given).size !== given.length) return { classes: null, problems: ['--classes lists a class twice'] };
    if (labels === null) return { classes: [...given], problems: [] };
    let bad = 0;
    let first = '';
    for (let i = 0; i < rows; i++) {
      const j = argmax(i);
      if (j >= 0 && String(labels[i]) !== given[j]) {
        if (bad++ === 0) first = `row ${i + 1}: label "${String(labels[i])}", most likely column ${j} = "${given[j]}"`;
      }
    }
    return bad === 0 ? { classes: [...given], problems: [] } : { classes: null, problems: [`--classes disagrees with the model's label output on ${bad} of ${rows} probed rows (${first})`] };
  }
  if (labels === null) return { classes: null, problems: ['the model has no label output: name the classes in probability-column order with --classes a,b,...'] };
  const classes: (string | undefined)[] = new Array(k).fill(undefined);
  for (let i = 0; i < rows; i++) {
    const j = argmax(i);
    if (j < 0) continue;
    const l = String(labels[i]);
    if (classes[j] === undefined) classes[j] = l;
    else if (classes[j] !== l) return { classes: null, problems: [`the label output names probability column ${j} both "${classes[j]}" and "${l}"; name the classes with --classes a,b,...`] };
  }
  const unseen = classes.flatMap((c, j) => (c === undefined ? [j] : []));
  if (unseen.length > 0) {
    return { classes: null, problems: [`probability column(s) ${unseen.join(', ')} never came out most likely on the ${rows} probed reference rows, so their class labels are unknown: name the classes in column order with --classes a,b,...`] };
  }
  if (new Set(classes).size !== k) return { classes: null, problems: [`the label output names the same class for several probability columns (${classes.join(', ')})`] };
  return { classes: classes as string[], problems: [] };
}

/** Rows `from`..`from+count` of the reference as the API receives them (null for a missing value). */
export function referenceRows(table: Table, features: readonly FeatureSpec[], from: number, count: number): FeatureRow[] {
  const out: FeatureRow[] = [];
  const end = Math.min(table.rows, from + count);
  for (let i = from; i < end; i++) {
    const row: FeatureRow = {};
    for (const f of features) {
      const col = table.columns.get(f.name)!;
      if (col.kind === 'numerical') row[f.name] = Number.isNaN(col.values[i]) ? null : col.values[i];
      else row[f.name] = col.codes[i] === missingCodeOf(col.codes) ? null : col.dictionary[col.codes[i]];
    }
    out.push(row);
  }
  return out;
}

/** What an existing card says that its graph contradicts: one line per problem. */
export function checkCardAgainstGraph(card: ModelCard, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[]): string[] {
  const problems: string[] = [];
  const byInput = new Map(inputs.map((i) => [i.name, i]));
  const fed = new Set<string>();
  for (const f of card.features) {
    const i = byInput.get(f.onnx_input);
    fed.add(f.onnx_input);
    if (i === undefined) {
      problems.push(`feature "${f.name}": the model has no input "${f.onnx_input}"`);
      continue;
    }
    if (i.type !== f.dtype) problems.push(`feature "${f.name}": the card says ${f.dtype}, ONNX input "${i.name}" takes ${i.type ?? 'a non-tensor'}`);
    if (i.shape.length !== 2 || (typeof i.shape[1] === 'number' && i.shape[1] !== 1)) problems.push(`feature "${f.name}": ONNX input "${i.name}" has shape [${i.shape.join(', ')}], not [N, 1]`);
    if ((f.dtype === 'string') !== (f.type === 'categorical')) problems.push(`feature "${f.name}": a ${f.type} feature cannot feed a ${f.dtype} input`);
  }
  for (const i of inputs) if (!fed.has(i.name)) problems.push(`ONNX input "${i.name}" is fed by no feature of the card`);
  const chosen = chooseOutputs(outputs, { label: card.outputs.label, probabilities: card.outputs.probabilities });
  problems.push(...chosen.problems.map((p) => p.replace('--probabilities-output', 'outputs.probabilities').replace('--label-output', 'outputs.label')));
  if (chosen.classCount !== null && chosen.classCount !== card.classes.length) {
    problems.push(`the card lists ${card.classes.length} classes but output "${card.outputs.probabilities}" has ${chosen.classCount} columns`);
  }
  return problems;
}

/** Two rows that every card accepts: each feature at its low end, then at its high end. */
export function boundaryRows(card: ModelCard): FeatureRow[] {
  return [0, 1].map((side) => {
    const row: FeatureRow = {};
    for (const f of card.features) {
      if (f.type === 'categorical') row[f.name] = f.categories![side === 0 ? 0 : f.categories!.length - 1];
      else {
        const v = side === 0 ? f.min ?? 0 : f.max ?? f.min ?? 0;
        row[f.name] = f.integer ? Math.round(v) : v;
      }
    }
    return row;
  });
}
