// @needs-tools: helm, etcd, kube-apiserver, kubelet, kubectl, node images, prometheus-operator images
// The chart's alerts the way users meet them: through prometheus-operator, on the real single-node
// cluster (test/support/kube-node.ts) with the monitoring stack of test/support/kube-monitoring.ts
// (operator, Prometheus and Alertmanager in pods from images built here; the Prometheus selects by
// `release: kube-prometheus-stack` like kube-prometheus-stack does, so the chart's default
// `additionalLabels` are what is tested). After `helm install` of the chart:
//   - the operator-generated scrape jobs find the inference API, the report server and the operator
//     `up`, with the operator's labels (job, namespace, pod, service); every rule of the chart's
//     PrometheusRule is loaded and evaluates without error;
//   - drifted traffic (the demo's live split) → a drift run (`kubectl create job --from=cronjob`) →
//     SentinelDriftScoreHigh, SentinelDatasetDrift, SentinelFeatureDrift at the webhook; reference-like
//     traffic → a run that resolves them;
//   - the health alerts under their faults: no rows in the run's window → a failed run
//     (SentinelDriftRunsFailing) and no successful run for 3 periods (SentinelDriftJobStale); a full
//     disk under the prediction log → 503s (SentinelPredictionLogWriteFailures,
//     SentinelInferenceErrorRate);
//   - every panel query of the dashboards (as installed in their ConfigMaps) returns data from this
//     Prometheus, and their variables resolve.
// Timing knobs are chart values (scrape interval, drift window, schedule period, `for`, rate windows);
// the rules' expressions are the chart's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import { findTool } from '../support/kube-apiserver.ts';
import { acquireLock, hostSnapshot, NODE_NAME, startKubeNode, type KubeNode } from '../support/kube-node.ts';
import { startMonitoring, type Monitoring, type WebhookCall } from '../support/kube-monitoring.ts';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { waitFor } from '../support/wait.ts';
import { runCronJobOnce } from '../support/kube-jobs.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(REPO, 'charts', 'sentinelml');
const CURRENT = join(REPO, 'data', 'current.csv');
const REFERENCE = join(REPO, 'data', 'reference.csv');
const APP_VERSION = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'))![1];
const NS = 'sentinel-mon';
const RELEASE = 'sentinelml';
const ROWS = 2000;
/** Drift runs compare the rows of this trailing window: the drifted rows must have left it for the failing and resolving runs. */
const WINDOW_S = 75;
/** drift.schedulePeriodSeconds: SentinelDriftJobStale after 3 periods (60 s), SentinelDriftRunsFailing looks back 2 (40 s). */
const PERIOD_S = 20;
const VALUES = [
  '--set', 'serviceMonitor.interval=5s', '--set', 'serviceMonitor.scrapeTimeout=4s',
  // The CronJob never fires by itself during the test: runs are `kubectl create job --from`.
  '--set', 'drift.suspend=true', '--set', `drift.schedulePeriodSeconds=${PERIOD_S}`, '--set', `drift.since=${WINDOW_S}s`,
  // In the default (Evidently) alarm mode this split drifts fewer than half the columns (6 of 15 over
  // 2,000 CSV rows): no dataset drift (correctly). In `bh` (Benjamini-Hochberg) any drifted column is.
  '--set', 'drift.alarms.mode=bh',
  '--set', 'prometheusRule.alerts.SentinelDriftJobStale.for=0m',
  '--set', 'prometheusRule.alerts.SentinelInferenceErrorRate.window=1m', '--set', 'prometheusRule.alerts.SentinelInferenceErrorRate.for=0m',
  '--set', 'prometheusRule.alerts.SentinelPredictionLogWriteFailures.window=1m',
];

let node: KubeNode;
let mon: Monitoring;
let helm: string;
let hostBefore: Record<string, unknown>;
let volume = '';

type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
const parse = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o && typeof o.kind === 'string');

