import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import { createLogger, type Logger } from '../../src/logger.ts';

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = 'sentinel-reports-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger whose JSON lines land in `lines`. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

/** Serves a Koa app on a free loopback port (in this process). */
export async function listen(t: { after: (fn: () => Promise<void>) => void }, app: Koa): Promise<string> {
  const server: Server = createServer(app.callback());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with the path sent exactly as given (no URL normalisation, unlike fetch). */
export function rawGet(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `promtool` from PATH or from the provisioned tools ($SENTINEL_TOOLS/bin); a missing tool fails the test. */
export function promtoolPath(): string {
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, 'promtool'))) return join(d, 'promtool');
  const tools = process.env.SENTINEL_TOOLS ?? join(process.env.SENTINEL_CACHE ?? join(homedir(), '.cache', 'sentinelml'), 'tools');
  const p = join(tools, 'bin', 'promtool');
  if (!existsSync(p)) throw new Error(`promtool not found on PATH nor at ${p}; run: bash scripts/provision.sh prometheus`);
  return p;
}

/** Runs `promtool check metrics` on the text; returns its status and output. */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync(promtoolPath(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
