import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeTokenFn } from '../testing/fake-executor.js';
import { drive } from '../testing/drive.js';
import { EOS, makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';
import type { SamplingParams } from '@loom/common';

/** Samples EOS at position 12, stop-id 77 at 14, otherwise 1000 + position. */
const script: FakeTokenFn = (_id, p) => (p === 12 ? EOS : p === 14 ? 77 : 1000 + p);

function run(overrides: Partial<SamplingParams>, maxModelLen = 1024) {
  const { scheduler, executor } = makeScheduler({ maxModelLen }, script);
  scheduler.addRequest({ requestId: 'r', promptTokenIds: seq(10), sampling: sampling({ maxTokens: 8, ...overrides }) });
  return drive(scheduler, executor).get('r')!;
}

test('EOS stops with reason stop and is part of the output', () => {
  const r = run({});
  assert.deepEqual(r.tokenIds, [1010, 1011, EOS]);
  assert.deepEqual(r.finished, { reason: 'stop', numPromptTokens: 10, numOutputTokens: 3, numCachedTokens: 0 });
});

test('EOS is ignored before minTokens and with ignoreEos; stop ids report the id', () => {
  assert.deepEqual(run({ minTokens: 4, stopTokenIds: [77] }).tokenIds, [1010, 1011, EOS, 1013, 77]);
  assert.equal(run({ minTokens: 4, stopTokenIds: [77] }).finished?.stopReason, 77);
  assert.deepEqual(run({ ignoreEos: true, stopTokenIds: [77] }).finished?.stopReason, 77);
  assert.deepEqual(run({ ignoreEos: true }).tokenIds, [1010, 1011, EOS, 1013, 77, 1015, 1016, 1017]);
  assert.equal(run({ ignoreEos: true }).finished?.reason, 'length');
  assert.equal(run({ minTokens: 6, ignoreEos: true, stopTokenIds: [77] }).finished?.numOutputTokens, 8);
});

test('maxTokens and the context length end with reason length', () => {
  assert.deepEqual(run({ maxTokens: 2 }), {
    tokenIds: [1010, 1011],
    finished: { reason: 'length', numPromptTokens: 10, numOutputTokens: 2, numCachedTokens: 0 },
  });
  assert.deepEqual(run({ ignoreEos: true, maxTokens: 100 }, 14).tokenIds, [1010, 1011, EOS, 1013]);
});

test('requests that can never run come back finished with an error and are never queued', () => {
  const { scheduler, step } = makeScheduler({ blockSize: 16, numBlocks: 16, maxModelLen: 300 });
  const tooBig = scheduler.addRequest({
    requestId: 'big',
    promptTokenIds: seq(200),
    sampling: sampling({ maxTokens: 58 }),
  });
  assert.equal(tooBig.finishReason, 'error');
  assert.equal(tooBig.stopReason, 'prompt + max_tokens need 17 KV blocks; this worker has 16');
  const fits = scheduler.addRequest({
    requestId: 'fits',
    promptTokenIds: seq(200),
    sampling: sampling({ maxTokens: 57 }),
  });
  assert.equal(fits.finishReason, null);
  assert.match(
    String(scheduler.addRequest({ requestId: 'long', promptTokenIds: seq(300), sampling: sampling() }).stopReason),
    /context length \(300\)/,
  );
  assert.match(
    String(scheduler.addRequest({ requestId: 'empty', promptTokenIds: [], sampling: sampling() }).stopReason),
    /empty/,
  );
  assert.equal(scheduler.numWaiting, 1);
  assert.deepEqual(step().output.scheduledRequestIds, ['fits']);
  assert.throws(
    () => scheduler.addRequest({ requestId: 'fits', promptTokenIds: [1], sampling: sampling() }),
    /already scheduled/,
  );
});

test('abort frees a running request at once and a waiting one silently; the worker hears of the running one next step', () => {
  const { scheduler, step } = makeScheduler({ maxNumSeqs: 1 });
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(40), sampling: sampling({ maxTokens: 5 }) });
  scheduler.addRequest({ requestId: 'b', promptTokenIds: seq(20, 100), sampling: sampling({ maxTokens: 5 }) });
  scheduler.addRequest({ requestId: 'c', promptTokenIds: seq(20, 200), sampling: sampling({ maxTokens: 5 }) });
  step();
  assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, 13);
  assert.ok(scheduler.abort('b'));
  assert.ok(scheduler.abort('a'));
  assert.ok(!scheduler.abort('a'));
  assert.equal(scheduler.kvCache.blockPool.numFreeBlocks, 16);
  assert.deepEqual([scheduler.numRunning, scheduler.numWaiting], [0, 1]);
  const s = step();
  assert.deepEqual(s.output.finishedIds, ['a']);
  assert.deepEqual(
    s.output.newRequests.map((r) => [r.requestId, r.blockIds]),
    [['c', [3, 4]]],
  );
});

test('a request aborted while its step is in flight drops its token; finishRequest records a stop string', () => {
  const { scheduler, executor } = makeScheduler();
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(10), sampling: sampling({ maxTokens: 5 }) });
  scheduler.addRequest({ requestId: 'b', promptTokenIds: seq(10, 50), sampling: sampling({ maxTokens: 5 }) });
  const out = scheduler.schedule();
  const sampled = executor.execute(out);
  scheduler.abort('a');
  assert.deepEqual(
    scheduler.update(out, sampled).outputs.map((o) => o.requestId),
    ['b'],
  );
  const b = scheduler.getRequest('b')!;
  assert.ok(scheduler.finishRequest('b', 'stop', 'The End'));
  assert.deepEqual([b.status, b.finishReason, b.stopReason], ['finished_stopped', 'stop', 'The End']);
  scheduler.addRequest({ requestId: 'c', promptTokenIds: seq(3), sampling: sampling({ maxTokens: 1 }) });
  assert.deepEqual(scheduler.schedule().finishedIds, ['a', 'b']);
});

test('schedule() refuses to build a step while one is in flight; an empty step is not in flight', () => {
  const { scheduler } = makeScheduler();
  const empty = scheduler.schedule();
  assert.equal(empty.numScheduledTokens, 0);
  scheduler.update(empty, []);
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(4), sampling: sampling() });
  const out = scheduler.schedule();
  assert.throws(() => scheduler.schedule(), /before update/);
  assert.throws(() => scheduler.update(out, []), /no token for a/);
});

test('logprobs are passed through when the request asked for them', () => {
  const { scheduler, step } = makeScheduler();
  scheduler.addRequest({ requestId: 'a', promptTokenIds: seq(4), sampling: sampling({ logprobs: 1 }) });
  assert.deepEqual(step().outputs[0]?.logprobs, [
    { tokenId: 1004, logprob: -0.25, top: [{ tokenId: 1004, logprob: -0.25 }] },
  ]);
});
