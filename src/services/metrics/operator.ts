import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerProcessMetrics } from './process.ts';

/** Metrics of `sentinel operator`, on an injected Registry (never the global one). */
export interface OperatorMetrics {
  /** Reconciles by result: success, requeue (a condition asked to look again later), error. */
  reconciles: Counter<'result'>;
  /** Failed reconciles by kind of failure (conflict, api, other). */
  reconcileErrors: Counter<'reason'>;
  reconcileDuration: Histogram;
  /** CronJobs created, updated (drifted from the spec: spec change or hand edit), by action. */
  cronJobWrites: Counter<'action'>;
  leader: Gauge;
  /** ModelMonitors in the cache by Ready status. */
  monitors: Gauge<'ready'>;
}

export function createOperatorMetrics(registry: Registry, sources: { queueDepth: () => number; inFlight: () => number }): OperatorMetrics {
  registerProcessMetrics(registry);
  new Gauge({
    name: 'sentinelml_operator_queue_depth',
    help: 'ModelMonitor keys waiting in the work queue.',
    registers: [registry],
    collect() { this.set(sources.queueDepth()); },
  });
  new Gauge({
    name: 'sentinelml_operator_reconciles_in_flight',
    help: 'Reconciles running now.',
    registers: [registry],
    collect() { this.set(sources.inFlight()); },
  });
  const m: OperatorMetrics = {
    reconciles: new Counter({ name: 'sentinelml_operator_reconciles_total', help: 'ModelMonitor reconciles, by result.', labelNames: ['result'], registers: [registry] }),
    reconcileErrors: new Counter({ name: 'sentinelml_operator_reconcile_errors_total', help: 'Reconciles that failed and were requeued with backoff, by reason.', labelNames: ['reason'], registers: [registry] }),
    reconcileDuration: new Histogram({
      name: 'sentinelml_operator_reconcile_duration_seconds',
      help: 'Duration of one reconcile, API calls included.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    cronJobWrites: new Counter({ name: 'sentinelml_operator_cronjob_writes_total', help: 'Drift CronJobs written, by action (create, update).', labelNames: ['action'], registers: [registry] }),
    leader: new Gauge({ name: 'sentinelml_operator_leader', help: '1 while this replica holds the leader Lease.', registers: [registry] }),
    monitors: new Gauge({ name: 'sentinelml_operator_monitors', help: 'ModelMonitors watched, by Ready status.', labelNames: ['ready'], registers: [registry] }),
  };
  // Every series exists from the start (at 0): rate() and alerts see the first increment.
  for (const result of ['success', 'requeue', 'error']) m.reconciles.inc({ result }, 0);
  for (const reason of ['conflict', 'api', 'other']) m.reconcileErrors.inc({ reason }, 0);
  for (const action of ['create', 'update']) m.cronJobWrites.inc({ action }, 0);
  for (const ready of ['True', 'False', 'Unknown']) m.monitors.set({ ready }, 0);
  return m;
}
