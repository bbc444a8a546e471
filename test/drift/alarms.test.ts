/**
 * Alarm modes end to end through runDriftJob (real CSV files, worker threads, the cache) and the
 * `sentinel drift` flag parsing: what drift.json records, that Evidently's mode is untouched, that
 * calibration is cached beside the reference profile, and that bad settings are refused clearly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDriftJob } from '../../src/services/run/drift-run.ts';
import { alarmNoteLines, parseDriftArgs, renderDriftTable } from '../../src/cli/drift.ts';
import { calibrationKey, datasetBound, mergeTimeChunks, sizeBucket } from '../../src/drift/alarms.ts';
import { bonferroni, benjaminiHochberg } from '../../src/stats/index.ts';
import { LegacyRandomState } from '../../src/stats/random.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const REF = join(ROOT, 'data', 'reference.csv');
const CUR = join(ROOT, 'data', 'current.csv');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'sentinel-alarms-'));
}

/** Two CSVs from one seeded distribution: x, y numerical, c categorical (3 labels); `shift` moves x. */
function writePair(dir: string, nRef: number, nCur: number, shift = 0): { ref: string; cur: string } {
  const r = new LegacyRandomState(11);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  const normal = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const rows = (n: number, dx: number): string =>
    'x,y,c\n' + Array.from({ length: n }, () => `${(normal() + dx).toFixed(6)},${(2 * normal()).toFixed(6)},${['a', 'b', 'c'][r.interval(2)]}`).join('\n') + '\n';
  const ref = join(dir, 'ref.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(ref, rows(nRef, 0));
  writeFileSync(cur, rows(nCur, shift));
  return { ref, cur };
}

test('evidently mode (the default) is untouched: no alarm fields, same result as before', async () => {
  const out = join(tmp(), 'reports');
  const plain = await runDriftJob({ reference: REF, current: CUR, out, save: false, workers: 0, columns: ['age', 'education'] });
  const explicit = await runDriftJob({ reference: REF, current: CUR, out, save: false, workers: 0, columns: ['age', 'education'], alarm: { mode: 'evidently' } });
  assert.equal(plain.result.alarm, undefined);
  assert.ok(plain.result.columns.every((c) => c.alarm === undefined));
  assert.deepEqual(explicit.result.columns, plain.result.columns);
  assert.equal(explicit.result.drift_share_threshold, 0.5);
  assert.ok(!readdirSync(join(out, '.cache')).some((f) => f.endsWith('.calibration.json')));
});

test('bootstrap mode: rank-rule thresholds, any-column dataset rule, calibration cached with the profile', async () => {
  const dir = tmp();
  const { ref, cur } = writePair(dir, 3000, 400);
  const out = join(dir, 'reports');
  const alarm = { mode: 'bootstrap' as const, resamples: 200, seed: 5 };
  const first = await runDriftJob({ reference: ref, current: cur, out, workers: 2, alarm });
  const r = first.result;
  assert.equal(r.alarm?.mode, 'bootstrap');
  assert.equal(r.alarm?.dataset_rule, 'any_column');
  assert.equal(r.alarm?.alpha, 0.05);
  assert.equal(r.alarm?.dataset_false_alarm_bound, 0.05);
  assert.equal(r.alarm?.chunk_floor, undefined);
  assert.equal(r.drift_share_threshold, 1 / 3);
  for (const c of r.columns) {
    assert.equal(c.alarm?.mode, 'bootstrap');
    // reference > 1000 rows: Evidently picks distance tests with a 0.1 threshold
    assert.equal(c.alarm?.evidently_threshold, 0.1);
    assert.ok(c.threshold > 0 && c.threshold < 0.5 && c.threshold !== 0.1, `${c.name}: calibrated threshold ${c.threshold}`);
    // α/m = 0.05/3, B = 200: K = ⌊201·0.05/3⌋ = 3
    assert.match(c.alarm!.method, /^bootstrap: rank rule at α\/m=0\.05\/3: evidence above the 3rd largest of 200 reference splits \(400 vs 2600 rows, without replacement\)$/);
    assert.equal(c.drift_detected, c.stattest_score! > c.threshold, 'drift when the evidence is strictly above the threshold');
    assert.equal(c.drift_detected, c.alarm!.p_value! <= 0.05 / 3, 'the same verdict as the resampled p-value at α/m');
  }
  assert.equal(r.dataset_drift, r.drifted_columns >= 1);
  // drift.json on disk carries the same
  const saved = JSON.parse(readFileSync(join(first.runDir!, 'drift.json'), 'utf8'));
  assert.equal(saved.alarm.mode, 'bootstrap');
  assert.equal(saved.columns[0].alarm.mode, 'bootstrap');
  const calFile = readdirSync(join(out, '.cache')).find((f) => f.endsWith('.calibration.json'));
  assert.ok(calFile !== undefined);
  const entries = Object.keys(JSON.parse(readFileSync(join(out, '.cache', calFile), 'utf8')).entries);
  // calibrated on the corrected tests (the calibrated modes' default), keyed so
  // a 400-row window is at most a quarter of the 3 000-row reference: reference splits, no shared values
  assert.deepEqual(entries.sort(), ['c|jensenshannon|corrected|subsample|B=200|seed=5|n=400', 'x|wasserstein|corrected|subsample|B=200|seed=5|n=400', 'y|wasserstein|corrected|subsample|B=200|seed=5|n=400']);
  // second run: the cached samples give the same thresholds (inline, no workers)
  const second = await runDriftJob({ reference: ref, current: cur, out, workers: 0, alarm, save: false });
  assert.deepEqual(second.result.columns.map((c) => c.threshold), r.columns.map((c) => c.threshold));
  // a shifted current is flagged on x only
  const shifted = writePair(tmp(), 3000, 400, 0.5);
  const s = await runDriftJob({ reference: shifted.ref, current: shifted.cur, out: join(dir, 'r2'), workers: 0, alarm, save: false });
  assert.deepEqual(s.result.columns.filter((c) => c.drift_detected).map((c) => c.name), ['x']);
  assert.equal(s.result.dataset_drift, true);
});

test('bonferroni / bh on p-value tests (reference ≤ 1000 rows): resampled p-values of their evidence, corrected, and the applied cutoff', async () => {
  const dir = tmp();
  const { ref, cur } = writePair(dir, 800, 600, 0.2);
  for (const mode of ['bonferroni', 'bh'] as const) {
    const { result } = await runDriftJob({ reference: ref, current: cur, out: join(dir, mode), workers: 0, save: false, alarm: { mode } });
    assert.deepEqual(result.columns.map((c) => c.stattest), ['ks', 'ks', 'chisquare']);
    const p = result.columns.map((c) => c.alarm!.p_value!);
    const expected = mode === 'bonferroni' ? bonferroni(p, 0.05) : benjaminiHochberg(p, 0.05);
    result.columns.forEach((c, i) => {
      // 600 rows against 800: above a quarter of the reference, so the bootstrap null (B = 500)
      assert.match(c.alarm!.method, new RegExp(`^bootstrap p-value of ${c.stattest}'s −log10 p \\(500 resamples at n=600\\), ${mode} over the columns \\(m=3, α=0\\.05\\)$`));
      assert.ok(p[i] >= 1 / 501 && p[i] <= 1, `${c.name}: resampled p = ${p[i]}`);
      assert.notEqual(p[i], c.p_value, `${c.name}: not the test's own p-value`);
      assert.equal(c.alarm?.adjusted_p_value, expected.adjusted[i]);
      assert.equal(c.drift_detected, expected.reject[i]);
      assert.equal(c.alarm?.evidently_threshold, 0.05);
      // the cutoff written on the test's p-value scale: drift ⇔ the test's p-value is below it
      assert.ok(c.threshold > 0 && c.threshold <= 1);
      assert.equal(c.drift_detected, c.p_value! < c.threshold, `${c.name}: p ${c.p_value}, threshold ${c.threshold}`);
    });
    // x moved by 0.2σ over 600 rows: caught in both modes
    assert.equal(result.columns[0].drift_detected, true);
    assert.equal(result.dataset_drift, expected.reject.some(Boolean));
  }
});

test('bonferroni on a 100-row window with one row of a category the reference never saw: the asymptotic χ² p is below α/m, the resampled one is not', async () => {
  // 1 000-row reference: x numerical (ks), c = a / b and one singleton s (chisquare, corrected: the
  // homogeneity χ² on the 2×k table). The window: the same a / b shares, and one row of `new`.
  const dir = tmp();
  const r = new LegacyRandomState(21);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  const labels = (a: number, b: number, rare: string): string[] => [...Array<string>(a).fill('a'), ...Array<string>(b).fill('b'), rare];
  const rows = (cs: string[]): string => 'x,c\n' + cs.map((c) => `${u().toFixed(6)},${c}`).join('\n') + '\n';
  const ref = join(dir, 'ref.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(ref, rows(labels(500, 499, 's')));
  writeFileSync(cur, rows(labels(50, 49, 'new')));
  const corrected = (await runDriftJob({ reference: ref, current: cur, out: join(dir, 'n'), workers: 0, save: false, compat: false })).result;
  const asymptotic = corrected.columns.find((c) => c.name === 'c')!;
  assert.equal(asymptotic.stattest, 'chisquare');
  // χ² ≈ 10.1 on 3 degrees of freedom (the new row alone gives (1 − 100/1100)² / (100/1100) ≈ 9.1 + 0.9)
  assert.ok(asymptotic.p_value! < 0.05 / 2, `asymptotic p = ${asymptotic.p_value}, below α/m = 0.025`);
  const { result } = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'b'), workers: 0, save: false, alarm: { mode: 'bonferroni' } });
  const c = result.columns.find((x) => x.name === 'c')!;
  assert.equal(c.p_value, asymptotic.p_value, 'the test and its p-value are the corrected chisquare\'s');
  assert.equal(c.drift_detected, false, `flagged: resampled p ${c.alarm!.p_value}, asymptotic ${c.p_value}`);
  // Under the reference-split null the singleton lands in the 100-row pseudo-window one split in ten
  // and is then a category the pseudo-reference never saw: evidence at least this large is common.
  assert.match(c.alarm!.method, /^subsample p-value of chisquare's −log10 p \(500 reference splits at n=100\), bonferroni over the columns \(m=2, α=0\.05\)$/);
  assert.ok(c.alarm!.p_value! > 0.05, `resampled p = ${c.alarm!.p_value}`);
  assert.ok(c.threshold < asymptotic.p_value!, `cutoff on the p scale ${c.threshold} is below the asymptotic p`);
  assert.equal(result.dataset_drift, false);
});

