// Every fast path against the float64 reference forward on random tiny configs: GQA, QKV bias, tied and
// untied output, RoPE scaling, and each weight type against its own dequantised weights.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { at } from '@loom/common';
import { GREEDY, relErr, seq } from '../testing/engine-test-kit.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';
import { rng, TINY_LLAMA, writeTinyModel, type TinyConfig } from '../testing/tiny-model.js';

const BASE = TINY_LLAMA;

/** max |a - b| over max |b|: the error relative to the logits' own scale. */
/**
 * Feeds `tokens` to the paged fast path as a 5-token prefill chunk, then one token per step, and returns
 * the logits after each fed position from 4 on ([n-4][vocab]); KV in f32 so only arithmetic order differs.
 */
async function fastLogits(engine: LoadedEngine, tokens: number[]): Promise<Float32Array[]> {
  engine.initKv(16, 4, 32, 2);
  const table = [3, 1, 4, 0, 5, 9, 2, 6, 8, 7, 10, 11]; // scattered blocks
  const out: Float32Array[] = [];
  await engine.step([seq(tokens.slice(0, 5), 0, table, true, GREEDY, 0)]);
  out.push(engine.lastLogits());
  for (let p = 5; p < tokens.length; p++) {
    await engine.step([seq([at(tokens, p)], p, table, true, GREEDY, 0)]);
    out.push(engine.lastLogits());
  }
  return out;
}

