import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KVCacheManager } from './kv-cache-manager.js';
import type { Request } from './request.js';
import { makeRequest, sampling, seq } from '../testing/make-request.js';

const ids = (bs: readonly { blockId: number }[] | null) => (bs === null ? null : bs.map((b) => b.blockId));

/** Admits `request` with its prefix hit and marks every scheduled token computed, as a step would. */
function admit(kv: KVCacheManager, request: Request, numNewTokens = Infinity) {
  const hit = kv.getComputedBlocks(request);
  const n = Math.min(numNewTokens, request.numTokens - hit.numTokens);
  const fresh = kv.allocateSlots(request, n, hit);
  if (fresh !== null) {
    request.numComputedTokens = hit.numTokens + n;
    kv.cacheComputedBlocks(request);
  }
  return { hit: ids(hit.blocks[0] ?? []), fresh: ids(fresh) };
}

test('allocates lowest free ids first and frees a request tail-first to the free-queue tail', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 16 });
  const a = makeRequest('a', seq(40));
  const b = makeRequest('b', seq(20, 500));
  assert.deepEqual(admit(kv, a), { hit: [], fresh: [0, 1, 2] });
  assert.deepEqual(admit(kv, b), { hit: [], fresh: [3, 4] });
  assert.deepEqual(kv.getBlockIds(a), [0, 1, 2]);
  kv.free(a);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds(), [5, 6, 7, 2, 1, 0]);
  assert.equal(kv.usage(), 2 / 8);
});

test('a second request sharing a 2-block prefix reuses exactly those blocks', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 16 });
  const a = makeRequest('a', seq(40));
  const b = makeRequest('b', [...seq(32), ...seq(8, 900)]);
  admit(kv, a);
  assert.deepEqual(admit(kv, b), { hit: [0, 1], fresh: [3] });
  assert.equal(b.numComputedTokens, 40);
  assert.deepEqual(kv.getBlockIds(b), [0, 1, 3]);
  assert.deepEqual(
    kv.blockPool.blocks.slice(0, 4).map((x) => x.refCnt),
    [2, 2, 1, 1],
  );
  assert.deepEqual(kv.stats(), { queriedTokens: 80, hitTokens: 32 });
});

test('freed cached blocks are hit from the free queue, evicted in LRU order otherwise', () => {
  const kv = new KVCacheManager({ numBlocks: 6, blockSize: 16 });
  const a = makeRequest('a', seq(50));
  admit(kv, a); // blocks 0..3, 0..2 full and cached
  kv.free(a);
  assert.deepEqual(kv.blockPool.freeQueue.blockIds(), [4, 5, 3, 2, 1, 0]);
  // An unrelated 3-block request evicts 4, 5 and then a's tail (3, which was never cached).
  const u = makeRequest('u', seq(48, 700));
  assert.deepEqual(admit(kv, u), { hit: [], fresh: [4, 5, 3] });
  const c = makeRequest('c', seq(33));
  assert.deepEqual(admit(kv, c), { hit: [0, 1], fresh: [2] });
  // Block 2 held a's third block: reallocating it evicted that hash.
  assert.equal(kv.getComputedBlocks(makeRequest('d', seq(49))).numTokens, 32);
});

test('a hit never covers the last token: it must run to give the next token', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 16 });
  admit(kv, makeRequest('a', seq(40)));
  assert.equal(kv.getComputedBlocks(makeRequest('x', seq(32))).numTokens, 16);
  assert.equal(kv.getComputedBlocks(makeRequest('y', seq(33))).numTokens, 32);
  assert.equal(kv.getComputedBlocks(makeRequest('z', seq(16))).numTokens, 0);
});

test('a request that asks for prompt logprobs reads no cached prefix (only computed tokens are scored) but fills the cache', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 16 });
  admit(kv, makeRequest('a', seq(40)));
  const p = makeRequest('p', seq(40), { sampling: sampling({ promptLogprobs: 0 }) });
  assert.equal(kv.getComputedBlocks(p).numTokens, 0);
  assert.equal(kv.nextHitCandidate(p, 0), undefined);
  const q = makeRequest('q', [...seq(32), ...seq(16, 900)], { sampling: sampling({ promptLogprobs: 1 }) });
  admit(kv, q);
  assert.equal(kv.getComputedBlocks(makeRequest('r', [...seq(32), ...seq(17, 900)])).numTokens, 48);
});

