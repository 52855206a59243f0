/**
 * `loom model synth`: writes a GGUF of any supported family with random weights in a real model's shape
 * and a real tokenizer (the `tokenizer.ggml.*` metadata of a vocabulary GGUF: by default the family's,
 * synth-vocab.ts), with the metadata keys llama.cpp reads for that architecture, so it loads in Loom's
 * engine and in llama.cpp. The text it generates is noise; both must generate the same noise. Weights are
 * f32, f16, one GGML block type, or a llama-quantize file type's per-tensor mix (Q4_K_M, ...), quantised
 * byte for byte as llama-quantize would (@loom/tokenizer's ports of ggml's quantisers).
 *
 * Weights are a deterministic function of (seed, tensor name), uniform in ±sqrt(3 / fan-in) (unit
 * variance per output), norms 1. Tensors stream to disk one chunk of rows at a time, so a 7B shape
 * needs no more memory than one chunk.
 */
import { existsSync } from 'node:fs';
import {
  GGML_QUANT_TYPES,
  GGML_TYPE,
  ggmlQuantizeInto,
  ggmlQuantizedBytes,
  ggmlQuantLayout,
  isLlamaFileType,
  LLAMA_FILE_TYPES,
  LLAMA_FTYPE_ID,
  llamaFileTensorType,
  longRopeFactors,
  modelMetadata,
  modelTensorSpecs,
  readGgufMetadata,
  toF16Into,
  writeGguf,
  type GgmlQuantType,
  type GgufTensorToWrite,
  type LlamaFileType,
  type ModelTensorSpec,
} from '@loom/gguf';
import type { ModelShape } from './model-synth-shapes.js';
import { FAMILY_VOCAB, vocabPath } from './synth-vocab.js';

/** A weight type for every matrix (pure), or a llama-quantize file type that mixes them per tensor. */
export type SynthDtype = 'f32' | 'f16' | GgmlQuantType | LlamaFileType;
export const SYNTH_DTYPES: readonly SynthDtype[] = ['f32', 'f16', ...GGML_QUANT_TYPES, ...LLAMA_FILE_TYPES];

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

type TensorType = 'f32' | 'f16' | GgmlQuantType;

// general.file_type (llama_ftype) of a pure dtype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, ... (the K-quants as
// their _S variant, the all-one-type one; mxfp4 as MOSTLY_MXFP4_MOE, the only MXFP4 file type).
const PURE_FILE_TYPE: Record<TensorType, number> = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q4_1: 3,
  q8_0: 7,
  q5_0: 8,
  q5_1: 9,
  q2_K: 10,
  q3_K: 11,
  q4_K: 14,
  q5_K: 16,
  q6_K: 18,
  iq4_nl: 25,
  iq4_xs: 30,
  mxfp4: 38,
};

const typeId = (t: TensorType): number =>
  t === 'f32' ? GGML_TYPE.F32! : t === 'f16' ? GGML_TYPE.F16! : ggmlQuantLayout(t).id;
const tensorBytes = (t: TensorType, n: number): number =>
  t === 'f32' ? 4 * n : t === 'f16' ? 2 * n : ggmlQuantizedBytes(t, n);

// Mistral's and Mixtral's GGUFs are `llama` ones (convert_hf_to_gguf.py writes them so; llama.cpp has neither
// name): mistral's with the window Loom applies and llama.cpp ignores, mixtral's with expert tensors.
const ggufArch = (s: ModelShape) => (s.arch === 'mistral' || s.arch === 'mixtral' ? 'llama' : s.arch);
/** Values of a tensor (E stacked ones for experts). */
const tensorValues = (t: ModelTensorSpec): number => t.rows * t.cols * (t.experts ?? 1);

/** The tensors a synth of `s` with `vocab` tokens writes, in file order. */
function synthTensorSpecs(s: ModelShape, vocab: number): ModelTensorSpec[] {
  return modelTensorSpecs(ggufArch(s), { ...s, vocab }, s);
}

/**
 * The type of each tensor of `s` (with `vocab` tokens) in `dtype`, by name: vectors f32; matrices `dtype`,
 * or for a file type what llama-quantize would choose. Throws naming the tensor when a pure block type does
 * not divide its rows (a file type falls back as llama-quantize does).
 */
export function synthTensorTypes(s: ModelShape, dtype: SynthDtype, vocab: number): Map<string, TensorType> {
  const specs = synthTensorSpecs(s, vocab);
  const model = {
    layers: s.layers,
    heads: s.heads,
    kvHeads: s.kvHeads,
    tiedOutput: !specs.some((t) => t.name === 'output.weight'),
    experts: s.experts ?? 0,
  };
  const types = new Map<string, TensorType>();
  for (const t of specs) {
    let type: TensorType = 'f32';
    // The router stays f32, as convert_hf_to_gguf writes it and llama-quantize leaves it.
    if ((t.kind === 'embedding' || t.kind === 'matrix') && !t.name.endsWith('ffn_gate_inp.weight')) {
      type = isLlamaFileType(dtype) ? llamaFileTensorType(dtype, t.name, t.cols, model) : dtype;
      if (type !== 'f32' && type !== 'f16' && t.cols % ggmlQuantLayout(type).blockSize !== 0)
        throw new Error(
          `${t.name}: ${t.cols} columns is not a multiple of ${ggmlQuantLayout(type).blockSize}, so it cannot ` +
            `be ${type}; pick a shape whose widths are, or a file type (${LLAMA_FILE_TYPES.join(', ')}), which ` +
            `falls back per tensor as llama-quantize does`,
        );
    }
    types.set(t.name, type);
  }
  return types;
}

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

