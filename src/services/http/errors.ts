/**
 * The one error middleware of both HTTP apps (inference API and report server), in the manner of
 * Koa's `context.onerror`: any error becomes `{"error": {code, message, details?}}` with its status.
 * The one policy: a 4xx names the problem (its message and details); a 5xx never sends internals
 * (no details, which carry server paths; the message only of an exposed error, else "internal
 * error"); 5xx go to the app's `error` event, logged once by `logRequestErrors`.
 * A client-controlled string (an unknown field name, a path) can make an error huge, so what is
 * sent back is bounded (`boundForClient`). A method a route does not take, including one the server
 * knows nothing of (TRACE, PURGE), answers 405 with `Allow`: bad input, never a 5xx.
 */
import type Koa from 'koa';
import { InputError, SentinelError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';

/** Longest string (in UTF-16 units) sent back in an error; longer ones are cut with a note. */
export const MAX_ERROR_STRING = 256;
/** Most array items or object keys sent back per level of an error's details. */
export const MAX_ERROR_ITEMS = 100;

export interface ErrorMiddlewareOptions {
  /** Called for every 4xx (metrics: invalid requests by code). */
  onClientError?: (e: SentinelError, ctx: Koa.Context) => void;
}

/** Any thrown value as a SentinelError: http-errors (router, body parser, Koa) keep their 4xx status. */
export function toSentinelError(err: unknown): SentinelError {
  if (err instanceof SentinelError) return err;
  const e = err as { status?: unknown; statusCode?: unknown; message?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 405 || status === 501) return new InputError('method_not_allowed', 'method not allowed', { status: 405, cause: err });
  if (status !== undefined && status >= 400 && status < 500) {
    return new InputError(status === 404 ? 'not_found' : 'bad_request', typeof e?.message === 'string' ? e.message : 'bad request', { status, cause: err });
  }
  return new SentinelError('internal', 'internal error', { status: 500, expose: false, cause: err });
}

/** Cuts long strings and long lists in a JSON value so an error body stays small whatever the input. */
export function boundForClient(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.length <= MAX_ERROR_STRING ? value : `${value.slice(0, MAX_ERROR_STRING)}… (${value.length - MAX_ERROR_STRING} more characters)`;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 6) return '…';
  if (Array.isArray(value)) {
    const out = value.slice(0, MAX_ERROR_ITEMS).map((v) => boundForClient(v, depth + 1));
    if (value.length > MAX_ERROR_ITEMS) out.push(`… (${value.length - MAX_ERROR_ITEMS} more)`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (n++ >= MAX_ERROR_ITEMS) break;
    out[boundForClient(k) as string] = boundForClient(v, depth + 1);
  }
  return out;
}

/**
 * Outermost-but-one middleware of each app: turns errors, router 405/501 and unrouted 404s into
 * the JSON error body. Errors are never cached.
 */
export function createErrorMiddleware(opts: ErrorMiddlewareOptions = {}): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // @koa/router's allowedMethods (throw: false) leaves 405/501 with an Allow header and no body.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        // The router also answers 501 on a path no route has (an unknown method): that is a 404.
        if (!ctx.response.get('Allow')) throw new InputError('not_found', `no route ${ctx.method} ${ctx.path}`, { status: 404 });
        throw new InputError('method_not_allowed', `${ctx.method} is not allowed here${ctx.response.get('Allow') ? `; allowed: ${ctx.response.get('Allow')}` : ''}`, { status: 405 });
      }
      if (ctx.status === 404 && ctx.body == null) throw new InputError('not_found', `no route ${ctx.method} ${ctx.path}`, { status: 404 });
    } catch (err) {
      const e = toSentinelError(err);
      const allow = ctx.response.get('Allow');
      ctx.status = e.status;
      ctx.remove('ETag');
      ctx.remove('Last-Modified');
      ctx.set('Cache-Control', 'no-store');
      if (e.status === 405 && allow) ctx.set('Allow', allow);
      const body: { code: string; message: string; details?: unknown } = { code: e.code, message: e.expose ? e.message : 'internal error' };
      if (e.expose && e.status < 500 && e.details !== undefined) body.details = e.details;
      ctx.body = { error: boundForClient(body) };
      if (e.status >= 400 && e.status < 500) opts.onClientError?.(e, ctx);
      if (e.status >= 500) ctx.app.emit('error', err, ctx);
    }
  };
}

/** The one `error` listener of both apps: every 5xx logged once, with its code, details and request. */
export function logRequestErrors(app: Koa<any>, logger: Logger): void {
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    const e = err as { code?: unknown; details?: unknown } | null;
    logger.error({ event: 'request_failed', err, code: e?.code, details: e?.details, method: ctx?.method, path: ctx?.path }, 'request failed');
  });
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** A request-metric method label from a fixed set: any other method is `other`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/**
 * A request-metric route label taken only from the route table: the matched route's pattern, else
 * a route whose path matches (wrong method), else `unmatched`. Raw paths never become label values.
 */
export function routeLabel(router: { match(path: string, method: string): { path: { path: string | RegExp }[] } }, ctx: Koa.Context): string {
  const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  const layer = router.match(ctx.path, ctx.method).path[0];
  return layer !== undefined && typeof layer.path === 'string' ? layer.path : 'unmatched';
}
