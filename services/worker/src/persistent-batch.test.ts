import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at } from '@loom/common';
import type { ProtoSamplingParams } from '@loom/proto';
import { PersistentBatch, StepRejected } from './persistent-batch.js';
import type { EngineStepResult } from './engine/engine-api.js';
import { GREEDY_SAMPLING, stepRequest } from './testing/step-request-fixtures.js';

const greedy = GREEDY_SAMPLING;
const step = stepRequest;
const result = (tokens: number[]): EngineStepResult => ({
  tokens: Int32Array.from(tokens),
  logprobs: new Float32Array(tokens.length),
  topN: 0,
  seconds: 0,
});

test('a chunked prefill then decode: positions, block tables and sampling flags follow the diffs', () => {
  const b = new PersistentBatch(4);
  // 6 prompt tokens, first chunk of 4 in block 9: no sample yet.
  let p = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'a',
          tokenIds: [1, 2, 3, 4, 5, 6],
          sampling: greedy,
          blockIds: [9],
          numComputedTokens: 0,
          numScheduledTokens: 4,
          numOutputTokens: 0,
        },
      ],
    }),
  );
  assert.deepEqual([...at(p.seqs, 0).tokens], [1, 2, 3, 4]);
  assert.equal(at(p.seqs, 0).sample, false);
  assert.deepEqual(b.complete(p, result([-1])), []);
  // Second chunk: the last 2 prompt tokens in new block 3, reaching the end → sample.
  p = b.prepare(
    step({ cachedRequests: [{ requestId: 'a', newBlockIds: [3], numComputedTokens: 4, numScheduledTokens: 2 }] }),
  );
  assert.deepEqual([...at(p.seqs, 0).tokens], [5, 6]);
  assert.equal(at(p.seqs, 0).startPos, 4);
  assert.deepEqual([...at(p.seqs, 0).blockTable], [9, 3]);
  assert.equal(at(p.seqs, 0).sample, true);
  assert.equal(at(p.seqs, 0).rngCounter, 0);
  assert.deepEqual(
    b.complete(p, result([42])).map((s) => [s.requestId, s.tokenId]),
    [['a', 42]],
  );
  // Decode: the worker feeds back the token it sampled itself.
  p = b.prepare(
    step({ cachedRequests: [{ requestId: 'a', newBlockIds: [], numComputedTokens: 6, numScheduledTokens: 1 }] }),
  );
  assert.deepEqual([...at(p.seqs, 0).tokens], [42]);
  assert.equal(at(p.seqs, 0).startPos, 6);
  assert.equal(at(p.seqs, 0).rngCounter, 1);
});

test('finished and preempted requests are forgotten; unknown or over-scheduled requests are refused', () => {
  const b = new PersistentBatch(4);
  const p = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'a',
          tokenIds: [1, 2],
          sampling: greedy,
          blockIds: [0],
          numComputedTokens: 0,
          numScheduledTokens: 2,
          numOutputTokens: 3,
        },
      ],
    }),
  );
  b.complete(p, result([5]));
  assert.equal(at(p.seqs, 0).rngCounter, 3, 'tokens generated before a preemption keep the RNG counter going');
  b.prepare(step({ preemptedIds: ['a'] }));
  assert.equal(b.size, 0);
  assert.throws(
    () =>
      b.prepare(
        step({ cachedRequests: [{ requestId: 'a', newBlockIds: [], numComputedTokens: 3, numScheduledTokens: 1 }] }),
      ),
    StepRejected,
  );
  assert.throws(
    () =>
      b.prepare(
        step({
          newRequests: [
            {
              requestId: 'b',
              tokenIds: [1, 2],
              sampling: greedy,
              blockIds: [0],
              numComputedTokens: 0,
              numScheduledTokens: 3,
              numOutputTokens: 0,
            },
          ],
        }),
      ),
    /exceed its 2 known tokens/,
  );
  assert.throws(
    () =>
      b.prepare(
        step({
          newRequests: [
            {
              requestId: 'c',
              tokenIds: [1, 2, 3, 4, 5],
              sampling: greedy,
              blockIds: [0],
              numComputedTokens: 0,
              numScheduledTokens: 5,
              numOutputTokens: 0,
            },
          ],
        }),
      ),
    /1 blocks cannot hold 5 tokens/,
  );
});

