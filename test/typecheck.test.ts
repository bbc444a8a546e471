import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { REPO } from './support/process.ts';

// Node runs the .ts files by stripping types, without checking them: this test is the type check.
it('the whole repository type-checks (tsc --noEmit, strict)', () => {
  const r = spawnSync(`${REPO}node_modules/.bin/tsc`, ['-p', 'tsconfig.json'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
