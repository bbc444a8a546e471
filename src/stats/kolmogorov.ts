/**
 * Null distributions of Kolmogorov–Smirnov statistics, reimplemented from the algorithms SciPy uses
 * (no maintained npm package implements them; stdlib-js has none):
 *  - two-sample exact: Hodges' lattice-path counting (`_compute_prob_outside_square` for n1 = n2,
 *    the "inside" recursion of Viehmann 2021 for 1 − p otherwise);
 *  - one-sample two-sided D_n (scipy.stats.kstwo, Simard & L'Ecuyer 2011): Durbin matrix (Marsaglia–
 *    Tsang–Wang), Pomeranz recursion, Pelz–Good asymptotic series and the Smirnov one-sided sum
 *    (Birnbaum–Tingey), selected by the same (n, x) regions as SciPy.
 * SciPy evaluates the Smirnov sum in double-double arithmetic; here terms are summed in log space
 * with an incrementally-updated log binomial, good to ~1e-12 relative for n ≤ 1e6.
 */

/** Pr(D_{n,n} ≥ h/n), SciPy `_compute_prob_outside_square`. */
export function probOutsideSquare(n: number, h: number): number {
  let P = 0.0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1.0;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1.0 - P);
    k -= 1;
  }
  return 2 * P;
}

/** Proportion of lattice paths not staying strictly inside |x/m − y/n| < h/lcm, SciPy `_compute_outer_prob_inside_method`. */
export function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) { const t = m; m = n; n = t; }
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1.0);
  for (let j = minj; j < maxj; j++) A[j] = 0.0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1.0;
    let val = minj === 0 ? 0.0 : 1.0;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let q = maxj - minj; q < maxj - minj + (lastlen - curlen); q++) A[q] = 1;
  }
  return A[maxj - minj - 1];
}

const EP128 = 2 ** 128;
const EM128 = 2 ** -128;

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** Durbin / Marsaglia–Tsang–Wang: CDF Pr(D_n ≤ d). */
function kolmognDMTW(n: number, d: number): number {
  if (d >= 1.0) return 1.0;
  const nd = n * d;
  if (nd <= 0.5) return 0.0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1.0;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1.0 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const tt = Math.max(2 * h - 1.0, 0) ** m - 2 * h ** m;
  v[m - 1] = (1.0 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];
  let Hpwr: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  const matmul = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let kk = 0; kk < m; kk++) {
      const aik = a[i * m + kk];
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += aik * b[kk * m + j];
    }
    return out;
  };
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) { Hpwr = matmul(Hpwr, H); expnt += Hexpnt; }
    H = matmul(H, H);
    Hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] /= EP128;
      Hexpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) { p *= EP128; expnt -= 128; }
  }
  if (expnt !== 0) p = p * 2 ** expnt;
  return clip01(p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) { j1 = -ll - ceilf - 1; j2 = ll + ceilf - 1; }
  else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) { j1 = n - ll - ceilf - 1; j2 = n + ll + ceilf - 1; }
      else { j1 = ip1div2 - 1 - ll - roundf - 1; j2 = ip1div2 + ll - 1 + ceilf - 1; }
    } else { j1 = ip1div2 - 1 - ll - 1; j2 = ip1div2 + ll + roundf - 1; }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz recursion: CDF Pr(D_n ≤ x). */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = 1.0 * (t - ll);
  const g = Math.min(f, 1.0 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  let expnt = 0;
  const a1 = g / n, a2 = (2 * g) / n, a3 = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * a1) / m;
    twogpower[m] = (twogpower[m - 1] * a2) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * a3) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0, V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    const tmp = V0; V0 = V1; V1 = tmp;
    const ts = V0s; V0s = V1s; V1s = ts;
    V1.fill(0.0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      // conv[q] = Σ_r V0[k1 - V0s + r] * pwrs[q - r], r, q-r in [0, ln2)
      let mx = 0;
      for (let q = convStart; q < convStart + convLen; q++) {
        let s = 0;
        for (let r = Math.max(0, q - ln2 + 1); r <= Math.min(q, ln2 - 1); r++) s += V0[k1 - V0s + r] * pwrs[q - r];
        V1[q - convStart] = s;
        if (s > mx) mx = s;
      }
      if (mx > 0 && mx < EM128) {
        for (let q = 0; q < npwrs; q++) V1[q] *= EP128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) { ans *= EM128; expnt += 128; }
    ans *= m;
  }
  if (expnt !== 0) ans = ans * 2 ** expnt;
  return clip01(ans);
}

