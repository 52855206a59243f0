import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from './scheduler.js';
import { FakeExecutor } from '../testing/fake-executor.js';
import { drive } from '../testing/drive.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';

test('priority policy admits lower values first, then by arrival', () => {
  const { scheduler, step } = makeScheduler({ policy: 'priority', maxNumSeqs: 2 });
  for (const [id, priority] of [
    ['low', 10],
    ['mid', 5],
    ['high', 0],
    ['mid2', 5],
  ] as const) {
    scheduler.addRequest({ requestId: id, promptTokenIds: seq(4), priority, sampling: sampling({ maxTokens: 1 }) });
  }
  assert.deepEqual(step().output.scheduledRequestIds, ['high', 'mid']);
  assert.deepEqual(step().output.scheduledRequestIds, ['mid2', 'low']);
});

test('priority policy preempts the least important running request, even one already scheduled this step', () => {
  const { scheduler, step } = makeScheduler({ policy: 'priority', blockSize: 4, numBlocks: 4 });
  scheduler.addRequest({
    requestId: 'early-low',
    promptTokenIds: seq(6),
    priority: 9,
    sampling: sampling({ maxTokens: 6 }),
  });
  assert.deepEqual(
    step().output.newRequests.map((r) => r.blockIds),
    [[0, 1]],
  );
  scheduler.addRequest({
    requestId: 'late-high',
    promptTokenIds: seq(8, 50),
    priority: 1,
    sampling: sampling({ maxTokens: 6 }),
  });
  assert.deepEqual(
    step().output.newRequests.map((r) => r.blockIds),
    [[2, 3]],
  );
  // early-low (position 7) fits its blocks and is scheduled first; late-high (position 8) needs a
  // third block, so early-low is unscheduled and preempted, its blocks freed tail-first (1, 0).
  const s3 = step();
  assert.deepEqual(s3.output.preemptedIds, ['early-low']);
  assert.deepEqual(s3.output.cachedRequests, [
    { requestId: 'late-high', newBlockIds: [1], numComputedTokens: 8, numScheduledTokens: 1 },
  ]);
  assert.equal(s3.output.numScheduledTokens, 1);
  assert.deepEqual(scheduler.kvCache.blockPool.freeQueue.blockIds(), [0]);
  const low = scheduler.getRequest('early-low')!;
  assert.deepEqual([low.status, low.numComputedTokens, low.outputTokenIds], ['preempted', 0, [1006, 1007]]);
});

test('a running request that preempts itself frees room for the running requests after it', () => {
  const { scheduler, step } = makeScheduler({ policy: 'priority', blockSize: 4, numBlocks: 4 });
  scheduler.addRequest({
    requestId: 'early-low',
    promptTokenIds: seq(7),
    priority: 9,
    sampling: sampling({ maxTokens: 6 }),
  });
  step();
  scheduler.addRequest({
    requestId: 'late-high',
    promptTokenIds: seq(7, 50),
    priority: 1,
    sampling: sampling({ maxTokens: 6 }),
  });
  assert.deepEqual(
    step().output.newRequests.map((r) => r.blockIds),
    [[2, 3]],
  );
  // early-low (position 8) needs a third block and is itself the least important: it goes, and
  // late-high (position 7) still runs in this step.
  const s3 = step();
  assert.deepEqual(s3.output.preemptedIds, ['early-low']);
  assert.deepEqual(s3.output.cachedRequests, [
    { requestId: 'late-high', newBlockIds: [], numComputedTokens: 7, numScheduledTokens: 1 },
  ]);
  assert.deepEqual(
    step().output.cachedRequests.map((r) => r.newBlockIds),
    [[1]],
  );
});