test('bh on distance tests uses bootstrap p-values; chunks mode falls back (with a note) when the reference is too small', async () => {
  const dir = tmp();
  const { ref, cur } = writePair(dir, 2000, 500);
  const bh = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'a'), workers: 0, save: false, alarm: { mode: 'bh', resamples: 100 } });
  for (const c of bh.result.columns) {
    assert.match(c.alarm!.method, /^subsample p-value \(100 reference splits at n=500\), bh over the columns \(m=3, α=0.05\)$/);
    assert.ok(c.alarm!.p_value! >= 1 / 101 && c.alarm!.p_value! <= 1);
    assert.equal(c.p_value, null, 'a distance test still reports no p-value of its own');
  }
  // too few resamples for α/m (1/21 > 0.05/3): raised to ⌈m/α⌉ = 60, so a clear shift is still caught
  const shifted = writePair(tmp(), 2000, 500, 0.5);
  const few = await runDriftJob({ reference: shifted.ref, current: shifted.cur, out: join(dir, 'f'), workers: 0, save: false, alarm: { mode: 'bonferroni', resamples: 20 } });
  const x = few.result.columns.find((c) => c.name === 'x')!;
  assert.match(x.alarm!.method, /^subsample p-value \(60 reference splits at n=500\)/);
  assert.equal(x.alarm!.p_value, 1 / 61);
  assert.equal(x.drift_detected, true);
  assert.deepEqual(few.result.columns.filter((c) => c.drift_detected).map((c) => c.name), ['x']);
  // 2000 reference rows, window 500: 4 chunks < 5 → bootstrap fallback
  const ch = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'b'), workers: 0, save: false, alarm: { mode: 'chunks', resamples: 50 } });
  for (const c of ch.result.columns) assert.match(c.alarm!.note!, /^reference has 2000 values: 4 chunks of 500, fewer than 5; the threshold assumes exchangeable rows \(no time or place structure\)$/);
  // with explicit 200-row chunks and no floor: NannyML's mean + 3σ of 10 chunks vs the rest, alone
  const ok = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'c'), workers: 0, save: false, alarm: { mode: 'chunks', chunkSize: 200, chunkFloor: 'none' } });
  for (const c of ok.result.columns) {
    assert.match(c.alarm!.method, /^chunks: mean \+ 3·σ of 10 reference chunks of 200 vs rest$/);
    // an explicit chunk size far below the window's: said, as for time chunks
    assert.equal(c.alarm!.note, 'chunks hold 200 values, the window 500: their spread belongs to windows of about 200 rows');
    assert.equal(c.alarm!.calibration!.n, 10);
    assert.ok(Math.abs(c.threshold - (c.alarm!.calibration!.mean + 3 * c.alarm!.calibration!.std)) < 1e-12);
    assert.equal(c.drift_detected, c.stattest_score! >= c.threshold);
  }
  assert.equal(ok.result.alarm?.chunk_floor, 'none');
  assert.equal(ok.result.alarm?.dataset_false_alarm_bound, null, 'NannyML thresholds alone bound nothing');
  // the default floor: the same chunk threshold, raised to the bootstrap null's rank-rule threshold at n=500
  const floored = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'd'), workers: 0, save: false, alarm: { mode: 'chunks', chunkSize: 200 } });
  assert.equal(floored.result.alarm?.chunk_floor, 'bootstrap');
  assert.equal(floored.result.alarm?.dataset_false_alarm_bound, 0.05);
  floored.result.columns.forEach((c, i) => {
    const plain = ok.result.columns[i];
    assert.equal(c.alarm!.chunk_threshold, plain.threshold, `${c.name}: chunk threshold unchanged`);
    assert.equal(c.threshold, Math.max(c.alarm!.chunk_threshold!, c.alarm!.null_threshold!));
    assert.equal(c.alarm!.binding, c.alarm!.chunk_threshold! >= c.alarm!.null_threshold! ? 'chunks' : 'null');
    assert.match(c.alarm!.method, /^chunks: mean \+ 3·σ of 10 reference chunks of 200 vs rest, floored by the null \(rank rule at α\/m=0\.05\/3: evidence above the 8th largest of 500 reference splits \(500 vs 1500 rows, without replacement\)\)$/);
    assert.equal(c.drift_detected, c.stattest_score! > c.threshold);
  });
});

