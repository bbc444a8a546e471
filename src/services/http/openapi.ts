import type { ModelCard } from '../../io/model/card.ts';

/** The OpenAPI 3.1 document of the inference API, derived from the model card and the request limits. */
export function buildOpenApi(card: ModelCard, limits: { maxInstances: number; maxBodyBytes: number }): Record<string, unknown> {
  const featureProps: Record<string, unknown> = {};
  for (const f of card.features) {
    const base: Record<string, unknown> =
      f.type === 'categorical'
        ? { type: 'string', enum: f.categories }
        : { type: f.integer ? 'integer' : 'number', ...(f.min !== undefined ? { minimum: f.min } : {}), ...(f.max !== undefined ? { maximum: f.max } : {}) };
    featureProps[f.name] = f.nullable ? { anyOf: [base, { type: 'null' }] } : base;
  }
  const prediction = {
    type: 'object',
    required: ['id', 'timestamp', 'prediction', 'confidence', 'probabilities', 'model_version'],
    properties: {
      id: { type: 'string', format: 'uuid', description: 'UUID v4; the request_id of the log row.' },
      timestamp: { type: 'string', format: 'date-time' },
      prediction: { type: 'string', enum: card.classes },
      confidence: { type: 'number', minimum: 0, maximum: 1, description: 'Probability of the predicted class.' },
      probabilities: { type: 'object', properties: Object.fromEntries(card.classes.map((c) => [c, { type: 'number' }])) },
      model_version: { type: 'string' },
    },
  };
  const error = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      },
    },
  };
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  // Every path answers any method it does not document with 405 and an Allow header.
  const notAllowed = { '405': errorResponse('Method not allowed on this path (any method not documented here); the Allow header lists the allowed ones.') };
  const bodyLimits = {
    '413': errorResponse(`Body larger than ${limits.maxBodyBytes} bytes.`),
    '415': errorResponse('Content type is not application/json.'),
  };
  /** A request of one item (`single`) or a batch of `item` schemas under `instances`. */
  const oneOrBatch = (single: object, item: string) => ({
    required: true,
    content: {
      'application/json': {
        schema: {
          oneOf: [single, { type: 'object', required: ['instances'], additionalProperties: false, properties: { instances: { type: 'array', minItems: 1, maxItems: limits.maxInstances, items: { $ref: `#/components/schemas/${item}` } } } }],
        },
      },
    },
  });
  /** One `schema` object, or a list of them under `key` (the answer to a single or a batch request). */
  const oneOrList = (schema: string, key: string) => ({
    'application/json': {
      schema: {
        oneOf: [{ $ref: `#/components/schemas/${schema}` }, { type: 'object', required: [key], properties: { [key]: { type: 'array', items: { $ref: `#/components/schemas/${schema}` } } } }],
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: { title: `SentinelML inference API (${card.name})`, version: card.version },
    paths: {
      '/predict': {
        post: {
          summary: 'Predict one instance or a batch; answered only once the prediction is in the durable log.',
          requestBody: oneOrBatch({ type: 'object', required: ['features'], additionalProperties: false, properties: { features: { $ref: '#/components/schemas/Features' } } }, 'Features'),
          responses: {
            '200': {
              description: 'A prediction (`features`) or a list of them (`instances`).',
              content: oneOrList('Prediction', 'predictions'),
            },
            '400': errorResponse('Malformed JSON or a body without "features"/"instances".'),
            ...notAllowed,
            ...bodyLimits,
            '422': errorResponse('Invalid feature values; `details.problems` names every offending field.'),
            '503': errorResponse('The prediction log cannot be written (no prediction is returned without its log row), or the server is shutting down.'),
          },
        },
      },
      '/feedback': {
        post: {
          summary:
            'Ground truth for earlier predictions; answered only once the label is in the durable label log. A repeated request_id appends another row (the last received wins at join time, both are kept); an id this replica never served is accepted and counted as unmatched when the drift run joins labels to predictions.',
          requestBody: oneOrBatch({ $ref: '#/components/schemas/Feedback' }, 'Feedback'),
          responses: {
            '200': {
              description: 'The recorded label (single) or labels (`instances`), with the time they were received.',
              content: oneOrList('FeedbackRecorded', 'feedback'),
            },
            '400': errorResponse('Malformed JSON or a body that is not an object.'),
            ...notAllowed,
            ...bodyLimits,
            '422': errorResponse('Invalid request ids or labels; `details.problems` names every offending field.'),
            '503': errorResponse('The label log cannot be written (no label is acknowledged without its log row), or the server is shutting down.'),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness.', responses: { '200': { description: 'The process is alive.' }, ...notAllowed } } },
      '/readyz': { get: { summary: 'Readiness: the model is loaded and the log takes rows now.', responses: { '200': { description: 'Ready.' }, ...notAllowed, '503': errorResponse('Not ready.') } } },
      '/metrics': { get: { summary: 'Prometheus metrics.', responses: { '200': { description: 'Prometheus text format.' }, ...notAllowed } } },
      '/openapi.json': { get: { summary: 'This document.', responses: { '200': { description: 'OpenAPI 3.1 JSON.' }, ...notAllowed } } },
    },
    components: {
      schemas: {
        Features: { type: 'object', additionalProperties: false, required: card.features.map((f) => f.name), properties: featureProps },
        Prediction: prediction,
        Feedback: {
          type: 'object',
          additionalProperties: false,
          required: ['request_id', 'label'],
          properties: {
            request_id: { type: 'string', format: 'uuid', description: 'The `id` of the prediction this label belongs to.' },
            label: { type: 'string', enum: card.classes, description: 'The true class.' },
          },
        },
        FeedbackRecorded: {
          type: 'object',
          required: ['request_id', 'label', 'timestamp'],
          properties: { request_id: { type: 'string', format: 'uuid' }, label: { type: 'string', enum: card.classes }, timestamp: { type: 'string', format: 'date-time', description: 'When the label was received.' } },
        },
        Error: error,
      },
    },
  };
}
