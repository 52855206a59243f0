/**
 * `loom model synth`: writes a GGUF of any supported family with random weights in a real model's shape
 * and a real tokenizer (the `tokenizer.ggml.*` metadata of a vocabulary GGUF: by default the family's,
 * synth-vocab.ts), with the metadata keys llama.cpp reads for that architecture, so it loads in Loom's
 * engine and in llama.cpp. The text it generates is noise; both must generate the same noise.
 *
 * Weights are a deterministic function of (seed, tensor name), uniform in ±sqrt(3 / fan-in) (unit
 * variance per output), norms 1. Tensors stream to disk one chunk of rows at a time, so a 7B shape
 * needs no more memory than one chunk.
 */
import { existsSync } from 'node:fs';
import {
  GGML_TYPE,
  longRopeFactors,
  modelMetadata,
  modelTensorSpecs,
  readGgufMetadata,
  writeGguf,
  type GgufTensorToWrite,
} from '@loom/tokenizer';
import { parameterCount, type ModelShape } from './model-synth-shapes.js';
import { Q4_0_BYTES, Q8_0_BLOCK, Q8_0_BYTES, quantizeQ4_0Into, quantizeQ8_0Into, toF16Into } from '@loom/tokenizer';
import { FAMILY_VOCAB, vocabPath } from './synth-vocab.js';

export type SynthDtype = 'f32' | 'f16' | 'q8_0' | 'q4_0';
export const SYNTH_DTYPES: readonly SynthDtype[] = ['f32', 'f16', 'q8_0', 'q4_0'];

export interface SynthOptions {
  shape: ModelShape;
  dtype: SynthDtype;
  out: string;
  seed?: number;
  /** GGUF whose tokenizer.ggml.* metadata is copied (its token count must equal shape.vocab when set); default the family's. */
  vocabFrom?: string;
  /** Called with (bytes written, total bytes) as tensor data streams out. */
  onProgress?: (done: number, total: number) => void;
}

// general.file_type (llama_ftype) per dtype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_0.
const FILE_TYPE: Record<SynthDtype, number> = { f32: 0, f16: 1, q8_0: 7, q4_0: 2 };
const GGML: Record<SynthDtype, number> = {
  f32: GGML_TYPE.F32!,
  f16: GGML_TYPE.F16!,
  q8_0: GGML_TYPE.Q8_0!,
  q4_0: GGML_TYPE.Q4_0!,
};
/** Bytes per 32-value block of the block-quantised dtypes. */
const BLOCK_BYTES: Partial<Record<SynthDtype, number>> = { q8_0: Q8_0_BYTES, q4_0: Q4_0_BYTES };

