// Valid DriftResult objects for tests: numbers shaped like a real run of the Adult demo split
// (reference = education outside {Some-college, HS-grad, Bachelors}, current = inside).
import type { ColumnDrift, DriftResult } from '../../src/drift/result.ts';

export const HOSTILE = '<script>alert(1)</script>';

function numerical(name: string, stattest: string, opts: { threshold: number; statistic: number; p_value: number | null; score: number; drift: boolean; edges: number[]; reference: number[]; current: number[]; min: number; max: number; meanRef: number; meanCur: number }): ColumnDrift {
  const refCount = opts.reference.reduce((a, b) => a + b, 0);
  const curCount = opts.current.reduce((a, b) => a + b, 0);
  return {
    name,
    type: 'numerical',
    stattest,
    threshold: opts.threshold,
    statistic: opts.statistic,
    p_value: opts.p_value,
    stattest_score: opts.p_value ?? opts.statistic,
    score: opts.score,
    score_method: opts.p_value === null ? stattest : 'ks_distance',
    drift_detected: opts.drift,
    error: null,
    reference: { count: refCount, missing: 0, min: opts.min, max: opts.max, mean: opts.meanRef },
    current: { count: curCount, missing: 0, min: opts.min, max: opts.max, mean: opts.meanCur },
    distribution: { kind: 'histogram', edges: opts.edges, reference: opts.reference, current: opts.current },
  };
}

function categorical(name: string, stattest: string, opts: { threshold: number; statistic: number; p_value: number | null; score: number; drift: boolean; categories: string[]; reference: number[]; current: number[] }): ColumnDrift {
  const refCount = opts.reference.reduce((a, b) => a + b, 0);
  const curCount = opts.current.reduce((a, b) => a + b, 0);
  return {
    name,
    type: 'categorical',
    stattest,
    threshold: opts.threshold,
    statistic: opts.statistic,
    p_value: opts.p_value,
    stattest_score: opts.p_value ?? opts.statistic,
    score: opts.score,
    score_method: opts.p_value === null ? stattest : 'total_variation',
    drift_detected: opts.drift,
    error: null,
    reference: { count: refCount, missing: 0, distinct: opts.categories.length },
    current: { count: curCount, missing: 0, distinct: opts.categories.length },
    distribution: { kind: 'categories', categories: opts.categories, reference: opts.reference, current: opts.current },
  };
}

/** A full result; `hostile` puts a script tag into a column name and a category value. */
export function makeResult(opts: { runId?: string; finishedAt?: string; driftScore?: number; hostile?: boolean } = {}): DriftResult {
  const runId = opts.runId ?? '20261126T150000Z-a1b2c3';
  const finishedAt = opts.finishedAt ?? '2026-11-26T15:00:04.512Z';
  const columns: ColumnDrift[] = [
    numerical('age', 'wasserstein', {
      threshold: 0.1, statistic: 0.1894, p_value: null, score: 0.1894, drift: true,
      edges: [17, 24.3, 31.6, 38.9, 46.2, 53.5, 60.8, 68.1, 75.4, 82.7, 90],
      reference: [3120, 2210, 2150, 2010, 1640, 1210, 900, 520, 260, 135],
      current: [6020, 7310, 7450, 6120, 4190, 2140, 1010, 330, 90, 27],
      min: 17, max: 90, meanRef: 40.1, meanCur: 37.9,
    }),
    numerical('hours-per-week', 'wasserstein', {
      threshold: 0.1, statistic: 0.0412, p_value: null, score: 0.0412, drift: false,
      edges: [1, 10.8, 20.6, 30.4, 40.2, 50, 59.8, 69.6, 79.4, 89.2, 99],
      reference: [310, 980, 1120, 7400, 1900, 1350, 610, 260, 120, 105],
      current: [620, 2150, 2710, 18900, 4900, 3600, 1180, 420, 130, 77],
      min: 1, max: 99, meanRef: 40.2, meanCur: 40.5,
    }),
    numerical('capital-gain', 'ks', {
      threshold: 0.05, statistic: 0.0231, p_value: 0.0007, score: 0.0231, drift: true,
      edges: [0, 9999.9, 19999.8, 29999.7, 39999.6, 49999.5, 59999.4, 69999.3, 79999.2, 89999.1, 99999],
      reference: [13710, 240, 40, 10, 5, 0, 0, 0, 0, 150],
      current: [34210, 310, 50, 12, 5, 2, 0, 0, 0, 98],
      min: 0, max: 99999, meanRef: 1620.3, meanCur: 901.7,
    }),
    categorical('education', 'jensenshannon', {
      threshold: 0.1, statistic: 0.8326, p_value: null, score: 0.8326, drift: true,
      categories: ['Masters', '11th', 'Assoc-voc', '10th', 'Assoc-acdm', '7th-8th', 'Prof-school', '(other)', 'HS-grad', 'Some-college', 'Bachelors'],
      reference: [2657, 1812, 2061, 1389, 1601, 955, 834, 2846, 0, 0, 0],
      current: [0, 0, 0, 0, 0, 0, 0, 0, 15784, 10878, 8025],
    }),
    categorical(opts.hostile ? HOSTILE : 'sex', 'jensenshannon', {
      threshold: 0.1, statistic: 0.0157, p_value: null, score: 0.0157, drift: false,
      categories: ['Male', 'Female'],
      reference: [9530, 4625],
      current: [23120, 11567],
    }),
    categorical('workclass', 'chisquare', {
      threshold: 0.05, statistic: 412.7, p_value: 1.2e-86, score: 0.0841, drift: true,
      categories: ['Private', 'Self-emp-not-inc', 'Local-gov', opts.hostile ? HOSTILE : 'State-gov', '(other)'],
      reference: [9420, 1310, 1020, 610, 1795],
      current: [24590, 2550, 2120, 1370, 4057],
    }),
  ];
  columns.push({
    name: 'native-country', type: 'categorical', stattest: 'jensenshannon', threshold: 0.1,
    statistic: null, p_value: null, stattest_score: null, score: null, score_method: null, drift_detected: false,
    error: { code: 'all_missing', message: 'every current value is missing' },
    reference: { count: 13901, missing: 254, distinct: 41 }, current: { count: 0, missing: 34687, distinct: 0 },
    distribution: null,
  });
  const tested = columns.filter((c) => c.error === null);
  const drifted = tested.filter((c) => c.drift_detected).length;
  const meanScore = tested.reduce((a, c) => a + (c.score ?? 0), 0) / tested.length;
  return {
    schema_version: 1,
    run_id: runId,
    started_at: new Date(Date.parse(finishedAt) - 4512).toISOString(),
    finished_at: finishedAt,
    window: { since: '1h', from: '2026-11-26T14:00:01.204Z', to: '2026-11-26T14:59:58.771Z' },
    reference: { path: 'data/reference.csv', rows: 14155 },
    current: { path: 'data/live', rows: 34687, files: 2, torn_lines: 1, skipped_rows: 0 },
    compat: true,
    columns,
    prediction: categorical('prediction', 'jensenshannon', {
      threshold: 0.1, statistic: 0.1123, p_value: null, score: 0.1123, drift: true,
      categories: ['<=50K', '>50K'],
      reference: [11210, 2945],
      current: [25310, 9377],
    }),
    drifted_columns: drifted,
    tested_columns: tested.length,
    drift_share: drifted / tested.length,
    drift_share_threshold: 0.5,
    dataset_drift: drifted / tested.length >= 0.5,
    drift_score: opts.driftScore ?? Math.round(meanScore * 1e4) / 1e4,
  };
}
