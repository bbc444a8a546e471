/**
 * Realized classification metrics from true and predicted class indices (0..K−1, the model card's
 * class order) and, when known, the predicted probabilities. Pure functions, no I/O. Each matches
 * scikit-learn's function of the same name (NannyML's realized-performance calculator calls those),
 * checked against goldens in test/stats/classification.test.ts.
 */

/** `cm[t][p]`: rows with true class t predicted as p (sklearn `confusion_matrix(y_true, y_pred, labels=range(K))`). */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) cm[yTrue[i]][yPred[i]]++;
  return cm;
}

export interface ClassScores {
  /** tp / (tp + fp); 0 when nothing was predicted as the class (sklearn `zero_division` default). */
  precision: number;
  /** tp / (tp + fn); 0 when the class never occurs. */
  recall: number;
  /** 2·P·R / (P + R); 0 when both are 0. */
  f1: number;
  /** Rows whose true class is this one. */
  support: number;
}

/** Per-class precision, recall and F1 from a confusion matrix (sklearn `precision_recall_fscore_support(average=None)`). */
export function classScores(cm: number[][]): ClassScores[] {
  const k = cm.length;
  return cm.map((row, c) => {
    const tp = row[c];
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += cm[t][c];
    const support = row.reduce((a, b) => a + b, 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    // sklearn computes F1 as 2·tp / (2·tp + fp + fn), which equals 2PR/(P+R) but rounds differently.
    const denom = predicted + support;
    const f1 = denom === 0 ? 0 : (2 * tp) / denom;
    return { precision, recall, f1, support };
  });
}

/**
 * Binary ROC AUC of scores for the positive class: the Mann–Whitney statistic
 * AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), R₊ the sum of the positives' mid-ranks (ties count ½),
 * which is the area under sklearn's trapezoidal ROC curve (`roc_auc_score(y, score)`).
 * NaN when one class is absent (sklearn raises).
 */
export function rocAucBinary(isPositive: ArrayLike<boolean | number>, score: ArrayLike<number>): number {
  const n = score.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[a] - score[b]);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]] === score[order[i]]) j++;
    const mid = (i + j + 2) / 2; // 1-based mid-rank of the tie group
    for (let m = i; m <= j; m++) {
      if (isPositive[order[m]]) {
        nPos++;
        rankSum += mid;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Multiclass one-vs-rest macro ROC AUC: the mean over classes of `rocAucBinary(y == c, proba[:, c])`
 * (sklearn `roc_auc_score(y, proba, multi_class='ovr', average='macro')`). For K = 2 it is the
 * binary AUC of class 1. `proba` is row-major n×K.
 */
export function rocAucOvr(yTrue: ArrayLike<number>, proba: Float64Array, k: number): { macro: number; perClass: number[] } {
  const n = yTrue.length;
  const col = new Float64Array(n);
  const pos = new Uint8Array(n);
  const perClass: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      col[i] = proba[i * k + c];
      pos[i] = yTrue[i] === c ? 1 : 0;
    }
    perClass.push(rocAucBinary(pos, col));
  }
  const macro = k === 2 ? perClass[1] : perClass.reduce((a, b) => a + b, 0) / k;
  return { macro, perClass };
}

/**
 * Mean negative log-likelihood of the true class, −(1/n)·Σ log p̂(yᵢ), with p̂ clipped to
 * [ε, 1−ε], ε = 2⁻⁵² (sklearn `log_loss(y, proba, labels=range(K))` for float64 input).
 */
export function logLoss(yTrue: ArrayLike<number>, proba: Float64Array, k: number): number {
  const eps = Number.EPSILON;
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(Math.max(proba[i * k + yTrue[i]], eps), 1 - eps);
    s -= Math.log(p);
  }
  return s / yTrue.length;
}

export interface ClassificationMetrics {
  rows: number;
  accuracy: number;
  precision_macro: number;
  recall_macro: number;
  f1_macro: number;
  /** One-vs-rest macro ROC AUC (binary: AUC of the second class); null without probabilities or with one class only. */
  roc_auc: number | null;
  log_loss: number | null;
  per_class: (ClassScores & { label: string; roc_auc: number | null })[];
  /** `confusion_matrix[t][p]`, in class order. */
  confusion_matrix: number[][];
}

/**
 * All realized metrics at once. `proba` (row-major n×K) may be null when the probabilities are
 * unknown; then ROC AUC and log loss are null. Macro averages are unweighted means over all K classes.
 */
export function classificationMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, proba: Float64Array | null, classes: readonly string[]): ClassificationMetrics {
  const k = classes.length;
  const n = yTrue.length;
  const cm = confusionMatrix(yTrue, yPred, k);
  const scores = classScores(cm);
  let correct = 0;
  for (let c = 0; c < k; c++) correct += cm[c][c];
  const auc = proba === null || n === 0 ? null : rocAucOvr(yTrue, proba, k);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    rows: n,
    accuracy: n === 0 ? NaN : correct / n,
    precision_macro: mean(scores.map((s) => s.precision)),
    recall_macro: mean(scores.map((s) => s.recall)),
    f1_macro: mean(scores.map((s) => s.f1)),
    roc_auc: auc === null ? null : finite(auc.macro),
    log_loss: proba === null || n === 0 ? null : logLoss(yTrue, proba, k),
    per_class: scores.map((s, c) => ({ label: classes[c], ...s, roc_auc: auc === null ? null : finite(auc.perClass[c]) })),
    confusion_matrix: cm,
  };
}
