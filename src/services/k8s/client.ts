/**
 * The only module that imports @kubernetes/client-node: cluster access (default kubeconfig),
 * per-request deadlines and content types, one-line error descriptions, and the API classes the
 * drift job's status writer (status.ts) and the operator (operator.ts, leader.ts) use. Loaded on
 * demand by the commands that talk to a cluster, so nothing else pays for the client.
 */
import { createHash } from 'node:crypto';
import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  V1MicroTime,
  makeInformer,
  type ConfigurationOptions,
  type EventsV1Event,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type ObservableMiddleware,
  type V1CronJob,
  type V1Lease,
} from '@kubernetes/client-node';

export { ApiException, BatchV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, PatchStrategy, V1MicroTime, makeInformer };
export type { EventsV1Event, Informer, KubernetesObject, ObjectCache, V1CronJob, V1Lease };

/** A default KubeConfig (in-cluster service account or the user's kubeconfig), or null when there is none. */
export function loadDefaultKubeConfig(): KubeConfig | null {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  // loadFromDefault falls back to an unauthenticated localhost:8080 cluster when it finds nothing.
  if (cluster === null || (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080' && kc.getCurrentUser()?.name === 'user')) {
    return null;
  }
  return reuseConnections(kc);
}

const REUSING = Symbol('sentinelml.reuseConnections');

/**
 * Makes API calls through `kc` share their connections. client-node 2.0.1 builds a new undici
 * Agent for every request (KubeConfig.createDispatcher), so each call opened its own TLS
 * connection: TLS setup was the largest part of the operator's CPU in a profile. The Agent is
 * kept per TLS configuration (CA, client certificate, server name); bearer tokens travel in
 * headers, so a rotated ServiceAccount token still applies. Idempotent; returns `kc`.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  // createDispatcher is private in the typings: reached through unknown.
  const k = kc as unknown as { [REUSING]?: true; createDispatcher: (cluster: unknown, options: Record<string, unknown>) => unknown };
  if (k[REUSING]) return kc;
  const original = k.createDispatcher.bind(k);
  const agents = new Map<string, unknown>();
  k.createDispatcher = (cluster, options) => {
    const c = cluster as { name?: string; server?: string; proxyUrl?: string } | null;
    const key = createHash('sha256').update(JSON.stringify([c?.name, c?.server, c?.proxyUrl, options])).digest('hex');
    if (!agents.has(key)) agents.set(key, original(cluster, options));
    return agents.get(key);
  };
  k[REUSING] = true;
  return kc;
}

/**
 * Options for one object-parameter API call: its own deadline (a blackholed API server must not
 * hold a caller) and, for patches, the content type (the client's default is a JSON patch).
 */
export function requestOptions(timeoutMs: number, contentType?: string): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      if (contentType !== undefined) ctx.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** HTTP status of an API error, or undefined for transport errors. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? (err as ApiException<unknown>).code : undefined;
}

/** One line for logs from whatever the client threw (ApiException carries `code` and `body`). */
export function describeApiError(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; body?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  // AbortSignal.timeout() rejects with a DOMException named TimeoutError (whose numeric code is not HTTP).
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'request timed out';
  if (err instanceof ApiException) {
    let detail = '';
    try {
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') detail = (body as { message: string }).message;
    } catch {
      detail = String(e.body).slice(0, 200);
    }
    return `HTTP ${e.code}${detail ? `: ${detail}` : ''}`;
  }
  const cause = e?.cause?.code ?? e?.cause?.message;
  const message = String(e?.message ?? err);
  return cause ? `${message} (${String(cause)})` : message;
}
