// Shared HTTP server setup of every service (inference API, report server, operator metrics):
// connection limits, listen, graceful close. Signals are the command's business (src/cli/signals.ts).
import { createServer, type RequestListener, type Server } from 'node:http';

/** Connection limits of both HTTP servers; the defaults are the documented ones (`--help`, README). */
export interface ServerLimits {
  /** Open connections at most; further ones are closed at once (file descriptors stay available). */
  maxConnections: number;
  /** Time for a client to send the request headers. */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request, body included. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  idleTimeoutMs: number;
}

export const SERVER_LIMITS: ServerLimits = { maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 65_000 };

/** The help lines of the limits flags, generated from SERVER_LIMITS so they cannot disagree. */
export const SERVER_LIMITS_HELP = `  --max-connections N     open connections at most; more are closed at once (default ${SERVER_LIMITS.maxConnections})
  --headers-timeout DUR   time a client has to send the request headers (default ${SERVER_LIMITS.headersTimeoutMs / 1000}s)
  --request-timeout DUR   time a client has to send the whole request, body included (default ${SERVER_LIMITS.requestTimeoutMs / 1000}s)
  --idle-timeout DUR      an idle keep-alive connection is closed after this long (default ${SERVER_LIMITS.idleTimeoutMs / 1000}s)
`;

/**
 * An HTTP server that enforces the limits. Node checks the header and request timeouts every
 * `connectionsCheckingInterval` (30 s by default, which let a slow body run 78 s against a 30 s
 * timeout): checking every second keeps each timeout within a second of its value.
 */
export function createHttpServer(handler: RequestListener, limits: Partial<ServerLimits> = {}): Server {
  const l = { ...SERVER_LIMITS, ...limits };
  const server = createServer(
    {
      // Node refuses a header timeout longer than the request timeout; the request one bounds both.
      headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs),
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.idleTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs, l.requestTimeoutMs),
    },
    handler,
  );
  server.maxConnections = l.maxConnections;
  return server;
}

/** Listens and returns the base URL clients use (0.0.0.0 / :: are reached through loopback). */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      res();
    });
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${actual}`;
}

/**
 * Stops accepting and resolves once in-flight requests are answered. Keep-alive sockets that go
 * idle meanwhile are swept; whatever is still open after `forceAfterMs` is cut.
 */
export async function closeServer(server: Server, forceAfterMs: number): Promise<void> {
  const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
  force.unref();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  await new Promise<void>((res) => server.close(() => res()));
  clearInterval(sweep);
  clearTimeout(force);
}
