// One duration parser (src/drift/duration.ts) behind every duration flag: `--every 2w` and
// `--max-log-age 2w` are taken like `--since 2w`.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDuration as flagDuration } from '../../src/cli/flags.ts';
import { parseDuration } from '../../src/drift/duration.ts';
import { UsageError } from '../../src/errors.ts';
import { REPO, SENTINEL } from '../support/process.ts';

test('every duration flag takes what --since takes, in the same units', () => {
  for (const [text, ms] of [['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h30m', 5_400_000], ['7d', 604_800_000], ['2w', 1_209_600_000], ['1.5h', 5_400_000]] as const) {
    assert.equal(parseDuration(text), ms, text);
    assert.equal(flagDuration(text, '--every'), ms, text);
  }
  for (const bad of ['', '24', 'h', '1x', '-1h', '0s', '1h ', '2 w']) {
    assert.equal(parseDuration(bad), null, bad);
    assert.throws(() => flagDuration(bad, '--max-log-age'), (err: unknown) => err instanceof UsageError && err.message === `--max-log-age must be a positive duration such as 30s, 5m, 1h, 7d or 2w (got "${bad}")`, bad);
  }
});

test('`sentinel serve --max-log-age 2w` passes the flags (fails later, on the missing model: exit 1); `2x` is a usage error (exit 2)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const serve = (age: string) => spawnSync(process.execPath, [SENTINEL, 'serve', '--port', '0', '--max-log-age', age, '--model', join(dir, 'none.onnx'), '--log-dir', dir], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  const ok = serve('2w');
  assert.equal(ok.status, 1, ok.stderr);
  assert.match(ok.stderr, /cannot read model card/);
  const bad = serve('2x');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--max-log-age must be a positive duration/);
});
