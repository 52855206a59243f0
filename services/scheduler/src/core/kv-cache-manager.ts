import { at } from '@loom/common';
import { type BlockHash, extendBlockHashes } from './block-hash.js';
import { BlockPool } from './block-pool.js';
import { type KVCacheBlock, NULL_BLOCK } from './kv-cache-block.js';
import {
  FULL_ATTENTION_ONLY,
  type KVCacheGroupSpec,
  numSkippedTokens,
  slidingHitBlocks,
  validateGroups,
} from './kv-cache-group.js';
import { RecentPrefixHits } from './recent-prefix-hits.js';
import type { Request } from './request.js';

/**
 * A prefix-cache hit: its leading token blocks, whose KV is computed in every group. blocks[g] is
 * group g's table for them (a sliding-window group holds NULL_BLOCK where the window of the query
 * after the hit does not reach).
 */
export interface ComputedBlocks {
  readonly blocks: readonly (readonly KVCacheBlock[])[];
  /** Token blocks of the hit (each group's blocks[g].length). */
  readonly numBlocks: number;
  /** numBlocks * blockSize. */
  readonly numTokens: number;
}

export interface KVCacheManagerOptions {
  numBlocks: number;
  /** Tokens per block. */
  blockSize: number;
  enablePrefixCaching?: boolean;
  /** The worker's KV cache groups, in table order; default one full-attention group. */
  groups?: readonly KVCacheGroupSpec[];
}

export interface PrefixCacheStats {
  /** Tokens of admitted requests looked up in the prefix cache. */
  queriedTokens: number;
  /** Of those, tokens found cached (not recomputed). */
  hitTokens: number;
}

const NO_BLOCKS: readonly KVCacheBlock[] = Object.freeze([]);
const NO_HIT: ComputedBlocks = Object.freeze({ blocks: Object.freeze([]), numBlocks: 0, numTokens: 0 });

/**
 * The block tables of one worker's requests over its BlockPool, and prefix caching, vLLM v1's hybrid
 * KV cache manager: one table per KV cache group per request, all of the same length (token block i
 * at index i in every group; a sliding-window group holds NULL_BLOCK where its tokens left every
 * future query's window, and those blocks went back to the pool). Blocks enter the prefix cache only
 * once their KV is computed (cacheComputedBlocks after a step), so a hit never points at KV that is
 * not written yet. The tables live on the requests (Request.blockTables, numCommittedBlocks) but only
 * this class writes them.
 */
export class KVCacheManager {
  blockPool: BlockPool;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  readonly groups: readonly KVCacheGroupSpec[];
  /** Indexes into groups of the full-attention groups, and of the sliding-window ones. */
  private readonly fullGroups: number[] = [];
  private readonly slidingGroups: number[] = [];
  private readonly prefixStats: PrefixCacheStats = { queriedTokens: 0, hitTokens: 0 };
  /** Remembered hits of the first full-attention group (see RecentPrefixHits); null when it has none. */
  private readonly recentHits: RecentPrefixHits | null;
  /** Scratch of removeSkippedBlocks and free. */
  private readonly skipped: KVCacheBlock[] = [];

  constructor(options: KVCacheManagerOptions) {
    if (!Number.isInteger(options.blockSize) || options.blockSize < 1)
      throw new Error(`bad blockSize ${options.blockSize}`);
    this.blockSize = options.blockSize;
    this.enablePrefixCaching = options.enablePrefixCaching ?? true;
    this.groups = options.groups ?? FULL_ATTENTION_ONLY;
    validateGroups(this.groups);
    this.groups.forEach((g, i) => (g.slidingWindow === 0 ? this.fullGroups : this.slidingGroups).push(i));
    const [firstFull] = this.fullGroups;
    this.recentHits = firstFull === undefined ? null : new RecentPrefixHits(firstFull);
    this.blockPool = new BlockPool(options.numBlocks, this.enablePrefixCaching, this.groups.length);
  }

