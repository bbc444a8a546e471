// The layer rule of src/, checked by test/architecture.test.ts: every import (static, `export ... from`,
// dynamic `import()`, and `new URL('./x.ts', import.meta.url)` worker entries) goes to the same layer or
// a lower one, and no two modules import each other through any path (no cycles).
// Hand-written reader: TypeScript 7 (the project's compiler) has no JS API, and the ESM-only syntax
// used here needs three patterns once comments are blanked out.
// Run: node scripts/architecture.ts [srcDir] [--layers layers.json]  — prints the counts, exits 1 on a violation.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** A layer: its name and the paths (relative to src/, a folder ends in '/') that belong to it. Lowest first. */
export interface Layer { name: string; paths: string[] }

export const LAYERS: Layer[] = [
  // Shared by every layer: the error type, the logger, the environment reader.
  { name: 'base', paths: ['errors.ts', 'logger.ts', 'config.ts'] },
  { name: 'stats', paths: ['stats/'] },
  // Tables: the CSV tokenizer and encoder, cells as pandas reads them, typed columns (src/io reads and writes the files).
  { name: 'table', paths: ['table/'] },
  { name: 'drift', paths: ['drift/'] },
  { name: 'render', paths: ['render/'] },
  { name: 'io', paths: ['io/'] },
  { name: 'services', paths: ['services/'] },
  { name: 'cli', paths: ['cli/'] },
];

/** Layers that compute only: no files, processes, threads or sockets, and no logging. */
export const PURE = ['stats', 'table', 'drift'];
const IMPURE_MODULES = /^node:(fs|fs\/promises|child_process|worker_threads|net|http|https|http2|dgram|cluster)$/;
const BASE_IMPURE = ['logger.ts', 'config.ts'];

export interface Edge { from: string; to: string }
export interface Report {
  files: string[];
  edges: Edge[];
  /** Edges from a layer to a higher one, as `from -> to (fromLayer -> toLayer)`. */
  against: string[];
  /** Files in no layer. */
  unlayered: string[];
  /** Pure-layer files importing I/O (node:fs, worker_threads, ...) or the logger. */
  impure: string[];
  /** Strongly connected groups of more than one module (or a module importing itself). */
  cycles: string[][];
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (/\.(ts|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The specifiers a file imports, statically or dynamically. */
export function importsOf(source: string): string[] {
  const text = blankComments(source);
  const specs: string[] = [];
  const patterns = [
    /(?:^|[;}\n])\s*(?:import|export)\s[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1/g, // import/export ... from 'x' (also `type`)
    /(?:^|[;}\n])\s*import\s*(['"])([^'"]+)\1/g, // import 'x' (side effects only)
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g, // await import('x')
    /\bnew URL\(\s*(['"])([^'"]+\.(?:ts|js))\1\s*,\s*import\.meta\.url\s*\)/g, // worker entry points
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[2]);
  return specs;
}

/** The source with comments replaced by spaces; strings and template literals kept as they are. */
function blankComments(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === '/' && s[i + 1] === '/') {
      const end = s.indexOf('\n', i);
      const stop = end < 0 ? s.length : end;
      out += ' '.repeat(stop - i); i = stop;
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      const stop = end < 0 ? s.length : end + 2;
      out += s.slice(i, stop).replace(/[^\n]/g, ' '); i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      out += s.slice(i, j + 1); i = j + 1;
    } else { out += c; i++; }
  }
  return out;
}

export function layerOf(file: string, layers: Layer[]): number {
  return layers.findIndex((l) => l.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

export function analyse(srcDir: string, layers: Layer[] = LAYERS, pure: string[] = PURE): Report {
  const root = resolve(srcDir);
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const files = listTs(root).map(rel).sort();
  const known = new Set(files);
  const edges: Edge[] = [];
  const impure: string[] = [];
  const pureIdx = new Set(pure.map((n) => layers.findIndex((l) => l.name === n)));
  for (const file of files) {
    const fromLayer = layerOf(file, layers);
    for (const spec of importsOf(readFileSync(join(root, file), 'utf8'))) {
      if (pureIdx.has(fromLayer) && IMPURE_MODULES.test(spec)) impure.push(`${file} imports ${spec}`);
      if (!spec.startsWith('.')) continue;
      const to = rel(resolve(root, dirname(file), spec));
      if (!known.has(to)) continue; // assets outside src/ (bin/, templates read as text)
      if (pureIdx.has(fromLayer) && BASE_IMPURE.includes(to)) impure.push(`${file} imports ${to}`);
      if (!edges.some((e) => e.from === file && e.to === to)) edges.push({ from: file, to });
    }
  }
  const against = edges
    .filter((e) => layerOf(e.to, layers) > layerOf(e.from, layers) && layerOf(e.from, layers) >= 0)
    .map((e) => `${e.from} -> ${e.to} (${layers[layerOf(e.from, layers)].name} -> ${layers[layerOf(e.to, layers)].name})`);
  const unlayered = files.filter((f) => layerOf(f, layers) < 0);
  return { files, edges, against, unlayered, impure, cycles: cyclesOf(files, edges) };
}

// Tarjan's strongly connected components; iterative enough for a few hundred files.
function cyclesOf(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of next.get(v)!) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); group.push(w); } while (w !== v);
      if (group.length > 1 || next.get(v)!.includes(v)) out.push(group.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const li = args.indexOf('--layers');
  const layers: Layer[] = li >= 0 ? JSON.parse(readFileSync(args[li + 1], 'utf8')) : LAYERS;
  const dir = args.find((a, i) => !a.startsWith('--') && (li < 0 || i !== li + 1)) ?? 'src';
  const r = analyse(dir, layers);
  console.log(`${r.files.length} modules, ${r.edges.length} import edges`);
  console.log(`against the layer direction: ${r.against.length}`);
  for (const a of r.against) console.log(`  ${a}`);
  console.log(`cycles: ${r.cycles.length}`);
  for (const c of r.cycles) console.log(`  ${c.join(' <-> ')}`);
  console.log(`unlayered: ${r.unlayered.length}${r.unlayered.length ? ` (${r.unlayered.join(', ')})` : ''}`);
  console.log(`impure imports in pure layers: ${r.impure.length}`);
  for (const i of r.impure) console.log(`  ${i}`);
  process.exit(r.against.length + r.cycles.length + r.unlayered.length + r.impure.length > 0 ? 1 : 0);
}