test('chunks floor holds the false-alarm rate where NannyML\'s thresholds alone do not: 10 chunks, 3 columns, 40 null windows', async () => {
  // 1 000-row reference, windows of 100 from the same distribution: 10 chunks of 100, k = 3
  const dir = tmp();
  const r = new LegacyRandomState(11);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  const row = (): string => `${u().toFixed(6)},${(u() * u()).toFixed(6)},${u() < 0.3 ? 'a' : u() < 0.5 ? 'b' : 'c'}`;
  const ref = join(dir, 'ref.csv');
  writeFileSync(ref, 'x,y,c\n' + Array.from({ length: 1000 }, row).join('\n') + '\n');
  const out = join(dir, 'reports');
  let plainAlarms = 0;
  let flooredAlarms = 0;
  for (let w = 0; w < 40; w++) {
    const cur = join(dir, `cur${w}.csv`);
    writeFileSync(cur, 'x,y,c\n' + Array.from({ length: 100 }, row).join('\n') + '\n');
    const plain = await runDriftJob({ reference: ref, current: cur, out, workers: 0, save: false, alarm: { mode: 'chunks', chunkFloor: 'none', resamples: 100 } });
    const floored = await runDriftJob({ reference: ref, current: cur, out, workers: 0, save: false, alarm: { mode: 'chunks', resamples: 100 } });
    if (plain.result.dataset_drift) plainAlarms++;
    if (floored.result.dataset_drift) flooredAlarms++;
    // the floor only ever raises a threshold: a floored alarm is also a plain one
    if (floored.result.dataset_drift) assert.ok(plain.result.dataset_drift);
  }
  // B = 100 ≥ 1/a − 1 = 59, K = ⌊101·0.05/3⌋ = 1: each column at ≤ 1/101, the run at ≤ 3/101
  assert.ok(flooredAlarms <= 5, `floored: ${flooredAlarms}/40 null windows alarmed`);
  // NannyML's thresholds alone: 10 chunks at mean + 3σ on −log10 p (ks and chisquare here) hold a column near e⁻⁴ ≈ 1.8 %, and more with σ from 10 values
  assert.ok(plainAlarms > flooredAlarms, `plain ${plainAlarms}, floored ${flooredAlarms}`);
});

