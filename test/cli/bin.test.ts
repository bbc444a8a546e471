// @needs-tools: node20
// bin/sentinel.js under a real Node 20 (provisioned by scripts/provision/old-node.sh): one line naming
// the fix, instead of Node's ERR_UNKNOWN_FILE_EXTENSION for the .ts sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../support/kube-apiserver.ts';
import { REPO, SENTINEL } from '../support/process.ts';

test('an old Node gets one line naming `npx sentinel` / `npm run sentinel`, and exit 1', () => {
  const node20 = findTool('node20', 'run `bash scripts/provision.sh old-node` (npm test does it)');
  const version = spawnSync(node20, ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, /^v20\./);
  for (const args of [['drift', '--help'], []]) {
    const r = spawnSync(node20, [SENTINEL, ...args], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr,
      `sentinel: needs Node 24 or newer, this is Node ${version.slice(1)}; run it as "npx sentinel ..." or "npm run sentinel -- ..." (after "npm ci"), which use the project's own Node 24\n`);
  }
});

test('the minimum is the major version of the devDependency "node", and Node 24 runs the CLI', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.match(pkg.devDependencies.node, /^\^24\./);
  assert.equal(pkg.engines, undefined);
  const r = spawnSync(process.execPath, [SENTINEL, '--help'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: sentinel <command>/);
});