before(async () => {
  // Hold the machine first, so that another run's live cluster is not in the host snapshot (taking the
  // lock also cleans a crashed earlier run).
  await acquireLock();
  hostBefore = hostSnapshot();
  node = await startKubeNode();
  helm = findTool('helm', 'run `bash scripts/provision.sh helm`');
  await node.importImage(node.images.appArchive, node.images.appImage, [`ghcr.io/sentinelml/sentinelml:${APP_VERSION}`]);
  mon = await startMonitoring(node);
}, { timeout: 900_000 });
after(async () => {
  await mon?.stop();
  if (volume) spawnSync('umount', ['-l', volume]);
  await node?.stop();
  if (node) assert.deepEqual(hostSnapshot(), hostBefore);
}, { timeout: 120_000 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getJson = async (args: string[]) => JSON.parse((await node.kubectl([...args, '-o', 'json'])).stdout);

const runDriftJob = (cronJob: string, name: string) => runCronJobOnce(node, NS, cronJob, name);

/** The first webhook notification (after `since`) carrying an alert of `name` in `status` that passes `match`. */
function notified(name: string, status: 'firing' | 'resolved', since: number, match: (a: WebhookCall['body']['alerts'][number]) => boolean = () => true) {
  for (const c of mon.webhook.calls) {
    if (c.at < since) continue;
    const a = c.body.alerts.filter((x) => x.labels.alertname === name && x.status === status && match(x));
    if (a.length) return { at: c.at, alerts: a };
  }
  return undefined;
}
const waitNotified = (name: string, status: 'firing' | 'resolved', since: number, timeoutMs: number, match?: (a: WebhookCall['body']['alerts'][number]) => boolean) =>
  waitFor(`${name} ${status} at the webhook`, timeoutMs, async () => notified(name, status, since, match))
    .catch(async (e) => { throw new Error(`${(e as Error).message}\nalerts in Prometheus: ${JSON.stringify((await mon.api('/api/v1/alerts')).alerts.map((a: any) => [a.labels.alertname, a.state]))}\nwebhook: ${JSON.stringify(mon.webhook.calls.map((c) => c.body.alerts.map((a) => `${a.labels.alertname}:${a.status}`)))}`); });

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  try { return { status: r.status, body: JSON.parse(text) }; } catch { return { status: r.status, body: text }; }
}

test('the chart under prometheus-operator: targets, rules, drift and health alerts at the webhook, dashboards', { timeout: 2_400_000 }, async (t) => {
  // ---- install: a restricted namespace, a local volume on a small tmpfs (so the disk can be filled) ----
  await node.kubectl(['create', 'namespace', NS]);
  await node.kubectl(['label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted']);
  const rendered = parse((await node.exec(helm, ['template', RELEASE, CHART, '-n', NS, '--kube-version=1.35.4', ...VALUES])).stdout);
  const pvc = rendered.find((o) => o.kind === 'PersistentVolumeClaim')!;
  volume = join(node.dir, 'volumes', 'monitoring');
  mkdirSync(volume, { recursive: true });
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96m,mode=0755', 'tmpfs', volume]).status, 0, 'mount a tmpfs for the volume');
  await node.kubectl(['apply', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'sentinel-mon-data' },
    spec: {
      capacity: { storage: '10Gi' }, accessModes: pvc.spec.accessModes, persistentVolumeReclaimPolicy: 'Retain', storageClassName: '', local: { path: volume },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] }] } },
      claimRef: { namespace: NS, name: pvc.metadata.name },
    },
  }) });
  await node.exec(helm, ['install', RELEASE, CHART, '-n', NS, '--wait', '--timeout=8m', ...VALUES], { timeoutMs: 600_000 });
  const one = async (kind: string, component: string) => {
    const items = (await getJson(['get', kind, '-n', NS, '-l', `app.kubernetes.io/component=${component}`])).items;
    assert.equal(items.length, 1, `one ${kind} ${component}`);
    return items[0];
  };
  const inferenceSvc = await one('service', 'inference');
  const reportsSvc = (await one('service', 'reports')).metadata.name as string;
  const operatorSvc = (await one('service', 'operator')).metadata.name as string;
  const cronJob = (await getJson(['get', 'cronjob', '-n', NS])).items[0].metadata.name as string;
  const predictUrl = `http://${inferenceSvc.spec.clusterIP}:${inferenceSvc.spec.ports[0].port}/predict`;
  const inferenceName = inferenceSvc.metadata.name as string;
  const rule = rendered.find((o) => o.kind === 'PrometheusRule')!;
  const ruleNames: string[] = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
  const base = (a: WebhookCall['body']['alerts'][number]) => a.labels.namespace === NS;

  await t.test('Prometheus scrapes the inference API, the report server and the operator with the operator\'s labels', async () => {
    const targets = await waitFor('the chart\'s targets up', 240_000, async () => {
      const d = await mon.api('/api/v1/targets?state=active');
      const ours = d.activeTargets.filter((x: any) => x.labels.namespace === NS);
      return ours.length === 3 && ours.every((x: any) => x.health === 'up') ? ours : undefined;
    });
    const pods = (await getJson(['get', 'pods', '-n', NS])).items;
    for (const [svc, component] of [[inferenceName, 'inference'], [reportsSvc, 'reports'], [operatorSvc, 'operator']]) {
      const tg = targets.find((x: any) => x.labels.service === svc);
      assert.ok(tg, `a target for Service ${svc}: ${JSON.stringify(targets.map((x: any) => x.labels))}`);
      const pod = pods.find((p: any) => p.metadata.labels['app.kubernetes.io/component'] === component && !p.metadata.deletionTimestamp);
      // The operator's labels: job = the Service name (no jobLabel set), the pod, its namespace, the endpoint port.
      assert.equal(tg.labels.job, svc);
      assert.equal(tg.labels.namespace, NS);
      assert.equal(tg.labels.pod, pod.metadata.name);
      assert.equal(tg.labels.endpoint, 'http');
      assert.equal(tg.scrapeUrl, `http://${pod.status.podIP}:${pod.spec.containers[0].ports[0].containerPort}/metrics`);
      assert.match(tg.scrapePool, new RegExp(`^serviceMonitor/${NS}/`));
    }
    const up = await mon.query(`up{namespace="${NS}"}`);
    assert.deepEqual(up.map((s) => s.value[1]), ['1', '1', '1']);
  });

  await t.test('every rule of the chart\'s PrometheusRule is loaded and evaluates without error', async () => {
    const loaded = await waitFor('the chart\'s rules loaded and evaluated', 240_000, async () => {
      const d = await mon.api('/api/v1/rules');
      const rules = d.groups.filter((g: any) => g.file.includes(`${NS}-${rule.metadata.name}`)).flatMap((g: any) => g.rules);
      return rules.length === ruleNames.length && rules.every((r: any) => r.health !== 'unknown') ? rules : undefined;
    });
    assert.deepEqual(loaded.map((r: any) => r.name).sort(), [...ruleNames].sort());
    for (const r of loaded) {
      assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
      assert.equal(r.lastError ?? '', '', r.name);
    }
    t.diagnostic(`${loaded.length} rules: ${loaded.map((r: any) => r.name).join(', ')}`);
  });

  // ---- drifted traffic: the demo's live split, with the true classes posted as feedback ----
  const card = bundledCard();
  const send = async (csv: string) => {
    const rows = featureRowsFrom(csv, card, ROWS);
    const classes = (parseCsv(readFileSync(csv), { columns: true, to: ROWS }) as Record<string, string>[]).map((r) => r.class);
    for (let i = 0; i < rows.length; i += 250) {
      const r = await postJson(predictUrl, { instances: rows.slice(i, i + 250) });
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
      // and an invalid one now and then (the dashboards' 4xx panels)
      assert.equal((await postJson(predictUrl, { features: { ...rows[i], age: 'old' } })).status, 422);
      const fb = await postJson(predictUrl.replace('/predict', '/feedback'), { instances: r.body.predictions.map((p: any, k: number) => ({ request_id: p.id, label: classes[i + k] })) });
      assert.equal(fb.status, 200, JSON.stringify(fb.body).slice(0, 500));
    }
  };
  const latestRun = () => {
    const latest = JSON.parse(readFileSync(join(volume, 'reports', 'latest.json'), 'utf8'));
    return JSON.parse(readFileSync(join(volume, 'reports', latest.path), 'utf8'));
  };

  let driftedAt = 0;
  let firstRun: any;
  let firstDone = 0;
  await t.test('drifted traffic: a drift run above 0.1 brings SentinelDriftScoreHigh, SentinelDatasetDrift and SentinelFeatureDrift to the webhook', async () => {
    await send(CURRENT);
    driftedAt = Date.now();
    const run = await runDriftJob(cronJob, 'drift-live');
    assert.equal(run.state, 'Complete', (await node.kubectl(['logs', '-n', NS, 'job/drift-live', '--tail=30'], { check: false })).stdout);
    firstDone = run.at;
    firstRun = latestRun();
    assert.equal(firstRun.current.rows, ROWS, 'the run compared the rows just predicted');
    assert.ok(firstRun.drift_score > 0.1, `drift score ${firstRun.drift_score}`);
    assert.equal(firstRun.dataset_drift, true);
    const drifted = firstRun.columns.filter((c: any) => c.drift_detected).map((c: any) => c.name).sort();
    assert.ok(drifted.includes('education'), drifted.join());

    const high = await waitNotified('SentinelDriftScoreHigh', 'firing', driftedAt, 180_000, base);
    const [a] = high.alerts;
    assert.equal(a.labels.job, reportsSvc);
    assert.equal(a.labels.severity, 'warning');
    assert.equal(a.annotations.summary, 'Drift score above 0.1');
    assert.match(a.annotations.description, new RegExp(`\\(${NS}/${reportsSvc}\\) scored ${firstRun.drift_score.toFixed(3)}, above the threshold 0\\.1`));
    assert.equal(a.annotations.runbook_url, 'https://github.com/sentinelml/sentinelml/blob/main/docs/runbook.md#sentineldriftscorehigh');
    const ds = await waitNotified('SentinelDatasetDrift', 'firing', driftedAt, 60_000, base);
    assert.equal(ds.alerts[0].labels.job, reportsSvc);
    const share = /found drift in ([\d.]+)% of the features/.exec(ds.alerts[0].annotations.description);
    assert.ok(share && Math.abs(Number(share[1]) - firstRun.drift_share * 100) < 0.01, ds.alerts[0].annotations.description);
    // One SentinelFeatureDrift per drifted feature, none for the others.
    const features = await waitFor('a SentinelFeatureDrift per drifted feature', 60_000, async () => {
      const got = new Set(mon.webhook.calls.filter((c) => c.at >= driftedAt).flatMap((c) => c.body.alerts)
        .filter((x) => x.labels.alertname === 'SentinelFeatureDrift' && x.status === 'firing' && base(x)).map((x) => x.labels.feature));
      return got.size >= drifted.filter((f: string) => f !== 'prediction').length ? [...got].sort() : undefined;
    });
    assert.deepEqual(features, drifted.filter((f: string) => f !== 'prediction'));
    const latency = high.at - firstDone;
    t.diagnostic(`drift run ${firstRun.run_id}: score ${firstRun.drift_score.toFixed(4)}, ${drifted.length} drifted columns (${drifted.join(', ')}); ` +
      `SentinelDriftScoreHigh at the webhook ${(latency / 1000).toFixed(1)} s after the job completed (scrape ${mon.scrapeInterval} / ServiceMonitor 5s, evaluation ${mon.evaluationInterval}, group_wait 1s; Job completion time has 1 s resolution)`);
  });

  await t.test('no rows in the run\'s window: the run fails (SentinelDriftRunsFailing) and no run succeeds for 3 periods (SentinelDriftJobStale)', async () => {
    // The drifted rows leave the window; no new traffic.
    await sleep(Math.max(0, driftedAt + WINDOW_S * 1000 + 2_000 - Date.now()));
    const started = Date.now();
    const run = await runDriftJob(cronJob, 'drift-empty');
    assert.equal(run.state, 'Failed');
    const logs = (await node.kubectl(['logs', '-n', NS, 'job/drift-empty', '--tail=20'], { check: false })).stdout;
    assert.match(logs, new RegExp(`no rows in the last ${WINDOW_S}s`));
    const failing = await waitNotified('SentinelDriftRunsFailing', 'firing', started, 120_000, base);
    assert.equal(failing.alerts[0].labels.job, reportsSvc);
    assert.match(failing.alerts[0].annotations.description, new RegExp(`failed in the last ${2 * PERIOD_S} s`));
    // The gauge is the run's finish time (drift.json finished_at), a moment before the Job's completion.
    const lastGood = Date.parse(firstRun.finished_at);
    const stale = await waitNotified('SentinelDriftJobStale', 'firing', firstDone, 180_000, base);
    assert.ok(stale.at - lastGood >= 3 * PERIOD_S * 1000, `stale after ${stale.at - lastGood} ms, not before 3 periods`);
    assert.match(stale.alerts[0].annotations.summary, /No successful drift run for 3 schedule periods/);
    // (The Job retries once (backoffLimit 1): the first failed pod already counts, before the Job is Failed.)
    t.diagnostic(`SentinelDriftRunsFailing at the webhook ${((failing.at - started) / 1000).toFixed(1)} s after the failing Job was created (Failed after ${((run.at - started) / 1000).toFixed(1)} s, two attempts); SentinelDriftJobStale ${((stale.at - lastGood) / 1000).toFixed(1)} s after the last good run finished (threshold ${3 * PERIOD_S} s)`);
  });

  await t.test('reference-like traffic: the next run resolves the drift alerts and the staleness alert', async () => {
    const started = Date.now();
    await send(REFERENCE);
    const run = await runDriftJob(cronJob, 'drift-reference');
    assert.equal(run.state, 'Complete', (await node.kubectl(['logs', '-n', NS, 'job/drift-reference', '--tail=30'], { check: false })).stdout);
    const r = latestRun();
    assert.equal(r.current.rows, ROWS, 'only the reference-like rows are in the window');
    assert.ok(r.drift_score < 0.1, `drift score ${r.drift_score}`);
    assert.equal(r.dataset_drift, false);
    for (const name of ['SentinelDriftScoreHigh', 'SentinelDatasetDrift', 'SentinelDriftJobStale']) {
      const res = await waitNotified(name, 'resolved', started, 120_000, base);
      t.diagnostic(`${name} resolved at the webhook ${((res.at - run.at) / 1000).toFixed(1)} s after the job completed`);
    }
    await waitFor('every SentinelFeatureDrift resolved', 120_000, async () => {
      const alerts = (await mon.api('/api/v1/alerts')).alerts.filter((a: any) => a.labels.namespace === NS && a.labels.alertname === 'SentinelFeatureDrift');
      return alerts.length === 0 ? true : undefined;
    });
  });

  await t.test('every dashboard panel query returns data from this Prometheus; the variables resolve', async () => {
    const cms = (await getJson(['get', 'configmap', '-n', NS, '-l', 'grafana_dashboard=1'])).items;
    assert.equal(cms.length, 2);
    const empty: string[] = [];
    let checked = 0;
    for (const cm of cms) {
      const [file, text] = Object.entries(cm.data as Record<string, string>)[0];
      const d = JSON.parse(text);
      const vars: Record<string, string> = { __rate_interval: '20s', __range: '1h', __interval: '5s' };
      for (const v of d.templating.list) {
        if (v.type === 'constant') vars[v.name] = v.query;
        if (v.type !== 'query') continue;
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.definition);
        assert.ok(m, `${file}: variable ${v.name} is not label_values(...)`);
        const selector = m[1].replace(/\$\{?(\w+)\}?/g, (s, n: string) => vars[n] ?? s);
        const values: string[] = await waitFor(`${file} variable ${v.name}`, 60_000, async () => {
          const r = await fetch(`${mon.promUrl}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(selector)}`);
          const b = await r.json() as { data: string[] };
          return b.data.length > 0 ? b.data : undefined;
        });
        // (the ConfigMap keys are <release>-<dashboard>.json)
        const want = m[2] === 'namespace' ? NS : file.endsWith('drift.json') ? reportsSvc : inferenceName;
        assert.ok(values.includes(want), `${file} ${v.name}: ${values}`);
        vars[v.name] = want;
      }
      for (const panel of d.panels.filter((p: any) => p.type !== 'row')) {
        for (const tg of panel.targets ?? []) {
          const expr = String(tg.expr).replace(/\$\{?(\w+)\}?/g, (s, n: string) => vars[n] ?? s);
          assert.doesNotMatch(expr, /\$/, `${file} "${panel.title}": unexpanded variable in ${expr}`);
          checked++;
          try { await waitFor(`${file} "${panel.title}"`, 30_000, async () => ((await mon.query(expr)).length > 0 ? true : undefined)); } catch { empty.push(`${file} "${panel.title}": ${expr}`); }
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} queries`);
    assert.deepEqual(empty, [], 'panel queries without data');
    t.diagnostic(`${checked} panel queries returned data`);
  });

  await t.test('a full disk under the prediction log: 503s bring SentinelPredictionLogWriteFailures and SentinelInferenceErrorRate', async () => {
    // Fill the tmpfs behind the volume from the host (root may use the last blocks too).
    const filler = join(volume, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=200'], { encoding: 'utf8' });
    assert.match(spawnSync('df', ['--output=avail', volume], { encoding: 'utf8' }).stdout, /\n\s*0\s*$/, 'the volume is full');
    const started = Date.now();
    const rows = featureRowsFrom(REFERENCE, card, 10);
    const statuses: number[] = [];
    try {
      const stop = Date.now() + 150_000;
      let fired: { lw?: ReturnType<typeof notified>; er?: ReturnType<typeof notified> } = {};
      while (Date.now() < stop && !(fired.lw && fired.er)) {
        // Once the readiness probe (it writes a file to the log directory) fails too, the Service has
        // no endpoint left and connections are refused: counted as 0.
        statuses.push(await postJson(predictUrl, { features: rows[statuses.length % rows.length] }).then((r) => r.status, () => 0));
        fired = { lw: notified('SentinelPredictionLogWriteFailures', 'firing', started, base), er: notified('SentinelInferenceErrorRate', 'firing', started, base) };
        await sleep(200);
      }
      assert.ok(statuses.includes(503), `statuses: ${[...new Set(statuses)]}`);
      assert.ok(fired.lw, 'SentinelPredictionLogWriteFailures at the webhook');
      assert.ok(fired.er, 'SentinelInferenceErrorRate at the webhook');
      for (const a of [fired.lw!.alerts[0], fired.er!.alerts[0]]) assert.equal(a.labels.job, inferenceName);
      assert.equal(fired.lw!.alerts[0].labels.severity, 'critical');
      assert.match(fired.er!.alerts[0].annotations.description, new RegExp(`/predict requests to ${NS}/${inferenceName}`));
      t.diagnostic(`disk full: ${statuses.filter((s) => s === 503).length} of ${statuses.length} requests answered 503; ` +
        `SentinelPredictionLogWriteFailures after ${((fired.lw!.at - started) / 1000).toFixed(1)} s, SentinelInferenceErrorRate after ${((fired.er!.at - started) / 1000).toFixed(1)} s`);
    } finally { rmSync(filler, { force: true }); }
    // Space again: predictions are answered and logged again.
    await waitFor('predictions answered again', 60_000, async () => ((await postJson(predictUrl, { features: rows[0] })).status === 200 ? true : undefined));
    assert.ok(existsSync(join(volume, 'live')) && readdirSync(join(volume, 'live')).length > 0);
  });
});
