// @long: kill -9 loop (~25 s); npm test runs it
// Crash durability: under concurrent load, kill -9 the real server process again and again. Every
// response the client received must have its row in the log; no row may be corrupt except a torn
// final line of a file, which the reader skips and counts.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readLog } from '../../src/io/log/reader.ts';
import type { CategoricalColumn } from '../../src/table/columns.ts';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { killUnderLoad } from '../support/crash.ts';
import { REPO } from '../support/process.ts';

const CYCLES = 12;
const CONNECTIONS = 16;

describe('prediction log under kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`loses no acknowledged prediction across ${CYCLES} kill -9 cycles`, async () => {
    const card = bundledCard();
    const rows = featureRowsFrom(`${REPO}data/current.csv`, card, 500);
    const acked = new Map<string, { prediction: string; confidence: number }>();
    await killUnderLoad({
      dir,
      instanceId: 'crash',
      cycles: CYCLES,
      connections: CONNECTIONS,
      seed: 12345,
      async request(url, c, i, cycle) {
        const k = (c * 997 + i * 31 + cycle) % rows.length;
        const body = i % 5 === 0 ? { instances: [rows[k], rows[(k + 1) % rows.length], rows[(k + 2) % rows.length]] } : { features: rows[k] };
        const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        const out = (await res.json()) as any;
        for (const p of out.predictions ?? [out]) acked.set(p.id, { prediction: p.prediction, confidence: p.confidence });
      },
    });

    // Independent check of the raw files: every complete line is a well-formed row.
    const header = readFileSync(join(dir, readdirSync(dir).filter((f) => f.endsWith('.csv'))[0]), 'utf8').split('\n')[0];
    const nFields = header.split(',').length;
    let tornRaw = 0;
    let rawRows = 0;
    const files = readdirSync(dir).filter((f) => f.endsWith('.csv'));
    assert.ok(files.length >= CYCLES, `each start writes its own file (${files.length} files)`);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) tornRaw++;
      const records: string[][] = parse(text.slice(0, end), { relax_column_count: false });
      assert.equal(records[0].join(','), header, `${f}: header`);
      for (const r of records.slice(1)) assert.equal(r.length, nFields, `${f}: a corrupt row`);
      rawRows += records.length - 1;
    }

    // The reader the drift job uses: skips and counts torn final lines, nothing else is skipped.
    const read = await readLog(dir);
    assert.equal(read.tornLines, tornRaw);
    assert.equal(read.skippedRows, 0);
    assert.equal(read.table.rows, rawRows);
    const ids = read.table.columns.get('request_id') as CategoricalColumn;
    const preds = read.table.columns.get('prediction') as CategoricalColumn;
    const conf = read.table.columns.get('confidence');
    assert.ok(ids && preds && conf && conf.kind === 'numerical');
    const logged = new Map<string, { prediction: string; confidence: number }>();
    for (let i = 0; i < read.table.rows; i++) {
      logged.set(ids.dictionary[ids.codes[i]], { prediction: preds.dictionary[preds.codes[i]], confidence: conf.values[i] });
    }
    assert.ok(acked.size > CYCLES * 10, `enough acknowledged predictions to mean something (${acked.size})`);
    let missing = 0;
    for (const [id, p] of acked) {
      const row = logged.get(id);
      if (!row) {
        missing++;
        continue;
      }
      assert.equal(row.prediction, p.prediction, `${id}: prediction`);
      assert.equal(row.confidence, p.confidence, `${id}: confidence`);
    }
    assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged predictions have no log row`);
    console.log(`crash test: ${CYCLES} kill -9 cycles, ${acked.size} acknowledged predictions, ${read.table.rows} rows logged, ${tornRaw} torn final lines`);
  });
});
