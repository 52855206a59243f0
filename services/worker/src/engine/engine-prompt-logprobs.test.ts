// Prompt logprobs (echo + logprobs) come out of the step's own forward pass: each fed row's log-softmax
// scores the next prompt token and lists the top-N, equal to the float64 reference's, the same whether
// the prompt is one prefill or chunks (nextPromptToken bridges them) and whatever else is in the batch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at } from '@loom/common';
import type { EngineStepResult } from './engine-api.js';
import { GREEDY, seq, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine } from './native-engine.js';

const PROMPT = [1, 403, 407, 261, 378, 11, 393, 287, 261, 400, 341, 298, 362];
const TOP = 3;

/** Reference: for row j, log-softmax of the float64 forward's logits, scoring PROMPT[j + 1]. */
function referenceRows(ref: Float32Array, vocab: number): { lp: number[]; top: number[][] } {
  const lp: number[] = [],
    top: number[][] = [];
  for (let j = 0; j < PROMPT.length; j++) {
    const row = ref.subarray(j * vocab, (j + 1) * vocab);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const logZ = max + Math.log(sum);
    lp.push(j + 1 < PROMPT.length ? at(row, at(PROMPT, j + 1)) - logZ : NaN);
    top.push([...row.keys()].sort((a, b) => at(row, b) - at(row, a) || a - b).slice(0, TOP));
  }
  return { lp, top };
}

/** This sequence's rows of a step result. */
function rows(r: EngineStepResult, i: number, topN: number) {
  const p = r.prompt!;
  const lp: number[] = [],
    top: number[][] = [];
  for (let k = at(p.offsets, i); k < at(p.offsets, i + 1); k++) {
    lp.push(at(p.logprobs, k));
    top.push([...p.topIds.subarray(k * p.topN, k * p.topN + topN)]);
  }
  return { lp, top };
}

describe('prompt logprobs', () => {
  it('one prefill, chunked prefill and a mixed batch all match the float64 reference', async () => {
    const engine = loadEngine(storiesPath('f32'), { threads: 2, kvType: 'f32' });
    try {
      const vocab = engine.info().vocabSize;
      const want = referenceRows(engine.referenceLogits(Int32Array.from(PROMPT)), vocab);
      const close = (got: { lp: number[]; top: number[][] }, what: string) => {
        assert.equal(got.lp.length, PROMPT.length, what);
        got.lp.forEach((x, j) => {
          if (Number.isNaN(at(want.lp, j)))
            assert.ok(Number.isNaN(x), `${what}: row ${j} is the generated token's, not a prompt token's`);
          else assert.ok(Math.abs(x - at(want.lp, j)) < 1e-4, `${what}: row ${j}: ${x} vs ${want.lp[j]}`);
        });
        assert.deepEqual(got.top, want.top, what);
      };
      engine.initKv(16, 4, 64, 4);

      const one = await engine.step([{ ...seq(PROMPT, 0, [0, 1, 2, 3], true, GREEDY, 0), promptLogprobs: TOP }]);
      assert.equal(one.prompt!.topN, TOP);
      close(rows(one, 0, TOP), 'one prefill');

      // Chunks of 5: each but the last names the next chunk's first token; another sequence rides along without asking.
      const chunked = { lp: [] as number[], top: [] as number[][] };
      for (let from = 0; from < PROMPT.length; from += 5) {
        const end = Math.min(PROMPT.length, from + 5);
        const last = end === PROMPT.length;
        const r = await engine.step([
          seq([5, 6, 7], 0, [8], true, GREEDY, 0),
          {
            ...seq(PROMPT.slice(from, end), from, [4, 5, 6, 7], last, GREEDY, 0),
            promptLogprobs: TOP,
            ...(last ? {} : { nextPromptToken: at(PROMPT, end) }),
          },
        ]);
        assert.equal(r.prompt!.offsets[0], 0);
        assert.equal(r.prompt!.offsets[1], 0, 'the other sequence has no rows');
        const mine = rows(r, 1, TOP);
        chunked.lp.push(...mine.lp);
        chunked.top.push(...mine.top);
      }
      close(chunked, 'chunked prefill');

      // Top-0: only the prompt tokens' own logprobs; a step where nobody asks has no prompt field.
      const zero = await engine.step([{ ...seq(PROMPT, 0, [0, 1, 2, 3], true, GREEDY, 0), promptLogprobs: 0 }]);
      assert.equal(zero.prompt!.topN, 0);
      assert.deepEqual([...zero.prompt!.logprobs].slice(0, -1), [...one.prompt!.logprobs].slice(0, -1));
      assert.equal((await engine.step([seq(PROMPT, 0, [0, 1, 2, 3], true, GREEDY, 0)])).prompt, undefined);
      await assert.rejects(
        engine.step([{ ...seq(PROMPT, 0, [0, 1, 2, 3], true, GREEDY, 0), promptLogprobs: 1, nextPromptToken: vocab }]),
        /nextPromptToken/,
      );
    } finally {
      engine.close();
    }
  });
});
