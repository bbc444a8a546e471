/**
 * The drift metrics (listed in docs/reports.md#metrics), computed at scrape time from the report directory: every
 * `collect()` reads the latest run (through a small cache, since run files never change), so a
 * new run shows up on the next scrape with nothing to push and nothing to restart.
 *
 * Before the first successful run the unlabelled gauges read 0 (prom-client always exposes them),
 * so `sentinelml_drift_last_run_timestamp_seconds` is 0 and a staleness alert fires.
 *
 * When `latest.json` (or the run it points at) cannot be read, `collect()` throws: the scrape
 * fails with a 5xx (Prometheus marks the target down) instead of silently dropping drift gauges.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DriftResult, LatestPointer } from '../../drift/result.ts';
import { SentinelError } from '../../errors.ts';
import { countFailedRuns, readLatest, readRun } from '../../io/report-store.ts';

export interface DriftSnapshot {
  latest: LatestPointer | null;
  result: DriftResult | null;
}

/** Reads the latest run from `dir`, re-reading only what changed; concurrent callers share one read. */
export function createDriftSource(dir: string): { load(): Promise<DriftSnapshot>; failures(): Promise<number> } {
  let cachedResult: DriftResult | null = null;
  let inflight: Promise<DriftSnapshot> | null = null;
  let failureCache: { key: string; count: number } | null = null;
  async function read(): Promise<DriftSnapshot> {
    const latest = await readLatest(dir);
    if (latest === null) return { latest: null, result: null };
    if (cachedResult?.run_id !== latest.run_id) {
      const result = await readRun(dir, latest.run_id);
      if (result === null) {
        throw new SentinelError('latest_run_missing', `latest.json points at run "${latest.run_id}" but its drift.json does not exist`, { expose: true, details: { path: join(dir, latest.run_id, 'drift.json') } });
      }
      if (!Array.isArray(result.columns)) throw new SentinelError('corrupt_run', `drift.json of run "${latest.run_id}" has no columns`, { expose: true });
      cachedResult = result; // run files are immutable once written
    }
    return { latest, result: cachedResult };
  }
  return {
    load() {
      inflight ??= read().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    // Counting opens one file per run: redo it only when the directory changed (every failure is a
    // rename into the directory, or comes with a rewrite of latest.json, both of which change its mtime).
    async failures() {
      let key: string;
      try {
        const st = await stat(dir);
        key = `${st.mtimeMs}:${st.ino}`;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      if (failureCache?.key !== key) failureCache = { key, count: await countFailedRuns(dir) };
      return failureCache.count;
    },
  };
}

/** Registers the drift gauges on `registry`; each computes its value at scrape time. */
export function registerDriftMetrics(registry: Registry, dir: string): void {
  const source = createDriftSource(dir);
  const registers = [registry];
  new Gauge({
    name: 'sentinelml_feature_drift_score',
    help: 'Per-feature drift distance of the latest run (higher = more drift; the column score of drift.json).',
    labelNames: ['feature', 'stattest'],
    registers,
    async collect() {
      this.reset();
      const { result } = await source.load();
      for (const c of result?.columns ?? []) {
        if (c.error === null && typeof c.score === 'number' && Number.isFinite(c.score)) this.set({ feature: c.name, stattest: c.stattest }, c.score);
      }
    },
  });
  new Gauge({
    name: 'sentinelml_feature_drift_detected',
    help: 'Whether the latest run detected drift on the feature (1) or not (0); untested features are absent.',
    labelNames: ['feature'],
    registers,
    async collect() {
      this.reset();
      const { result } = await source.load();
      for (const c of result?.columns ?? []) if (c.error === null) this.set({ feature: c.name }, c.drift_detected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sentinelml_prediction_drift_score',
    help: 'Drift distance of the model output (prediction column) in the latest run.',
    labelNames: ['stattest'],
    registers,
    async collect() {
      this.reset();
      const p = (await source.load()).result?.prediction ?? null;
      if (p !== null && p.error === null && typeof p.score === 'number' && Number.isFinite(p.score)) this.set({ stattest: p.stattest }, p.score);
    },
  });
  new Gauge({
    name: 'sentinelml_prediction_drift_detected',
    help: 'Whether the latest run detected drift on the model output (1) or not (0).',
    registers,
    async collect() {
      this.reset();
      const p = (await source.load()).result?.prediction ?? null;
      if (p !== null && p.error === null) this.set(p.drift_detected ? 1 : 0);
    },
  });
  const datasetGauge = (name: string, help: string, value: (r: DriftResult) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.reset();
        const { result } = await source.load();
        const v = result === null ? NaN : value(result);
        if (Number.isFinite(v)) this.set(v);
      },
    });
  datasetGauge('sentinelml_dataset_drift_share', 'Share of tested features with drift in the latest run (0-1).', (r) => r.drift_share);
  datasetGauge('sentinelml_dataset_drift_detected', 'Whether the latest run found dataset drift (drift share at or above its threshold).', (r) => (r.dataset_drift ? 1 : 0));
  datasetGauge('sentinelml_drift_score', 'Headline drift score of the latest run: mean per-feature distance, compared against the alert threshold (default 0.1).', (r) => r.drift_score);
  datasetGauge('sentinelml_drift_last_run_timestamp_seconds', 'When the latest successful drift run finished (Unix time).', (r) => Date.parse(r.finished_at) / 1000);
  // Model quality (drift.json `performance`): realized on the labelled rows of the window, the
  // reference's, and the CBPE estimate. Overall metrics have class=""; per-class ones name the class.
  new Gauge({
    name: 'sentinelml_model_performance',
    help: 'Classification performance of the latest run: source="realized" (window rows with labels), "reference", or "estimated" (CBPE, no labels needed).',
    labelNames: ['metric', 'source', 'class'],
    registers,
    async collect() {
      this.reset();
      const perf = (await source.load()).result?.performance;
      if (perf === undefined) return;
      const put = (metric: string, src: string, cls: string, v: number | null | undefined) => {
        if (typeof v === 'number' && Number.isFinite(v)) this.set({ metric, source: src, class: cls }, v);
      };
      for (const [src, m] of [['realized', perf.current], ['reference', perf.reference]] as const) {
        if (m === null) continue;
        for (const k of ['accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'roc_auc', 'log_loss'] as const) put(k, src, '', m[k]);
        for (const c of m.per_class) for (const k of ['precision', 'recall', 'f1'] as const) put(k, src, c.label, c[k]);
      }
      for (const [k, e] of Object.entries(perf.estimated?.metrics ?? {})) put(k, 'estimated', '', e.value);
    },
  });
  new Gauge({
    name: 'sentinelml_label_coverage',
    help: 'Share of the latest run\'s predictions that have a ground-truth label (POST /feedback), 0-1.',
    registers,
    async collect() {
      this.reset();
      const perf = (await source.load()).result?.performance;
      if (perf !== undefined) this.set(perf.join.coverage);
    },
  });
  new Gauge({
    name: 'sentinelml_labelled_predictions',
    help: 'Predictions of the latest run that have a ground-truth label (the rows behind the realized metrics).',
    registers,
    async collect() {
      this.reset();
      const perf = (await source.load()).result?.performance;
      if (perf !== undefined) this.set(perf.join.labelled);
    },
  });
  new Gauge({
    name: 'sentinelml_estimated_performance_alert',
    help: 'Whether the CBPE estimate of the latest run is outside the band of the reference chunks (1) or not (0), per metric.',
    labelNames: ['metric'],
    registers,
    async collect() {
      this.reset();
      const est = (await source.load()).result?.performance?.estimated;
      for (const [k, e] of Object.entries(est?.metrics ?? {})) if (e.value !== null) this.set({ metric: k }, e.alert ? 1 : 0);
    },
  });
  new Counter({
    name: 'sentinelml_drift_run_failures_total',
    help: 'Drift runs that could not complete, as recorded in the report directory (survives restarts).',
    registers,
    async collect() {
      this.reset();
      const n = await source.failures();
      if (n > 0) this.inc(n);
    },
  });
}
