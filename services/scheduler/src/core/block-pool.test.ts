import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockPool } from './block-pool.js';

const ids = (bs: { blockId: number }[]) => bs.map((b) => b.blockId);

test('allocates from the head of the free queue and frees to the tail in the given order', () => {
  const pool = new BlockPool(6);
  const a = pool.getNewBlocks(3);
  assert.deepEqual(ids(a), [0, 1, 2]);
  assert.deepEqual(
    a.map((b) => b.refCnt),
    [1, 1, 1],
  );
  assert.equal(pool.numFreeBlocks, 3);
  assert.equal(pool.usage(), 0.5);
  pool.free([...a].reverse());
  assert.deepEqual(pool.freeQueue.blockIds(), [3, 4, 5, 2, 1, 0]);
  assert.deepEqual(ids(pool.getNewBlocks(4)), [3, 4, 5, 2]);
  assert.throws(() => pool.getNewBlocks(3), /asked for 3 blocks, 2 free/);
});

test('cached free blocks stay reusable until evicted; touch takes them out of the free queue', () => {
  const pool = new BlockPool(4);
  const [b0, b1] = pool.getNewBlocks(2);
  pool.cacheFullBlocks([b0!, b1!], ['h0', 'h1'], 0, 2);
  pool.free([b1!, b0!]);
  assert.deepEqual(pool.freeQueue.blockIds(), [2, 3, 1, 0]);
  assert.equal(pool.getCachedBlock('h0'), b0);
  pool.touch([b0!]);
  assert.equal(b0!.refCnt, 1);
  assert.deepEqual(pool.freeQueue.blockIds(), [2, 3, 1]);
  // Allocating 3 evicts block 1's cached content (LRU), never the touched block 0.
  assert.deepEqual(ids(pool.getNewBlocks(3)), [2, 3, 1]);
  assert.equal(pool.getCachedBlock('h1'), undefined);
  assert.equal(b1!.blockHash, null);
  assert.equal(pool.getCachedBlock('h0'), b0);
});

test('a duplicate of cached content stays uncached; freeing twice throws', () => {
  const pool = new BlockPool(3);
  const [x, y] = pool.getNewBlocks(2);
  pool.cacheFullBlocks([x!], ['h'], 0, 1);
  pool.cacheFullBlocks([y!], ['h'], 0, 1);
  assert.equal(pool.getCachedBlock('h'), x);
  assert.equal(y!.blockHash, null);
  assert.equal(pool.numCachedBlocks, 1);
  pool.free([y!]);
  assert.throws(() => pool.free([y!]), /freed twice/);
});
