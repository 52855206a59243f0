// Every family `loom model synth --arch F` writes runs the same in Loom and in llama.cpp (node-llama-cpp on
// the same file): greedy ids equal for 16 tokens on 2 prompts (one reaching past the sliding windows), and
// teacher-forced logits within a stated tolerance of llama.cpp's and of Loom's float64 reference.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { relErr } from '@loom/testing';
import { loadEngine } from '@loom/worker';
import { getLlama, type Llama } from 'node-llama-cpp';
import { parseShape, SYNTH_ARCHS, type ModelShape } from './model-synth-shapes.js';
import { synthModel, type SynthDtype } from './model-synth.js';
import { loomGreedy, loomLogits, openLlamaCpp } from './synth-oracle.js';
import { FAMILY_VOCAB, vocabPath } from './synth-vocab.js';
import type { ModelArch } from '@loom/tokenizer';

const N = 16;

describe('synth families: Loom == llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  before(async () => {
    llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-families-'));
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  // The ids only have to be valid: the families whose own vocabulary is large (>100k tokens) take the shared
  // 32000-token one to keep the files small (the served end-to-end test uses each family's own).
  const vocab = (arch: ModelArch) =>
    vocabPath(
      ['qwen2', 'qwen3', 'qwen3moe', 'gemma2', 'gemma3', 'smollm3'].includes(arch)
        ? 'ggml-vocab-llama-spm.gguf'
        : FAMILY_VOCAB[arch],
    );
  const prompts = [
    [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203],
    Array.from({ length: 21 }, (_, i) => 1 + ((i * 7919) % 31999)),
  ];

  // llama.cpp runs Mistral's GGUFs (arch `llama`) without their window, so it is the oracle only below it; past
  // it, the float64 reference (which applies the window) is, and llama.cpp's unwindowed logits must differ.
  it('mistral: a window of 8, exact past it (== float64 reference; != unwindowed llama.cpp), == llama.cpp below it', async () => {
    const shape = { ...parseShape(undefined, 'mistral'), dim: 64, hidden: 128, heads: 4, kvHeads: 2, window: 8 };
    const file = path.join(dir, 'mistral.gguf');
    synthModel({ shape, dtype: 'f32', out: file, seed: 11, vocabFrom: vocab('mistral') });
    const engine = loadEngine(file, { threads: 2 });
    const cpp = await openLlamaCpp(llama, file, shape.ctx).catch((e: Error) => {
      engine.close();
      throw e;
    });
    try {
      engine.initKv(8, 16, 64, 1);
      const table = [5, 2, 7, 0, 1, 3, 4, 6];
      const tokens = prompts[1]!;
      const V = engine.info().vocabSize;
      const fast = await loomLogits(engine, tokens, 0, table);
      const unwindowed = await cpp.logits(tokens, 0, V);
      const f64 = engine.referenceLogits(Int32Array.from(tokens));
      fast.forEach((row, p) => {
        const vsRef = relErr(row, f64.subarray(p * V, (p + 1) * V)),
          vsCpp = relErr(row, unwindowed[p]!);
        assert.ok(vsRef < 2e-3, `position ${p}: vs float64 reference ${vsRef}`);
        if (p < 8) assert.ok(vsCpp < 5e-3, `position ${p} (inside the window): vs llama.cpp ${vsCpp}`);
        else assert.ok(vsCpp > 2e-2, `position ${p} (past the window): as close to unwindowed llama.cpp as ${vsCpp}`);
      });
      // Greedy past the window: the reference's argmax continuation, token by token.
      const prompt = prompts[0]!;
      const want: number[] = [];
      for (let i = 0; i < N; i++) {
        const seq = [...prompt, ...want];
        const last = engine.referenceLogits(Int32Array.from(seq)).subarray((seq.length - 1) * V);
        want.push(last.indexOf(Math.max(...last)));
      }
      assert.deepEqual(await loomGreedy(engine, prompt, N, table), want);
    } finally {
      engine.close();
      await cpp.close();
    }
  });

  // Each family's tiny default at width 64, plus variants where a feature the default leaves idle bites.
  // Quantised weights go through the same matmul whatever the family; phi3's q8_0 checks that its fused rows
  // split into views of whole blocks, gemma3's f16 the GELU path on half-precision weights.
  // A MoE router whose two best-but-one logits lie within float rounding of each other picks either expert, in
  // llama.cpp as here: an ill-conditioned input, not a disagreement. Seed 11 gives qwen3moe's default such a pair
  // (4e-5 apart at one position of the first prompt), so it takes seed 12.
  const seeds: Partial<Record<string, number>> = { qwen3moe: 12 };
  const cases: [string, ModelArch, Partial<ModelShape>, SynthDtype?][] = [
    ...SYNTH_ARCHS.filter((a) => a !== 'mistral').map((a): [string, ModelArch, Partial<ModelShape>] => [a, a, {}]),
    ['phi3 q8_0', 'phi3', {}, 'q8_0'],
    ['gemma3 f16', 'gemma3', {}, 'f16'],
    // gpt-oss ships its experts in MXFP4: every matrix here is (the router stays f32).
    ['gpt-oss mxfp4', 'gpt-oss', {}, 'mxfp4'],
    ['qwen3moe 16 experts, top 4', 'qwen3moe', { experts: 16, expertsUsed: 4, expertHidden: 64 }],
    ['qwen3 YaRN x4 from 64', 'qwen3', { ropeScaling: { type: 'yarn', factor: 4, originalContext: 64 } }],
    ['gemma2 soft-caps that bite (2, 5)', 'gemma2', { attnSoftcap: 2, finalSoftcap: 5 }],
    [
      'phi3 LongRoPE short factors (context 256 <= original 256)',
      'phi3',
      { ropeScaling: { type: 'longrope', originalContext: 256, attnFactor: 1 } },
    ],
  ];
  for (const [name, arch, over, dtype = 'f32'] of cases) {
    it(`${name}: ${N} greedy ids on 2 prompts; teacher-forced logits vs llama.cpp and the float64 reference`, async () => {
      const shape = { ...parseShape(undefined, arch), dim: 64, hidden: 128, heads: 4, kvHeads: 2, ...over };
      if (shape.headDim !== undefined) shape.headDim = 32; // head size unlike dim / heads (64 / 4)
      if (shape.ropeDims !== undefined) shape.ropeDims = 12; // phi: 3/4 of the head rotates
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
      synthModel({ shape, dtype, out: file, seed: seeds[name] ?? 11, vocabFrom: vocab(arch) });

      const engine = loadEngine(file, { threads: 2 });
      const cpp = await openLlamaCpp(llama, file, shape.ctx).catch((e: Error) => {
        engine.close();
        throw e;
      });
      try {
        assert.equal(engine.info().architecture, arch === 'mixtral' ? 'llama' : arch);
        engine.initKv(8, 16, 64, 1);
        const table = [3, 0, 6, 1, 7, 2, 5, 4];
        for (const prompt of prompts) {
          const expected = await cpp.greedy(prompt, N);
          const got = await loomGreedy(engine, prompt, N, table);
          const all = [...prompt, ...expected];
          const from = prompt.length - 1;
          const V = engine.info().vocabSize;
          const ref = await cpp.logits(all, from, V);
          const fast = await loomLogits(engine, all, from, table);
          const f64 = engine.referenceLogits(Int32Array.from(all));
          let vsCpp = 0,
            vsRef = 0;
          fast.forEach((row, k) => {
            vsCpp = Math.max(vsCpp, relErr(row, ref[k]!));
            const p = from + k;
            vsRef = Math.max(vsRef, relErr(row, f64.subarray(p * V, (p + 1) * V)));
          });
          console.log(
            `# ${name} prompt ${prompt.length}: vs llama.cpp ${vsCpp.toExponential(2)}, vs f64 ${vsRef.toExponential(2)}`,
          );
          assert.deepEqual(got, expected, `${arch}: greedy ids after a ${prompt.length}-token prompt`);
          // Measured (f32 weights): <= 8e-4 of the logit scale vs llama.cpp and <= 3e-4 vs float64, both with f16 KV
          // caches; f16 weights 1.4e-3 / 8e-4. q8_0 rounds activations to int8 as llama.cpp does, so a last-bit
          // difference before the rounding can move one by a whole step: ~1.5e-2, as engine-reference allows.
          // A wrong scale, norm, rope pairing or window is O(1).
          const [tolCpp, tolRef] = dtype === 'f32' ? [5e-3, 2e-3] : dtype === 'f16' ? [5e-3, 5e-3] : [5e-2, 5e-2];
          assert.ok(vsCpp < tolCpp, `${name}: logits vs llama.cpp ${vsCpp}`);
          assert.ok(vsRef < tolRef, `${name}: logits vs float64 reference ${vsRef}`);
        }
      } finally {
        engine.close();
        await cpp.close();
      }
    });
  }
});
