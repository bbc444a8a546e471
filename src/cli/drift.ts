/**
 * `sentinel drift`: one drift run (docs/drift.md). Exit 0 when the run completed (drift or not);
 * otherwise one line on stderr and a non-zero exit (2: bad flags, 1: the run could not be done).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadConfig, type EnvConfig } from '../config.ts';
import { InputError, SentinelError, UsageError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { cbpeChunkingProblem, runDriftJob, type DriftJobOptions, type DriftJobOutcome, type DriftProgress } from '../services/run/drift-run.ts';
import type { CbpeChunking, ColumnDrift, DriftResult } from '../drift/result.ts';
import { EXIT_USAGE, isUsageError, messageOf, reportFailure, type Command } from './command.ts';
import { alarmOptionsProblem, type AlarmMode, type AlarmOptions } from '../drift/alarms.ts';
import { describeProblems, driftOptionsFromSpec, parseMonitorRef, validateMonitorSpec } from '../services/k8s/spec.ts';

export const DRIFT_HELP = `usage: sentinel drift --reference FILE.csv --current PATH [options]
       sentinel drift --monitor NAMESPACE/NAME [options]

Compares the current data (a prediction-log directory, every *.csv in it, or a plain CSV) with the
reference CSV, column by column, with Evidently's tests and defaults. Writes DIR/<run-id>/drift.json,
DIR/<run-id>/report.html and DIR/latest.json, and prints a per-column table.

With --monitor the run follows that ModelMonitor's spec, read through the Kubernetes API at run time
(reference, prediction log, model card, window, tests, thresholds, retention), and publishes its
outcome to the ModelMonitor's status; flags given as well override the spec.

options:
  --monitor NS/NAME      run as the ModelMonitor NAME in namespace NS describes (what the operator's
                         CronJob runs; needs cluster access: in-cluster ServiceAccount or kubeconfig)
  --data-root DIR        with --monitor: where the monitor's claim is mounted (default /data)
  --reference-root DIR   with --monitor: where its reference ConfigMap is mounted (default /reference)
  --reference FILE       reference dataset (CSV with a header row)            (required without --monitor)
  --current PATH         prediction-log directory or CSV file                 (required without --monitor)
  --out DIR              report directory (default: reports)
  --since DURATION       only current rows with timestamp >= now - DURATION (24h, 30m, 7d)
  --stattest NAME        one test for every feature column (ks, chisquare, z, wasserstein,
                         jensenshannon, psi, kl_div, hellinger, ...); default: Evidently's choice
  --column-stattest C=NAME  test for one column (repeatable)
  --threshold X          threshold for every column (default: the test's own)
  --column-threshold C=X threshold for one column (repeatable)
  --drift-share X        dataset drift when the share of drifted columns >= X (default 0.5)
  --alarm-mode MODE      how verdicts are decided (default evidently: Evidently's thresholds and
                         drift-share rule). chunks: thresholds from reference chunks (mean + k*sd);
                         bootstrap | permutation: null-quantile thresholds; bonferroni | bh:
                         corrected p-values. Every mode but evidently: dataset drift when any
                         column drifts, with a dataset false-alarm rate <= --alarm-alpha
  --column-alarm-mode C=MODE  mode for one column (repeatable)
  --alarm-alpha X        dataset-level false-alarm target of the alarm modes (default 0.05)
  --alarm-k K            chunks: threshold = mean + K*sd of the chunk statistics (default 3)
  --alarm-quantile Q     chunks: use the Q quantile of the chunk statistics instead
  --alarm-chunk-size N   chunks: rows per reference chunk (default: the current window's size)
  --alarm-chunk-period DURATION  chunks: time chunks of the reference's timestamp column
                         (1d, 12h, 7d; fixed periods from the epoch, UTC) instead of row counts
  --alarm-chunk-against rest|all  chunks: compare each chunk with the rest of the reference
                         (default) or all of it (NannyML)
  --alarm-chunk-floor bootstrap|none  chunks: never below the bootstrap null's threshold at
                         the window's size (default; bounds the dataset false-alarm rate) or
                         NannyML's mean + K*sd alone (none: no bound)
  --alarm-resamples N    bootstrap/permutation resamples (default 500)
  --alarm-seed N         resampling seed (default 0)
  --columns a,b,...      compare only these columns
  --model-card FILE      column types from a model card (default: <current>/model.json if present,
                         else types are inferred as Evidently does)
  --labels DIR           ground-truth labels of POST /feedback (default: <current>/labels); with a
                         model card, predictions are joined to them by request id (model quality)
  --label-delay DURATION labels received up to DURATION after the window's end count (default: all)
  --target COLUMN        reference column with the true class (default: the card's training.target)
  --cbpe-chunk-size N    CBPE also per chunk of N window rows in time order (NannyML chunk_size);
                         the reference in chunks of N gives each chunk's band
  --cbpe-chunk-number N  ... or N chunks (NannyML chunk_number), the reference in N chunks too
  --cbpe-chunk-period D  ... or one chunk per period D (1d, 6h; NannyML chunk_period; needs
                         timestamps in the window and a "timestamp" column in the reference)
  --no-compat            corrected tests where Evidently's have known flaws (see docs/drift.md);
                         the default of the calibrated alarm modes, whose columns otherwise run them
  --compat               Evidently's tests in every column, the calibrated alarm modes' too
  --workers N            threads for the column tests and the reference read (default: CPU
                         count when over 32 MiB of CSV is parsed, else 0 = none)
  --no-cache             do not use or write the caches in DIR/.cache (reference profile, log files,
                         CBPE's reference fit)
  --no-log-cache         parse every file of a log directory (keep the reference-profile cache)
  --keep-last N          retention: keep only the N newest runs in DIR (default: keep all)
  --json                 print drift.json to stdout instead of the table
  --quiet                no progress on stderr
  -h, --help             this help
`;

function usageError(message: string): never {
  throw new UsageError(message);
}

function parsePairs(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.lastIndexOf('=');
    if (i <= 0 || i === v.length - 1) usageError(`${flag} takes COLUMN=VALUE (got "${v}")`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function parseNumber(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) usageError(`${flag} must be a number (got "${text}")`);
  return n;
}

/** Parses the flags into job options; throws InputError('usage') for a bad command line. */
export interface ParsedDriftArgs {
  help: false;
  json: boolean;
  quiet: boolean;
  /** Without --monitor: complete. With it: only what the flags set (the spec fills in the rest). */
  options: DriftJobOptions;
  monitor?: { namespace: string; name: string };
  roots: { dataRoot?: string; referenceRoot?: string };
  /** Option names given on the command line (they win over the spec). */
  given: Set<string>;
}

