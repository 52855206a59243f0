// The worker's side of embeddings: which rows each chunk of an embedding request asks the engine for, how the
// pooled rows accumulate across chunked-prefill steps, and the vector's tail (mean, dimensions, L2 normalisation).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import type { NewRequest, ProtoPoolingParams } from '@loom/proto';
import type { EngineStepResult } from './engine/engine-api.js';
import { finishPooled } from './embedding-pooling.js';
import { PersistentBatch, StepRejected } from './persistent-batch.js';
import { GREEDY_SAMPLING, stepRequest } from './testing/step-request-fixtures.js';

const sampling = GREEDY_SAMPLING;
const step = stepRequest;
const embedding = (
  requestId: string,
  type: ProtoPoolingParams['type'],
  numScheduledTokens: number,
  extra: Partial<NewRequest> = {},
  pooling: Partial<ProtoPoolingParams> = {},
): NewRequest => ({
  requestId,
  tokenIds: [5, 6, 7, 8, 9, 10],
  sampling,
  blockIds: [0, 1],
  numComputedTokens: 0,
  numScheduledTokens,
  numOutputTokens: 0,
  pooling: { type, normalize: false, dimensions: 0, ...pooling },
  ...extra,
});
/** What the engine answers: no token for anyone, `rows` [nPooling][dim] for the pooling sequences. */
const result = (n: number, rows: number[][]): EngineStepResult => ({
  tokens: new Int32Array(n).fill(-1),
  logprobs: new Float32Array(n),
  topN: 0,
  seconds: 0,
  ...(rows.length > 0 ? { pooled: Float32Array.from(rows.flat()) } : {}),
});

test('each pooling asks for its rows: mean every chunk, CLS the first chunk, last the final one; none samples', () => {
  const b = new PersistentBatch(4);
  let p = b.prepare(
    step({
      newRequests: [
        embedding('m', 'POOLING_MEAN', 4),
        embedding('c', 'POOLING_CLS', 4),
        embedding('l', 'POOLING_LAST', 4),
      ],
    }),
  );
  assert.deepEqual(
    p.seqs.map((s) => [s.pool, s.sample]),
    [
      ['sum', false],
      ['first', false],
      [undefined, false],
    ],
  );
  b.complete(
    p,
    result(3, [
      [1, 2],
      [3, 4],
    ]),
  );
  assert.deepEqual(
    b.pooled(
      p,
      result(3, [
        [1, 2],
        [3, 4],
      ]),
    ),
    [],
    'nobody is finished after 4 of 6 tokens',
  );
  p = b.prepare(
    step({
      cachedRequests: ['m', 'c', 'l'].map((requestId) => ({
        requestId,
        newBlockIds: [],
        numComputedTokens: 4,
        numScheduledTokens: 2,
      })),
    }),
  );
  assert.deepEqual(
    p.seqs.map((s) => [s.pool, s.sample]),
    [
      ['sum', false],
      [undefined, false],
      ['last', false],
    ],
  );
  const r = result(3, [
    [10, 20],
    [7, 9],
  ]);
  assert.deepEqual(b.complete(p, r), [], 'no sampled tokens');
  // The engine sends each chunk's row sum: the mean is (sum of 4 rows + sum of 2) / 6.
  assert.deepEqual(b.pooled(p, r), [
    { requestId: 'm', embedding: [11 / 6, 22 / 6] },
    { requestId: 'c', embedding: [3, 4] },
    { requestId: 'l', embedding: [7, 9] },
  ]);
});

test('last pooling may start past a prefix-cache hit; mean and CLS may not (their cached hidden states are gone)', () => {
  const b = new PersistentBatch(4);
  const p = b.prepare(step({ newRequests: [embedding('l', 'POOLING_LAST', 2, { numComputedTokens: 4 })] }));
  assert.equal(at(p.seqs, 0).pool, 'last');
  for (const type of ['POOLING_MEAN', 'POOLING_CLS'] as const)
    assert.throws(
      () => b.prepare(step({ newRequests: [embedding(type, type, 2, { numComputedTokens: 4 })] })),
      (e: Error) => e instanceof StepRejected && /pooling needs every token computed, but 4 are cached/.test(e.message),
    );
});

test('the vector: truncated to `dimensions`, then L2-normalised when asked; the engine must send its rows', () => {
  assert.deepEqual(finishPooled(Float64Array.from([3, 4, 12]), 1, 'last', 0, true), [3 / 13, 4 / 13, 12 / 13]);
  assert.deepEqual(finishPooled(Float64Array.from([3, 4, 12]), 1, 'cls', 2, true), [0.6, 0.8]);
  assert.deepEqual(finishPooled(Float64Array.from([6, 8, 24]), 2, 'mean', 5, false), [3, 4, 12]);
  assert.deepEqual(finishPooled(Float64Array.from([0, 0]), 1, 'last', 0, true), [0, 0], 'a zero vector stays zero');

  const b = new PersistentBatch(4);
  const p = b.prepare(
    step({ newRequests: [embedding('d', 'POOLING_LAST', 6, {}, { normalize: true, dimensions: 1 })] }),
  );
  b.complete(p, result(1, [[-2, 5]]));
  assert.deepEqual(b.pooled(p, result(1, [[-2, 5]])), [{ requestId: 'd', embedding: [-1] }]);
  assert.throws(() => b.pooled(p, result(1, [])), /returned 0 pooled values for 1 pooling sequences/);
});
