// The shape of src/ stays: imports go down the layers (base → stats → table → drift → render → io →
// services → cli), no module cycles, and the pure layers touch no files, threads or logger.
// The rule lives in scripts/architecture.ts (also a command: node scripts/architecture.ts).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { analyse, importsOf } from '../scripts/architecture.ts';
import { REPO } from './support/process.ts';

test('src/: no import against the layer direction, no cycles, every module in a layer, pure layers pure', () => {
  const r = analyse(join(REPO, 'src'));
  assert.ok(r.files.length > 50 && r.edges.length > 200, `the reader found the modules (${r.files.length}) and imports (${r.edges.length})`);
  assert.deepEqual(r.against, []);
  assert.deepEqual(r.cycles, []);
  assert.deepEqual(r.unlayered, []);
  assert.deepEqual(r.impure, []);
});

test('the import reader sees every form and ignores comments', () => {
  const src = [
    "import { a } from './a.ts';",
    "import type { B } from '../b.ts';",
    'import {\n  c,\n  d,\n} from "./cd.ts";',
    "export { e } from './e.ts';",
    "export * from './f.ts';",
    "import './side.ts';",
    "const g = await import('./g.ts');",
    "const w = new Worker(new URL('./worker.ts', import.meta.url));",
    "// import { no } from './commented.ts';",
    "/* export { no } from './block.ts'; */",
    "const s = 'http://example.com'; import { h } from './h.ts';",
  ].join('\n');
  assert.deepEqual(importsOf(src).sort(), ['../b.ts', './a.ts', './cd.ts', './e.ts', './f.ts', './g.ts', './h.ts', './side.ts', './worker.ts'].sort());
});

test('a planted bad import, a cycle and an impure pure module are each caught', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-arch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  put('errors.ts', 'export class E {}\n');
  put('stats/mean.ts', "import { E } from '../errors.ts';\nexport const mean = 1;\n");
  put('drift/detect.ts', "import { mean } from '../stats/mean.ts';\nexport const detect = mean;\n");
  put('io/store.ts', "import { detect } from '../drift/detect.ts';\nexport const store = detect;\n");
  put('cli/main.ts', "const m = await import('../io/store.ts');\n");
  const clean = analyse(dir);
  assert.deepEqual([clean.against, clean.cycles, clean.impure, clean.unlayered], [[], [], [], []]);

  // Drift detection reaching up into the store (what src/drift/job.ts did before issue 12).
  put('drift/detect.ts', "import { mean } from '../stats/mean.ts';\nimport { store } from '../io/store.ts';\nexport const detect = mean;\n");
  const bad = analyse(dir);
  assert.deepEqual(bad.against, ['drift/detect.ts -> io/store.ts (drift -> io)']);
  assert.deepEqual(bad.cycles, [['drift/detect.ts', 'io/store.ts']]);

  // A cycle inside one layer, through a dynamic import.
  put('drift/detect.ts', "import { mean } from '../stats/mean.ts';\nexport const detect = mean;\n");
  put('cli/a.ts', "import { b } from './b.ts';\nexport const a = 1;\n");
  put('cli/b.ts', "export const b = () => import('./a.ts');\n");
  const cyclic = analyse(dir);
  assert.deepEqual(cyclic.against, []);
  assert.deepEqual(cyclic.cycles, [['cli/a.ts', 'cli/b.ts']]);

  // File I/O in the pure statistics; a module in no layer.
  rmSync(join(dir, 'cli/b.ts'));
  put('cli/a.ts', 'export const a = 1;\n');
  put('stats/mean.ts', "import { readFileSync } from 'node:fs';\nexport const mean = 1;\n");
  put('misc/x.ts', 'export const x = 1;\n');
  const impure = analyse(dir);
  assert.deepEqual(impure.impure, ['stats/mean.ts imports node:fs']);
  assert.deepEqual(impure.unlayered, ['misc/x.ts']);
});
