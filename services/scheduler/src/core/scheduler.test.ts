import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { hashFullBlocks } from './block-hash.js';
import { drive } from '../testing/drive.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';

/** What positionToken samples for positions [from, to). */
const tokensAt = (from: number, to: number) => seq(to - from, 1000 + from);

test('prefill then decode: exact step contents, tokens, finish and the finished id in the next step', () => {
  const { scheduler, step } = makeScheduler();
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(20), sampling: sampling({ maxTokens: 3 }) });
  const s1 = step();
  assert.deepEqual(s1.output.newRequests, [
    {
      requestId: 'a',
      tokenIds: seq(20),
      sampling: sampling({ maxTokens: 3 }),
      blockIds: [0, 1],
      numComputedTokens: 0,
      numScheduledTokens: 20,
      numOutputTokens: 0,
    },
  ]);
  assert.deepEqual(s1.outputs, [{ requestId: 'a', newTokenIds: [1020] }]);
  const s2 = step();
  assert.deepEqual(s2.output.cachedRequests, [
    { requestId: 'a', newBlockIds: [], numComputedTokens: 20, numScheduledTokens: 1 },
  ]);
  assert.equal(s2.output.numScheduledTokens, 1);
  const s3 = step();
  assert.deepEqual(s3.outputs, [
    {
      requestId: 'a',
      newTokenIds: [1022],
      finished: { reason: 'length', numPromptTokens: 20, numOutputTokens: 3, numCachedTokens: 0 },
    },
  ]);
  assert.equal(scheduler.hasWork(), false);
  assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, 16);
  scheduler.addRequest({ requestId: 'b', promptTokenIds: seq(5, 300), sampling: sampling({ maxTokens: 1 }) });
  const s4 = step();
  assert.deepEqual(s4.output.finishedIds, ['a']);
  // a's blocks went to the tail in reverse (1, 0): b gets the head of the queue.
  assert.deepEqual(at(s4.output.newRequests, 0).blockIds, [2]);
});

test('chunked prefill shares the token budget with decodes across steps', () => {
  const { scheduler, step } = makeScheduler({ maxNumBatchedTokens: 16 });
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(10), sampling: sampling({ maxTokens: 5 }) });
  scheduler.addRequest({ requestId: 'b', promptTokenIds: seq(40, 100), sampling: sampling({ maxTokens: 1 }) });
  const s1 = step();
  assert.deepEqual(
    s1.output.newRequests.map((r) => [r.requestId, r.blockIds, r.numComputedTokens, r.numScheduledTokens]),
    [
      ['a', [0], 0, 10],
      ['b', [1], 0, 6],
    ],
  );
  assert.deepEqual(
    s1.outputs.map((o) => o.requestId),
    ['a'],
    'a partial prefill samples nothing',
  );
  const s2 = step();
  assert.deepEqual(s2.output.cachedRequests, [
    { requestId: 'a', newBlockIds: [], numComputedTokens: 10, numScheduledTokens: 1 },
    { requestId: 'b', newBlockIds: [2], numComputedTokens: 6, numScheduledTokens: 15 },
  ]);
  const s3 = step();
  assert.deepEqual(
    s3.output.cachedRequests.map((r) => [r.requestId, r.newBlockIds, r.numComputedTokens, r.numScheduledTokens]),
    [
      ['a', [], 11, 1],
      ['b', [3], 21, 15],
    ],
  );
  const s4 = step();
  assert.deepEqual(
    s4.output.cachedRequests.map((r) => [r.requestId, r.numComputedTokens, r.numScheduledTokens]),
    [
      ['a', 12, 1],
      ['b', 36, 4],
    ],
  );
  assert.deepEqual(
    s4.outputs.map((o) => [o.requestId, o.newTokenIds, o.finished?.reason]),
    [
      ['a', [1013], undefined],
      ['b', [1040], 'length'],
    ],
  );
});

test('a second request sharing a 2-block prefix starts at 32 computed tokens on the same blocks', () => {
  const { scheduler, executor, step } = makeScheduler();
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(40), sampling: sampling({ maxTokens: 1 }) });
  drive(scheduler, executor);
  scheduler.addRequest({
    requestId: 'b',
    promptTokenIds: [...seq(32), ...seq(9, 500)],
    sampling: sampling({ maxTokens: 2 }),
  });
  const s = step();
  assert.deepEqual(
    s.output.newRequests.map((r) => [r.blockIds, r.numComputedTokens, r.numScheduledTokens]),
    [[[0, 1, 3], 32, 9]],
  );
  assert.deepEqual(s.output.finishedIds, ['a']);
  assert.deepEqual(scheduler.stats().prefixCache, { queriedTokens: 81, hitTokens: 32 });
  const rest = drive(scheduler, executor);
  assert.deepEqual(rest.get('b')?.finished?.numCachedTokens, 32);
});

