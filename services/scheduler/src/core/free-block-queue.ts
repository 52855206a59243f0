import { KVCacheBlock } from './kv-cache-block.js';

/**
 * The free blocks in eviction order (head = evicted first), as an intrusive doubly linked list
 * threaded through the blocks themselves, so popleft, append and removal from the middle (a
 * prefix-cache hit on a free block) are all O(1) and allocate nothing.
 *
 * Invariant: a block is linked here iff the pool counts it free (refCnt === 0).
 */
export class FreeBlockQueue {
  private readonly head = new KVCacheBlock(-1);
  private readonly tail = new KVCacheBlock(-1);
  private count = 0;

  /** `blocks` start free, in this order. */
  constructor(blocks: readonly KVCacheBlock[]) {
    this.head.nextFree = this.tail;
    this.tail.prevFree = this.head;
    for (const block of blocks) this.append(block);
  }

  get length(): number {
    return this.count;
  }

  /** Removes and returns the block to evict next (least recently freed). */
  popleft(): KVCacheBlock {
    const first = this.head.nextFree!;
    if (first === this.tail) throw new Error('FreeBlockQueue: no free block');
    this.remove(first);
    return first;
  }

  remove(block: KVCacheBlock): void {
    const prev = block.prevFree;
    const next = block.nextFree;
    if (prev === null || next === null) throw new Error(`FreeBlockQueue: block ${block.blockId} is not free`);
    prev.nextFree = next;
    next.prevFree = prev;
    block.prevFree = null;
    block.nextFree = null;
    this.count--;
  }

  /** Appends at the tail: evicted after every block already free. */
  append(block: KVCacheBlock): void {
    if (block.prevFree !== null) throw new Error(`FreeBlockQueue: block ${block.blockId} is already free`);
    const last = this.tail.prevFree!;
    last.nextFree = block;
    block.prevFree = last;
    block.nextFree = this.tail;
    this.tail.prevFree = block;
    this.count++;
  }

  /** Block ids head to tail (for tests and debugging; O(n)). */
  blockIds(): number[] {
    const ids: number[] = [];
    for (let b = this.head.nextFree!; b !== this.tail; b = b.nextFree!) ids.push(b.blockId);
    return ids;
  }
}
