/**
 * Random tiny models of every supported family for the engine's correctness tests, written as GGUF
 * (llama.cpp's tensor names and layout, model-gguf-layout.ts) with seeded weights. Not a test file itself.
 */
import { seededRandom } from '@loom/testing';
import {
  longRopeFactors,
  modelMetadata,
  modelTensorSpecs,
  writeGguf,
  type GgufTensorToWrite,
  type ModelArch,
  type ModelShape,
} from '@loom/gguf';
import { quantize, weightTypeLayout, type QuantType } from '../engine/native-engine.js';

export interface TinyConfig extends Omit<ModelShape, 'ropeTheta' | 'normEps'> {
  arch: ModelArch;
  /** Weight type of every 2-D matrix (norms and biases stay f32). */
  type: QuantType | 'bf16';
  /** MoE expert matrices in this type instead (gpt-oss ships MXFP4 experts beside bf16 attention). */
  expertType?: QuantType | 'bf16';
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

/** A tiny untied f32 Llama with GQA, 256 wide (every block type fits its rows): the base the family tests vary. */
export const TINY_LLAMA: TinyConfig = {
  arch: 'llama',
  dim: 256,
  hidden: 512,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  vocab: 320,
  ctx: 64,
  type: 'f32',
  tied: false,
  qkvBias: false,
};

/** TINY_LLAMA at half the width and a 200-token vocabulary: the safetensors tests' base. */
export const TINY_LLAMA_128: TinyConfig = { ...TINY_LLAMA, dim: 128, hidden: 256, vocab: 200 };

/** What makes a tiny config gpt-oss: 4 experts (2 used) of 256, head_dim 32, a sliding window of 5, YaRN RoPE. */
export const TINY_GPT_OSS: Partial<TinyConfig> = {
  arch: 'gpt-oss',
  headDim: 32,
  experts: 4,
  expertsUsed: 2,
  expertHidden: 256,
  window: 5,
  ropeTheta: 150000,
  ropeScaling: { type: 'yarn', factor: 4, originalContext: 16 },
};

/** Deterministic uniform [0, 1) stream. */
export const rng = seededRandom;

/** bf16 bits of x, round to nearest even. */
function f32ToBf16(values: Float32Array): Uint8Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = Uint16Array.from(u, (x) => (x + 0x7fff + ((x >>> 16) & 1)) >>> 16);
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
  const shape: ModelShape = {
    ...c,
    ropeTheta: c.ropeTheta ?? 10000,
    normEps: c.normEps ?? 1e-5,
    ...(c.linearRopeFactor ? { ropeScaling: { type: 'linear', factor: c.linearRopeFactor } } : {}),
  };
  const values = new Map<string, Float32Array>();
  const tensors: GgufTensorToWrite[] = [];
  const uniform = (n: number, around: number, spread: number) =>
    Float32Array.from({ length: n }, () => around + (rand() * 2 - 1) * spread);
  const extension = c.ropeScaling?.type === 'longrope' ? c.ctx / c.ropeScaling.originalContext : 1;
  // Mixtral's files are `llama` ones with experts.
  const arch = c.arch === 'mixtral' ? 'llama' : c.arch;
  for (const t of modelTensorSpecs(arch, shape, c)) {
    const E = t.experts ?? 1;
    if (t.kind === 'norm' || t.kind === 'bias' || t.kind === 'offset' || t.kind === 'ropeFactors') {
      const v =
        t.kind === 'norm'
          ? uniform(t.rows, 1, 0.2)
          : t.kind === 'bias' || t.kind === 'offset'
            ? uniform(t.rows * E, 0, 0.5)
            : longRopeFactors(t.rows, t.name.includes('long') ? 'long' : 'short', extension);
      values.set(t.name, v);
      tensors.push({
        name: t.name,
        shape: t.experts ? [t.rows, E] : [t.rows],
        type: 0,
        data: new Uint8Array(v.buffer),
      });
    } else {
      // Uniform with variance 1/fan-in keeps activations O(1) through the layers; embeddings unit variance. A MoE
      // router stays f32, as llama-quantize leaves it.
      const router = t.name.endsWith('ffn_gate_inp.weight');
      const v = uniform(t.rows * t.cols * E, 0, Math.sqrt(3 / (t.kind === 'embedding' ? 1 : t.cols)));
      values.set(t.name, v);
      const type = router ? 'f32' : t.experts ? (c.expertType ?? c.type) : c.type;
      tensors.push({
        name: t.name,
        shape: t.experts ? [t.cols, t.rows, E] : [t.cols, t.rows],
        type: weightTypeLayout(type).id,
        data: encode(type, v),
      });
    }
    if (t.name === (c.tied ? 'output_norm.weight' : 'output.weight') && c.ropeFreqs) {
      values.set('rope_freqs.weight', c.ropeFreqs);
      tensors.push({
        name: 'rope_freqs.weight',
        shape: [c.ropeFreqs.length],
        type: 0,
        data: new Uint8Array(c.ropeFreqs.slice().buffer),
      });
    }
  }
  const { metadata, types } = modelMetadata(arch, shape);
  metadata.set('general.name', `tiny-${c.arch}`);
  metadata.set('tokenizer.ggml.model', 'llama');
  metadata.set(
    'tokenizer.ggml.tokens',
    Array.from({ length: c.vocab }, (_, i) => `t${i}`),
  );
  writeGguf(path, { metadata, types, tensors });
  return values;
}