test('penalties, logit bias and min_tokens reach the engine: prompt/output split, EOS and stop ids masked until min_tokens', () => {
  const b = new PersistentBatch(4, [2]);
  const sampling: ProtoSamplingParams = {
    ...greedy,
    presencePenalty: 0.5,
    frequencyPenalty: 0.25,
    repetitionPenalty: 1.3,
    logitBias: { '7': 5, '9': -100 },
    minTokens: 3,
    stopTokenIds: [11],
  };
  // Re-admitted after a preemption: 3 prompt tokens then 2 already generated.
  let p = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'a',
          tokenIds: [1, 5, 6, 8, 8],
          sampling,
          blockIds: [0, 1],
          numComputedTokens: 0,
          numScheduledTokens: 5,
          numOutputTokens: 2,
        },
      ],
    }),
  );
  let s = at(p.seqs, 0);
  assert.deepEqual([...s.promptTokens!], [1, 5, 6]);
  assert.deepEqual([...s.outputTokens!], [8, 8]);
  assert.deepEqual([s.presencePenalty, s.frequencyPenalty, s.repetitionPenalty], [0.5, 0.25, 1.3]);
  assert.deepEqual([...s.logitBiasIds!], [7, 9]);
  assert.deepEqual([...s.logitBiasValues!], [5, -100]);
  assert.deepEqual([...s.maskTokens!], [2, 11], '2 outputs < min_tokens 3: EOS and the stop id are masked');
  b.complete(p, result([4]));
  p = b.prepare(
    step({ cachedRequests: [{ requestId: 'a', newBlockIds: [], numComputedTokens: 5, numScheduledTokens: 1 }] }),
  );
  s = at(p.seqs, 0);
  assert.deepEqual([...s.outputTokens!], [8, 8, 4]);
  assert.equal(s.maskTokens, undefined, 'min_tokens reached');

  // ignore_eos keeps EOS sampleable (the stop ids stay masked); a plain request carries no processing at all.
  const q = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'b',
          tokenIds: [1, 2, 3],
          sampling: { ...greedy, minTokens: 4, ignoreEos: true, stopTokenIds: [11] },
          blockIds: [2],
          numComputedTokens: 0,
          numScheduledTokens: 3,
          numOutputTokens: 0,
        },
        {
          requestId: 'c',
          tokenIds: [1, 2, 3],
          sampling: greedy,
          blockIds: [3],
          numComputedTokens: 0,
          numScheduledTokens: 3,
          numOutputTokens: 0,
        },
      ],
    }),
  );
  assert.deepEqual([...at(q.seqs, 0).maskTokens!], [11]);
  const plain = at(q.seqs, 1);
  assert.deepEqual(
    [plain.maskTokens, plain.outputTokens, plain.promptTokens, plain.logitBiasIds, plain.repetitionPenalty],
    [undefined, undefined, undefined, undefined, undefined],
  );
});

