// The allowed-token bitmask (structured outputs) in the engine's sampler, on every kernel set this CPU
// runs: greedy, sampled, logprobs and top alternatives, several sequences each with its own mask, and
// against the TypeScript statement of vLLM's order (mask the raw logits first, everything else after).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at } from '@loom/common';
import type { EngineSeq } from './engine-api.js';
import { GREEDY, ONCE_UPON_A_TIME, seq, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine, supportedKernels, type LoadedEngine } from './native-engine.js';

const VOCAB = 512;
const WORDS = VOCAB / 32;

function maskOf(ids: readonly number[], words = WORDS): Int32Array {
  const m = new Int32Array(words);
  for (const id of ids) m[id >>> 5] = at(m, id >>> 5) | (1 << (id & 31));
  return m;
}
/** log-softmax of `raw` restricted to `allowed`, at `id`. */
function maskedLogprob(raw: Float32Array, allowed: readonly number[], id: number): number {
  const max = Math.max(...allowed.map((a) => at(raw, a)));
  return at(raw, id) - (max + Math.log(allowed.reduce((s, a) => s + Math.exp(at(raw, a) - max), 0)));
}
const byRaw = (raw: Float32Array) => (a: number, b: number) => at(raw, b) - at(raw, a) || a - b;

async function withEngine(kernels: string, fn: (e: LoadedEngine) => Promise<void>): Promise<void> {
  const engine = loadEngine(storiesPath('f32'), { threads: 2, kernels: kernels as never });
  try {
    engine.initKv(32, 16, 128, 8);
    await fn(engine);
  } finally {
    engine.close();
  }
}

/** Raw logits after "Once upon a time" (the prompt recomputed in block `b`), and the ids sorted by them. */
async function rawAfterPrompt(engine: LoadedEngine, b: number): Promise<{ raw: Float32Array; order: number[] }> {
  await engine.step([seq(ONCE_UPON_A_TIME, 0, [b], true, GREEDY, 0)]);
  const raw = engine.lastLogits().slice(0, VOCAB);
  return { raw, order: [...raw.keys()].sort(byRaw(raw)) };
}

