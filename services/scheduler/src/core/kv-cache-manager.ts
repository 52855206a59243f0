import { type BlockHash, extendBlockHashes } from './block-hash.js';
import { BlockPool } from './block-pool.js';
import type { KVCacheBlock } from './kv-cache-block.js';
import type { Request } from './request.js';

/** A prefix-cache hit: leading full blocks whose KV is already computed. */
export interface ComputedBlocks {
  readonly blocks: readonly KVCacheBlock[];
  /** blocks.length * blockSize. */
  readonly numTokens: number;
}

export interface KVCacheManagerOptions {
  numBlocks: number;
  /** Tokens per block. */
  blockSize: number;
  enablePrefixCaching?: boolean;
}

export interface PrefixCacheStats {
  /** Tokens of admitted requests looked up in the prefix cache. */
  queriedTokens: number;
  /** Of those, tokens found cached (not recomputed). */
  hitTokens: number;
}

/** A remembered prefix hit: its blocks and the hash strings they held when it was remembered. */
interface RecentHit {
  readonly blocks: readonly KVCacheBlock[];
  readonly hashes: readonly BlockHash[];
}

/** Distinct prefixes (tenants, system prompts) remembered by longestCachedPrefix. */
const MAX_RECENT_HITS = 256;

const NO_BLOCKS: readonly KVCacheBlock[] = Object.freeze([]);
const NO_HIT: ComputedBlocks = Object.freeze({ blocks: NO_BLOCKS, numTokens: 0 });

/**
 * The block tables of one worker's requests over its BlockPool, and prefix caching. Blocks enter
 * the prefix cache only once their KV is computed (cacheComputedBlocks after a step), so a hit
 * never points at KV that is not written yet. The tables live on the requests (Request.blockTable,
 * numCommittedBlocks) but only this class writes them.
 */
export class KVCacheManager {
  blockPool: BlockPool;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  private readonly prefixStats: PrefixCacheStats = { queriedTokens: 0, hitTokens: 0 };
  /** Last prefix hit per first-block hash, least recently set first (see longestCachedPrefix). */
  private readonly recentHits = new Map<BlockHash, RecentHit>();

  constructor(options: KVCacheManagerOptions) {
    if (!Number.isInteger(options.blockSize) || options.blockSize < 1)
      throw new Error(`bad blockSize ${options.blockSize}`);
    this.blockSize = options.blockSize;
    this.enablePrefixCaching = options.enablePrefixCaching ?? true;
    this.blockPool = new BlockPool(options.numBlocks, this.enablePrefixCaching);
  }

