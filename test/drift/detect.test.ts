import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog } from '../../src/io/log/reader.ts';
import { loadTable, testRunMeta } from '../support/drift.ts';
import { assembleResult, detectColumnDrift, detectDrift, OTHER_CATEGORY, totalVariation } from '../../src/drift/detect.ts';
import { ksStatistic, ksStatisticOf } from '../../src/stats/tests/ks.ts';
import { preparedCategorical, profileColumn } from '../../src/drift/profile.ts';
import type { ColumnDrift } from '../../src/drift/result.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

const meta = () => testRunMeta();
const load = loadTable;

function writeTmp(name: string, content: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'sentinel-detect-')), name);
  writeFileSync(p, content);
  return p;
}

function headLines(path: string, n: number): string {
  return readFileSync(path, 'utf8').split('\n').slice(0, n + 1).join('\n') + '\n';
}

function relClose(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  const tol = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs Evidently ${expected}`);
}

interface Golden {
  evidently: string;
  call: string;
  columns: Record<string, { method: string; threshold: number; score: number; drift: boolean }>;
  drifted_columns: { count: number; share: number };
}

const METHOD_NAMES: Record<string, string> = {
  'Wasserstein distance (normed)': 'wasserstein',
  'Jensen-Shannon distance': 'jensenshannon',
  'K-S p_value': 'ks',
  'chi-square p_value': 'chisquare',
  'Z-test p_value': 'z',
};

function checkAgainstGolden(columns: ColumnDrift[], golden: Golden): void {
  assert.deepEqual(columns.map((c) => c.name).sort(), Object.keys(golden.columns).sort());
  for (const c of columns) {
    const g = golden.columns[c.name];
    assert.equal(c.error, null, `${c.name}: ${c.error?.message}`);
    assert.equal(c.stattest, METHOD_NAMES[g.method], `${c.name} stattest`);
    assert.equal(c.threshold, g.threshold, `${c.name} threshold`);
    relClose(c.stattest_score, g.score, `${c.name} score`);
    assert.equal(c.drift_detected, g.drift, `${c.name} verdict`);
  }
}

test('Adult demo split (reference = education not in {Some-college, HS-grad, Bachelors}): Evidently 0.7.23 numbers and verdicts', async () => {
  const golden = JSON.parse(readFileSync(join(ROOT, 'test/drift/fixtures/evidently-demo.json'), 'utf8')) as Golden;
  const reference = await load(join(ROOT, 'data/reference.csv'));
  const current = await load(join(ROOT, 'data/current.csv'));
  assert.equal(reference.table.rows, 14155);
  assert.equal(current.table.rows, 34687);
  const r = detectDrift(reference, current, meta());
  checkAgainstGolden(r.columns, golden);
  const drifted = r.columns.filter((c) => c.drift_detected).map((c) => c.name).sort();
  assert.deepEqual(drifted, ['age', 'education', 'education-num', 'native-country', 'occupation']);
  assert.equal(r.drifted_columns, golden.drifted_columns.count);
  assert.equal(r.drift_share, golden.drifted_columns.share);
  assert.equal(r.dataset_drift, false); // 5/15 < 0.5
  assert.equal(r.prediction, null); // no prediction column in these files
  // Headline score: mean of per-column [0, 1] distances, never p-values.
  const scores = r.columns.map((c) => c.score!);
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
  assert.ok(Math.abs(r.drift_score - scores.reduce((a, b) => a + b, 0) / scores.length) < 1e-15);
  const age = r.columns.find((c) => c.name === 'age')!;
  assert.equal(age.score_method, 'ks_distance');
  const edu = r.columns.find((c) => c.name === 'education')!;
  assert.equal(edu.score_method, 'jensenshannon');
  assert.equal(edu.score, edu.stattest_score);
});

test('small samples (reference <= 1000 rows): ks / chisquare / z chosen and matched as Evidently does', async () => {
  const golden = JSON.parse(readFileSync(join(ROOT, 'test/drift/fixtures/evidently-demo-small.json'), 'utf8')) as Golden;
  const reference = await load(writeTmp('ref.csv', headLines(join(ROOT, 'data/reference.csv'), 800)));
  const current = await load(writeTmp('cur.csv', headLines(join(ROOT, 'data/current.csv'), 900)));
  const r = detectDrift(reference, current, meta());
  checkAgainstGolden(r.columns, golden);
  const sex = r.columns.find((c) => c.name === 'sex')!;
  assert.equal(sex.score_method, 'total_variation');
  assert.equal(r.dataset_drift, golden.drifted_columns.share >= 0.5);
});

test('user stattest and threshold override the default selection', async () => {
  const reference = await load(join(ROOT, 'data/reference.csv'));
  const current = await load(join(ROOT, 'data/current.csv'));
  const r = detectDrift(reference, current, meta(), { stattest: 'psi', threshold: 0.2, perColumnStattest: { age: 'ks' }, columns: ['age', 'hours-per-week', 'sex'] });
  assert.deepEqual(r.columns.map((c) => [c.name, c.stattest, c.threshold]), [
    ['age', 'ks', 0.2],
    ['sex', 'psi', 0.2],
    ['hours-per-week', 'psi', 0.2],
  ]);
  const age = r.columns[0];
  assert.ok(age.p_value !== null && age.p_value < 1e-10);
  // A test not registered for the column's type is that column's error, as Evidently refuses it.
  const wrongKind = detectDrift(reference, current, meta(), { stattest: 'ks', columns: ['sex', 'age'] });
  assert.equal(wrongKind.columns.find((c) => c.name === 'sex')!.error!.code, 'invalid_feature_type');
  assert.equal(wrongKind.columns.find((c) => c.name === 'age')!.error, null);
  assert.equal(age.drift_detected, true);
  assert.equal(age.statistic, age.score); // KS statistic is the KS distance
});

test('one bad column never aborts the run: all missing and wrong type each get an error; a constant column is tested like Evidently does', async () => {
  const n = 60;
  const rows = (f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i).join(',')).join('\n');
  const ref = writeTmp('ref.csv', `good,empty,const,typed\n${rows((i) => [String(i % 13), '', '5', String(i)])}\n`);
  const cur = writeTmp('cur.csv', `good,empty,const,typed\n${rows((i) => [String((i % 13) + 4), '', '5', i % 2 ? 'x' : 'y'])}\n`);
  const r = detectDrift(await load(ref), await load(cur), meta());
  const by = Object.fromEntries(r.columns.map((c) => [c.name, c]));
  assert.equal(by.good.error, null);
  assert.equal(by.good.drift_detected, true);
  assert.equal(by.empty.error!.code, 'all_missing');
  // One value, the same in both: Evidently's z-test special case (p = 1), no drift, counted in the share.
  assert.equal(by.const.error, null);
  assert.equal(by.const.stattest, 'z');
  assert.equal(by.const.p_value, 1);
  assert.equal(by.const.drift_detected, false);
  assert.equal(by.const.score, 0);
  // The current side says categorical ('x'/'y'); the reference is numbers → tested as categorical.
  assert.equal(by.typed.type, 'categorical');
  assert.equal(r.tested_columns, 3);
  assert.equal(r.drifted_columns, 2);
  assert.equal(r.dataset_drift, true);
  assert.equal(by.empty.drift_detected, false);
  assert.equal(by.empty.score, null);
  // A model card saying numerical, with text in the data: wrong_type.
  const wrong = detectDrift(await load(ref), { table: (await readLog(cur, { types: new Map([['typed', 'numerical']]) })).table, header: ['typed'] }, meta(), {
    types: new Map([['typed', 'numerical']]),
    columns: ['typed', 'good'],
  });
  const typed = wrong.columns.find((c) => c.name === 'typed')!;
  assert.equal(typed.error!.code, 'wrong_type');
  assert.match(typed.error!.message, /current column is numerical but has 60 non-numeric value/);
});

test('identity: the same sample on both sides shows no drift and zero distance', async () => {
  const reference = await load(join(ROOT, 'data/reference.csv'));
  const again = await load(join(ROOT, 'data/reference.csv'));
  const r = detectDrift(reference, again, meta());
  assert.equal(r.drifted_columns, 0);
  for (const c of r.columns) assert.equal(c.score, 0, c.name);
  assert.equal(r.drift_score, 0);
});

test('prediction drift on the prediction column of a prediction log, apart from the features', async () => {
  const ref = writeTmp('ref.csv', `x,prediction\n${Array.from({ length: 200 }, (_, i) => `${i % 17},${i % 4 === 0 ? 'yes' : 'no'}`).join('\n')}\n`);
  const cur = writeTmp('cur.csv', `x,prediction\n${Array.from({ length: 200 }, (_, i) => `${i % 17},${i % 4 === 0 ? 'no' : 'yes'}`).join('\n')}\n`);
  const r = detectDrift(await load(ref), await load(cur), meta(), { stattest: 'psi', separatePrediction: true });
  assert.deepEqual(r.columns.map((c) => c.name), ['x']);
  assert.equal(r.prediction!.name, 'prediction');
  assert.equal(r.prediction!.stattest, 'z'); // Evidently's default, not the feature-wide --stattest
  assert.equal(r.prediction!.drift_detected, true);
  assert.equal(r.tested_columns, 1);
});

test('chart data: shared-edge histograms and category counts with the tail folded', async () => {
  const ref = profileColumn({ kind: 'numerical', values: Float64Array.from([0, 1, 2, 3, 4, 10]), missing: 0, invalid: 0, integerDtype: true }, 'numerical');
  const cur = profileColumn({ kind: 'numerical', values: Float64Array.from([5, 6, 7, 20]), missing: 0, invalid: 0, integerDtype: true }, 'numerical');
  const d = detectColumnDrift({ name: 'n', reference: ref, current: cur }, { chartBins: 4 });
  assert.deepEqual(d.distribution, { kind: 'histogram', edges: [0, 5, 10, 15, 20], reference: [5, 0, 1, 0], current: [0, 3, 0, 1] });
  const labels = Array.from({ length: 30 }, (_, i) => `c${i}`);
  const refCat = profileColumn({ kind: 'categorical', codes: Uint32Array.from(labels.flatMap((_, i) => Array(30 - i).fill(i))), dictionary: labels, missing: 0 }, 'categorical');
  const curCat = profileColumn({ kind: 'categorical', codes: Uint32Array.from([0, 1, 2, 29, 29]), dictionary: labels, missing: 0 }, 'categorical');
  const c = detectColumnDrift({ name: 'c', reference: refCat, current: curCat }, { maxChartCategories: 5 });
  assert.ok(c.distribution !== null && c.distribution.kind === 'categories');
  assert.deepEqual(c.distribution.categories, ['c0', 'c1', 'c2', 'c3', OTHER_CATEGORY]);
  assert.deepEqual(c.distribution.reference, [30, 29, 28, 27, labels.slice(4).reduce((s, _, i) => s + 26 - i, 0)]);
  assert.deepEqual(c.distribution.current, [1, 1, 1, 0, 2]);
});

test('distances: KS distance and total variation', () => {
  assert.equal(ksStatistic(Float64Array.from([1, 2, 3]), Float64Array.from([1, 2, 3])), 0);
  assert.equal(ksStatistic(Float64Array.from([1, 2]), Float64Array.from([3, 4])), 1);
  assert.equal(ksStatistic(Float64Array.from([1, 2, 3, 4]), Float64Array.from([3, 4, 5, 6])), 0.5);
  const cat = (labels: string[], counts: number[]) => preparedCategorical({ n: counts.reduce((a, b) => a + b, 0), codes: new Uint32Array(0), dictionary: labels, counts: Float64Array.from(counts) });
  assert.equal(totalVariation(cat(['a', 'b'], [1, 1]), cat(['a', 'b'], [1, 1])), 0);
  assert.equal(totalVariation(cat(['a'], [4]), cat(['b'], [2])), 1);
  assert.equal(totalVariation(cat(['a', 'b'], [3, 1]), cat(['a', 'b'], [1, 1])), 0.25);
});

test('dataset drift: share >= drift_share (Evidently), drift_score from tested columns only', () => {
  const col = (drift: boolean, score: number | null, error = false): ColumnDrift => ({
    name: 'x', type: 'numerical', stattest: 'ks', threshold: 0.05, statistic: score, p_value: null, stattest_score: score, score, score_method: 'ks_distance',
    drift_detected: drift, error: error ? { code: 'all_missing', message: '' } : null, reference: { count: 1, missing: 0 }, current: { count: 1, missing: 0 }, distribution: null,
  });
  const r = assembleResult([col(true, 0.4), col(false, 0.2), col(false, null, true)], null, meta());
  assert.equal(r.drift_share, 0.5);
  assert.equal(r.dataset_drift, true);
  assert.equal(r.tested_columns, 2);
  assert.ok(Math.abs(r.drift_score - 0.3) < 1e-15);
  assert.equal(assembleResult([col(true, 0.4), col(false, 0.2)], null, meta(), { driftShare: 0.6 }).dataset_drift, false);
});

test('column types as Evidently infers them (int <= 10 distinct → categorical; int with a missing cell → numerical; bool; inf), same numbers', async () => {
  const dir = join(ROOT, 'test/drift/fixtures/types');
  const golden = JSON.parse(readFileSync(join(dir, 'evidently.json'), 'utf8')) as Golden;
  const r = detectDrift(await load(join(dir, 'reference.csv')), await load(join(dir, 'current.csv')), meta());
  checkAgainstGolden(r.columns, golden);
  assert.deepEqual(Object.fromEntries(r.columns.map((c) => [c.name, c.type])), {
    int_few: 'categorical',
    int_few_missing: 'numerical',
    int_many: 'numerical',
    float: 'numerical',
    cat: 'categorical',
    flag: 'categorical',
    with_inf: 'numerical',
  });
  assert.equal(r.drifted_columns, golden.drifted_columns.count);
  assert.equal(r.dataset_drift, true);
  const withInf = r.columns.find((c) => c.name === 'with_inf')!;
  assert.equal(withInf.reference.missing, 8); // the ±inf cells are dropped like missing ones, as Evidently does
});

test('ksStatisticOf (distinct values and counts) equals ksStatistic (sorted arrays) bit for bit', async () => {
  const { prepareNumeric } = await import('../../src/stats/index.ts');
  let s = 7;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 20; round++) {
    const a = Float64Array.from({ length: 50 + round * 13 }, () => Math.floor(rand() * (round + 2)) / 3 - (rand() < 0.05 ? 0 : 1));
    const b = Float64Array.from({ length: 40 + round * 7 }, () => Math.floor(rand() * (round + 3)) / 3);
    const pa = prepareNumeric(a);
    const pb = prepareNumeric(b);
    assert.ok(Object.is(ksStatisticOf(pa, pb), ksStatistic(pa.sorted, pb.sorted)), `round ${round}`);
  }
});

test('cdfDistanceIntegral over distinct values gives the element-by-element walk bit for bit', async () => {
  const { prepareNumeric } = await import('../../src/stats/index.ts');
  const { cdfDistanceIntegral } = await import('../../src/stats/tests/numeric.ts');
  // The walk over the sorted samples, one element at a time (scipy's _cdf_distance order).
  const elementWalk = (u: Float64Array, v: Float64Array, p: 1 | 2): number => {
    const nu = u.length, nv = v.length;
    let i = 0, j = 0, prev = Math.min(u[0], v[0]), s = 0, c = 0;
    while (i < nu || j < nv) {
      const x = j >= nv || (i < nu && u[i] <= v[j]) ? u[i] : v[j];
      if (x !== prev) {
        const diff = Math.abs(i / nu - j / nv);
        const term = (p === 1 ? diff : diff * diff) * (x - prev);
        const t = s + term;
        c += Math.abs(s) >= Math.abs(term) ? s - t + term : term - t + s;
        s = t;
        prev = x;
      }
      if (j >= nv || (i < nu && u[i] <= v[j])) i++;
      else j++;
    }
    return s + c;
  };
  let s = 11;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 20; round++) {
    const a = prepareNumeric(Float64Array.from({ length: 30 + round * 17 }, () => (rand() < 0.1 ? -0 : Math.floor(rand() * (round + 2)) * 0.37 - 1)));
    const b = prepareNumeric(Float64Array.from({ length: 20 + round * 11 }, () => (rand() < 0.1 ? 0 : Math.floor(rand() * (round + 4)) * 0.29)));
    for (const p of [1, 2] as const) assert.ok(Object.is(cdfDistanceIntegral(a, b, p), elementWalk(a.sorted, b.sorted, p)), `round ${round} p ${p}`);
  }
});
