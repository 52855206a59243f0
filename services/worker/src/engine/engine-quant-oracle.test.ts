// Every quantised weight type, and every llama-quantize file type, against llama.cpp on the same file:
// stories260K width-padded to 256 (so K-quant rows are whole super-blocks; first shown to be the same model)
// written by Loom's quantisers. Loom's greedy tokens equal llama.cpp's (node-llama-cpp, plain argmax through
// its sequence API) for 16 tokens on 2 prompts, and teacher-forced logits agree within LOGIT_TOL of their
// scale at every position.
// Both sides keep K/V in f32 (llama.cpp: F32 cache, no flash attention): Loom quantises activations exactly
// as llama.cpp does for each type (q8_0 / q8_1 / q8_K) and the integer dots are exact, so the logits agree
// to float summation order, 1e-7 of their scale (measured), until summation order moves one activation
// across an int8 rounding step; that moves this small model's logits by 1e-2 to 4e-2 of their scale, and
// the difference stays in the KV cache for the later positions (measured: in about half of the 20 files
// somewhere in the 47 positions), hence LOGIT_TOL. A wrong scale, layout or pairing is O(1). With f16
// K/V the two round attention differently (llama.cpp also rounds Q and the softmax weights to f16), which
// the int8 re-quantisation amplifies to ~2e-2 at every position: enough to flip near-tied greedy picks, so
// this test keeps K/V in f32 to be about the weight types.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { at } from '@loom/common';
import {
  GGML_QUANT_TYPES,
  ggmlQuantLayout,
  LLAMA_FILE_TYPES,
  readGgufMetadata,
  type GgmlQuantType,
  type LlamaFileType,
} from '@loom/gguf';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import { GREEDY, ONCE_UPON_A_TIME, relErr, runAll, seq, SeqRun, storiesPath } from '../testing/engine-test-kit.js';
import { dequantize, loadEngine, quantize, type QuantType } from './native-engine.js';
import { writePaddedStories } from '../testing/stories-variants.js';

const N = 16;
/** llama.cpp context with K/V in f32 and no flash attention (see above). */
const F32_CONTEXT = {
  contextSize: 128,
  threads: 1,
  flashAttention: false,
  experimentalKvCacheKeyType: 'F32',
  experimentalKvCacheValueType: 'F32',
} as const;
const LOGIT_TOL = 5e-2;

/** Loom's greedy continuation of each prompt (one engine, the prompts as separate sequences). */
async function loomGreedy(file: string, prompts: number[][], n: number): Promise<number[][]> {
  const engine = loadEngine(file, { threads: 2, kvType: 'f32' });
  try {
    engine.initKv(32, 16, 128, prompts.length);
    const runs = prompts.map((p, i) => new SeqRun(p, [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3], GREEDY, n));
    await runAll(engine, runs);
    return runs.map((r) => r.generated);
  } finally {
    engine.close();
  }
}

/** Loom's logits after each token of `tokens`, fed one per step ([tokens.length][vocab]). */
async function loomLogits(file: string, tokens: number[]): Promise<Float32Array[]> {
  const engine = loadEngine(file, { threads: 2, kvType: 'f32' });
  try {
    engine.initKv(8, 16, 64, 1);
    const rows: Float32Array[] = [];
    for (let p = 0; p < tokens.length; p++) {
      await engine.step([seq([at(tokens, p)], p, [0, 1, 2, 3, 4, 5, 6, 7], true, GREEDY, p)]);
      rows.push(engine.lastLogits().slice());
    }
    return rows;
  } finally {
    engine.close();
  }
}

