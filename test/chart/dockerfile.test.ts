// @needs-tools: hadolint
// The Dockerfile cannot be built here (no Docker daemon): hadolint lints it, and these checks pin what
// the chart relies on — the non-root UID/GID the chart's securityContext uses, the entrypoint, the
// model and reference dataset paths the chart passes, and a build context (.dockerignore) that lets
// in exactly what the COPY instructions need.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { CHART, REPO, run, tool } from './support/helm.ts';

const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

test('hadolint reports nothing', () => {
  const r = run(tool('hadolint'), ['--failure-threshold', 'info', join(REPO, 'Dockerfile')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.trim(), '');
});

test('pinned Node 24 slim base, two stages, production dependencies only, onnxruntime download skipped', () => {
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim$/m);
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  assert.deepEqual(froms, ['FROM ${NODE_IMAGE} AS deps', 'FROM ${NODE_IMAGE} AS runtime']);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const nodePin = /node:(\d+\.\d+\.\d+)/.exec(dockerfile)![1];
  assert.ok(pkg.devDependencies.node.endsWith(nodePin), `base image ${nodePin} vs package.json node ${pkg.devDependencies.node}`);
  assert.ok(instructions.some((l) => /^RUN .*npm ci --omit=dev/.test(l)));
  assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=skip/);
});

test('runs as the non-root UID/GID the chart expects, entrypoint `sentinel`', () => {
  const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  assert.match(dockerfile, new RegExp(`^ARG UID=${values.podSecurityContext.runAsUser}$`, 'm'));
  assert.match(dockerfile, new RegExp(`^ARG GID=${values.podSecurityContext.fsGroup}$`, 'm'));
  const users = instructions.filter((l) => l.startsWith('USER '));
  assert.deepEqual(users, ['USER ${UID}:${GID}']);
  assert.ok(instructions.lastIndexOf(users[0]) > instructions.findIndex((l) => l.startsWith('COPY --from=deps')));
  assert.ok(instructions.includes('ENTRYPOINT ["node", "/app/bin/sentinel.js"]'));
});

test('the image holds the model and reference dataset at the paths the chart passes', () => {
  const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  assert.equal(values.inference.modelPath, '/app/models/model.onnx');
  assert.equal(values.drift.referencePath, '/app/data/reference.csv');
  assert.ok(instructions.includes('WORKDIR /app'));
  assert.ok(instructions.includes('COPY --chown=root:root models/model.onnx models/model.json ./models/'));
  assert.ok(instructions.includes('COPY --chown=root:root data/reference.csv ./data/reference.csv'));
});

test('.dockerignore admits exactly what COPY needs, and every source exists', () => {
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(ignore[0], '**', 'deny by default');
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  const sources = instructions
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1).filter((w) => !w.startsWith('--')).slice(0, -1));
  assert.ok(sources.length >= 6);
  for (const s of sources) {
    assert.ok(allowed.includes(s), `COPY ${s} is excluded by .dockerignore`);
    assert.ok(existsSync(join(REPO, s)), `COPY source ${s} does not exist`);
  }
  for (const never of ['node_modules', '.git', 'test', 'data/current.csv', '.venv']) assert.ok(!allowed.some((a) => a === never || never.startsWith(`${a}/`)), `${never} must stay out of the image`);
});

test('the compile cache is filled at build time, as the runtime user, where Node looks for it', () => {
  // Node keys its compile cache by user id: filled as root, a pod running as 10001 would never hit it.
  assert.match(dockerfile, /NODE_COMPILE_CACHE=\/app\/\.compile-cache/);
  const user = instructions.indexOf('USER ${UID}:${GID}');
  const warm = instructions.findIndex((l) => l.startsWith('RUN node ') && l.includes("readdirSync('src'"));
  assert.ok(warm > user, 'the cache is filled after USER, as the runtime user');
  assert.ok(instructions.some((l, i) => i < user && l.startsWith('RUN ') && /chown -R "\$\{UID\}:\$\{GID\}" [^&]*\/app\/\.compile-cache/.test(l)), 'the cache directory belongs to the runtime user');
  assert.match(instructions[warm], /test -n "\$\(ls -A \/app\/\.compile-cache\)"/, 'an empty cache fails the build');
});
