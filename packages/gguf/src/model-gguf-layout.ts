/**
 * What a decoder GGUF of each supported family holds, by llama.cpp's names (src/models/<arch>.cpp): its
 * tensors in file order with their shapes, and its hyper-parameter metadata. The one description every
 * random-model writer follows: `loom model synth` (real shapes, streamed) and the engine tests' tiny
 * models (seeded values kept for the reference forward pass). Values are the writers' business; shapes,
 * names and keys are here.
 */
import { GgufValueType, type GgufTypeInfo, type GgufValue } from './gguf-metadata.js';

/**
 * The families Loom runs, by GGUF `general.architecture`, except mixtral: its files are `llama` ones with expert
 * tensors (as mistral's are `llama` ones with a window), so a writer maps both names to `llama`.
 */
export const MODEL_ARCHS = [
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'gemma2',
  'gemma3',
  'phi3',
  'smollm3',
  'granite',
  'qwen3moe',
  'mixtral',
  'gpt-oss',
] as const;
export type ModelArch = (typeof MODEL_ARCHS)[number];

/** RoPE scaling as GGUF states it (`<arch>.rope.scaling.*`). LongRoPE's factors are tensors. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'yarn'; factor: number; originalContext: number }
  | { type: 'longrope'; originalContext: number; attnFactor: number };

export interface ModelShape {
  /** Embedding width. */
  dim: number;
  /** FFN hidden width. */
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  /** Context length written to `<arch>.context_length`. */
  ctx: number;
  /** RoPE base (of the global layers). */
  ropeTheta: number;
  normEps: number;
  /** Per-head width when it is not dim / heads (qwen3, gemma): `<arch>.attention.key_length`. */
  headDim?: number;
  /** Dims of each head that RoPE rotates when not all (phi3's partial rotary): `<arch>.rope.dimension_count`. */
  ropeDims?: number;
  /** `<arch>.attention.sliding_window`: W > 0 makes layers attend to their last W positions only. */
  window?: number;
  /** `<arch>.attention.sliding_window_pattern`: period (layers il % n < n - 1 slide) or one flag per layer. */
  swaPattern?: number | boolean[];
  /** `<arch>.rope.freq_base_swa`: the sliding layers' RoPE base (gemma). */
  ropeThetaSwa?: number;
  ropeScaling?: RopeScaling;
  /** gemma2: `<arch>.attn_logit_softcapping`, `<arch>.final_logit_softcapping`; gemma3: the final one. */
  attnSoftcap?: number;
  finalSoftcap?: number;
  /** granite's multipliers: embedding_scale, attention.scale, residual_scale, logit_scale. */
  multipliers?: { embedding: number; attention: number; residual: number; logit: number };
  /**
   * Mixture of experts (qwen3moe, mixtral, gpt-oss): `<arch>.expert_count` and `.expert_used_count`, and each
   * expert's FFN width `<arch>.expert_feed_forward_length` (a mixtral `llama` file has none: its experts are
   * `hidden` wide).
   */
  experts?: number;
  expertsUsed?: number;
  expertHidden?: number;
}

/**
 * One tensor. A matrix is [rows][cols] row-major, ggml shape [cols, rows], and its fan-in is cols;
 * 'embedding' is the token embedding matrix (its rows are looked up, not multiplied: unit-variance
 * init, not 1/fan-in). Vectors have `rows` entries and cols 1: norm weights, biases, and LongRoPE's
 * per-frequency factors ('ropeFactors', see longRopeFactors).
 */
export interface ModelTensorSpec {
  name: string;
  /** 'offset': a vector of small random values (gpt-oss's biases and attention sinks), where 1s would hide bugs. */
  kind: 'embedding' | 'matrix' | 'norm' | 'bias' | 'offset' | 'ropeFactors';
  rows: number;
  cols: number;
  /** E: E such tensors stacked (ggml shape [cols, rows, E] for a matrix, [rows, E] for a vector): MoE experts. */
  experts?: number;
}

export interface LayoutOptions {
  /** No output.weight: the output projection reuses token_embd (tied embeddings; gemma always is). */
  tied?: boolean;
  /** attn_{q,k,v}.bias after the projections (qwen2). */
  qkvBias?: boolean;
}

