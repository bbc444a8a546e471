// The report service: the report app over a report directory, with its own metrics registry.
// Started by `sentinel reports` and by `sentinel demo`.
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import type { Logger } from '../../logger.ts';
import { registerProcessMetrics } from '../metrics/process.ts';
import { closeServer, createHttpServer, listen, type ServerLimits } from '../server.ts';
import { createReportApp } from './server.ts';

export interface RunningReportServer {
  server: Server;
  url: string;
  shutdown(): Promise<void>;
}

/** Builds the report app and listens. Used by `sentinel reports` and by the demo. */
export async function startReportServer(o: { port: number; host: string; dir: string; logger: Logger; scoreThreshold?: number; limits?: Partial<ServerLimits> }): Promise<RunningReportServer> {
  const logger = o.logger.child({ component: 'reports' });
  const registry = new Registry();
  registerProcessMetrics(registry);
  const app = createReportApp({ dir: o.dir, registry, logger: o.logger, scoreThreshold: o.scoreThreshold });
  const server = createHttpServer(app.callback(), o.limits);
  const url = await listen(server, o.port, o.host);
  logger.info({ event: 'report_server_listening', url, dir: o.dir }, 'report server listening');
  let stopping: Promise<void> | undefined;
  return {
    server,
    url,
    shutdown() {
      stopping ??= (async () => {
        await closeServer(server, 10_000);
        logger.info({ event: 'report_server_stopped' }, 'report server stopped');
      })();
      return stopping;
    },
  };
}
