/**
 * `sentinel drift` as a real process (node bin/sentinel.js drift ...): exit codes, one-line errors,
 * no partial files, the table, the reference cache, worker threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriftResult, LatestPointer } from '../../src/drift/result.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'sentinel.js');
const REF = join(ROOT, 'data', 'reference.csv');
const CUR = join(ROOT, 'data', 'current.csv');

function sentinel(args: string[], env: Record<string, string> = {}) {
  const p = spawnSync(process.execPath, [BIN, 'drift', ...args], { encoding: 'utf8', env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn', ...env } });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'sentinel-cli-drift-'));
}

/** Every file under dir, relative, recursively. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

test('demo split: exit 0, the per-column table, drift.json + report.html + latest.json; a second run uses the cached reference profile', () => {
  const out = join(tmp(), 'reports');
  const first = sentinel(['--reference', REF, '--current', CUR, '--out', out, '--workers', '2']);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.split('\n');
  assert.match(lines[0], /^column\s+type\s+stattest\s+threshold\s+stattest score\s+distance\s+drift$/);
  assert.match(first.stdout, /^age\s+numerical\s+wasserstein\s+0\.1\s+0\.1853\s+0\.0827\s+DRIFT$/m);
  assert.match(first.stdout, /^education\s+categorical\s+jensenshannon\s+0\.1\s+0\.8326\s+0\.8326\s+DRIFT$/m);
  assert.match(first.stdout, /^sex\s+categorical\s+jensenshannon\s+0\.1\s+0\.0190\s+0\.0190\s+no$/m);
  assert.match(first.stdout, /dataset drift: no \(5 of 15 columns drifted/);
  assert.match(first.stdout, /profile cache: miss \((.+\.bin)\); column workers: 2/);
  const cacheFile = /profile cache: miss \((.+\.bin)\)/.exec(first.stdout)![1];
  assert.ok(cacheFile.startsWith(join(out, '.cache')));
  const cacheStat = statSync(cacheFile);

  const latest = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as LatestPointer;
  const result = JSON.parse(readFileSync(join(out, latest.path), 'utf8')) as DriftResult;
  assert.equal(result.schema_version, 1);
  assert.equal(result.reference.rows, 14155);
  assert.equal(result.current.rows, 34687);
  assert.deepEqual(result.columns.filter((c) => c.drift_detected).map((c) => c.name).sort(), ['age', 'education', 'education-num', 'native-country', 'occupation']);
  assert.ok(existsSync(join(out, latest.run_id, 'report.html')));
  assert.match(first.stdout, new RegExp(`report: .*${latest.run_id}/report\\.html`));

  // Second run: the cache file is read (hit), not rewritten, and the numbers are the same.
  const second = sentinel(['--reference', REF, '--current', CUR, '--out', out, '--json']);
  assert.equal(second.code, 0, second.stderr);
  const again = JSON.parse(second.stdout) as DriftResult;
  assert.deepEqual(again.columns, result.columns);
  assert.notEqual(again.run_id, result.run_id);
  const table = sentinel(['--reference', REF, '--current', CUR, '--out', out]);
  assert.match(table.stdout, new RegExp(`profile cache: hit \\(${cacheFile.replace(/[.]/g, '\\.')}\\)`));
  assert.equal(statSync(cacheFile).mtimeMs, cacheStat.mtimeMs);
  assert.equal(statSync(cacheFile).ino, cacheStat.ino);
  // No temp files anywhere.
  assert.deepEqual(tree(out).filter((f) => f.includes('.tmp')), []);
});

test('worker threads and inline give identical results', () => {
  const out = join(tmp(), 'reports');
  const threaded = sentinel(['--reference', REF, '--current', CUR, '--out', out, '--no-cache', '--workers', '2', '--json']);
  const inline = sentinel(['--reference', REF, '--current', CUR, '--out', out, '--no-cache', '--workers', '0', '--json']);
  assert.equal(threaded.code, 0, threaded.stderr);
  assert.equal(inline.code, 0, inline.stderr);
  assert.deepEqual((JSON.parse(threaded.stdout) as DriftResult).columns, (JSON.parse(inline.stdout) as DriftResult).columns);
  const table = sentinel(['--reference', REF, '--current', CUR, '--out', out, '--no-cache']);
  // Default on an input this small (under 32 MiB of CSV): inline, no threads.
  assert.match(table.stdout, /profile cache: off; column workers: 0\n/);
});

test('prediction-log directory with --since: window, torn line, skipped row, model card types, prediction drift', () => {
  const dir = tmp();
  const logDir = join(dir, 'live');
  mkdirSync(logDir);
  const header = 'request_id,timestamp,model_version,age,sex,prediction,confidence';
  const now = Date.now();
  const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
  const rows: string[] = [];
  for (let i = 0; i < 300; i++) rows.push(`r${i},${iso(i < 100 ? 3 * 3600_000 : 60_000)},v1,${30 + (i % 40)},${i % 3 ? 'Male' : 'Female'},${i % 2 ? '>50K' : '<=50K'},0.9`);
  writeFileSync(join(logDir, 'a.csv'), `${header}\n${rows.slice(0, 150).join('\n')}\nbad,row\n${rows.slice(150, 200).join('\n')}\n`);
  writeFileSync(join(logDir, 'b.csv'), `${header}\n${rows.slice(200).join('\n')}\nr-torn,${iso(1000)},v1,4`);
  writeFileSync(join(logDir, 'model.json'), JSON.stringify({ features: [{ name: 'age', type: 'numerical' }, { name: 'sex', type: 'categorical' }] }));
  const ref = join(dir, 'ref.csv');
  writeFileSync(ref, `age,sex,prediction\n${Array.from({ length: 200 }, (_, i) => `${20 + (i % 30)},${i % 2 ? 'Male' : 'Female'},<=50K`).join('\n')}\n`);
  const out = join(dir, 'reports');
  const r = sentinel(['--reference', ref, '--current', logDir, '--out', out, '--since', '1h', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as DriftResult;
  assert.equal(result.current.rows, 200);
  assert.equal(result.current.files, 2);
  assert.equal(result.current.torn_lines, 1);
  assert.equal(result.current.skipped_rows, 1);
  assert.equal(result.window.since, '1h');
  assert.ok(result.window.from !== null && Date.parse(result.window.from) >= now - 3600_000);
  assert.deepEqual(result.columns.map((c) => [c.name, c.type]), [['age', 'numerical'], ['sex', 'categorical']]);
  assert.equal(result.prediction!.name, 'prediction');
  assert.equal(result.prediction!.drift_detected, true);
});

test('failures: one line on stderr, non-zero exit, no result files (only the failed-run record)', () => {
  const dir = tmp();
  const emptyLog = join(dir, 'emptylog');
  mkdirSync(emptyLog);
  writeFileSync(join(emptyLog, 'x.csv'), 'request_id,timestamp,model_version,age\nr1,2020-01-01T00:00:00Z,v,30\n');
  const noShared = join(dir, 'other.csv');
  writeFileSync(noShared, 'foo,bar\n1,2\n');
  const badRows = join(dir, 'bad-rows.csv');
  writeFileSync(badRows, 'age,sex\n1,2,3\n4,5,6\n');
  const binary = join(dir, 'binary.csv');
  writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  const cases: { args: string[]; code: number; message: RegExp }[] = [
    { args: ['--reference', join(dir, 'missing.csv'), '--current', CUR], code: 1, message: /^sentinel drift: cannot read .*missing\.csv: no such file or directory$/ },
    { args: ['--reference', REF, '--current', join(dir, 'nope')], code: 1, message: /^sentinel drift: cannot read .*nope: no such file or directory$/ },
    { args: ['--reference', REF, '--current', noShared], code: 1, message: /^sentinel drift: no feature columns shared by / },
    { args: ['--reference', REF, '--current', emptyLog, '--since', '1h'], code: 1, message: /^sentinel drift: current data .* has no rows in the last 1h \(1 read, 1 outside the window/ },
    { args: ['--reference', REF, '--current', binary], code: 1, message: /^sentinel drift: current data .*binary\.csv has no data rows/ },
    { args: ['--reference', REF, '--current', badRows], code: 1, message: /^sentinel drift: current data .*bad-rows\.csv has no usable rows \(0 read, 0 outside the window, 1 skipped, 1 torn\)$/ },
    { args: ['--reference', binary, '--current', CUR], code: 1, message: /^sentinel drift: no feature columns shared/ },
    { args: ['--reference', REF, '--current', CUR, '--stattest', 'nope'], code: 1, message: /^sentinel drift: no stattest named 'nope'/ },
    { args: ['--reference', REF, '--current', CUR, '--columns', 'age,zzz'], code: 1, message: /^sentinel drift: --columns not in both datasets: zzz$/ },
    { args: ['--reference', REF, '--current', CUR, '--since', 'yesterday'], code: 1, message: /^sentinel drift: --since must be a duration/ },
    { args: ['--reference', REF], code: 2, message: /^sentinel drift: --current PATH is required$/ },
    { args: ['--reference', REF, '--current', CUR, '--bogus'], code: 2, message: /^sentinel drift: Unknown option '--bogus'/ },
    { args: ['--reference', REF, '--current', CUR, '--threshold', 'abc'], code: 2, message: /^sentinel drift: --threshold must be a number/ },
  ];
  for (const c of cases) {
    const out = join(tmp(), 'reports');
    const r = sentinel([...c.args, '--out', out]);
    assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`);
    // Progress lines ("drift: ... rows read") appear once a run has taken a second, which a loaded
    // machine can reach before the failure; the failure itself is exactly one line.
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !/^drift: (current|reference) data: \d+ rows read$|^drift: columns \d+\/\d+ done$/.test(l));
    assert.equal(lines.length, 1, `one line for ${c.args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], c.message);
    assert.equal(r.stdout, '');
    const files = tree(out);
    assert.ok(files.every((f) => /^[^/]+\/failed\.json$/.test(f)), `only a failed-run record: ${files.join(', ')}`);
    assert.ok(!files.some((f) => f.endsWith('drift.json') || f.endsWith('report.html') || f === 'latest.json' || f.includes('.tmp')));
  }
});

test('--help prints the flags and exits 0', () => {
  const r = sentinel(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--reference', '--current', '--out', '--since', '--stattest', '--threshold', '--columns', '--no-compat', '--json', '--workers', '--no-cache']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('--monitor: usage errors name the problem (exit 2); without cluster access the run cannot follow a spec (exit 1)', () => {
  const cases: { args: string[]; code: number; message: RegExp }[] = [
    { args: ['--monitor', 'churn'], code: 2, message: /^sentinel drift: --monitor takes NAMESPACE\/NAME of a ModelMonitor \(got "churn"\)$/ },
    { args: ['--reference', REF, '--current', CUR, '--data-root', '/x'], code: 2, message: /^sentinel drift: --data-root needs --monitor$/ },
    { args: ['--monitor', 'ml/churn', '--keep-last', 'all'], code: 2, message: /^sentinel drift: --keep-last must be a whole number >= 1 \(got "all"\)$/ },
    // No kubeconfig and no in-cluster ServiceAccount: one line naming the monitor and why.
    { args: ['--monitor', 'ml/churn'], code: 1, message: /^sentinel drift: cannot read modelmonitors\/churn in namespace ml: no in-cluster service account and no kubeconfig$/ },
  ];
  const dir = tmp();
  const noAccess = { KUBECONFIG: '', HOME: dir, KUBERNETES_SERVICE_HOST: '' };
  const broken = sentinel(['--monitor', 'ml/churn'], { ...noAccess, KUBECONFIG: join(dir, 'missing-kubeconfig') });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr.trim(), /^sentinel drift: cannot read modelmonitors\/churn in namespace ml: kubeconfig unreadable: ENOENT/);
  for (const c of cases) {
    const r = sentinel(c.args, noAccess);
    assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), c.message, c.args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
