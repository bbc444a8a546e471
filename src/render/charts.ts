/**
 * Chart geometry for inline SVG, as plain shapes the chart template draws. Pure: numbers and
 * strings out; the template escapes every label (category values and column names are user data).
 */
import { scoreAboveThreshold } from '../drift/alerting.ts';
import type { Distribution, RunSummary } from '../drift/result.ts';
import { formatCompact, formatNumber, formatPercent, formatTime } from './format.ts';

export interface Rect { cls: string; x: number; y: number; w: number; h: number; title: string }
export interface Text { cls: string; x: number; y: number; anchor: 'start' | 'middle' | 'end'; text: string; title: string }
export interface Line { cls: string; x1: number; y1: number; x2: number; y2: number }
export interface Dot { cls: string; x: number; y: number; r: number; title: string }
export interface Chart {
  kind: string;
  width: number;
  height: number;
  label: string;
  rects: Rect[];
  texts: Text[];
  lines: Line[];
  dots: Dot[];
  path: string | null;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return counts.map((c) => (total > 0 && Number.isFinite(c) ? c / total : 0));
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

function empty(width: number, height: number, label: string, message: string): Chart {
  return {
    kind: 'empty', width, height, label, rects: [], lines: [], dots: [], path: null,
    texts: [{ cls: 'muted', x: width / 2, y: height / 2 + 4, anchor: 'middle', text: message, title: '' }],
  };
}

/** Reference vs current: side-by-side bars per bin (histogram) or per category (horizontal bars). */
export function distributionChart(name: string, dist: Distribution | null, opts: { width?: number } = {}): Chart {
  const width = opts.width ?? 300;
  const label = `Reference vs current distribution of ${name}`;
  if (dist === null) return empty(width, 60, label, 'no distribution (column not tested)');
  return dist.kind === 'histogram' ? histogram(width, label, dist) : categoryBars(width, label, dist);
}

function histogram(width: number, label: string, dist: Extract<Distribution, { kind: 'histogram' }>): Chart {
  const n = Math.min(dist.reference.length, dist.current.length, Math.max(0, dist.edges.length - 1));
  if (n === 0) return empty(width, 60, label, 'no data');
  const height = 120;
  const left = 4, right = 4, top = 16, bottom = 18;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const ref = shares(dist.reference.slice(0, n));
  const cur = shares(dist.current.slice(0, n));
  const max = Math.max(...ref, ...cur, 1e-12);
  const bw = plotW / n;
  const gap = bw > 8 ? 1 : 0;
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const lo = formatNumber(dist.edges[i]);
    const hi = formatNumber(dist.edges[i + 1]);
    const title = `[${lo}, ${hi}${i === n - 1 ? ']' : ')'}: reference ${formatPercent(ref[i])}, current ${formatPercent(cur[i])}`;
    const half = (bw - 2 * gap) / 2;
    for (const [side, values, offset] of [['ref', ref, 0], ['cur', cur, half]] as const) {
      const h = (values[i] / max) * plotH;
      rects.push({ cls: side, x: r1(left + i * bw + gap + offset), y: r1(top + plotH - h), w: r1(Math.max(half, 0.5)), h: r1(h), title });
    }
  }
  const base = top + plotH;
  const texts: Text[] = [
    { cls: 'axis', x: left, y: height - 4, anchor: 'start', text: formatCompact(dist.edges[0]), title: '' },
    { cls: 'axis', x: left + plotW / 2, y: height - 4, anchor: 'middle', text: formatCompact(dist.edges[Math.floor(n / 2)]), title: '' },
    { cls: 'axis', x: width - right, y: height - 4, anchor: 'end', text: formatCompact(dist.edges[n]), title: '' },
    { cls: 'axis', x: left, y: 10, anchor: 'start', text: `max ${formatPercent(max)}`, title: '' },
  ];
  return { kind: 'histogram', width, height, label, rects, texts, lines: [{ cls: 'baseline', x1: left, y1: base, x2: width - right, y2: base }], dots: [], path: null };
}

