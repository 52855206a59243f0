import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelMetadata, modelTensorSpecs, type ModelShape } from './model-gguf-layout.js';
import { GgufValueType } from './gguf-metadata.js';

const SHAPE: ModelShape = {
  dim: 64,
  hidden: 128,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  vocab: 100,
  ctx: 32,
  ropeTheta: 10000,
  normEps: 1e-5,
};

const names = (arch: Parameters<typeof modelTensorSpecs>[0], s: ModelShape = SHAPE) =>
  modelTensorSpecs(arch, s)
    .filter((t) => !t.name.startsWith('blk.') || t.name.startsWith('blk.0.'))
    .map((t) => `${t.name}:${t.rows}x${t.cols}`);

test("llama.cpp's tensor names and shapes, in file order; tied drops output.weight, qkvBias adds three biases a block", () => {
  const plain = modelTensorSpecs('llama', SHAPE);
  assert.deepEqual(
    plain.slice(0, 8).map((t) => `${t.name}:${t.rows}x${t.cols}`),
    [
      'token_embd.weight:100x64',
      'output_norm.weight:64x1',
      'output.weight:100x64',
      'blk.0.attn_norm.weight:64x1',
      'blk.0.attn_q.weight:64x64',
      'blk.0.attn_k.weight:32x64',
      'blk.0.attn_v.weight:32x64',
      'blk.0.attn_output.weight:64x64',
    ],
  );
  assert.equal(plain.length, 3 + 2 * 9);
  assert.equal(plain.at(-1)!.name, 'blk.1.ffn_down.weight');
  assert.deepEqual([plain.at(-1)!.rows, plain.at(-1)!.cols], [64, 128]);
  assert.ok(!modelTensorSpecs('llama', SHAPE, { tied: true }).some((t) => t.name === 'output.weight'));
  const biased = modelTensorSpecs('qwen2', SHAPE, { qkvBias: true }).filter((t) => t.kind === 'bias');
  assert.deepEqual(
    biased.slice(0, 3).map((t) => `${t.name}:${t.rows}`),
    ['blk.0.attn_q.bias:64', 'blk.0.attn_k.bias:32', 'blk.0.attn_v.bias:32'],
  );
});

test('family tensors: per-head q/k norms, gemma sandwich norms and tied output, phi3 fused QKV / gate-up and LongRoPE factors', () => {
  assert.deepEqual(names('qwen3', { ...SHAPE, headDim: 32 }).slice(3), [
    'blk.0.attn_norm.weight:64x1',
    'blk.0.attn_q.weight:128x64',
    'blk.0.attn_k.weight:64x64',
    'blk.0.attn_v.weight:64x64',
    'blk.0.attn_q_norm.weight:32x1',
    'blk.0.attn_k_norm.weight:32x1',
    'blk.0.attn_output.weight:64x128',
    'blk.0.ffn_norm.weight:64x1',
    'blk.0.ffn_gate.weight:128x64',
    'blk.0.ffn_up.weight:128x64',
    'blk.0.ffn_down.weight:64x128',
  ]);
  const g2 = names('gemma2');
  assert.ok(!g2.some((n) => n.startsWith('output.weight')));
  assert.ok(g2.includes('blk.0.post_attention_norm.weight:64x1') && g2.includes('blk.0.post_ffw_norm.weight:64x1'));
  assert.ok(names('gemma3').includes('blk.0.attn_q_norm.weight:16x1'));
  const phi = names('phi3', {
    ...SHAPE,
    ropeDims: 12,
    ropeScaling: { type: 'longrope', originalContext: 16, attnFactor: 1.2 },
  });
  assert.deepEqual(phi.slice(3, 5), ['rope_factors_long.weight:6x1', 'rope_factors_short.weight:6x1']);
  assert.ok(phi.includes('blk.0.attn_qkv.weight:128x64') && phi.includes('blk.0.ffn_up.weight:256x64'));
  assert.ok(!phi.some((n) => /attn_q\.|ffn_gate/.test(n)));
});

test('metadata under the architecture prefix, with the floats typed FLOAT32', () => {
  const { metadata, types } = modelMetadata('qwen2', SHAPE);
  assert.equal(metadata.get('general.architecture'), 'qwen2');
  assert.equal(metadata.get('qwen2.attention.head_count_kv'), 2);
  assert.equal(metadata.get('qwen2.rope.dimension_count'), 16);
  assert.equal(types.get('qwen2.rope.freq_base')?.type, GgufValueType.FLOAT32);
  const g = modelMetadata('gemma3', { ...SHAPE, headDim: 32, window: 8, swaPattern: [true, false], ropeThetaSwa: 1e4 });
  assert.equal(g.metadata.get('gemma3.attention.key_length'), 32);
  assert.equal(g.metadata.get('gemma3.attention.sliding_window'), 8);
  assert.deepEqual(g.types.get('gemma3.attention.sliding_window_pattern'), {
    type: GgufValueType.ARRAY,
    item: { type: GgufValueType.BOOL },
  });
  const y = modelMetadata('qwen3', { ...SHAPE, ropeScaling: { type: 'yarn', factor: 4, originalContext: 8 } });
  assert.equal(y.metadata.get('qwen3.rope.scaling.type'), 'yarn');
  assert.equal(y.metadata.get('qwen3.rope.scaling.original_context_length'), 8);
  const gr = modelMetadata('granite', {
    ...SHAPE,
    multipliers: { embedding: 12, attention: 0.015625, residual: 0.22, logit: 8 },
  });
  assert.equal(gr.metadata.get('granite.logit_scale'), 8);
  assert.equal(gr.types.get('granite.residual_scale')?.type, GgufValueType.FLOAT32);
});
