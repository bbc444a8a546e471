// @needs-tools: chromium
// The report and the index in real Chromium: no console errors, one SVG chart per column, sorting,
// hostile strings shown as text and never executed. Screenshots go to test-output/ (git-ignored).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { createReportApp } from '../../src/services/report-server/server.ts';
import { recordFailedRun } from '../../src/io/report-store.ts';
import { saveRun } from '../../src/services/run/save-run.ts';
import { launchBrowser } from '../support/browser.ts';
import { listen, memoryLogger, tempDir } from '../report-server/helpers.ts';
import { HOSTILE, makeResult } from './fixture.ts';
import { runDriftJob } from '../../src/services/run/drift-run.ts';

const OUT = join(import.meta.dirname, '..', '..', 'test-output');

async function columnOrder(page: import('playwright-core').Page): Promise<string[]> {
  return page.$$eval('#columns tbody tr .col-name', (els) => els.map((e) => e.textContent ?? ''));
}

test('the report opens offline in Chromium: charts, sorting, escaping, no console errors', async (t) => {
  await mkdir(OUT, { recursive: true });
  const dir = await tempDir(t);
  const result = makeResult({ hostile: true });
  const { runDir } = await saveRun(dir, result);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, problems, dialogs, requests } = await browser.newPage();
  const url = pathToFileURL(join(runDir, 'report.html')).href;
  await page.goto(url);
  await page.waitForLoadState('load');

  // Summary first.
  assert.equal(await page.textContent('#dataset-drift .big'), 'Yes');
  assert.match(await page.textContent('#drift-score') ?? '', /0\.1977[\s\S]*above the alert threshold 0\.1/);
  assert.match(await page.textContent('#rows .big') ?? '', /14,155\s*→\s*34,687/);

  // One rendered SVG chart per column, with real geometry, plus the prediction chart.
  const rows = await page.$$('#columns tbody tr');
  assert.equal(rows.length, result.columns.length);
  for (const row of rows) {
    const charts = await row.$$('svg.chart');
    assert.equal(charts.length, 1);
    const box = await charts[0].boundingBox();
    assert.ok(box !== null && box.width > 100 && box.height > 30, 'chart is laid out');
  }
  assert.equal(await page.$$eval('#columns svg.chart-histogram', (s) => s.length), 3);
  assert.equal(await page.$$eval('#columns svg.chart-categories', (s) => s.length), 3);
  assert.equal(await page.$$eval('#columns svg.chart-empty', (s) => s.length), 1);
  // A histogram has two bars (reference, current) per bin.
  assert.equal(await page.$$eval('#columns tbody tr:first-child svg rect', (s) => s.length), 20);
  assert.equal(await page.$$eval('#prediction svg.chart rect', (s) => s.length), 4);

  // The hostile column name and category value are text, not markup, and nothing ran.
  const names = await columnOrder(page);
  assert.ok(names.includes(HOSTILE), `column names: ${names.join(', ')}`);
  const svgTexts = await page.$$eval('svg text', (els) => els.map((e) => e.childNodes[0]?.textContent ?? ''));
  assert.ok(svgTexts.some((s) => s.startsWith('<script>')), 'the hostile category is drawn as SVG text');
  assert.equal(await page.$$eval('script', (s) => s.length), 1, 'only our own sorting script');
  assert.deepEqual(dialogs, []);

  await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });

  // Sorting: Score ascending (untested column last), then descending; Column alphabetically.
  const scoreOf = new Map(result.columns.map((c) => [c.name, c.score]));
  const byScore = (dir: 1 | -1) => [...result.columns].sort((a, b) => (a.score === null ? 1 : b.score === null ? -1 : dir * (a.score - b.score))).map((c) => c.name);
  await page.click('#columns thead th:nth-child(6) button');
  assert.deepEqual(await columnOrder(page), byScore(1));
  assert.equal(await page.getAttribute('#columns thead th:nth-child(6)', 'aria-sort'), 'ascending');
  await page.click('#columns thead th:nth-child(6) button');
  assert.deepEqual(await columnOrder(page), byScore(-1));
  assert.equal(scoreOf.get((await columnOrder(page))[0]), 0.8326);
  await page.screenshot({ path: join(OUT, 'report-sorted-by-score.png'), fullPage: true });
  await page.click('#columns thead th:nth-child(1) button');
  const alpha = await columnOrder(page);
  assert.deepEqual(alpha, [...alpha].sort((a, b) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' })));
  assert.notDeepEqual(alpha, byScore(-1));

  // Readable at 1280 px: nothing scrolls sideways.
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px`);

  // Self-contained: the only request is the file itself.
  assert.deepEqual(requests.filter((r) => r !== url), []);
  assert.equal(await page.isVisible('#all-runs'), false, 'no index link in a file:// copy');
  assert.deepEqual(problems, []);
});

test('the served index: drift score over time, sortable runs, links to reports, no console errors', async (t) => {
  await mkdir(OUT, { recursive: true });
  const dir = await tempDir(t);
  const scores = [0.031, 0.042, 0.038, 0.067, 0.089, 0.112, 0.145, 0.198];
  for (let i = 0; i < scores.length; i++) {
    const finishedAt = new Date(Date.parse('2026-11-26T12:00:00.000Z') + i * 15 * 60_000).toISOString();
    if (i === 4) await recordFailedRun(dir, `20261126T1300Z-failed`, `reference ${HOSTILE} unreadable`, new Date(Date.parse(finishedAt) - 60_000));
    await saveRun(dir, makeResult({ runId: `run-${String(i + 1).padStart(2, '0')}`, finishedAt, driftScore: scores[i], hostile: i === 7 }));
  }
  const { logger } = memoryLogger();
  const base = await listen(t, createReportApp({ dir, registry: new Registry(), logger }));
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, problems, dialogs, requests } = await browser.newPage();
  await page.goto(`${base}/`);

  assert.equal(await page.$$eval('svg.chart-timeline', (s) => s.length), 1);
  assert.equal(await page.$$eval('svg.chart-timeline circle.dot', (s) => s.length), scores.length + 1);
  assert.equal(await page.$$eval('svg.chart-timeline circle.failed', (s) => s.length), 1);
  assert.equal(await page.$$eval('svg.chart-timeline circle.drift', (s) => s.length), 3);
  assert.equal(await page.$$eval('svg.chart-timeline path.series', (s) => s.length), 1);
  assert.equal(await page.$$eval('#runs tbody tr', (s) => s.length), scores.length + 1);
  assert.match(await page.textContent('#latest-score') ?? '', /0\.198/);
  assert.match(await page.textContent('#runs') ?? '', /reference <script>alert\(1\)<\/script> unreadable/);
  await page.screenshot({ path: join(OUT, 'index.png'), fullPage: true });

  // Sort by drift score (failed run without a score goes last).
  await page.click('#runs thead th:nth-child(3) button');
  const cells = await page.$$eval('#runs tbody tr td:nth-child(3)', (els) => els.map((e) => e.textContent ?? ''));
  assert.deepEqual(cells, [...scores].sort((a, b) => a - b).map(String).concat('—'));

  // A run link opens the served report (with its CSP header) cleanly.
  await Promise.all([page.waitForURL(/\/runs\/run-08\/report\.html$/), page.click('a[href="runs/run-08/report.html"]')]);
  assert.equal(await page.$$eval('#columns svg.chart', (s) => s.length), 7);
  await page.screenshot({ path: join(OUT, 'report-served.png'), fullPage: false });
  await Promise.all([page.waitForURL(`${base}/`), page.click('#all-runs')]);
  assert.ok(requests.every((r) => r.startsWith(base)), requests.join('\n'));
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
});

test('an empty report directory renders a friendly index', async (t) => {
  await mkdir(OUT, { recursive: true });
  const dir = await tempDir(t);
  const { logger } = memoryLogger();
  const base = await listen(t, createReportApp({ dir, registry: new Registry(), logger }));
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, problems } = await browser.newPage();
  await page.goto(`${base}/`);
  assert.match(await page.textContent('main') ?? '', /No runs yet/);
  await page.screenshot({ path: join(OUT, 'index-empty.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('a real drift run on the Adult demo split renders one chart per column in Chromium', async (t) => {
  await mkdir(OUT, { recursive: true });
  const dir = await tempDir(t);
  const repo = join(import.meta.dirname, '..', '..');
  const outcome = await runDriftJob({ reference: join(repo, 'data', 'reference.csv'), current: join(repo, 'data', 'current.csv'), out: dir, workers: 0, cache: false });
  assert.ok(outcome.runDir !== null);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, problems, dialogs } = await browser.newPage();
  await page.goto(pathToFileURL(join(outcome.runDir, 'report.html')).href);
  const rows = await page.$$('#columns tbody tr');
  assert.equal(rows.length, outcome.result.columns.length);
  for (const row of rows) assert.equal((await row.$$('svg.chart')).length, 1);
  const withData = outcome.result.columns.filter((c) => c.distribution !== null).length;
  assert.equal(await page.$$eval('#columns svg.chart-histogram, #columns svg.chart-categories', (s) => s.length), withData);
  assert.equal(await page.textContent('#drift-score .big'), String(Number(outcome.result.drift_score.toPrecision(4))));
  await page.screenshot({ path: join(OUT, 'report-adult.png'), fullPage: true });
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
});
