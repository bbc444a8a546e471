import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Registry } from 'prom-client';
import { InputError, UnavailableError, clientReason } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { Model, Prediction } from '../../io/model/onnx.ts';
import { createFeedbackValidator, createValidator } from '../../io/model/validate.ts';
import type { InferenceMetrics } from '../metrics/inference.ts';
import type { LogWriter } from '../../io/log/writer.ts';
import { logColumns } from '../../io/log/schema.ts';
import { logsClassProbabilities } from '../../drift/log-columns.ts';
import { createErrorMiddleware, logRequestErrors, methodLabel, routeLabel } from './errors.ts';
import { buildOpenApi } from './openapi.ts';

export interface InferenceAppDeps {
  model: Model;
  /** The durable prediction log; absent only when logging is switched off (benchmarks). */
  log: LogWriter | undefined;
  /** The durable label log of POST /feedback; absent when logging is switched off (then /feedback answers 503). */
  labels?: LogWriter;
  /** Throws when the log cannot take rows (readiness). */
  probeLog: () => Promise<void>;
  /** What /metrics exposes: this process's registry, or (in a `--workers` cluster) the whole server's. */
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  metrics: InferenceMetrics;
  logger: Logger;
  maxBodyBytes?: number;
  maxInstances?: number;
}

export interface PredictionOut {
  id: string;
  timestamp: string;
  prediction: string;
  confidence: number;
  probabilities: Record<string, number>;
  model_version: string;
}

interface State {
  /** Set by the predict handler; the log middleware makes these rows durable before the response leaves. */
  logRows?: unknown[][];
  predictions?: PredictionOut[];
}

export interface InferenceApp {
  app: Koa<State>;
  /** Shutting down: new predictions get 503 and readiness fails, in-flight requests finish. */
  startDraining(): void;
  /**
   * Resolves once no request is being handled. A connection can close before its handler ends (a
   * client that hung up mid-request), so a closed server does not mean the handlers are done: the
   * log is closed only after this, and a prediction already made still gets its row.
   */
  settled(): Promise<void>;
}

