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
  prevFree: KVCacheBlock | null = null;
  nextFree: KVCacheBlock | null = null;

  constructor(readonly blockId: number) {}
}