function categoryBars(width: number, label: string, dist: Extract<Distribution, { kind: 'categories' }>): Chart {
  const n = Math.min(dist.categories.length, dist.reference.length, dist.current.length);
  if (n === 0) return empty(width, 60, label, 'no data');
  const row = 16, top = 16;
  const height = top + n * row + 4;
  const labelW = Math.min(120, Math.round(width * 0.4));
  const valueW = 40;
  const barX = labelW + 6;
  const barW = width - barX - valueW;
  const ref = shares(dist.reference.slice(0, n));
  const cur = shares(dist.current.slice(0, n));
  const max = Math.max(...ref, ...cur, 1e-12);
  const rects: Rect[] = [];
  const texts: Text[] = [{ cls: 'axis', x: width - 2, y: 10, anchor: 'end', text: 'current', title: 'Share of current rows in the category' }];
  for (let i = 0; i < n; i++) {
    const cat = String(dist.categories[i]);
    const y = top + i * row;
    const title = `${cat}: reference ${formatPercent(ref[i])}, current ${formatPercent(cur[i])}`;
    texts.push({ cls: 'cat', x: labelW, y: y + 11, anchor: 'end', text: truncate(cat, 18), title });
    rects.push({ cls: 'ref', x: barX, y: y + 2, w: r1(Math.max((ref[i] / max) * barW, 0)), h: 6, title });
    rects.push({ cls: 'cur', x: barX, y: y + 8, w: r1(Math.max((cur[i] / max) * barW, 0)), h: 6, title });
    texts.push({ cls: 'axis', x: width - 2, y: y + 11, anchor: 'end', text: formatPercent(cur[i]), title });
  }
  return { kind: 'categories', width, height, label, rects, texts, lines: [{ cls: 'baseline', x1: barX, y1: top, x2: barX, y2: top + n * row }], dots: [], path: null };
}

/** `drift_score` over time with the alert threshold; failed runs as marks on the time axis. */
export function scoreOverTimeChart(runs: RunSummary[], threshold: number, opts: { width?: number; height?: number } = {}): Chart {
  const width = opts.width ?? 1160;
  const height = opts.height ?? 240;
  const label = 'Drift score over time';
  const timed = runs
    .map((r) => ({ r, t: Date.parse(r.finished_at) }))
    .filter((x) => Number.isFinite(x.t));
  if (timed.length === 0) return empty(width, 80, label, 'no runs yet');
  const left = 48, right = 16, top = 14, bottom = 28;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const t0 = Math.min(...timed.map((x) => x.t));
  const t1 = Math.max(...timed.map((x) => x.t));
  const xOf = (t: number) => r1(t1 === t0 ? left + plotW / 2 : left + ((t - t0) / (t1 - t0)) * plotW);
  const scores = timed.flatMap((x) => (x.r.drift_score !== null && Number.isFinite(x.r.drift_score) ? [x.r.drift_score] : []));
  const yMax = niceCeil(Math.max(threshold * 1.5, ...scores) * 1.05);
  const yOf = (v: number) => r1(top + plotH - (Math.max(0, Math.min(v, yMax)) / yMax) * plotH);
  const lines: Line[] = [];
  const texts: Text[] = [];
  for (const tick of [0, yMax / 2, yMax]) {
    lines.push({ cls: 'grid', x1: left, y1: yOf(tick), x2: width - right, y2: yOf(tick) });
    texts.push({ cls: 'axis', x: left - 6, y: yOf(tick) + 4, anchor: 'end', text: formatNumber(Number(tick.toPrecision(3))), title: '' });
  }
  lines.push({ cls: 'threshold', x1: left, y1: yOf(threshold), x2: width - right, y2: yOf(threshold) });
  texts.push({ cls: 'threshold-label', x: width - right, y: yOf(threshold) - 5, anchor: 'end', text: `alert threshold ${formatNumber(threshold)}`, title: '' });
  const dots: Dot[] = [];
  const points: string[] = [];
  for (const { r, t } of timed) {
    const x = xOf(t);
    if (r.status === 'ok' && r.drift_score !== null && Number.isFinite(r.drift_score)) {
      const y = yOf(r.drift_score);
      points.push(`${points.length === 0 ? 'M' : 'L'}${x},${y}`);
      const drifted = scoreAboveThreshold(r.drift_score, threshold);
      dots.push({ cls: drifted ? 'dot drift' : 'dot ok', x, y, r: 4, title: `${r.run_id} · ${formatTime(r.finished_at)} · drift score ${formatNumber(r.drift_score)}` });
    } else {
      dots.push({ cls: 'dot failed', x, y: top + plotH, r: 4, title: `${r.run_id} · ${formatTime(r.finished_at)} · failed: ${r.message ?? ''}` });
    }
  }
  texts.push({ cls: 'axis', x: left, y: height - 8, anchor: 'start', text: formatTime(new Date(t0).toISOString()), title: '' });
  if (t1 !== t0) texts.push({ cls: 'axis', x: width - right, y: height - 8, anchor: 'end', text: formatTime(new Date(t1).toISOString()), title: '' });
  return { kind: 'timeline', width, height, label, rects: [], texts, lines, dots, path: points.length > 1 ? points.join(' ') : null };
}

