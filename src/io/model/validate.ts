import { InputError } from '../../errors.ts';
import type { FeatureSpec, ModelCard } from './card.ts';
import type { FeatureRow } from './onnx.ts';

export interface FieldProblem {
  /** JSON path of the offending field, e.g. `instances[2].age`. */
  field: string;
  code: 'missing' | 'unknown_feature' | 'unknown_field' | 'wrong_type' | 'not_finite' | 'out_of_range' | 'not_integer' | 'unknown_category' | 'unknown_class' | 'invalid_id' | 'invalid_shape';
  message: string;
}

export interface ValidatorOptions {
  /** Largest `instances` array accepted in one request. */
  maxInstances: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? 'a string' : typeof v);

/**
 * Builds the request validator for a model card. It checks every field and reports every problem,
 * so a client fixes its request in one round trip.
 */
export function createValidator(card: ModelCard, opts: ValidatorOptions) {
  const specs = new Map<string, FeatureSpec>(card.features.map((f) => [f.name, f]));
  const categories = new Map<string, Set<string>>(
    card.features.filter((f) => f.type === 'categorical').map((f) => [f.name, new Set(f.categories)]),
  );

  function checkInstance(value: unknown, at: string, problems: FieldProblem[]): FeatureRow | undefined {
    if (!isPlainObject(value)) {
      problems.push({ field: at, code: 'invalid_shape', message: `${at} must be an object of feature values, got ${describe(value)}` });
      return undefined;
    }
    const row: FeatureRow = Object.create(null);
    for (const key of Object.keys(value)) {
      if (!specs.has(key)) problems.push({ field: `${at}.${key}`, code: 'unknown_feature', message: `"${truncate(key)}" is not a feature of model ${card.name}` });
    }
    // The field's path is built only for a problem: this loop runs for every feature of every request.
    const fieldOf = (spec: FeatureSpec) => `${at}.${spec.name}`;
    for (const spec of card.features) {
      if (!Object.hasOwn(value, spec.name)) {
        problems.push({ field: fieldOf(spec), code: 'missing', message: `feature "${spec.name}" is required${spec.nullable ? ' (send null when the value is unknown)' : ''}` });
        continue;
      }
      const v = value[spec.name];
      if (v === null) {
        if (spec.nullable) row[spec.name] = null;
        else problems.push({ field: fieldOf(spec), code: 'wrong_type', message: `feature "${spec.name}" may not be null` });
        continue;
      }
      if (spec.type === 'numerical') {
        if (typeof v !== 'number') {
          problems.push({ field: fieldOf(spec), code: 'wrong_type', message: `feature "${spec.name}" must be a number, got ${describe(v)}` });
        } else if (!Number.isFinite(v)) {
          problems.push({ field: fieldOf(spec), code: 'not_finite', message: `feature "${spec.name}" must be finite` });
        } else if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
          problems.push({ field: fieldOf(spec), code: 'out_of_range', message: `feature "${spec.name}" must be between ${spec.min ?? '-inf'} and ${spec.max ?? 'inf'}, got ${v}` });
        } else if (spec.integer && !Number.isInteger(v)) {
          problems.push({ field: fieldOf(spec), code: 'not_integer', message: `feature "${spec.name}" must be a whole number, got ${v}` });
        } else {
          row[spec.name] = v;
        }
      } else if (typeof v !== 'string') {
        problems.push({ field: fieldOf(spec), code: 'wrong_type', message: `feature "${spec.name}" must be a string, got ${describe(v)}` });
      } else if (!categories.get(spec.name)!.has(v)) {
        problems.push({ field: fieldOf(spec), code: 'unknown_category', message: `"${truncate(v)}" is not an allowed value of feature "${spec.name}"` });
      } else {
        row[spec.name] = v;
      }
    }
    return row;
  }

  /** Returns the rows of a `{features}` or `{instances}` body, or throws a 422 naming every offending field. */
  return function validatePredictRequest(body: unknown): { rows: FeatureRow[]; batch: boolean } {
    const problems: FieldProblem[] = [];
    if (!isPlainObject(body)) {
      throw new InputError('invalid_body', 'the request body must be a JSON object with "features" or "instances"', { status: 400 });
    }
    const keys = Object.keys(body);
    const extra = keys.filter((k) => k !== 'features' && k !== 'instances');
    for (const k of extra) problems.push({ field: truncate(k), code: 'unknown_feature', message: `unexpected top-level field "${truncate(k)}"; send "features" or "instances"` });
    const hasFeatures = Object.hasOwn(body, 'features');
    const hasInstances = Object.hasOwn(body, 'instances');
    if (hasFeatures === hasInstances) {
      throw new InputError('invalid_body', 'the request body must have exactly one of "features" (one instance) or "instances" (a batch)', {
        status: 400,
        details: problems,
      });
    }
    let rows: FeatureRow[] = [];
    if (hasFeatures) {
      const row = checkInstance(body.features, 'features', problems);
      if (row) rows = [row];
    } else {
      rows = checkBatch(body.instances, 'objects', opts.maxInstances, problems, checkInstance);
    }
    throwIfProblems('invalid_features', problems);
    return { rows, batch: hasInstances };
  };
}