const PI2 = Math.PI ** 2, PI4 = Math.PI ** 4, PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/** Pelz–Good approximation of Pr(D_n ≤ x). */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2, z3 = z ** 3, z4 = z ** 4, z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0.0;
  let q = Math.exp(qlog);
  const k1a = -z2, k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4, k2b = ((2 * z4 - 5 * z2) * PI2) / 4, k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64, k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4, k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2, m4 = m ** 4, m6 = m ** 6;
    const qp = q ** (8 * k);
    const c = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT2PI) / div[i];
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0, k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const ks2 = k * k;
    const qp = q ** ks2;
    k2extra += ks2 * qp;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
  }
  K[2] += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let s = 0;
  for (let i = 0; i < 4; i++) s += K[i] / (n * 1.0) ** (i / 2.0);
  return s;
}

/** One-sided Smirnov survival Pr(D_n^+ ≥ x) (SciPy special.smirnov). */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) { nxfl += 1; alpha = 0; }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  if (n > 1000000) {
    const logp = -((6.0 * n * x + 1) ** 2) / 18.0 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  const nTerms = n1mxfl + 1;
  // A_v = C(n, v) (1 - x - v/n)^(n - v) (x + v/n)^(v - 1); sf = x Σ_{v=0}^{n1mxfl} A_v
  let logC = 0;
  let sum = 0;
  for (let v = 0; v < nTerms; v++) {
    const base2 = (n - v) / n - x;
    const base1 = v / n + x;
    const la = logC + (n - v) * Math.log(base2) + (v - 1) * Math.log(base1);
    const a = Math.exp(la);
    sum += a;
    if (a !== 0 && 4 * (nTerms - v) * a < Number.EPSILON * sum && v !== nTerms - 1) break;
    if (a === 0 && v > n / 2) break;
    logC += Math.log((n - v) / (v + 1));
  }
  return clip01(x * sum);
}

/** log(n! / n^n) via Stirling, as SciPy `_log_nfactorial_div_n_pow_n`. */
function logNfactDivNpowN(n: number): number {
  const c = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
    -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2];
  const rn = 1.0 / n;
  const t = rn / n;
  let p = 0;
  for (const ci of c) p = p * t + ci;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * p;
}

/** Survival function of the two-sided one-sample KS statistic D_n (scipy.stats.kstwo.sf). */
export function kolmognSf(n: number, x: number): number {
  if (x <= 0.5 / n) return 1.0; // below the support, rv_continuous returns 1
  if (x >= 1.0) return 0.0;
  const t = n * x;
  if (t <= 1.0) {
    if (t <= 0.5) return 1.0;
    let prob: number;
    if (n <= 140) { prob = 1; for (let i = 1; i <= n; i++) prob *= i * (1.0 / n) * (2 * t - 1); }
    else prob = Math.exp(logNfactDivNpowN(n) + n * Math.log(2 * t - 1));
    return clip01(1.0 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1.0 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxsq = t * x;
  if (n <= 140) {
    if (nxsq <= 0.754693) return clip01(1.0 - kolmognDMTW(n, x));
    if (nxsq <= 4) return clip01(1.0 - kolmognPomeranz(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxsq >= 370.0) return 0.0;
  if (nxsq >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxsq >= 18.0) cdf = 1.0;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmognDMTW(n, x);
  else cdf = kolmognPelzGood(n, x);
  return clip01(1.0 - clip01(cdf));
}