test('permutation mode: rank rule over permutations of reference ∪ current, recomputed per run (not cached)', async () => {
  const dir = tmp();
  const { ref, cur } = writePair(dir, 600, 200);
  const out = join(dir, 'reports');
  const alarm = { mode: 'permutation' as const, resamples: 100, seed: 2 };
  const { result } = await runDriftJob({ reference: ref, current: cur, out, workers: 0, save: false, alarm });
  assert.equal(result.alarm?.dataset_false_alarm_bound, 0.05);
  for (const c of result.columns) {
    // α/m = 0.05/3, B = 100: K = ⌊101·0.05/3⌋ = 1
    assert.match(c.alarm!.method, /^permutation: rank rule at α\/m=0\.05\/3: evidence above the largest of 100 permutations of reference ∪ current$/);
    assert.equal(c.drift_detected, c.alarm!.p_value! <= 0.05 / 3);
    assert.ok(c.alarm!.p_value! >= 1 / 101);
  }
  const calFile = readdirSync(join(out, '.cache')).find((f) => f.endsWith('.calibration.json'));
  const entries = calFile === undefined ? {} : JSON.parse(readFileSync(join(out, '.cache', calFile), 'utf8')).entries;
  assert.ok(!Object.keys(entries).some((k) => k.includes('permutation')), 'a permutation null depends on the current: never cached');
  // a 0.5σ shift of x: above every permutation of x, so p = 1/101 ≤ α/m
  const shifted = writePair(tmp(), 600, 200, 0.5);
  const s = await runDriftJob({ reference: shifted.ref, current: shifted.cur, out: join(dir, 's'), workers: 0, save: false, alarm });
  const x = s.result.columns.find((c) => c.name === 'x')!;
  assert.equal(x.alarm!.p_value, 1 / 101);
  assert.equal(x.drift_detected, true);
  assert.equal(s.result.dataset_drift, true);
});

