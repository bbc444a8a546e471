import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadBundledModel } from '../support/model.ts';
import { REPO } from '../support/process.ts';

// Fixture written by models/train.py: held-out rows with scikit-learn's predict_proba.
const fixture = JSON.parse(readFileSync(`${REPO}test/fixtures/model/holdout.json`, 'utf8'));

describe('bundled ONNX model', () => {
  it(`matches scikit-learn's probabilities on ${fixture.rows.length} held-out rows within 1e-5`, async () => {
    assert.ok(fixture.rows.length >= 500);
    const model = await loadBundledModel();
    try {
      const preds = await model.predict(fixture.rows.map((r: any) => r.features));
      let worst = 0;
      fixture.rows.forEach((r: any, i: number) => {
        for (let c = 0; c < r.probabilities.length; c++) worst = Math.max(worst, Math.abs(preds[i].probabilities[c] - r.probabilities[c]));
        assert.equal(preds[i].label, r.label, `row ${i}: label`);
      });
      assert.ok(worst <= 1e-5, `max abs difference ${worst}`);
    } finally {
      await model.close();
    }
  });

  it('predicts a batch the same as one row at a time', async () => {
    const model = await loadBundledModel();
    try {
      const rows = fixture.rows.slice(0, 50).map((r: any) => r.features);
      const batch = await model.predict(rows);
      for (let i = 0; i < rows.length; i++) {
        const [single] = await model.predict([rows[i]]);
        assert.deepEqual(single, batch[i]);
      }
    } finally {
      await model.close();
    }
  });
});

describe('natural micro-batching', () => {
  it('concurrent requests share runs, each gets exactly what a run of its own gives (hold-out fixture)', async () => {
    const model = await loadBundledModel();
    try {
      const rows = fixture.rows.map((r: any) => r.features);
      const alone: unknown[] = [];
      for (const row of rows) alone.push((await model.predict([row]))[0]);
      const before = model.runStats();
      assert.equal(before.largest, 1, 'sequential calls never batch');
      // Every row as its own request, all in flight at once, plus a few multi-row requests.
      const together = await Promise.all(rows.map((row: any) => model.predict([row])));
      const multi = await Promise.all([model.predict(rows.slice(0, 3)), model.predict(rows.slice(3, 5)), model.predict(rows.slice(5, 100))]);
      const after = model.runStats();
      together.forEach((preds, i) => {
        assert.equal(preds.length, 1);
        assert.deepEqual(preds[0], alone[i], `row ${i}`);
      });
      assert.deepEqual(multi.flat(), alone.slice(0, 100));
      assert.ok(after.runs - before.runs < rows.length / 10, `${after.runs - before.runs} runs for ${rows.length} concurrent requests`);
      assert.equal(after.largest, 95, 'one request larger than the cap runs whole');
    } finally {
      await model.close();
    }
  });

  it('caps a run at maxBatchRows and fails only the requests of a failed run', async () => {
    const { createBatcher } = await import('../../src/io/model/onnx.ts');
    const runs: number[] = [];
    let failNext = false;
    const b = createBatcher(async (rows) => {
      runs.push(rows.length);
      if (failNext) {
        failNext = false;
        throw new Error('boom');
      }
      return rows.map((r) => ({ label: String(r.x), confidence: 1, probabilities: [1] }));
    }, 4);
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.predict([{ x: i }])));
    assert.deepEqual(out.map((p) => p[0].label), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(runs, [4, 4, 2]);
    failNext = true;
    const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => b.predict([{ x: i }])));
    assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    assert.equal(b.stats.largest, 4);
  });
});
