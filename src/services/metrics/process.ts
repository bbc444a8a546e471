import { collectDefaultMetrics, type Registry } from 'prom-client';

/** prom-client's process and Node.js metrics, minus what `promtool check metrics` rejects. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, a suffix reserved for counters.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
}
