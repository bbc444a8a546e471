/**
 * Evidently's text-content drift score (`calculate_text_drift_score`), rebuilt step by step so that
 * its ROC AUC — and the random-classifier percentile of the bootstrap variant — come out the same:
 *
 * 1. pool reference (label 0) then current (label 1) documents; split them in half with
 *    scikit-learn's `train_test_split(test_size=0.5, shuffle=True, random_state=42)`: numpy
 *    `RandomState(42).permutation(n)`, the first ⌈n/2⌉ positions are the test set, the rest (in
 *    permutation order) the training set;
 * 2. TF-IDF features learned on the training half (`TfidfVectorizer(sublinear_tf=True, max_df=0.5,
 *    stop_words="english")`): lower-case, tokens = runs of ≥ 2 word characters, English stop words
 *    dropped; terms in more than half the training documents dropped; tf = 1 + ln(count),
 *    idf = ln((n + 1)/(df + 1)) + 1, rows scaled to unit Euclidean norm;
 * 3. a linear domain classifier trained by scikit-learn's plain SGD (`SGDClassifier(alpha=1e-4,
 *    max_iter=50, penalty="l1", loss="modified_huber", random_state=42)`, see `trainSgd`);
 * 4. P(current) = (clip(w·x + b, −1, 1) + 1)/2 on the test half; score = ROC AUC (ties count ½),
 *    computed like `roc_auc_score` (trapezoids over the distinct thresholds).
 * 5. bootstrap variant only: the 100·(1 − p)-th percentile (numpy linear interpolation) of 1000 ROC
 *    AUCs of uniform random scores on the same test labels, each drawn after `np.random.seed(s)` with
 *    the 1000 seeds s drawn as `randint(0, 10000)` after `np.random.seed(42)`.
 *
 * Each floating-point operation follows the order scikit-learn / numpy use (sequential sums in stored
 * sparse order, numpy's pairwise sum in the trapezoid rule), so exact ties — clipped probabilities,
 * duplicate documents, AUC equal to the threshold — fall the same way. Logarithms are correctly
 * rounded (`logRn`): numpy's own float64 `log` is Intel SVML on AVX-512 machines (libm elsewhere),
 * which is off by one ulp on ~0.07 % of arguments; such an ulp can change the SGD trajectory (L1
 * truncation at zero, the 1e-3 stopping rule), so Evidently's score itself depends on the CPU's
 * numpy dispatch in rare cases (see docs/stattests.md).
 */
import { logRn } from './crlog.ts';
import { LegacyRandomState } from './random.ts';
import { ENGLISH_STOP_WORDS } from './stopwords.ts';
import { StatTestError } from './types.ts';
import { pairwiseSum } from './tests/rank.ts';

/** Python `str` ordering (code points), which differs from UTF-16 order only for astral characters. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator](), ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next(), y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!, cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Python's `\w` (str.isalnum() or '_'): letters and numbers of any script; runs of ≥ 2 are tokens. */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** Lower-case, tokenise (`(?u)\b\w\w+\b`), drop English stop words — in document order. */
export function analyze(doc: string): string[] {
  const out: string[] = [];
  for (const m of doc.toLowerCase().matchAll(TOKEN)) if (!ENGLISH_STOP_WORDS.has(m[0])) out.push(m[0]);
  return out;
}

/** A CSR matrix (rows = documents) of float64 values. */
export interface Csr {
  data: Float64Array;
  indices: Int32Array;
  indptr: Int32Array;
  nCols: number;
}

export interface TfidfModel {
  /** term → column (columns ordered by term). */
  vocabulary: Map<string, number>;
  idf: Float64Array;
}

/** ln of a term count (small integers, cached). */
const LOG_COUNT: number[] = [];
function logCount(c: number): number {
  if (c < 256 && Number.isInteger(c)) return (LOG_COUNT[c] ??= logRn(c));
  return logRn(c);
}

