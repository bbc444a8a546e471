// The pure part of `sentinel card`: input/column matching, drafted features, outputs, class mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeBuilder, MISSING_CODE, type Table } from '../../src/table/columns.ts';
import { checkCardAgainstGraph, chooseOutputs, classesFromProbe, defaultRange, draftFeatures, matchInputs } from '../../src/io/model/card-infer.ts';
import type { OnnxValueInfo } from '../../src/io/model/onnx.ts';
import type { ModelCard } from '../../src/io/model/card.ts';

const tensor = (name: string, type: string, shape: (number | string)[] = ['', 1]): OnnxValueInfo => ({ name, isTensor: true, type, shape });

function numeric(values: number[], integerDtype = false) {
  return { kind: 'numerical' as const, values: Float64Array.from(values), missing: values.filter(Number.isNaN).length, invalid: 0, integerDtype };
}
function categorical(values: (string | null)[]) {
  const dictionary: string[] = [];
  const b = new CodeBuilder();
  for (const v of values) {
    if (v === null) b.push(MISSING_CODE);
    else {
      let c = dictionary.indexOf(v);
      if (c < 0) c = dictionary.push(v) - 1;
      b.push(c);
    }
  }
  return { kind: 'categorical' as const, codes: b.finish(), dictionary, missing: values.filter((v) => v === null).length };
}

test('matchInputs: exact names first, then sanitized ONNX names; one line per misfit', () => {
  const inputs = [tensor('age', 'float32'), tensor('education_num', 'float32'), tensor('x', 'float32', ['', 13]), tensor('flag', 'bool'), tensor('gone', 'string')];
  const r = matchInputs(inputs, ['age', 'education-num', 'fnlwgt', 'class'], 'class');
  assert.deepEqual(r.matches.map((m) => [m.input.name, m.column]), [['age', 'age'], ['education_num', 'education-num']]);
  assert.deepEqual(r.ignored, ['fnlwgt']);
  assert.equal(r.problems.length, 3);
  assert.match(r.problems[0], /ONNX input "x" has shape \[N, 13\]; sentinel feeds one \[N, 1\] tensor per feature/);
  assert.match(r.problems[1], /ONNX input "flag" has element type bool/);
  assert.equal(r.problems[2], 'ONNX input "gone" (string) has no reference column "gone"');
  assert.deepEqual(matchInputs([], ['a'], 'label').problems, ['--target "label" is not a column of the reference']);
});

test('draftFeatures: categories, nullable, integer, ranges, dtype mismatches, drift-inference note', () => {
  const table: Table = {
    rows: 4,
    columns: new Map<string, any>([
      ['color', categorical(['red', null, 'blue', 'red'])],
      ['n', numeric([1, 2, 3, 2], true)],
      ['w', numeric([0.5, 1.5, NaN, 2.5])],
      ['t', categorical(['1', 'two', '3', '4'])],
      ['k', numeric([1.5, 2, 3, 4])],
    ]),
  };
  const m = (name: string, type: string, column = name) => ({ input: tensor(name, type), column });
  const r = draftFeatures([m('color', 'string'), m('n', 'float32'), m('w', 'float64'), m('t', 'float32'), m('k', 'int64')], table, { ranges: { w: { min: 0, max: 10 } }, nullable: ['n'], categories: { color: ['green'] }, rangeMargin: 0 });
  assert.deepEqual(r.features, [
    { name: 'color', onnx_input: 'color', type: 'categorical', dtype: 'string', nullable: true, categories: ['blue', 'green', 'red'] },
    { name: 'n', onnx_input: 'n', type: 'numerical', dtype: 'float32', nullable: true, min: 1, max: 3, integer: true },
    { name: 'w', onnx_input: 'w', type: 'numerical', dtype: 'float64', nullable: true, min: 0, max: 10, integer: false },
  ]);
  assert.deepEqual(r.problems, [
    'reference column "t" holds non-numbers (e.g. "two") but ONNX input "t" takes float32',
    'reference column "k" holds fractional numbers but ONNX input "k" takes int64',
  ]);
  // Drift's inference (Evidently's rules): 2 distinct of 3 strings is text; an int column with 3 distinct values is categorical.
  assert.equal(r.notes.length, 2, r.notes.join('\n'));
  assert.match(r.notes[0], /feature "color": most values are distinct \(free text\?\)/);
  assert.match(r.notes[1], /feature "n": integers with at most 10 distinct values, which drift detection infers as categorical/);
  const narrow = draftFeatures([m('w', 'float64')], table, { ranges: { w: { min: 1, max: 2 } } });
  assert.deepEqual(narrow.problems, ['--range w=1:2 excludes reference values (observed 0.5..2.5)']);
});