  /** Blocks a sequence needs in each group to hold the KV of `numTokens` tokens (null entries included). */
  blocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.blockSize);
  }

  usage(): number {
    return this.blockPool.usage();
  }

  stats(): PrefixCacheStats {
    return { ...this.prefixStats };
  }

  /**
   * Longest cached prefix of the request's full blocks, capped below its token count: the last
   * token always runs, because its logits give the next token.
   */
  getComputedBlocks(request: Request): ComputedBlocks {
    if (!this.readsCache(request)) return NO_HIT;
    const maxHitBlocks = Math.floor((request.numTokens - 1) / this.blockSize);
    this.hashes(request, maxHitBlocks);
    return this.longestHit(request.blockHashes, maxHitBlocks);
  }

  /**
   * The longest prefix of `hashes[0..maxBlocks)` cached in every group (vLLM's hybrid coordinator):
   * full-attention groups need every block of it cached (a prefix of a hit is a hit), a sliding-window
   * group only the blocks that cover the last W - 1 tokens before its end. Full groups go first; then
   * the sliding groups shorten it until all of them agree (each shortening may break another's run).
   */
  private longestHit(hashes: readonly BlockHash[], maxBlocks: number): ComputedBlocks {
    let n = maxBlocks;
    let first: readonly KVCacheBlock[] = NO_BLOCKS;
    if (this.recentHits !== null) {
      first = this.recentHits.longest(this.blockPool, hashes, n);
      n = first.length;
      for (let k = 1; k < this.fullGroups.length; k++) n = this.cachedRun(hashes, 0, n, at(this.fullGroups, k));
    }
    for (let changed = true; changed && n > 0;) {
      changed = false;
      for (const g of this.slidingGroups) {
        const m = this.slidingHit(hashes, n, g);
        if (m < n) [n, changed] = [m, true];
      }
    }
    if (n === 0) return NO_HIT;
    const blocks = this.groups.map((spec, g) => {
      if (g === this.fullGroups[0]) return first.length === n ? first : first.slice(0, n);
      const from = spec.slidingWindow === 0 ? 0 : Math.max(0, n - slidingHitBlocks(spec, this.blockSize));
      const table = new Array<KVCacheBlock>(n).fill(NULL_BLOCK, 0, from);
      for (let i = from; i < n; i++) table[i] = this.blockPool.getCachedBlock(at(hashes, i), g)!;
      return table;
    });
    return { blocks, numBlocks: n, numTokens: n * this.blockSize };
  }

  /** End of the run of blocks from `from` (below `to`) cached in group g. */
  private cachedRun(hashes: readonly BlockHash[], from: number, to: number, g: number): number {
    let i = from;
    while (i < to && this.blockPool.getCachedBlock(at(hashes, i), g) !== undefined) i++;
    return i;
  }

  /**
   * vLLM's SlidingWindowManager.find_longest_cache_hit: the largest n <= maxBlocks such that the
   * sliding group g has blocks [n - c, n) cached (c = slidingHitBlocks), or [0, n) when n < c.
   */
  private slidingHit(hashes: readonly BlockHash[], maxBlocks: number, g: number): number {
    const c = slidingHitBlocks(at(this.groups, g), this.blockSize);
    if (c === 0) return maxBlocks;
    let run = 0;
    for (let i = maxBlocks - 1; i >= 0; i--) {
      if (this.blockPool.getCachedBlock(at(hashes, i), g) === undefined) run = 0;
      else if (++run >= c) return i + c;
    }
    return run; // the leading blocks [0, run) are all cached, fewer than c of them
  }

  /**
   * Makes room for `numNewTokens` more tokens after the request's computed ones, appending one block
   * per group per new token block. `computed` is given once, at admission (it may be NO_HIT): those
   * blocks come first in the tables and count as computed. First frees the sliding-window groups'
   * blocks that left every future query's window (whatever follows: they are never read again).
   * Returns the newly allocated blocks, token block by token block and group by group within one
   * (blocks[i * numGroups + g]; not the hit ones), or null, changing nothing more, when the pool cannot
   * supply them even by evicting cached free blocks.
   */
  allocateSlots(request: Request, numNewTokens: number, computed?: ComputedBlocks): readonly KVCacheBlock[] | null {
    const hit = computed ?? NO_HIT;
    const G = this.groups.length;
    if (request.blockTables.length !== G) request.blockTables = this.groups.map(() => []);
    const tables = request.blockTables;
    const numHeld = at(tables, 0).length;
    if (hit.numBlocks > 0 && numHeld > 0)
      throw new Error(`allocateSlots: prefix hit for ${request.requestId}, which already holds blocks`);
    if (numHeld > 0 && this.slidingGroups.length > 0) this.removeSkippedBlocks(request);
    const numNew = this.blocksFor(request.numComputedTokens + hit.numTokens + numNewTokens) - numHeld - hit.numBlocks;
    // Hit blocks that are free right now stop being allocatable once touched.
    // Indexed loops here and below: this runs for every running request every step, and a for-of
    // iterator per call was young garbage.
    let numFreeHits = 0;
    for (let g = 0; g < hit.blocks.length; g++) {
      const blocks = at(hit.blocks, g);
      for (let k = 0; k < blocks.length; k++) {
        const block = at(blocks, k);
        if (block.refCnt === 0 && block !== NULL_BLOCK) numFreeHits++;
      }
    }
    if (numNew * G > this.blockPool.numFreeBlocks - numFreeHits) return null;

    if (computed !== undefined) {
      this.prefixStats.queriedTokens += request.numTokens;
      this.prefixStats.hitTokens += hit.numTokens;
    }
    // Hit blocks leave the free queue before anything is taken from it: they must not be evicted.
    for (let g = 0; g < hit.blocks.length; g++) this.blockPool.touch(at(hit.blocks, g));
    const fresh = numNew > 0 ? this.blockPool.getNewBlocks(numNew * G) : NO_BLOCKS;
    for (let g = 0; g < G; g++) {
      let table = at(tables, g);
      // Hits come only at admission, to an empty table: made in one copy, not grown a push at a
      // time (a 2k-token shared prefix is 128 blocks, pushed for every admission behind it).
      if (hit.numBlocks > 0) table = tables[g] = at(hit.blocks, g).slice();
      for (let k = g; k < fresh.length; k += G) table.push(at(fresh, k));
    }
    if (numHeld === 0) request.numCommittedBlocks = hit.numBlocks;
    return fresh;
  }

  /**
   * Frees, in each sliding-window group, the blocks entirely before the window of the request's next
   * query (vLLM's remove_skipped_blocks): newest first, so under LRU they are evicted before the older
   * ones; still cached, a later prefix hit can take them back. Earlier entries are null already, so
   * the walk back stops at the first null.
   */
  private removeSkippedBlocks(request: Request): void {
    for (let k = 0; k < this.slidingGroups.length; k++) {
      const g = at(this.slidingGroups, k);
      const table = at(request.blockTables, g);
      const skipped = this.skipped;
      const end = Math.min(
        table.length,
        Math.floor(numSkippedTokens(at(this.groups, g), request.numComputedTokens) / this.blockSize),
      );
      for (let i = end - 1; i >= 0; i--) {
        const block = at(table, i);
        if (block === NULL_BLOCK) break;
        skipped.push(block);
        table[i] = NULL_BLOCK;
      }
      if (skipped.length === 0) continue;
      this.blockPool.free(skipped);
      skipped.length = 0;
    }
  }

  /** Offers the request's newly full, computed blocks to the prefix cache. Call after numComputedTokens advanced. */
  cacheComputedBlocks(request: Request): void {
    if (!this.enablePrefixCaching) return;
    const numFull = Math.floor(request.numComputedTokens / this.blockSize);
    if (numFull <= request.numCommittedBlocks) return;
    this.hashes(request, numFull);
    const tables = request.blockTables;
    for (let g = 0; g < tables.length; g++)
      this.blockPool.cacheFullBlocks(at(tables, g), request.blockHashes, request.numCommittedBlocks, numFull, g);
    request.numCommittedBlocks = numFull;
  }

  /**
   * Adds to `into` the hashes of the request's blocks that become full with the tokens in
   * [start, end) (the ones a step will compute).
   */
  collectFilledBlockHashes(request: Request, start: number, end: number, into: Set<BlockHash>): void {
    if (!this.enablePrefixCaching) return;
    const first = Math.floor(start / this.blockSize);
    const last = Math.floor(end / this.blockSize);
    if (last <= first) return;
    this.hashes(request, last);
    for (let i = first; i < last; i++) into.add(at(request.blockHashes, i));
  }

  /** Hash of the block a prefix hit of `numHitBlocks` blocks would be extended by next, if any. */
  nextHitCandidate(request: Request, numHitBlocks: number): BlockHash | undefined {
    if (!this.readsCache(request)) return undefined;
    if ((numHitBlocks + 1) * this.blockSize > request.numTokens - 1) return undefined;
    this.hashes(request, numHitBlocks + 1);
    return request.blockHashes[numHitBlocks];
  }

  /**
   * Prompt logprobs are computed only for tokens the worker runs, so a request that asks for them
   * must not skip its cached prefix (vLLM does the same); its blocks still enter the cache for others.
   * Likewise a mean- or CLS-pooled embedding needs the hidden state of every (or the first) prompt
   * token, which a cache hit does not recompute: only last-token pooling reads the cache (vLLM keeps
   * prefix caching for LAST pooling only); the hit is capped below the last token, which always runs.
   */
  private readsCache(request: Request): boolean {
    if (!this.enablePrefixCaching || request.sampling.promptLogprobs != null) return false;
    return request.pooling === null || request.pooling.type === 'last';
  }

  /**
   * Releases the request's blocks, tail first (token block by token block, every group's block of
   * one before the next), so that under LRU the end of a sequence (the part least likely to be
   * shared) is evicted before its prefix, in all groups alike: a hit needs every group.
   */
  free(request: Request): void {
    const tables = request.blockTables;
    const G = tables.length;
    const [first] = tables;
    if (first === undefined || first.length === 0) return;
    if (G === 1) {
      this.blockPool.free(first, true);
    } else {
      const order = this.skipped;
      for (let i = first.length - 1; i >= 0; i--) for (let g = 0; g < G; g++) order.push(at(at(tables, g), i));
      this.blockPool.free(order);
      order.length = 0;
    }
    for (let g = 0; g < G; g++) at(tables, g).length = 0;
    request.numCommittedBlocks = 0;
  }

  /**
   * Forgets every cached block (the worker's KV is gone); keeps the stats counters. The caller
   * drops every request that held blocks (their tables point into the old pool).
   */
  reset(): void {
    this.recentHits?.clear();
    this.blockPool = new BlockPool(this.blockPool.numBlocks, this.enablePrefixCaching, this.groups.length);
  }

  /** Tokens of the longest cached prefix of a sequence with these full-block hashes (routing). */
  cachedPrefixTokens(blockHashes: readonly BlockHash[]): number {
    if (!this.enablePrefixCaching) return 0;
    return this.longestHit(blockHashes, blockHashes.length).numTokens;
  }

  /** The request's tables as the worker takes them: ids[i * numGroups + g] = group g's block i (-1: null). */
  getBlockIds(request: Request): number[] {
    const tables = request.blockTables;
    const G = tables.length;
    const n = tables[0]?.length ?? 0;
    const ids = new Array<number>(n * G);
    for (let g = 0; g < G; g++) {
      const blocks = at(tables, g);
      for (let k = 0; k < n; k++) ids[k * G + g] = at(blocks, k).blockId;
    }
    return ids;
  }

  private hashes(request: Request, numBlocks: number): void {
    // Usually nothing is missing: spare making the token view then.
    if (request.blockHashes.length >= Math.min(numBlocks, Math.floor(request.numTokens / this.blockSize))) return;
    extendBlockHashes(request.blockHashes, request.tokenIds(), this.blockSize, numBlocks, request.cacheSalt);
  }
}
