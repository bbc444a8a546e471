// kill -9 under load, for the durability tests: start `sentinel serve`, run concurrent clients,
// kill the process while requests are in flight, again and again. What a client records as
// acknowledged is up to `request`; a request that throws (the server died) ends its client.
import { strict as assert } from 'node:assert';
import { startSentinel } from './process.ts';

export interface KillCyclesOptions {
  dir: string;
  instanceId: string;
  cycles: number;
  connections: number;
  /** Seed of the kill delays (300–1000 ms after load starts). */
  seed: number;
  /** One request of client `client` (its `i`-th in this `cycle`); throws when not acknowledged. */
  request: (url: string, client: number, i: number, cycle: number) => Promise<void>;
}

export async function killUnderLoad(o: KillCyclesOptions): Promise<void> {
  let seed = o.seed;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let cycle = 0; cycle < o.cycles; cycle++) {
    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', o.dir, '--instance-id', o.instanceId]);
    let stop = false;
    let inFlight = 0;
    let done = 0;
    const clients = Array.from({ length: o.connections }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        inFlight++;
        try {
          await o.request(proc.url, c, i, cycle);
          done++;
        } catch {
          return; // the server died under this request: no response, so no promise was made
        } finally {
          inFlight--;
        }
      }
    });
    // Let load build up, then kill while requests are in flight (bounded: at most ~1 s per cycle).
    const deadline = Date.now() + 300 + Math.floor(rand() * 700);
    while (Date.now() < deadline || done === 0) {
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() > deadline + 10_000) break;
    }
    assert.ok(inFlight > 0 || done > 0, 'load was running when the process was killed');
    proc.kill('SIGKILL');
    assert.equal((await proc.exited).signal, 'SIGKILL');
    stop = true;
    await Promise.all(clients);
  }
}
