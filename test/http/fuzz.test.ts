// @long: fuzzing loop (~25 s); npm test runs it
// Fuzz: thousands of malformed or hostile bodies against the real server process. No 5xx, no
// crash, the server still answers, and nothing invalid reaches the log.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { REPO, startSentinel } from '../support/process.ts';

const N = 2500;

function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing POST /predict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`answers ${N} hostile bodies with 4xx, never 5xx, and keeps serving`, async () => {
    const card = bundledCard();
    const valid = featureRowsFrom(`${REPO}data/current.csv`, card, 50);
    const rand = prng(20261126);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const names = card.features.map((f) => f.name);
    const weird: unknown[] = [
      null, true, false, 0, -0, 1e308, -1e308, 2 ** 53 + 1, '', ' ', '\u0000', '\uD800', '\u202E', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'NaN', 'Infinity', '39',
      [], {}, [1, 2], { a: 1 }, 'x'.repeat(10_000), 'Private\u0000', 'Private ', 'private',
    ];
    const deep = (d: number, open: string, close: string) => open.repeat(d) + close.repeat(d);
    const gens: (() => { body: string | Uint8Array; type: string })[] = [
      // wrong types / values for random features
      () => {
        const row: Record<string, unknown> = { ...pick(valid) };
        for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) row[pick(names)] = pick(weird);
        return { body: JSON.stringify(rand() < 0.5 ? { features: row } : { instances: [pick(valid), row] }), type: 'application/json' };
      },
      // deep nesting (arrays and objects)
      () => ({ body: `{"features":${deep(1 + Math.floor(rand() * 50_000), '[', ']')}}`, type: 'application/json' }),
      () => ({ body: `{"features":${deep(1 + Math.floor(rand() * 20_000), '{"a":', '}').replace(/\}$/, '1}')}}`, type: 'application/json' }),
      // huge strings and huge key counts
      () => ({ body: JSON.stringify({ features: { ...pick(valid), education: 'é'.repeat(Math.floor(rand() * 600_000)) } }), type: 'application/json' }),
      () => ({ body: JSON.stringify({ features: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}\u202E`, i])) }), type: 'application/json' }),
      // prototype pollution keys anywhere
      () => ({ body: `{"features":{"__proto__":{"isAdmin":true}},"constructor":{"prototype":{"x":1}}}`, type: 'application/json' }),
      () => ({ body: `{"instances":[{"__proto__":null},{"constructor":{"prototype":{"polluted":1}}}]}`, type: 'application/json' }),
      // truncated / corrupted JSON
      () => {
        const s = JSON.stringify({ features: pick(valid) });
        return { body: s.slice(0, Math.floor(rand() * s.length)), type: 'application/json' };
      },
      () => {
        const s = Buffer.from(JSON.stringify({ features: pick(valid) }));
        for (let k = 0; k < 5; k++) s[Math.floor(rand() * s.length)] = Math.floor(rand() * 256);
        return { body: new Uint8Array(s), type: 'application/json' };
      },
      // random bytes, invalid UTF-8
      () => ({ body: Uint8Array.from({ length: Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256)), type: pick(['application/json', 'application/octet-stream']) }),
      // wrong shapes
      () => ({ body: JSON.stringify(pick([[], 1, 'x', null, { features: [] }, { instances: {} }, { instances: [1, 2] }, { instances: Array(2000).fill({}) }])), type: 'application/json' }),
      // wrong or odd content types
      () => ({ body: JSON.stringify({ features: pick(valid) }), type: pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '']) }),
      // oversized
      () => ({ body: `{"features":"${'a'.repeat(1024 * 1024 + Math.floor(rand() * 1000))}"}`, type: 'application/json' }),
    ];

    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir, '--instance-id', 'fuzz']);
    try {
      const statuses = new Map<number, number>();
      let ok = 0; // predictions returned (a batch returns several)
      for (let i = 0; i < N; i++) {
        const { body, type } = pick(gens)();
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const res = await fetch(`${proc.url}/predict`, { method: 'POST', headers, body });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `body #${i} got ${res.status}: ${text.slice(0, 300)}`);
        if (res.status === 200) ok += (JSON.parse(text).predictions ?? [1]).length;
        else assert.ok(JSON.parse(text).error.code, `body #${i}: error JSON`);
      }
      assert.equal(({} as any).isAdmin, undefined);
      assert.equal(proc.child.exitCode, null, 'the server is still running');
      assert.equal((await fetch(`${proc.url}/healthz`)).status, 200);
      const good = await fetch(`${proc.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: valid[0] }) });
      assert.equal(good.status, 200);
      proc.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
      const logged = readdirSync(dir)
        .filter((f) => f.endsWith('.csv'))
        .reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').length - 1, 0);
      assert.equal(logged, ok + 1, 'only the valid requests were logged');
      console.log(`fuzz: ${N} bodies, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describe('fuzzing POST /feedback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-feedback-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`answers ${N} hostile feedback bodies with 4xx, never 5xx, and records only valid labels`, async () => {
    const card = bundledCard();
    const rand = prng(20261201);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const uuid = () => crypto.randomUUID();
    const weird: unknown[] = [null, true, 0, 1e308, '', ' ', '\u0000', '\uD800', '\u202E', 'NaN', [], {}, [1], { a: 1 }, 'x'.repeat(10_000), '>50K ', ' >50K', '>50k', '<=50K\u0000'];
    const item = () => ({ request_id: uuid(), label: pick(card.classes) });
    const gens: (() => { body: string | Uint8Array; type: string })[] = [
      // a field replaced by something weird
      () => {
        const it: Record<string, unknown> = item();
        it[pick(['request_id', 'label', 'extra', '__proto__', 'constructor'])] = pick(weird);
        return { body: JSON.stringify(rand() < 0.5 ? it : { instances: [item(), it] }), type: 'application/json' };
      },
      // ids that are almost UUIDs
      () => ({ body: JSON.stringify({ request_id: uuid().slice(0, 35 - Math.floor(rand() * 5)) + pick(['', 'g', '-', 'é']), label: pick(card.classes) }), type: 'application/json' }),
      () => ({ body: `{"instances":${'['.repeat(1 + Math.floor(rand() * 50_000))}`, type: 'application/json' }),
      () => ({ body: `{"__proto__":{"isAdmin":true},"request_id":"${uuid()}","label":"${card.classes[0]}"}`, type: 'application/json' }),
      () => ({ body: JSON.stringify(pick([[], 1, 'x', null, { instances: {} }, { instances: [1, 2] }, { instances: Array(1001).fill(item()) }, { instances: [item()], request_id: uuid() }])), type: 'application/json' }),
      () => {
        const s = JSON.stringify({ instances: [item(), item()] });
        return { body: s.slice(0, Math.floor(rand() * s.length)), type: 'application/json' };
      },
      () => {
        const s = Buffer.from(JSON.stringify(item()));
        for (let k = 0; k < 5; k++) s[Math.floor(rand() * s.length)] = Math.floor(rand() * 256);
        return { body: new Uint8Array(s), type: 'application/json' };
      },
      () => ({ body: Uint8Array.from({ length: Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256)), type: pick(['application/json', 'application/octet-stream']) }),
      () => ({ body: JSON.stringify(item()), type: pick(['text/plain', 'application/x-www-form-urlencoded', '']) }),
      () => ({ body: `{"label":"${'a'.repeat(1024 * 1024 + Math.floor(rand() * 1000))}"}`, type: 'application/json' }),
      // valid ones, so the log must hold exactly these
      () => ({ body: JSON.stringify(rand() < 0.5 ? item() : { instances: Array.from({ length: 1 + Math.floor(rand() * 5) }, item) }), type: 'application/json' }),
    ];

    const proc = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--log-dir', dir, '--instance-id', 'fuzz']);
    try {
      const statuses = new Map<number, number>();
      const accepted: string[] = [];
      for (let i = 0; i < N; i++) {
        const { body, type } = pick(gens)();
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const res = await fetch(`${proc.url}/feedback`, { method: 'POST', headers, body });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `body #${i} got ${res.status}: ${text.slice(0, 300)}`);
        if (res.status === 200) {
          const out = JSON.parse(text);
          for (const f of out.feedback ?? [out]) {
            assert.ok(card.classes.includes(f.label), `body #${i}: accepted label ${f.label}`);
            accepted.push(`${f.request_id},${f.timestamp},${f.label}`);
          }
        } else assert.ok(JSON.parse(text).error.code, `body #${i}: error JSON`);
      }
      assert.equal(({} as any).isAdmin, undefined);
      assert.equal(proc.child.exitCode, null, 'the server is still running');
      proc.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
      const labelDir = join(dir, 'labels');
      const logged = readdirSync(labelDir)
        .filter((f) => f.endsWith('.csv'))
        .flatMap((f) => readFileSync(join(labelDir, f), 'utf8').trimEnd().split('\n').slice(1));
      assert.deepEqual(logged.sort(), accepted.sort(), 'exactly the accepted labels were logged');
      assert.ok(accepted.length > 50, `enough valid labels to mean something (${accepted.length})`);
      console.log(`feedback fuzz: ${N} bodies, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