/** Per-head width and rotated dims of a shape. */
export function headDims(s: ModelShape): { headDim: number; ropeDims: number } {
  const headDim = s.headDim ?? s.dim / s.heads;
  return { headDim, ropeDims: s.ropeDims ?? headDim };
}

/** The tensors of `arch` in llama.cpp's file order (global ones, then block by block). */
export function modelTensorSpecs(arch: ModelArch, s: ModelShape, o: LayoutOptions = {}): ModelTensorSpec[] {
  const { headDim, ropeDims } = headDims(s);
  const q = s.heads * headDim,
    kv = s.kvHeads * headDim;
  const gemma = arch === 'gemma2' || arch === 'gemma3';
  const oss = arch === 'gpt-oss';
  const matrix = (name: string, rows: number, cols: number): ModelTensorSpec => ({ name, kind: 'matrix', rows, cols });
  const vector = (name: string, kind: 'norm' | 'bias' | 'offset' | 'ropeFactors', rows: number): ModelTensorSpec => ({
    name,
    kind,
    rows,
    cols: 1,
  });
  const out: ModelTensorSpec[] = [
    { name: 'token_embd.weight', kind: 'embedding', rows: s.vocab, cols: s.dim },
    vector('output_norm.weight', 'norm', s.dim),
  ];
  if (!o.tied && !gemma) out.push(matrix('output.weight', s.vocab, s.dim));
  if (s.ropeScaling?.type === 'longrope')
    out.push(
      vector('rope_factors_long.weight', 'ropeFactors', ropeDims / 2),
      vector('rope_factors_short.weight', 'ropeFactors', ropeDims / 2),
    );
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    out.push(vector(`${p}attn_norm.weight`, 'norm', s.dim));
    if (arch === 'phi3') {
      out.push(matrix(`${p}attn_qkv.weight`, q + 2 * kv, s.dim));
    } else {
      out.push(matrix(`${p}attn_q.weight`, q, s.dim), matrix(`${p}attn_k.weight`, kv, s.dim));
      out.push(matrix(`${p}attn_v.weight`, kv, s.dim));
    }
    if (o.qkvBias || oss)
      out.push(
        vector(`${p}attn_q.bias`, oss ? 'offset' : 'bias', q),
        vector(`${p}attn_k.bias`, oss ? 'offset' : 'bias', kv),
        vector(`${p}attn_v.bias`, oss ? 'offset' : 'bias', kv),
      );
    if (arch === 'qwen3' || arch === 'qwen3moe' || arch === 'gemma3')
      out.push(vector(`${p}attn_q_norm.weight`, 'norm', headDim), vector(`${p}attn_k_norm.weight`, 'norm', headDim));
    out.push(matrix(`${p}attn_output.weight`, s.dim, q));
    if (oss)
      out.push(vector(`${p}attn_output.bias`, 'offset', s.dim), vector(`${p}attn_sinks.weight`, 'offset', s.heads));
    if (gemma) out.push(vector(`${p}post_attention_norm.weight`, 'norm', s.dim));
    // gpt-oss names its pre-FFN norm post_attention_norm.
    out.push(vector(`${p}${oss ? 'post_attention_norm' : 'ffn_norm'}.weight`, 'norm', s.dim));
    if (s.experts) {
      const E = s.experts,
        H = arch === 'llama' ? s.hidden : (s.expertHidden ?? s.hidden);
      const experts = (name: string, rows: number, cols: number): ModelTensorSpec => ({
        ...matrix(name, rows, cols),
        experts: E,
      });
      const offsets = (name: string, rows: number): ModelTensorSpec => ({
        ...vector(name, 'offset', rows),
        experts: E,
      });
      out.push(matrix(`${p}ffn_gate_inp.weight`, E, s.dim));
      if (oss) out.push(vector(`${p}ffn_gate_inp.bias`, 'offset', E));
      out.push(experts(`${p}ffn_gate_exps.weight`, H, s.dim), experts(`${p}ffn_up_exps.weight`, H, s.dim));
      out.push(experts(`${p}ffn_down_exps.weight`, s.dim, H));
      if (oss)
        out.push(
          offsets(`${p}ffn_gate_exps.bias`, H),
          offsets(`${p}ffn_up_exps.bias`, H),
          offsets(`${p}ffn_down_exps.bias`, s.dim),
        );
      continue;
    }
    if (arch === 'phi3') out.push(matrix(`${p}ffn_up.weight`, 2 * s.hidden, s.dim));
    else out.push(matrix(`${p}ffn_gate.weight`, s.hidden, s.dim), matrix(`${p}ffn_up.weight`, s.hidden, s.dim));
    out.push(matrix(`${p}ffn_down.weight`, s.dim, s.hidden));
    if (gemma) out.push(vector(`${p}post_ffw_norm.weight`, 'norm', s.dim));
  }
  return out;
}

