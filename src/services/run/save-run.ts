// Saving a completed run: render its report, then hand result and HTML to the store. Here, above
// both, so the store (src/io) never imports the renderer and the renderer never imports the store.
import type { DriftResult } from '../../drift/result.ts';
import { writeRun } from '../../io/report-store.ts';
import { renderReport } from '../../render/render.ts';

export async function saveRun(dir: string, result: DriftResult): Promise<{ runDir: string }> {
  return writeRun(dir, result, renderReport(result));
}
