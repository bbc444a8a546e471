// src/logger.ts: JSON lines with an `event` when stderr is not a terminal (pino-pretty never
// loaded), pino-pretty's readable lines on a real terminal (a pty from util-linux `script`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.ts';
import { REPO } from './support/process.ts';

/** A child that logs one line and prints whether pino-pretty was loaded. */
const CHILD = `
import { createRequire } from 'node:module';
const { createLogger } = await import(${JSON.stringify(`${REPO}src/logger.ts`)});
createLogger().info({ event: 'drift_run_started', run: 7 }, 'drift run started');
const cache = createRequire(${JSON.stringify(REPO)}).cache;
process.stdout.write('pretty loaded: ' + Object.keys(cache).some((k) => k.includes('pino-pretty')) + '\\n');
`;

test('stderr not a terminal: one JSON line with its event, pino-pretty not loaded', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'pretty loaded: false\n');
  const line = JSON.parse(r.stderr.trim());
  assert.equal(line.event, 'drift_run_started');
  assert.equal(line.run, 7);
});

test('stderr a terminal: a readable line with the event and the message, not JSON', () => {
  const cmd = `${JSON.stringify(process.execPath)} --input-type=module -e ${shellQuote(CHILD)}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TERM: 'dumb' } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(out, /INFO.*\[drift_run_started\] drift run started/);
  assert.match(out, /run: 7/);
  assert.match(out, /pretty loaded: true/);
  assert.doesNotMatch(out, /"event":/);
});

test('pretty on demand writes to the given stream', () => {
  let text = '';
  const stream = new Writable({ write(c, _e, cb) { text += c.toString(); cb(); } });
  createLogger({ pretty: true, stream }).warn({ event: 'tick_skipped', skipped: 2 }, 'tick skipped');
  assert.match(text, /WARN.*\[tick_skipped\] tick skipped/);
  assert.match(text, /skipped: 2/);
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
