import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { type KVCacheGroupSpec, maxBlocksHeld } from './kv-cache-group.js';
import { NULL_BLOCK } from './kv-cache-block.js';
import { KVCacheManager } from './kv-cache-manager.js';
import type { Request } from './request.js';
import { makeRequest, sampling, seq } from '../testing/make-request.js';
import { makeScheduler } from '../testing/make-scheduler.js';

// Block size 4 and a window of 8: a query at p reads p - 7..p, so once n tokens are computed the
// blocks wholly before n - 7 are dead in the sliding group.
const FULL: KVCacheGroupSpec = { slidingWindow: 0 };
const SLIDING: KVCacheGroupSpec = { slidingWindow: 8 };
const tableIds = (r: Request) => r.blockTables.map((t) => t.map((b) => b.blockId));

/** Admits `request` with its prefix hit and marks every scheduled token computed, as a step would. */
function admit(kv: KVCacheManager, request: Request) {
  const hit = kv.getComputedBlocks(request);
  const fresh = kv.allocateSlots(request, request.numTokens - hit.numTokens, hit);
  if (fresh !== null) {
    request.numComputedTokens = request.numTokens;
    kv.cacheComputedBlocks(request);
  }
  return { hit: hit.blocks.map((t) => t.map((b) => b.blockId)), fresh: fresh?.map((b) => b.blockId) ?? null };
}

/** Appends one output token and allocates for it, then marks it computed (one decode step). */
function decode(kv: KVCacheManager, request: Request, token: number) {
  request.appendOutputToken(token);
  const fresh = kv.allocateSlots(request, 1);
  request.numComputedTokens++;
  kv.cacheComputedBlocks(request);
  return fresh?.map((b) => b.blockId) ?? null;
}

test('each group gets its own table from the one pool; the sliding group frees blocks that left the window', () => {
  const kv = new KVCacheManager({ numBlocks: 16, blockSize: 4, groups: [FULL, SLIDING] });
  const a = makeRequest('a', seq(12));
  // Three token blocks, one block per group each, handed out interleaved (the worker's order).
  assert.deepEqual(admit(kv, a), { hit: [], fresh: [0, 1, 2, 3, 4, 5] });
  assert.deepEqual(tableIds(a), [
    [0, 2, 4],
    [1, 3, 5],
  ]);
  assert.deepEqual(kv.getBlockIds(a), [0, 1, 2, 3, 4, 5]);
  // 13th token: the next query (position 12) reads 5..12, so sliding block 0 (tokens 0..3) is dead.
  assert.deepEqual(decode(kv, a, 900), [6, 7]);
  assert.deepEqual(tableIds(a), [
    [0, 2, 4, 6],
    [-1, 3, 5, 7],
  ]);
  assert.deepEqual(kv.getBlockIds(a), [0, -1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds().slice(-2), [15, 1], 'freed to the free-queue tail');
  // Decoding on to 33 tokens: the full table grows by one block per 4 tokens, the sliding one keeps
  // the blocks of the last window only, and the pool hands freed sliding blocks out again (1 and 3,
  // sliding blocks 0 and 1 once, are now a's ninth token block in both groups).
  for (let t = 0; t < 20; t++) decode(kv, a, 901 + t);
  assert.equal(a.numComputedTokens, 33);
  assert.deepEqual(tableIds(a), [
    [0, 2, 4, 6, 8, 10, 12, 14, 1],
    [-1, -1, -1, -1, -1, -1, 13, 15, 3],
  ]);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds(), [5, 7, 9, 11], 'dead sliding blocks, oldest first');
  assert.equal(kv.usage(), 12 / 16);
  // Freed tail first, token block by token block across the groups.
  kv.free(a);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds(), [5, 7, 9, 11, 1, 3, 14, 15, 12, 13, 10, 8, 6, 4, 2, 0]);
});

