/**
 * One KV cache group: layers whose KV shares one block table per sequence (vLLM's KV cache group).
 * The worker decides which layers form a group (its model card's kvCacheGroups, in table order) and
 * gives every group the same block bytes, so all groups draw from one BlockPool; the scheduler only
 * needs each group's attention kind.
 */
export interface KVCacheGroupSpec {
  /**
   * 0: full attention, the table holds every block of the sequence. W > 0: sliding window, a query at
   * position p reads positions p - W + 1..p only, so blocks entirely before the window of the next
   * query are freed (their table entries become the null block).
   */
  readonly slidingWindow: number;
}

/** The layout of a model without sliding-window layers: one group, every layer. */
export const FULL_ATTENTION_ONLY: readonly KVCacheGroupSpec[] = Object.freeze([Object.freeze({ slidingWindow: 0 })]);

/**
 * Leading tokens whose KV no query at a position >= numComputedTokens reads (vLLM's
 * get_num_skipped_tokens): the next query, at numComputedTokens, reads back to numComputedTokens - W + 1.
 */
export function numSkippedTokens(group: KVCacheGroupSpec, numComputedTokens: number): number {
  const w = group.slidingWindow;
  return w > 0 && numComputedTokens >= w ? numComputedTokens - w + 1 : 0;
}

/**
 * Cached blocks a sliding-window prefix hit of n blocks needs right before its end (vLLM's
 * sliding_window_contiguous_blocks): the query at n * blockSize reads the W - 1 tokens before it.
 */
export function slidingHitBlocks(group: KVCacheGroupSpec, blockSize: number): number {
  return Math.ceil((group.slidingWindow - 1) / blockSize);
}

/**
 * Most blocks one sequence of `numTokens` KV tokens holds at once in `group` when a step computes at
 * most `maxStepTokens` of them: all of them under full attention; under a window W, the blocks that
 * cover W - 1 + maxStepTokens consecutive tokens at any offset.
 */
export function maxBlocksHeld(
  group: KVCacheGroupSpec,
  numTokens: number,
  blockSize: number,
  maxStepTokens: number,
): number {
  const all = Math.ceil(numTokens / blockSize);
  if (group.slidingWindow === 0) return all;
  return Math.min(all, Math.ceil((group.slidingWindow - 1 + maxStepTokens) / blockSize) + 1);
}

/** Checks a group layout from a worker; throws naming the bad entry. */
export function validateGroups(groups: readonly KVCacheGroupSpec[]): void {
  if (groups.length === 0) throw new Error('kvCacheGroups is empty; a model has at least one KV cache group');
  groups.forEach((g, i) => {
    if (!Number.isInteger(g.slidingWindow) || g.slidingWindow < 0)
      throw new Error(`kvCacheGroups[${i}].slidingWindow = ${g.slidingWindow} is not a window (0 = full attention)`);
  });
}
