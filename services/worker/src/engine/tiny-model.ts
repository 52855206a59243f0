/**
 * Random tiny Llama-family models for the engine's correctness tests, written as GGUF (llama.cpp's tensor
 * names and layout) with seeded weights. Not a test file itself.
 */
import { seededRandom } from '@loom/testing';
import { writeGguf, type GgufTensorToWrite } from '@loom/tokenizer';
import { quantize, type QuantType } from './native-engine.js';

export interface TinyConfig {
  arch: 'llama' | 'mistral' | 'qwen2';
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  context: number;
  /** Weight type of every 2-D matrix (norms and biases stay f32). */
  type: QuantType | 'bf16';
  /** No output.weight: the output projection reuses token_embd. */
  tied: boolean;
  /** attn_{q,k,v}.bias tensors (qwen2 has them). */
  qkvBias: boolean;
  ropeTheta?: number;
  normEps?: number;
  /** rope_freqs.weight: Llama-3 per-frequency factors, [headDim / 2]. */
  ropeFreqs?: Float32Array;
  /** `<arch>.rope.scaling.type = linear` with this factor. */
  linearRopeFactor?: number;
  seed?: number;
}

const TYPE_ID: Record<TinyConfig['type'], number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 8, q4_K: 12, q6_K: 14, bf16: 30 };

/** Deterministic uniform [0, 1) stream. */
export const rng = seededRandom;

/** bf16 bits of x, round to nearest even. */
function f32ToBf16(values: Float32Array): Uint8Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}

/** f32 values as GGUF bytes of `type`. */
export function encode(type: TinyConfig['type'], values: Float32Array): Uint8Array {
  if (type === 'bf16') return f32ToBf16(values);
  return quantize(type, values);
}

/** Writes the model; returns every tensor's f32 values by name (before quantisation) for other writers. */
export function writeTinyModel(path: string, c: TinyConfig): Map<string, Float32Array> {
  const rand = rng(c.seed ?? 1);
  const headDim = c.dim / c.heads;
  const values = new Map<string, Float32Array>();
  const tensors: GgufTensorToWrite[] = [];
  // Uniform with variance 1/cols keeps activations O(1) through the layers.
  const matrix = (name: string, rows: number, cols: number, scale = 1) => {
    const v = Float32Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * Math.sqrt(3 / cols) * scale);
    values.set(name, v);
    tensors.push({ name, shape: [cols, rows], type: TYPE_ID[c.type], data: encode(c.type, v) });
  };
  const vector = (name: string, n: number, around: number, spread: number) => {
    const v = Float32Array.from({ length: n }, () => around + (rand() * 2 - 1) * spread);
    values.set(name, v);
    tensors.push({ name, shape: [n], type: 0, data: new Uint8Array(v.buffer) });
  };
  matrix('token_embd.weight', c.vocab, c.dim, Math.sqrt(c.dim));
  vector('output_norm.weight', c.dim, 1, 0.2);
  if (!c.tied) matrix('output.weight', c.vocab, c.dim);
  if (c.ropeFreqs) {
    values.set('rope_freqs.weight', c.ropeFreqs);
    tensors.push({ name: 'rope_freqs.weight', shape: [c.ropeFreqs.length], type: 0, data: new Uint8Array(c.ropeFreqs.slice().buffer) });
  }
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    vector(p + 'attn_norm.weight', c.dim, 1, 0.2);
    matrix(p + 'attn_q.weight', c.heads * headDim, c.dim);
    matrix(p + 'attn_k.weight', c.kvHeads * headDim, c.dim);
    matrix(p + 'attn_v.weight', c.kvHeads * headDim, c.dim);
    if (c.qkvBias) {
      vector(p + 'attn_q.bias', c.heads * headDim, 0, 0.5);
      vector(p + 'attn_k.bias', c.kvHeads * headDim, 0, 0.5);
      vector(p + 'attn_v.bias', c.kvHeads * headDim, 0, 0.5);
    }
    matrix(p + 'attn_output.weight', c.dim, c.heads * headDim);
    vector(p + 'ffn_norm.weight', c.dim, 1, 0.2);
    matrix(p + 'ffn_gate.weight', c.hidden, c.dim);
    matrix(p + 'ffn_up.weight', c.hidden, c.dim);
    matrix(p + 'ffn_down.weight', c.dim, c.hidden);
  }
  const a = c.arch;
  const metadata: Record<string, string | number | string[]> = {
    'general.architecture': a,
    'general.name': `tiny-${a}`,
    [`${a}.context_length`]: c.context,
    [`${a}.embedding_length`]: c.dim,
    [`${a}.feed_forward_length`]: c.hidden,
    [`${a}.block_count`]: c.layers,
    [`${a}.attention.head_count`]: c.heads,
    [`${a}.attention.head_count_kv`]: c.kvHeads,
    [`${a}.rope.freq_base`]: c.ropeTheta ?? 10000,
    [`${a}.attention.layer_norm_rms_epsilon`]: c.normEps ?? 1e-5,
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': Array.from({ length: c.vocab }, (_, i) => `t${i}`),
  };
  if (c.linearRopeFactor) {
    metadata[`${a}.rope.scaling.type`] = 'linear';
    metadata[`${a}.rope.scaling.factor`] = c.linearRopeFactor;
  }
  writeGguf(path, { metadata, types: { [`${a}.rope.freq_base`]: { type: 6 }, [`${a}.rope.scaling.factor`]: { type: 6 } }, tensors });
  return values;
}
