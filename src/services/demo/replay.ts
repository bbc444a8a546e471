import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { Logger } from '../../logger.ts';
import type { ModelCard } from '../../io/model/card.ts';

export interface Replay {
  /** Rows sent and answered so far; labels posted to /feedback so far. */
  stats(): { sent: number; ok: number; failed: number; labelsSent: number; labelsOk: number; labelsFailed: number };
  stop(): Promise<void>;
}

/** Ground truth sent back late, as in production: each row's true class, `delayMs` after its prediction. */
export interface ReplayLabels {
  /** CSV column holding the true class. */
  column: string;
  delayMs: number;
  /** Share of predictions that ever get a label (0-1), spread evenly over the rows. */
  share: number;
}

/**
 * Replays the rows of a CSV (e.g. the demo's "live" split) against POST /predict at about `rate`
 * rows per second, in small batches, looping over the file until stopped. Rows are converted with
 * the model card: numbers for numerical features, null for empty cells. With `labels`, the true
 * classes of a share of the rows are posted to /feedback (by the returned prediction ids) after the delay.
 */
export function startReplay(o: { csv: string; url: string; card: ModelCard; rate: number; logger: Logger; batch?: number; labels?: ReplayLabels }): Replay {
  const logger = o.logger.child({ component: 'replay' });
  const batch = o.batch ?? Math.max(1, Math.min(50, Math.round(o.rate / 10)));
  const intervalMs = (1000 * batch) / o.rate;
  let stopped = false;
  const counts = { sent: 0, ok: 0, failed: 0, labelsSent: 0, labelsOk: 0, labelsFailed: 0 };
  const classes = new Set(o.card.classes);
  // Labels wait here until due; sent in batches by the loop below (FIFO: the delay is constant).
  const due: { at: number; item: { request_id: string; label: string } }[] = [];
  let rowIndex = 0;
  const labelThis = () => {
    const i = rowIndex++;
    return o.labels !== undefined && Math.floor((i + 1) * o.labels.share) > Math.floor(i * o.labels.share);
  };
  async function sendDueLabels(): Promise<void> {
    const now = Date.now();
    let n = 0;
    while (n < due.length && due[n].at <= now && n < 1000) n++;
    if (n === 0) return;
    const instances = due.splice(0, n).map((d) => d.item);
    counts.labelsSent += instances.length;
    try {
      const res = await fetch(`${o.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
      await res.arrayBuffer();
      if (res.ok) counts.labelsOk += instances.length;
      else {
        counts.labelsFailed += instances.length;
        logger.warn({ event: 'feedback_batch_rejected', status: res.status }, 'feedback batch rejected');
      }
    } catch (err) {
      counts.labelsFailed += instances.length;
      if (!stopped) logger.warn({ event: 'feedback_batch_failed', err }, 'feedback batch failed');
    }
  }
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
      let truths: (string | null)[] = [];
      for await (const rec of parser) {
        if (stopped) break;
        pending.push(toFeatures(rec));
        const truth = o.labels === undefined ? undefined : (rec as Record<string, string>)[o.labels.column];
        truths.push(truth !== undefined && classes.has(truth) && labelThis() ? truth : null);
        if (pending.length < batch) continue;
        const t0 = Date.now();
        const instances = pending;
        const labelsOf = truths;
        pending = [];
        truths = [];
        counts.sent += instances.length;
        try {
          const res = await fetch(`${o.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
          const body = res.ok ? ((await res.json()) as { predictions: { id: string }[] }) : (await res.arrayBuffer(), null);
          if (body !== null) {
            counts.ok += instances.length;
            const at = Date.now() + (o.labels?.delayMs ?? 0);
            body.predictions.forEach((p, i) => {
              if (labelsOf[i] !== null) due.push({ at, item: { request_id: p.id, label: labelsOf[i]! } });
            });
          } else {
            counts.failed += instances.length;
            logger.warn({ event: 'replay_batch_rejected', status: res.status }, 'replayed batch rejected');
          }
        } catch (err) {
          counts.failed += instances.length;
          if (!stopped) logger.warn({ event: 'replay_batch_failed', err }, 'replayed batch failed');
        }
        await sendDueLabels();
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
