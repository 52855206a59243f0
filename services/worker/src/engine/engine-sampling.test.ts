// Seeded sampling is a function of (seed, token index) only: the same alone and inside any batch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { at } from '@loom/common';
import {
  GREEDY,
  ONCE_UPON_A_TIME,
  runAll,
  SeqRun,
  seq,
  sharedDir,
  storiesPath,
  type Sampling,
} from '../testing/engine-test-kit.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';

const SAMPLED: Sampling = { temperature: 0.8, topP: 0.9, topK: 0, minP: 0, seed: 42 };
const N = 40;

describe('sampling', () => {
  let engine: LoadedEngine;
  before(() => {
    engine = loadEngine(storiesPath('f16'), { threads: 2 });
    engine.initKv(64, 16, 256, 8);
  });
  after(() => engine.close());

  async function alone(s: Sampling, blocks = [0, 1, 2, 3]): Promise<number[]> {
    const r = new SeqRun(ONCE_UPON_A_TIME, blocks, s, N);
    await runAll(engine, [r]);
    return r.generated;
  }

  it('seed 42 gives the same tokens alone and inside a batch; other seeds differ', async () => {
    const solo = await alone(SAMPLED);
    const target = new SeqRun(ONCE_UPON_A_TIME, [20, 9, 31, 4], SAMPLED, N);
    const others = [
      new SeqRun(ONCE_UPON_A_TIME, [10, 11, 12, 13], { ...SAMPLED, seed: 1 }, N),
      new SeqRun([1, 403], [14, 15, 16, 17], { ...SAMPLED, temperature: 1.2, topK: 20 }, 17),
      new SeqRun(ONCE_UPON_A_TIME, [40, 41, 42, 43], GREEDY, 23, 2),
    ];
    await runAll(engine, [at(others, 0), target, at(others, 1), at(others, 2)]);
    assert.deepEqual(target.generated, solo);
    assert.deepEqual(await alone(SAMPLED, [5, 6, 7, 8]), solo, 'same seed, other blocks');
    assert.notDeepEqual(await alone({ ...SAMPLED, seed: 43 }), solo, 'seed 43 gave the same tokens as seed 42');
    assert.notDeepEqual(at(others, 0).generated, solo, 'seed 1 gave the same tokens as seed 42');
  });

  it('top-k 1 and min-p 1 are greedy; temperature 0 ignores the seed', async () => {
    const greedy = await alone(GREEDY);
    assert.deepEqual(await alone({ ...SAMPLED, topK: 1, temperature: 1.5 }), greedy);
    assert.deepEqual(await alone({ ...SAMPLED, minP: 1, temperature: 1.5 }), greedy);
    assert.deepEqual(await alone({ ...GREEDY, seed: 99 }), greedy);
  });

  it('returns the sampled logprob under the raw distribution and top-N logprobs', async () => {
    const res = await engine.step([
      seq(ONCE_UPON_A_TIME, 0, [0], true, { ...GREEDY, logprobs: 5 }, 0),
      seq(ONCE_UPON_A_TIME, 0, [1], true, { ...SAMPLED, logprobs: 2 }, 0),
      seq(ONCE_UPON_A_TIME, 0, [2], false, GREEDY, 0),
    ]);
    assert.equal(res.topN, 5);
    const ids = res.topIds!,
      lps = res.topLogprobs!;
    assert.equal(ids.length, 15);
    assert.equal(ids[0], res.tokens[0], 'greedy token is the top-1');
    assert.ok(Math.abs(at(lps, 0) - at(res.logprobs, 0)) < 1e-6);
    for (let j = 1; j < 5; j++) assert.ok(at(lps, j) <= at(lps, j - 1), 'top logprobs are sorted');
    const mass = Array.from(lps.slice(0, 5)).reduce((a, b) => a + Math.exp(b), 0);
    assert.ok(mass > 0.5 && mass <= 1 + 1e-5, `top-5 mass ${mass}`);
    // Row 1 asked for 2: padded with -1 / NaN. Same prompt, so the same top-2.
    assert.deepEqual(Array.from(ids.slice(5, 10)), [ids[0], ids[1], -1, -1, -1]);
    assert.ok(Number.isNaN(at(lps, 7)));
    const k = Array.from(ids.slice(0, 5)).indexOf(at(res.tokens, 1));
    if (k >= 0)
      assert.ok(Math.abs(at(lps, k) - at(res.logprobs, 1)) < 1e-6, 'sampled logprob is from the raw distribution');
    // Row 2 did not sample.
    assert.equal(res.tokens[2], -1);
    assert.ok(Number.isNaN(at(res.logprobs, 2)));
  });

  it('a 32000-token vocabulary: top-p / min-p sampling (head-only and full-sort paths) is batch-invariant', async () => {
    const big = loadEngine(path.join(sharedDir, 'models', 'llama-2-tiny-random.gguf'), { threads: 2 });
    try {
      big.initKv(64, 16, 256, 8);
      const prompt = [1, 15043, 29892, 590];
      // Random weights give a flat distribution (the top 1024 tokens hold ~4% of the mass, the 1024th has
      // ~0.84 of the top weight at T 0.8): top-p 0.999 and min-p 0.5 need the full sort, top-p 0.02 and
      // min-p 0.9 cut inside the sorted head.
      const params: Sampling[] = [
        { ...SAMPLED, topP: 0.999 },
        { ...SAMPLED, topP: 0.02 },
        { ...SAMPLED, topP: 1, minP: 0.9 },
        { ...SAMPLED, topP: 1, minP: 0.5 },
      ];
      const solo: number[][] = [];
      for (const [i, s] of params.entries()) {
        const r = new SeqRun(prompt, [i * 4, i * 4 + 1], s, 12);
        await runAll(big, [r]);
        solo.push(r.generated);
      }
      const batch = params.map((s, i) => new SeqRun(prompt, [40 + i * 4, 41 + i * 4], s, 12));
      await runAll(big, batch);
      batch.forEach((r, i) => assert.deepEqual(r.generated, solo[i], `params ${i}`));
      assert.notDeepEqual(solo[0], solo[1], 'top-p 0.999 and 0.02 sampled identically');
    } finally {
      big.close();
    }
  });
});