/** In place: tf → 1 + ln tf, × idf, then each row divided by its Euclidean norm (sum in stored order). */
function weightRows(m: Csr, idf: Float64Array): void {
  const { data, indices, indptr } = m;
  for (let k = 0; k < data.length; k++) data[k] = logCount(data[k]) + 1.0;
  for (let k = 0; k < data.length; k++) data[k] *= idf[indices[k]];
  for (let r = 0; r + 1 < indptr.length; r++) {
    let s = 0.0;
    for (let k = indptr[r]; k < indptr[r + 1]; k++) s += data[k] * data[k];
    if (s === 0.0) continue;
    s = Math.sqrt(s);
    for (let k = indptr[r]; k < indptr[r + 1]; k++) data[k] /= s;
  }
}

/**
 * Fit the vectorizer on the training documents and return the training matrix. Within a row the
 * entries stay in the order scikit-learn leaves them: by the term's first appearance in the training
 * documents (its counting order), not by column — this is the order SGD visits them in.
 */
export function fitTfidf(docs: readonly string[]): { model: TfidfModel; X: Csr } {
  const firstSeen = new Map<string, number>();
  const rows: Map<number, number>[] = [];
  for (const doc of docs) {
    const counts = new Map<number, number>();
    for (const tok of analyze(doc)) {
      let id = firstSeen.get(tok);
      if (id === undefined) { id = firstSeen.size; firstSeen.set(tok, id); }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    rows.push(counts);
  }
  if (firstSeen.size === 0) throw new StatTestError('evidently_failure', 'empty vocabulary; perhaps the documents only contain stop words (scikit-learn raises, so Evidently fails)');
  const nTerms = firstSeen.size;
  const df = new Float64Array(nTerms);
  for (const row of rows) for (const id of row.keys()) df[id]++;
  const maxDocCount = 0.5 * docs.length;
  const terms = [...firstSeen.keys()];
  const kept = terms.filter((t) => df[firstSeen.get(t)!] <= maxDocCount);
  if (kept.length === 0) throw new StatTestError('evidently_failure', 'after pruning (max_df=0.5), no terms remain (scikit-learn raises, so Evidently fails)');
  kept.sort(compareCodePoints);
  const column = new Int32Array(nTerms).fill(-1);
  const vocabulary = new Map<string, number>();
  kept.forEach((t, j) => { column[firstSeen.get(t)!] = j; vocabulary.set(t, j); });
  const indptr = new Int32Array(rows.length + 1);
  const idx: number[] = [], val: number[] = [];
  rows.forEach((row, r) => {
    const ids = [...row.keys()].sort((a, b) => a - b); // first-seen order
    for (const id of ids) if (column[id] >= 0) { idx.push(column[id]); val.push(row.get(id)!); }
    indptr[r + 1] = idx.length;
  });
  const idf = new Float64Array(kept.length);
  const nPlus = docs.length + 1;
  for (let j = 0; j < kept.length; j++) idf[j] = logRn(nPlus / (df[firstSeen.get(kept[j])!] + 1.0)) + 1.0;
  const X: Csr = { data: Float64Array.from(val), indices: Int32Array.from(idx), indptr, nCols: kept.length };
  weightRows(X, idf);
  return { model: { vocabulary, idf }, X };
}

/** Transform documents with a fitted vectorizer (unknown terms ignored; entries by column). */
export function transformTfidf(model: TfidfModel, docs: readonly string[]): Csr {
  const indptr = new Int32Array(docs.length + 1);
  const idx: number[] = [], val: number[] = [];
  docs.forEach((doc, r) => {
    const counts = new Map<number, number>();
    for (const tok of analyze(doc)) {
      const j = model.vocabulary.get(tok);
      if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    for (const j of [...counts.keys()].sort((a, b) => a - b)) { idx.push(j); val.push(counts.get(j)!); }
    indptr[r + 1] = idx.length;
  });
  const X: Csr = { data: Float64Array.from(val), indices: Int32Array.from(idx), indptr, nCols: model.idf.length };
  weightRows(X, model.idf);
  return X;
}

/** numpy legacy `randint(low, high)` for high − low ≤ 2^32: masked rejection on 32-bit draws. */
function randint(rs: LegacyRandomState, low: number, high: number): number {
  const range = high - 1 - low;
  if (range === 0) return low;
  let mask = range;
  mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
  mask >>>= 0;
  let v: number;
  do { v = (rs.nextUint32() & mask) >>> 0; } while (v > range);
  return low + v;
}

/** numpy legacy `random_sample()`: 53 random bits from two 32-bit draws. */
function randomSample(rs: LegacyRandomState): number {
  const a = rs.nextUint32() >>> 5, b = rs.nextUint32() >>> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

export interface SgdModel {
  coef: Float64Array;
  intercept: number;
  epochs: number;
}

const ALPHA = 1e-4;
const MAX_ITER = 50;
const TOL = 1e-3;
const N_ITER_NO_CHANGE = 5;
/** scikit-learn damps intercept updates on sparse input. */
const SPARSE_INTERCEPT_DECAY = 0.01;
const INT32_MAX = 2147483647;

function modifiedHuberLoss(y: number, p: number): number {
  const z = p * y;
  if (z >= 1.0) return 0.0;
  if (z >= -1.0) return (1.0 - z) * (1.0 - z);
  return -4.0 * z;
}

function modifiedHuberGradient(y: number, p: number): number {
  const z = p * y;
  if (z >= 1.0) return 0.0;
  if (z >= -1.0) return 2.0 * (1.0 - z) * -y;
  return -4.0 * y;
}

/**
 * scikit-learn's plain SGD for `SGDClassifier(loss="modified_huber", penalty="l1", alpha=1e-4,
 * max_iter=50, tol=1e-3, n_iter_no_change=5, random_state=42)` on a sparse matrix, y ∈ {−1, +1}:
 *
 * - modified Huber loss L(z) = max(0, 1 − z)² for z ≥ −1, −4z below (z = y·(w·x + b));
 * - 'optimal' step η_t = 1/(α(t₀ + t − 1)), t = 1, 2, … over all samples and epochs, with
 *   t₀ = 1/(η₀α) and η₀ = τ/max(1, −L′(−τ)), τ = sqrt(1/sqrt(α)) (Bottou's heuristic);
 * - per sample: w ← w − η L′ x, b ← b − 0.01 · η L′ (sparse intercept decay), then the L1 penalty by
 *   Tsuruoka et al.'s cumulative truncation (u += ηα; each touched weight moves towards 0 by what
 *   remains of u after its own accumulated penalty q_j, never crossing 0);
 * - each epoch visits the samples in the order of a Fisher–Yates pass driven by a xorshift32 stream
 *   restarted from the same seed every epoch (applied to the previous epoch's order); the seed is
 *   `RandomState(42)`'s second `randint(2^31 − 1)` (the first one seeds a generator SGD never uses);
 * - stop after 5 consecutive epochs whose mean objective (loss + α·‖w‖₁ as scikit-learn tracks it:
 *   the L1 norm of the coefficients touched by the latest update only) is not below the best by 1e-3.
 */
export function trainSgd(X: Csr, y: Float64Array): SgdModel {
  const n = y.length;
  const rs = new LegacyRandomState(42);
  randint(rs, 1, INT32_MAX); // the sequential dataset's own seed (used only for sampling with replacement)
  const seed0 = randint(rs, 0, INT32_MAX) >>> 0;

  const w = new Float64Array(X.nCols);
  const q = new Float64Array(X.nCols);
  let intercept = 0.0;
  let l1Norm = 0.0; // scikit-learn's running `l1_norm` (see above)
  let u = 0.0;
  let t = 1.0;
  const typw = Math.sqrt(1.0 / Math.sqrt(ALPHA));
  const eta0 = typw / Math.max(1.0, modifiedHuberGradient(1.0, -typw));
  const optimalInit = 1.0 / (eta0 * ALPHA);

  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let bestObjective = Infinity;
  let noImprovement = 0;
  let epoch = 0;
  const { data, indices, indptr } = X;
  for (epoch = 0; epoch < MAX_ITER; epoch++) {
    let objectiveSum = 0.0;
    // Fisher–Yates with xorshift32 (our_rand_r), the same seed every epoch
    let s = seed0 === 0 ? 1 : seed0;
    for (let i = 0; i < n - 1; i++) {
      if (s === 0) s = 1;
      s = (s ^ (s << 13)) >>> 0;
      s = (s ^ (s >>> 17)) >>> 0;
      s = (s ^ (s << 5)) >>> 0;
      const r = s % 2147483648;
      const j = i + (r % (n - i));
      const tmp = order[i]; order[i] = order[j]; order[j] = tmp;
    }
    for (let k = 0; k < n; k++) {
      const row = order[k];
      const lo = indptr[row], hi = indptr[row + 1];
      const yi = y[row];
      let dot = 0.0;
      for (let e = lo; e < hi; e++) dot += w[indices[e]] * data[e];
      const p = dot + intercept;
      const eta = 1.0 / (ALPHA * (optimalInit + t - 1));
      objectiveSum += modifiedHuberLoss(yi, p);
      objectiveSum += ALPHA * (0.0 + 1.0 * l1Norm);
      let dloss = modifiedHuberGradient(yi, p);
      if (dloss < -1e12) dloss = -1e12; else if (dloss > 1e12) dloss = 1e12;
      const update = -eta * dloss;
      if (update !== 0.0) {
        let l1 = 0.0;
        for (let e = lo; e < hi; e++) {
          const j = indices[e];
          w[j] += data[e] * update;
          l1 += Math.abs(w[j]);
        }
        l1Norm = l1;
        intercept += update * SPARSE_INTERCEPT_DECAY;
      }
      u += 1.0 * eta * ALPHA;
      for (let e = lo; e < hi; e++) {
        const j = indices[e];
        const z = w[j];
        if (z > 0.0) w[j] = Math.max(0.0, w[j] - (u + q[j]));
        else if (z < 0.0) w[j] = Math.min(0.0, w[j] + (u - q[j]));
        q[j] += w[j] - z;
      }
      t += 1;
    }
    if (!Number.isFinite(intercept) || w.some((v) => !Number.isFinite(v))) {
      throw new StatTestError('evidently_failure', `floating-point overflow in SGD at epoch ${epoch + 1} (scikit-learn raises)`);
    }
    const objective = objectiveSum / n;
    if (objective > bestObjective - TOL) noImprovement++;
    else noImprovement = 0;
    if (objective < bestObjective) bestObjective = objective;
    if (noImprovement >= N_ITER_NO_CHANGE) break;
  }
  return { coef: w, intercept, epochs: Math.min(epoch + 1, MAX_ITER) };
}

/** P(class 1) for modified Huber: (clip(w·x + b, −1, 1) + 1)/2, the dot product in stored order. */
export function predictProba(model: SgdModel, X: Csr): Float64Array {
  const n = X.indptr.length - 1;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0.0;
    for (let e = X.indptr[r]; e < X.indptr[r + 1]; e++) s += X.data[e] * model.coef[X.indices[e]];
    s += model.intercept;
    const c = s < -1 ? -1 : s > 1 ? 1 : s;
    out[r] = (c + 1.0) / 2.0;
  }
  return out;
}

/**
 * ROC AUC as scikit-learn's `roc_auc_score` computes it: cumulative (fp, tp) counts at each distinct
 * score (descending), collinear interior points dropped, rates fp/fp_max and tp/tp_max, trapezoid
 * rule Σ Δfpr·(tpr_k + tpr_{k+1})/2 summed pairwise. NaN when only one class is present.
 */
export function rocAuc(labels: Uint8Array, scores: Float64Array): number {
  const n = labels.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i];
  if (pos === 0 || pos === n) return Number.NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const tpsAll: number[] = [], fpsAll: number[] = [];
  let tp = 0;
  for (let k = 0; k < n; k++) {
    tp += labels[order[k]];
    if (k === n - 1 || scores[order[k + 1]] !== scores[order[k]]) { tpsAll.push(tp); fpsAll.push(1 + k - tp); }
  }
  let tps = tpsAll, fps = fpsAll;
  if (fps.length > 2) {
    tps = []; fps = [];
    const m = fpsAll.length;
    for (let i = 0; i < m; i++) {
      const keep = i === 0 || i === m - 1
        || fpsAll[i + 1] - 2 * fpsAll[i] + fpsAll[i - 1] !== 0 || tpsAll[i + 1] - 2 * tpsAll[i] + tpsAll[i - 1] !== 0;
      if (keep) { tps.push(tpsAll[i]); fps.push(fpsAll[i]); }
    }
  }
  tps.unshift(0); fps.unshift(0);
  const m = tps.length;
  const fMax = fps[m - 1], tMax = tps[m - 1];
  const terms = new Float64Array(m - 1);
  for (let k = 0; k + 1 < m; k++) {
    const d = fps[k + 1] / fMax - fps[k] / fMax;
    terms[k] = (d * (tps[k + 1] / tMax + tps[k] / tMax)) / 2.0;
  }
  return pairwiseSum(terms, 0, m - 1);
}

/** numpy `percentile(values, q)` with the default linear method (NaN if any value is NaN). */
export function percentileLinear(values: Float64Array, q: number): number {
  const n = values.length;
  if (values.some((v) => Number.isNaN(v))) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const quantile = q / 100;
  const virtual = (n - 1) * quantile;
  if (virtual >= n - 1) return sorted[n - 1];
  if (virtual < 0) return sorted[0];
  const prev = Math.floor(virtual);
  const gamma = virtual - prev;
  const a = sorted[prev], b = sorted[prev + 1];
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * Evidently's `roc_auc_random_classifier_percentile(y_test, p_value)`: the 100·(1 − p_value)
 * percentile of 1000 AUCs of `np.random.rand` scores, seeds drawn from `np.random.seed(42)`.
 */
export function randomClassifierPercentile(labels: Uint8Array, pValue: number, iterations = 1000): number {
  const master = new LegacyRandomState(42);
  const seeds = new Int32Array(iterations);
  for (let i = 0; i < iterations; i++) seeds[i] = randint(master, 0, iterations * 10);
  const aucs = new Float64Array(iterations);
  const scores = new Float64Array(labels.length);
  for (let i = 0; i < iterations; i++) {
    const rs = new LegacyRandomState(seeds[i]);
    for (let k = 0; k < scores.length; k++) scores[k] = randomSample(rs);
    aucs[i] = rocAuc(labels, scores);
  }
  return percentileLinear(aucs, 100 * (1 - pValue));
}

export interface TextDriftScore {
  /** ROC AUC of the domain classifier on the held-out half (NaN if that half has one side only). */
  rocAuc: number;
  /** Held-out labels (0 = reference, 1 = current), in split order; for the bootstrap percentile. */
  testLabels: Uint8Array;
  epochs: number;
}

/** Steps 1–4 above. Throws `evidently_failure` where scikit-learn raises (so Evidently fails). */
export function domainClassifierAuc(reference: readonly string[], current: readonly string[]): TextDriftScore {
  const docs = [...reference, ...current];
  const n = docs.length;
  const nTest = Math.ceil(0.5 * n);
  const nTrain = n - nTest;
  if (nTrain === 0) throw new StatTestError('evidently_failure', `train_test_split: with ${n} document(s) the training half is empty (scikit-learn raises)`);
  const perm = new LegacyRandomState(42).permutation(n);
  const label = (i: number): number => (i < reference.length ? 0 : 1);
  const trainDocs: string[] = [], testDocs: string[] = [];
  const yTrain = new Float64Array(nTrain);
  const testLabels = new Uint8Array(nTest);
  for (let k = 0; k < nTest; k++) { testDocs.push(docs[perm[k]]); testLabels[k] = label(perm[k]); }
  for (let k = 0; k < nTrain; k++) { trainDocs.push(docs[perm[nTest + k]]); yTrain[k] = label(perm[nTest + k]) === 1 ? 1.0 : -1.0; }
  const { model, X } = fitTfidf(trainDocs);
  if (yTrain.every((v) => v === yTrain[0])) throw new StatTestError('evidently_failure', 'the training half holds documents of one side only: SGDClassifier needs two classes (scikit-learn raises)');
  const sgd = trainSgd(X, yTrain);
  const proba = predictProba(sgd, transformTfidf(model, testDocs));
  return { rocAuc: rocAuc(testLabels, proba), testLabels, epochs: sgd.epochs };
}
