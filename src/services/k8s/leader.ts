/**
 * Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm (leaderelection.go):
 * a candidate takes the Lease when it is free or its holder has not renewed it for
 * leaseDurationSeconds as observed on the candidate's own clock (no cross-machine clock
 * comparison); the leader renews every retryPeriod and steps down when it could not renew within
 * renewDeadline; on a graceful stop it releases the Lease so a standby takes over at once.
 * Writes carry the resourceVersion read, so two candidates can never both win a round.
 * Hand-written: @kubernetes/client-node 2.x has no leader election.
 */
import { CoordinationV1Api, KubeConfig, V1MicroTime, apiStatus, describeApiError, requestOptions, reuseConnections, type V1Lease } from './client.ts';
import type { Logger } from '../../logger.ts';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading: () => void | Promise<void>;
  /** Called when leadership is lost (renewal failed); not on a graceful `stop`. */
  onStoppedLeading: () => void | Promise<void>;
  onNewLeader?: (identity: string) => void;
}

export interface LeaderElector {
  /** Runs until stop(); resolves when stopped or leadership was lost. */
  run(): Promise<void>;
  isLeader(): boolean;
  /** Stops campaigning; releases the Lease when holding it. */
  stop(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

export function createLeaderElector(o: LeaderElectionOptions): LeaderElector {
  const leaseDurationMs = o.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = o.retryPeriodMs ?? 2_000;
  const api = reuseConnections(o.kubeConfig).makeApiClient(CoordinationV1Api);
  const log = o.logger.child({ component: 'leader-election', lease: `${o.namespace}/${o.name}`, identity: o.identity });
  const abort = new AbortController();
  let leader = false;
  let observed = '';
  let observedAt = 0;
  let lastHolder = '';
  let running: Promise<void> | undefined;
  const opts = () => requestOptions(Math.max(1000, Math.min(retryPeriodMs * 2, renewDeadlineMs)));

  /** One round: true when this candidate holds the Lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const spec = (acquire: boolean, transitions: number, prev?: V1Lease['spec']) => ({
      holderIdentity: o.identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: acquire ? new V1MicroTime(now) : prev?.acquireTime,
      renewTime: new V1MicroTime(now),
      leaseTransitions: transitions,
    });
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name: o.name, namespace: o.namespace }, opts());
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
      await api.createNamespacedLease({ namespace: o.namespace, body: { metadata: { name: o.name, namespace: o.namespace }, spec: spec(true, 0) } }, opts());
      return true;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const record = `${holder}|${lease.spec?.renewTime?.toISOString?.() ?? String(lease.spec?.renewTime)}|${lease.metadata?.resourceVersion}`;
    if (record !== observed) {
      observed = record;
      observedAt = now;
    }
    if (holder !== lastHolder) {
      lastHolder = holder;
      if (holder !== '') o.onNewLeader?.(holder);
    }
    const duration = (lease.spec?.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    if (holder !== '' && holder !== o.identity && observedAt + duration > now) return false;
    const mine = holder === o.identity;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1);
    await api.replaceNamespacedLease({ name: o.name, namespace: o.namespace, body: { ...lease, spec: spec(!mine, transitions, lease.spec) } }, opts());
    return true;
  }

  async function campaign(): Promise<void> {
    // Acquire.
    while (!abort.signal.aborted && !leader) {
      try {
        leader = await tryAcquireOrRenew();
      } catch (err) {
        log.debug({ event: 'lease_not_acquired', err: describeApiError(err) }, 'lease not acquired');
      }
      if (!leader) await sleep(retryPeriodMs, abort.signal);
    }
    if (abort.signal.aborted) return;
    log.info({ event: 'lease_acquired' }, 'became leader');
    await o.onStartedLeading();
    // Renew; give up when no renewal succeeded within renewDeadline.
    let lastRenew = Date.now();
    while (!abort.signal.aborted) {
      await sleep(retryPeriodMs, abort.signal);
      if (abort.signal.aborted) break;
      try {
        if (await tryAcquireOrRenew()) {
          lastRenew = Date.now();
          continue;
        }
        log.warn({ event: 'lease_taken' }, 'lease taken by another candidate');
      } catch (err) {
        log.warn({ event: 'lease_renewal_failed', err: describeApiError(err) }, 'lease renewal failed');
        if (Date.now() - lastRenew < renewDeadlineMs) continue;
      }
      leader = false;
      log.error({ event: 'leadership_lost' }, 'leadership lost');
      await o.onStoppedLeading();
      return;
    }
  }

  return {
    run() {
      running ??= campaign();
      return running;
    },
    isLeader: () => leader,
    async stop() {
      abort.abort();
      await running?.catch(() => undefined);
      if (!leader) return;
      leader = false;
      // Release: an empty holder lets a standby take over without waiting for the lease to expire.
      try {
        const lease = await api.readNamespacedLease({ name: o.name, namespace: o.namespace }, opts());
        if (lease.spec?.holderIdentity === o.identity) {
          await api.replaceNamespacedLease({
            name: o.name, namespace: o.namespace,
            body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) } },
          }, opts());
          log.info({ event: 'lease_released' }, 'lease released');
        }
      } catch (err) {
        log.warn({ event: 'lease_not_released', err: describeApiError(err) }, 'lease not released (a standby takes over once it expires)');
      }
    },
  };
}
