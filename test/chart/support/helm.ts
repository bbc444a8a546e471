// Shared by the chart, rules and e2e tests: render the chart with the real helm binary, locate the
// offline schemas scripts/provision/helm.sh prepared, run external tools.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crdToSchemas, readYamlDocs, writeSchemas } from './schemas.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHART = join(REPO, 'charts/sentinelml');
/** Kubernetes version rendered against and validated with (matches scripts/provision/helm.sh). */
export const KUBE_VERSION = '1.35.4';

export const TOOLS = process.env.SENTINEL_TOOLS ?? join(process.env.SENTINEL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sentinelml'), 'tools');

/** A tool from $SENTINEL_TOOLS/bin (provisioned by scripts/provision.sh); a missing tool fails the test. */
export function tool(name: string): string {
  const p = join(TOOLS, 'bin', name);
  if (!existsSync(p)) throw new Error(`${name} not found at ${p}: run scripts/provision.sh helm prometheus`);
  return p;
}

export function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, cwd: opts.cwd ?? REPO, maxBuffer: 256 * 1024 * 1024 });
}

export function ciValuesFiles(): string[] {
  return readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: Record<string, string>;
  includeCrds?: boolean;
}

export function helmTemplateArgs(o: RenderOptions = {}): string[] {
  const args = ['template', o.release ?? 'rel', CHART, '--namespace', o.namespace ?? 'ml', '--kube-version', KUBE_VERSION];
  if (o.includeCrds) args.push('--include-crds');
  for (const f of o.valuesFiles ?? []) args.push('-f', f);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`);
  return args;
}

/** `helm template`: the YAML text, or throws with helm's stderr. */
export function renderText(o: RenderOptions = {}): string {
  const r = run(tool('helm'), helmTemplateArgs(o));
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string>; [k: string]: any };

export function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML error: ${d.errors[0].message}`);
      return d.toJS() as K8sObject;
    })
    .filter((d) => d !== null && d !== undefined);
}

export function render(o: RenderOptions = {}): K8sObject[] {
  return parseDocs(renderText(o));
}

export function find(objs: K8sObject[], kind: string, nameSuffix = ''): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.endsWith(nameSuffix));
  if (o === undefined) throw new Error(`no ${kind} *${nameSuffix} among ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** kubeconform schema locations: Kubernetes, prometheus-operator (provisioned) and our CRD (from the chart, now). */
export function schemaLocations(): string[] {
  const base = join(TOOLS, 'schemas');
  const versions = readFileSync(join(base, 'VERSIONS'), 'utf8');
  const k8sVersion = /K8S_SCHEMA_VERSION=(\S+)/.exec(versions)?.[1];
  const k8s = join(base, 'kubernetes', `${k8sVersion}-standalone-strict`);
  const ours = mkdtempSync(join(tmpdir(), 'sentinelml-crd-schemas-'));
  writeSchemas(ours, crdToSchemas(readYamlDocs(readdirSync(join(CHART, 'crds')).map((f) => join(CHART, 'crds', f)))));
  const tpl = '{{ .ResourceKind }}{{ .KindSuffix }}.json';
  return [k8s, join(base, 'prometheus-operator'), ours].map((d) => join(d, tpl));
}

export interface KubeconformResult {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: string;
  msg: string;
}

/** kubeconform -strict over YAML text; every resource with its status. */
export function kubeconform(yamlText: string, locations = schemaLocations()): { resources: KubeconformResult[]; stderr: string; status: number | null } {
  const args = ['-strict', '-output', 'json', '-verbose', ...locations.flatMap((l) => ['-schema-location', l]), '-'];
  const r = run(tool('kubeconform'), args, { input: yamlText });
  let resources: KubeconformResult[] = [];
  try {
    // Comment-only YAML documents (file headers) come back as empty entries: not objects, dropped.
    resources = ((JSON.parse(r.stdout) as { resources: KubeconformResult[] }).resources ?? []).filter((x) => !(x.kind === '' && (x.status === '' || x.status === 'statusEmpty')));
  } catch {
    throw new Error(`kubeconform output not JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return { resources, stderr: r.stderr, status: r.status };
}
