/**
 * Pure rendering: a DriftResult (or the list of runs) in, one self-contained HTML string out —
 * inline CSS, one small inline sorting script, inline SVG charts, nothing fetched. Templates are
 * handlebars files under `templates/` (precompiled into templates/compiled.ts by
 * tools/templates/build.ts); every user-supplied string goes through handlebars
 * escaping (text and attributes, SVG included). A Content-Security-Policy that allows only our
 * own inline script and style (by hash) backs that up.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type HandlebarsApi from 'handlebars';
import runtime from 'handlebars/runtime.js';
import { alertOf, DEFAULT_SCORE_THRESHOLD, scoreAboveThreshold } from '../drift/alerting.ts';
import type { ColumnDrift, DriftResult, PerformanceSection, RunSummary } from '../drift/result.ts';
import { cbpeChunkChart, distributionChart, qualityOverTimeChart, scoreOverTimeChart, type Chart } from './charts.ts';
import { formatNumber, formatPercent, formatTime, sortKey } from './format.ts';
import { templateSpecs } from './templates/compiled.ts';


const templateDir = join(import.meta.dirname, 'templates');
const read = (name: string) => readFileSync(join(templateDir, name), 'utf8');

// The templates are precompiled (tools/templates/build.ts): only handlebars' small runtime loads here
// (its runtime.d.ts declares nothing, hence the type from the full package).
const hb = (runtime as unknown as typeof HandlebarsApi).create();
hb.registerPartial('chart', hb.template(templateSpecs.chart));
hb.registerPartial('layout-head', hb.template(templateSpecs.head));
const reportTemplate = hb.template(templateSpecs.report);
const indexTemplate = hb.template(templateSpecs.index);

const css = read('style.css').trim();
const script = read('sort.js').trim();
const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
/** Only our own inline script and style may run; nothing may be fetched, not even by a hostile string. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; script-src ${hash(script)}; style-src ${hash(css)}; img-src data:; base-uri 'none'; form-action 'none'`;
const assets = { css, script, csp: CONTENT_SECURITY_POLICY };

type Severity = 'drift' | 'ok' | 'error';

interface ColumnView {
  name: string;
  type: string;
  stattest: string;
  threshold: string;
  thresholdSort: string;
  decision: string;
  statistic: string;
  statisticSort: string;
  pValue: string;
  pValueSort: string;
  score: string;
  scoreSort: string;
  scoreMethod: string;
  severity: Severity;
  verdict: string;
  verdictSort: number;
  error: { code: string; message: string } | null;
  /** Alarm mode of the column (absent in Evidently's mode): how its threshold was set, and Evidently's own verdict. */
  alarm: { mode: string; method: string; evidently: string; adjusted: string } | null;
  /** The verdict the drift share counted instead of the shown one (compat, ±inf; drift/legacy-share.ts). */
  share: { verdict: string; reason: string } | null;
  refSummary: string;
  curSummary: string;
  chart: Chart;
}

function summaryLine(s: ColumnDrift['reference'], type: ColumnDrift['type']): string {
  const parts = [`${formatNumber(s.count)} rows`];
  const inf = (s.negative_infinity ?? 0) + (s.positive_infinity ?? 0);
  if (s.missing > 0) parts.push(`${formatNumber(s.missing)} missing${inf > 0 ? ` (${formatNumber(inf)} ±inf)` : ''}`);
  if (type === 'numerical' && s.mean !== undefined) parts.push(`mean ${formatNumber(s.mean)}`);
  if (type !== 'numerical' && s.distinct !== undefined) parts.push(`${formatNumber(s.distinct)} distinct`);
  return parts.join(' · ');
}