describe('allowed-token bitmask', () => {
  for (const kernels of supportedKernels()) {
    it(`${kernels}: greedy, sampled and logprobs see only allowed tokens, renormalised over them`, async () => {
      await withEngine(kernels, async (engine) => {
        const { raw, order } = await rawAfterPrompt(engine, 0);
        // Allowed: a few mid-ranked tokens, never the unconstrained favourite.
        const allowed = [at(order, 5), at(order, 17), at(order, 40), at(order, 200)];
        const base = seq(ONCE_UPON_A_TIME, 0, [1], true, { ...GREEDY, logprobs: 8 }, 0);
        const g = await engine.step([{ ...base, allowedTokens: maskOf(allowed) }]);
        assert.equal(g.tokens[0], order[5], 'greedy: the most likely allowed token');
        assert.ok(Math.abs(at(g.logprobs, 0) - maskedLogprob(raw, allowed, at(order, 5))) < 1e-4);
        // Top alternatives: the allowed ones in raw order, then padding (a disallowed token is never shown).
        assert.deepEqual([...g.topIds!.subarray(0, 8)], [...allowed.sort(byRaw(raw)), -1, -1, -1, -1]);
        for (let j = 0; j < 4; j++)
          assert.ok(Math.abs(at(g.topLogprobs ?? [], j) - maskedLogprob(raw, allowed, at(g.topIds ?? [], j))) < 1e-4);

        const counts = new Map<number, number>();
        for (let s = 0; s < 60; s++) {
          const sampled = { temperature: 1.5, topP: 0.95, topK: 3, minP: 0.01, seed: s };
          const r = await engine.step([
            { ...seq(ONCE_UPON_A_TIME, 0, [1], true, sampled, 0), allowedTokens: maskOf(allowed) },
          ]);
          counts.set(at(r.tokens, 0), (counts.get(at(r.tokens, 0)) ?? 0) + 1);
        }
        assert.ok(
          [...counts.keys()].every((t) => allowed.includes(t)),
          JSON.stringify([...counts]),
        );
        assert.ok(counts.size >= 2, 'sampling spreads over the allowed tokens');
      });
    });
  }

  it('several sequences in one step (n > 1), each under its own mask; seeded draws equal alone and batched', async () => {
    await withEngine('auto', async (engine) => {
      const { order } = await rawAfterPrompt(engine, 0);
      const sampled = { temperature: 1, topP: 1, topK: 0, minP: 0, seed: 7 };
      const masks = [[at(order, 3), at(order, 9)], [at(order, 1)], [at(order, 30), at(order, 31), at(order, 32)]];
      const seqs: EngineSeq[] = masks.map((m, i) => ({
        ...seq(ONCE_UPON_A_TIME, 0, [i + 1], true, { ...sampled, seed: 7 + i }, 0),
        allowedTokens: maskOf(m),
      }));
      const batched = await engine.step([seq(ONCE_UPON_A_TIME, 0, [4], true, sampled, 0), ...seqs]);
      masks.forEach((m, i) => assert.ok(m.includes(at(batched.tokens, i + 1)), `seq ${i}`));
      for (let i = 0; i < seqs.length; i++) {
        const alone = await engine.step([{ ...at(seqs, i), blockTable: Int32Array.from([5]) }]);
        assert.equal(alone.tokens[0], batched.tokens[i + 1], `seq ${i}: same draw alone`);
      }
    });
  });

  it('the mask comes before processing: when processing would leave nothing, the grammar still holds', async () => {
    await withEngine('auto', async (engine) => {
      const { order } = await rawAfterPrompt(engine, 0);
      const base = seq(ONCE_UPON_A_TIME, 0, [1], true, GREEDY, 0);
      // Bias pushes the second allowed token over the first.
      const biased = await engine.step([
        {
          ...base,
          allowedTokens: maskOf([at(order, 2), at(order, 6)]),
          logitBiasIds: Int32Array.from([at(order, 6), at(order, 0)]),
          logitBiasValues: Float32Array.from([30, 100]),
        },
      ]);
      assert.equal(biased.tokens[0], order[6], 'bias acts within the mask; a bias on a disallowed token does nothing');
      // min_tokens masking (maskTokens) of the only allowed token: the grammar wins (vLLM: EOS only).
      const only = await engine.step([
        { ...base, allowedTokens: maskOf([at(order, 4)]), maskTokens: Int32Array.from([at(order, 4)]) },
      ]);
      assert.equal(only.tokens[0], order[4]);
    });
  });

  it('a mask that allows nothing (or only ids past the vocabulary) is ignored; a short one is refused', async () => {
    await withEngine('auto', async (engine) => {
      const { order } = await rawAfterPrompt(engine, 0);
      const base = seq(ONCE_UPON_A_TIME, 0, [1], true, GREEDY, 0);
      assert.equal((await engine.step([{ ...base, allowedTokens: new Int32Array(WORDS) }])).tokens[0], order[0]);
      const pastVocab = maskOf([VOCAB + 3], WORDS + 1);
      assert.equal((await engine.step([{ ...base, allowedTokens: pastVocab }])).tokens[0], order[0]);
      await assert.rejects(
        engine.step([{ ...base, allowedTokens: new Int32Array(WORDS - 1) }]),
        (e: Error) =>
          e instanceof RangeError && /allowedTokens has 15 words but vocab size 512 needs 16/.test(e.message),
      );
      await assert.rejects(
        engine.step([{ ...seq(ONCE_UPON_A_TIME, 0, [1], false, GREEDY, 0), allowedTokens: maskOf([1]) }]),
        /does not sample/,
      );
    });
  });
});
