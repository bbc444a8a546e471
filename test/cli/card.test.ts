/**
 * `sentinel card` as a real process on real models: the bundled Adult RandomForest (the generated card
 * equals the committed one apart from what only training knows) and the wine logistic regression
 * (models/wine), whose card, serving and drift are run end to end as docs/bring-your-own-model.md shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { REPO, SENTINEL, startSentinel } from '../support/process.ts';

const sentinel = (args: string[]) => spawnSync(process.execPath, [SENTINEL, ...args], { cwd: REPO, encoding: 'utf8' });
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

function withModel(dir: string, from: string): string {
  const model = join(dir, 'model.onnx');
  copyFileSync(join(REPO, from), model);
  return model;
}

// Written by models/train.py from what only training knows: when and how the model was made, its
// description and training statistics. Everything else `sentinel card init` derives from the graph and data.
const TRAINING_ONLY = ['created', 'framework', 'description', 'training'];
// models/train.py sets these domains by hand (plausible values, wider than the data): given as --range.
const ADULT_RANGES = ['age=0:120', 'education-num=1:16', 'capital-gain=0:100000', 'capital-loss=0:100000', 'hours-per-week=0:168'];

test('card init on the bundled model reproduces models/model.json apart from the training-only fields', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-card-'));
  try {
    const model = withModel(dir, 'models/model.onnx');
    const r = sentinel(['card', 'init', '--model', model, '--reference', join(REPO, 'data/adult/adult.csv'), '--target', 'class',
      '--name', 'adult-income-random-forest', '--version', 'adult-rf-1.0.0', ...ADULT_RANGES.flatMap((x) => ['--range', x])]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^wrote .*model\.json: 13 features \(8 categorical\), classes <=50K, >50K \(from 20000 probed rows\), outputs label \/ probabilities\n/);
    assert.equal(r.stdout.split('\n').filter((l) => /^ {2}row \d: (<=50K|>50K) \(confidence 0\.\d{4}\)/.test(l)).length, 5);
    assert.equal(r.stderr, 'card: note: reference column(s) not fed to the model: fnlwgt\n');
    const generated = readJson(join(dir, 'model.json'));
    const committed = readJson(join(REPO, 'models/model.json'));
    for (const k of TRAINING_ONLY) delete committed[k];
    assert.deepEqual(generated, committed);
    // Key order too: the file reads like the committed one.
    assert.deepEqual(Object.keys(generated), Object.keys(committed));
    assert.equal(sentinel(['card', 'check', '--model', model]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('card init refuses a reference that does not fit the model, one line per problem, and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-card-'));
  try {
    const model = withModel(dir, 'models/model.onnx');
    // The Adult reference without `age`, and a word where hours-per-week takes numbers.
    const rows = parse(readFileSync(join(REPO, 'data/reference.csv'), 'utf8'), { columns: true }).slice(0, 50) as Record<string, string>[];
    rows[3]['hours-per-week'] = 'forty';
    const cols = Object.keys(rows[0]).filter((c) => c !== 'age');
    writeFileSync(join(dir, 'ref.csv'), [cols.join(','), ...rows.map((row) => cols.map((c) => JSON.stringify(row[c])).join(','))].join('\n') + '\n');
    const r = sentinel(['card', 'init', '--model', model, '--reference', join(dir, 'ref.csv'), '--target', 'class']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, [
      'sentinel card init: ONNX input "age" (float32) has no reference column "age"',
      'sentinel card init: reference column "hours-per-week" holds non-numbers (e.g. "forty") but ONNX input "hours_per_week" takes float32',
      '',
    ].join('\n'));
    assert.equal(existsSync(join(dir, 'model.json')), false);
    // An existing card is never overwritten silently.
    writeFileSync(join(dir, 'model.json'), '{}');
    const again = sentinel(['card', 'init', '--model', model, '--reference', join(REPO, 'data/reference.csv'), '--target', 'class']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /model\.json exists; pass --force to overwrite it, or --out FILE\n$/);
    assert.equal(readFileSync(join(dir, 'model.json'), 'utf8'), '{}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('card init refuses a default skl2onnx export (one [N, 4] input, ZipMap probabilities) and says how to export it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-card-'));
  try {
    const r = sentinel(['card', 'init', '--model', join(REPO, 'test/fixtures/model/iris-zipmap.onnx'), '--reference', join(REPO, 'models/wine/reference.csv'), '--out', join(dir, 'card.json')]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, [
      'sentinel card init: ONNX input "x" has shape [N, 4]; sentinel feeds one [N, 1] tensor per feature: export the model with one input per column (skl2onnx: one initial_types entry per column)',
      'sentinel card init: the model\'s probabilities come as a ZipMap (output "output_probability", a sequence of maps), which onnxruntime-node cannot return: export them as a tensor (skl2onnx: options={"zipmap": False})',
      '',
    ].join('\n'));
    assert.equal(existsSync(join(dir, 'card.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('card check accepts the committed cards and names what a tampered card gets wrong', () => {
  for (const m of ['models/model.onnx', 'models/wine/model.onnx']) {
    const r = sentinel(['card', 'check', '--model', m]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^card OK: /);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-card-'));
  try {
    const model = withModel(dir, 'models/wine/model.onnx');
    const card = readJson(join(REPO, 'models/wine/model.json'));
    // Swapped class order: the label output contradicts it.
    writeFileSync(join(dir, 'swapped.json'), JSON.stringify({ ...card, classes: [card.classes[1], card.classes[0], card.classes[2]] }));
    const swapped = sentinel(['card', 'check', '--model', model, '--card', join(dir, 'swapped.json')]);
    assert.equal(swapped.status, 1);
    assert.match(swapped.stderr, /^sentinel card check: the card's "classes" disagrees with the model's label output on \d of 2 probed rows/);
    // A wrong dtype and a feature the graph does not have.
    const features = card.features.map((f: any, i: number) => (i === 0 ? { ...f, dtype: 'float64' } : i === 1 ? { ...f, onnx_input: 'malic' } : f));
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ ...card, features }));
    const wrong = sentinel(['card', 'check', '--model', model, '--card', join(dir, 'wrong.json')]);
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr, [
      'sentinel card check: feature "alcohol": the card says float64, ONNX input "alcohol" takes float32',
      'sentinel card check: feature "malic_acid": the model has no input "malic"',
      'sentinel card check: ONNX input "malic_acid" is fed by no feature of the card',
      '',
    ].join('\n'));
    // A card of another model: the sha256 check comes first.
    const other = sentinel(['card', 'check', '--model', model, '--card', join(REPO, 'models/model.json')]);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /does not match its card: sha256 is 42bcb604/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wine model end to end: card init reproduces the committed card, serve it, predict, drift against its reference', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-card-'));
  try {
    const model = withModel(dir, 'models/wine/model.onnx');
    const init = sentinel(['card', 'init', '--model', model, '--reference', join(REPO, 'models/wine/reference.csv'), '--target', 'cultivar',
      '--name', 'wine-cultivar-logreg', '--version', 'wine-logreg-1.0.0']);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(init.stderr, '');
    assert.deepEqual(readJson(join(dir, 'model.json')), readJson(join(REPO, 'models/wine/model.json')));

    const current = parse(readFileSync(join(REPO, 'models/wine/current.csv'), 'utf8'), { columns: true, cast: (v, ctx) => (ctx.header || ctx.column === 'cultivar' ? v : Number(v)) }) as Record<string, number | string>[];
    const logDir = join(dir, 'live');
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--model', model, '--log-dir', logDir]);
    let correct = 0;
    try {
      const instances = current.map(({ cultivar, ...features }) => features);
      const res = await fetch(`${proc.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
      assert.equal(res.status, 200, (await res.clone().text()).slice(0, 500));
      const body = (await res.json()) as { predictions: { prediction: string; probabilities: Record<string, number>; model_version: string }[] };
      assert.equal(body.predictions.length, current.length);
      for (const [i, p] of body.predictions.entries()) {
        assert.deepEqual(Object.keys(p.probabilities), ['class_0', 'class_1', 'class_2']);
        assert.equal(p.model_version, 'wine-logreg-1.0.0');
        if (p.prediction === current[i].cultivar) correct++;
      }
    } finally {
      proc.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
    }
    // models/wine/train.py reports holdout accuracy 0.9722 (70 of these 72 rows) for scikit-learn.
    assert.equal(correct, 70);

    const out = join(dir, 'reports');
    const drift = sentinel(['drift', '--reference', join(REPO, 'models/wine/reference.csv'), '--current', logDir, '--model-card', join(dir, 'model.json'), '--out', out, '--json', '--quiet', '--workers', '0']);
    assert.equal(drift.status, 0, drift.stderr);
    const result = JSON.parse(drift.stdout);
    assert.equal(result.current.rows, current.length);
    assert.equal(result.reference.rows, 106);
    const card = readJson(join(dir, 'model.json'));
    assert.deepEqual(result.columns.map((c: { name: string }) => c.name).sort(), card.features.map((f: { name: string }) => f.name).sort());
    assert.ok(result.columns.every((c: { type: string; error: unknown }) => c.type === 'numerical' && c.error === null));
    assert.ok(readdirSync(out).includes('latest.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