test('drain hands back unfinished requests with their output; another worker finishes them identically', () => {
  const first = makeScheduler({ maxNumBatchedTokens: 32 });
  const reference = makeScheduler();
  for (const { scheduler } of [first, reference]) {
    scheduler.addRequest({
      requestId: 'a',
      promptTokenIds: seq(30),
      sampling: sampling({ maxTokens: 6 }),
      cacheSalt: 's',
    });
    scheduler.addRequest({
      requestId: 'b',
      promptTokenIds: seq(50, 100),
      sampling: sampling({ maxTokens: 4 }),
      priority: 3,
    });
  }
  const expected = drive(reference.scheduler, reference.executor);
  for (let i = 0; i < 3; i++) first.step();
  const inits = first.scheduler.drain();
  assert.deepEqual(
    inits.map((r) => [r.requestId, r.outputTokenIds, r.priority, r.cacheSalt]),
    [
      ['a', [1030, 1031, 1032], 0, 's'],
      ['b', [1050], 3, undefined],
    ],
  );
  assert.equal(first.scheduler.hasWork(), false);
  assert.equal(first.scheduler.kvCache.blockPool.numFreeBlocks, 16);
  assert.equal(first.scheduler.kvCache.blockPool.numCachedBlocks, 0, 'the dead worker took its KV along');
  const second = new Scheduler(first.config);
  for (const init of inits) second.addRequest(init);
  const resumed = drive(second, new FakeExecutor(16, 16));
  assert.deepEqual(resumed.get('a')?.tokenIds, expected.get('a')?.tokenIds.slice(3));
  assert.deepEqual(resumed.get('b')?.tokenIds, expected.get('b')?.tokenIds.slice(1));
  assert.deepEqual(resumed.get('a')?.finished?.numOutputTokens, 6);
});

/** 'a' runs a step and caches a 32-token prefix; then 'cold' (48 new tokens) and 'hit' ('a's prefix + 8) wait, in that order. */
function coldThenHit(scheduler: ReturnType<typeof makeScheduler>['scheduler'], step: () => unknown): void {
  const prefix = seq(32, 300);
  scheduler.addRequest({
    requestId: 'a',
    promptTokenIds: [...prefix, ...seq(8)],
    sampling: sampling({ maxTokens: 4 }),
  });
  step();
  scheduler.addRequest({ requestId: 'cold', promptTokenIds: seq(48, 500), sampling: sampling({ maxTokens: 4 }) });
  scheduler.addRequest({
    requestId: 'hit',
    promptTokenIds: [...prefix, ...seq(8, 50)],
    sampling: sampling({ maxTokens: 4 }),
  });
}

test('fcfs: a prefix-cache hit whose prefill fits goes ahead of an earlier cold prompt, which takes the rest', () => {
  const { scheduler, step } = makeScheduler({ maxNumBatchedTokens: 48 });
  coldThenHit(scheduler, step);
  const s2 = step().output;
  assert.deepEqual(s2.scheduledRequestIds, ['hit', 'cold', 'a']);
  assert.deepEqual(
    s2.newRequests.map((r) => [r.requestId, r.numComputedTokens, r.numScheduledTokens]),
    [
      ['hit', 32, 8],
      ['cold', 0, 39],
    ],
  );
});

test('fcfs: the queue head is passed over by cache hits in at most 4 steps', () => {
  const { scheduler, step } = makeScheduler({ maxNumBatchedTokens: 8 });
  const prefix = seq(32, 300);
  const one = sampling({ maxTokens: 1 });
  scheduler.addRequest({ requestId: 'a', promptTokenIds: [...prefix, ...seq(8)], sampling: one });
  scheduler.addRequest({ requestId: 'cold', promptTokenIds: seq(40, 500), sampling: one });
  for (let i = 1; i <= 6; i++)
    scheduler.addRequest({ requestId: `h${i}`, promptTokenIds: [...prefix, ...seq(8, 10 * i)], sampling: one });
  const order: string[] = [];
  while (scheduler.hasWork()) order.push(...step().output.scheduledRequestIds);
  assert.deepEqual(order, [
    ...Array<string>(5).fill('a'),
    'h1',
    'h2',
    'h3',
    'h4',
    ...Array<string>(5).fill('cold'),
    'h5',
    'h6',
  ]);
});

test('priority policy: no hits-first, the most important request is admitted first', () => {
  const { scheduler, step } = makeScheduler({ policy: 'priority', maxNumBatchedTokens: 48 });
  coldThenHit(scheduler, step);
  assert.deepEqual(step().output.scheduledRequestIds, ['cold', 'a']);
});
