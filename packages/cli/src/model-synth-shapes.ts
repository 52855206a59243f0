/**
 * Model shapes for `loom model synth`: a small default shape per family, named shapes of real models, and
 * the `key=value,...` dims syntax for any other. Only the shape matters for speed (vLLM's "dummy" load
 * format), so weights are random. The vocabulary size comes from the vocabulary GGUF unless given.
 */

import { entry } from '@loom/common';
import { MODEL_ARCHS, type ModelArch, type ModelShape as GgufModelShape } from '@loom/gguf';

/** A model's shape: its family, the GGUF hyper-parameters and whether the output reuses the embeddings. */
export interface ModelShape extends Omit<GgufModelShape, 'vocab'> {
  arch: ModelArch;
  /** Token count; undefined: the vocabulary file's. */
  vocab?: number;
  /** No output.weight (tied embeddings). */
  tied?: boolean;
  /** attn_{q,k,v}.bias (qwen2). */
  qkvBias?: boolean;
}

const LLAMA2_BASE = { arch: 'llama', vocab: 32000, ropeTheta: 10000, normEps: 1e-5 } as const;
const MISTRAL_7B_DIMS = { ...LLAMA2_BASE, dim: 4096, hidden: 14336, layers: 32, heads: 32, kvHeads: 8, ctx: 32768 };
/**
 * Small default shapes: 256-wide rows (every block-quantised type fits), 2-6 layers, 16-token windows (gemma),
 * untied output where the family allows it (a random tied model mostly repeats its input token).
 */
const TINY = { dim: 256, hidden: 512, layers: 2, heads: 4, kvHeads: 2, ctx: 256, normEps: 1e-6 } as const;