test('dataset bound per mode mix', () => {
  assert.equal(datasetBound(['bootstrap', 'permutation', 'chunks'], { alpha: 0.01 }), 0.01);
  assert.equal(datasetBound(['chunks'], { chunkFloor: 'none' }), null);
  assert.equal(datasetBound(['bonferroni', 'bonferroni'], {}), 0.05);
  assert.equal(datasetBound(['bh'], {}), 0.05);
  assert.equal(datasetBound(['bonferroni', 'bootstrap'], {}), null, 'a Bonferroni group at α plus columns at α/m: more than α');
  assert.equal(datasetBound(['evidently', 'bootstrap'], {}), null);
  assert.equal(datasetBound([], {}), null);
});

test('per-column modes and the prediction column', async () => {
  const out = join(tmp(), 'reports');
  const { result } = await runDriftJob({
    reference: REF, current: join(ROOT, 'data', 'reference.csv'), out, workers: 0, save: false, columns: ['age', 'sex'],
    alarm: { perColumnMode: { sex: 'bootstrap' }, resamples: 50 },
  });
  const age = result.columns.find((c) => c.name === 'age')!;
  const sex = result.columns.find((c) => c.name === 'sex')!;
  assert.equal(age.alarm, undefined, 'age stays in evidently mode');
  assert.equal(sex.alarm?.mode, 'bootstrap');
  assert.deepEqual(result.alarm?.per_column_mode, { sex: 'bootstrap' });
  // identical data: nothing drifts in any mode
  assert.equal(result.dataset_drift, false);
});

test('bad alarm settings: one clear error, nothing written', async () => {
  const dir = tmp();
  await assert.rejects(runDriftJob({ reference: REF, current: CUR, out: join(dir, 'r'), alarm: { mode: 'nope' as never } }), /alarm mode must be one of evidently, chunks, bootstrap, permutation, bonferroni, bh \(got "nope"\)/);
  await assert.rejects(runDriftJob({ reference: REF, current: CUR, out: join(dir, 'r'), alarm: { mode: 'bh', alpha: 1.5 } }), /alarm alpha must be in \(0, 1\) \(got 1.5\)/);
  assert.equal(existsSync(join(dir, 'r', '.cache')), false);
});

