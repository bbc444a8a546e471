import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { alertOf, DEFAULT_SCORE_THRESHOLD } from '../drift/alerting.ts';
import { UsageError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { startReplay } from '../services/demo/replay.ts';
import { createDriftSchedule } from '../services/schedule/drift-schedule.ts';
import { startInferenceServer } from '../services/http/server.ts';
import { startReportServer } from '../services/report-server/start.ts';
import { parseFlags, type Command } from './command.ts';
import { parseDuration, parsePort, parsePositiveInt, resolveInstanceId } from './flags.ts';
import { onShutdownSignal } from './signals.ts';

const HELP = `usage: sentinel demo [options]        (what "npm start" runs)

The whole pipeline on one machine: the inference API on the bundled model, the report server,
and a drift run every --every, while the demo's "live" traffic (UCI Adult rows whose education is
Some-college, HS-grad or Bachelors) is replayed against /predict. The reference is the other rows,
so the first report already shows drift. Ctrl-C stops everything.

options:
  --port N            inference API port (default 8080)
  --reports-port N    report server port (default 8081)
  --host ADDR         address both bind (default 127.0.0.1)
  --every DURATION    drift run interval (default 20s)
  --rate N            replayed rows per second (default 50)
  --label-delay DUR   the replayed rows' true classes are posted to /feedback this long after their
                      predictions (default 30s), so reports show realized beside estimated quality
  --label-share X     share of predictions that get a label, 0-1 (default 0.8; 0 = none)
  --since DURATION    drift window over the live log (default 10m)
  --model FILE        ONNX model (default models/model.onnx)
  --reference FILE    reference CSV (default data/reference.csv)
  --replay FILE       CSV replayed as live traffic (default data/current.csv)
  --log-dir DIR       prediction log (default data/live)
  --reports-dir DIR   reports (default reports)
`;

export const demoCommand: Command = async (argv, env) => {
  const { values } = parseFlags({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      'reports-port': { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      every: { type: 'string', default: '20s' },
      rate: { type: 'string', default: '50' },
      'label-delay': { type: 'string', default: '30s' },
      'label-share': { type: 'string', default: '0.8' },
      since: { type: 'string', default: '10m' },
      model: { type: 'string', default: 'models/model.onnx' },
      reference: { type: 'string', default: 'data/reference.csv' },
      replay: { type: 'string', default: 'data/current.csv' },
      'log-dir': { type: 'string', default: 'data/live' },
      'reports-dir': { type: 'string', default: 'reports' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const every = parseDuration(values.every, '--every');
  parseDuration(values.since, '--since');
  const rate = parsePositiveInt(values.rate, '--rate');
  const labelDelayMs = parseDuration(values['label-delay'], '--label-delay');
  const labelShare = Number(values['label-share']);
  if (!(values['label-share'].trim() !== '' && labelShare >= 0 && labelShare <= 1)) throw new UsageError(`--label-share must be a number from 0 to 1 (got "${values['label-share']}")`);
  const logDir = resolve(values['log-dir']);
  const reportsDir = resolve(values['reports-dir']);
  await mkdir(reportsDir, { recursive: true });

  const inference = await startInferenceServer({
    port: parsePort(values.port),
    host: values.host,
    modelPath: resolve(values.model),
    logDir,
    instanceId: resolveInstanceId(undefined, config.instanceId),
    logger,
  });
  const reports = await startReportServer({ port: parsePort(values['reports-port'], '--reports-port'), host: values.host, dir: reportsDir, logger }).catch(async (err) => {
    await inference.shutdown();
    throw err;
  });
  const labels = labelShare > 0 ? { column: inference.card.training?.target ?? 'class', delayMs: labelDelayMs, share: labelShare } : undefined;
  const replay = startReplay({ csv: resolve(values.replay), url: inference.url, card: inference.card, rate, logger, labels });
  const { scheduler, job } = createDriftSchedule({
    every,
    dir: reportsDir,
    // The card gives the log's columns their types; inferred types wobble on small windows.
    driftArgs: ['--reference', resolve(values.reference), '--current', logDir, '--since', values.since, '--model-card', join(dirname(resolve(values.model)), 'model.json')],
    env,
    logger,
    runAtStart: false,
  });
  // One readable line per run for the person watching the terminal (the JSON log has the details).
  scheduler.on('success', (o: { result?: { run_id?: string | null; drift_score?: number | null; dataset_drift?: boolean | null } }) => {
    const r = o.result;
    if (!r?.run_id || typeof r.drift_score !== 'number') return;
    const t = DEFAULT_SCORE_THRESHOLD;
    const { reason } = alertOf({ drift_score: r.drift_score, dataset_drift: r.dataset_drift ?? null }, t);
    const verdict = reason === 'DatasetDrift' ? `dataset drift: alerting` : reason === 'DriftScoreAboveThreshold' ? `above the ${t} alert threshold` : `below the ${t} alert threshold`;
    process.stdout.write(`drift run ${r.run_id}: drift_score ${r.drift_score.toFixed(3)} (${verdict}) — ${reports.url}/runs/${r.run_id}/report.html\n`);
  });
  scheduler.on('failure', (o: { error?: unknown }) => {
    process.stdout.write(`drift run failed: ${o.error instanceof Error ? o.error.message : String(o.error)}\n`);
  });
  scheduler.start();

  logger.info({ event: 'demo_listening', url: reports.url, predict_url: inference.url }, 'demo listening');
  process.stdout.write(
    `\nSentinelML demo is running (Ctrl-C stops it)\n` +
      `  predictions  POST ${inference.url}/predict     (OpenAPI: ${inference.url}/openapi.json)\n` +
      `  inference    ${inference.url}/metrics\n` +
      `  reports      ${reports.url}/                  (first drift run in ${values.every})\n` +
      `  drift gauges ${reports.url}/metrics\n` +
      `  replaying    ${values.replay} at ${rate} rows/s; prediction log in ${logDir}\n` +
      (labels ? `  labels       ${(labelShare * 100).toFixed(0)}% of the rows' true "${labels.column}" posted to /feedback ${values['label-delay']} after their prediction\n\n` : '\n'),
  );

  await new Promise<void>((res) => {
    onShutdownSignal((signal, count) => {
      if (count > 1) {
        logger.warn({ event: 'drift_run_aborting', signal }, 'aborting the current drift run');
        job.abort();
        return;
      }
      logger.info({ event: 'demo_stopping', signal, replayed: replay.stats() }, 'stopping the demo');
      void (async () => {
        await replay.stop();
        await scheduler.stop();
        await Promise.all([job.close(), inference.shutdown(), reports.shutdown()]);
        res();
      })();
    });
  });
  return 0;
};
