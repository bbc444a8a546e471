// @needs-tools: node20
// The README's npm commands print no npm warning on a machine whose own Node is older than the
// project's (npm runs under it): no `engines` field (npm would check it against that older Node; the
// first `npx sentinel` in a directory installs the project into npx's cache as a dependency, where
// even `devEngines` does not exempt it), install scripts are decided in `allowScripts`, and there is
// no unknown project config in .npmrc.
// npm runs under the provisioned Node 20, as on this project's machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findTool } from '../support/kube-apiserver.ts';
import { REPO } from '../support/process.ts';

const node20 = () => findTool('node20', 'run `bash scripts/provision.sh old-node` (npm test does it)');

function npm(args: string[]) {
  const cli = realpathSync(findTool('npm'));
  // What a user's shell has: the machine's PATH, without the project's node_modules/.bin.
  const PATH = (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes('node_modules')).join(delimiter);
  // A fresh npm cache: `npx` then does what it does the first time in a directory on a new machine.
  const cache = mkdtempSync(join(tmpdir(), 'sentinel-npm-cache-'));
  try {
    return spawnSync(node20(), [cli, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH, npm_config_update_notifier: 'false', npm_config_cache: cache } });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

test('`npx sentinel --help` and `npm run sentinel -- --help` print no npm warning under an old Node', () => {
  for (const args of [['exec', '--', 'sentinel', '--help'], ['run', 'sentinel', '--', '--help']]) {
    const r = npm(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: sentinel <command>/);
    assert.doesNotMatch(r.stderr, /npm (warn|WARN|error|ERR)/, r.stderr);
  }
});

test('every dependency with an install script is decided in allowScripts; no .npmrc', () => {
  assert.equal(existsSync(join(REPO, '.npmrc')), false);
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([path, p]) => path !== '' && p.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.allowScripts).sort(), withScripts);
  // onnxruntime-node's postinstall only downloads CUDA libraries; the CPU binary ships in the package.
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
  const r = npm(['install-scripts', 'ls']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'No packages with unreviewed install scripts.');
  assert.equal(r.stderr, '');
});
