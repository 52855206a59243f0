import { at } from '@loom/common';
import type { BlockHash } from './block-hash.js';
import { CachedBlockTable } from './cached-block-table.js';
import { FreeBlockQueue } from './free-block-queue.js';
import { KVCacheBlock } from './kv-cache-block.js';

/**
 * All KV blocks of one worker, ref-counted, plus the prefix cache ((group, hash) → block). Every KV
 * cache group draws from this one pool (the worker gives all groups the same block bytes), so memory
 * goes wherever the running sequences need it; the cache is indexed per group, since one token block
 * has a different block (and KV) in each group.
 *
 * Invariants:
 * - refCnt === 0 ⇔ the block is in the free queue; free blocks may still be cached (reusable by a
 *   prefix hit until they are evicted by getNewBlocks).
 * - cached[g].get(h) === b ⇒ b.blockHash === h and b.cacheGroup === g. A block whose content duplicates
 *   a cached block of its group stays uncached (blockHash null): one block per (group, hash).
 * - NULL_BLOCK (id -1) is never in the pool: free, touch and cacheFullBlocks skip it.
 */
export class BlockPool {
  readonly blocks: readonly KVCacheBlock[];
  readonly freeQueue: FreeBlockQueue;
  /** [numGroups] prefix-cache indexes. */
  private readonly cached: CachedBlockTable[];

  constructor(
    readonly numBlocks: number,
    readonly enableCaching = true,
    numGroups = 1,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new Error(`BlockPool: bad numBlocks ${numBlocks}`);
    const blocks: KVCacheBlock[] = [];
    for (let i = 0; i < numBlocks; i++) blocks.push(new KVCacheBlock(i));
    this.blocks = blocks;
    this.freeQueue = new FreeBlockQueue(blocks);
    this.cached = [];
    for (let g = 0; g < numGroups; g++) this.cached.push(new CachedBlockTable(numBlocks));
  }

  /** Free blocks, counting cached ones (they are evicted on demand). */
  get numFreeBlocks(): number {
    return this.freeQueue.length;
  }

  get numCachedBlocks(): number {
    let n = 0;
    for (const table of this.cached) n += table.size;
    return n;
  }

  /** Fraction of blocks held by requests, in [0, 1]. */
  usage(): number {
    return 1 - this.freeQueue.length / this.numBlocks;
  }

  /** Takes `n` blocks from the head of the free queue (ref 1 each), evicting their cached content. */
  getNewBlocks(n: number): KVCacheBlock[] {
    if (n > this.freeQueue.length) throw new Error(`BlockPool: asked for ${n} blocks, ${this.freeQueue.length} free`);
    const out: KVCacheBlock[] = [];
    for (let i = 0; i < n; i++) {
      const block = this.freeQueue.popleft();
      this.evict(block);
      block.refCnt = 1;
      out.push(block);
    }
    return out;
  }

  /**
   * Drops one reference per block; blocks reaching 0 go to the free-queue tail in the given order,
   * or from the last block to the first with `tailFirst`.
   */
  free(blocks: readonly KVCacheBlock[], tailFirst = false): void {
    for (let i = 0; i < blocks.length; i++) {
      const block = at(blocks, tailFirst ? blocks.length - 1 - i : i);
      if (block.blockId < 0) continue;
      if (block.refCnt <= 0) throw new Error(`BlockPool: block ${block.blockId} freed twice`);
      if (--block.refCnt === 0) this.freeQueue.append(block);
    }
  }

  /** Takes one more reference per block (prefix hits); a free block leaves the free queue. */
  touch(blocks: readonly KVCacheBlock[]): void {
    for (let k = 0; k < blocks.length; k++) {
      const block = at(blocks, k);
      if (block.blockId < 0) continue;
      if (block.refCnt === 0) this.freeQueue.remove(block);
      block.refCnt++;
    }
  }

  getCachedBlock(hash: BlockHash, group = 0): KVCacheBlock | undefined {
    return at(this.cached, group).get(hash);
  }

  /**
   * Caches blocks[i] under hashes[i] for i in [from, to): the caller guarantees these blocks are full
   * and their KV computed. Blocks already cached (prefix hits) and null entries are left alone.
   */
  cacheFullBlocks(
    blocks: readonly KVCacheBlock[],
    hashes: readonly BlockHash[],
    from: number,
    to: number,
    group = 0,
  ): void {
    if (!this.enableCaching) return;
    const table = at(this.cached, group);
    for (let i = from; i < to; i++) {
      const block = at(blocks, i);
      if (block.blockHash !== null || block.blockId < 0) continue;
      block.cacheGroup = group;
      table.addIfAbsent(block, at(hashes, i));
    }
  }

  private evict(block: KVCacheBlock): void {
    const hash = block.blockHash;
    if (hash === null) return;
    at(this.cached, block.cacheGroup).delete(block);
    block.blockHash = null;
  }
}
