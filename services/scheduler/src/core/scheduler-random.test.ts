import { at, entry } from '@loom/common';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KVCacheGroupSpec } from './kv-cache-group.js';
import type { SchedulingPolicy } from './request-queue.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';
import { seededRandom } from '@loom/testing';

const prng = seededRandom;

/**
 * Many requests with shared prefixes, tenants, staggered arrivals and aborts on a pool small enough
 * to force preemption, chunking and eviction. The FakeExecutor checks the protocol and the KV of
 * every step; here we check every surviving request's exact output and that every block comes back.
 */
const FULL = { slidingWindow: 0 };
const LAYOUTS: Record<string, { groups: KVCacheGroupSpec[]; numBlocks: number }> = {
  'full attention': { groups: [FULL], numBlocks: 24 },
  // gemma3-like: a full group and two sliding groups of one window; gemma2/gpt-oss-like: one of each.
  'full + 2 sliding (W 6)': { groups: [FULL, { slidingWindow: 6 }, { slidingWindow: 6 }], numBlocks: 44 },
  'full + sliding (W 9)': { groups: [FULL, { slidingWindow: 9 }], numBlocks: 36 },
  // mistral: every layer slides.
  'all sliding (W 5)': { groups: [{ slidingWindow: 5 }], numBlocks: 9 },
};

for (const [policy, seed, layout] of [
  ['fcfs', 1, 'full attention'],
  ['fcfs', 2, 'full attention'],
  ['priority', 3, 'full attention'],
  ['priority', 4, 'full attention'],
  ['fcfs', 5, 'full + 2 sliding (W 6)'],
  ['priority', 6, 'full + 2 sliding (W 6)'],
  ['fcfs', 7, 'full + sliding (W 9)'],
  ['fcfs', 8, 'all sliding (W 5)'],
  ['priority', 9, 'all sliding (W 5)'],
] as [SchedulingPolicy, number, string][]) {
  test(`random workload keeps every invariant (${policy}, seed ${seed}, ${layout})`, () => {
    const rand = prng(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    const { scheduler, executor, step, config } = makeScheduler({
      policy,
      blockSize: 4,
      numBlocks: entry(LAYOUTS, layout).numBlocks,
      kvCacheGroups: entry(LAYOUTS, layout).groups,
      maxNumBatchedTokens: 20,
      maxNumSeqs: 6,
      maxModelLen: 64,
    });
    const prefixes = [seq(12, 100), seq(12, 200), seq(9, 300)];
    const expected = new Map<string, number[]>();
    const got = new Map<string, number[]>();
    const aborted = new Set<string>();
    let added = 0;
    for (let s = 0; s < 3000 && (added < 60 || scheduler.hasWork()); s++) {
      while (added < 60 && rand() < 0.3) {
        const id = `r${added++}`;
        const prompt = [...at(prefixes, pick(3)).slice(0, 1 + pick(12)), ...seq(pick(18), 1000 * added)];
        const maxTokens = 1 + pick(20);
        scheduler.addRequest({
          requestId: id,
          promptTokenIds: prompt,
          sampling: sampling({ maxTokens }),
          priority: pick(3),
          ...(rand() < 0.3 ? { cacheSalt: 't' } : {}),
        });
        expected.set(id, seq(maxTokens, 1000 + prompt.length));
        got.set(id, []);
      }
      if (rand() < 0.03) {
        const live = scheduler.requests();
        if (live.length > 0) {
          const id = at(live, pick(live.length)).requestId;
          assert.ok(scheduler.abort(id));
          aborted.add(id);
        }
      }
      const { outputs } = step();
      for (const o of outputs) got.get(o.requestId)!.push(...o.newTokenIds);
      const pool = scheduler.kvCache.blockPool;
      assert.equal(pool.blocks.filter((b) => b.refCnt === 0).length, pool.numFreeBlocks);
    }
    assert.equal(added, 60);
    assert.equal(scheduler.hasWork(), false);
    for (const [id, tokens] of expected) {
      if (aborted.has(id)) assert.deepEqual(got.get(id), tokens.slice(0, got.get(id)!.length));
      else assert.deepEqual(got.get(id), tokens, id);
    }
    assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, config.numBlocks);
    const stats = scheduler.stats();
    assert.ok(stats.numPreemptions > 0, 'the scenario preempts');
    assert.ok(stats.prefixCache.hitTokens > 0, 'the scenario hits the prefix cache');
    assert.ok(aborted.size > 0, 'the scenario aborts');
    assert.ok(executor.numSteps > 0);
  });
}
