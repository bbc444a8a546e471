/**
 * The report server as a Koa app value: it binds no port (`sentinel reports` listens), so tests
 * drive it in-process. Reads the report directory on every request — the drift job writes it.
 *
 *   GET /                          index of runs (rendered on request), no-cache + ETag
 *   GET /latest.json               the latest pointer, no-cache + ETag/Last-Modified
 *   GET /runs/<id>/report.html     immutable run files (report.html, drift.json, failed.json)
 *   GET /runs/<id>/drift.json
 *   GET /metrics                   drift gauges computed at scrape time
 *   GET /healthz                   liveness
 *
 * Run ids are checked against a strict pattern and the resolved real path must stay inside the
 * directory, so no URL reaches a file outside it. Errors answer JSON `{"error": {code, message}}`;
 * 5xx are logged once, through the app's `error` event.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import type { Registry } from 'prom-client';
import { InputError, SentinelError } from '../../errors.ts';
import { createErrorMiddleware, logRequestErrors } from '../http/errors.ts';
import type { Logger } from '../../logger.ts';
import { CONTENT_SECURITY_POLICY, renderIndex } from '../../render/render.ts';
import { registerDriftMetrics } from './metrics.ts';
import { createRunIndex, isValidRunId, readLatest } from '../../io/report-store.ts';

export interface ReportAppDeps {
  /** The report directory written by `saveRun` / `recordFailedRun`. */
  dir: string;
  /** Where the drift gauges are registered (and exposed on /metrics). Never the global registry. */
  registry: Registry;
  logger: Logger;
  /** Alert threshold shown in the index (default 0.1). */
  scoreThreshold?: number;
}

/** Files of a run that may be served, with their content types. */
const RUN_FILES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'drift.json': 'application/json; charset=utf-8',
  'failed.json': 'application/json; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_CACHE = 'no-cache';

function notFound(code: string, message: string): InputError {
  return new InputError(code, message, { status: 404 });
}

const etagOf = (body: string | Buffer) => `"${createHash('sha1').update(body).digest('base64url')}"`;

export function createReportApp(deps: ReportAppDeps): Koa {
  const dir = resolve(deps.dir);
  const logger = deps.logger.child({ component: 'reports' });
  const { registry } = deps;
  registerDriftMetrics(registry, dir);
  const index = createRunIndex(dir);
  const app = new Koa();
  const router = new Router();

  logRequestErrors(app, logger);

  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(createErrorMiddleware());

  /** Sends a generated body with a content ETag; answers 304 when the client has it. */
  function sendGenerated(ctx: Koa.Context, type: string, body: string, cache: string, lastModified?: Date): void {
    ctx.type = type;
    ctx.set('Cache-Control', cache);
    ctx.etag = etagOf(body);
    if (lastModified !== undefined) ctx.lastModified = lastModified;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = body;
  }

  router.get('/', async (ctx) => {
    const { runs, failures } = await index.list();
    let warning: string | null = null;
    try {
      await readLatest(dir);
    } catch (err) {
      warning = err instanceof SentinelError ? err.message : 'latest.json cannot be read';
      logger.error({ event: 'latest_unreadable', err }, 'latest.json is unreadable; /latest.json and /metrics answer 500');
    }
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    sendGenerated(ctx, 'text/html; charset=utf-8', renderIndex(runs, { failures, scoreThreshold: deps.scoreThreshold, warning }), NO_CACHE);
  });
  router.get('/index.html', (ctx) => ctx.redirect('./'));

  router.get('/latest.json', async (ctx) => {
    const latest = await readLatest(dir); // throws corrupt_latest (500) on a broken file
    if (latest === null) throw notFound('no_runs', `no successful run in ${deps.dir} yet`);
    const st = await stat(join(dir, 'latest.json'));
    sendGenerated(ctx, 'application/json; charset=utf-8', JSON.stringify(latest, null, 2) + '\n', NO_CACHE, st.mtime);
  });

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/metrics', async (ctx) => {
    const text = await registry.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = text;
  });

  router.get('/runs/:id', (ctx) => {
    if (!isValidRunId(ctx.params.id)) throw new InputError('invalid_run_id', 'invalid run id');
    // Relative, so the server also works behind a path prefix; `/runs/x/` and `/runs/x` differ by one level.
    ctx.redirect(ctx.path.endsWith('/') ? 'report.html' : `${encodeURIComponent(ctx.params.id)}/report.html`);
  });

  router.get('/runs/:id/:file', async (ctx) => {
    const { id, file } = ctx.params;
    if (!isValidRunId(id)) throw new InputError('invalid_run_id', 'invalid run id: letters, digits, "_", "-" and "." only');
    const type = Object.hasOwn(RUN_FILES, file) ? RUN_FILES[file] : undefined;
    if (type === undefined) throw notFound('not_found', 'a run has only report.html, drift.json and (for failed runs) failed.json');
    const path = await resolveInside(dir, join(id, file));
    if (path === null) {
      const failed = await resolveInside(dir, join(id, 'failed.json'));
      if (failed !== null && file !== 'failed.json') {
        let message = '';
        try {
          message = String((JSON.parse(await readFile(failed, 'utf8')) as { message?: unknown }).message ?? '');
        } catch {
          // the failure record itself is unreadable; the code still says what happened
        }
        throw notFound('run_failed', `run "${id}" failed${message ? `: ${message}` : ''}`);
      }
      throw notFound('run_not_found', `no run "${id}"${file === 'report.html' ? '' : ` with ${file}`}`);
    }
    const st = await stat(path);
    ctx.type = type;
    ctx.set('Cache-Control', IMMUTABLE);
    ctx.etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    ctx.lastModified = st.mtime;
    if (file === 'report.html') ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.length = st.size;
    ctx.body = createReadStream(path);
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/**
 * The real path of `dir/rel` when it exists as a regular file inside the real `dir`, else null.
 * Symlinks out of the directory count as outside.
 */
async function resolveInside(dir: string, rel: string): Promise<string | null> {
  let root: string;
  let real: string;
  try {
    root = await realpath(dir);
    real = await realpath(resolve(dir, rel));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  if (!real.startsWith(root + sep)) return null;
  const st = await stat(real);
  return st.isFile() ? real : null;
}
