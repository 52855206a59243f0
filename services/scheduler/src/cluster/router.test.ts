import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import type { BlockHash } from '../core/index.js';
import { drive } from '../testing/drive.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';
import { Router, type RouteCandidate } from './router.js';

const BLOCK = 16;

/**
 * A candidate backed by a real core Scheduler (block size 16): `served` prompts were run to
 * completion on it, so their full blocks sit in its prefix cache exactly as on a live worker.
 */
function worker(
  id: string,
  opts: { load?: number; free?: number; served?: { prompt: number[]; salt?: string }[] } = {},
) {
  const { scheduler, executor } = makeScheduler({ numBlocks: 64, maxNumBatchedTokens: 256 });
  (opts.served ?? []).forEach((s, i) => {
    scheduler.addRequest({
      requestId: `${id}-${i}`,
      promptTokenIds: s.prompt,
      sampling: sampling({ maxTokens: 1 }),
      cacheSalt: s.salt,
    });
  });
  drive(scheduler, executor);
  const probes: BlockHash[][] = [];
  const candidate: RouteCandidate = {
    id,
    load: opts.load ?? 0,
    freeBlockRatio: opts.free ?? 1,
    blockSize: BLOCK,
    cachedPrefixTokens: (hashes) => {
      probes.push([...hashes]);
      return scheduler.kvCache.cachedPrefixTokens(hashes);
    },
  };
  return { candidate, probes };
}

const shared = seq(3 * BLOCK, 500); // a 3-block system prompt
const promptWith = (tail: number[]) => [...shared, ...tail];

test('prefix: a shared 3-block prefix cached only on B goes to B, and every worker is probed with the same hashes', () => {
  const a = worker('a');
  const b = worker('b', { load: 3, served: [{ prompt: promptWith(seq(5, 900)) }] });
  const c = worker('c', { load: 1, served: [{ prompt: seq(40, 2000) }] });
  const router = new Router();
  const d = router.route({ promptTokenIds: promptWith(seq(10, 700)) }, [a.candidate, b.candidate, c.candidate]);
  assert.deepEqual(d, { workerId: 'b', reason: 'prefix', cachedTokens: 3 * BLOCK });
  // The prompt has 58 tokens: 3 full blocks before its last token, hashed once and shown to all.
  for (const w of [a, b, c]) assert.equal(w.probes.length, 1);
  assert.equal(at(a.probes, 0).length, 3);
  assert.deepEqual(b.probes[0], a.probes[0]);
  assert.deepEqual(c.probes[0], a.probes[0]);
});

test('prefix: the longer hit wins over a shorter one on a less loaded worker', () => {
  const a = worker('a', { load: 0, served: [{ prompt: promptWith(seq(4, 900)).slice(0, BLOCK + 3) }] });
  const b = worker('b', { load: 4, served: [{ prompt: promptWith(seq(5, 900)) }] });
  const d = new Router().route({ promptTokenIds: promptWith(seq(10, 700)) }, [a.candidate, b.candidate]);
  assert.deepEqual(d, { workerId: 'b', reason: 'prefix', cachedTokens: 3 * BLOCK });
});

test('prefix: the hit worker overloaded beyond maxLoadImbalance → least loaded', () => {
  const a = worker('a', { load: 5 });
  const b = worker('b', { load: 14, served: [{ prompt: promptWith(seq(5, 900)) }] });
  const c = worker('c', { load: 2 });
  const router = new Router({ maxLoadImbalance: 8 });
  assert.deepEqual(
    router.route({ promptTokenIds: promptWith(seq(10, 700)) }, [a.candidate, b.candidate, c.candidate]),
    {
      workerId: 'c',
      reason: 'least-loaded',
      cachedTokens: 0,
    },
  );
  // At exactly the threshold B is not overloaded yet.
  const b10 = worker('b', { load: 10, served: [{ prompt: promptWith(seq(5, 900)) }] });
  assert.equal(
    router.route({ promptTokenIds: promptWith(seq(10, 700)) }, [a.candidate, b10.candidate, c.candidate])?.workerId,
    'b',
  );
});

test('prefix: no hit anywhere → least load, then most free blocks, then smallest id', () => {
  // A fresh router each time: a router that placed this prefix before sends it home (next test).
  const p = { promptTokenIds: seq(50, 3000) };
  assert.equal(
    new Router().route(p, [worker('a', { load: 2 }).candidate, worker('b', { load: 1 }).candidate])?.workerId,
    'b',
  );
  assert.equal(
    new Router().route(p, [
      worker('a', { load: 1, free: 0.2 }).candidate,
      worker('b', { load: 1, free: 0.7 }).candidate,
    ])?.workerId,
    'b',
  );
  assert.equal(
    new Router().route(p, [worker('b', { load: 1 }).candidate, worker('a', { load: 1 }).candidate])?.workerId,
    'a',
  );
});

test('prefix: a prefix evicted everywhere goes back to the worker that last took its root, unless it is overloaded', () => {
  const router = new Router({ maxLoadImbalance: 4 });
  const first = router.route({ promptTokenIds: promptWith(seq(10, 700)) }, [
    worker('a', { load: 1 }).candidate,
    worker('b', { load: 0 }).candidate,
  ]);
  assert.deepEqual(first, { workerId: 'b', reason: 'least-loaded', cachedTokens: 0 });
  // Same system prompt, another question, nothing cached anywhere (evicted): b again, though a is less loaded.
  const again = router.route({ promptTokenIds: promptWith(seq(10, 800)) }, [
    worker('a', { load: 0 }).candidate,
    worker('b', { load: 3 }).candidate,
  ]);
  assert.deepEqual(again, { workerId: 'b', reason: 'prefix-home', cachedTokens: 0 });
  // b overloaded: the least loaded takes it and becomes the root's home.
  assert.equal(
    router.route({ promptTokenIds: promptWith(seq(10, 900)) }, [
      worker('a', { load: 0 }).candidate,
      worker('b', { load: 5 }).candidate,
    ])?.workerId,
    'a',
  );
  assert.deepEqual(
    router.route({ promptTokenIds: promptWith(seq(10, 950)) }, [
      worker('a', { load: 2 }).candidate,
      worker('b', { load: 0 }).candidate,
    ]),
    {
      workerId: 'a',
      reason: 'prefix-home',
      cachedTokens: 0,
    },
  );
});

