// @needs-tools: helm, prometheus, promtool, alertmanager
// End to end on loopback, real processes only: `sentinel serve` and `sentinel reports` (spawned from
// bin/sentinel.js), Prometheus and Alertmanager (the Debian binaries scripts/provision/prometheus.sh
// unpacks), a webhook receiver in this test. Prometheus scrapes both servers every second under the
// job names a ServiceMonitor would give them and evaluates the rules rendered from the chart.
//   1. a drift run over drifted data (the Adult demo split) → SentinelDriftScoreHigh reaches the
//      webhook through Alertmanager;
//   2. a run over undrifted data (reference vs itself) → the alert resolves, the webhook hears it;
//   3. every query of every dashboard panel (and every dashboard variable) returns data (after a run
//      over the live log with labels posted to /feedback, for the model-quality panels).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { CHART, REPO, find, render, tool } from '../chart/support/helm.ts';
import { parse } from 'csv-parse/sync';
import { bundledCard, featureRowsFrom } from '../support/model.ts';
import { SENTINEL, startSentinel, type SentinelProcess } from '../support/process.ts';

const NS = 'ml';
const RELEASE = 'rel';
const JOB_INFERENCE = `${RELEASE}-sentinelml-inference`;
const JOB_REPORTS = `${RELEASE}-sentinelml-reports`;
const REFERENCE = join(REPO, 'data/reference.csv');
const CURRENT = join(REPO, 'data/current.csv');

interface WebhookCall { status: string; alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[] }

const dir = mkdtempSync(join(tmpdir(), 'sentinelml-e2e-'));
const reportsDir = join(dir, 'reports');
const children: ChildProcess[] = [];
const sentinels: SentinelProcess[] = [];
const webhookCalls: WebhookCall[] = [];
let webhook: Server;
let promUrl = '';
let inference: SentinelProcess;
let trafficStop = false;
let traffic: Promise<void> = Promise.resolve();

async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

