import type { Rng } from './random-variates.js';

/**
 * When each of `n` requests is sent, in seconds from the start, as `vllm bench serve` schedules them:
 * rate = Infinity sends all at 0; otherwise the gaps are Gamma(burstiness, 1 / (rate × burstiness))
 * (mean 1 / rate; burstiness 1 is a Poisson process, < 1 burstier, > 1 more even, Infinity a fixed
 * gap), and the times are then rescaled so the last one falls at exactly n / rate, which keeps the
 * offered load the same across seeds.
 */
export function arrivalTimes(n: number, rate: number, burstiness: number, rng: Rng): number[] {
  if (!(rate > 0)) throw new RangeError(`request rate must be > 0 (Infinity: all at once), got ${rate}`);
  if (!(burstiness > 0)) throw new RangeError(`burstiness must be > 0, got ${burstiness}`);
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (rate === Infinity) t = 0;
    else if (burstiness === Infinity) t += 1 / rate;
    else t += rng.gamma(burstiness, 1 / (rate * burstiness));
    times.push(t);
  }
  const last = times[n - 1] ?? 0;
  if (rate !== Infinity && last > 0) {
    const f = n / rate / last;
    for (const [i, t] of times.entries()) times[i] = t * f;
  }
  return times;
}
