// The engine's greedy output for stories260K (f32 and f16 weights) equals llama.cpp's (node-llama-cpp).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Llama } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import path from 'node:path';
import {
  decode,
  GREEDY,
  ONCE_UPON_A_TIME,
  runAll,
  SeqRun,
  sharedDir,
  storiesPath,
} from '../testing/engine-test-kit.js';
import { loadEngine } from './native-engine.js';

const N = 60;

async function oracleGreedy(llama: Llama, modelPath: string, prompt: number[], n: number): Promise<number[]> {
  const model = await llama.loadModel({ modelPath });
  // One thread: llama.cpp's default spins a thread per core, which crawls on a loaded shared box.
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const out: number[] = [];
    for await (const t of ctx.getSequence().evaluate(prompt as never, { temperature: 0 })) {
      out.push(t as number);
      if (out.length >= n) break;
    }
    return out;
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

describe('greedy output matches llama.cpp', () => {
  let llama: Llama;
  before(async () => {
    llama = await cpuLlama();
  });
  after(async () => {
    await llama.dispose();
  });

  for (const type of ['f32', 'f16'] as const) {
    it(`stories260K ${type}: same ${N} token ids, text starts with the known story`, async () => {
      const expected = await oracleGreedy(llama, storiesPath(type), ONCE_UPON_A_TIME, N);
      const engine = loadEngine(storiesPath(type), { threads: 2 });
      try {
        assert.equal(engine.info().weightType, type);
        engine.initKv(16, 16, 64, 4);
        const run = new SeqRun(ONCE_UPON_A_TIME, [3, 7, 1, 12, 0], GREEDY, N);
        await runAll(engine, [run]);
        assert.deepEqual(run.generated, expected);
        assert.ok(
          decode(engine.vocab(), run.generated).startsWith(', there was a little girl named Lily.'),
          decode(engine.vocab(), run.generated),
        );
        for (const lp of run.logprobs) assert.ok(lp <= 0 && lp > -20, `greedy logprob ${lp} is not a log-probability`);
      } finally {
        engine.close();
      }
    });
  }

  it('llama-2-tiny-random (32000-token vocab, head size 4): same 30 token ids', async () => {
    const file = path.join(sharedDir, 'models', 'llama-2-tiny-random.gguf');
    const prompt = [1, 15043, 29892, 590, 1024, 338];
    const expected = await oracleGreedy(llama, file, prompt, 30);
    const engine = loadEngine(file, { threads: 2 });
    try {
      assert.equal(engine.info().vocabSize, 32000);
      engine.initKv(8, 16, 64, 2);
      const run = new SeqRun(prompt, [6, 2, 4], GREEDY, 30);
      await runAll(engine, [run]);
      assert.deepEqual(run.generated, expected);
    } finally {
      engine.close();
    }
  });
});