function columnView(c: ColumnDrift, chartWidth: number): ColumnView {
  const severity: Severity = c.error !== null ? 'error' : c.drift_detected ? 'drift' : 'ok';
  return {
    name: c.name,
    type: c.type,
    stattest: c.stattest,
    threshold: formatNumber(c.threshold),
    thresholdSort: sortKey(c.threshold),
    // Hypothesis tests drift when p < threshold, distances when distance ≥ threshold (as in Evidently).
    decision: c.p_value !== null ? 'p <' : '≥',
    statistic: formatNumber(c.statistic),
    statisticSort: sortKey(c.statistic),
    pValue: formatNumber(c.p_value),
    pValueSort: sortKey(c.p_value),
    score: formatNumber(c.score),
    scoreSort: sortKey(c.score),
    scoreMethod: c.score_method !== null && c.score_method !== c.stattest ? c.score_method : '',
    severity,
    verdict: severity === 'error' ? 'Not tested' : severity === 'drift' ? 'Drift' : 'No drift',
    verdictSort: severity === 'drift' ? 2 : severity === 'error' ? 1 : 0,
    error: c.error,
    alarm:
      c.alarm === undefined
        ? null
        : {
            mode: c.alarm.tests === 'corrected' ? `${c.alarm.mode}, corrected test` : c.alarm.mode,
            method: c.alarm.method + (c.alarm.note !== undefined ? ` (${c.alarm.note})` : ''),
            evidently: c.alarm.evidently_error !== undefined ? `its test fails here (${c.alarm.evidently_error})` : `${c.alarm.evidently_drift ? 'drift' : 'no drift'} at ${formatNumber(c.alarm.evidently_threshold)}`,
            adjusted: c.alarm.adjusted_p_value === undefined || c.alarm.adjusted_p_value === null ? '' : formatNumber(c.alarm.adjusted_p_value),
          },
    share: c.share_verdict === undefined ? null : { verdict: c.share_verdict.drift_detected ? 'drift' : 'no drift', reason: c.share_verdict.reason },
    refSummary: summaryLine(c.reference, c.type),
    curSummary: summaryLine(c.current, c.type),
    chart: distributionChart(c.name, c.distribution, { width: chartWidth }),
  };
}

export interface RenderOptions {
  /** Alert threshold the headline `drift_score` is compared against (default 0.1). */
  scoreThreshold?: number;
}

/** The drift report of one run: summary first, then every column, then prediction drift. */
export function renderReport(result: DriftResult, opts: RenderOptions = {}): string {
  const threshold = opts.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  const above = scoreAboveThreshold(result.drift_score, threshold);
  const started = Date.parse(result.started_at);
  const finished = Date.parse(result.finished_at);
  const view = {
    assets,
    title: `Drift report · ${result.run_id}`,
    runId: result.run_id,
    startedAt: formatTime(result.started_at),
    finishedAt: formatTime(result.finished_at),
    duration: Number.isFinite(started) && Number.isFinite(finished) ? `${formatNumber((finished - started) / 1000)} s` : '—',
    datasetDrift: result.dataset_drift,
    driftShare: formatPercent(result.drift_share),
    driftShareThreshold: formatPercent(result.drift_share_threshold),
    driftedColumns: formatNumber(result.drifted_columns),
    testedColumns: formatNumber(result.tested_columns),
    totalColumns: formatNumber(result.columns.length),
    driftScore: formatNumber(result.drift_score),
    scoreThreshold: formatNumber(threshold),
    scoreAbove: above,
    // Gauge: the score on a 0..max(2×threshold, score) scale with the threshold marked.
    gauge: gauge(result.drift_score, threshold),
    window: {
      since: result.window.since,
      from: formatTime(result.window.from),
      to: formatTime(result.window.to),
      plain: result.window.from === null && result.window.to === null,
    },
    reference: { path: result.reference.path, rows: formatNumber(result.reference.rows) },
    current: {
      path: result.current.path,
      rows: formatNumber(result.current.rows),
      files: formatNumber(result.current.files),
      tornLines: formatNumber(result.current.torn_lines),
      skippedRows: formatNumber(result.current.skipped_rows),
      hasSkips: result.current.torn_lines > 0 || result.current.skipped_rows > 0,
      skippedEntries: result.current.skipped_entries ?? [],
    },
    compat: result.compat,
    // runs before alarm.tests existed calibrated Evidently's tests
    correctedAlarmTests: result.alarm?.tests === 'corrected' && result.compat,
    alarm: result.alarm === undefined ? null : { mode: result.alarm.mode, alpha: formatNumber(result.alarm.alpha), perColumn: Object.entries(result.alarm.per_column_mode).map(([k, m]) => `${k}: ${m}`).join(', ') },
    columns: result.columns.map((c) => columnView(c, 300)),
    errorCount: result.columns.filter((c) => c.error !== null).length,
    shareDiffers: result.columns.some((c) => c.share_verdict !== undefined),
    prediction: result.prediction === null ? null : columnView(result.prediction, 520),
    quality: result.performance === undefined ? null : qualityView(result.performance),
  };
  return reportTemplate(view);
}

const METRIC_NAMES: Record<string, string> = {
  accuracy: 'Accuracy',
  precision_macro: 'Precision (macro)',
  recall_macro: 'Recall (macro)',
  f1_macro: 'F1 (macro)',
  roc_auc: 'ROC AUC',
  log_loss: 'Log loss (lower is better)',
  f1: 'F1 (binary: positive class; multiclass: macro)',
};

