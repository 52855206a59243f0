// Seeded sampling is a function of (seed, token index) only: the same alone and inside any batch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GREEDY, ONCE_UPON_A_TIME, runAll, SeqRun, seq, storiesPath, type Sampling } from './engine-test-kit.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';

const SAMPLED: Sampling = { temperature: 0.8, topP: 0.9, topK: 0, minP: 0, seed: 42, logprobs: -1 };
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
    await runAll(engine, [others[0]!, target, others[1]!, others[2]!]);
    assert.deepEqual(target.generated, solo);
    assert.deepEqual(await alone(SAMPLED, [5, 6, 7, 8]), solo, 'same seed, other blocks');
    assert.notDeepEqual(await alone({ ...SAMPLED, seed: 43 }), solo, 'seed 43 gave the same tokens as seed 42');
    assert.notDeepEqual(others[0]!.generated, solo, 'seed 1 gave the same tokens as seed 42');
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
    const ids = res.topIds!, lps = res.topLogprobs!;
    assert.equal(ids.length, 15);
    assert.equal(ids[0], res.tokens[0], 'greedy token is the top-1');
    assert.ok(Math.abs(lps[0]! - res.logprobs[0]!) < 1e-6);
    for (let j = 1; j < 5; j++) assert.ok(lps[j]! <= lps[j - 1]!, 'top logprobs are sorted');
    const mass = Array.from(lps.slice(0, 5)).reduce((a, b) => a + Math.exp(b), 0);
    assert.ok(mass > 0.5 && mass <= 1 + 1e-5, `top-5 mass ${mass}`);
    // Row 1 asked for 2: padded with -1 / NaN. Same prompt, so the same top-2.
    assert.deepEqual(Array.from(ids.slice(5, 10)), [ids[0], ids[1], -1, -1, -1]);
    assert.ok(Number.isNaN(lps[7]!));
    const k = Array.from(ids.slice(0, 5)).indexOf(res.tokens[1]!);
    if (k >= 0) assert.ok(Math.abs(lps[k]! - res.logprobs[1]!) < 1e-6, 'sampled logprob is from the raw distribution');
    // Row 2 did not sample.
    assert.equal(res.tokens[2], -1);
    assert.ok(Number.isNaN(res.logprobs[2]!));
  });
});