export function parseDriftArgs(argv: string[]): { help: true } | ParsedDriftArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        monitor: { type: 'string' },
        'data-root': { type: 'string' },
        'reference-root': { type: 'string' },
        reference: { type: 'string' },
        current: { type: 'string' },
        out: { type: 'string' },
        since: { type: 'string' },
        stattest: { type: 'string' },
        'column-stattest': { type: 'string', multiple: true },
        threshold: { type: 'string' },
        'column-threshold': { type: 'string', multiple: true },
        'drift-share': { type: 'string' },
        columns: { type: 'string' },
        'alarm-mode': { type: 'string' },
        'column-alarm-mode': { type: 'string', multiple: true },
        'alarm-alpha': { type: 'string' },
        'alarm-k': { type: 'string' },
        'alarm-quantile': { type: 'string' },
        'alarm-chunk-size': { type: 'string' },
        'alarm-chunk-against': { type: 'string' },
        'alarm-chunk-period': { type: 'string' },
        'alarm-chunk-floor': { type: 'string' },
        'alarm-resamples': { type: 'string' },
        'alarm-seed': { type: 'string' },
        'model-card': { type: 'string' },
        labels: { type: 'string' },
        'label-delay': { type: 'string' },
        target: { type: 'string' },
        'cbpe-chunk-size': { type: 'string' },
        'cbpe-chunk-number': { type: 'string' },
        'cbpe-chunk-period': { type: 'string' },
        'no-compat': { type: 'boolean', default: false },
        compat: { type: 'boolean', default: false },
        workers: { type: 'string' },
        'no-cache': { type: 'boolean', default: false },
        'keep-last': { type: 'string' },
        'no-log-cache': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    usageError((err as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  let monitor: { namespace: string; name: string } | undefined;
  if (v.monitor !== undefined) {
    try {
      monitor = parseMonitorRef(v.monitor);
    } catch (err) {
      usageError((err as Error).message);
    }
  } else {
    if (v.reference === undefined) usageError('--reference FILE.csv is required');
    if (v.current === undefined) usageError('--current PATH is required');
    for (const f of ['data-root', 'reference-root'] as const) if (v[f] !== undefined) usageError(`--${f} needs --monitor`);
  }
  const columnThresholds = Object.fromEntries(Object.entries(parsePairs(v['column-threshold'], '--column-threshold')).map(([k, x]) => [k, parseNumber(x, '--column-threshold')]));
  let workers: number | undefined;
  if (v.workers !== undefined) {
    if (!/^\d+$/.test(v.workers)) usageError(`--workers must be a whole number (got "${v.workers}")`);
    workers = Number(v.workers);
  }
  let keepLast: number | undefined;
  if (v['keep-last'] !== undefined) {
    if (!/^\d+$/.test(v['keep-last']) || Number(v['keep-last']) < 1) usageError(`--keep-last must be a whole number >= 1 (got "${v['keep-last']}")`);
    keepLast = Number(v['keep-last']);
  }
  const columns = v.columns === undefined ? undefined : v.columns.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (columns !== undefined && columns.length === 0) usageError('--columns needs at least one column name');
  const num = (flag: string): number | undefined => (v[flag as keyof typeof v] === undefined ? undefined : parseNumber(v[flag as keyof typeof v] as string, `--${flag}`));
  const whole = (flag: string): number | undefined => {
    const x = v[flag as keyof typeof v] as string | undefined;
    if (x === undefined) return undefined;
    if (!/^\d+$/.test(x)) usageError(`--${flag} must be a whole number (got "${x}")`);
    return Number(x);
  };
  const alarm: AlarmOptions = {
    mode: v['alarm-mode'] as AlarmMode | undefined,
    perColumnMode: parsePairs(v['column-alarm-mode'], '--column-alarm-mode') as Record<string, AlarmMode>,
    alpha: num('alarm-alpha'),
    k: num('alarm-k'),
    quantile: num('alarm-quantile'),
    chunkSize: whole('alarm-chunk-size'),
    chunkAgainst: v['alarm-chunk-against'] as 'rest' | 'all' | undefined,
    chunkPeriod: v['alarm-chunk-period'],
    resamples: whole('alarm-resamples'),
    seed: whole('alarm-seed'),
    // only when given, so that the options object of a run without it is unchanged
    ...(v['alarm-chunk-floor'] !== undefined ? { chunkFloor: v['alarm-chunk-floor'] as 'bootstrap' | 'none' } : {}),
  };
  const cbpeGiven = (['cbpe-chunk-size', 'cbpe-chunk-number', 'cbpe-chunk-period'] as const).filter((f) => v[f] !== undefined);
  if (cbpeGiven.length > 1) usageError(`give one of ${cbpeGiven.map((f) => `--${f}`).join(', ')}, not several`);
  const cbpeChunking: CbpeChunking | undefined =
    v['cbpe-chunk-size'] !== undefined
      ? { method: 'size', size: whole('cbpe-chunk-size') }
      : v['cbpe-chunk-number'] !== undefined
        ? { method: 'number', number: whole('cbpe-chunk-number') }
        : v['cbpe-chunk-period'] !== undefined
          ? { method: 'period', period: v['cbpe-chunk-period'] }
          : undefined;
  const chunkProblem = cbpeChunkingProblem(cbpeChunking);
  if (chunkProblem !== null) usageError(chunkProblem);
  const alarmProblem = alarmOptionsProblem(alarm);
  if (alarmProblem !== null) usageError(alarmProblem);
  if (v.compat && v['no-compat']) usageError('--compat and --no-compat contradict each other; give one');
  const given = new Set<string>();
  const flagToOption: Record<string, string> = {
    reference: 'reference', current: 'current', out: 'out', since: 'since', stattest: 'stattest', 'column-stattest': 'perColumnStattest',
    threshold: 'threshold', 'column-threshold': 'perColumnThreshold', 'drift-share': 'driftShare', columns: 'columns', 'model-card': 'modelCard',
    'no-compat': 'compat', compat: 'compat', workers: 'workers', 'keep-last': 'keepLast',
    'cbpe-chunk-size': 'cbpeChunking', 'cbpe-chunk-number': 'cbpeChunking', 'cbpe-chunk-period': 'cbpeChunking',
    // Any alarm flag replaces the spec's alarm settings as a whole.
    'alarm-mode': 'alarm', 'column-alarm-mode': 'alarm', 'alarm-alpha': 'alarm', 'alarm-k': 'alarm', 'alarm-quantile': 'alarm',
    'alarm-chunk-size': 'alarm', 'alarm-chunk-against': 'alarm', 'alarm-chunk-period': 'alarm', 'alarm-chunk-floor': 'alarm', 'alarm-resamples': 'alarm', 'alarm-seed': 'alarm',
  };
  for (const [flag, option] of Object.entries(flagToOption)) {
    const value = (v as Record<string, unknown>)[flag];
    if (value !== undefined && value !== false) given.add(option);
  }
  return {
    help: false,
    json: v.json,
    quiet: v.quiet,
    monitor,
    roots: { dataRoot: v['data-root'], referenceRoot: v['reference-root'] },
    given,
    options: {
      reference: v.reference ?? '',
      current: v.current ?? '',
      out: v.out ?? 'reports',
      since: v.since,
      stattest: v.stattest,
      perColumnStattest: parsePairs(v['column-stattest'], '--column-stattest'),
      threshold: v.threshold === undefined ? undefined : parseNumber(v.threshold, '--threshold'),
      perColumnThreshold: columnThresholds,
      driftShare: v['drift-share'] === undefined ? undefined : parseNumber(v['drift-share'], '--drift-share'),
      columns,
      modelCard: v['model-card'],
      labels: v.labels,
      labelDelay: v['label-delay'],
      target: v.target,
      cbpeChunking,
      // undefined: Evidently's tests in `evidently` mode, the corrected ones in the calibrated modes (columnCompat)
      compat: v.compat ? true : v['no-compat'] ? false : undefined,
      workers,
      cache: !v['no-cache'],
      keepLast,
      alarm,
      logCache: !v['no-log-cache'],
    },
  };
}

function fmt(x: number | null, digits = 4): string {
  if (x === null) return '-';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(2);
  return x.toFixed(digits);
}

/** The per-column summary table and the run summary (plain text). */
export function renderDriftTable(outcome: DriftJobOutcome): string {
  const r = outcome.result;
  const withMode = r.alarm !== undefined;
  const rows: string[][] = [['column', 'type', 'stattest', ...(withMode ? ['mode'] : []), 'threshold', 'stattest score', 'distance', 'drift', ...(withMode ? ['evidently'] : [])]];
  const line = (c: ColumnDrift, label = c.name): string[] => [
    label,
    c.type,
    c.stattest || '-',
    ...(withMode ? [c.alarm === undefined ? 'evidently' : `${c.alarm.mode}${c.alarm.tests === 'corrected' ? ' (corrected)' : ''}`] : []),
    Number.isFinite(c.threshold) ? String(Number(c.threshold.toPrecision(6))) : '-',
    fmt(c.stattest_score),
    fmt(c.score),
    (c.error !== null ? `error: ${c.error.code}` : c.drift_detected ? 'DRIFT' : 'no') + (c.share_verdict !== undefined ? '*' : ''),
    ...(withMode ? [c.alarm === undefined ? '' : c.alarm.evidently_error !== undefined ? 'error' : `${c.alarm.evidently_drift ? 'DRIFT' : 'no'} at ${c.alarm.evidently_threshold}`] : []),
  ];
  for (const c of r.columns) rows.push(line(c));
  if (r.prediction !== null) rows.push(line(r.prediction, `${r.prediction.name} (prediction)`));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  const errors = [...r.columns, ...(r.prediction === null ? [] : [r.prediction])].filter((c) => c.error !== null).map((c) => `  ${c.name}: ${c.error!.message}`);
  // Compat: the share counted Evidently's legacy verdict for these (±inf; drift/legacy-share.ts).
  const shareNotes = r.columns.filter((c) => c.share_verdict !== undefined).map((c) => `  * ${c.name}: the share counts ${c.share_verdict!.drift_detected ? 'DRIFT' : 'no drift'}: ${c.share_verdict!.reason}`);
  const entries = r.current.skipped_entries ?? [];
  const skipped = Object.entries(outcome.current.skipped).map(([k, n]) => `${n} ${k}`).join(', ');
  const summary = [
    `dataset drift: ${r.dataset_drift ? 'YES' : 'no'} (${r.drifted_columns} of ${r.tested_columns} columns drifted, share ${r.drift_share.toFixed(3)} ${r.dataset_drift ? '>=' : '<'} ${r.drift_share_threshold}); drift score ${r.drift_score.toFixed(4)}`,
    ...(r.alarm !== undefined ? [`alarm mode: ${r.alarm.mode}${Object.keys(r.alarm.per_column_mode).length > 0 ? ` (per column: ${Object.entries(r.alarm.per_column_mode).map(([k, m]) => `${k}=${m}`).join(', ')})` : ''}; dataset drift when any column drifts; alpha ${r.alarm.alpha}`] : []),
    `current: ${r.current.rows} rows from ${r.current.files} file(s)${r.window.since !== null ? ` in the last ${r.window.since}` : ''}${r.window.from !== null ? ` (${r.window.from} .. ${r.window.to})` : ''}; ${r.current.torn_lines} torn line(s), ${r.current.skipped_rows} skipped row(s)${skipped ? ` (${skipped})` : ''}${entries.length > 0 ? `; ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} skipped, not regular files: ${entries.map((e) => `${e.name} (${e.reason})`).join(', ')}` : ''}`,
    `reference: ${r.reference.rows} rows; profile cache: ${outcome.cache.status}${outcome.cache.file !== null ? ` (${outcome.cache.file})` : ''}; column workers: ${outcome.workers}`,
    ...performanceLines(r),
    outcome.logCache !== null ? `log-file cache: ${outcome.logCache.cached} of ${outcome.logCache.files} file(s) from the cache, ${outcome.logCache.parsed} parsed, ${outcome.logCache.written} stored${outcome.logCache.fullRead ? '; the files disagree on a column type: read in full' : ''}` : '',
    outcome.runDir !== null ? `report: ${join(outcome.runDir, 'report.html')}` : '',
  ].filter((s) => s !== '');
  return `${table}\n${errors.length > 0 ? `column errors:\n${errors.join('\n')}\n` : ''}${shareNotes.length > 0 ? `${shareNotes.join('\n')}\n` : ''}\n${summary.join('\n')}\n`;
}