test('prompt logprobs: chunks ask the engine for rows while inside the prompt, and rows map to prompt positions', () => {
  const b = new PersistentBatch(4);
  // prompt_logprobs 2 = each prompt token's logprob and its top 2; 6 prompt tokens in chunks of 4 + 2.
  const sampling = { ...greedy, promptLogprobs: 2 };
  let p = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'a',
          tokenIds: [1, 2, 3, 4, 5, 6],
          sampling,
          blockIds: [0, 1],
          numComputedTokens: 0,
          numScheduledTokens: 4,
          numOutputTokens: 0,
        },
      ],
    }),
  );
  assert.equal(at(p.seqs, 0).promptLogprobs, 2);
  assert.equal(at(p.seqs, 0).nextPromptToken, 5, "the last row scores the next chunk's first token");
  // Rows score positions 1..4 (row j -> position j + 1); the top-2 of row j are (100 + j, 200 + j).
  const rowsResult = (n: number, base: number): EngineStepResult => ({
    ...result([-1]),
    prompt: {
      offsets: Int32Array.from([0, n]),
      logprobs: Float32Array.from({ length: n }, (_, j) => -(base + j)),
      topN: 2,
      topIds: Int32Array.from({ length: n * 2 }, (_, k) => (k % 2 ? 200 : 100) + Math.floor(k / 2)),
      topLogprobs: new Float32Array(n * 2),
    },
  });
  let r = rowsResult(4, 1);
  b.complete(p, r);
  let lp = b.promptLogprobs(p, r);
  assert.equal(lp.length, 1);
  assert.equal(at(lp, 0).startPosition, 1);
  assert.deepEqual(
    at(lp, 0).tokens.map((t) => [t.tokenId, t.logprob, t.top.map((x) => x.tokenId)]),
    [
      [2, -1, [100, 200]],
      [3, -2, [101, 201]],
      [4, -3, [102, 202]],
      [5, -4, [103, 203]],
    ],
  );
  // Last chunk: its last row scores the generated token, which is not a prompt position.
  p = b.prepare(
    step({ cachedRequests: [{ requestId: 'a', newBlockIds: [], numComputedTokens: 4, numScheduledTokens: 2 }] }),
  );
  assert.equal(at(p.seqs, 0).nextPromptToken, undefined);
  r = { ...rowsResult(2, 5), tokens: Int32Array.from([9]) };
  b.complete(p, r);
  lp = b.promptLogprobs(p, r);
  assert.deepEqual(
    at(lp, 0).tokens.map((t) => [t.tokenId, t.logprob]),
    [[6, -5]],
  );
  assert.equal(at(lp, 0).startPosition, 5);
  // Decode steps ask for nothing; nor does a request without prompt_logprobs.
  p = b.prepare(
    step({ cachedRequests: [{ requestId: 'a', newBlockIds: [], numComputedTokens: 6, numScheduledTokens: 1 }] }),
  );
  assert.equal(at(p.seqs, 0).promptLogprobs, undefined);
  p = b.prepare(
    step({
      newRequests: [
        {
          requestId: 'b',
          tokenIds: [1, 2, 3],
          sampling: greedy,
          blockIds: [2],
          numComputedTokens: 0,
          numScheduledTokens: 3,
          numOutputTokens: 0,
        },
      ],
    }),
  );
  assert.equal(at(p.seqs, 0).promptLogprobs, undefined);
});

test('token bitmasks reach the sampling sequences they name, copied to aligned words; others are refused', () => {
  const b = new PersistentBatch(4);
  const newReq = (requestId: string, numScheduledTokens: number) => ({
    requestId,
    tokenIds: [1, 2, 3],
    sampling: greedy,
    blockIds: [requestId === 'a' ? 0 : 1],
    numComputedTokens: 0,
    numScheduledTokens,
    numOutputTokens: 0,
  });
  // The words arrive as a slice of the message at an odd offset, little-endian.
  const message = Buffer.alloc(1 + 8);
  message.writeUInt32LE(0x80000005, 1);
  message.writeUInt32LE(1, 5);
  const words = message.subarray(1);
  const p = b.prepare(
    step({ newRequests: [newReq('a', 3), newReq('b', 2)], tokenBitmasks: [{ requestId: 'a', words }] }),
  );
  assert.deepEqual([...at(p.seqs, 0).allowedTokens!], [0x80000005 | 0, 1]);
  assert.equal(at(p.seqs, 1).allowedTokens, undefined, 'no mask: unconstrained');
  // A mask for a request that does not sample this step (b's prefill continues), or that is not in it.
  assert.throws(
    () =>
      b.prepare(
        step({
          cachedRequests: [{ requestId: 'b', newBlockIds: [], numComputedTokens: 2, numScheduledTokens: 1 }],
          tokenBitmasks: [{ requestId: 'zz', words }],
        }),
      ),
    (e: Error) => e instanceof StepRejected && /not in this step: zz/.test(e.message),
  );
  const c = new PersistentBatch(4);
  assert.throws(
    () => c.prepare(step({ newRequests: [newReq('b', 2)], tokenBitmasks: [{ requestId: 'b', words }] })),
    /does not sample/,
  );
  assert.throws(
    () =>
      c.prepare(step({ newRequests: [newReq('c', 3)], tokenBitmasks: [{ requestId: 'c', words: words.subarray(1) }] })),
    /not whole words/,
  );
});