describe('quantised weights vs llama.cpp', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-quant-'));
  let llama: Llama;
  let prompts: number[][];
  before(async () => {
    llama = await cpuLlama();
    // The second prompt as llama.cpp tokenizes it, BOS first (stories260K adds BOS).
    const model = await llama.loadModel({ modelPath: storiesPath('f32') });
    prompts = [ONCE_UPON_A_TIME, [1, ...(model.tokenize('Lily and Tom went to the park') as number[])]];
    await model.dispose();
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function withModel<T>(file: string, fn: (m: LlamaModel) => Promise<T>): Promise<T> {
    const model = await llama.loadModel({ modelPath: file });
    try {
      return await fn(model);
    } finally {
      await model.dispose();
    }
  }

  /** llama.cpp's greedy continuation of each prompt (plain argmax, no penalties). */
  const llamaGreedy = (file: string, n: number) =>
    withModel(file, async (model) => {
      const out: number[][] = [];
      for (const p of prompts) {
        const ctx = await model.createContext(F32_CONTEXT);
        const got: number[] = [];
        for await (const t of ctx.getSequence().evaluate(p as never, { temperature: 0 })) {
          got.push(t as number);
          if (got.length >= n) break;
        }
        await ctx.dispose();
        out.push(got);
      }
      return out;
    });

  /** llama.cpp's raw logits after each token of `tokens` (teacher-forced), [tokens.length][vocab]. */
  const llamaLogits = (file: string, tokens: number[], vocab: number) =>
    withModel(file, async (model) => {
      const ctx = await model.createContext(F32_CONTEXT);
      try {
        const res = await ctx
          .getSequence()
          .controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]) as never);
        return res.map((r) => {
          const row = new Float32Array(vocab);
          for (const [tok, v] of r!.next.logits!) row[tok as number] = v;
          return row;
        });
      } finally {
        await ctx.dispose();
      }
    });

  /** Greedy tokens equal on both prompts; teacher-forced logits (prompt + those tokens) within LOGIT_TOL. */
  async function compare(file: string): Promise<void> {
    const expected = await llamaGreedy(file, N);
    assert.deepEqual(await loomGreedy(file, prompts, N), expected, 'greedy tokens');
    for (let i = 0; i < prompts.length; i++) {
      const tokens = [...at(prompts, i), ...at(expected, i).slice(0, N - 1)];
      const ours = await loomLogits(file, tokens);
      const theirs = await llamaLogits(file, tokens, at(ours, 0).length);
      ours.forEach((row, p) => {
        const e = relErr(row, at(theirs, p));
        assert.ok(e < LOGIT_TOL, `prompt ${i} position ${p}: logits differ by ${e.toExponential(2)} of their scale`);
      });
    }
  }

  it('quantize() round-trips within about one quantisation step', () => {
    const x = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.3) * (1 + (i % 11)) * 0.01);
    const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // About one step of each type's grid: its levels over the block's range (non-linear codebooks: their
    // widest gap), 4-bit scales for q2_K.
    const bound: Record<QuantType, number> = {
      f32: 0,
      f16: amax * 1e-3,
      q8_0: amax / 127,
      q4_0: amax / 7,
      q4_1: (2 * amax) / 15,
      q5_0: amax / 15,
      q5_1: (2 * amax) / 31,
      q2_K: (2 * amax) / 3,
      q3_K: amax / 3,
      q4_K: (2 * amax) / 15,
      q5_K: (2 * amax) / 31,
      q6_K: amax / 31,
      iq4_nl: amax / 5,
      iq4_xs: amax / 5,
      mxfp4: amax / 4,
    };
    for (const t of Object.keys(bound) as QuantType[]) {
      const y = dequantize(t, quantize(t, x));
      const err = x.reduce((m, v, i) => Math.max(m, Math.abs(v - at(y, i))), 0);
      assert.ok(err <= bound[t], `${t}: max error ${err} > ${bound[t]}`);
    }
  });

  it('the width-padded stories260K is the same model (Loom and llama.cpp)', async () => {
    const padded = path.join(dir, 'stories-padded-f32.gguf');
    writePaddedStories(padded, 'f32');
    const original = await loomGreedy(storiesPath('f32'), prompts, 40);
    assert.deepEqual(await loomGreedy(padded, prompts, 40), original);
    assert.deepEqual(await llamaGreedy(padded, 40), original);
  });

  for (const type of GGML_QUANT_TYPES) {
    it(`${type}: greedy tokens equal llama.cpp's, logits within ${LOGIT_TOL}`, async () => {
      const file = path.join(dir, `stories-padded-${type}.gguf`);
      assert.ok(writePaddedStories(file, type) >= 20);
      const engine = loadEngine(file, { threads: 1 });
      assert.equal(engine.info().weightType, type);
      engine.close();
      await compare(file);
    });
  }

  // One model in each file type a user downloads: llama-quantize's per-tensor mix (with its fallbacks
  // for the 64-wide attn_output rows; 5 layers and 2 query heads per KV head leave IQ4_XS without q5_K),
  // every type of it on the integer GEMM.
  const mixes: Record<LlamaFileType, GgmlQuantType[]> = {
    Q2_K: ['q2_K', 'q3_K', 'q4_0', 'q6_K'],
    Q3_K_M: ['q3_K', 'q4_K', 'q5_K', 'q5_0', 'q6_K'],
    Q4_K_M: ['q4_K', 'q6_K', 'q5_0'],
    Q5_K_M: ['q5_K', 'q6_K', 'q5_1'],
    Q6_K: ['q6_K', 'q8_0'],
    Q8_0: ['q8_0'],
    IQ4_XS: ['iq4_xs', 'iq4_nl', 'q6_K'],
  };
  for (const ft of LLAMA_FILE_TYPES) {
    it(`${ft} file (${mixes[ft].join(', ')}): greedy tokens equal llama.cpp's, logits within ${LOGIT_TOL}`, async () => {
      const file = path.join(dir, `stories-padded-${ft}.gguf`);
      writePaddedStories(file, ft);
      const names = new Set(readGgufMetadata(file).tensors.map((t) => t.type));
      const want = new Set(mixes[ft].map((t) => ggmlQuantLayout(t).id));
      assert.deepEqual([...names].filter((id) => id !== 0).sort(), [...want].sort(), 'the file holds the mix');
      await compare(file);
    });
  }
});
