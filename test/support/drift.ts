import type { RunMeta } from '../../src/drift/detect.ts';
import { readLog } from '../../src/io/log/reader.ts';

/** Fixed run metadata for pure drift-detection tests. */
export function testRunMeta(runId = 'test-run'): RunMeta {
  return {
    runId,
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:01Z'),
    since: null,
    window: { from: null, to: null },
    reference: { path: 'ref.csv', rows: 0 },
    current: { path: 'cur.csv', rows: 0, files: 1, torn_lines: 0, skipped_rows: 0 },
  };
}

/** A CSV file or log directory read into typed columns, as detectDrift takes it. */
export async function loadTable(path: string) {
  const r = await readLog(path);
  return { table: r.table, header: r.header };
}
