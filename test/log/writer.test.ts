import { strict as assert } from 'node:assert';
import fs, { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createLogWriter } from '../../src/io/log/writer.ts';
import { UnavailableError } from '../../src/errors.ts';
import { mountTinyTmpfs } from '../support/tmpfs.ts';

const columns = ['request_id', 'timestamp', 'model_version', 'age', 'city', 'prediction', 'confidence'];
const row = (i: number) => [`id-${i}`, '2026-01-01T00:00:00.000Z', 'v1', i, i % 2 ? 'Köln, "Mitte"' : '', 'yes', 0.5];

describe('createLogWriter', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-log-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('writes a header and RFC 4180 rows that parse back exactly', async () => {
    const dir = tmp();
    const w = createLogWriter({ dir, instanceId: 'a', columns });
    await w.append([row(1), row(2)]);
    await w.close();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^live_predictions-a-\d{8}T\d{9}Z-0000\.csv$/);
    const records = parse(readFileSync(join(dir, files[0])), { columns: true });
    assert.deepEqual(records.map((r: any) => [r.request_id, r.age, r.city]), [
      ['id-1', '1', 'Köln, "Mitte"'],
      ['id-2', '2', ''],
    ]);
  });

  it('a lone row set fdatasyncs on the event-loop thread while syncs are fast; a group, or after a slow sync, on the thread pool', async () => {
    const dir = tmp();
    const calls: string[] = [];
    let delayMs = 0;
    const realInline = fs.fdatasyncSync;
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    rmSync(join(dir, 'probe'));
    const realPool = proto.datasync;
    fs.fdatasyncSync = (fd: number) => {
      calls.push('inline');
      const end = performance.now() + delayMs;
      while (performance.now() < end); // a slow disk
      realInline(fd);
    };
    syncBuiltinESMExports();
    proto.datasync = function (this: unknown) {
      calls.push('pool');
      return realPool.call(this);
    };
    try {
      const w = createLogWriter({ dir, instanceId: 'a', columns, inlineSyncMaxMs: 100 });
      await w.append([row(1)]); // alone: inline
      await Promise.all([w.append([row(2)]), w.append([row(3)])]); // a group of two: the pool
      delayMs = 150;
      await w.append([row(4)]); // alone, inline, but it takes 150 ms
      delayMs = 0;
      await w.append([row(5)]); // alone after a slow sync: the pool
      await w.append([row(6)]); // the pool's sync was fast again: inline
      await w.close();
      assert.deepEqual(calls, ['inline', 'pool', 'inline', 'pool', 'inline']);
      const records = parse(readFileSync(join(dir, readdirSync(dir)[0])), { columns: true });
      assert.deepEqual(records.map((r: any) => r.request_id), ['id-1', 'id-2', 'id-3', 'id-4', 'id-5', 'id-6']);
    } finally {
      fs.fdatasyncSync = realInline;
      syncBuiltinESMExports();
      proto.datasync = realPool;
    }
  });

  it('shares one fsync between appends that arrive together (group commit)', async () => {
    const dir = tmp();
    let flushes = 0;
    let flushedRows = 0;
    const w = createLogWriter({ dir, instanceId: 'g', columns, onFlush: (_s, n) => { flushes++; flushedRows += n; } });
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.append([row(i)])));
    await w.close();
    assert.equal(flushedRows, 200);
    assert.ok(flushes < 20, `200 concurrent appends should need few flushes, took ${flushes}`);
    const lines = readFileSync(join(dir, readdirSync(dir)[0]), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 201);
  });

  it('rotates into new files by size and never rewrites an old one', async () => {
    const dir = tmp();
    const w = createLogWriter({ dir, instanceId: 'r', columns, maxBytes: 300 });
    const sizes = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      await w.append([row(i)]);
      for (const f of readdirSync(dir)) {
        const size = statSync(join(dir, f)).size;
        if (f !== w.currentFile()?.split('/').pop()) {
          if (sizes.has(f)) assert.equal(size, sizes.get(f), `${f} changed after rotation`);
          sizes.set(f, size);
        }
      }
    }
    await w.close();
    const files = readdirSync(dir).sort();
    assert.ok(files.length >= 5, `expected several files, got ${files.length}`);
    let total = 0;
    for (const f of files) {
      const recs = parse(readFileSync(join(dir, f)), { columns: true });
      total += recs.length;
    }
    assert.equal(total, 30);
  });

  it('rotates by age', async () => {
    const dir = tmp();
    let t = Date.parse('2026-01-01T00:00:00Z');
    const w = createLogWriter({ dir, instanceId: 'age', columns, maxAgeMs: 1000, now: () => new Date(t) });
    await w.append([row(1)]);
    t += 500;
    await w.append([row(2)]);
    t += 600;
    await w.append([row(3)]);
    await w.close();
    assert.equal(readdirSync(dir).length, 2);
  });

  it('never appends to an existing file (restart after a crash starts a new one)', async () => {
    const dir = tmp();
    const fixed = () => new Date('2026-01-01T00:00:00Z');
    const w1 = createLogWriter({ dir, instanceId: 'x', columns, now: fixed });
    await w1.append([row(1)]);
    // Simulate a torn tail left by a crash.
    const f1 = join(dir, readdirSync(dir)[0]);
    writeFileSync(f1, readFileSync(f1, 'utf8') + 'id-torn,2026', { flag: 'w' });
    const before = readFileSync(f1, 'utf8');
    const w2 = createLogWriter({ dir, instanceId: 'x', columns, now: fixed });
    await w2.append([row(2)]);
    await w2.close();
    assert.equal(readFileSync(f1, 'utf8'), before);
    assert.equal(readdirSync(dir).length, 2);
    // The "crashed" writer's handle: a crash would have closed it (left open, GC closes it with a warning).
    await w1.close();
    assert.equal(readFileSync(f1, 'utf8'), before);
  });

  it('rejects with a 503-class error when the disk is full, then recovers in a new file', async () => {
    const fs = mountTinyTmpfs(64 * 1024);
    try {
      const failures: Error[] = [];
      const w = createLogWriter({ dir: fs.dir, instanceId: 'full', columns, onFailure: (e) => failures.push(e) });
      const filler = join(fs.dir, 'filler');
      await w.append([row(0)]);
      writeFileSync(filler, Buffer.alloc(60 * 1024));
      let rejected = 0;
      for (let i = 1; i < 200 && rejected === 0; i++) {
        try {
          await w.append([[`id-${i}`, 'x'.repeat(2000)]]);
        } catch (err) {
          assert.ok(err instanceof UnavailableError);
          assert.equal(err.code, 'log_write_failed');
          rejected++;
        }
      }
      assert.equal(rejected, 1);
      assert.equal(failures.length, 1);
      rmSync(filler);
      await w.append([row(999)]);
      await w.close();
      const csvs = readdirSync(fs.dir).filter((f) => f.endsWith('.csv')).sort();
      assert.equal(csvs.length, 2, 'after a failure the writer abandons the file and starts another');
      const last = parse(readFileSync(join(fs.dir, csvs[1])), { columns: true });
      assert.deepEqual(last.map((r: any) => r.request_id), ['id-999']);
    } finally {
      fs.unmount();
    }
  });

  it('rejects appends after close', async () => {
    const w = createLogWriter({ dir: tmp(), instanceId: 'c', columns });
    await w.close();
    await assert.rejects(w.append([row(1)]), /closed/);
  });
});