/** One ground-truth label for an earlier prediction (POST /feedback). */
export interface FeedbackItem {
  /** The prediction's `id` (UUID), lower-cased so the join by id is exact. */
  request_id: string;
  label: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Builds the POST /feedback validator: `{"request_id", "label"}` or `{"instances": [...]}` with the
 * same batch limit as /predict; labels must be one of the card's classes. Throws the same 400/422
 * errors as the predict validator, naming every offending field.
 */
export function createFeedbackValidator(card: ModelCard, opts: ValidatorOptions) {
  const classes = new Set(card.classes);

  function checkItem(value: unknown, at: string, problems: FieldProblem[]): FeedbackItem | undefined {
    if (!isPlainObject(value)) {
      problems.push({ field: at || 'body', code: 'invalid_shape', message: `${at || 'the body'} must be an object with "request_id" and "label", got ${describe(value)}` });
      return undefined;
    }
    const p = at ? `${at}.` : '';
    let ok = true;
    for (const key of Object.keys(value)) {
      if (key !== 'request_id' && key !== 'label') {
        problems.push({ field: `${p}${truncate(key)}`, code: 'unknown_field', message: `unexpected field "${truncate(key)}"; send "request_id" and "label"` });
        ok = false;
      }
    }
    const id = value.request_id;
    if (!Object.hasOwn(value, 'request_id')) {
      problems.push({ field: `${p}request_id`, code: 'missing', message: '"request_id" is required: the id of the prediction this label belongs to' });
      ok = false;
    } else if (typeof id !== 'string') {
      problems.push({ field: `${p}request_id`, code: 'wrong_type', message: `"request_id" must be a string, got ${describe(id)}` });
      ok = false;
    } else if (!UUID.test(id)) {
      problems.push({ field: `${p}request_id`, code: 'invalid_id', message: `"request_id" must be a prediction id (a UUID), got "${truncate(id)}"` });
      ok = false;
    }
    const label = value.label;
    if (!Object.hasOwn(value, 'label')) {
      problems.push({ field: `${p}label`, code: 'missing', message: `"label" is required: one of ${card.classes.join(', ')}` });
      ok = false;
    } else if (typeof label !== 'string') {
      problems.push({ field: `${p}label`, code: 'wrong_type', message: `"label" must be a string, got ${describe(label)}` });
      ok = false;
    } else if (!classes.has(label)) {
      problems.push({ field: `${p}label`, code: 'unknown_class', message: `"${truncate(label)}" is not a class of model ${card.name} (${card.classes.join(', ')})` });
      ok = false;
    }
    return ok ? { request_id: (id as string).toLowerCase(), label: label as string } : undefined;
  }

  /** Returns the items of a single or batch body, or throws a 400/422 naming every offending field. */
  return function validateFeedbackRequest(body: unknown): { items: FeedbackItem[]; batch: boolean } {
    if (!isPlainObject(body)) {
      throw new InputError('invalid_body', 'the request body must be a JSON object: {"request_id", "label"} or {"instances": [...]}', { status: 400 });
    }
    const problems: FieldProblem[] = [];
    const batch = Object.hasOwn(body, 'instances');
    let items: FeedbackItem[] = [];
    if (!batch) {
      const item = checkItem(body, '', problems);
      if (item) items = [item];
    } else {
      for (const k of Object.keys(body)) {
        if (k !== 'instances') problems.push({ field: truncate(k), code: 'unknown_field', message: `unexpected top-level field "${truncate(k)}" beside "instances"` });
      }
      items = checkBatch(body.instances, '{"request_id", "label"} objects', opts.maxInstances, problems, checkItem);
    }
    throwIfProblems('invalid_feedback', problems);
    return { items, batch };
  };
}

/** The `instances` of a batch request: a non-empty array of at most `max` items, each checked. */
function checkBatch<T>(list: unknown, shape: string, max: number, problems: FieldProblem[], check: (v: unknown, at: string, problems: FieldProblem[]) => T | undefined): T[] {
  const out: T[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    problems.push({ field: 'instances', code: 'invalid_shape', message: `"instances" must be a non-empty array of ${shape}` });
  } else if (list.length > max) {
    problems.push({ field: 'instances', code: 'invalid_shape', message: `"instances" holds ${list.length} items; at most ${max} per request` });
  } else {
    list.forEach((v, i) => {
      const item = check(v, `instances[${i}]`, problems);
      if (item) out.push(item);
    });
  }
  return out;
}

/** 422 naming every problem; the answer is bounded, since a hostile body can name thousands of fields. */
function throwIfProblems(code: string, problems: FieldProblem[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 100);
  throw new InputError(code, `${problems.length} invalid field(s): ${shown.slice(0, 5).map((p) => p.field).join(', ')}${problems.length > 5 ? ', ...' : ''}`, {
    status: 422,
    details: { problems: shown, total: problems.length },
  });
}

function truncate(s: string, n = 64): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}