test('a sliding-window hit needs only the blocks of the window before its end; the rest are null', () => {
  const kv = new KVCacheManager({ numBlocks: 16, blockSize: 4, groups: [FULL, SLIDING] });
  const a = makeRequest('a', seq(12));
  admit(kv, a);
  for (let t = 0; t < 21; t++) decode(kv, a, 900 + t);
  // b shares a's first 32 tokens: 8 blocks; the query at 32 reads 25..32, i.e. sliding blocks 6 and 7.
  const b = makeRequest('b', [...a.tokenIds().slice(0, 32), 5]);
  assert.deepEqual(admit(kv, b), {
    hit: [
      [0, 2, 4, 6, 8, 10, 12, 14],
      [-1, -1, -1, -1, -1, -1, 13, 15],
    ],
    fresh: [5, 7],
  });
  assert.deepEqual(kv.getBlockIds(b), [0, -1, 2, -1, 4, -1, 6, -1, 8, -1, 10, -1, 12, 13, 14, 15, 5, 7]);
  assert.deepEqual(
    [13, 15, 14].map((id) => at(kv.blockPool.blocks, id).refCnt),
    [2, 2, 2],
  );
  kv.free(a);
  kv.free(b);
  // Evicting the seven least recently freed blocks takes full block 7 (14) and sliding block 5 (11): the
  // full group alone would hit 7 blocks, but the query at 28 would read sliding blocks 5 and 6: no hit.
  assert.deepEqual(kv.blockPool.freeQueue.blockIds().slice(0, 7), [9, 11, 1, 3, 5, 7, 14]);
  kv.blockPool.free(kv.blockPool.getNewBlocks(7));
  assert.equal(kv.cachedPrefixTokens(b.blockHashes.slice(0, 8)), 0);
  assert.equal(kv.getComputedBlocks(b).numTokens, 0);
});

test('every layer sliding (mistral): the hit is the last cached run of window blocks, found from the end', () => {
  const window = { slidingWindow: 8 };
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 4, groups: [window] });
  const a = makeRequest('a', seq(32));
  assert.deepEqual(admit(kv, a).fresh, [0, 1, 2, 3, 4, 5, 6, 7], 'one chunk: every block is written');
  kv.free(a);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds(), [7, 6, 5, 4, 3, 2, 1, 0]);
  const b = makeRequest('b', [...seq(32), 5]);
  assert.deepEqual(kv.getComputedBlocks(b).blocks, [
    [-1, -1, -1, -1, -1, -1, 6, 7].map((id) => kv.blockPool.blocks[id] ?? NULL_BLOCK),
  ]);
  // Block 7 evicted: the run of blocks 5 and 6 gives a 7-block hit; blocks 3 and 4 are taken for b's tail.
  assert.deepEqual(admit(kv, makeRequest('u', seq(3, 7000))).fresh, [7]);
  assert.deepEqual(admit(kv, b), { hit: [[-1, -1, -1, -1, -1, 5, 6]], fresh: [4, 3] });
  assert.equal(b.numComputedTokens, 33);
  assert.deepEqual(kv.stats(), { queriedTokens: 32 + 3 + 33, hitTokens: 28 });
});

test('preemption frees every group; admission counts only the window for sliding groups', () => {
  const kv = new KVCacheManager({ numBlocks: 16, blockSize: 4, groups: [FULL, SLIDING] });
  const a = makeRequest('a', seq(12));
  admit(kv, a);
  for (let t = 0; t < 8; t++) decode(kv, a, 900 + t);
  kv.free(a);
  assert.equal(kv.blockPool.numFreeBlocks, 16);
  assert.deepEqual(a.blockTables, [[], []]);
  assert.equal(a.numCommittedBlocks, 0);
  // 40 tokens in steps of at most 8: the full group holds 10 blocks, the sliding one at most
  // ceil((8 - 1 + 8) / 4) + 1 = 5.
  assert.equal(maxBlocksHeld(FULL, 40, 4, 8) + maxBlocksHeld(SLIDING, 40, 4, 8), 15);
  assert.equal(maxBlocksHeld(SLIDING, 6, 4, 8), 2);
});

test('through the scheduler, a gemma3-like sequence holds full-group blocks for every token and sliding ones for the window', () => {
  const groups = [FULL, SLIDING, SLIDING];
  const { scheduler, step } = makeScheduler({
    blockSize: 4,
    numBlocks: 40,
    maxNumBatchedTokens: 8,
    kvCacheGroups: groups,
    maxModelLen: 128,
  });
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(10), sampling: sampling({ maxTokens: 60 }) });
  let maxHeld = 0;
  for (let s = 0; s < 200 && scheduler.hasWork(); s++) {
    step();
    const a = scheduler.getRequest('a');
    if (a === undefined) break;
    const live = a.blockTables.map((t) => t.filter((b) => b !== NULL_BLOCK).length);
    assert.equal(live[0], Math.ceil(a.numComputedTokens / 4), 'the full group holds every computed token');
    maxHeld = Math.max(maxHeld, at(live, 1), at(live, 2));
  }
  assert.equal(scheduler.hasWork(), false);
  assert.equal(maxHeld, 3, 'a window of 8 spans at most 3 blocks of 4 (plus the one a step writes into)');
  assert.equal(scheduler.stats().numFreeBlocks, 40);
});