/** Accuracy over runs: reference, realized (labelled predictions) and CBPE estimate, one line each. */
export function qualityOverTimeChart(runs: RunSummary[], opts: { width?: number; height?: number } = {}): Chart {
  const width = opts.width ?? 1160;
  const height = opts.height ?? 220;
  const label = 'Accuracy over time: reference, realized, estimated (CBPE)';
  const series = [
    { key: 'accuracy_reference', cls: 'q-reference', name: 'reference' },
    { key: 'accuracy_realized', cls: 'q-realized', name: 'realized' },
    { key: 'accuracy_estimated', cls: 'q-estimated', name: 'estimated' },
  ] as const;
  const timed = runs
    .filter((r) => r.status === 'ok')
    .map((r) => ({ r, t: Date.parse(r.finished_at) }))
    .filter((x) => Number.isFinite(x.t))
    .sort((a, b) => a.t - b.t);
  const values = timed.flatMap(({ r }) => series.flatMap((s) => (typeof r[s.key] === 'number' && Number.isFinite(r[s.key]) ? [r[s.key] as number] : [])));
  if (values.length === 0) return empty(width, 80, label, 'no run measured model quality yet (needs labels or a labelled reference)');
  const left = 48, right = 16, top = 14, bottom = 28;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const t0 = timed[0].t;
  const t1 = timed[timed.length - 1].t;
  const xOf = (t: number) => r1(t1 === t0 ? left + plotW / 2 : left + ((t - t0) / (t1 - t0)) * plotW);
  const yMin = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  const yMax = 1;
  const yOf = (v: number) => r1(top + plotH - ((Math.max(yMin, Math.min(v, yMax)) - yMin) / (yMax - yMin)) * plotH);
  const lines: Line[] = [];
  const texts: Text[] = [];
  for (const tick of [yMin, (yMin + yMax) / 2, yMax]) {
    lines.push({ cls: 'grid', x1: left, y1: yOf(tick), x2: width - right, y2: yOf(tick) });
    texts.push({ cls: 'axis', x: left - 6, y: yOf(tick) + 4, anchor: 'end', text: formatNumber(Number(tick.toPrecision(3))), title: '' });
  }
  const dots: Dot[] = [];
  for (const s of series) {
    let prev: { x: number; y: number } | null = null;
    for (const { r, t } of timed) {
      const v = r[s.key];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        prev = null; // a gap: this run did not measure it
        continue;
      }
      const pt = { x: xOf(t), y: yOf(v) };
      if (prev !== null) lines.push({ cls: `q-line ${s.cls}`, x1: prev.x, y1: prev.y, x2: pt.x, y2: pt.y });
      dots.push({ cls: `q-dot ${s.cls}`, x: pt.x, y: pt.y, r: 3.5, title: `${r.run_id} · ${formatTime(r.finished_at)} · ${s.name} accuracy ${formatNumber(v)}${s.key === 'accuracy_realized' ? ` (coverage ${formatPercent(r.label_coverage ?? null)})` : ''}` });
      prev = pt;
    }
  }
  texts.push({ cls: 'axis', x: left, y: height - 8, anchor: 'start', text: formatTime(new Date(t0).toISOString()), title: '' });
  if (t1 !== t0) texts.push({ cls: 'axis', x: width - right, y: height - 8, anchor: 'end', text: formatTime(new Date(t1).toISOString()), title: '' });
  return { kind: 'timeline', width, height, label, rects: [], texts, lines, dots, path: null };
}