test('sentinel drift flags: alarm options parsed, bad values refused; the table shows mode and Evidently verdict', async () => {
  const p = parseDriftArgs(['--reference', 'a.csv', '--current', 'b.csv', '--alarm-mode', 'chunks', '--alarm-k', '2.5', '--alarm-chunk-size', '500', '--column-alarm-mode', 'age=bh', '--alarm-alpha', '0.01', '--alarm-resamples', '300', '--alarm-seed', '7', '--alarm-chunk-against', 'all']);
  assert.ok(!p.help);
  if (!p.help) assert.deepEqual(p.options.alarm, { mode: 'chunks', perColumnMode: { age: 'bh' }, alpha: 0.01, k: 2.5, quantile: undefined, chunkSize: 500, chunkAgainst: 'all', chunkPeriod: undefined, resamples: 300, seed: 7 });
  assert.throws(() => parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-mode', 'strict']), /alarm mode must be one of/);
  assert.throws(() => parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-chunk-size', '1.5']), /--alarm-chunk-size must be a whole number/);
  assert.throws(() => parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-quantile', '2']), /alarm quantile must be in \(0, 1\)/);
  const f = parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-mode', 'chunks', '--alarm-chunk-floor', 'none']);
  if (!f.help) assert.equal(f.options.alarm?.chunkFloor, 'none');
  assert.throws(() => parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-chunk-floor', 'permutation']), /chunk floor must be bootstrap or none \(got permutation\)/);
  const dir = tmp();
  const { ref, cur } = writePair(dir, 1500, 300);
  const outcome = await runDriftJob({ reference: ref, current: cur, out: join(dir, 'r'), workers: 0, alarm: { mode: 'bootstrap', resamples: 50 } });
  const text = renderDriftTable(outcome);
  assert.match(text, /column +type +stattest +mode +threshold +stattest score +distance +drift +evidently/);
  assert.match(text, /^x +numerical +wasserstein +bootstrap \(corrected\) +0\.\d+/m);
  assert.match(text, /alarm mode: bootstrap; dataset drift when any column drifts; alpha 0.05/);
});

test('calibrated modes run the corrected tests unless compat is asked for: a category the small reference never saw', async () => {
  const dir = tmp();
  const { ref, cur } = writePair(dir, 800, 600);
  // one row of an unseen category: Evidently's goodness-of-fit chisquare gives χ² = ∞, p = 0
  appendFileSync(cur, '0.100000,0.200000,d\n');
  const run = (extra: object) => runDriftJob({ reference: ref, current: cur, out: join(dir, 'r'), workers: 0, save: false, cache: false, ...extra });
  const evidently = (await run({})).result;
  const col = (r: typeof evidently, name: string) => r.columns.find((c) => c.name === name)!;
  assert.equal(col(evidently, 'c').stattest, 'chisquare');
  assert.equal(col(evidently, 'c').p_value, 0);
  assert.equal(col(evidently, 'c').statistic, null, 'χ² = ∞ is written as null');
  assert.equal(col(evidently, 'c').drift_detected, true, 'Evidently mode keeps Evidently\'s verdict');
  assert.equal(evidently.compat, true);

  const bh = (await run({ alarm: { mode: 'bh' } })).result;
  assert.equal(bh.compat, true, 'evidently-mode columns (none here) would still run Evidently\'s tests');
  assert.equal(bh.alarm?.tests, 'corrected');
  for (const c of bh.columns) assert.equal(c.alarm?.tests, 'corrected');
  const c = col(bh, 'c');
  // the homogeneity χ² on the 2×4 table (its SciPy golden values: test/stats), exactly as --no-compat runs it
  const corrected = (await run({ compat: false })).result;
  assert.equal(c.p_value, col(corrected, 'c').p_value);
  assert.ok(c.p_value! > 0.05, `corrected chisquare p = ${c.p_value}`);
  assert.equal(c.drift_detected, false);
  assert.equal(c.alarm?.evidently_drift, true, 'Evidently\'s own verdict comes from Evidently\'s test');
  assert.equal(c.alarm?.evidently_threshold, 0.05);
  assert.equal(bh.dataset_drift, false);
  // ks is the same in both variants: same p-values as Evidently mode
  assert.equal(col(bh, 'x').p_value, col(evidently, 'x').p_value);

  const forced = (await run({ compat: true, alarm: { mode: 'bh' } })).result;
  assert.equal(forced.alarm?.tests, 'evidently');
  assert.equal(col(forced, 'c').alarm?.tests, 'evidently');
  assert.equal(col(forced, 'c').drift_detected, true, 'χ² = ∞ cannot be calibrated: every window with an unseen category alarms');
  assert.equal(forced.dataset_drift, true);

  // per column: only the calibrated column switches variant
  const mixed = (await run({ alarm: { perColumnMode: { c: 'bonferroni' } } })).result;
  assert.equal(col(mixed, 'x').alarm, undefined);
  assert.equal(col(mixed, 'c').alarm?.tests, 'corrected');
  assert.equal(col(mixed, 'c').drift_detected, false);

  // the flags: --compat forces Evidently's tests, --no-compat the corrected ones, both is an error
  const parsed = (argv: string[]) => {
    const p = parseDriftArgs(['--reference', 'a', '--current', 'b', '--alarm-mode', 'bh', ...argv]);
    return p.help ? null : p.options.compat;
  };
  assert.equal(parsed([]), undefined);
  assert.equal(parsed(['--compat']), true);
  assert.equal(parsed(['--no-compat']), false);
  assert.throws(() => parsed(['--compat', '--no-compat']), /--compat and --no-compat contradict each other/);
});

test('time chunks: the reference timestamp column split by period, placed per column, merged to the window\'s size, cached', async () => {
  const dir = tmp();
  const r = new LegacyRandomState(3);
  const u = (): number => (r.nextUint32() + 0.5) / 4294967296;
  const day = 86_400_000;
  const lines = ['timestamp,x,c'];
  // 30 days × 100 rows; x has a missing cell on every 10th row of day 0, so its chunks differ from the rows'
  for (let d = 0; d < 30; d++) {
    for (let i = 0; i < 100; i++) {
      const t = new Date(Date.UTC(2026, 0, 1) + d * day + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
      lines.push(`${t},${d === 0 && i % 10 === 0 ? '' : u().toFixed(5)},${u() < 0.5 ? 'a' : 'b'}`);
    }
  }
  const ref = join(dir, 'ref.csv');
  writeFileSync(ref, lines.join('\n') + '\n');
  const window = (n: number): string => {
    const cur = join(dir, `cur${n}.csv`);
    writeFileSync(cur, 'x,c\n' + Array.from({ length: n }, () => `${u().toFixed(5)},${u() < 0.5 ? 'a' : 'b'}`).join('\n') + '\n');
    return cur;
  };
  const out = join(dir, 'reports');
  const alarm = { mode: 'chunks' as const, chunkPeriod: '1d' };
  // a 300-row window: 100-row days are below half of it, so runs of round(300 / 100) = 3 days make a chunk
  const cur300 = window(300);
  const first = await runDriftJob({ reference: ref, current: cur300, out, workers: 0, save: false, alarm });
  for (const c of first.result.columns) {
    assert.match(c.alarm!.method, /^chunks: mean \+ 3·σ of 10 reference chunks of 3×1d vs rest, floored by the null \(rank rule at α\/m=0\.05\/2: evidence above the 12th largest of 500 reference splits \(300 vs (2700|2690) rows, without replacement\)\)$/);
    assert.equal(c.alarm!.periods_per_chunk, 3);
    // x: day 0 kept 90 values, so the first chunk holds 290 and the median 300
    assert.equal(c.alarm!.note, 'time chunks of 1d hold a median of 100 values, the window 300: runs of 3 consecutive periods merged into each reference chunk (median 300 values)');
  }
  assert.equal(first.result.alarm?.chunk_period, '1d');
  // the CLI prints the note once for both columns
  assert.deepEqual(alarmNoteLines(first.result), ['alarm note (2 columns: x, c): time chunks of 1d hold a median of 100 values, the window 300: runs of 3 consecutive periods merged into each reference chunk (median 300 values)']);
  const entries = (): Record<string, number[]> => JSON.parse(readFileSync(join(out, '.cache', readdirSync(join(out, '.cache')).find((f) => f.endsWith('.calibration.json'))!), 'utf8')).entries;
  // x: day 0 kept 90 of its 100 rows
  assert.deepEqual(entries()['x|time-chunks|1d'].slice(0, 4), [0, 90, 90, 190]);
  assert.deepEqual(entries()['c|time-chunks|1d'].slice(0, 4), [0, 100, 100, 200]);
  // the merge is in the key: chunks of 3 days are not those of 1 day
  assert.equal(entries()['c|jensenshannon|corrected|chunks|rest|period=1d|periods=3'].length, 10);
  // second run: profile and chunk bounds from the cache, same thresholds
  const second = await runDriftJob({ reference: ref, current: cur300, out, workers: 0, save: false, alarm });
  assert.equal(second.cache.status, 'hit');
  assert.deepEqual(second.result.columns.map((c) => c.threshold), first.result.columns.map((c) => c.threshold));
  // a 150-row window: days are not below half of it, one day a chunk, its own cache entry
  const small = await runDriftJob({ reference: ref, current: window(150), out, workers: 0, save: false, alarm });
  for (const c of small.result.columns) {
    assert.match(c.alarm!.method, /^chunks: mean \+ 3·σ of 30 reference chunks of 1d vs rest, floored/);
    assert.equal(c.alarm!.periods_per_chunk, undefined);
    assert.equal(c.alarm!.note, undefined);
  }
  assert.equal(entries()['c|jensenshannon|corrected|chunks|rest|period=1d'].length, 30);
  assert.equal(entries()['c|jensenshannon|corrected|chunks|rest|period=1d|periods=3'].length, 10, 'the 3-day entry is kept beside it');
  // a 1 000-row window: runs of 10 days leave 3 chunks, fewer than 5: the bootstrap fallback says both
  const large = await runDriftJob({ reference: ref, current: window(1000), out, workers: 0, save: false, alarm });
  const c = large.result.columns.find((x) => x.name === 'c')!;
  assert.match(c.alarm!.method, /^bootstrap fallback: /);
  assert.equal(c.alarm!.periods_per_chunk, 10);
  assert.equal(c.alarm!.note, 'time chunks of 1d hold a median of 100 values, the window 1000: runs of 10 consecutive periods merged into each reference chunk; reference has 3000 values: 3 chunks of 10×1d, fewer than 5; the threshold assumes exchangeable rows (no time or place structure)');
  // a 40-row window: days are more than twice its size (no merge for that): said
  const tiny = await runDriftJob({ reference: ref, current: window(40), out, workers: 0, save: false, alarm });
  assert.equal(tiny.result.columns.find((x) => x.name === 'c')!.alarm!.note, 'time chunks hold a median of 100 values, the window 40: their spread belongs to windows of about 100 rows');
  // no timestamp column: one clear error
  const plain = writePair(tmp(), 500, 100);
  await assert.rejects(runDriftJob({ reference: plain.ref, current: plain.cur, out: join(dir, 'p'), save: false, workers: 0, alarm }), /time-based alarm chunks need a "timestamp" column, and .*ref\.csv has none/);
  await assert.rejects(runDriftJob({ reference: ref, current: cur300, out: join(dir, 'q'), save: false, alarm: { mode: 'chunks', chunkPeriod: 'daily' } }), /alarm chunk period must be a duration like 1d, 12h or 7d \(got "daily"\)/);
});

test('mergeTimeChunks: runs of round(window / median period) periods, the incomplete last run dropped', () => {
  const periods = (sizes: number[]) => {
    let at = 0;
    return sizes.map((n) => ({ start: at, end: (at += n) }));
  };
  const days = periods([80, 90, 70, 85, 80, 75, 90, 80]);
  // median 80 ≥ 150 / 2: unchanged
  assert.deepEqual(mergeTimeChunks(days, 150), { chunks: days, group: 1, periodMedian: 80 });
  // median 80 < 400 / 2: g = 5, one full run of 5 periods; the 3 left over are dropped
  assert.deepEqual(mergeTimeChunks(days, 400), { chunks: [{ start: 0, end: 405 }], group: 5, periodMedian: 80 });
  // g = round(250 / 80) = 3
  assert.deepEqual(mergeTimeChunks(days, 250).chunks, [{ start: 0, end: 240 }, { start: 240, end: 480 }]);
  assert.deepEqual(mergeTimeChunks([], 1000), { chunks: [], group: 1, periodMedian: 0 });
  // the cache key names the merge; one period per chunk keeps the old key
  assert.equal(calibrationKey('x', 'ks', 'chunks', { chunkPeriod: '1d' }, 300, false, 'bootstrap', 3), 'x|ks|corrected|chunks|rest|period=1d|periods=3');
  assert.equal(calibrationKey('x', 'ks', 'chunks', { chunkPeriod: '1d' }, 300, false), 'x|ks|corrected|chunks|rest|period=1d');
});

test('size buckets: two significant digits from 100 rows up', () => {
  assert.equal(sizeBucket(57), 57);
  assert.equal(sizeBucket(100), 100);
  assert.equal(sizeBucket(12_345), 12_000);
  assert.equal(sizeBucket(34_687), 35_000);
  assert.equal(sizeBucket(999), 1000);
});
