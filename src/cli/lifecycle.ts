import type { Server } from 'node:http';
import type { Logger } from '../logger.ts';

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

/** Resolves with the first SIGTERM or SIGINT (what a container runtime or Ctrl-C sends). */
export function untilSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((res) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      logger.info({ signal }, 'shutting down');
      res(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
