#!/usr/bin/env node
// Thin shim: Node 24 runs the TypeScript sources directly (erasable syntax only). An older Node
// cannot load .ts files (ERR_UNKNOWN_FILE_EXTENSION), so this file keeps to syntax any Node parses
// and checks the version before it imports a .ts module.
import { readFileSync } from 'node:fs';

// package.json's "engines.node" (">=24") owns the minimum.
const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
const minimum = Number(/\d+/.exec(engines)[0]);
if (Number(process.versions.node.split('.')[0]) < minimum) {
  process.stderr.write(
    `sentinel: needs Node ${minimum} or newer, this is Node ${process.versions.node}; run it as "npx sentinel ..." or "npm run sentinel -- ..." (after "npm ci"), which use the project's own Node ${minimum}\n`,
  );
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