/** The model-quality section: join numbers, realized vs reference, the CBPE estimate, per class, confusion matrix. */
function qualityView(p: PerformanceSection) {
  const signed = (x: number | null) => (x === null ? '—' : `${x > 0 ? '+' : ''}${formatNumber(x)}`);
  const rows = (['accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'roc_auc', 'log_loss'] as const).map((m) => {
    const est = p.estimated?.metrics[m] ?? null;
    return {
      name: METRIC_NAMES[m],
      reference: formatNumber(p.reference?.[m] ?? null),
      realized: formatNumber(p.current?.[m] ?? null),
      change: signed(p.change?.[m] ?? null),
      worse: p.change?.[m] != null && (m === 'log_loss' ? p.change[m]! > 0 : p.change[m]! < 0),
      estimated: est === null ? '—' : `${formatNumber(est.value)} ± ${formatNumber(3 * est.sampling_error)}`,
      band: est === null ? '' : `${formatNumber(est.lower_threshold)} – ${formatNumber(est.upper_threshold)}`,
      alert: est?.alert ?? false,
    };
  });
  // CBPE's binary F1 is the positive class's (NannyML's definition): its own row.
  const f1 = p.estimated?.metrics.f1;
  if (f1 !== undefined && p.classes.length === 2) {
    rows.push({ name: `F1 (${p.classes[1]})`, reference: formatNumber(p.reference?.per_class[1].f1 ?? null), realized: formatNumber(p.current?.per_class[1].f1 ?? null), change: signed(p.current && p.reference ? p.current.per_class[1].f1 - p.reference.per_class[1].f1 : null), worse: !!(p.current && p.reference && p.current.per_class[1].f1 < p.reference.per_class[1].f1), estimated: `${formatNumber(f1.value)} ± ${formatNumber(3 * f1.sampling_error)}`, band: `${formatNumber(f1.lower_threshold)} – ${formatNumber(f1.upper_threshold)}`, alert: f1.alert });
  }
  const perClass = p.classes.map((label, i) => ({
    label,
    support: formatNumber(p.current?.per_class[i].support ?? null),
    precision: formatNumber(p.current?.per_class[i].precision ?? null),
    recall: formatNumber(p.current?.per_class[i].recall ?? null),
    f1: formatNumber(p.current?.per_class[i].f1 ?? null),
    refF1: formatNumber(p.reference?.per_class[i].f1 ?? null),
  }));
  return {
    coverage: formatPercent(p.join.coverage),
    labelled: formatNumber(p.join.labelled),
    predictions: formatNumber(p.join.predictions),
    unmatched: formatNumber(p.join.unmatched_labels),
    superseded: formatNumber(p.labels.superseded),
    late: formatNumber(p.labels.late),
    labelFiles: formatNumber(p.labels.files),
    delay: p.labels.delay,
    until: p.labels.until === null ? null : formatTime(p.labels.until),
    target: p.reference?.target ?? null,
    rows,
    estimated: p.estimated !== null,
    estimatedNote: p.estimated === null ? p.estimated_unavailable : `calibrated: ${p.estimated.calibrated.map((c) => (c ? 'yes' : 'no')).join(', ')}; alert band from ${p.estimated.reference_chunks} reference chunks of ${formatNumber(p.estimated.chunk_size)} rows`,
    perClass,
    hasCurrent: p.current !== null,
    classes: p.classes,
    confusion: p.current === null ? [] : p.current.confusion_matrix.map((row, i) => ({ label: p.classes[i], cells: row.map((v) => formatNumber(v)) })),
    probabilitiesNote: p.probabilities_unavailable ?? '',
    ...chunkView(p.estimated),
  };
}

/** CBPE per chunk: one chart per metric, and what the chunks are. */
function chunkView(est: PerformanceSection['estimated']): { chunkCharts: Chart[]; chunkNote: string } {
  // `== null`: drift.json files written before chunks existed lack the fields.
  if (est == null || est.chunking == null) return { chunkCharts: [], chunkNote: '' };
  const c = est.chunking;
  const how = c.method === 'size' ? `chunks of ${formatNumber(c.size!)} rows` : c.method === 'number' ? `${formatNumber(c.number!)} chunks` : `one chunk per ${c.period}`;
  if (est.chunks == null) return { chunkCharts: [], chunkNote: `CBPE per chunk (${how}) not available: ${est.chunks_unavailable ?? 'unknown reason'}` };
  const chunks = est.chunks;
  const label = (k: (typeof chunks)[number]) => (c.method === 'period' && k.from !== null ? k.from.slice(0, 16).replace('T', ' ') : `rows ${k.start}–${k.end}`);
  const charts = Object.keys(est.metrics).map((m) =>
    cbpeChunkChart(
      METRIC_NAMES[m] ?? m,
      chunks.map((k) => {
        const e = k.metrics[m];
        return { label: label(k), detail: `${k.labelled} of ${k.rows} rows labelled`, value: e.value, lower: e.lower_confidence_boundary, upper: e.upper_confidence_boundary, lowerThreshold: e.lower_threshold, upperThreshold: e.upper_threshold, alert: e.alert, realized: e.realized };
      }),
    ),
  );
  const alerts = chunks.filter((k) => Object.values(k.metrics).some((e) => e.alert)).length;
  return { chunkCharts: charts, chunkNote: `${formatNumber(chunks.length)} chunks (${how}, rows in time order, NannyML's chunker); thresholds from ${formatNumber(est.chunk_reference_chunks ?? 0)} reference chunks made the same way; ${formatNumber(alerts)} chunk(s) outside them.` };
}