/** 32-bit FNV-1a, to give every tensor its own stream from (seed, name). */
function hash(seed: number, s: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/** xorshift32 filling dst with uniform values in [-a, a). */
function fillUniform(dst: Float32Array, state: { s: number }, a: number): void {
  let s = state.s;
  const k = (2 * a) / 4294967296;
  for (let i = 0; i < dst.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    dst[i] = (s >>> 0) * k - a;
  }
  state.s = s;
}

const ROWS_PER_CHUNK_VALUES = 1 << 18; // ~1 MiB of f32 generated per chunk

/** A [rows][cols] matrix tensor (ggml shape [cols, rows]) streamed in `dtype`. */
function matrix(
  name: string,
  rows: number,
  cols: number,
  dtype: SynthDtype,
  seed: number,
  a: number,
  tick: (n: number) => void,
): GgufTensorToWrite {
  const blockBytes = BLOCK_BYTES[dtype];
  if (blockBytes !== undefined && cols % Q8_0_BLOCK !== 0)
    throw new Error(`${name}: ${cols} columns is not a multiple of 32, so it cannot be ${dtype}`);
  return {
    name,
    shape: [cols, rows],
    type: GGML[dtype],
    data: (write) => {
      const state = { s: hash(seed, name) };
      const chunkRows = Math.max(1, Math.floor(ROWS_PER_CHUNK_VALUES / cols));
      const vals = new Float32Array(chunkRows * cols);
      const f16 = new Uint16Array(dtype === 'f16' ? vals.length : 0);
      const q = new Uint8Array(blockBytes !== undefined ? (vals.length / Q8_0_BLOCK) * blockBytes : 0);
      for (let r = 0; r < rows; r += chunkRows) {
        const n = Math.min(chunkRows, rows - r) * cols;
        const v = vals.subarray(0, n);
        fillUniform(v, state, a);
        let bytes: Uint8Array;
        if (dtype === 'f32') bytes = new Uint8Array(v.buffer, 0, n * 4);
        else if (dtype === 'f16') {
          toF16Into(v, f16);
          bytes = new Uint8Array(f16.buffer, 0, n * 2);
        } else {
          const out = q.subarray(0, (n / Q8_0_BLOCK) * blockBytes!);
          if (dtype === 'q8_0') quantizeQ8_0Into(v, out);
          else quantizeQ4_0Into(v, out);
          bytes = out;
        }
        write(bytes);
        tick(bytes.length);
      }
    },
  };
}

function vector(name: string, values: Float32Array, tick: (n: number) => void): GgufTensorToWrite {
  return {
    name,
    shape: [values.length],
    type: GGML_TYPE.F32!,
    data: (write) => {
      const b = new Uint8Array(values.buffer);
      write(b);
      tick(b.length);
    },
  };
}

/** Bytes of tensor data the file will hold with `vocab` tokens (for progress totals and messages). */
export function synthDataBytes(shape: ModelShape, dtype: SynthDtype, vocab: number): number {
  const per = dtype === 'f32' ? 4 : dtype === 'f16' ? 2 : BLOCK_BYTES[dtype]! / Q8_0_BLOCK;
  const norms = shape.dim * (1 + 2 * shape.layers);
  return Math.round((parameterCount(shape, vocab) - norms) * per) + norms * 4;
}

/** The vocabulary GGUF a synth of `shape` copies: `vocabFrom`, else its family's. */
export function synthVocabFile(shape: ModelShape, vocabFrom?: string): string {
  return vocabFrom ?? vocabPath(FAMILY_VOCAB[shape.arch]);
}

/** Writes the model. Throws naming the option that is wrong (vocab mismatch, dims not fitting q8_0). */
export function synthModel(o: SynthOptions): void {
  const { shape: s, dtype } = o;
  const seed = (o.seed ?? 0) >>> 0;
  const vocabFile = synthVocabFile(s, o.vocabFrom);
  if (!existsSync(vocabFile)) throw new Error(`vocabulary GGUF ${vocabFile} not found (pass --vocab-from FILE)`);
  const vm = readGgufMetadata(vocabFile);
  const tokens = vm.metadata.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens)) throw new Error(`${vocabFile} has no tokenizer.ggml.tokens`);
  if (s.vocab !== undefined && tokens.length !== s.vocab)
    throw new Error(
      `shape vocab=${s.vocab} but ${vocabFile} holds ${tokens.length} tokens; use vocab=${tokens.length} or another --vocab-from`,
    );
  const shape = { ...s, vocab: tokens.length };

  // Mistral's GGUFs are `llama` ones (convert_hf_to_gguf.py writes them so; llama.cpp has no `mistral`), with
  // the window Loom applies and llama.cpp ignores.
  const arch = s.arch === 'mistral' ? 'llama' : s.arch;
  const { metadata, types } = modelMetadata(arch, shape);
  const heads = s.headDim !== undefined ? `,head_dim=${s.headDim}` : '';
  metadata.set(
    'general.name',
    `loom-synth ${s.arch} dim=${s.dim},hidden=${s.hidden},layers=${s.layers},heads=${s.heads},kv_heads=${s.kvHeads}${heads},vocab=${shape.vocab} ${dtype} seed ${seed}`,
  );
  metadata.set('general.file_type', FILE_TYPE[dtype]);
  for (const [k, v] of vm.metadata) {
    if (!k.startsWith('tokenizer.')) continue;
    metadata.set(k, v);
    const t = vm.types.get(k);
    if (t) types.set(k, t);
  }

  const total = synthDataBytes(s, dtype, shape.vocab);
  let done = 0;
  const tick = (n: number) => {
    done += n;
    o.onProgress?.(done, total);
  };
  // Unit variance per output: uniform in ±sqrt(3 / fan-in); embeddings unit variance once the family's
  // embedding multiplier is applied (as trained ones are: else they drown every layer's output); norms 1.
  const embedScale = s.arch.startsWith('gemma') ? Math.sqrt(s.dim) : (s.multipliers?.embedding ?? 1);
  const rs = s.ropeScaling;
  const extension = rs?.type === 'longrope' ? s.ctx / rs.originalContext : 1;
  const tensors = modelTensorSpecs(arch, shape, s).map((t) => {
    if (t.kind === 'norm' || t.kind === 'bias') return vector(t.name, new Float32Array(t.rows).fill(1), tick);
    if (t.kind === 'ropeFactors')
      return vector(t.name, longRopeFactors(t.rows, t.name.includes('long') ? 'long' : 'short', extension), tick);
    const a = t.kind === 'embedding' ? Math.sqrt(3) / embedScale : Math.sqrt(3 / t.cols);
    return matrix(t.name, t.rows, t.cols, dtype, seed, a, tick);
  });
  writeGguf(o.out, { metadata, types, tensors });
}
