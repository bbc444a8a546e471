// The `npm start` pipeline end to end, on a shortened interval: serve + replay + scheduled drift +
// report server, all real. Drift must show up in a report and on the report server's /metrics.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startSentinel } from '../support/process.ts';

describe('sentinel demo (npm start)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-demo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports drift above the alert threshold, then stops cleanly on Ctrl-C', async () => {
    const proc = await startSentinel(
      ['demo', '--port', '0', '--reports-port', '0', '--every', '3s', '--rate', '400', '--label-delay', '1s', '--label-share', '0.5', '--log-dir', join(dir, 'live'), '--reports-dir', join(dir, 'reports')],
      { readyEvent: 'demo_listening' },
    );
    try {
      let score = NaN;
      let metrics = '';
      for (let i = 0; i < 120 && !(score > 0.1); i++) {
        await new Promise((r) => setTimeout(r, 500));
        metrics = await (await fetch(`${proc.url}/metrics`)).text();
        const m = /^sentinelml_drift_score (\S+)$/m.exec(metrics);
        score = m ? Number(m[1]) : NaN;
      }
      assert.ok(score > 0.1, `sentinelml_drift_score never exceeded 0.1:\n${metrics.split('\n').filter((l) => l.startsWith('sentinelml_')).join('\n')}`);
      assert.match(metrics, /^sentinelml_dataset_drift_share \S+$/m);
      assert.match(metrics, /^sentinelml_feature_drift_detected\{feature="education"\} 1$/m);

      const latest = JSON.parse(readFileSync(join(dir, 'reports', 'latest.json'), 'utf8'));
      const result = JSON.parse(readFileSync(join(dir, 'reports', latest.path), 'utf8'));
      assert.ok(result.current.rows > 0);
      assert.ok(result.prediction, 'prediction drift is tested (the reference carries the model output)');
      const index = await (await fetch(`${proc.url}/`)).text();
      assert.ok(index.includes(latest.run_id), 'the index lists the run');
      const report = await fetch(`${proc.url}/runs/${latest.run_id}/report.html`);
      assert.equal(report.status, 200);
      assert.ok(readdirSync(join(dir, 'live')).some((f) => f.endsWith('.csv')), 'the replay went through the durable log');

      // The replayed rows' true classes arrive 1 s late through POST /feedback: a later run shows
      // realized quality (about half the window labelled) beside the CBPE estimate.
      let coverage = 0;
      for (let i = 0; i < 120 && !(coverage > 0.2); i++) {
        await new Promise((r) => setTimeout(r, 500));
        metrics = await (await fetch(`${proc.url}/metrics`)).text();
        const m = /^sentinelml_label_coverage (\S+)$/m.exec(metrics);
        coverage = m ? Number(m[1]) : 0;
      }
      assert.ok(coverage > 0.2 && coverage <= 0.5, `label coverage ${coverage}`);
      assert.match(metrics, /^sentinelml_model_performance\{metric="accuracy",source="realized",class=""\} 0\.\d+$/m);
      assert.match(metrics, /^sentinelml_model_performance\{metric="accuracy",source="estimated",class=""\} 0\.\d+$/m);
      assert.ok(readdirSync(join(dir, 'live', 'labels')).some((f) => f.startsWith('live_labels-')), 'labels went through the durable label log');
    } finally {
      proc.kill('SIGINT');
    }
    const { code } = await proc.exited;
    assert.equal(code, 0);
    assert.ok(proc.stderr.some((l) => l.includes('"event":"inference_api_stopped"')));
    assert.ok(proc.stderr.some((l) => l.includes('"event":"report_server_stopped"')));
  });
});
