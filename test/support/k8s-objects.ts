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

/**
 * What `sentinel operator` requests from the API (src/services/k8s/operator.ts, leader.ts), as
 * "verb group/resource[/subresource]": informers list and watch; status patches; CronJob writes
 * (update undoes hand edits, get follows a create conflict); existence checks; Events; the Lease.
 * test/kube/operator.test.ts checks this list against the API server's audit log.
 */
export const OPERATOR_NEEDS: readonly string[] = [
  'list sentinelml.io/modelmonitors', 'watch sentinelml.io/modelmonitors', 'patch sentinelml.io/modelmonitors/status',
  'get batch/cronjobs', 'list batch/cronjobs', 'watch batch/cronjobs', 'create batch/cronjobs', 'update batch/cronjobs',
  'get /configmaps', 'get /persistentvolumeclaims', 'create events.k8s.io/events',
  'get coordination.k8s.io/leases', 'create coordination.k8s.io/leases', 'update coordination.k8s.io/leases',
].sort();

/** What a `sentinel drift --monitor` run requests: read its ModelMonitor, patch its status, create an Event. */
export const DRIFT_NEEDS: readonly string[] = ['create events.k8s.io/events', 'get sentinelml.io/modelmonitors', 'patch sentinelml.io/modelmonitors/status'];
