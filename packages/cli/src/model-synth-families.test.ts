// Every family `loom model synth --arch F` writes runs the same in Loom and in llama.cpp (node-llama-cpp on
// the same file): greedy ids equal for 16 tokens on 2 prompts (one reaching past the sliding windows), and
// teacher-forced logits within a stated tolerance of llama.cpp's and of Loom's float64 reference.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { relErr } from '@loom/testing';
import { loadEngine } from '@loom/worker';
import type { Llama } from 'node-llama-cpp';
import { MOE_ARCHS, parseShape, SYNTH_ARCHS, type ModelShape } from './model-synth-shapes.js';
import { synthModel, type SynthDtype } from './model-synth.js';
import {
  checkAgainstLlamaCpp,
  FAMILY_PROMPTS,
  familyTestSetup,
  familyTestShape,
  familyTestVocab,
  loomGreedy,
  loomLogits,
  N,
  openLlamaCpp,
  scatteredTable,
} from './testing/synth-oracle.js';
import type { ModelArch } from '@loom/gguf';
import { at } from '@loom/common';

// The mixtures of experts have their own file (model-synth-moe.test.ts): one file's tests share one time limit.
describe('synth families: Loom == llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  familyTestSetup((l, d) => ([llama, dir] = [l, d]));

  const vocab = familyTestVocab;
  const prompts = FAMILY_PROMPTS;

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
      const table = scatteredTable(engine, 8, 16);
      const tokens = at(prompts, 1);
      const V = engine.info().vocabSize;
      const fast = await loomLogits(engine, tokens, 0, table);
      const unwindowed = await cpp.logits(tokens, 0, V);
      const f64 = engine.referenceLogits(Int32Array.from(tokens));
      fast.forEach((row, p) => {
        const vsRef = relErr(row, f64.subarray(p * V, (p + 1) * V)),
          vsCpp = relErr(row, at(unwindowed, p));
        assert.ok(vsRef < 2e-3, `position ${p}: vs float64 reference ${vsRef}`);
        if (p < 8) assert.ok(vsCpp < 5e-3, `position ${p} (inside the window): vs llama.cpp ${vsCpp}`);
        else assert.ok(vsCpp > 2e-2, `position ${p} (past the window): as close to unwindowed llama.cpp as ${vsCpp}`);
      });
      // Greedy past the window: the reference's argmax continuation, token by token.
      const prompt = at(prompts, 0);
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
  const cases: [string, ModelArch, Partial<ModelShape>, SynthDtype?][] = [
    ...SYNTH_ARCHS.filter((a) => a !== 'mistral' && !MOE_ARCHS.includes(a)).map(
      (a): [string, ModelArch, Partial<ModelShape>] => [a, a, {}],
    ),
    ['phi3 q8_0', 'phi3', {}, 'q8_0'],
    ['gemma3 f16', 'gemma3', {}, 'f16'],
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
      const shape = familyTestShape(arch, over);
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
      synthModel({ shape, dtype, out: file, seed: 11, vocabFrom: vocab(arch) });

      await checkAgainstLlamaCpp(llama, file, { name, arch, ctx: shape.ctx, dtype });
    });
  }
});