describe('createLogWriter when its file or directory disappears (issue 10)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-log-gone-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const ids = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .flatMap((f) => (parse(readFileSync(join(dir, f)), { columns: true }) as { request_id: string }[]).map((r) => r.request_id));

  it('never acknowledges rows after rm -rf of the directory; writes a new file once it exists again', async () => {
    const root = tmp();
    const dir = join(root, 'live');
    mkdirSync(dir);
    const lost: string[] = [];
    const w = createLogWriter({ dir, instanceId: 'rm', columns, onLostFile: (r) => lost.push(r) });
    await w.append([row(1)]);
    rmSync(dir, { recursive: true });
    await assert.rejects(w.append([row(2)]), (err: unknown) => err instanceof UnavailableError && err.code === 'log_write_failed');
    assert.equal(lost.length, 1);
    assert.match(lost[0], /was deleted/);
    // Still gone: still refused (the open file is abandoned, a new one cannot be created).
    await assert.rejects(w.append([row(3)]), UnavailableError);
    mkdirSync(dir);
    await w.append([row(4)]);
    await w.close();
    assert.deepEqual(ids(dir), ['id-4']);
  });

  it('writes the rows of a flush again into a new file when the open file was deleted or replaced', async () => {
    const dir = tmp();
    const w = createLogWriter({ dir, instanceId: 'del', columns });
    await w.append([row(1)]);
    const first = w.currentFile()!;
    rmSync(first);
    await w.append([row(2)]);
    assert.notEqual(w.currentFile(), first);
    assert.deepEqual(ids(dir), ['id-2']);
    // Replaced: another file now has the open file's name.
    const second = w.currentFile()!;
    rmSync(second);
    writeFileSync(second, 'not ours\n');
    await w.append([row(3)]);
    await w.close();
    assert.deepEqual(ids(dir), ['id-3']);
    assert.equal(readFileSync(second, 'utf8'), 'not ours\n', 'the stranger file is left alone');
  });

  it('checkFile reports a lost name and the next write starts a new file', async () => {
    const dir = tmp();
    const w = createLogWriter({ dir, instanceId: 'chk', columns });
    await w.append([row(1)]);
    assert.equal(await w.checkFile(), null);
    const first = w.currentFile()!;
    rmSync(first);
    assert.match(String(await w.checkFile()), /was deleted/);
    await w.append([row(2)]);
    assert.notEqual(w.currentFile(), first);
    assert.equal(await w.checkFile(), null);
    await w.close();
    assert.deepEqual(ids(dir), ['id-2']);
  });

  it('leaves no header-only file behind per failed write on a full disk', async () => {
    const fs = mountTinyTmpfs(64 * 1024);
    try {
      const w = createLogWriter({ dir: fs.dir, instanceId: 'full', columns, maxBytes: 1 });
      writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(64 * 1024 - 8 * 1024));
      let failures = 0;
      // maxBytes 1: every flush starts a new file, so every failure used to leave a header-only file.
      for (let i = 0; i < 200; i++) {
        await w.append([row(i), row(i), row(i), row(i), row(i), row(i), row(i), row(i), row(i), row(i)]).catch(() => failures++);
      }
      assert.ok(failures > 10, `the disk never filled (${failures} failures)`);
      const headerOnly = readdirSync(fs.dir)
        .filter((f) => f.endsWith('.csv'))
        .filter((f) => readFileSync(join(fs.dir, f), 'utf8').trimEnd().split('\n').length <= 1);
      assert.deepEqual(headerOnly, []);
      await w.close();
    } finally {
      fs.unmount();
    }
  });
});
