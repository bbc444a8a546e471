#!/usr/bin/env node
// Thin shim: Node 24 runs the TypeScript sources directly (erasable syntax only).
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
