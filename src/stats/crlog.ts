/**
 * Natural logarithm rounded to nearest from a double-double evaluation (≈ 100 correct bits), for
 * the TF-IDF weights of the text drift tests. V8's `Math.log` is faithful but not correctly rounded
 * (about 5 % of arguments land one ulp off the nearest double), and those ulps grow, through the
 * L1-truncated SGD, into different classifiers. numpy's float64 `log` (libm, or Intel SVML on
 * AVX-512 machines) is within a hair of correct rounding, so this matches it far more often.
 *
 * Method: x = 2^k · m with m ∈ [√½, √2); ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, summed
 * as Σ s^(2i+1)/(2i+1) in double-double until the terms drop below 2^-110; plus k · ln 2 (ln 2 in
 * double-double). The final double-double → double conversion is the rounding.
 */

type DD = [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, (a - (s - bb)) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

const SPLITTER = 134217729; // 2^27 + 1

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b), bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return quickTwoSum(s, e + (a[1] + b[1]));
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function ddDiv(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = ddAdd(a, ddMul([-q1, 0], b));
  const q2 = r[0] / b[0];
  r = ddAdd(r, ddMul([-q2, 0], b));
  const q3 = r[0] / b[0];
  const q = quickTwoSum(q1, q2);
  return ddAdd(q, [q3, 0]);
}

const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];
const view = new DataView(new ArrayBuffer(8));

/** ln x for finite x > 0 (other inputs: Math.log's answer). */
export function logRn(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  if (x === 1) return 0;
  let k = 0;
  let m = x;
  if (m < 2.2250738585072014e-308) { m *= 2 ** 54; k -= 54; }
  view.setFloat64(0, m);
  const hiWord = view.getUint32(0);
  k += ((hiWord >>> 20) & 0x7ff) - 1023;
  view.setUint32(0, (hiWord & 0x800fffff) | (1023 << 20));
  m = view.getFloat64(0); // [1, 2)
  if (m > Math.SQRT2) { m /= 2; k += 1; }
  const num: DD = [m - 1, 0]; // exact (Sterbenz)
  const den = twoSum(m, 1);
  const s = ddDiv(num, den);
  const s2 = ddMul(s, s);
  let term = s;
  let sum: DD = s;
  for (let i = 1; i < 60; i++) {
    term = ddMul(term, s2);
    const t = ddDiv(term, [2 * i + 1, 0]);
    sum = ddAdd(sum, t);
    if (Math.abs(t[0]) < Math.abs(sum[0]) * 2 ** -110) break;
  }
  let r: DD = [2 * sum[0], 2 * sum[1]];
  if (k !== 0) r = ddAdd(ddMul([k, 0], LN2), r);
  return r[0] + r[1];
}