describe('fast path vs reference forward (float64)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-ref-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Measured errors are ~3e-7 of the logit scale (f32 accumulation, f32 softmax and rope angles); 1e-5 leaves
  // room for other kernel sets while any real mistake (a wrong scale, a missed bias, a mis-paired rope) is >1e-3.
  const cases: [string, Partial<TinyConfig>, number][] = [
    ['llama GQA untied f32', {}, 1e-5],
    ['mistral tied f32 (MHA)', { arch: 'mistral', tied: true, kvHeads: 4 }, 1e-5],
    [
      'qwen2 QKV bias tied f32 (NEOX rope)',
      { arch: 'qwen2', qkvBias: true, tied: true, ropeTheta: 1e6, normEps: 1e-6 },
      1e-5,
    ],
    [
      'llama-3 rope frequency factors',
      {
        ropeFreqs: Float32Array.from({ length: 32 }, (_, i) => (i < 8 ? 1 : i < 24 ? 1 + (i - 8) / 2 : 8)),
        ropeTheta: 500000,
      },
      1e-5,
    ],
    ['linear rope scaling', { linearRopeFactor: 4 }, 1e-5],
    ['f16 weights', { type: 'f16' }, 1e-5],
    ['bf16 weights', { type: 'bf16' }, 1e-5],
    // Quantised weights run the integer GEMM, which quantises activations to int8 (q8_0 / q8_1 / q8_K blocks,
    // as llama.cpp pairs them with the type), so they differ from dequantised-weights-times-f32 by ~1e-2 of
    // the logit scale; a real mistake is O(1). Every matrix has the type, token_embd included (its rows are
    // dequantised for the lookup).
    ['q8_0 weights', { type: 'q8_0' }, 5e-2],
    ['q4_0 weights', { type: 'q4_0' }, 5e-2],
    ['q4_K weights', { type: 'q4_K' }, 5e-2],
    ['q6_K weights, tied', { type: 'q6_K', tied: true }, 5e-2],
    ['q4_1 weights', { type: 'q4_1' }, 5e-2],
    ['q5_0 weights', { type: 'q5_0' }, 5e-2],
    ['q5_1 weights', { type: 'q5_1' }, 5e-2],
    ['q2_K weights', { type: 'q2_K' }, 5e-2],
    ['q3_K weights', { type: 'q3_K' }, 5e-2],
    ['q5_K weights, tied', { type: 'q5_K', tied: true }, 5e-2],
    ['iq4_nl weights', { type: 'iq4_nl' }, 5e-2],
    ['iq4_xs weights', { type: 'iq4_xs' }, 5e-2],
    ['mxfp4 weights', { type: 'mxfp4' }, 5e-2],
    // The families: each one's own steps (model-config.h), at sizes where each bites: windows shorter than
    // the 12 positions, soft-caps near the logits' scale, q/k widths unlike the model width.
    ['mistral sliding window 5 (positions past it)', { arch: 'mistral', window: 5 }, 1e-5],
    [
      'qwen3 per-head q/k norm, head 32 != dim / heads',
      { arch: 'qwen3', headDim: 32, tied: true, ropeTheta: 1e6 },
      1e-5,
    ],
    ['qwen3 YaRN x4 from 16', { arch: 'qwen3', ropeScaling: { type: 'yarn', factor: 4, originalContext: 16 } }, 1e-5],
    [
      'gemma2 GELU, sandwich norms, soft-caps, every other layer window 3',
      { arch: 'gemma2', headDim: 64, window: 3, attnSoftcap: 1.5, finalSoftcap: 3, normEps: 1e-6 },
      1e-5,
    ],
    [
      'gemma3 q/k norms, 2 of 3 layers window 4 with their own base, linear x8 on the global layer',
      {
        arch: 'gemma3',
        layers: 3,
        headDim: 64,
        window: 4,
        swaPattern: 3,
        ropeTheta: 1e6,
        ropeThetaSwa: 1e4,
        ropeScaling: { type: 'linear', factor: 8 },
        finalSoftcap: 5,
      },
      1e-5,
    ],
    [
      'phi3 fused QKV / gate-up, partial rotary, LongRoPE short factors',
      { arch: 'phi3', ropeDims: 48, ropeScaling: { type: 'longrope', originalContext: 64, attnFactor: 1.1 } },
      1e-5,
    ],
    [
      'phi3 LongRoPE long factors (context 64 > original 16)',
      { arch: 'phi3', ropeScaling: { type: 'longrope', originalContext: 16, attnFactor: 1.19 } },
      1e-5,
    ],
    ['smollm3 NoPE in layer 4 of 4', { arch: 'smollm3', layers: 4, tied: true }, 1e-5],
    // Mixtures of experts: 8 experts so each token's top-k differ across tokens and layers; the router stays f32
    // (as llama-quantize leaves it), so quantised experts do not move which experts win.
    [
      'qwen3moe 8 experts, top 2 renormalised, q/k norms',
      { arch: 'qwen3moe', headDim: 32, experts: 8, expertsUsed: 2, expertHidden: 128 },
      1e-5,
    ],
    ['mixtral (llama with experts), top 2 of 4', { arch: 'mixtral', experts: 4, expertsUsed: 2 }, 1e-5],
    [
      'gpt-oss sinks, biases, swiglu-oai, top 4 softmaxed, window 5 every other layer, YaRN',
      {
        arch: 'gpt-oss',
        headDim: 64,
        window: 5,
        experts: 8,
        expertsUsed: 4,
        expertHidden: 128,
        ropeScaling: { type: 'yarn', factor: 4, originalContext: 16 },
      },
      1e-5,
    ],
    [
      'gpt-oss mxfp4 weights',
      { arch: 'gpt-oss', headDim: 64, window: 5, experts: 8, expertsUsed: 4, expertHidden: 128, type: 'mxfp4' },
      5e-2,
    ],
    ['qwen3moe q4_K experts', { arch: 'qwen3moe', experts: 8, expertsUsed: 2, expertHidden: 256, type: 'q4_K' }, 5e-2],
    [
      'granite multipliers',
      { arch: 'granite', tied: true, multipliers: { embedding: 12, attention: 0.05, residual: 0.22, logit: 8 } },
      1e-5,
    ],
  ];
  cases.forEach(([name, over, tol], i) => {
    it(name, async () => {
      const file = path.join(dir, `tiny-${i}.gguf`);
      writeTinyModel(file, { ...BASE, ...over, seed: 100 + i });
      const engine = loadEngine(file, { threads: 2, kvType: 'f32' });
      try {
        const info = engine.info();
        assert.equal(info.architecture, over.arch === 'mixtral' ? 'llama' : (over.arch ?? 'llama'));
        assert.equal(info.weightType, over.type ?? 'f32');
        const r = rng(7 + i);
        const tokens = Array.from({ length: 12 }, () => Math.floor(r() * BASE.vocab));
        const ref = engine.referenceLogits(Int32Array.from(tokens));
        const fast = await fastLogits(engine, tokens);
        const V = BASE.vocab;
        fast.forEach((row, j) => {
          const pos = 4 + j;
          const e = relErr(row, ref.subarray(pos * V, (pos + 1) * V));
          assert.ok(e < tol, `position ${pos}: relative error ${e.toExponential(2)} >= ${tol}`);
        });
      } finally {
        engine.close();
      }
    });
  });

  it('a sliding window changes exactly the positions past it; NoPE and soft-caps change the logits', () => {
    const V = BASE.vocab;
    const t = Int32Array.from({ length: 10 }, (_, i) => (i * 37 + 3) % V);
    const logits = (name: string, over: Partial<TinyConfig>) => {
      const f = path.join(dir, `sens-${name}.gguf`);
      writeTinyModel(f, { ...BASE, seed: 9, ...over });
      const e = loadEngine(f, { threads: 1 });
      try {
        return e.referenceLogits(t);
      } finally {
        e.close();
      }
    };
    const row = (l: Float32Array, p: number) => l.subarray(p * V, (p + 1) * V);
    const full = logits('full', {}),
      windowed = logits('window', { window: 4 });
    for (let p = 0; p < 10; p++) {
      const e = relErr(row(windowed, p), row(full, p));
      assert.ok(p < 4 ? e === 0 : e > 1e-3, `position ${p}: window 4 changes the logits by ${e}`);
    }
    const smol = logits('smol', { arch: 'smollm3', layers: 4 }),
      llama4 = logits('llama4', { layers: 4 });
    assert.ok(relErr(smol, llama4) > 1e-3, 'NoPE in layer 4 of smollm3 changes what llama would compute');
    const g = logits('g', { arch: 'gemma2', headDim: 64, finalSoftcap: 1e6, attnSoftcap: 1e6 }),
      gCapped = logits('gc', { arch: 'gemma2', headDim: 64, finalSoftcap: 3, attnSoftcap: 1.5 });
    assert.ok(relErr(gCapped, g) > 1e-3, 'soft-caps change the logits');
  });

  it('the reference itself is sensitive to what it checks (tied vs untied, rope scaling change the logits)', () => {
    const a = path.join(dir, 'sens-a.gguf'),
      b = path.join(dir, 'sens-b.gguf');
    writeTinyModel(a, { ...BASE, seed: 5 });
    writeTinyModel(b, { ...BASE, seed: 5, linearRopeFactor: 2 });
    const ea = loadEngine(a, { threads: 1 }),
      eb = loadEngine(b, { threads: 1 });
    try {
      const t = Int32Array.from([1, 2, 3, 4, 5, 6]);
      assert.ok(relErr(ea.referenceLogits(t), eb.referenceLogits(t)) > 1e-3);
    } finally {
      ea.close();
      eb.close();
    }
  });
});
