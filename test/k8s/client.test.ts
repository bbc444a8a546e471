// src/services/k8s/client.ts: API calls through one KubeConfig share their TLS connections (client-node
// 2.0.1 alone opens one per call), against a loopback HTTPS server with the status test's certificate.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CustomObjectsApi, KubeConfig, requestOptions, reuseConnections } from '../../src/services/k8s/client.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const cert = readFileSync(join(fixtures, 'server-cert.pem'));
const key = readFileSync(join(fixtures, 'server-key.pem'));

async function connectionsFor(calls: number, reuse: boolean): Promise<{ connections: number; authorizations: string[] }> {
  let connections = 0;
  const authorizations: string[] = [];
  const server = createServer({ cert, key }, (req, res) => {
    authorizations.push(String(req.headers.authorization));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'sentinelml.io/v1alpha1', kind: 'ModelMonitor', metadata: { name: 'm' } }));
  });
  server.on('secureConnection', () => { connections += 1; });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: cert.toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 'token-1' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const api = (reuse ? reuseConnections(kc) : kc).makeApiClient(CustomObjectsApi);
    for (let i = 0; i < calls; i++) {
      if (i === calls - 1) kc.users[0] = { ...kc.users[0], token: 'token-2' }; // a rotated token
      await api.getNamespacedCustomObject({ group: 'sentinelml.io', version: 'v1alpha1', namespace: 'ml', plural: 'modelmonitors', name: 'm' }, requestOptions(5_000));
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  return { connections, authorizations };
}

test('with reuseConnections, calls share their TLS connections and still send the current token; without, each call opens its own', async () => {
  // (undici opens a second connection after the first call, then reuses: the count does not grow with calls.)
  const reused = await connectionsFor(30, true);
  assert.ok(reused.connections <= 2, `${reused.connections} connections for 30 calls`);
  assert.equal(reused.authorizations.at(-1), 'Bearer token-2');
  assert.equal(reused.authorizations[0], 'Bearer token-1');
  const plain = await connectionsFor(30, false);
  assert.equal(plain.connections, 30, 'the client library alone (why reuseConnections exists)');
});
