import type { BlockHash } from './block-hash.js';
import { CachedBlockTable } from './cached-block-table.js';
import { FreeBlockQueue } from './free-block-queue.js';
import { KVCacheBlock } from './kv-cache-block.js';

/**
 * All KV blocks of one worker, ref-counted, plus the prefix cache (hash → block).
 *
 * Invariants:
 * - refCnt === 0 ⇔ the block is in the free queue; free blocks may still be cached (reusable by a
 *   prefix hit until they are evicted by getNewBlocks).
 * - cached.get(h) === b ⇒ b.blockHash === h. A block whose content duplicates a cached block stays
 *   uncached (blockHash null): one block per hash.
 */
export class BlockPool {
  readonly blocks: readonly KVCacheBlock[];
  readonly freeQueue: FreeBlockQueue;
  private readonly cached: CachedBlockTable;

  constructor(
    readonly numBlocks: number,
    readonly enableCaching = true,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new Error(`BlockPool: bad numBlocks ${numBlocks}`);
    const blocks: KVCacheBlock[] = [];
    for (let i = 0; i < numBlocks; i++) blocks.push(new KVCacheBlock(i));
    this.blocks = blocks;
    this.freeQueue = new FreeBlockQueue(blocks);
    this.cached = new CachedBlockTable(numBlocks);
  }

  /** Free blocks, counting cached ones (they are evicted on demand). */
  get numFreeBlocks(): number {
    return this.freeQueue.length;
  }

  get numCachedBlocks(): number {
    return this.cached.size;
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
      const block = blocks[tailFirst ? blocks.length - 1 - i : i]!;
      if (block.refCnt <= 0) throw new Error(`BlockPool: block ${block.blockId} freed twice`);
      if (--block.refCnt === 0) this.freeQueue.append(block);
    }
  }

  /** Takes one more reference per block (prefix hits); a free block leaves the free queue. */
  touch(blocks: readonly KVCacheBlock[]): void {
    for (let k = 0; k < blocks.length; k++) {
      const block = blocks[k]!;
      if (block.refCnt === 0) this.freeQueue.remove(block);
      block.refCnt++;
    }
  }

  getCachedBlock(hash: BlockHash): KVCacheBlock | undefined {
    return this.cached.get(hash);
  }

  /**
   * Caches blocks[i] under hashes[i] for i in [from, to): the caller guarantees these blocks are full
   * and their KV computed. Blocks already cached (prefix hits) are left alone.
   */
  cacheFullBlocks(blocks: readonly KVCacheBlock[], hashes: readonly BlockHash[], from: number, to: number): void {
    if (!this.enableCaching) return;
    for (let i = from; i < to; i++) {
      const block = blocks[i]!;
      if (block.blockHash !== null) continue;
      this.cached.addIfAbsent(block, hashes[i]!);
    }
  }

  private evict(block: KVCacheBlock): void {
    const hash = block.blockHash;
    if (hash === null) return;
    this.cached.delete(block);
    block.blockHash = null;
  }
}
