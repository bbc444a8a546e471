// The one model-card reader: loadModelCard (serving: the full card and its ONNX file) and
// loadDriftCard (a drift run: the features' names and types, classes for model quality), one module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDriftCard } from '../../src/io/model/card.ts';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { InputError } from '../../src/errors.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'sentinel-card-'));
const put = (dir: string, body: string) => {
  const p = join(dir, 'model.json');
  writeFileSync(p, body);
  return p;
};

test('loadDriftCard: the bundled card gives every feature type, the prediction as categorical, classes and target', async () => {
  const path = join(ROOT, 'models', 'model.json');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { features: { name: string; type: string }[]; classes: string[]; training?: { target?: string } };
  const card = await loadDriftCard(path);
  assert.deepEqual([...card.types], [...raw.features.map((f) => [f.name, f.type]), ['prediction', 'categorical']]);
  assert.deepEqual(card.quality, { classes: raw.classes, target: raw.training?.target ?? null });
});

test('loadDriftCard: a card of feature names and types only is enough (no model quality)', async () => {
  const card = await loadDriftCard(put(tmp(), JSON.stringify({ features: [{ name: 'age', type: 'numerical' }, { name: 'sex', type: 'categorical' }] })));
  assert.deepEqual([...card.types], [['age', 'numerical'], ['sex', 'categorical'], ['prediction', 'categorical']]);
  assert.equal(card.quality, null);
});

test('loadDriftCard: every problem is a bad_model_card InputError naming the card and what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['{"features": [', /cannot read model card .*model\.json: /],
    ['{"classes": ["a", "b"]}', /has no "features" list/],
    ['[]', /has no "features" list/],
    ['{"features": [{"name": "age", "type": "text"}]}', /features\[0\]\.type must be "numerical" or "categorical"/],
    ['{"features": [{"type": "numerical"}]}', /features\[0\]\.name must be a non-empty string/],
    ['{"features": [{"name": "a", "type": "numerical"}, {"name": "a", "type": "categorical"}]}', /features\[1\]\.name "a" is listed twice/],
    ['{"features": [{"name": "timestamp", "type": "numerical"}]}', /feature name "timestamp" collides with a prediction-log column/],
    ['{"features": [{"name": "a", "type": "numerical"}], "classes": ["only"]}', /"classes" must list at least two class labels/],
  ];
  for (const [body, message] of cases) {
    const path = put(tmp(), body);
    await assert.rejects(loadDriftCard(path), (err: Error) => {
      assert.ok(err instanceof InputError, body);
      assert.equal((err as InputError).code, 'bad_model_card', body);
      assert.ok(err.message.includes(path), body);
      assert.match(err.message, message, body);
      return true;
    });
  }
  await assert.rejects(loadDriftCard(join(tmp(), 'missing.json')), { code: 'bad_model_card', message: /cannot read model card .*missing\.json: ENOENT/ });
});

test('a drift run with a broken model card fails with bad_model_card before reading the data', async () => {
  const dir = tmp();
  const card = put(dir, '{"features": [{"name": "age", "type": "numeric"}]}');
  await assert.rejects(
    runDriftJob({ reference: join(ROOT, 'data', 'reference.csv'), current: join(ROOT, 'data', 'current.csv'), out: join(dir, 'reports'), modelCard: card, save: false, cache: false, workers: 0 }),
    { code: 'bad_model_card', message: /features\[0\]\.type must be "numerical" or "categorical"/ },
  );
});