/**
 * The calibrated columns' `alarm.note`s (chunk sizes far from the window, merged time chunks, the
 * bootstrap fallback), each distinct note once with the columns it applies to.
 */
export function alarmNoteLines(r: DriftJobOutcome['result']): string[] {
  const byNote = new Map<string, string[]>();
  for (const c of [...r.columns, ...(r.prediction === null ? [] : [r.prediction])]) {
    const note = c.alarm?.note;
    if (note === undefined) continue;
    byNote.set(note, [...(byNote.get(note) ?? []), c.name]);
  }
  return [...byNote].map(([note, names]) => `alarm note (${names.length === 1 ? names[0] : `${names.length} columns: ${names.join(', ')}`}): ${note}`);
}

function performanceLines(r: DriftJobOutcome['result']): string[] {
  const p = r.performance;
  if (p === undefined) return [];
  const m = (x: { accuracy: number; f1_macro: number; roc_auc: number | null } | null) => (x === null ? '-' : `accuracy ${fmt(x.accuracy)}, F1 macro ${fmt(x.f1_macro)}, ROC AUC ${fmt(x.roc_auc)}`);
  const est = p.estimated === null ? `estimate: - (${p.estimated_unavailable})` : `estimated (CBPE): ${Object.entries(p.estimated.metrics).map(([k, e]) => `${k} ${fmt(e.value)}${e.alert ? ' ALERT' : ''}`).join(', ')}`;
  const lines = [
    `model quality: ${p.join.labelled} of ${p.join.predictions} predictions labelled (coverage ${(p.join.coverage * 100).toFixed(1)}%), ${p.join.unmatched_labels} unmatched label(s); realized: ${m(p.current)}; reference: ${m(p.reference)}`,
    `  ${est}`,
  ];
  if (p.probabilities_unavailable) lines.push(`  ROC AUC and log loss: - (${p.probabilities_unavailable})`);
  const chunks = p.estimated?.chunks;
  if (chunks != null) {
    const alerts = chunks.filter((c) => Object.values(c.metrics).some((e) => e.alert)).length;
    lines.push(`  CBPE per chunk: ${chunks.length} chunk(s), ${alerts} with an estimate outside the reference thresholds (drift.json performance.estimated.chunks)`);
  } else if (p.estimated?.chunks_unavailable) lines.push(`  CBPE per chunk: - (${p.estimated.chunks_unavailable})`);
  return lines;
}

