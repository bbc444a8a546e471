// @long: kill -9 loop (~25 s); npm test runs it
// Crash durability of POST /feedback: under concurrent load (predictions, then labels for them),
// kill -9 the real server again and again. Every label the client got a 200 for must be in the
// label log with its label; no row may be corrupt except a torn final line, which the label reader
// skips and counts.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readLabels } from '../../src/io/log/labels.ts';
import { LABEL_COLUMNS } from '../../src/drift/log-columns.ts';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { killUnderLoad } from '../support/crash.ts';
import { REPO } from '../support/process.ts';

const CYCLES = 10;
const CONNECTIONS = 16;

describe('label log under kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-feedback-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`loses no acknowledged label across ${CYCLES} kill -9 cycles`, async () => {
    const card = bundledCard();
    const rows = featureRowsFrom(`${REPO}data/current.csv`, card, 200);
    const acked = new Map<string, string>(); // request_id → label (each id labelled once)
    const json = { 'content-type': 'application/json' };
    await killUnderLoad({
      dir,
      instanceId: 'crash',
      cycles: CYCLES,
      connections: CONNECTIONS,
      seed: 4242,
      async request(url, c, i, cycle) {
        const k = (c * 31 + i * 7 + cycle) % rows.length;
        const res = await fetch(`${url}/predict`, { method: 'POST', headers: json, body: JSON.stringify({ instances: [rows[k], rows[(k + 1) % rows.length]] }) });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        const ids: string[] = ((await res.json()) as any).predictions.map((p: any) => p.id);
        const items = ids.map((id, j) => ({ request_id: id, label: card.classes[(i + j) % card.classes.length] }));
        const fb = await fetch(`${url}/feedback`, { method: 'POST', headers: json, body: JSON.stringify(i % 3 === 0 ? { instances: items } : items[0]) });
        if (fb.status !== 200) throw new Error(`status ${fb.status}`);
        const out = (await fb.json()) as any;
        for (const f of out.feedback ?? [out]) acked.set(f.request_id, f.label);
      },
    });

    // The raw files: each complete line is a well-formed row under the label header.
    const labelDir = join(dir, 'labels');
    const files = readdirSync(labelDir).filter((f) => f.endsWith('.csv'));
    assert.ok(files.length >= CYCLES, `each start writes its own label file (${files.length})`);
    let tornRaw = 0;
    let rawRows = 0;
    for (const f of files) {
      const text = readFileSync(join(labelDir, f), 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) tornRaw++;
      const records: string[][] = parse(text.slice(0, end));
      assert.deepEqual(records[0], [...LABEL_COLUMNS], `${f}: header`);
      for (const r of records.slice(1)) assert.equal(r.length, LABEL_COLUMNS.length, `${f}: a corrupt row`);
      rawRows += records.length - 1;
    }

    const read = await readLabels(labelDir);
    assert.equal(read.tornLines, tornRaw);
    assert.deepEqual(read.skipped, {});
    assert.equal(read.rows, rawRows);
    assert.ok(acked.size > CYCLES * 10, `enough acknowledged labels to mean something (${acked.size})`);
    let missing = 0;
    for (const [id, label] of acked) {
      const got = read.labels.get(id);
      if (got === undefined) missing++;
      else assert.equal(got.label, label, `${id}: label`);
    }
    assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged labels are not in the label log`);
    console.log(`feedback crash test: ${CYCLES} kill -9 cycles, ${acked.size} acknowledged labels, ${read.rows} rows logged, ${tornRaw} torn final lines`);
  });
});
