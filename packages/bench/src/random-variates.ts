import { at, seededRandom } from '@loom/common';

/**
 * Draws from a seeded uniform source (mulberry32), so a dataset and its arrival times are the same on
 * every run with the same --seed, whatever machine.
 */
export class Rng {
  private readonly u: () => number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.u = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.u();
  }

  /** Uniform integer in [lo, hi] (both included), as numpy's integers(lo, hi + 1). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.u() * (hi - lo + 1));
  }

  /** Standard normal (Marsaglia's polar method; the second draw is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    for (;;) {
      const a = 2 * this.u() - 1;
      const b = 2 * this.u() - 1;
      const s = a * a + b * b;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = b * f;
        return a * f;
      }
    }
  }

  /**
   * Gamma(shape k, scale θ), mean kθ, by Marsaglia and Tsang (2000); for k < 1 it boosts to k + 1 and
   * multiplies by U^(1/k). k = 1 is the exponential distribution (Poisson arrivals).
   */
  gamma(shape: number, scale: number): number {
    if (!(shape > 0) || !(scale > 0)) throw new RangeError(`gamma(${shape}, ${scale}): shape and scale must be > 0`);
    if (shape < 1) return this.gamma(shape + 1, scale) * Math.pow(1 - this.u(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.u();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.u() * (i + 1));
      [xs[i], xs[j]] = [at(xs, j), at(xs, i)];
    }
    return xs;
  }
}