test('defaultRange widens by the span, keeps non-negative data >= 0 and whole data whole', () => {
  assert.deepEqual(defaultRange(11.03, 14.75, false, 1), { min: 7.3, max: 18.47 });
  assert.deepEqual(defaultRange(0.74, 5.8, false, 1), { min: 0, max: 10.86 });
  assert.deepEqual(defaultRange(278, 1680, true, 1), { min: 0, max: 3090 });
  assert.deepEqual(defaultRange(-2, 2, false, 0.5), { min: -4, max: 4 });
  assert.deepEqual(defaultRange(17, 90, true, 0), { min: 17, max: 90 });
  assert.deepEqual(defaultRange(5, 5, true, 1), { min: 0, max: 10 });
});

test('chooseOutputs: label + probability tensors; ZipMap-only and ambiguous outputs are refused', () => {
  const skl = [tensor('label', 'string', ['']), tensor('probabilities', 'float32', ['', 2])];
  assert.deepEqual(chooseOutputs(skl), { label: 'label', probabilities: 'probabilities', classCount: 2, problems: [] });
  const zipmap = [tensor('output_label', 'int64', ['']), { name: 'output_probability', isTensor: false, type: null, shape: [] }];
  const z = chooseOutputs(zipmap);
  assert.equal(z.probabilities, null);
  assert.match(z.problems[0], /ZipMap \(output "output_probability", a sequence of maps\), which onnxruntime-node cannot return: export them as a tensor/);
  const two = chooseOutputs([...skl, tensor('raw', 'float32', ['', 2])]);
  assert.match(two.problems[0], /several probabilities .* outputs \(probabilities, raw\); choose one with --probabilities-output/);
  assert.equal(chooseOutputs([...skl, tensor('raw', 'float32', ['', 2])], { probabilities: 'raw' }).probabilities, 'raw');
});

test('classesFromProbe maps probability columns to labels, skips ties, checks --classes', () => {
  const probs = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.4, 0.4, 0.2, 0.2, 0.5, 0.3];
  const labels = ['setosa', 'virginica', 'setosa', 'versicolor'];
  assert.deepEqual(classesFromProbe(3, probs, labels), { classes: ['setosa', 'versicolor', 'virginica'], problems: [] });
  assert.deepEqual(classesFromProbe(3, probs, labels.map((l) => BigInt(['setosa', 'versicolor', 'virginica'].indexOf(l)))).classes, ['0', '1', '2']);
  assert.match(classesFromProbe(3, probs.slice(0, 6), labels.slice(0, 2)).problems[0], /probability column\(s\) 1 never came out most likely on the 2 probed reference rows/);
  assert.deepEqual(classesFromProbe(3, probs, labels, ['setosa', 'versicolor', 'virginica']).problems, []);
  assert.match(classesFromProbe(3, probs, labels, ['versicolor', 'setosa', 'virginica']).problems[0], /--classes disagrees with the model's label output on 2 of 4 probed rows \(row 1: label "setosa", most likely column 0 = "versicolor"\)/);
  assert.match(classesFromProbe(3, probs, null).problems[0], /no label output: name the classes/);
  assert.deepEqual(classesFromProbe(3, probs, null, ['a', 'b', 'c']).classes, ['a', 'b', 'c']);
});

test('checkCardAgainstGraph names every contradiction between a card and its graph', () => {
  const card = {
    name: 'm', version: '1', onnx_file: 'm.onnx', sha256: 'x', classes: ['a', 'b', 'c'], outputs: { label: 'label', probabilities: 'probabilities' },
    features: [
      { name: 'x', onnx_input: 'x', type: 'numerical', dtype: 'float64', nullable: false },
      { name: 'y', onnx_input: 'y', type: 'categorical', dtype: 'string', nullable: false, categories: ['u'] },
    ],
  } as ModelCard;
  const problems = checkCardAgainstGraph(card, [tensor('x', 'float32'), tensor('z', 'float32')], [tensor('label', 'string', ['']), tensor('probabilities', 'float32', ['', 2])]);
  assert.deepEqual(problems, [
    'feature "x": the card says float64, ONNX input "x" takes float32',
    'feature "y": the model has no input "y"',
    'ONNX input "z" is fed by no feature of the card',
    'the card lists 3 classes but output "probabilities" has 2 columns',
  ]);
});
