import { at } from '@loom/common';
import type { BlockHash } from './block-hash.js';
import type { BlockPool } from './block-pool.js';
import type { KVCacheBlock } from './kv-cache-block.js';

/** A remembered prefix hit: its blocks and the hash strings they held when it was remembered. */
interface RecentHit {
  readonly blocks: readonly KVCacheBlock[];
  readonly hashes: readonly BlockHash[];
}

/** Distinct prefixes (tenants, system prompts) remembered. */
const MAX_RECENT_HITS = 256;

const NO_BLOCKS: readonly KVCacheBlock[] = Object.freeze([]);

/**
 * Longest cached prefixes in one full-attention KV cache group, remembering the last hit per
 * first-block hash. Admissions behind one long system prompt would each pay a table lookup per
 * block (the dominant cost of an admission), so the last hit is reused as far as (a) its blocks
 * still hold the hashes they held then (the very same strings: a pointer compare per block) and
 * (b) the probe's prefix is the remembered one. Chaining makes (b) cheap: equal hashes at block j
 * mean equal prefixes up to j, so matching is monotone in j and one compare at the end (or a
 * binary search) decides it.
 */
export class RecentPrefixHits {
  /** Last prefix hit per first-block hash, least recently set first. */
  private readonly recent = new Map<BlockHash, RecentHit>();

  constructor(private readonly group: number) {}

  clear(): void {
    this.recent.clear();
  }

  /** The cached blocks of the longest prefix of `hashes[0..maxBlocks)` in `pool`. */
  longest(pool: BlockPool, hashes: readonly BlockHash[], maxBlocks: number): readonly KVCacheBlock[] {
    const root = hashes[0];
    if (maxBlocks <= 0 || root === undefined) return NO_BLOCKS;
    const recent = this.recent.get(root);
    let i = 0;
    if (recent !== undefined) {
      const n = Math.min(maxBlocks, recent.blocks.length);
      let valid = 0;
      while (valid < n && at(recent.blocks, valid).blockHash === recent.hashes[valid]) valid++;
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
      if (
        i === recent.blocks.length &&
        (i === maxBlocks || pool.getCachedBlock(at(hashes, i), this.group) === undefined)
      )
        return recent.blocks;
    }
    const blocks = recent === undefined ? [] : recent.blocks.slice(0, i);
    for (let k = i; k < maxBlocks; k++) {
      const block = pool.getCachedBlock(at(hashes, k), this.group);
      if (block === undefined) break;
      blocks.push(block);
    }
    // Remember this hit (it differs from the remembered one: shorter, longer, or there was none).
    if (blocks.length > 0) {
      this.recent.delete(root);
      this.recent.set(root, { blocks, hashes: blocks.map((b) => b.blockHash!) });
      if (this.recent.size > MAX_RECENT_HITS) this.recent.delete(this.recent.keys().next().value!);
    }
    return blocks;
  }
}
