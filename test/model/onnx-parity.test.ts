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
