// Connection cap and timeouts of the HTTP servers (issue 10): each limit enforced, at its documented value.
import { strict as assert } from 'node:assert';
import { connect, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SERVER_LIMITS } from '../../src/services/server.ts';
import { startInferenceServer, type RunningServer } from '../../src/services/http/server.ts';
import { startReportServer } from '../../src/services/report-server/start.ts';
import { createLogger } from '../../src/logger.ts';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, SENTINEL } from '../support/process.ts';

const quiet = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

async function start(limits: Parameters<typeof startInferenceServer>[0]['limits']): Promise<RunningServer & { port: number }> {
  const s = await startInferenceServer({ port: 0, host: '127.0.0.1', modelPath: `${REPO}models/model.onnx`, logDir: undefined, instanceId: 'limits', limits, logger: quiet });
  return { ...s, port: Number(new URL(s.url).port) };
}

/** A raw connection that records what the server sends and when it closes. */
function open(port: number): Promise<{ socket: Socket; data: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, data: () => data, closed }));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** Writes one byte every `everyMs` until the socket closes; returns how many were written. */
function trickle(socket: Socket, bytes: string, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    const t = setInterval(() => {
      if (socket.destroyed || n >= bytes.length) {
        clearInterval(t);
        resolve(n);
        return;
      }
      socket.write(bytes[n++]);
    }, everyMs);
    socket.on('close', () => {
      clearInterval(t);
      resolve(n);
    });
  });
}

describe('HTTP server limits', () => {
  it('the documented defaults are the enforced ones (help text of both commands, server settings)', async () => {
    for (const cmd of ['serve', 'reports']) {
      const help = spawnSync(process.execPath, [SENTINEL, cmd, '--help'], { cwd: REPO, encoding: 'utf8' }).stdout;
      assert.match(help, new RegExp(`--max-connections N .*\\(default ${SERVER_LIMITS.maxConnections}\\)`));
      assert.match(help, new RegExp(`--headers-timeout DUR .*\\(default ${SERVER_LIMITS.headersTimeoutMs / 1000}s\\)`));
      assert.match(help, new RegExp(`--request-timeout DUR .*\\(default ${SERVER_LIMITS.requestTimeoutMs / 1000}s\\)`));
      assert.match(help, new RegExp(`--idle-timeout DUR .*\\(default ${SERVER_LIMITS.idleTimeoutMs / 1000}s\\)`));
    }
    const s = await start(undefined);
    const r = await startReportServer({ port: 0, host: '127.0.0.1', dir: mkdtempSync(join(tmpdir(), 'sentinel-limits-')), logger: quiet });
    try {
      for (const server of [s.server, r.server]) {
        assert.equal(server.maxConnections, SERVER_LIMITS.maxConnections);
        assert.equal(server.headersTimeout, SERVER_LIMITS.headersTimeoutMs);
        assert.equal(server.requestTimeout, SERVER_LIMITS.requestTimeoutMs);
        assert.equal(server.keepAliveTimeout, SERVER_LIMITS.idleTimeoutMs);
      }
    } finally {
      await s.shutdown();
      await r.shutdown();
    }
  });

  it('caps concurrent connections: one over the cap is closed at once, the others keep working', async () => {
    const s = await start({ maxConnections: 4 });
    try {
      const held = await Promise.all(Array.from({ length: 4 }, () => open(s.port)));
      await new Promise((r) => setTimeout(r, 100)); // let the server accept them
      const extra = await open(s.port);
      extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await extra.closed;
      assert.equal(extra.data(), '', 'a connection over the cap gets no answer');
      held[0].socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await held[0].closed;
      assert.match(held[0].data(), /^HTTP\/1\.1 200/);
      for (const h of held) h.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'capacity comes back when connections close');
    } finally {
      await s.shutdown();
    }
  });

  it('cuts a client that trickles its headers at the header timeout (408)', async () => {
    const s = await start({ headersTimeoutMs: 1000, requestTimeoutMs: 5000 });
    try {
      const c = await open(s.port);
      const headers = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
      // 100 ms per byte: the headers would take 20+ s; the server must not wait that long.
      const sent = await trickle(c.socket, headers, 100);
      assert.match(c.data(), /^HTTP\/1\.1 408/);
      assert.ok(sent < headers.length / 2, `the server waited for ${sent} of ${headers.length} header bytes`);
    } finally {
      await s.shutdown();
    }
  });

  it('cuts a client that trickles its body at the request timeout (408), not later', async () => {
    const s = await start({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    try {
      const c = await open(s.port);
      const body = '{"features": {' + ' '.repeat(400) + '}}';
      c.socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      // 50 ms per byte: the body would take 20+ s.
      const sent = await trickle(c.socket, body, 50);
      assert.match(c.data(), /^HTTP\/1\.1 408/);
      assert.ok(sent < body.length / 2, `the server waited for ${sent} of ${body.length} body bytes`);
    } finally {
      await s.shutdown();
    }
  });

  it('closes an idle keep-alive connection at the idle timeout', async () => {
    const s = await start({ idleTimeoutMs: 500 });
    try {
      const c = await open(s.port);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const outcome = await Promise.race([c.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 15_000))]);
      assert.equal(outcome, 'closed');
      assert.match(c.data(), /^HTTP\/1\.1 200/);
    } finally {
      await s.shutdown();
    }
  });
});