function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** One CBPE chunk as the chunk chart needs it (drift.json `performance.estimated.chunks[]`). */
export interface ChunkPoint {
  label: string;
  /** Shown on hover (e.g. the chunk's labelled rows). */
  detail: string;
  value: number | null;
  lower: number;
  upper: number;
  lowerThreshold: number | null;
  upperThreshold: number | null;
  alert: boolean;
  realized: number | null;
}

/**
 * CBPE per chunk, NannyML's plot: the estimate (line) with its ±3σ sampling band (bars), the
 * realized value where the chunk has labels, and the alert thresholds from the reference chunks.
 */
export function cbpeChunkChart(metric: string, points: ChunkPoint[], opts: { width?: number; height?: number } = {}): Chart {
  const width = opts.width ?? 1160;
  const height = opts.height ?? 180;
  const label = `${metric} per chunk: estimated (CBPE) with its ±3σ band, realized, reference thresholds`;
  const values = points.flatMap((p) => [p.value, p.realized, p.lower, p.upper, p.lowerThreshold, p.upperThreshold]).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return empty(width, 80, label, 'no estimate in any chunk');
  const left = 48, right = 16, top = 26, bottom = 28;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const yMin = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  const yMax = Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20);
  const yOf = (v: number) => r1(top + plotH - ((Math.max(yMin, Math.min(v, yMax)) - yMin) / (yMax - yMin || 1)) * plotH);
  const step = plotW / points.length;
  const xOf = (i: number) => r1(left + step * (i + 0.5));
  const lines: Line[] = [];
  const texts: Text[] = [];
  const rects: Rect[] = [];
  const dots: Dot[] = [];
  texts.push({ cls: 'chart-title', x: left, y: 14, anchor: 'start', text: metric, title: '' });
  texts.push({ cls: 'axis', x: width - right, y: 14, anchor: 'end', text: 'orange: estimated (bars ±3σ) · blue: realized · dashed: thresholds · ringed: alert', title: '' });
  for (const tick of [yMin, (yMin + yMax) / 2, yMax]) {
    lines.push({ cls: 'grid', x1: left, y1: yOf(tick), x2: width - right, y2: yOf(tick) });
    texts.push({ cls: 'axis', x: left - 6, y: yOf(tick) + 4, anchor: 'end', text: formatNumber(Number(tick.toPrecision(3))), title: '' });
  }
  for (const key of ['lowerThreshold', 'upperThreshold'] as const) {
    const v = points[0][key];
    if (v !== null) lines.push({ cls: 'threshold', x1: left, y1: yOf(v), x2: width - right, y2: yOf(v) });
  }
  const series = [
    { key: 'value', cls: 'q-estimated', name: 'estimated' },
    { key: 'realized', cls: 'q-realized', name: 'realized' },
  ] as const;
  points.forEach((p, i) => {
    const barW = Math.max(2, r1(step * 0.5));
    rects.push({ cls: 'q-band', x: r1(xOf(i) - barW / 2), y: yOf(p.upper), w: barW, h: r1(yOf(p.lower) - yOf(p.upper)), title: `${p.label} · ${p.detail} · ±3σ band ${formatNumber(p.lower)} – ${formatNumber(p.upper)}` });
  });
  for (const s of series) {
    let prev: { x: number; y: number } | null = null;
    points.forEach((p, i) => {
      const v = p[s.key];
      if (v === null || !Number.isFinite(v)) {
        prev = null;
        return;
      }
      const pt = { x: xOf(i), y: yOf(v) };
      if (prev !== null) lines.push({ cls: `q-line ${s.cls}`, x1: prev.x, y1: prev.y, x2: pt.x, y2: pt.y });
      const alert = s.key === 'value' && p.alert;
      dots.push({ cls: `q-dot ${s.cls}${alert ? ' q-alert' : ''}`, x: pt.x, y: pt.y, r: alert ? 5 : 3.5, title: `${p.label} · ${p.detail} · ${s.name} ${metric} ${formatNumber(v)}${alert ? ' · outside the reference thresholds' : ''}` });
      prev = pt;
    });
  }
  // Chunk labels: as many as fit.
  const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotW / 120))));
  points.forEach((p, i) => {
    if (i % every === 0) texts.push({ cls: 'axis', x: xOf(i), y: height - 8, anchor: 'middle', text: truncate(p.label, 22), title: p.label });
  });
  return { kind: 'timeline', width, height, label, rects, texts, lines, dots, path: null };
}
