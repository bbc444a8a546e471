// Shutdown ordering of the inference app: a request whose client hung up mid-request is still being
// handled after its connection (and so the server) has closed; `settled()` waits for it, so the
// serve shutdown closes the log only after that prediction has its row (src/services/http/server.ts).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { createInferenceApp } from '../../src/services/http/app.ts';
import { createLogger } from '../../src/logger.ts';
import { logColumns } from '../../src/io/log/schema.ts';
import { createLogWriter } from '../../src/io/log/writer.ts';
import { createInferenceMetrics } from '../../src/services/metrics/inference.ts';
import type { Model } from '../../src/io/model/onnx.ts';
import { featureRowsFrom, loadBundledModel } from '../support/model.ts';
import { REPO } from '../support/process.ts';

test('settled() waits for a handler whose client hung up; its prediction is logged before the log closes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-drain-'));
  const real = await loadBundledModel();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const inPredict = new Promise<void>((r) => (reached = r));
  // The real model, held at the start of its run until the test lets it go.
  const model: Model = {
    ...real,
    predict: async (rows) => {
      reached();
      await gate;
      return real.predict(rows);
    },
  };
  const registry = new Registry();
  const metrics = createInferenceMetrics(registry, model.card);
  const log = createLogWriter({ dir, instanceId: 'drain', columns: logColumns(model.card.features.map((f) => f.name)) });
  const logger = createLogger({ level: 'fatal', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const { app, startDraining, settled } = createInferenceApp({ model, log, probeLog: async () => {}, registry, metrics, logger });
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const body = JSON.stringify({ features: featureRowsFrom(`${REPO}data/current.csv`, model.card, 1)[0] });
    const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await inPredict;
    // The client hangs up while its prediction runs; the server shuts down as `sentinel serve` does.
    socket.destroy();
    startDraining();
    await new Promise<void>((r) => server.close(() => r()));
    let done = false;
    const waiting = settled().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'settled() resolved while a handler was still running');
    release();
    await waiting;
    await log.close();
    const files = readdirSync(dir).filter((f) => f.endsWith('.csv'));
    const rows = files.flatMap((f) => parse(readFileSync(join(dir, f)), { columns: true }) as Record<string, string>[]);
    assert.equal(rows.length, 1, 'the prediction made before shutdown has its row');
  } finally {
    release();
    server.close();
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
