// `npm test`: provision the external tools the tests use (cached), then run every test under test/.
// Tests find those tools through SENTINEL_TOOLS/bin on PATH; a missing tool fails its test, never skips it.
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const cache = process.env.SENTINEL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sentinelml');
const tools = process.env.SENTINEL_TOOLS ?? join(cache, 'tools');
// npm exports NODE as the Node that runs npm itself (maybe the machine's older one); scripts and
// tests must use this one, the Node 24 from node_modules/.bin.
const env = { ...process.env, NODE: process.execPath, SENTINEL_CACHE: cache, SENTINEL_TOOLS: tools, PATH: `${dirname(process.execPath)}:${join(tools, 'bin')}:${process.env.PATH}` };

const args = process.argv.slice(2);
if (process.env.SENTINEL_SKIP_PROVISION !== '1') {
  const p = spawnSync('bash', ['scripts/provision.sh'], { stdio: 'inherit', env });
  if (p.status !== 0) {
    console.error('npm test: provisioning failed; see the lines above.');
    process.exit(p.status ?? 1);
  }
}
const files = args.length > 0 ? args : ['test/**/*.test.ts'];
const t = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], { stdio: 'inherit', env });
process.exit(t.status ?? 1);
