/**
 * What a Llama-family GGUF holds, by llama.cpp's names: its tensors in file order with their shapes,
 * and its hyper-parameter metadata. The one description both random-model writers follow:
 * `loom model synth` (real shapes, streamed) and the engine tests' tiny models (seeded values kept
 * for the reference forward pass). Values are the writers' business; shapes and names are here.
 */
import { GgufValueType, type GgufTypeInfo, type GgufValue } from './gguf-metadata.js';

export interface LlamaShape {
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
  /** RoPE base. */
  ropeTheta: number;
  normEps: number;
}

/**
 * One tensor. A matrix is [rows][cols] row-major, ggml shape [cols, rows], and its fan-in is cols;
 * 'embedding' is the token embedding matrix (its rows are looked up, not multiplied: unit-variance
 * init, not 1/fan-in). Vectors (norm weights, biases) have `rows` entries and cols 1.
 */
export interface LlamaTensorSpec {
  name: string;
  kind: 'embedding' | 'matrix' | 'norm' | 'bias';
  rows: number;
  cols: number;
}

export interface LlamaLayoutOptions {
  /** No output.weight: the output projection reuses token_embd (tied embeddings). */
  tied?: boolean;
  /** attn_{q,k,v}.bias after the projections (qwen2). */
  qkvBias?: boolean;
}

/** The tensors of a Llama GGUF in llama.cpp's file order (global ones, then block by block). */
export function llamaTensorSpecs(s: LlamaShape, o: LlamaLayoutOptions = {}): LlamaTensorSpec[] {
  const headDim = s.dim / s.heads;
  const matrix = (name: string, rows: number, cols: number): LlamaTensorSpec => ({ name, kind: 'matrix', rows, cols });
  const vector = (name: string, kind: 'norm' | 'bias', rows: number): LlamaTensorSpec => ({
    name,
    kind,
    rows,
    cols: 1,
  });
  const out: LlamaTensorSpec[] = [
    { name: 'token_embd.weight', kind: 'embedding', rows: s.vocab, cols: s.dim },
    vector('output_norm.weight', 'norm', s.dim),
  ];
  if (!o.tied) out.push(matrix('output.weight', s.vocab, s.dim));
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    out.push(
      vector(`${p}attn_norm.weight`, 'norm', s.dim),
      matrix(`${p}attn_q.weight`, s.heads * headDim, s.dim),
      matrix(`${p}attn_k.weight`, s.kvHeads * headDim, s.dim),
      matrix(`${p}attn_v.weight`, s.kvHeads * headDim, s.dim),
    );
    if (o.qkvBias) {
      out.push(
        vector(`${p}attn_q.bias`, 'bias', s.heads * headDim),
        vector(`${p}attn_k.bias`, 'bias', s.kvHeads * headDim),
        vector(`${p}attn_v.bias`, 'bias', s.kvHeads * headDim),
      );
    }
    out.push(
      matrix(`${p}attn_output.weight`, s.dim, s.heads * headDim),
      vector(`${p}ffn_norm.weight`, 'norm', s.dim),
      matrix(`${p}ffn_gate.weight`, s.hidden, s.dim),
      matrix(`${p}ffn_up.weight`, s.hidden, s.dim),
      matrix(`${p}ffn_down.weight`, s.dim, s.hidden),
    );
  }
  return out;
}

/**
 * The hyper-parameter metadata of architecture `arch` (llama, mistral, qwen2 share the keys) and the
 * GGUF types the floats must have: a rope base of 10000 is an integer to JavaScript but llama.cpp
 * checks that it is FLOAT32.
 */
export function llamaMetadata(
  arch: string,
  s: LlamaShape,
): { metadata: Map<string, GgufValue>; types: Map<string, GgufTypeInfo> } {
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', arch],
    [`${arch}.context_length`, s.ctx],
    [`${arch}.embedding_length`, s.dim],
    [`${arch}.block_count`, s.layers],
    [`${arch}.feed_forward_length`, s.hidden],
    [`${arch}.rope.dimension_count`, s.dim / s.heads],
    [`${arch}.rope.freq_base`, s.ropeTheta],
    [`${arch}.attention.head_count`, s.heads],
    [`${arch}.attention.head_count_kv`, s.kvHeads],
    [`${arch}.attention.layer_norm_rms_epsilon`, s.normEps],
  ]);
  const types = new Map<string, GgufTypeInfo>([
    [`${arch}.rope.freq_base`, { type: GgufValueType.FLOAT32 }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: GgufValueType.FLOAT32 }],
  ]);
  return { metadata, types };
}