/** Progress on stderr, at most once a second and only once the run has taken a second. */
function progressPrinter(write: (s: string) => void): (p: DriftProgress) => void {
  const start = Date.now();
  let last = 0;
  return (p) => {
    const now = Date.now();
    const final = p.phase === 'columns' && p.columnsDone === p.columnsTotal;
    if (now - start < 1000 || (now - last < 1000 && !final)) return;
    last = now;
    if (p.phase === 'columns') write(`drift: columns ${p.columnsDone}/${p.columnsTotal} done\n`);
    else write(`drift: ${p.phase} data: ${p.rowsRead} rows read\n`);
  };
}

export const driftCommand: Command = async (argv, env) => {
  let parsed;
  try {
    parsed = parseDriftArgs(argv);
  } catch (err) {
    process.stderr.write(`sentinel drift: ${(err as Error).message.split('\n')[0]}\n`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    process.stdout.write(DRIFT_HELP);
    return 0;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    return reportFailure('drift', err);
  }
  const logger = createLogger({ level: config.logLevel });
  // Where the outcome is published: the --monitor, else the chart's operator-less env.
  const target = parsed.monitor ?? (config.monitorNamespace && config.monitorName ? { namespace: config.monitorNamespace, name: config.monitorName } : undefined);
  try {
    let options = parsed.options;
    if (parsed.monitor !== undefined) {
      const fromSpec = await optionsFromMonitor(parsed.monitor, parsed.roots);
      // Flags given on the command line win over the spec.
      const flags = Object.fromEntries(Object.entries(parsed.options).filter(([k]) => parsed.given.has(k)));
      options = { ...parsed.options, ...fromSpec, ...flags };
    }
    const outcome = await runDriftJob({
      ...options,
      logger,
      onProgress: parsed.quiet ? undefined : progressPrinter((s) => process.stderr.write(s)),
    });
    await publishStatus(target, config, logger, { result: outcome.result });
    for (const line of alarmNoteLines(outcome.result)) process.stderr.write(`sentinel drift: ${line}\n`);
    process.stdout.write(parsed.json ? JSON.stringify(outcome.result, null, 2) + '\n' : renderDriftTable(outcome));
    return 0;
  } catch (err) {
    const unreadable = err instanceof SentinelError && err.code === 'monitor_unreadable';
    if (!isUsageError(err) && !unreadable) await publishStatus(target, config, logger, { failure: { message: messageOf(err) } });
    return reportFailure('drift', err);
  }
};

/** The run a ModelMonitor's spec describes, read through the API; an invalid spec is an InputError. */
async function optionsFromMonitor(ref: { namespace: string; name: string }, roots: { dataRoot?: string; referenceRoot?: string }) {
  // Loaded here so that the Kubernetes client stays out of runs that do not talk to a cluster.
  const { readModelMonitor } = await import('../services/k8s/status.ts');
  let monitor;
  try {
    monitor = await readModelMonitor(ref);
  } catch (err) {
    throw new SentinelError('monitor_unreadable', (err as Error).message, { cause: err });
  }
  const problems = validateMonitorSpec(monitor.spec);
  if (problems.length > 0) throw new InputError('invalid_spec', `ModelMonitor ${ref.namespace}/${ref.name} has an invalid spec: ${describeProblems(problems)}`);
  return driftOptionsFromSpec(monitor.spec, roots);
}

/**
 * In a cluster (--monitor, or SENTINEL_MONITOR_NAMESPACE / _NAME in the operator-less chart) the
 * run's outcome goes to the ModelMonitor status and an Event. Never fails the run: without cluster
 * access it logs one line.
 */
async function publishStatus(target: { namespace: string; name: string } | undefined, config: EnvConfig, logger: Logger, run: { result?: DriftResult; failure?: { message: string } }): Promise<void> {
  if (target === undefined) return;
  // Loaded here so that the Kubernetes client stays out of runs that do not report to a cluster.
  const { publishRunStatus } = await import('../services/k8s/status.ts');
  await publishRunStatus({ namespace: target.namespace, name: target.name, instance: config.instanceId, logger, ...run });
}
