// The model's share of a request, alone: C concurrent single-row requests through the loader
// `sentinel serve` uses (natural micro-batching included), CPU from process.cpuUsage (no HTTP, no
// log). Shared by bench/serve/batching.ts and the batched limit of bench/serve/run.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureRow, Model } from '../../src/io/model/onnx.ts';
import { REPO } from '../../test/support/process.ts';

/** The hold-out rows the model was never trained on (test/fixtures/model/holdout.json). */
export function holdoutRows(): FeatureRow[] {
  const holdout = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'model', 'holdout.json'), 'utf8')) as { rows: { features: FeatureRow }[] };
  return holdout.rows.map((r) => r.features);
}

export interface ModelCost {
  cpuUsPerRequest: number;
  wallMs: number;
  rowsPerRun: number;
}

/** `concurrency` callers, each sending its next single-row request when its previous answer arrives. */
export async function driveModel(model: Model, rows: readonly FeatureRow[], concurrency: number, requests: number): Promise<ModelCost> {
  const before = model.runStats();
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        await model.predict([rows[i % rows.length]]);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const after = model.runStats();
  return { cpuUsPerRequest: (c.user + c.system) / requests, wallMs, rowsPerRun: (after.rows - before.rows) / (after.runs - before.runs) };
}
