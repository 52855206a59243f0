/**
 * `loom model synth`: writes a Llama GGUF with random weights in a real model's shape and a real
 * tokenizer (the `tokenizer.ggml.*` metadata of a vocabulary GGUF, by default the 32000-token Llama-2
 * vocabulary of ../shared/models/llama-2-tiny-random.gguf), loadable by Loom's engine and by llama.cpp.
 * For speed work only: the text it generates is noise.
 *
 * Weights are a deterministic function of (seed, tensor name), uniform in ±sqrt(3 / fan-in) (unit
 * variance per output), norms 1. Tensors stream to disk one chunk of rows at a time, so a 7B shape
 * needs no more memory than one chunk.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  GGML_TYPE,
  llamaMetadata,
  llamaTensorSpecs,
  readGgufMetadata,
  writeGguf,
  type GgufTensorToWrite,
} from '@loom/tokenizer';
import { parameterCount, type ModelShape } from './model-synth-shapes.js';
import { Q4_0_BYTES, Q8_0_BLOCK, Q8_0_BYTES, quantizeQ4_0Into, quantizeQ8_0Into, toF16Into } from '@loom/tokenizer';
import { REPO_ROOT } from './repo-paths.js';

export type SynthDtype = 'f32' | 'f16' | 'q8_0' | 'q4_0';
export const SYNTH_DTYPES: readonly SynthDtype[] = ['f32', 'f16', 'q8_0', 'q4_0'];

/** Default vocabulary source: the shared Llama-2 tokenizer. */
export const DEFAULT_VOCAB_GGUF = join(REPO_ROOT, '..', 'shared', 'models', 'llama-2-tiny-random.gguf');

export interface SynthOptions {
  shape: ModelShape;
  dtype: SynthDtype;
  out: string;
  seed?: number;
  /** GGUF whose tokenizer.ggml.* metadata is copied (its token count must equal shape.vocab). */
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

function ones(name: string, n: number, tick: (n: number) => void): GgufTensorToWrite {
  return {
    name,
    shape: [n],
    type: GGML_TYPE.F32!,
    data: (write) => {
      const b = new Uint8Array(new Float32Array(n).fill(1).buffer);
      write(b);
      tick(b.length);
    },
  };
}

/** Bytes of tensor data the file will hold (for progress totals and messages). */
export function synthDataBytes(shape: ModelShape, dtype: SynthDtype): number {
  const per = dtype === 'f32' ? 4 : dtype === 'f16' ? 2 : BLOCK_BYTES[dtype]! / Q8_0_BLOCK;
  const norms = shape.dim * (1 + 2 * shape.layers);
  return Math.round((parameterCount(shape) - norms) * per) + norms * 4;
}

/** Writes the model. Throws naming the option that is wrong (vocab mismatch, dims not fitting q8_0). */
export function synthModel(o: SynthOptions): void {
  const { shape: s, dtype } = o;
  const seed = (o.seed ?? 0) >>> 0;
  const vocabFile = o.vocabFrom ?? DEFAULT_VOCAB_GGUF;
  if (!existsSync(vocabFile)) throw new Error(`vocabulary GGUF ${vocabFile} not found (pass --vocab-from FILE)`);
  const vm = readGgufMetadata(vocabFile);
  const tokens = vm.metadata.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens)) throw new Error(`${vocabFile} has no tokenizer.ggml.tokens`);
  if (tokens.length !== s.vocab)
    throw new Error(
      `shape vocab=${s.vocab} but ${vocabFile} holds ${tokens.length} tokens; use vocab=${tokens.length} or another --vocab-from`,
    );

  const { metadata, types } = llamaMetadata('llama', s);
  metadata.set(
    'general.name',
    `loom-synth dim=${s.dim},hidden=${s.hidden},layers=${s.layers},heads=${s.heads},kv_heads=${s.kvHeads},vocab=${s.vocab} ${dtype} seed ${seed}`,
  );
  metadata.set('general.file_type', FILE_TYPE[dtype]);
  for (const [k, v] of vm.metadata) {
    if (!k.startsWith('tokenizer.')) continue;
    metadata.set(k, v);
    const t = vm.types.get(k);
    if (t) types.set(k, t);
  }

  const total = synthDataBytes(s, dtype);
  let done = 0;
  const tick = (n: number) => {
    done += n;
    o.onProgress?.(done, total);
  };
  // Unit variance per output: uniform in ±sqrt(3 / fan-in); embeddings unit variance; norms 1.
  const tensors = llamaTensorSpecs(s).map((t) =>
    t.kind === 'norm' || t.kind === 'bias'
      ? ones(t.name, t.rows, tick)
      : matrix(t.name, t.rows, t.cols, dtype, seed, Math.sqrt(3 / (t.kind === 'embedding' ? 1 : t.cols)), tick),
  );
  writeGguf(o.out, { metadata, types, tensors });
}