  /** Blocks a sequence needs to hold the KV of `numTokens` tokens. */
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
    const blocks = this.longestCachedPrefix(request.blockHashes, maxHitBlocks);
    return blocks.length === 0 ? NO_HIT : { blocks, numTokens: blocks.length * this.blockSize };
  }

  /**
   * The cached blocks of the longest prefix of `hashes[0..maxBlocks)`. Admissions behind one long
   * system prompt would each pay a table lookup per block (the dominant cost of an admission), so
   * the last hit per first-block hash is remembered with the hashes its blocks held then, and
   * reused as far as (a) its blocks still hold those hashes (the very same strings: a pointer
   * compare per block) and (b) the probe's prefix is the remembered one. Chaining makes (b) cheap:
   * equal hashes at block j mean equal prefixes up to j, so matching is monotone in j and one
   * compare at the end (or a binary search) decides it.
   */
  private longestCachedPrefix(hashes: readonly BlockHash[], maxBlocks: number): readonly KVCacheBlock[] {
    if (maxBlocks <= 0) return NO_BLOCKS;
    const recent = this.recentHits.get(hashes[0]!);
    let i = 0;
    if (recent !== undefined) {
      const n = Math.min(maxBlocks, recent.blocks.length);
      let valid = 0;
      while (valid < n && recent.blocks[valid]!.blockHash === recent.hashes[valid]) valid++;
      if (valid > 0 && hashes[valid - 1] === recent.hashes[valid - 1]) {
        i = valid;
      } else {
        // Largest i <= valid with hashes[0..i) == recent.hashes[0..i); i >= 1 (same first block).
        let lo = 1;
        let hi = valid;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (hashes[mid - 1] === recent.hashes[mid - 1]) lo = mid;
          else hi = mid - 1;
        }
        i = valid === 0 ? 0 : lo;
      }
      // The usual admission behind a known prefix: the remembered hit, whole and unchanged, is the
      // answer (no lookup beyond it found more before, and none is tried while it still holds).
      if (i === recent.blocks.length && (i === maxBlocks || this.blockPool.getCachedBlock(hashes[i]!) === undefined))
        return recent.blocks;
    }
    const blocks = recent === undefined ? [] : recent.blocks.slice(0, i);
    for (let k = i; k < maxBlocks; k++) {
      const block = this.blockPool.getCachedBlock(hashes[k]!);
      if (block === undefined) break;
      blocks.push(block);
    }
    // Remember this hit (it differs from the remembered one: shorter, longer, or there was none).
    if (blocks.length > 0) {
      this.recentHits.delete(hashes[0]!);
      this.recentHits.set(hashes[0]!, { blocks, hashes: blocks.map((b) => b.blockHash!) });
      if (this.recentHits.size > MAX_RECENT_HITS) this.recentHits.delete(this.recentHits.keys().next().value!);
    }
    return blocks;
  }

  /**
   * Makes room for `numNewTokens` more tokens after the request's computed ones, appending blocks to
   * its table. `computed` is given once, at admission (it may be NO_HIT): those blocks come first in
   * the table and count as computed. Returns the newly allocated blocks (not the hit ones), or null,
   * changing nothing, when the pool cannot supply them even by evicting cached free blocks.
   */
  allocateSlots(request: Request, numNewTokens: number, computed?: ComputedBlocks): readonly KVCacheBlock[] | null {
    const hit = computed ?? NO_HIT;
    const blocks = request.blockTable;
    const numHeld = blocks.length;
    const numRequired = this.blocksFor(request.numComputedTokens + hit.numTokens + numNewTokens);
    const numNew = numRequired - numHeld - hit.blocks.length;
    if (hit.blocks.length > 0 && numHeld > 0)
      throw new Error(`allocateSlots: prefix hit for ${request.requestId}, which already holds blocks`);
    // Hit blocks that are free right now stop being allocatable once touched.
    // Indexed loops here and below: this runs for every running request every step, and a for-of
    // iterator per call was young garbage.
    let numFreeHits = 0;
    for (let k = 0; k < hit.blocks.length; k++) if (hit.blocks[k]!.refCnt === 0) numFreeHits++;
    if (numNew > this.blockPool.numFreeBlocks - numFreeHits) return null;

    if (computed !== undefined) {
      this.prefixStats.queriedTokens += request.numTokens;
      this.prefixStats.hitTokens += hit.numTokens;
    }
    // Hit blocks leave the free queue before anything is taken from it: they must not be evicted.
    if (hit.blocks.length > 0) this.blockPool.touch(hit.blocks);
    const fresh = numNew > 0 ? this.blockPool.getNewBlocks(numNew) : NO_BLOCKS;
    if (hit.blocks.length > 0) {
      // Hits come only at admission, to an empty table: made in one copy, not grown a push at a
      // time (a 2k-token shared prefix is 128 blocks, pushed for every admission behind it).
      request.blockTable = fresh.length === 0 ? hit.blocks.slice() : hit.blocks.concat(fresh);
    } else {
      for (let k = 0; k < fresh.length; k++) blocks.push(fresh[k]!);
    }
    if (numHeld === 0) request.numCommittedBlocks = hit.blocks.length;
    return fresh;
  }

  /** Offers the request's newly full, computed blocks to the prefix cache. Call after numComputedTokens advanced. */
  cacheComputedBlocks(request: Request): void {
    if (!this.enablePrefixCaching) return;
    const numFull = Math.floor(request.numComputedTokens / this.blockSize);
    if (numFull <= request.numCommittedBlocks) return;
    this.hashes(request, numFull);
    this.blockPool.cacheFullBlocks(request.blockTable, request.blockHashes, request.numCommittedBlocks, numFull);
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
    for (let i = first; i < last; i++) into.add(request.blockHashes[i]!);
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
   * Releases the request's blocks, tail first, so that under LRU the end of a sequence (the part
   * least likely to be shared) is evicted before its prefix.
   */
  free(request: Request): void {
    const blocks = request.blockTable;
    if (blocks.length === 0) return;
    this.blockPool.free(blocks, true);
    blocks.length = 0;
    request.numCommittedBlocks = 0;
  }

  /**
   * Forgets every cached block (the worker's KV is gone); keeps the stats counters. The caller
   * drops every request that held blocks (their tables point into the old pool).
   */
  reset(): void {
    this.recentHits.clear();
    this.blockPool = new BlockPool(this.blockPool.numBlocks, this.enablePrefixCaching);
  }

  /** Tokens of the longest cached prefix of a sequence with these full-block hashes (routing). */
  cachedPrefixTokens(blockHashes: readonly BlockHash[]): number {
    if (!this.enablePrefixCaching) return 0;
    return this.longestCachedPrefix(blockHashes, blockHashes.length).length * this.blockSize;
  }

  getBlockIds(request: Request): number[] {
    const blocks = request.blockTable;
    const ids = new Array<number>(blocks.length);
    for (let k = 0; k < blocks.length; k++) ids[k] = blocks[k]!.blockId;
    return ids;
  }

  private hashes(request: Request, numBlocks: number): void {
    // Usually nothing is missing: spare making the token view then.
    if (request.blockHashes.length >= Math.min(numBlocks, Math.floor(request.numTokens / this.blockSize))) return;
    extendBlockHashes(request.blockHashes, request.tokenIds(), this.blockSize, numBlocks, request.cacheSalt);
  }
}
