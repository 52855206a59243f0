// Embedding requests in the core: prefill-only sequences scheduled with generation in the same steps (chunked
// prefill, preemption, prefix cache), finished by the worker's pooled vector in the step that computes their last
// token. Driven against the FakeExecutor (a fake worker for core unit tests only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import type { PoolingParams } from '@loom/common';
import { fakeEmbedding } from '../testing/fake-executor.js';
import { drive } from '../testing/drive.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';

const pool = (type: PoolingParams['type']): PoolingParams => ({ type, normalize: true });
const embed = (requestId: string, promptTokenIds: number[], type: PoolingParams['type'] = 'last') => ({
  requestId,
  promptTokenIds,
  sampling: sampling({ maxTokens: 0 }),
  pooling: pool(type),
});

test('an embedding finishes in the step that computes its last token, with the vector and no token', () => {
  const { scheduler, step } = makeScheduler();
  scheduler.addRequest(embed('e', seq(20, 3)));
  const s = step();
  assert.equal(at(s.output.newRequests, 0).pooling?.type, 'last');
  assert.deepEqual(s.outputs, [
    {
      requestId: 'e',
      newTokenIds: [],
      pooled: fakeEmbedding(seq(20, 3), 0),
      finished: { reason: 'stop', numPromptTokens: 20, numOutputTokens: 0, numCachedTokens: 0 },
    },
  ]);
  assert.equal(scheduler.hasWork(), false);
  assert.equal(scheduler.kvUsage(), 0, 'its blocks are free at once');
  // The worker forgets it in the next step it is sent.
  scheduler.addRequest({ requestId: 'g', promptTokenIds: seq(4), sampling: sampling({ maxTokens: 1 }) });
  assert.deepEqual(step().output.finishedIds, ['e']);
});

test('embeddings share steps with generation; a long input is prefilled in chunks under the token budget', () => {
  const { scheduler, executor } = makeScheduler({ maxNumBatchedTokens: 32 });
  scheduler.addRequest({ requestId: 'gen', promptTokenIds: seq(10, 500), sampling: sampling({ maxTokens: 6 }) });
  scheduler.addRequest(embed('long', seq(70, 100), 'mean'));
  scheduler.addRequest(embed('short', seq(5, 200), 'cls'));
  const stepsOf = new Map<string, number[]>();
  const results = drive(scheduler, executor, 100, (o, s) =>
    stepsOf.set(o.requestId, [...(stepsOf.get(o.requestId) ?? []), s]),
  );
  // 'long' needs 70 tokens: its chunks ride in steps 0..3 beside gen's decodes, and it finishes in the last.
  assert.deepEqual(results.get('long')!.pooled, fakeEmbedding(seq(70, 100), 0));
  assert.deepEqual(results.get('long')!.tokenIds, []);
  assert.equal(results.get('gen')!.tokenIds.length, 6);
  assert.deepEqual(results.get('short')!.pooled, fakeEmbedding(seq(5, 200), 0));
  const longSteps = stepsOf.get('long')!;
  assert.equal(longSteps.length, 1, 'one output: the finish');
  assert.ok(at(longSteps, 0) >= 2, `a 70-token input under a 32-token budget finishes in step ${longSteps[0]}`);
  assert.ok(
    stepsOf.get('gen')!.some((s) => s <= at(longSteps, 0)),
    'generation decoded in the steps that prefilled the embedding',
  );
});

