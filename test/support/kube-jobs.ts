// A CronJob's Job run by hand in the test cluster, as users do with `kubectl create job --from`.
import type { KubeNode } from './kube-node.ts';
import { waitFor } from './wait.ts';

/** Creates Job `name` from `cronJob` and waits for its final condition (and when it was reached, ms). */
export async function runCronJobOnce(node: KubeNode, ns: string, cronJob: string, name: string): Promise<{ state: 'Complete' | 'Failed'; at: number }> {
  await node.kubectl(['create', 'job', '-n', ns, `--from=cronjob/${cronJob}`, name]);
  return waitFor(`job ${name} finished`, 400_000, async () => {
    const j = JSON.parse((await node.kubectl(['get', 'job', '-n', ns, name, '-o', 'json'])).stdout);
    const c = (j.status.conditions ?? []).find((x: any) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
    return c ? { state: c.type, at: Date.parse(c.lastTransitionTime) } : undefined;
  });
}
