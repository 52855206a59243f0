import type { BlockHash } from './block-hash.js';

/**
 * One KV block of the worker's pool, as the scheduler accounts for it (the scheduler never sees the
 * KV itself). A block is in the free queue exactly when refCnt === 0; prev/next are only meaningful
 * while it is there.
 */
export class KVCacheBlock {
  /** Number of running requests whose block table holds this block. */
  refCnt = 0;
  /** Set once the block is full and its tokens' KV has been computed; null otherwise. */
  blockHash: BlockHash | null = null;
  /** The CachedBlockTable's tag of blockHash while cached: eviction then never reads the (cold) hash string. */
  hashTag = 0;
  /** The KV cache group whose prefix cache indexes this block while blockHash is set. */
  cacheGroup = 0;
  prevFree: KVCacheBlock | null = null;
  nextFree: KVCacheBlock | null = null;

  constructor(readonly blockId: number) {}
}

/**
 * The null block (vLLM's null_block): the table entry of a sliding-window group's block whose tokens
 * left the window of every future query, or that a prefix hit did not need. Not in any pool: the pool
 * never frees, touches or caches it; its id, -1, tells the worker there is no block there.
 */
export const NULL_BLOCK: KVCacheBlock = new KVCacheBlock(-1);