test('prefix: the cache salt prevents a cross-tenant hit', () => {
  const a = worker('a', { load: 0 });
  const b = worker('b', { load: 1, served: [{ prompt: promptWith(seq(5, 900)), salt: 'tenant-1' }] });
  const router = new Router();
  const prompt = promptWith(seq(10, 700));
  assert.equal(
    router.route({ promptTokenIds: prompt, cacheSalt: 'tenant-2' }, [a.candidate, b.candidate])?.workerId,
    'a',
  );
  assert.equal(router.route({ promptTokenIds: prompt }, [a.candidate, b.candidate])?.workerId, 'a');
  assert.deepEqual(router.route({ promptTokenIds: prompt, cacheSalt: 'tenant-1' }, [a.candidate, b.candidate]), {
    workerId: 'b',
    reason: 'prefix',
    cachedTokens: 3 * BLOCK,
  });
});

test('prefix: the last prompt token never counts as cached (same cap as the core)', () => {
  const exact = promptWith([]); // exactly 3 blocks: only 2 can be hits, the last token must run
  const b = worker('b', { load: 1, served: [{ prompt: promptWith(seq(5, 900)) }] });
  const d = new Router().route({ promptTokenIds: exact }, [worker('a').candidate, b.candidate]);
  assert.deepEqual(d, { workerId: 'b', reason: 'prefix', cachedTokens: 2 * BLOCK });
  assert.equal(at(b.probes, 0).length, 2);
  // A one-token prompt has no block to probe at all.
  const c = worker('c');
  new Router().route({ promptTokenIds: [7] }, [c.candidate]);
  assert.equal(c.probes.length, 0);
});

test('round-robin cycles in id order and keeps cycling as workers come and go', () => {
  const router = new Router({ policy: 'round-robin' });
  const [a, b, c] = ['a', 'b', 'c'].map((id) => worker(id, { load: id === 'a' ? 9 : 0 }).candidate) as [
    RouteCandidate,
    RouteCandidate,
    RouteCandidate,
  ];
  const p = { promptTokenIds: seq(40) };
  const picks = Array.from({ length: 7 }, () => router.route(p, [c, a, b])?.workerId);
  assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  assert.equal(router.route(p, [a, c])?.workerId, 'c'); // b gone: after a comes c
  assert.equal(router.route(p, [a, b])?.workerId, 'a'); // c gone: wrap around
  assert.equal(router.route(p, [])?.workerId, undefined);
});

test('least-loaded ignores prefix hits', () => {
  const b = worker('b', { load: 3, served: [{ prompt: promptWith(seq(5, 900)) }] });
  const d = new Router({ policy: 'least-loaded' }).route({ promptTokenIds: promptWith(seq(10, 700)) }, [
    worker('a', { load: 2 }).candidate,
    b.candidate,
  ]);
  assert.deepEqual(d, { workerId: 'a', reason: 'least-loaded', cachedTokens: 0 });
  assert.equal(b.probes.length, 0);
});

test('session affinity sticks to the last worker, falls back when it is gone or overloaded, and is bounded', () => {
  const router = new Router({ policy: 'least-loaded', maxLoadImbalance: 4, maxSessions: 2 });
  const p = (sessionId: string) => ({ promptTokenIds: seq(40), sessionId });
  const a = (load: number) => worker('a', { load }).candidate;
  const b = (load: number) => worker('b', { load }).candidate;
  assert.deepEqual(router.route(p('s1'), [a(0), b(1)]), { workerId: 'a', reason: 'least-loaded', cachedTokens: 0 });
  assert.deepEqual(router.route(p('s1'), [a(3), b(1)]), { workerId: 'a', reason: 'session', cachedTokens: 0 });
  assert.equal(router.route(p('s1'), [a(6), b(1)])?.workerId, 'b'); // overloaded by 5 > 4: moves to b
  assert.deepEqual(router.route(p('s1'), [a(0), b(2)]), { workerId: 'b', reason: 'session', cachedTokens: 0 });
  assert.equal(router.route(p('s1'), [a(5)])?.workerId, 'a'); // b gone
  assert.equal(router.route({ promptTokenIds: seq(40) }, [a(9), b(0)])?.workerId, 'b'); // no session: no affinity
  // LRU bound: s1 is the least recently routed when s3 arrives, so it is forgotten.
  router.route(p('s2'), [a(0), b(1)]);
  router.route(p('s3'), [a(0), b(1)]);
  assert.equal(router.numSessions, 2);
  assert.equal(router.route(p('s1'), [a(1), b(0)])?.reason, 'least-loaded');
  assert.equal(router.route(p('s3'), [a(1), b(0)])?.reason, 'session');
});

test('bad options are refused', () => {
  assert.throws(() => new Router({ maxLoadImbalance: -1 }), /maxLoadImbalance/);
  assert.throws(() => new Router({ maxSessions: 0 }), /maxSessions/);
});
