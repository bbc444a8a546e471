#!/usr/bin/env node
// Thin shim: Node 24 runs the TypeScript sources directly (erasable syntax only). An older Node
// cannot load .ts files (ERR_UNKNOWN_FILE_EXTENSION), so this file keeps to syntax any Node parses
// and checks the version before it imports a .ts module.
import { readFileSync } from 'node:fs';
import module from 'node:module';

// The project's Node is its devDependency "node" (^24.x, which `npm ci` installs into
// node_modules/.bin): its major version is the minimum. (No "engines" field: npm checks that against
// the Node running npm itself, which warns on every first `npx sentinel` under the machine's older Node.)
const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).devDependencies.node;
const minimum = Number(/\d+/.exec(pinned)[0]);
if (Number(process.versions.node.split('.')[0]) < minimum) {
  process.stderr.write(
    `sentinel: needs Node ${minimum} or newer, this is Node ${process.versions.node}; run it as "npx sentinel ..." or "npm run sentinel -- ..." (after "npm ci"), which use the project's own Node ${minimum}\n`,
  );
  process.exit(1);
}
// Caches the compiled (type-stripped) modules on disk (NODE_COMPILE_CACHE, else the OS temp dir):
// start-up of a short command drops from ~0.4 s to ~0.15 s of CPU. A cache that cannot be written
// (read-only file system) only costs that time; it never fails the command.
module.enableCompileCache();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
