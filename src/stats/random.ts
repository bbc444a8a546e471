/**
 * numpy's legacy global RNG (RandomState: MT19937 seeded with init_genrand, `permutation` by the
 * Fisher–Yates variant of `_shuffle_raw` with masked rejection sampling) — hand-written because
 * Evidently's permutation tests call `np.random.seed(0)` and reproducing their p-values exactly needs
 * the identical stream. No npm package reproduces numpy's bounded-integer algorithm.
 */
export class LegacyRandomState {
  private mt = new Uint32Array(624);
  private idx = 624;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.idx = 624;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      let v = mt[(i + 397) % 624] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.idx = 0;
  }

  nextUint32(): number {
    if (this.idx >= 624) this.twist();
    let y = this.mt[this.idx++] | 0;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, max] (numpy `random_interval`); max < 2^32 here. */
  interval(max: number): number {
    if (max === 0) return 0;
    // max < 2^31 here (array indices), so signed 32-bit arithmetic is exact
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    let v: number;
    do { v = this.nextUint32() & mask; } while (v > max);
    return v;
  }

  /** In-place legacy shuffle of an index array (RandomState.shuffle on a 1-D array). */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i >= 1; i--) {
      const j = this.interval(i);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
  }

  /** RandomState.permutation(n). */
  permutation(n: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    this.shuffle(a);
    return a;
  }
}

/**
 * SplitMix32: a stream of uint32 from a 32-bit seed (golden-ratio increment, then two multiply-xorshift
 * rounds). Seeds `ResampleRandom` (calibrate.ts), and gives benches and tests reproducible data.
 */
export function splitMix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform draws in [0, 1) from `splitMix32(seed)`: the same data on every machine. */
export function seededUniform(seed: number): () => number {
  const next = splitMix32(seed);
  return () => next() / 4294967296;
}