/** Starts a tool as a child process (stopped by PID in `after`); its output goes to a log file. */
function startTool(name: string, args: string[]): ChildProcess {
  const log = join(dir, `${name}.log`);
  const child = spawn(tool(name), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout!.on('data', (d) => chunks.push(String(d)));
  child.stderr!.on('data', (d) => chunks.push(String(d)));
  child.on('exit', () => writeFileSync(log, chunks.join('')));
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''} (logs in ${dir})`);
}

async function promQuery(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: any } };
  if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
  if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result }];
  return body.data.result;
}

function driftRun(current: string, extra: string[] = []): void {
  const r = spawnSync(process.execPath, [SENTINEL, 'drift', '--reference', REFERENCE, '--current', current, '--out', reportsDir, '--quiet', ...extra], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, `sentinel drift failed: ${r.stderr}`);
}

/** Rows of the current split as /predict feature objects (types from the model card). */
function sampleInstances(n: number): Record<string, string | number>[] {
  const card = JSON.parse(readFileSync(join(REPO, 'models/model.json'), 'utf8')) as { features: { name: string; type: string }[] };
  const [header, ...lines] = readFileSync(CURRENT, 'utf8').split('\n', n + 1);
  const cols = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(card.features.map((f) => {
      const v = cells[cols.indexOf(f.name)];
      return [f.name, f.type === 'numerical' ? Number(v) : v];
    }));
  });
}

before(async () => {
  for (const f of [REFERENCE, CURRENT]) assert.ok(existsSync(f), `${f} is missing (the Adult demo split)`);

  // The webhook receiver Alertmanager notifies.
  webhook = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      webhookCalls.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  webhook.listen(0, '127.0.0.1');
  await once(webhook, 'listening');
  const webhookPort = (webhook.address() as AddressInfo).port;

  // The two SentinelML servers, real processes.
  mkdirSync(reportsDir, { recursive: true });
  inference = await startSentinel(['serve', '--port', '0', '--host', '127.0.0.1', '--model', 'models/model.onnx', '--log-dir', join(dir, 'live')]);
  sentinels.push(inference);
  const reports = await startSentinel(['reports', '--port', '0', '--host', '127.0.0.1', '--dir', reportsDir, '--threshold', '0.1']);
  sentinels.push(reports);

  // Alertmanager: every alert to the webhook, resolved ones too, with 1 s grouping.
  const amPort = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), stringify({
    route: { receiver: 'webhook', group_by: ['alertname', 'namespace', 'job'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [{ name: 'webhook', webhook_configs: [{ url: `http://127.0.0.1:${webhookPort}/hook`, send_resolved: true }] }],
  }));
  const amCheck = spawnSync(tool('amtool'), ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8' });
  assert.equal(amCheck.status, 0, amCheck.stdout + amCheck.stderr);
  startTool('alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn']);
  // (Debian's build needs /usr/share/prometheus/alertmanager/default.tmpl: scripts/provision/helm.sh installs it.)
  await waitFor('Alertmanager ready', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok, 20_000);

  // Prometheus: the chart's rules as rendered for release "rel" in namespace "ml"; both servers
  // scraped under the job names and namespace label a ServiceMonitor would give them.
  const rule = find(render({ release: RELEASE, namespace: NS }), 'PrometheusRule');
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: rule.spec.groups }));
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const target = (url: string) => new URL(url).host;
  writeFileSync(join(dir, 'prometheus.yml'), stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(dir, 'rules.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
    scrape_configs: [
      { job_name: JOB_INFERENCE, static_configs: [{ targets: [target(inference.url)], labels: { namespace: NS } }] },
      { job_name: JOB_REPORTS, static_configs: [{ targets: [target(reports.url)], labels: { namespace: NS } }] },
    ],
  }));
  const promCheck = spawnSync(tool('promtool'), ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
  assert.equal(promCheck.status, 0, promCheck.stdout + promCheck.stderr);
  startTool('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--rules.alert.resend-delay=1s', '--log.level=warn']);

  // Both targets up (Prometheus 2.42 reloads scrape targets on a 5 s tick).
  await waitFor('both targets up', async () => {
    const up = await promQuery('up');
    return up.length === 2 && up.every((s) => s.value[1] === '1');
  }, 40_000);

  // Steady traffic: single rows, batches, and invalid requests (for the 4xx panels).
  const rows = sampleInstances(200);
  traffic = (async () => {
    let i = 0;
    while (!trafficStop) {
      const post = (body: unknown) => fetch(`${inference.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer()).catch(() => undefined);
      await post({ features: rows[i % rows.length] });
      if (i % 5 === 0) await post({ instances: rows.slice(i % 150, (i % 150) + 10) });
      if (i % 7 === 0) await post({ features: { ...rows[0], age: 'old' } });
      i++;
      await sleep(50);
    }
  })();
});

after(async () => {
  trafficStop = true;
  await traffic;
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await Promise.race([once(c, 'exit'), sleep(5000).then(() => c.kill('SIGKILL'))]);
    }
  }
  for (const s of sentinels) {
    s.kill('SIGTERM');
    await Promise.race([s.exited, sleep(5000).then(() => s.kill('SIGKILL'))]);
  }
  webhook?.close();
});

const highFor = (status: string) => (call: WebhookCall) =>
  call.alerts.find((a) => a.labels.alertname === 'SentinelDriftScoreHigh' && a.status === status && a.labels.namespace === NS && a.labels.job === JOB_REPORTS);

test('drifted data fires SentinelDriftScoreHigh through Alertmanager; undrifted data resolves it', async () => {
  // 1. The demo split: reference = education not in {Some-college, HS-grad, Bachelors}.
  driftRun(CURRENT);
  const score = await waitFor('the drift score on /metrics', async () => {
    const r = await promQuery(`sentinelml_drift_score{job="${JOB_REPORTS}"}`);
    return r.length === 1 && Number(r[0].value[1]) > 0 ? Number(r[0].value[1]) : undefined;
  }, 20_000);
  assert.ok(score > 0.1, `the demo split should drift above 0.1 (got ${score})`);

  const firing = await waitFor('SentinelDriftScoreHigh firing at the webhook', async () => webhookCalls.map(highFor('firing')).find(Boolean), 60_000);
  assert.equal(firing!.labels.severity, 'warning');
  assert.match(firing!.annotations.summary, /Drift score above 0.1/);
  assert.match(firing!.annotations.description, new RegExp(`\\(${NS}/${JOB_REPORTS}\\) scored ${score.toFixed(3)}`));
  assert.equal(firing!.annotations.runbook_url, 'https://github.com/sentinelml/sentinelml/blob/main/docs/runbook.md#sentineldriftscorehigh');

  // 2. No drift: the reference compared with itself.
  driftRun(REFERENCE);
  await waitFor('the drift score back to 0', async () => {
    const r = await promQuery(`sentinelml_drift_score{job="${JOB_REPORTS}"}`);
    return r.length === 1 && Number(r[0].value[1]) < 0.1;
  }, 20_000);
  const resolved = await waitFor('SentinelDriftScoreHigh resolved at the webhook', async () => webhookCalls.map(highFor('resolved')).find(Boolean), 60_000);
  assert.equal(resolved!.labels.alertname, 'SentinelDriftScoreHigh');
});

test('every dashboard panel query and every dashboard variable returns data from this Prometheus', async () => {
  // Needs the drift metrics of a completed run and a minute of traffic history. The model-quality
  // panels need a run that joined labels: predict 200 rows, post their true classes to /feedback,
  // then run over the live log with the model card.
  const rows = featureRowsFrom(CURRENT, bundledCard(), 200);
  const res = await fetch(`${inference.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
  assert.equal(res.status, 200, await res.clone().text());
  const ids = ((await res.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id);
  const truth = (parse(readFileSync(CURRENT), { columns: true, to: 200 }) as Record<string, string>[]).map((r) => r.class);
  const feedback = ids.map((id, i) => ({ request_id: id, label: truth[i] }));
  const fb = await fetch(`${inference.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: feedback }) });
  assert.equal(fb.status, 200, await fb.text());
  driftRun(join(dir, 'live'), ['--model-card', join(REPO, 'models/model.json')]);
  const dashboards = readdirSync(join(CHART, 'dashboards')).filter((f) => f.endsWith('.json'));
  assert.deepEqual(dashboards.sort(), ['drift.json', 'overview.json']);
  // Grafana's variables as Grafana would expand them ("All" = .*; $__rate_interval ≥ 4 scrape intervals).
  const vars: Record<string, string> = { namespace: '.*', job: '.*', threshold: '0.1', __rate_interval: '20s', __range: '1h', __interval: '5s' };
  const expand = (expr: string) => expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => vars[name] ?? m);
  const empty: string[] = [];
  let checked = 0;
  for (const file of dashboards) {
    const d = JSON.parse(readFileSync(join(CHART, 'dashboards', file), 'utf8'));
    for (const v of d.templating.list.filter((x: any) => x.type === 'query')) {
      // label_values(metric{...}, label)
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.definition);
      assert.ok(m, `${file}: variable ${v.name} is not label_values(...)`);
      const [, selector, label] = m;
      const values = await waitFor(`${file} variable ${v.name}`, async () => {
        const res = await fetch(`${promUrl}/api/v1/label/${label}/values?match[]=${encodeURIComponent(expand(selector))}`);
        const body = (await res.json()) as { data: string[] };
        return body.data.length > 0 ? body.data : undefined;
      }, 20_000);
      assert.ok(values.includes(label === 'namespace' ? NS : label === 'job' ? (file === 'drift.json' ? JOB_REPORTS : JOB_INFERENCE) : values[0]), `${file} ${v.name}: ${values}`);
    }
    for (const panel of d.panels.filter((p: any) => p.type !== 'row')) {
      for (const t of panel.targets) {
        // The Operator row needs a running operator (an API server): test/kube/operator.test.ts checks it.
        if (t.expr.includes('sentinelml_operator_')) continue;
        const expr = expand(t.expr);
        assert.doesNotMatch(expr, /\$/, `${file} "${panel.title}": unexpanded variable in ${expr}`);
        checked++;
        try {
          await waitFor(`${file} "${panel.title}"`, async () => ((await promQuery(expr)).length > 0 ? true : undefined), 30_000, 500);
        } catch {
          empty.push(`${file} "${panel.title}": ${expr}`);
        }
      }
    }
  }
  assert.ok(checked >= 20, `only ${checked} queries`);
  assert.deepEqual(empty, [], 'panel queries without data');
});
