// q4_0, q4_K and q6_K weights written by Loom's own quantisers generate what llama.cpp generates from the
// same files. stories260K (64 wide) takes q4_0; the K-quants need 256-wide rows, so they use the
// width-padded stories260K, which is first shown to be the same model as the original.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getLlama, type Llama } from 'node-llama-cpp';
import { GREEDY, ONCE_UPON_A_TIME, runAll, SeqRun, storiesPath } from './engine-test-kit.js';
import { dequantize, loadEngine, quantize, type QuantType } from './native-engine.js';
import { writePaddedStories, writeStoriesCopy } from './stories-variants.js';

const N = 40;

async function loomGreedy(file: string): Promise<number[]> {
  const engine = loadEngine(file, { threads: 2 });
  try {
    engine.initKv(16, 16, 64, 2);
    const run = new SeqRun(ONCE_UPON_A_TIME, [0, 1, 2, 3], GREEDY, N);
    await runAll(engine, [run]);
    return run.generated;
  } finally {
    engine.close();
  }
}

describe('quantised weights vs llama.cpp', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-quant-'));
  let llama: Llama;
  before(async () => {
    llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function llamaGreedy(file: string): Promise<number[]> {
    const model = await llama.loadModel({ modelPath: file });
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const out: number[] = [];
    for await (const t of ctx.getSequence().evaluate(ONCE_UPON_A_TIME as never, { temperature: 0 })) {
      out.push(t as number);
      if (out.length >= N) break;
    }
    await ctx.dispose();
    await model.dispose();
    return out;
  }

  it('quantize() round-trips within about one quantisation step', () => {
    const x = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.3) * (1 + (i % 11)) * 0.01);
    const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const bound: Record<QuantType, number> = {
      f32: 0,
      f16: amax * 1e-3,
      q8_0: amax / 127,
      q4_0: amax / 7,
      q4_K: (2 * amax) / 15,
      q6_K: amax / 31,
    }; // about one quantisation step (q4_K spans max - min, 6-bit scales)
    for (const t of Object.keys(bound) as QuantType[]) {
      const y = dequantize(t, quantize(t, x));
      const err = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
      assert.ok(err <= bound[t], `${t}: max error ${err} > ${bound[t]}`);
    }
  });

  it('the width-padded stories260K is the same model (Loom and llama.cpp)', async () => {
    const padded = path.join(dir, 'stories-padded-f32.gguf');
    writePaddedStories(padded, 'f32');
    const original = await loomGreedy(storiesPath('f32'));
    assert.deepEqual(await loomGreedy(padded), original);
    assert.deepEqual(await llamaGreedy(padded), original);
  });

  it('q4_0 (stories260K): greedy tokens equal llama.cpp', async () => {
    const file = path.join(dir, 'stories-q4_0.gguf');
    assert.ok(writeStoriesCopy(file, 'q4_0') >= 20);
    assert.deepEqual(await loomGreedy(file), await llamaGreedy(file));
  });

  for (const type of ['q4_K', 'q6_K'] as const) {
    it(`${type} (padded stories260K): greedy tokens equal llama.cpp`, async () => {
      const file = path.join(dir, `stories-padded-${type}.gguf`);
      assert.ok(writePaddedStories(file, type) >= 20);
      const engine = loadEngine(file, { threads: 1 });
      assert.equal(engine.info().weightType, type);
      engine.close();
      assert.deepEqual(await loomGreedy(file), await llamaGreedy(file));
    });
  }
});
