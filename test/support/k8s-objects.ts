// Helpers for tests that read Kubernetes objects: YAML manifests and RBAC rules.
import { parseAllDocuments } from 'yaml';

export type K8sObj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** Every object of a multi-document YAML manifest (comment-only documents dropped); throws on invalid YAML. */
export function parseManifest(text: string): K8sObj[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`invalid YAML in the manifest: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o): o is K8sObj => o && typeof o === 'object' && typeof o.kind === 'string');
}

/** Expands RBAC rules (from a SelfSubjectRulesReview) into "verb group/resource[/name]" strings. */
export function expandRules(rules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) for (const v of r.verbs) for (const g of r.apiGroups ?? ['']) for (const res of r.resources ?? []) {
    const names = r.resourceNames?.length ? r.resourceNames : [''];
    for (const n of names) out.add(`${v} ${g}/${res}${n ? `/${n}` : ''}`);
  }
  return out;
}