test('the cache salt isolates tenants', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 16 });
  admit(kv, makeRequest('a', seq(40), { cacheSalt: 'tenant-1' }));
  assert.equal(kv.getComputedBlocks(makeRequest('b', seq(40), { cacheSalt: 'tenant-2' })).numTokens, 0);
  assert.equal(kv.getComputedBlocks(makeRequest('c', seq(40))).numTokens, 0);
  assert.equal(kv.getComputedBlocks(makeRequest('d', seq(40), { cacheSalt: 'tenant-1' })).numTokens, 32);
});

test('allocation fails, changing nothing, when free blocks (evictable cached ones included) do not suffice', () => {
  const kv = new KVCacheManager({ numBlocks: 4, blockSize: 16 });
  const a = makeRequest('a', seq(40));
  admit(kv, a);
  kv.free(a); // all 4 free, 0 and 1 cached
  const b = makeRequest('b', [...seq(32), ...seq(40, 100)]); // hits 0,1 and needs 3 more blocks: only 2 left
  assert.deepEqual(admit(kv, b), { hit: [0, 1], fresh: null });
  assert.equal(kv.blockPool.numFreeBlocks, 4);
  assert.deepEqual(kv.getBlockIds(b), []);
  const c = makeRequest('c', seq(64, 300)); // no hit: 4 blocks, evicting both cached ones
  assert.deepEqual(admit(kv, c), { hit: [], fresh: [3, 2, 1, 0] });
  assert.equal(kv.blockPool.numCachedBlocks, 4, "all of c's blocks are full and computed: cached");
});

test('decode grows the table one block at a time, and caching follows computed tokens only', () => {
  const kv = new KVCacheManager({ numBlocks: 8, blockSize: 4 });
  const a = makeRequest('a', seq(7));
  admit(kv, a);
  assert.deepEqual(kv.getBlockIds(a), [0, 1]);
  assert.equal(kv.blockPool.numCachedBlocks, 1);
  a.appendOutputToken(50); // 8 tokens, 7 computed: block 1 is full but its last slot not computed
  assert.deepEqual(ids(kv.allocateSlots(a, 1)), []);
  assert.equal(kv.blockPool.numCachedBlocks, 1);
  a.numComputedTokens = 8;
  kv.cacheComputedBlocks(a);
  assert.equal(kv.blockPool.numCachedBlocks, 2);
  a.appendOutputToken(51);
  assert.deepEqual(ids(kv.allocateSlots(a, 1)), [2]);
});

test('a remembered hit whose blocks were evicted and reused is not trusted: the next lookup misses them', () => {
  const kv = new KVCacheManager({ numBlocks: 4, blockSize: 16 });
  const a = makeRequest('a', seq(40));
  assert.deepEqual(admit(kv, a), { hit: [], fresh: [0, 1, 2] });
  const b = makeRequest('b', [...seq(32), 7]);
  assert.deepEqual(admit(kv, b), { hit: [0, 1], fresh: [3] }); // remembered: prefix seq(32) → [0, 1]
  kv.free(a);
  kv.free(b);
  // Other content takes every block, evicting the cached prefix.
  const c = makeRequest('c', seq(64, 5000));
  assert.deepEqual(admit(kv, c), { hit: [], fresh: [2, 3, 1, 0] });
  kv.free(c);
  assert.deepEqual(admit(kv, makeRequest('d', [...seq(32), 8])), { hit: [], fresh: [0, 1, 3] });
  // c's first block (2) is still cached; its second (3) was taken by d.
  assert.equal(kv.cachedPrefixTokens(c.blockHashes.slice(0, 3)), 16);
});

test('a remembered hit serves only the part of it a later prompt shares, found at any divergence point', () => {
  const kv = new KVCacheManager({ numBlocks: 64, blockSize: 4 });
  const base = seq(33); // 8 full blocks + 1 token
  admit(kv, makeRequest('a', base));
  // The 8-block hit is remembered by the next admission behind the same first block.
  assert.deepEqual(admit(kv, makeRequest('b', [...base.slice(0, 32), 900])).hit, [0, 1, 2, 3, 4, 5, 6, 7]);
  for (let diverge = 1; diverge < 8; diverge++) {
    // Remember the whole 8-block hit again, then probe one that leaves it inside.
    const full = makeRequest(`f${diverge}`, [...base.slice(0, 32), 902]);
    assert.deepEqual(admit(kv, full).hit, seq(8));
    kv.free(full);
    const tokens = base.slice(0, 33);
    tokens[4 * diverge + 1] = 1000 + diverge; // changes block `diverge` and every later hash
    const r = makeRequest(`c${diverge}`, tokens);
    assert.deepEqual(admit(kv, r).hit, seq(diverge), `divergence in block ${diverge}`);
    kv.free(r);
  }
  assert.deepEqual(admit(kv, makeRequest('d', [...base.slice(0, 32), 901])).hit, seq(8), 'the full hit again');
});
