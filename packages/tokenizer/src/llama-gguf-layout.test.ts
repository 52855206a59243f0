import assert from 'node:assert/strict';
import { test } from 'node:test';
import { llamaMetadata, llamaTensorSpecs, type LlamaShape } from './llama-gguf-layout.js';
import { GgufValueType } from './gguf-metadata.js';

const SHAPE: LlamaShape = {
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

test("llama.cpp's tensor names and shapes, in file order; tied drops output.weight, qkvBias adds three biases a block", () => {
  const plain = llamaTensorSpecs(SHAPE);
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
  assert.ok(!llamaTensorSpecs(SHAPE, { tied: true }).some((t) => t.name === 'output.weight'));
  const biased = llamaTensorSpecs(SHAPE, { qkvBias: true }).filter((t) => t.kind === 'bias');
  assert.deepEqual(
    biased.slice(0, 3).map((t) => `${t.name}:${t.rows}`),
    ['blk.0.attn_q.bias:64', 'blk.0.attn_k.bias:32', 'blk.0.attn_v.bias:32'],
  );
});

test('metadata under the architecture prefix, with the floats typed FLOAT32', () => {
  const { metadata, types } = llamaMetadata('qwen2', SHAPE);
  assert.equal(metadata.get('general.architecture'), 'qwen2');
  assert.equal(metadata.get('qwen2.attention.head_count_kv'), 2);
  assert.equal(metadata.get('qwen2.rope.dimension_count'), 16);
  assert.equal(types.get('qwen2.rope.freq_base')?.type, GgufValueType.FLOAT32);
});