test("n > 1 siblings admitted together: the second waits one step and hits the first one's prompt blocks", () => {
  const { scheduler, executor, step } = makeScheduler();
  for (const i of [0, 1])
    scheduler.addRequest({ requestId: `r#${i}`, promptTokenIds: seq(40), sampling: sampling({ maxTokens: 4 }) });
  const s1 = step();
  assert.deepEqual(s1.output.scheduledRequestIds, ['r#0']);
  const s2 = step();
  assert.deepEqual(
    s2.output.newRequests.map((r) => [r.requestId, r.blockIds, r.numComputedTokens, r.numScheduledTokens]),
    [['r#1', [0, 1, 3], 32, 8]],
  );
  const results = drive(scheduler, executor);
  assert.deepEqual(results.get('r#0')?.tokenIds, tokensAt(42, 44));
  assert.deepEqual(results.get('r#1')?.tokenIds, tokensAt(41, 44));
  assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, 16);
});

test('preemption by recompute when blocks run out; the victim resumes with its generated tokens', () => {
  // 8 blocks of 4 tokens; each request may hold up to 5 (8 prompt + 12 output - 1 KV tokens).
  const { scheduler, executor, step } = makeScheduler({ blockSize: 4, numBlocks: 8 });
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(8), sampling: sampling({ maxTokens: 12 }) });
  scheduler.addRequest({ requestId: 'b', promptTokenIds: seq(8, 100), sampling: sampling({ maxTokens: 12 }) });
  const s1 = step();
  assert.deepEqual(
    s1.output.newRequests.map((r) => r.blockIds),
    [
      [0, 1],
      [2, 3],
    ],
  );
  const s2 = step();
  assert.deepEqual(
    s2.output.cachedRequests.map((r) => r.newBlockIds),
    [[4], [5]],
  );
  for (let i = 3; i <= 5; i++) step();
  const s6 = step(); // position 12 opens each request's 4th block
  assert.deepEqual(
    s6.output.cachedRequests.map((r) => r.newBlockIds),
    [[6], [7]],
  );
  for (let i = 7; i <= 9; i++) step();
  // Position 16 needs a 5th block and none is free: b (newest) is preempted; its blocks go to the
  // free-queue tail tail-first (7, 5, 3, 2) and a takes the head, evicting b's block 7.
  const s10 = step();
  assert.deepEqual(s10.output.preemptedIds, ['b']);
  assert.deepEqual(s10.output.cachedRequests, [
    { requestId: 'a', newBlockIds: [7], numComputedTokens: 16, numScheduledTokens: 1 },
  ]);
  assert.deepEqual(scheduler.getRequest('b')?.status, 'preempted');
  assert.deepEqual(scheduler.kvCache.blockPool.freeQueue.blockIds(), [5, 3, 2]);
  // b's cached blocks 2, 3, 5 are free but would be touched, leaving nothing for its 2 more blocks.
  assert.deepEqual(step().output.scheduledRequestIds, ['a']);
  assert.deepEqual(step().outputs[0]?.finished?.reason, 'length');
  const s13 = step();
  assert.deepEqual(s13.output.finishedIds, ['a']);
  assert.deepEqual(s13.output.newRequests, [
    {
      requestId: 'b',
      tokenIds: [...seq(8, 100), ...tokensAt(8, 17)],
      sampling: sampling({ maxTokens: 12 }),
      blockIds: [2, 3, 5, 7, 6],
      numComputedTokens: 12,
      numScheduledTokens: 5,
      numOutputTokens: 9,
    },
  ]);
  assert.deepEqual(s13.outputs, [{ requestId: 'b', newTokenIds: [1017] }]);
  const rest = drive(scheduler, executor);
  assert.deepEqual(rest.get('b'), {
    tokenIds: tokensAt(18, 20),
    finished: { reason: 'length', numPromptTokens: 8, numOutputTokens: 12, numCachedTokens: 0 },
  });
  assert.equal(scheduler.stats().numPreemptions, 1);
  assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, 8);
});

test('block hashes given with the request (the router made them) are adopted only for the same block size and salt', () => {
  const prompt = seq(50);
  const { scheduler, executor } = makeScheduler();
  const given = hashFullBlocks(prompt, 16, 't');
  const a = scheduler.addRequest({
    requestId: 'a',
    promptTokenIds: prompt,
    sampling: sampling(),
    cacheSalt: 't',
    blockHashes: given,
  });
  assert.deepEqual(a.blockHashes, given.hashes);
  assert.equal(a.blockHashes.length, 3);
  const b = scheduler.addRequest({
    requestId: 'b',
    promptTokenIds: prompt,
    sampling: sampling(),
    cacheSalt: 'u',
    blockHashes: given,
  });
  const c = scheduler.addRequest({
    requestId: 'c',
    promptTokenIds: prompt,
    sampling: sampling(),
    cacheSalt: 't',
    blockHashes: hashFullBlocks(prompt, 8, 't'),
  });
  assert.deepEqual([b.blockHashes.length, c.blockHashes.length], [0, 0]);
  // Hashed lazily by the core itself, c ends with exactly the hashes given for a, and hits a's blocks.
  drive(scheduler, executor);
  assert.deepEqual(c.blockHashes.slice(0, 3), given.hashes);
  assert.deepEqual([a.numCachedTokens, b.numCachedTokens, c.numCachedTokens], [0, 0, 48]);
});