/** A [rows][cols] matrix tensor (ggml shape [cols, rows]; E of them: [cols, rows / E, E]) streamed in `type`. */
function matrix(
  name: string,
  rows: number,
  cols: number,
  type: TensorType,
  seed: number,
  a: number,
  tick: (n: number) => void,
  experts?: number,
): GgufTensorToWrite {
  return {
    name,
    shape: experts ? [cols, rows / experts, experts] : [cols, rows],
    type: typeId(type),
    data: (write) => {
      const state = { s: hash(seed, name) };
      const chunkRows = Math.max(1, Math.floor(ROWS_PER_CHUNK_VALUES / cols));
      const vals = new Float32Array(chunkRows * cols);
      const f16 = new Uint16Array(type === 'f16' ? vals.length : 0);
      const q = new Uint8Array(type === 'f32' || type === 'f16' ? 0 : tensorBytes(type, vals.length));
      for (let r = 0; r < rows; r += chunkRows) {
        const n = Math.min(chunkRows, rows - r) * cols;
        const v = vals.subarray(0, n);
        fillUniform(v, state, a);
        let bytes: Uint8Array;
        if (type === 'f32') bytes = new Uint8Array(v.buffer, 0, n * 4);
        else if (type === 'f16') {
          toF16Into(v, f16);
          bytes = new Uint8Array(f16.buffer, 0, n * 2);
        } else {
          bytes = q.subarray(0, tensorBytes(type, n));
          ggmlQuantizeInto(type, v, bytes);
        }
        write(bytes);
        tick(bytes.length);
      }
    },
  };
}

function vector(name: string, values: Float32Array, tick: (n: number) => void, experts?: number): GgufTensorToWrite {
  return {
    name,
    shape: experts ? [values.length / experts, experts] : [values.length],
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
  const types = synthTensorTypes(shape, dtype, vocab);
  return synthTensorSpecs(shape, vocab).reduce((sum, t) => sum + tensorBytes(types.get(t.name)!, tensorValues(t)), 0);
}

/** The vocabulary GGUF a synth of `shape` copies: `vocabFrom` (a file, or a vocabulary's name), else its family's. */
export function synthVocabFile(shape: ModelShape, vocabFrom?: string): string {
  if (vocabFrom === undefined) return vocabPath(FAMILY_VOCAB[shape.arch]);
  // A bare name that is not a file here: one of the vocabularies synth-vocab.ts finds (ggml-vocab-llama-spm.gguf, ...).
  return existsSync(vocabFrom) || vocabFrom.includes('/') ? vocabFrom : vocabPath(vocabFrom);
}

/** Writes the model. Throws naming the option that is wrong (vocab mismatch, widths a pure block type cannot take). */
export function synthModel(o: SynthOptions): void {
  const { shape: s, dtype } = o;
  const seed = (o.seed ?? 0) >>> 0;
  const vocabFile = synthVocabFile(s, o.vocabFrom);
  if (!existsSync(vocabFile)) throw new Error(`vocabulary GGUF ${vocabFile} not found (pass --vocab-from FILE)`);
  const vm = readGgufMetadata(vocabFile);
  const tokens = vm.metadata.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens))
    throw new Error(
      `--vocab-from ${vocabFile}: no vocabulary in it (tokenizer.ggml.tokens); pass a GGUF that has one, ` +
        `e.g. one of llama.cpp's models/ggml-vocab-*.gguf`,
    );
  if (s.vocab !== undefined && tokens.length !== s.vocab)
    throw new Error(
      `shape vocab=${s.vocab} but ${vocabFile} holds ${tokens.length} tokens; use vocab=${tokens.length} or another --vocab-from`,
    );
  const shape = { ...s, vocab: tokens.length };

  const { metadata, types } = modelMetadata(ggufArch(s), shape);
  const heads = s.headDim !== undefined ? `,head_dim=${s.headDim}` : '';
  metadata.set(
    'general.name',
    `loom-synth ${s.arch} ` +
      `dim=${s.dim},hidden=${s.hidden},layers=${s.layers},heads=${s.heads},kv_heads=${s.kvHeads}${heads},vocab=${shape.vocab} ${dtype} seed ${seed}`,
  );
  metadata.set('general.file_type', isLlamaFileType(dtype) ? LLAMA_FTYPE_ID[dtype] : PURE_FILE_TYPE[dtype]);
  for (const [k, v] of vm.metadata) {
    if (!k.startsWith('tokenizer.')) continue;
    metadata.set(k, v);
    const t = vm.types.get(k);
    if (t) types.set(k, t);
  }

  const tensorTypes = synthTensorTypes(s, dtype, shape.vocab);
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
  const tensors = synthTensorSpecs(s, shape.vocab).map((t) => {
    const n = t.rows * (t.experts ?? 1);
    if (t.kind === 'norm' || t.kind === 'bias') return vector(t.name, new Float32Array(n).fill(1), tick, t.experts);
    if (t.kind === 'offset') {
      const v = new Float32Array(n);
      fillUniform(v, { s: hash(seed, t.name) }, 0.5);
      return vector(t.name, v, tick, t.experts);
    }
    if (t.kind === 'ropeFactors')
      return vector(t.name, longRopeFactors(t.rows, t.name.includes('long') ? 'long' : 'short', extension), tick);
    const a = t.kind === 'embedding' ? Math.sqrt(3) / embedScale : Math.sqrt(3 / t.cols);
    return matrix(t.name, t.rows * (t.experts ?? 1), t.cols, tensorTypes.get(t.name)!, seed, a, tick, t.experts);
  });
  writeGguf(o.out, { metadata, types, tensors });
}