test('prefix cache: last pooling reuses a cached prefix (the last token still runs); mean and CLS recompute it', () => {
  const { scheduler, step } = makeScheduler();
  const prompt = seq(40, 7);
  scheduler.addRequest(embed('a', prompt));
  step();
  // Same 40 tokens: 2 full blocks (32 tokens) cached; the hit stops below the last token.
  scheduler.addRequest(embed('last', prompt));
  let s = step();
  assert.equal(at(s.output.newRequests, 0).numComputedTokens, 32);
  assert.deepEqual(at(s.outputs, 0).pooled, fakeEmbedding(prompt, 32));
  assert.equal(at(s.outputs, 0).finished!.numCachedTokens, 32);
  for (const type of ['mean', 'cls'] as const) {
    scheduler.addRequest(embed(type, prompt, type));
    s = step();
    assert.equal(at(s.output.newRequests, 0).numComputedTokens, 0, `${type}: no prefix-cache read`);
    assert.deepEqual(at(s.outputs, 0).pooled, fakeEmbedding(prompt, 0));
  }
  // What embeddings computed is cached for generation too.
  scheduler.addRequest({ requestId: 'gen', promptTokenIds: [...prompt, 99], sampling: sampling({ maxTokens: 1 }) });
  assert.equal(at(step().output.newRequests, 0).numComputedTokens, 32);
});

test('admission: an embedding may fill the whole context (it generates nothing); beyond it, or the pool, is refused', () => {
  const { scheduler, step } = makeScheduler({ maxModelLen: 48, numBlocks: 4 });
  assert.equal(scheduler.addRequest(embed('full', seq(48))).finishReason, null);
  assert.deepEqual(at(step().outputs, 0).pooled, fakeEmbedding(seq(48), 0));
  const over = scheduler.addRequest(embed('over', seq(49)));
  assert.equal(over.finishReason, 'error');
  assert.equal(over.stopReason, '49 tokens exceed the context length (48)');
  const small = makeScheduler({ maxModelLen: 1024, numBlocks: 2 });
  assert.equal(
    small.scheduler.addRequest(embed('big', seq(40))).stopReason,
    'the input needs 3 KV blocks; this worker has 2',
  );
  assert.equal(small.scheduler.addRequest(embed('empty', [])).stopReason, 'the prompt is empty');
});

test('a preempted mean-pooled embedding is recomputed from position 0 and still finishes right', () => {
  // 4 blocks of 16: the embedding (48 tokens, 3 blocks) and a growing generation cannot both hold theirs.
  const { scheduler, executor } = makeScheduler({ numBlocks: 4, maxNumBatchedTokens: 16 });
  scheduler.addRequest({ requestId: 'gen', promptTokenIds: seq(15, 300), sampling: sampling({ maxTokens: 20 }) });
  scheduler.addRequest(embed('e', seq(48, 400), 'mean'));
  const results = drive(scheduler, executor, 200);
  assert.deepEqual(results.get('e')!.pooled, fakeEmbedding(seq(48, 400), 0));
  assert.equal(results.get('gen')!.tokenIds.length, 20);
  assert.ok(scheduler.stats().numPreemptions > 0, 'the test preempted someone');
});

test('protocol: a token for an embedding, or no vector where one is due, is refused', () => {
  const a = makeScheduler();
  a.scheduler.addRequest(embed('e', seq(8)));
  const out = a.scheduler.schedule();
  a.executor.execute(out);
  assert.throws(
    () => a.scheduler.update(out, [{ requestId: 'e', tokenId: 5 }], a.executor.pooled),
    /worker sent a token for e, which is not due one/,
  );
  const b = makeScheduler();
  b.scheduler.addRequest(embed('e', seq(8)));
  const out2 = b.scheduler.schedule();
  b.executor.execute(out2);
  assert.throws(() => b.scheduler.update(out2, [], []), /worker sent no pooled vector for e/);
  const c = makeScheduler();
  c.scheduler.addRequest({ requestId: 'g', promptTokenIds: seq(8), sampling: sampling({ maxTokens: 3 }) });
  const out3 = c.scheduler.schedule();
  const sampled = c.executor.execute(out3);
  assert.throws(
    () => c.scheduler.update(out3, sampled, [{ requestId: 'g', embedding: [1] }]),
    /worker sent a pooled vector for g, which is not due one/,
  );
});