/** Named shapes. stories15M is Karpathy's llama2.c TinyStories 15M model; the -gqa twin has 2 KV heads. */
export const NAMED_SHAPES: Readonly<Record<string, ModelShape>> = Object.freeze({
  stories15M: { ...LLAMA2_BASE, dim: 288, hidden: 768, layers: 6, heads: 6, kvHeads: 6, ctx: 256 },
  'stories15M-gqa': { ...LLAMA2_BASE, dim: 288, hidden: 768, layers: 6, heads: 6, kvHeads: 2, ctx: 256 },
  stories42M: { ...LLAMA2_BASE, dim: 512, hidden: 1376, layers: 8, heads: 8, kvHeads: 8, ctx: 1024 },
  // stories42M with hidden 1536: every row a whole number of 256-value super-blocks, so pure K-quant
  // and iq4_xs files exist in this shape (stories15M's 288 and stories42M's 1376 columns do not divide).
  'stories42M-k256': { ...LLAMA2_BASE, dim: 512, hidden: 1536, layers: 8, heads: 8, kvHeads: 8, ctx: 1024 },
  stories110M: { ...LLAMA2_BASE, dim: 768, hidden: 2048, layers: 12, heads: 12, kvHeads: 12, ctx: 1024 },
  'tinyllama-1.1B': { ...LLAMA2_BASE, dim: 2048, hidden: 5632, layers: 22, heads: 32, kvHeads: 4, ctx: 2048 },
  'llama2-7B': { ...LLAMA2_BASE, dim: 4096, hidden: 11008, layers: 32, heads: 32, kvHeads: 32, ctx: 4096 },

  // The small default of each family (`--arch F` without --shape).
  'llama-tiny': { ...TINY, arch: 'llama', normEps: 1e-5, ropeTheta: 10000 },
  'mistral-tiny': { ...TINY, arch: 'mistral', normEps: 1e-5, ropeTheta: 10000, window: 4096 },
  'qwen2-tiny': { ...TINY, arch: 'qwen2', ropeTheta: 1e6, qkvBias: true },
  'qwen3-tiny': { ...TINY, arch: 'qwen3', headDim: 64, ropeTheta: 1e6 },
  'gemma2-tiny': {
    ...TINY,
    arch: 'gemma2',
    layers: 4,
    headDim: 64,
    ropeTheta: 10000,
    window: 16,
    attnSoftcap: 50,
    finalSoftcap: 30,
  },
  'gemma3-tiny': {
    ...TINY,
    arch: 'gemma3',
    layers: 6,
    headDim: 64,
    ropeTheta: 1e6,
    ropeThetaSwa: 10000,
    ropeScaling: { type: 'linear', factor: 8 },
    window: 16,
  },
  'phi3-tiny': {
    ...TINY,
    arch: 'phi3',
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeDims: 48,
    ropeScaling: { type: 'longrope', originalContext: 64, attnFactor: Math.sqrt(1 + Math.log(4) / Math.log(64)) },
  },
  'smollm3-tiny': { ...TINY, arch: 'smollm3', layers: 4, ropeTheta: 5e6 },
  'granite-tiny': {
    ...TINY,
    arch: 'granite',
    normEps: 1e-5,
    ropeTheta: 1e7,
    multipliers: { embedding: 12, attention: 0.015625, residual: 0.22, logit: 8 },
  },
  // MoE: 8 experts, 2 used (qwen3moe, mixtral) / 4 used (gpt-oss), 256 wide; gpt-oss slides every other layer over
  // 16 positions with YaRN x4 from 64, as the real one does x32 from 4096.
  'qwen3moe-tiny': {
    ...TINY,
    arch: 'qwen3moe',
    headDim: 64,
    ropeTheta: 1e6,
    experts: 8,
    expertsUsed: 2,
    expertHidden: 256,
  },
  'mixtral-tiny': { ...TINY, arch: 'mixtral', hidden: 256, normEps: 1e-5, ropeTheta: 1e6, experts: 8, expertsUsed: 2 },
  'gpt-oss-tiny': {
    ...TINY,
    arch: 'gpt-oss',
    normEps: 1e-5,
    headDim: 64,
    ropeTheta: 150000,
    ropeScaling: { type: 'yarn', factor: 4, originalContext: 64 },
    window: 16,
    experts: 8,
    expertsUsed: 4,
    expertHidden: 256,
  },

  // Real models' dims (their config.json); the vocabulary is the synth vocabulary file's.
  'mistral-7B': { ...MISTRAL_7B_DIMS, arch: 'mistral', window: 4096 },
  'qwen3-0.6B': {
    arch: 'qwen3',
    dim: 1024,
    hidden: 3072,
    layers: 28,
    heads: 16,
    kvHeads: 8,
    headDim: 128,
    ctx: 40960,
    ropeTheta: 1e6,
    normEps: 1e-6,
    tied: true,
  },
  'gemma2-2B': {
    arch: 'gemma2',
    dim: 2304,
    hidden: 9216,
    layers: 26,
    heads: 8,
    kvHeads: 4,
    headDim: 256,
    ctx: 8192,
    ropeTheta: 10000,
    normEps: 1e-6,
    window: 4096,
    attnSoftcap: 50,
    finalSoftcap: 30,
  },
  'gemma3-1B': {
    arch: 'gemma3',
    dim: 1152,
    hidden: 6912,
    layers: 26,
    heads: 4,
    kvHeads: 1,
    headDim: 256,
    ctx: 32768,
    ropeTheta: 1e6,
    ropeThetaSwa: 10000,
    normEps: 1e-6,
    window: 512,
  },
  'phi3-mini': {
    arch: 'phi3',
    dim: 3072,
    hidden: 8192,
    layers: 32,
    heads: 32,
    kvHeads: 32,
    ctx: 4096,
    ropeTheta: 10000,
    normEps: 1e-5,
  },
  'phi4-mini': {
    arch: 'phi3',
    dim: 3072,
    hidden: 8192,
    layers: 32,
    heads: 24,
    kvHeads: 8,
    ropeDims: 96,
    ctx: 131072,
    ropeTheta: 10000,
    normEps: 1e-5,
    ropeScaling: { type: 'longrope', originalContext: 4096, attnFactor: Math.sqrt(1 + Math.log(32) / Math.log(4096)) },
    tied: true,
  },
  'smollm3-3B': {
    arch: 'smollm3',
    dim: 2048,
    hidden: 11008,
    layers: 36,
    heads: 16,
    kvHeads: 4,
    ctx: 65536,
    ropeTheta: 5e6,
    normEps: 1e-6,
    tied: true,
  },
  'qwen3-30B-A3B': {
    arch: 'qwen3moe',
    dim: 2048,
    hidden: 6144,
    layers: 48,
    heads: 32,
    kvHeads: 4,
    headDim: 128,
    ctx: 40960,
    ropeTheta: 1e6,
    normEps: 1e-6,
    experts: 128,
    expertsUsed: 8,
    expertHidden: 768,
  },
  // Mistral 7B's attention with 8 experts of its FFN's width, 2 per token (no window).
  'mixtral-8x7B': { ...MISTRAL_7B_DIMS, arch: 'mixtral', ropeTheta: 1e6, experts: 8, expertsUsed: 2 },
  'gpt-oss-20B': {
    arch: 'gpt-oss',
    dim: 2880,
    hidden: 2880,
    layers: 24,
    heads: 64,
    kvHeads: 8,
    headDim: 64,
    ctx: 131072,
    ropeTheta: 150000,
    normEps: 1e-5,
    ropeScaling: { type: 'yarn', factor: 32, originalContext: 4096 },
    window: 128,
    experts: 32,
    expertsUsed: 4,
    expertHidden: 2880,
  },
  'granite-3.3-2B': {
    arch: 'granite',
    dim: 2048,
    hidden: 8192,
    layers: 40,
    heads: 32,
    kvHeads: 8,
    ctx: 131072,
    ropeTheta: 1e7,
    normEps: 1e-5,
    multipliers: { embedding: 12, attention: 0.015625, residual: 0.22, logit: 8 },
    tied: true,
  },
});

type DimKey =
  | 'dim'
  | 'hidden'
  | 'layers'
  | 'heads'
  | 'kvHeads'
  | 'headDim'
  | 'vocab'
  | 'ctx'
  | 'ropeTheta'
  | 'normEps'
  | 'window'
  | 'experts'
  | 'expertsUsed'
  | 'expertHidden';
