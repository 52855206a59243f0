/**
 * Copies of stories260K for format tests, written with writeGguf from its f32 weights (not a test file):
 * - quantised copies (every matrix whose rows fit the type's blocks), and
 * - a width-padded copy: stories260K is 64 wide, too narrow for 256-value K-quant blocks, so the embedding
 *   and FFN widths are zero-padded to 256. The padded model computes exactly the same function: padded
 *   residual lanes stay 0 (their embedding columns and output rows are 0), padded FFN units give
 *   silu(0) * 0 = 0, and RMSNorm over 4x the lanes is compensated by eps / 4 and norm weights / 2
 *   (1/sqrt(ss/256 + eps/4) = 2/sqrt(ss/64 + eps), all powers of two, so exact in binary floating point).
 */
import { readFileSync } from 'node:fs';
import { at } from '@loom/common';
import {
  isLlamaFileType,
  LLAMA_FTYPE_ID,
  llamaFileTensorType,
  readGgufMetadata,
  writeGguf,
  type GgufTensorToWrite,
  type GgufTypeInfo,
  type FileTypeModel,
  type GgufValue,
  type LlamaFileType,
} from '@loom/gguf';
import { storiesPath } from './engine-test-kit.js';
import { quantize, weightTypeLayout, type QuantType } from '../engine/native-engine.js';

const GGML_F32 = 0;

interface F32Tensor {
  name: string;
  shape: number[]; // ggml order: shape[0] is the row length
  values: Float32Array;
}

/** stories260K's tensors as f32, with its metadata. */
function readStories(): { metadata: Map<string, GgufValue>; types: Map<string, GgufTypeInfo>; tensors: F32Tensor[] } {
  const src = storiesPath('f32');
  const meta = readGgufMetadata(src);
  const file = readFileSync(src);
  const tensors = meta.tensors.map((t) => {
    if (t.type !== GGML_F32) throw new Error(`${src}: expected f32 tensors`);
    const b = file.subarray(t.fileOffset, t.fileOffset + t.byteSize!);
    return {
      name: t.name,
      shape: [...t.shape],
      values: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
    };
  });
  return { metadata: new Map(meta.metadata), types: meta.types, tensors };
}

/** [rows][cols] → [newRows][newCols], zero-filled. */
function pad(t: F32Tensor, newCols: number, newRows: number): F32Tensor {
  const [cols, rows = 1] = t.shape as [number, number?];
  const out = new Float32Array(newCols * newRows);
  for (let r = 0; r < rows; r++) out.set(t.values.subarray(r * cols, (r + 1) * cols), r * newCols);
  return { name: t.name, shape: t.shape.length === 1 ? [newCols] : [newCols, newRows], values: out };
}

function write(
  dst: string,
  metadata: Map<string, GgufValue>,
  types: Map<string, GgufTypeInfo>,
  tensors: F32Tensor[],
  type: QuantType | LlamaFileType,
): number {
  let quantised = 0;
  const model: FileTypeModel = {
    layers: Number(metadata.get('llama.block_count')),
    heads: Number(metadata.get('llama.attention.head_count')),
    kvHeads: Number(metadata.get('llama.attention.head_count_kv')),
    tiedOutput: !tensors.some((t) => t.name === 'output.weight'),
  };
  const out: GgufTensorToWrite[] = tensors.map((t) => {
    const keep = { name: t.name, shape: t.shape, type: GGML_F32, data: new Uint8Array(t.values.buffer) };
    if (t.shape.length !== 2) return keep;
    // A file type picks per tensor (falling back as llama-quantize does); a plain type skips rows it cannot take.
    const cols = at(t.shape, 0);
    const tt = isLlamaFileType(type) ? llamaFileTensorType(type, t.name, cols, model) : type;
    const { id, blockSize } = weightTypeLayout(tt);
    if (tt === 'f32' || cols % blockSize !== 0) return keep;
    if (tt !== 'f16') quantised++;
    return { name: t.name, shape: t.shape, type: id, data: quantize(tt, t.values) };
  });
  if (isLlamaFileType(type)) metadata.set('general.file_type', LLAMA_FTYPE_ID[type]);
  writeGguf(dst, { metadata, types, tensors: out });
  return quantised;
}

/** stories260K with every matrix whose rows are whole `type` blocks quantised; returns how many were. */
export function writeStoriesCopy(dst: string, type: QuantType | LlamaFileType): number {
  const s = readStories();
  return write(dst, s.metadata, s.types, s.tensors, type);
}

/**
 * The width-padded stories260K (dim and FFN 256), matrices with whole-block rows as `type`, or typed per
 * tensor as llama-quantize would for a file type; returns how many matrices were block-quantised.
 */
export function writePaddedStories(dst: string, type: QuantType | LlamaFileType): number {
  const s = readStories();
  const W = 256;
  const dim = Number(s.metadata.get('llama.embedding_length'));
  const heads = Number(s.metadata.get('llama.attention.head_count'));
  const tensors = s.tensors.map((t) => {
    const [cols, rows] = t.shape as [number, number];
    if (t.name.endsWith('norm.weight')) {
      const p = pad(t, W, 1);
      for (let i = 0; i < dim; i++) p.values[i] = at(p.values, i) / 2;
      return p;
    }
    if (t.name.includes('attn_output')) return pad(t, cols, W); // output rows widened
    if (/token_embd|output\.weight|attn_[qkv]\.weight/.test(t.name)) return pad(t, W, rows); // input side widened
    if (/ffn_(gate|up)/.test(t.name)) return pad(t, W, W);
    if (t.name.includes('ffn_down')) return pad(t, W, W);
    throw new Error(`unexpected tensor ${t.name}`);
  });
  const md = new Map(s.metadata);
  md.set('llama.embedding_length', W);
  md.set('llama.feed_forward_length', W);
  md.set('llama.attention.key_length', dim / heads);
  md.set('llama.attention.value_length', dim / heads);
  md.set(
    'llama.attention.layer_norm_rms_epsilon',
    Number(s.metadata.get('llama.attention.layer_norm_rms_epsilon')) / 4,
  );
  return write(dst, md, s.types, tensors, type);
}