/** Builds the inference app; it binds no port (the serve command listens), so tests drive it in-process. */
export function createInferenceApp(deps: InferenceAppDeps): InferenceApp {
  const { model, log, registry, metrics, logger } = deps;
  const card = model.card;
  const maxInstances = deps.maxInstances ?? 1000;
  const maxBodyBytes = deps.maxBodyBytes ?? 1024 * 1024;
  const validate = createValidator(card, { maxInstances });
  const validateFeedback = createFeedbackValidator(card, { maxInstances });
  const openapi = buildOpenApi(card, { maxInstances, maxBodyBytes });
  const logProbabilities = logsClassProbabilities(card.classes);
  const classes = card.classes;
  const featureNames = card.features.map((f) => f.name);
  // A log row, in the order of logColumns: request_id, timestamp, model_version, the features, prediction, confidence[, one probability per class].
  const rowLength = logColumns(featureNames, classes).length;
  const app = new Koa<State>();
  const router = new Router<State>();
  let draining = false;
  let inFlight = 0;
  let onSettled: (() => void)[] = [];

  // Request metrics: labels come only from the route table and a fixed method set, so random paths
  // and methods cannot grow /metrics (one `unmatched` value collects them all).
  app.use(async (ctx, next) => {
    const t0 = process.hrtime.bigint();
    inFlight++;
    try {
      await next();
    } finally {
      metrics.requestDuration.observe({ method: methodLabel(ctx.method), route: routeLabel(router, ctx), status: String(ctx.status) }, Number(process.hrtime.bigint() - t0) / 1e9);
      if (--inFlight === 0) {
        const waiting = onSettled;
        onSettled = [];
        for (const resolve of waiting) resolve();
      }
    }
  });
  app.use(createErrorMiddleware({ onClientError: (e) => metrics.invalidRequests.inc({ reason: e.code }) }));
  app.use(async (ctx, next) => {
    if (draining) {
      // Keep-alive sockets would otherwise hold the shutdown open until they time out.
      ctx.set('Connection', 'close');
      if (ctx.path === '/predict' || ctx.path === '/feedback') throw new UnavailableError('shutting_down', 'the server is shutting down');
    }
    await next();
  });

  const parseJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: maxBodyBytes,
    encoding: 'utf-8',
    onError: (err: Error & { status?: number; type?: string }) => {
      if (err.status === 413 || err.type === 'entity.too.large') {
        throw new InputError('body_too_large', `the request body is larger than ${maxBodyBytes} bytes`, { status: 413 });
      }
      if (/prototype/i.test(err.message)) {
        throw new InputError('forbidden_key', 'the request body contains a "__proto__" key, which is never accepted', { status: 400 });
      }
      throw new InputError('malformed_json', `the request body is not valid JSON: ${err.message}`, { status: 400 });
    },
  });

  const requireJson: Koa.Middleware<State> = async (ctx, next) => {
    if (!ctx.is('application/json')) {
      throw new InputError('unsupported_media_type', `send the body as application/json (got ${ctx.get('content-type') || 'no content type'})`, { status: 415 });
    }
    await next();
  };

  router.post(
    '/predict',
    requireJson,
    parseJson,
    // Interceptor: the response leaves only after its rows are durable; if they cannot be, the
    // client gets 503 instead of a prediction.
    async (ctx, next) => {
      await next();
      if (ctx.state.logRows && log) await log.append(ctx.state.logRows);
      for (const p of ctx.state.predictions ?? []) metrics.predictions.inc({ model_version: p.model_version, prediction: p.prediction });
    },
    async (ctx) => {
      const { rows, batch } = validate((ctx.request as unknown as { body: unknown }).body);
      const predicted: Prediction[] = await model.predict(rows);
      const timestamp = new Date().toISOString();
      const out: PredictionOut[] = new Array(rows.length);
      const logRows: unknown[][] = new Array(rows.length);
      // Plain loops over precomputed names: this runs for every prediction.
      for (let i = 0; i < rows.length; i++) {
        const p = predicted[i];
        const id = randomUUID();
        const probabilities: Record<string, number> = {};
        for (let k = 0; k < classes.length; k++) probabilities[classes[k]] = p.probabilities[k];
        out[i] = { id, timestamp, prediction: p.label, confidence: p.confidence, probabilities, model_version: card.version };
        const row: unknown[] = new Array(rowLength);
        row[0] = id;
        row[1] = timestamp;
        row[2] = card.version;
        let at = 3;
        for (let f = 0; f < featureNames.length; f++) row[at++] = rows[i][featureNames[f]] ?? '';
        row[at++] = p.label;
        row[at++] = p.confidence;
        if (logProbabilities) for (let k = 0; k < classes.length; k++) row[at++] = p.probabilities[k];
        logRows[i] = row;
      }
      ctx.state.logRows = logRows;
      ctx.state.predictions = out;
      ctx.body = batch ? { predictions: out } : out[0];
    },
  );

  // Ground truth for an earlier prediction. Answered only once the label row is durable; an id this
  // replica never served is accepted (its prediction may be in another replica's log) and counted
  // as unmatched by the drift run's join; a repeated id appends another row and the last one wins.
  router.post('/feedback', requireJson, parseJson, async (ctx) => {
    const { items, batch } = validateFeedback((ctx.request as unknown as { body: unknown }).body);
    if (!deps.labels) throw new UnavailableError('feedback_disabled', 'labels are not recorded by this server (started with --no-log)');
    const timestamp = new Date().toISOString();
    await deps.labels.append(items.map((it) => [it.request_id, timestamp, it.label]));
    for (const it of items) metrics.feedback.inc({ label: it.label });
    const out = items.map((it) => ({ request_id: it.request_id, label: it.label, timestamp }));
    ctx.body = batch ? { feedback: out } : out[0];
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    if (draining) throw new UnavailableError('shutting_down', 'the server is shutting down');
    try {
      await deps.probeLog();
    } catch (err) {
      // The OS message names server paths: it stays in the log (the cause), the client gets the errno.
      throw new UnavailableError('log_not_writable', `the prediction log is not writable (${clientReason(err)})`, { cause: err });
    }
    ctx.body = { status: 'ready', model: card.name, model_version: card.version };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });

  router.get(['/openapi.json', '/openapi'], (ctx) => {
    ctx.body = openapi;
  });

  app.use(router.routes());
  app.use(router.allowedMethods());

  logRequestErrors(app, logger);
  return {
    app,
    startDraining: () => {
      draining = true;
    },
    settled: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => onSettled.push(resolve))),
  };
}
