/**
 * Special functions and distribution tails used by the stat tests.
 *
 * Library first: incomplete gamma / beta, erf/erfc and log-gamma come from stdlib-js (well kept,
 * ports of Boost/Cephes with ~1e-15 relative accuracy). What is hand-written here is either a thin
 * composition of those (chi-square / t / normal tails, written the way SciPy's Cephes wrappers
 * compose them, so that p-values agree to ~1e-15) or something no maintained npm package offers
 * (the modified Bessel function K_nu for non-integer nu, needed by Cramér–von Mises).
 */
import { createRequire } from 'node:module';

// The stdlib-js functions are required on first use: loading them is ~100 ms of module resolution
// (each pulls in dozens of small packages), and most drift runs (normed Wasserstein, Jensen–Shannon
// above 1000 reference rows) never call them.
const require = createRequire(import.meta.url);
interface Stdlib {
  gammainc(x: number, s: number, regularized: boolean, upper: boolean): number;
  betainc(x: number, a: number, b: number, regularized: boolean, upper: boolean): number;
  erf(x: number): number;
  erfc(x: number): number;
  gammaln(x: number): number;
}
let lib: Stdlib | null = null;
function stdlib(): Stdlib {
  lib ??= {
    gammainc: require('@stdlib/math-base-special-gammainc'),
    betainc: require('@stdlib/math-base-special-betainc'),
    erf: require('@stdlib/math-base-special-erf'),
    erfc: require('@stdlib/math-base-special-erfc'),
    gammaln: require('@stdlib/math-base-special-gammaln'),
  };
  return lib;
}
const gammainc: Stdlib['gammainc'] = (x, s, regularized, upper) => stdlib().gammainc(x, s, regularized, upper);
const betainc: Stdlib['betainc'] = (x, a, b, regularized, upper) => stdlib().betainc(x, a, b, regularized, upper);
const erf = (x: number): number => stdlib().erf(x);
const erfc = (x: number): number => stdlib().erfc(x);

/** log Γ(x) (stdlib-js). */
export const gammaln = (x: number): number => stdlib().gammaln(x);

/** Chi-square survival function: P(X > x), X ~ chi2(df). SciPy: chdtrc(df, x) = igamc(df/2, x/2), df = 0 included. */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df >= 0)) return Number.NaN;
  // Cephes igamc(0, x): the df = 0 distribution is a point mass at 0 — sf 0 for x > 0, NaN at x = 0 (as SciPy)
  if (df === 0) return x > 0 ? 0 : Number.NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return gammainc(x / 2, df / 2, true, true);
}

/**
 * Standard normal CDF, composed exactly like Cephes `ndtr` (which SciPy's norm.cdf and
 * special.ndtr use): erf near 0, erfc in the tails. Reproducing the branch matters because callers
 * such as Evidently compute `1 - norm.cdf(z)`, whose rounding then matches SciPy's bit for bit.
 */
export function ndtr(a: number): number {
  if (Number.isNaN(a)) return Number.NaN;
  const x = a * Math.SQRT1_2;
  const z = Math.abs(x);
  if (z < Math.SQRT1_2) return 0.5 + 0.5 * erf(x);
  const y = 0.5 * erfc(z);
  return x > 0 ? 1 - y : y;
}

/** Student t survival function P(T > t) with df degrees of freedom (SciPy: stdtr(df, -t)). */
export function tSf(t: number, df: number): number {
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const x = df / (df + t * t);
  const tail = 0.5 * betainc(x, df / 2, 0.5, true, false);
  return t > 0 ? tail : 1 - tail;
}

/**
 * Modified Bessel function of the second kind K_nu(x), x > 0.
 * Hand-written: no maintained npm package provides K for fractional order (needed: nu = 1/4 in
 * the Cramér–von Mises limit distribution). Uses the integral K_nu(x) = ∫_0^∞ exp(-x cosh t)
 * cosh(nu t) dt with the trapezoidal rule, which converges geometrically for this analytic,
 * doubly-exponentially decaying integrand (relative error < 1e-15 with step 1/64 for x ≥ 1e-3).
 */
export function besselK(nu: number, x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : Number.NaN;
  const h = x < 0.05 ? 1 / 256 : 1 / 64;
  // Integrand is exp(-x cosh t + nu t)/2 + ... ; stop when the exponent is below -745 (exp underflows).
  let sum = 0.5 * Math.exp(-x);
  for (let k = 1; ; k++) {
    const t = k * h;
    const term = Math.exp(-x * Math.cosh(t)) * Math.cosh(nu * t);
    sum += term;
    if (term < sum * 1e-18 && x * Math.cosh(t) > 40) break;
    if (k > 1e6) break;
  }
  return sum * h;
}

/** log of the binomial coefficient C(n, k) for integers 0 ≤ k ≤ n. */
export function logBinom(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/**
 * Binomial coefficient as a double, like SciPy's special.binom for integer arguments (a product of
 * ratios for small k, exp(log) otherwise). Exact for results < 2^53.
 */
export function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  if (k > n - k) k = n - k;
  if (k === 0) return 1;
  if (k < 20) {
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r < 2 ** 53 ? Math.round(r) : r;
  }
  return Math.exp(logBinom(n, k));
}
