import { at } from '@loom/common';
/**
 * Summary statistics as numpy computes them, so figures read the same as `vllm bench serve`'s:
 * `mean`, population `std` (ddof 0), `percentile` with linear interpolation between closest ranks
 * (numpy's default method), `median` = percentile 50. An empty list summarises to 0, as vLLM's
 * `np.mean(xs or 0)` does.
 */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function std(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/** The p-th percentile (p in [0, 100]) of already sorted values, numpy's 'linear' method. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = rank - lo;
  return at(sorted, lo) + (at(sorted, hi) - at(sorted, lo)) * frac;
}

export function percentile(xs: readonly number[], p: number): number {
  return percentileSorted(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** mean, std, median and the asked percentiles of one metric, in the unit given (a scale of 1000 turns s into ms). */
export interface Summary {
  mean: number;
  std: number;
  median: number;
  /** percentile -> value, in the order asked. */
  percentiles: [number, number][];
}

export function summarize(xs: readonly number[], percentiles: readonly number[], scale = 1): Summary {
  const sorted = xs.map((x) => x * scale).sort((a, b) => a - b);
  return {
    mean: mean(sorted),
    std: std(sorted),
    median: percentileSorted(sorted, 50),
    percentiles: percentiles.map((p) => [p, percentileSorted(sorted, p)]),
  };
}

/** Median and range of repeated measurements (the benchmarks' "median, min-max"). */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}
