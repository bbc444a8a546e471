// Log contract v2 (src/io/log/schema.ts, names from src/drift/log-columns.ts): per-class probability columns for models with more than two
// classes, their names, and the collision check at start-up.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { logsClassProbabilities, probaColumn } from '../../src/drift/log-columns.ts';
import { logColumns } from '../../src/io/log/schema.ts';

describe('prediction-log columns', () => {
  it('binary models: no probability columns (confidence gives both); more classes: one per class, card order', () => {
    assert.equal(logsClassProbabilities(['no', 'yes']), false);
    assert.deepEqual(logColumns(['x'], ['no', 'yes']), ['request_id', 'timestamp', 'model_version', 'x', 'prediction', 'confidence']);
    assert.deepEqual(logColumns(['x'], ['b', 'a', 'c']), ['request_id', 'timestamp', 'model_version', 'x', 'prediction', 'confidence', 'proba_b', 'proba_a', 'proba_c']);
  });

  it('class names become plain, distinct header names: [A-Za-z0-9_.-] kept, every other character %XX per UTF-8 byte', () => {
    assert.equal(probaColumn('class_0'), 'proba_class_0');
    assert.equal(probaColumn('<=50K'), 'proba_%3C%3D50K');
    assert.equal(probaColumn('a b,"c"'), 'proba_a%20b%2C%22c%22');
    assert.equal(probaColumn('é'), 'proba_%C3%A9');
    assert.equal(probaColumn('🐱'), 'proba_%F0%9F%90%B1');
    // '%' itself is escaped, so a name that looks escaped cannot collide with an escaped one.
    assert.notEqual(probaColumn('%20'), probaColumn(' '));
    const names = ['a b', 'a_b', 'a%20b', 'A b', 'a\nb', 'a.b', 'a-b'];
    assert.equal(new Set(names.map(probaColumn)).size, names.length);
  });

  it('a feature named like a class probability column is refused with the column named', () => {
    assert.throws(() => logColumns(['proba_b'], ['a', 'b', 'c']), /prediction-log column "proba_b" would appear twice/);
    assert.doesNotThrow(() => logColumns(['proba_b'], ['a', 'b']));
  });
});
