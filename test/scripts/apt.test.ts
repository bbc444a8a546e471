// @needs-tools: python3, apt
/**
 * scripts/apt.sh apt_install against a held apt/dpkg lock. The machine's real locks are never touched
 * (other processes may be installing packages): apt reads an APT_CONFIG that moves its lists, cache
 * and dpkg state (and so every lock file) into a scratch directory, and a python3 child holds the
 * lock the way apt does (fcntl/lockf; `flock` locks would not conflict with apt's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/process.ts';

function scratchApt(): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-apt-'));
  for (const d of ['lists/partial', 'cache/archives/partial', 'dpkg', 'sources.d']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'dpkg', 'status'), '');
  const conf = join(dir, 'apt.conf');
  // No sources: `apt-get update` has nothing to download once it gets the lock.
  writeFileSync(conf, [
    `Dir::State::Lists "${dir}/lists";`,
    `Dir::State::status "${dir}/dpkg/status";`,
    `Dir::Cache "${dir}/cache";`,
    'Dir::Etc::sourcelist "/dev/null";',
    `Dir::Etc::sourceparts "${dir}/sources.d";`,
  ].join('\n') + '\n');
  return { dir, conf };
}

/** Holds an exclusive fcntl lock on `file` for `seconds`; resolves once it is held. */
async function holdLock(file: string, seconds: number) {
  const child = spawn('python3', ['-c', `import fcntl, sys, time\nf = open(sys.argv[1], "w")\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint("held", flush=True)\ntime.sleep(float(sys.argv[2]))`, file, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return { pid: child.pid!, exited: once(child, 'exit') };
}

async function aptInstall(conf: string, env: Record<string, string>) {
  const child = spawn('bash', ['-c', 'source scripts/apt.sh && apt_install sentinelml-no-such-package'], {
    cwd: REPO,
    env: { ...process.env, APT_CONFIG: conf, SENTINEL_APT_LOCK_POLL: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = await once(child, 'exit');
  return { code: code as number, stderr };
}

test('apt_install waits for a held apt lists lock, says who holds it, then runs apt-get', async () => {
  const { dir, conf } = scratchApt();
  try {
    const lock = await holdLock(join(dir, 'lists', 'lock'), 3);
    const r = await aptInstall(conf, { SENTINEL_APT_LOCK_WAIT: '60' });
    await lock.exited;
    assert.match(r.stderr, new RegExp(`provision: waiting for the apt/dpkg lock \\(${dir}/lists/lock\\. It is held by process ${lock.pid} \\(python3\\)\\), \\d+ of at most 60 s`));
    // Once the lock was free apt-get update ran and then install reached the package lookup.
    assert.match(r.stderr, /Unable to locate package sentinelml-no-such-package/);
    assert.doesNotMatch(r.stderr, /gave up/);
    assert.equal(r.code, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apt_install gives up on a dpkg lock held past SENTINEL_APT_LOCK_WAIT, with one line naming the holder', async () => {
  const { dir, conf } = scratchApt();
  try {
    const lock = await holdLock(join(dir, 'dpkg', 'lock-frontend'), 30);
    const r = await aptInstall(conf, { SENTINEL_APT_LOCK_WAIT: '2' });
    process.kill(lock.pid);
    await lock.exited;
    assert.notEqual(r.code, 0);
    const gaveUp = r.stderr.split('\n').filter((l) => l.includes('gave up'));
    assert.equal(gaveUp.length, 1, r.stderr);
    assert.match(gaveUp[0], new RegExp(`^provision: gave up after \\d+ s waiting for the apt/dpkg lock \\(${dir}/dpkg/lock-frontend\\. It is held by process ${lock.pid} \\(python3\\)\\); let that process finish, or raise SENTINEL_APT_LOCK_WAIT$`));
    assert.doesNotMatch(r.stderr, /Unable to locate package/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apt_install inherited by a re-executed bash under set -u (export -f, no apt_updated) still runs apt-get', async () => {
  // scripts/provision/node.sh re-executes itself: the function comes through the environment, the
  // variable does not; a fresh machine (packages missing) then failed with "apt_updated: unbound variable".
  const { dir, conf } = scratchApt();
  try {
    const child = spawn('bash', ['-c', 'source scripts/apt.sh && bash -euo pipefail -c "apt_install sentinelml-no-such-package"'], {
      cwd: REPO,
      env: { ...process.env, APT_CONFIG: conf, SENTINEL_APT_LOCK_POLL: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const [code] = await once(child, 'exit');
    assert.doesNotMatch(stderr, /unbound variable/);
    assert.match(stderr, /Unable to locate package sentinelml-no-such-package/);
    assert.equal(code, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