function gauge(score: number, threshold: number): { width: number; marker: number; fill: number; cls: string } {
  const width = 260;
  const max = Math.max(threshold * 2, Number.isFinite(score) ? score : 0) || 1;
  const x = (v: number) => Math.round((Math.max(0, Math.min(v, max)) / max) * width * 10) / 10;
  return { width, marker: x(threshold), fill: x(Number.isFinite(score) ? score : 0), cls: scoreAboveThreshold(score, threshold) ? 'drift' : 'ok' };
}

export interface IndexOptions extends RenderOptions {
  /** Failed runs recorded (shown beside the table). Defaults to the failed runs in `runs`. */
  failures?: number;
  /** Newest runs shown in the table and the chart (default 500); older ones stay in the directory. */
  limit?: number;
  /** A problem with the directory worth a banner (e.g. an unreadable latest.json). */
  warning?: string | null;
}

/** The index of runs, newest first, with `drift_score` over time. */
export function renderIndex(runs: RunSummary[], opts: IndexOptions = {}): string {
  const threshold = opts.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  const limit = opts.limit ?? 500;
  const ordered = [...runs].sort((a, b) => (a.finished_at < b.finished_at ? 1 : a.finished_at > b.finished_at ? -1 : 0)).slice(0, limit);
  const latest = ordered.find((r) => r.status === 'ok') ?? null;
  const rows = ordered.map((r) => {
    const alert = alertOf(r, threshold);
    const severity: Severity = r.status === 'failed' ? 'error' : alert.alerting ? 'drift' : 'ok';
    return {
      runId: r.run_id,
      href: `runs/${encodeURIComponent(r.run_id)}/report.html`,
      jsonHref: `runs/${encodeURIComponent(r.run_id)}/drift.json`,
      ok: r.status === 'ok',
      finishedAt: formatTime(r.finished_at),
      finishedSort: r.finished_at,
      driftScore: formatNumber(r.drift_score),
      driftScoreSort: sortKey(r.drift_score),
      driftShare: formatPercent(r.drift_share),
      driftShareSort: sortKey(r.drift_share),
      columns: r.tested_columns === null ? '—' : `${formatNumber(r.drifted_columns)} / ${formatNumber(r.tested_columns)}`,
      datasetDrift: r.dataset_drift === null ? '—' : r.dataset_drift ? 'yes' : 'no',
      rows: r.current_rows === null ? '—' : `${formatNumber(r.reference_rows)} → ${formatNumber(r.current_rows)}`,
      currentRowsSort: sortKey(r.current_rows),
      severity,
      verdict: severity === 'error' ? 'Failed' : alert.reason === 'DatasetDrift' ? 'Dataset drift' : alert.alerting ? 'Above threshold' : 'Below threshold',
      verdictSort: severity === 'drift' ? 2 : severity === 'error' ? 1 : 0,
      message: r.message,
    };
  });
  const view = {
    assets,
    title: 'SentinelML · drift runs',
    runCount: formatNumber(runs.length),
    failures: formatNumber(opts.failures ?? runs.filter((r) => r.status === 'failed').length),
    scoreThreshold: formatNumber(threshold),
    latest: latest === null ? null : {
      runId: latest.run_id,
      href: `runs/${encodeURIComponent(latest.run_id)}/report.html`,
      finishedAt: formatTime(latest.finished_at),
      driftScore: formatNumber(latest.drift_score),
      above: scoreAboveThreshold(latest.drift_score, threshold),
      driftShare: formatPercent(latest.drift_share),
      datasetDrift: latest.dataset_drift === true,
    },
    chart: scoreOverTimeChart(ordered, threshold),
    qualityChart: ordered.some((r) => r.accuracy_realized != null || r.accuracy_estimated != null || r.accuracy_reference != null) ? qualityOverTimeChart(ordered) : null,
    truncated: runs.length > ordered.length ? { shown: formatNumber(ordered.length), total: formatNumber(runs.length) } : null,
    rows,
    empty: runs.length === 0,
    warning: opts.warning ?? null,
  };
  return indexTemplate(view);
}
