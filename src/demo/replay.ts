import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { Logger } from '../logger.ts';
import type { ModelCard } from '../model/card.ts';

export interface Replay {
  /** Rows sent and answered so far. */
  stats(): { sent: number; ok: number; failed: number };
  stop(): Promise<void>;
}

/**
 * Replays the rows of a CSV (e.g. the demo's "live" split) against POST /predict at about `rate`
 * rows per second, in small batches, looping over the file until stopped. Rows are converted with
 * the model card: numbers for numerical features, null for empty cells.
 */
export function startReplay(o: { csv: string; url: string; card: ModelCard; rate: number; logger: Logger; batch?: number }): Replay {
  const logger = o.logger.child({ component: 'replay' });
  const batch = o.batch ?? Math.max(1, Math.min(50, Math.round(o.rate / 10)));
  const intervalMs = (1000 * batch) / o.rate;
  let stopped = false;
  const counts = { sent: 0, ok: 0, failed: 0 };
  let wake: (() => void) | undefined;
  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    wake = () => { clearTimeout(t); r(); };
  });

  const toFeatures = (rec: Record<string, string>) => {
    const out: Record<string, number | string | null> = {};
    for (const f of o.card.features) {
      const v = rec[f.name];
      out[f.name] = v === undefined || v === '' ? null : f.type === 'numerical' ? Number(v) : v;
    }
    return out;
  };

  const done = (async () => {
    while (!stopped) {
      const parser = createReadStream(o.csv).pipe(parse({ columns: true }));
      let pending: Record<string, number | string | null>[] = [];
      for await (const rec of parser) {
        if (stopped) break;
        pending.push(toFeatures(rec));
        if (pending.length < batch) continue;
        const t0 = Date.now();
        const instances = pending;
        pending = [];
        counts.sent += instances.length;
        try {
          const res = await fetch(`${o.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
          await res.arrayBuffer();
          if (res.ok) counts.ok += instances.length;
          else {
            counts.failed += instances.length;
            logger.warn({ status: res.status }, 'replayed batch rejected');
          }
        } catch (err) {
          counts.failed += instances.length;
          if (!stopped) logger.warn({ err }, 'replayed batch failed');
        }
        await sleep(Math.max(0, intervalMs - (Date.now() - t0)));
      }
      parser.destroy();
    }
  })();

  return {
    stats: () => ({ ...counts }),
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
