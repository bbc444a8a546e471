import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerProcessMetrics } from './process.ts';

/**
 * The inference API's metrics (predictions, request latency, invalid requests, log writes, labels),
 * registered on an injected Registry (never the global one); the chart's alerts read them
 * (docs/kubernetes.md, docs/runbook.md).
 */
export interface InferenceMetrics {
  predictions: Counter<'model_version' | 'prediction'>;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  invalidRequests: Counter<'reason'>;
  logWriteDuration: Histogram;
  logWriteFailures: Counter;
  logRows: Counter;
  feedback: Counter<'label'>;
  feedbackWriteDuration: Histogram;
  feedbackWriteFailures: Counter;
}

export function createInferenceMetrics(registry: Registry, model: { name: string; version: string }): InferenceMetrics {
  registerProcessMetrics(registry);
  const info = new Gauge({
    name: 'sentinelml_model_info',
    help: 'The model being served (value is always 1).',
    labelNames: ['model_name', 'model_version'],
    // Across `--workers` the value stays 1 (every other metric here is summed).
    aggregator: 'first',
    registers: [registry],
  });
  info.set({ model_name: model.name, model_version: model.version }, 1);
  return {
    predictions: new Counter({
      name: 'sentinelml_predictions_total',
      help: 'Predictions returned to clients, each with its durable log row.',
      labelNames: ['model_version', 'prediction'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'sentinelml_request_duration_seconds',
      help: 'HTTP request duration, from the first byte read to the response, including the log fsync.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    invalidRequests: new Counter({
      name: 'sentinelml_invalid_requests_total',
      help: 'Requests rejected as invalid input (4xx), by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    logWriteDuration: new Histogram({
      name: 'sentinelml_log_write_duration_seconds',
      help: 'Duration of one group commit of the prediction log (write + fsync).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    logWriteFailures: new Counter({
      name: 'sentinelml_log_write_failures_total',
      help: 'Group commits of the prediction log that failed; their requests were answered 503.',
      registers: [registry],
    }),
    logRows: new Counter({
      name: 'sentinelml_log_rows_total',
      help: 'Rows durably written to the prediction log.',
      registers: [registry],
    }),
    feedback: new Counter({
      name: 'sentinelml_feedback_total',
      help: 'Ground-truth labels accepted by POST /feedback, each durably in the label log, by label.',
      labelNames: ['label'],
      registers: [registry],
    }),
    feedbackWriteDuration: new Histogram({
      name: 'sentinelml_feedback_write_duration_seconds',
      help: 'Duration of one group commit of the label log (write + fsync).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    feedbackWriteFailures: new Counter({
      name: 'sentinelml_feedback_write_failures_total',
      help: 'Group commits of the label log that failed; their requests were answered 503.',
      registers: [registry],
    }),
  };
}
