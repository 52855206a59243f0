import { at } from '@loom/common';
/** The q-quantile (0..1) of ascending `sorted` values: the value at index floor(q * n), capped at the last. */
export const quantile = (sorted: Float64Array, q: number): number =>
  at(sorted, Math.min(sorted.length - 1, Math.floor(q * sorted.length)));
