// Offline JSON schemas for kubeconform, in its file layout ({{ .ResourceKind }}{{ .KindSuffix }}.json,
// e.g. deployment-apps-v1.json, service-v1.json, servicemonitor-monitoring-v1.json).
//   node schemas.ts openapi <swagger.json> <outdir>      Kubernetes OpenAPI v2 document → one file per kind
//   node schemas.ts crd <outdir> <crd.yaml>...           CustomResourceDefinitions → one file per version
// Every schema is strict: objects with declared properties reject unknown ones (what yannh's
// openapi2jsonschema does with --strict), int-or-string and Quantity accept both of their JSON forms.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Schema = Record<string, unknown>;

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Structural walk (never by key name: CRD schemas have properties called `format` or `type`). */
function strictify(node: unknown): unknown {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const s = { ...(node as Schema) };
  if (s.format === 'int-or-string' || s['x-kubernetes-int-or-string'] === true) {
    const { type: _t, format: _f, ...rest } = s;
    return { ...rest, oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  // Formats are documentation here (kubeconform does not assert them the way the API server parses).
  delete s.format;
  if (s.properties !== undefined) {
    const props: Schema = {};
    for (const [k, v] of Object.entries(s.properties as Schema)) props[k] = strictify(v);
    s.properties = props;
    if (s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) s.additionalProperties = false;
  }
  if (s.items !== undefined) s.items = strictify(s.items);
  if (s.additionalProperties !== undefined && typeof s.additionalProperties === 'object') s.additionalProperties = strictify(s.additionalProperties);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map(strictify);
  if (s.not !== undefined) s.not = strictify(s.not);
  return s;
}

function kindSuffix(group: string, version: string): string {
  return group === '' ? `-${version}` : `-${group.split('.')[0]}-${version}`;
}

function refsOf(node: unknown, out: Set<string>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => refsOf(n, out));
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.add(v.replace('#/definitions/', ''));
    else refsOf(v, out);
  }
}

/** Kubernetes swagger.json (OpenAPI v2) → { fileName: schema } for every kind with a group/version/kind. */
export function openapiToSchemas(swagger: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const defs: Record<string, Schema> = {};
  for (const [name, def] of Object.entries(swagger.definitions)) {
    defs[name] = name === QUANTITY ? { oneOf: [{ type: 'string' }, { type: 'number' }] } : (strictify(def) as Schema);
  }
  const files = new Map<string, Schema>();
  for (const [name, def] of Object.entries(defs)) {
    const gvks = (swagger.definitions[name]['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
    for (const { group, version, kind } of gvks) {
      const apiVersion = group === '' ? version : `${group}/${version}`;
      const reachable = new Set<string>();
      const queue = [def];
      while (queue.length > 0) {
        const found = new Set<string>();
        refsOf(queue.pop(), found);
        for (const r of found) if (!reachable.has(r)) { reachable.add(r); queue.push(defs[r]); }
      }
      const definitions: Schema = {};
      for (const r of [...reachable].sort()) definitions[r] = defs[r];
      const props = { ...(def.properties as Schema) };
      if (props.apiVersion !== undefined) props.apiVersion = { type: 'string', enum: [apiVersion] };
      if (props.kind !== undefined) props.kind = { type: 'string', enum: [kind] };
      files.set(`${kind.toLowerCase()}${kindSuffix(group, version)}.json`, {
        $schema: 'http://json-schema.org/draft-07/schema#',
        ...def,
        properties: props,
        definitions,
      });
    }
  }
  return files;
}

interface Crd {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[] };
}

/** CustomResourceDefinition objects → { fileName: schema } per served version. */
export function crdToSchemas(crds: unknown[]): Map<string, Schema> {
  const files = new Map<string, Schema>();
  for (const doc of crds as Crd[]) {
    if (doc?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = doc.spec;
    for (const v of versions) {
      const root = v.schema?.openAPIV3Schema;
      if (root === undefined) continue;
      const s = strictify(root) as Schema;
      const props = { ...(s.properties as Schema) };
      props.apiVersion = { type: 'string', enum: [`${group}/${v.name}`] };
      props.kind = { type: 'string', enum: [names.kind] };
      files.set(`${names.kind.toLowerCase()}${kindSuffix(group, v.name)}.json`, {
        $schema: 'http://json-schema.org/draft-07/schema#',
        ...s,
        properties: props,
      });
    }
  }
  return files;
}

/** Reads every YAML document of the given files. */
export function readYamlDocs(paths: string[]): unknown[] {
  return paths.flatMap((p) => parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS()));
}

export function writeSchemas(dir: string, files: Map<string, Schema>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, schema] of files) writeFileSync(join(dir, name), JSON.stringify(schema));
}

if (import.meta.main) {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'openapi' && args.length === 2) {
    const files = openapiToSchemas(JSON.parse(readFileSync(args[0], 'utf8')));
    writeSchemas(args[1], files);
    console.error(`schemas: ${files.size} Kubernetes kinds → ${args[1]}`);
  } else if (mode === 'crd' && args.length >= 2) {
    const files = crdToSchemas(readYamlDocs(args.slice(1)));
    writeSchemas(args[0], files);
    console.error(`schemas: ${files.size} custom resource versions → ${args[0]}`);
  } else {
    console.error('usage: schemas.ts openapi <swagger.json> <outdir> | crd <outdir> <crd.yaml>...');
    process.exit(2);
  }
}