const DIM_KEYS: Record<string, DimKey> = {
  dim: 'dim',
  hidden: 'hidden',
  layers: 'layers',
  heads: 'heads',
  kv_heads: 'kvHeads',
  head_dim: 'headDim',
  vocab: 'vocab',
  ctx: 'ctx',
  rope_theta: 'ropeTheta',
  norm_eps: 'normEps',
  window: 'window',
  experts: 'experts',
  experts_used: 'expertsUsed',
  expert_hidden: 'expertHidden',
};

/** `--arch` values. */
export const SYNTH_ARCHS: readonly ModelArch[] = MODEL_ARCHS;
/** The mixture-of-experts families among them. */
export const MOE_ARCHS: readonly ModelArch[] = MODEL_ARCHS.filter((a) => NAMED_SHAPES[`${a}-tiny`]?.experts);

/**
 * A named shape, or dims like `dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256` over the
 * family's small default (`<arch>-tiny`: its RoPE, norms, window and multipliers; kv_heads = heads when heads is
 * given alone). `arch` must agree with a named shape's. Throws naming the bad key or value.
 */
export function parseShape(spec: string | undefined, arch?: ModelArch): ModelShape {
  if (arch !== undefined && !SYNTH_ARCHS.includes(arch))
    throw new Error(`unknown architecture '${String(arch)}': use one of ${SYNTH_ARCHS.join(', ')}`);
  if (spec === undefined) return { ...entry(NAMED_SHAPES, `${arch ?? 'llama'}-tiny`) };
  const named = NAMED_SHAPES[spec];
  if (named) {
    if (arch !== undefined && named.arch !== arch)
      throw new Error(`shape '${spec}' is a ${named.arch} model, not ${arch}`);
    return { ...named };
  }
  if (!spec.includes('='))
    throw new Error(
      `unknown shape '${spec}': use one of ${Object.keys(NAMED_SHAPES).join(', ')} or dims like ` +
        `dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256`,
    );
  const got: Partial<Record<DimKey, number>> = {};
  for (const part of spec.split(',')) {
    const [k, v, extra] = part.split('=').map((s) => s.trim());
    const key = DIM_KEYS[k ?? ''];
    if (!key || v === undefined || extra !== undefined)
      throw new Error(`bad shape part '${part}': keys are ${Object.keys(DIM_KEYS).join(', ')}`);
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && key !== 'window'))
      throw new Error(`shape ${k}=${v}: not a positive number`);
    got[key] = n;
  }
  const base = entry(NAMED_SHAPES, `${arch ?? 'llama'}-tiny`);
  const s: ModelShape = { ...base, ...(got.heads !== undefined ? { kvHeads: got.heads } : {}), ...got };
  if (got.headDim === undefined && (got.dim !== undefined || got.heads !== undefined) && base.headDim !== undefined)
    s.headDim = s.dim / s.heads; // dims given: the head size follows them unless stated
  if (base.ropeDims !== undefined) s.ropeDims = 2 * Math.round((3 * (s.headDim ?? s.dim / s.heads)) / 8); // phi: 3/4
  const intKeys = ['dim', 'hidden', 'layers', 'heads', 'kvHeads', 'vocab', 'ctx', 'headDim', 'window'] as const;
  for (const k of [...intKeys, 'experts', 'expertsUsed', 'expertHidden'] as const)
    if (s[k] !== undefined && !Number.isInteger(s[k])) throw new Error(`shape ${k}=${s[k]}: not an integer`);
  const headDim = s.headDim ?? s.dim / s.heads;
  if (s.headDim === undefined && s.dim % s.heads !== 0)
    throw new Error(`shape: dim ${s.dim} is not a multiple of heads ${s.heads}`);
  if (s.heads % s.kvHeads !== 0) throw new Error(`shape: heads ${s.heads} is not a multiple of kv_heads ${s.kvHeads}`);
  if ((got.experts ?? got.expertsUsed ?? got.expertHidden) !== undefined && !base.experts)
    throw new Error(`shape: ${s.arch} has no experts (experts=, experts_used=, expert_hidden= are for MoE families)`);
  if (s.experts !== undefined && (s.expertsUsed ?? 2) > s.experts)
    throw new Error(`shape: experts_used ${s.expertsUsed} is more than experts ${s.experts}`);
  if (headDim % 2 !== 0) throw new Error(`shape: head size ${headDim} is odd (RoPE rotates pairs)`);
  return s;
}

/** Parameter count of the shape with `vocab` tokens, for messages. */
export function parameterCount(s: ModelShape, vocab = s.vocab ?? 0): number {
  const hd = s.headDim ?? s.dim / s.heads;
  const q = s.heads * hd,
    kv = s.kvHeads * hd;
  const ffn = s.experts
    ? s.experts * (3 * s.dim * (s.arch === 'mixtral' ? s.hidden : (s.expertHidden ?? s.hidden)) + s.dim)
    : 3 * s.dim * s.hidden;
  const perLayer = 2 * s.dim + s.dim * q * 2 + 2 * kv * s.dim + ffn;
  return (s.tied || s.arch.startsWith('gemma') ? 1 : 2) * vocab * s.dim + s.dim + s.layers * perLayer;
}
