// @needs-tools: helm, promtool
// `promtool test rules` on the rule groups extracted from the rendered PrometheusRule (.spec.groups):
// each alert fires when it should, with its labels and rendered annotations, and stays silent when
// it should (below threshold, 4xx instead of 5xx, fresh runs, another release's series).
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { find, render, run, tool } from './support/helm.ts';

const NS = 'ml';
const REPORTS = { namespace: NS, job: 'rel-sentinelml-reports' };
const INFERENCE = { namespace: NS, job: 'rel-sentinelml-inference' };
/** Series of another release in another namespace: must never alert for this one. */
const OTHER = { namespace: 'other', job: 'rel-sentinelml-reports' };

type Labels = Record<string, string>;
interface Rule { alert: string; expr: string; for: string; labels: Labels; annotations: Labels }

const series = (name: string, labels: Labels, values: string) => ({
  series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`,
  values,
});

/** What Prometheus renders for an annotation: $labels.x and one formatted $value. */
function expand(template: string, labels: Labels, value: string): string {
  return template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? '').replace(/\{\{ \$value[^}]*\}\}/g, value);
}

test('every alert of the rendered PrometheusRule fires and stays silent when it should (promtool test rules)', () => {
  const rule = find(render({ namespace: NS }), 'PrometheusRule');
  const rules: Rule[] = rule.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules);
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const dir = mkdtempSync(join(tmpdir(), 'sentinelml-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));

  const check = run(tool('promtool'), ['check', 'rules', join(dir, 'rules.yaml')]);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));

  const firing = (alert: string, labels: Labels, value: string) => {
    const r = byName.get(alert)!;
    const all = { ...labels, ...r.labels };
    return { exp_labels: all, exp_annotations: Object.fromEntries(Object.entries(r.annotations).map(([k, v]) => [k, expand(v, all, value)])) };
  };
  const silent = (alertname: string, ...times: string[]) => times.map((eval_time) => ({ eval_time, alertname, exp_alerts: [] }));
  const tests: unknown[] = [];
  const covered = new Set<string>();
  const add = (alerts: string[], t: object) => {
    alerts.forEach((a) => covered.add(a));
    tests.push({ interval: '1m', ...t });
  };

  // Headline score: 0.05, then exactly the threshold (silent: ">"), then 0.3.
  add(['SentinelDriftScoreHigh'], {
    input_series: [series('sentinelml_drift_score', REPORTS, '0.05x10 0.1x10 0.3x10'), series('sentinelml_drift_score', OTHER, '0.9x32')],
    alert_rule_test: [
      ...silent('SentinelDriftScoreHigh', '5m', '15m'),
      { eval_time: '25m', alertname: 'SentinelDriftScoreHigh', exp_alerts: [firing('SentinelDriftScoreHigh', REPORTS, '0.300')] },
    ],
  });

  // Dataset drift: share 0.4 without the flag, then 0.6 with it.
  add(['SentinelDatasetDrift'], {
    input_series: [
      series('sentinelml_dataset_drift_share', REPORTS, '0.4x10 0.6x10'),
      series('sentinelml_dataset_drift_detected', REPORTS, '0x10 1x10'),
      series('sentinelml_dataset_drift_share', OTHER, '0.9x20'),
      series('sentinelml_dataset_drift_detected', OTHER, '1x20'),
    ],
    alert_rule_test: [...silent('SentinelDatasetDrift', '5m'), { eval_time: '15m', alertname: 'SentinelDatasetDrift', exp_alerts: [firing('SentinelDatasetDrift', REPORTS, '60%')] }],
  });

  // Per feature: education drifted, age did not.
  add(['SentinelFeatureDrift'], {
    input_series: [
      series('sentinelml_feature_drift_score', { ...REPORTS, feature: 'education', stattest: 'jensenshannon' }, '0.05x10 0.4x10'),
      series('sentinelml_feature_drift_detected', { ...REPORTS, feature: 'education' }, '0x10 1x10'),
      series('sentinelml_feature_drift_score', { ...REPORTS, feature: 'age', stattest: 'wasserstein' }, '0.02x20'),
      series('sentinelml_feature_drift_detected', { ...REPORTS, feature: 'age' }, '0x20'),
    ],
    alert_rule_test: [
      ...silent('SentinelFeatureDrift', '5m'),
      { eval_time: '15m', alertname: 'SentinelFeatureDrift', exp_alerts: [firing('SentinelFeatureDrift', { ...REPORTS, feature: 'education', stattest: 'jensenshannon' }, '0.400')] },
    ],
  });

  // Realized drop: reference accuracy 0.88; realized 0.86 (drop 0.02, silent), then 0.80 (0.08 > 0.05)
  // with 500 labelled predictions; per-class series and estimates are not compared.
  const perf = (metric: string, source: string, cls = '') => ({ ...REPORTS, metric, source, class: cls });
  add(['SentinelModelPerformanceDrop'], {
    input_series: [
      series('sentinelml_model_performance', perf('accuracy', 'reference'), '0.88x20'),
      series('sentinelml_model_performance', perf('accuracy', 'realized'), '0.86x10 0.80x10'),
      series('sentinelml_model_performance', perf('f1', 'reference', '>50K'), '0.9x20'),
      series('sentinelml_model_performance', perf('f1', 'realized', '>50K'), '0.1x20'),
      series('sentinelml_model_performance', perf('accuracy', 'estimated'), '0.5x20'),
      series('sentinelml_labelled_predictions', REPORTS, '500x20'),
      series('sentinelml_model_performance', { ...perf('accuracy', 'reference'), ...OTHER }, '0.9x20'),
      series('sentinelml_model_performance', { ...perf('accuracy', 'realized'), ...OTHER }, '0.1x20'),
      series('sentinelml_labelled_predictions', OTHER, '500x20'),
    ],
    alert_rule_test: [
      ...silent('SentinelModelPerformanceDrop', '5m'),
      { eval_time: '15m', alertname: 'SentinelModelPerformanceDrop', exp_alerts: [firing('SentinelModelPerformanceDrop', { ...REPORTS, metric: 'accuracy' }, '0.080')] },
    ],
  });
  add(['SentinelModelPerformanceDrop'], {
    // The same drop on 50 labelled predictions (below minLabelled: 100) stays silent.
    input_series: [
      series('sentinelml_model_performance', perf('accuracy', 'reference'), '0.88x20'),
      series('sentinelml_model_performance', perf('accuracy', 'realized'), '0.70x20'),
      series('sentinelml_labelled_predictions', REPORTS, '50x20'),
    ],
    alert_rule_test: silent('SentinelModelPerformanceDrop', '5m', '15m'),
  });

  // CBPE: the estimate leaves the reference band at 10 min.
  add(['SentinelEstimatedPerformanceDrop'], {
    input_series: [
      series('sentinelml_model_performance', perf('accuracy', 'estimated'), '0.87x20'),
      series('sentinelml_estimated_performance_alert', { ...REPORTS, metric: 'accuracy' }, '0x10 1x10'),
      series('sentinelml_model_performance', perf('roc_auc', 'estimated'), '0.9x20'),
      series('sentinelml_estimated_performance_alert', { ...REPORTS, metric: 'roc_auc' }, '0x20'),
    ],
    alert_rule_test: [
      ...silent('SentinelEstimatedPerformanceDrop', '5m'),
      { eval_time: '15m', alertname: 'SentinelEstimatedPerformanceDrop', exp_alerts: [firing('SentinelEstimatedPerformanceDrop', { ...REPORTS, metric: 'accuracy' }, '0.870')] },
    ],
  });

  // Staleness (hourly schedule, 3 periods = 10800 s, for 5m): a job that never succeeded (timestamp 0,
  // as the report server exports before the first run) fires after 3 h + 5 m; a fresh one never does.
  add(['SentinelDriftJobStale'], {
    input_series: [series('sentinelml_drift_last_run_timestamp_seconds', REPORTS, '0x300')],
    alert_rule_test: [
      ...silent('SentinelDriftJobStale', '1h', '3h', '3h4m'),
      { eval_time: '4h', alertname: 'SentinelDriftJobStale', exp_alerts: [firing('SentinelDriftJobStale', REPORTS, '4h 0m 0s')] },
    ],
  });
  add(['SentinelDriftJobStale'], {
    // Runs every hour: the timestamp is at most one hour old.
    input_series: [series('sentinelml_drift_last_run_timestamp_seconds', REPORTS, '0x59 3600x59 7200x59 10800x59 14400x59 18000x59')],
    alert_rule_test: silent('SentinelDriftJobStale', '1h', '3h30m', '5h30m'),
  });

  // Failures: one failed run at 30 min; the 2 h window forgets it after 2 h.
  add(['SentinelDriftRunsFailing'], {
    input_series: [series('sentinelml_drift_run_failures_total', REPORTS, '0x29 1x300')],
    alert_rule_test: [
      ...silent('SentinelDriftRunsFailing', '20m', '3h'),
      { eval_time: '40m', alertname: 'SentinelDriftRunsFailing', exp_alerts: [firing('SentinelDriftRunsFailing', REPORTS, '1')] },
    ],
  });

  // 5xx ratio 10/110 > 5 % for 5 min fires; 1/101 and 4xx-only traffic stay silent.
  const req = (status: string) => ({ ...INFERENCE, method: 'POST', route: '/predict', status });
  add(['SentinelInferenceErrorRate'], {
    input_series: [series('sentinelml_request_duration_seconds_count', req('200'), '0+100x60'), series('sentinelml_request_duration_seconds_count', req('503'), '0+10x60')],
    alert_rule_test: [...silent('SentinelInferenceErrorRate', '4m'), { eval_time: '20m', alertname: 'SentinelInferenceErrorRate', exp_alerts: [firing('SentinelInferenceErrorRate', INFERENCE, '9.091%')] }],
  });
  add(['SentinelInferenceErrorRate'], {
    input_series: [
      series('sentinelml_request_duration_seconds_count', req('200'), '0+100x60'),
      series('sentinelml_request_duration_seconds_count', req('503'), '0+1x60'),
      series('sentinelml_request_duration_seconds_count', req('400'), '0+500x60'),
    ],
    alert_rule_test: silent('SentinelInferenceErrorRate', '20m', '50m'),
  });

  // Latency: all requests between 0.5 s and 1 s → p99 = 0.995 s > 0.5 s for 10 min; fast traffic silent.
  const bucket = (le: string, extra: Labels = {}) => ({ ...INFERENCE, method: 'POST', route: '/predict', status: '200', le, ...extra });
  add(['SentinelInferenceLatencyHigh'], {
    input_series: [
      series('sentinelml_request_duration_seconds_bucket', bucket('0.25'), '0x60'),
      series('sentinelml_request_duration_seconds_bucket', bucket('0.5'), '0x60'),
      series('sentinelml_request_duration_seconds_bucket', bucket('1'), '0+100x60'),
      series('sentinelml_request_duration_seconds_bucket', bucket('+Inf'), '0+100x60'),
    ],
    alert_rule_test: [...silent('SentinelInferenceLatencyHigh', '10m'), { eval_time: '30m', alertname: 'SentinelInferenceLatencyHigh', exp_alerts: [firing('SentinelInferenceLatencyHigh', INFERENCE, '995ms')] }],
  });
  add(['SentinelInferenceLatencyHigh'], {
    input_series: ['0.25', '0.5', '1', '+Inf'].map((le) => series('sentinelml_request_duration_seconds_bucket', bucket(le), '0+100x60')),
    alert_rule_test: silent('SentinelInferenceLatencyHigh', '30m', '55m'),
  });

  // Log write failures: one failed commit at 10 min; silent before and 5 min after.
  add(['SentinelPredictionLogWriteFailures'], {
    input_series: [series('sentinelml_log_write_failures_total', INFERENCE, '0x9 1x30'), series('sentinelml_log_write_failures_total', OTHER, '0+1x40')],
    alert_rule_test: [
      ...silent('SentinelPredictionLogWriteFailures', '5m', '25m'),
      { eval_time: '12m', alertname: 'SentinelPredictionLogWriteFailures', exp_alerts: [firing('SentinelPredictionLogWriteFailures', INFERENCE, '1')] },
    ],
  });

  assert.deepEqual([...covered].sort(), [...byName.keys()].sort(), 'every rendered alert has a promtool test');
  writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }));
  const r = run(tool('promtool'), ['test', 'rules', join(dir, 'tests.yaml')], { cwd: dir });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n(files in ${dir})`);
  assert.match(r.stdout + r.stderr, /SUCCESS/);
});

test('a disabled alert is absent from the rendered rules', () => {
  const rule = find(render({ set: { 'prometheusRule.alerts.SentinelDriftJobStale.enabled': 'false', 'prometheusRule.alerts.SentinelInferenceErrorRate.enabled': 'false' } }), 'PrometheusRule');
  const names = rule.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules.map((r) => r.alert));
  assert.equal(names.length, 8);
  assert.ok(!names.includes('SentinelDriftJobStale') && !names.includes('SentinelInferenceErrorRate'));
});
