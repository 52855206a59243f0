import type { BlockHash } from './block-hash.js';
import type { KVCacheBlock } from './kv-cache-block.js';

/**
 * The prefix cache's index: block hash → the one cached block holding that content.
 *
 * Not a Map: the prefix cache churns (every allocation that evicts a cached block deletes an entry,
 * every filled block adds one), and a V8 Map keeps deleted entries until it rebuilds its whole
 * table, which with 16k cached blocks took ~1.3 ms inside one update() every ~230 steps (most of
 * the scheduler bench's p99). This is open addressing with linear probing and backward-shift
 * deletion: no tombstones, so no rebuild ever, and every operation touches a few adjacent slots.
 *
 * Each slot also keeps its key's 32-bit tag (slotOf), so probing past other entries and shifting
 * them never dereferences their blocks or hash strings: the blocks of a big pool are cold in the CPU
 * cache, and eviction walks exactly those.
 *
 * Invariants: at most `maxEntries` blocks are indexed and capacity >= 2 * maxEntries (load <= 1/2,
 * so probes are short and an empty slot always ends a probe); an indexed block's blockHash is its key
 * and does not change while indexed (the pool clears it only after delete()); tags[i] and
 * slots[i].hashTag are slotOf(slots[i].blockHash) wherever slots[i] is not null. Slot indices are
 * always masked into [0, capacity), so a slot read is never undefined: its `?? null` / `?? 0` only
 * satisfy noUncheckedIndexedAccess without a helper call in the probe loops.
 */
export class CachedBlockTable {
  /** Slot → indexed block or null; length is a power of two. */
  private readonly slots: (KVCacheBlock | null)[];
  private readonly tags: Int32Array;
  private readonly mask: number;
  private count = 0;

  constructor(readonly maxEntries: number) {
    let capacity = 8;
    while (capacity < 2 * maxEntries) capacity *= 2;
    this.slots = new Array<KVCacheBlock | null>(capacity).fill(null);
    this.tags = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  get(hash: BlockHash): KVCacheBlock | undefined {
    const tag = slotOf(hash);
    for (let i = tag & this.mask; ; i = (i + 1) & this.mask) {
      const block = this.slots[i] ?? null;
      if (block === null) return undefined;
      if (this.tags[i] === tag && block.blockHash === hash) return block;
    }
  }

  /**
   * Indexes `block` under `hash` and sets its blockHash, unless another block is indexed under
   * `hash` already: then nothing changes and that block is returned (one probe run for both).
   */
  addIfAbsent(block: KVCacheBlock, hash: BlockHash): KVCacheBlock | undefined {
    const tag = slotOf(hash);
    let i = tag & this.mask;
    for (let at = this.slots[i] ?? null; at !== null; at = this.slots[i] ?? null) {
      if (this.tags[i] === tag && at.blockHash === hash) return at;
      i = (i + 1) & this.mask;
    }
    if (this.count >= this.maxEntries) throw new Error(`CachedBlockTable: more than ${this.maxEntries} entries`);
    block.blockHash = hash;
    block.hashTag = tag;
    this.slots[i] = block;
    this.tags[i] = tag;
    this.count++;
    return undefined;
  }

  /** Removes `block` if it is the one indexed under its blockHash (and hashTag); returns whether it was. */
  delete(block: KVCacheBlock): boolean {
    const mask = this.mask;
    let i = block.hashTag & mask;
    for (;;) {
      const at = this.slots[i] ?? null;
      if (at === null) return false;
      if (at === block) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the run into the hole when their home slot allows, so
    // that every entry stays reachable from its home without passing an empty slot.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const next = this.slots[j] ?? null;
      if (next === null) break;
      const tag = this.tags[j] ?? 0;
      const home = tag & mask;
      // `next` may fill the hole iff its home is not cyclically within (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.slots[hole] = next;
        this.tags[hole] = tag;
        hole = j;
      }
    }
    this.slots[hole] = null;
    this.count--;
    return true;
  }
}

/**
 * A slot index from a hash string. Real block hashes are uniformly random, so their first 8 chars
 * suffice; they are mixed anyway so that short keys (tests) spread too.
 */
function slotOf(hash: BlockHash): number {
  let h = 0x811c9dc5;
  const n = hash.length < 8 ? hash.length : 8;
  for (let k = 0; k < n; k++) h = Math.imul(h ^ hash.charCodeAt(k), 0x01000193);
  return h ^ (h >>> 15);
}