/**
 * LongRoPE factors for a writer that has no real ones: short factors near 1 and long ones rising to
 * ~ the context extension for the low frequencies (the shape of Phi-3's), n = ropeDims / 2 values.
 */
export function longRopeFactors(n: number, which: 'long' | 'short', extension: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const t = n > 1 ? i / (n - 1) : 0;
    return which === 'short' ? 1 + 0.05 * t : 1 + (Math.max(1, extension) - 1) * t * t;
  });
}

/**
 * The hyper-parameter metadata of `arch` and the GGUF types the floats must have: a rope base of 10000
 * is an integer to JavaScript but llama.cpp checks that it is FLOAT32.
 */
export function modelMetadata(
  arch: ModelArch,
  s: ModelShape,
): { metadata: Map<string, GgufValue>; types: Map<string, GgufTypeInfo> } {
  const { headDim, ropeDims } = headDims(s);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', arch],
    [`${arch}.context_length`, s.ctx],
    [`${arch}.embedding_length`, s.dim],
    [`${arch}.block_count`, s.layers],
    [`${arch}.feed_forward_length`, s.hidden],
    [`${arch}.rope.dimension_count`, ropeDims],
    [`${arch}.rope.freq_base`, s.ropeTheta],
    [`${arch}.attention.head_count`, s.heads],
    [`${arch}.attention.head_count_kv`, s.kvHeads],
    [`${arch}.attention.layer_norm_rms_epsilon`, s.normEps],
  ]);
  const types = new Map<string, GgufTypeInfo>();
  const float = (key: string, v: number) => {
    metadata.set(`${arch}.${key}`, v);
    types.set(`${arch}.${key}`, { type: GgufValueType.FLOAT32 });
  };
  float('rope.freq_base', s.ropeTheta);
  float('attention.layer_norm_rms_epsilon', s.normEps);
  if (s.headDim !== undefined) {
    metadata.set(`${arch}.attention.key_length`, headDim);
    metadata.set(`${arch}.attention.value_length`, headDim);
  }
  if (s.window !== undefined) metadata.set(`${arch}.attention.sliding_window`, s.window);
  if (s.swaPattern !== undefined) {
    const key = `${arch}.attention.sliding_window_pattern`;
    metadata.set(key, s.swaPattern);
    if (Array.isArray(s.swaPattern)) types.set(key, { type: GgufValueType.ARRAY, item: { type: GgufValueType.BOOL } });
  }
  if (s.ropeThetaSwa !== undefined) float('rope.freq_base_swa', s.ropeThetaSwa);
  if (s.attnSoftcap !== undefined) float('attn_logit_softcapping', s.attnSoftcap);
  if (s.finalSoftcap !== undefined) float('final_logit_softcapping', s.finalSoftcap);
  const rs = s.ropeScaling;
  if (rs?.type === 'linear' || rs?.type === 'yarn') {
    metadata.set(`${arch}.rope.scaling.type`, rs.type);
    float('rope.scaling.factor', rs.factor);
  }
  if (rs?.type === 'yarn' || rs?.type === 'longrope')
    metadata.set(`${arch}.rope.scaling.original_context_length`, rs.originalContext);
  if (rs?.type === 'longrope') float('rope.scaling.attn_factor', rs.attnFactor);
  if (s.experts) {
    metadata.set(`${arch}.expert_count`, s.experts);
    metadata.set(`${arch}.expert_used_count`, s.expertsUsed ?? 2);
    if (arch !== 'llama' && s.expertHidden !== undefined)
      metadata.set(`${arch}.expert_feed_forward_length`, s.expertHidden);
  }
  if (s.multipliers) {
    float('embedding_scale', s.multipliers.embedding);
    float('attention.scale', s.multipliers.attention);
    float('residual_scale', s.multipliers.residual);
    float('logit_scale', s.multipliers.logit);
  }
  return { metadata, types };
}
