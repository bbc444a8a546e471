/**
 * Multiple-testing control across the p-values of one drift run (one p-value per tested column).
 * Hand-written: the two procedures are a few lines each, and no maintained npm package exposes
 * adjusted p-values with statsmodels' conventions (ties, capping at 1).
 */

export type MultipleTestingMethod = 'bonferroni' | 'bh';

export interface MultipleTestingResult {
  /** Adjusted p-value per input, in input order; NaN where the input was not a finite p-value. */
  adjusted: number[];
  /** Rejected at level alpha, decided as statsmodels does (false for NaN inputs). */
  reject: boolean[];
  /** Number of finite p-values the correction was taken over. */
  m: number;
}

/**
 * Bonferroni: p̃ᵢ = min(1, m·pᵢ); reject when p̃ᵢ ≤ α, i.e. pᵢ ≤ α/m.
 * Controls the family-wise error rate P(any false rejection) ≤ α under any dependence.
 * Matches `statsmodels.stats.multitest.multipletests(p, alpha, method='bonferroni')`.
 */
export function bonferroni(pValues: readonly number[], alpha = 0.05): MultipleTestingResult {
  // reject on p ≤ α/m (statsmodels' comparison; m·p can round above α when p = α/m exactly)
  return correct(pValues, alpha, (finite) => ({
    adjusted: finite.map((p) => Math.min(1, p * finite.length)),
    reject: finite.map((p) => p <= alpha / finite.length),
  }));
}

/**
 * Benjamini–Hochberg step-up: with p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = min over j ≥ i of min(1, m·p₍ⱼ₎ / j);
 * reject when p̃ᵢ ≤ α. Controls the false discovery rate ≤ α for independent or positively dependent
 * tests; under the global null (no column drifted) "any rejection" is Simes' test, so
 * P(any rejection) ≤ α there too. Matches `scipy.stats.false_discovery_control(p, method='bh')` and
 * `multipletests(p, alpha, method='fdr_bh')`.
 */
export function benjaminiHochberg(pValues: readonly number[], alpha = 0.05): MultipleTestingResult {
  return correct(pValues, alpha, (finite) => {
    const m = finite.length;
    const order = finite.map((_, i) => i).sort((a, b) => finite[a] - finite[b]);
    const adjusted = new Array<number>(m);
    let running = 1;
    for (let r = m - 1; r >= 0; r--) {
      const i = order[r];
      running = Math.min(running, (finite[i] * m) / (r + 1));
      adjusted[i] = running;
    }
    // step-up as statsmodels decides it: the largest rank r with p₍ᵣ₎ ≤ α·r/m, and every rank below it
    let last = -1;
    for (let r = 0; r < m; r++) if (finite[order[r]] <= (alpha * (r + 1)) / m) last = r;
    const reject = new Array<boolean>(m).fill(false);
    for (let r = 0; r <= last; r++) reject[order[r]] = true;
    return { adjusted, reject };
  });
}

/** Dispatch by name. */
export function adjustPValues(method: MultipleTestingMethod, pValues: readonly number[], alpha = 0.05): MultipleTestingResult {
  return method === 'bonferroni' ? bonferroni(pValues, alpha) : benjaminiHochberg(pValues, alpha);
}

function correct(pValues: readonly number[], alpha: number, adjust: (finite: number[]) => { adjusted: number[]; reject: boolean[] }): MultipleTestingResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  const idx: number[] = [];
  const finite: number[] = [];
  pValues.forEach((p, i) => {
    if (Number.isFinite(p)) {
      if (p < 0 || p > 1) throw new RangeError(`p-value out of [0, 1] at index ${i}: ${p}`);
      idx.push(i);
      finite.push(p);
    }
  });
  const adjusted = new Array<number>(pValues.length).fill(NaN);
  const reject = new Array<boolean>(pValues.length).fill(false);
  const res = adjust(finite);
  idx.forEach((i, k) => {
    adjusted[i] = res.adjusted[k];
    reject[i] = res.reject[k];
  });
  return { adjusted, reject, m: finite.length };
}
