// `npm test`: provision the external tools the tests use (cached), then run every test under test/.
// Tests find those tools through SENTINEL_TOOLS/bin on PATH; a missing tool fails its test, never skips it.
// `npm run test:unit` (`--unit`): the inner loop, no provisioning: every test file without a
// `// @needs-tools: …` (a provisioned tool, browser, Python or cluster) or `// @long: …` (kill -9
// and fuzzing loops) line, with the provisioned tools out of reach (off PATH, SENTINEL_TOOLS an
// empty directory), so an untagged test that calls one fails here instead of quietly needing it.
import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const cache = process.env.SENTINEL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sentinelml');
const unit = process.argv[2] === '--unit';
const tools = unit ? join(tmpdir(), 'sentinel-unit-no-tools') : process.env.SENTINEL_TOOLS ?? join(cache, 'tools');
const toolPath = unit ? '' : `${join(tools, 'bin')}:`;
// npm exports NODE as the Node that runs npm itself (maybe the machine's older one); scripts and
// tests must use this one, the Node 24 from node_modules/.bin.
const env = { ...process.env, NODE: process.execPath, SENTINEL_CACHE: cache, SENTINEL_TOOLS: tools, PATH: `${dirname(process.execPath)}:${toolPath}${process.env.PATH}` };

const args = process.argv.slice(unit ? 3 : 2);
if (!unit && process.env.SENTINEL_SKIP_PROVISION !== '1') {
  const p = spawnSync('bash', ['scripts/provision.sh'], { stdio: 'inherit', env });
  if (p.status !== 0) {
    console.error('npm test: provisioning failed; see the lines above.');
    process.exit(p.status ?? 1);
  }
}
const FULL_ONLY = /^\/\/ @(needs-tools|long): /m;
const files = args.length > 0 ? args
  : unit ? globSync('test/**/*.test.ts').sort().filter((f) => !FULL_ONLY.test(readFileSync(f, 'utf8')))
  : ['test/**/*.test.ts'];
const t = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], { stdio: 'inherit', env });
process.exit(t.status ?? 1);
