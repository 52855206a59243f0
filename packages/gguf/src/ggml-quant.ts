/**
 * GGML weight encodings in TypeScript (writing synthesised and test models), byte-exact with what
 * llama-quantize writes without an importance matrix (ggml's quantize_row_*_ref, and quantize_iq4_nl /
 * quantize_iq4_xs): f16 (IEEE binary16, round to nearest even), the 32-value block types q8_0, q4_0, q4_1,
 * q5_0, q5_1 (ggml-quant-q32.ts), the K-quants q2_K..q6_K (ggml-quant-k.ts) and the non-linear iq4_nl,
 * iq4_xs, mxfp4 (ggml-quant-nl4.ts). The engine's quant.h holds every block layout.
 */
import { f32ToF16Bits, f16BitsToF32 } from './ggml-float.js';
import {
  quantizeQ4_0Blocks,
  quantizeQ4_1Blocks,
  quantizeQ5_0Blocks,
  quantizeQ5_1Blocks,
  quantizeQ8_0Blocks,
} from './ggml-quant-q32.js';
import {
  quantizeQ2_KBlocks,
  quantizeQ3_KBlocks,
  quantizeQ4_KBlocks,
  quantizeQ5_KBlocks,
  quantizeQ6_KBlocks,
} from './ggml-quant-k.js';
import { quantizeIq4NlBlocks, quantizeIq4XsBlocks, quantizeMxfp4Blocks } from './ggml-quant-nl4.js';
import { at } from '@loom/common';

export { f32ToF16Bits, f16BitsToF32 } from './ggml-float.js';

/** Block-quantised GGML types with a quantiser here. */
export type GgmlQuantType =
  | 'q8_0'
  | 'q4_0'
  | 'q4_1'
  | 'q5_0'
  | 'q5_1'
  | 'q2_K'
  | 'q3_K'
  | 'q4_K'
  | 'q5_K'
  | 'q6_K'
  | 'iq4_nl'
  | 'iq4_xs'
  | 'mxfp4';

interface QuantCodec {
  /** ggml type id. */
  id: number;
  /** Values per block. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
  /** src.length / blockSize blocks into dst[0..]. */
  blocks: (src: Float32Array, dst: Uint8Array) => void;
}

const CODECS: Readonly<Record<GgmlQuantType, QuantCodec>> = {
  q8_0: { id: 8, blockSize: 32, blockBytes: 34, blocks: quantizeQ8_0Blocks },
  q4_0: { id: 2, blockSize: 32, blockBytes: 18, blocks: quantizeQ4_0Blocks },
  q4_1: { id: 3, blockSize: 32, blockBytes: 20, blocks: quantizeQ4_1Blocks },
  q5_0: { id: 6, blockSize: 32, blockBytes: 22, blocks: quantizeQ5_0Blocks },
  q5_1: { id: 7, blockSize: 32, blockBytes: 24, blocks: quantizeQ5_1Blocks },
  q2_K: { id: 10, blockSize: 256, blockBytes: 84, blocks: quantizeQ2_KBlocks },
  q3_K: { id: 11, blockSize: 256, blockBytes: 110, blocks: quantizeQ3_KBlocks },
  q4_K: { id: 12, blockSize: 256, blockBytes: 144, blocks: quantizeQ4_KBlocks },
  q5_K: { id: 13, blockSize: 256, blockBytes: 176, blocks: quantizeQ5_KBlocks },
  q6_K: { id: 14, blockSize: 256, blockBytes: 210, blocks: quantizeQ6_KBlocks },
  iq4_nl: { id: 20, blockSize: 32, blockBytes: 18, blocks: quantizeIq4NlBlocks },
  iq4_xs: { id: 23, blockSize: 256, blockBytes: 136, blocks: quantizeIq4XsBlocks },
  mxfp4: { id: 39, blockSize: 32, blockBytes: 17, blocks: quantizeMxfp4Blocks },
};

/** Every block type ggmlQuantize writes. */
export const GGML_QUANT_TYPES = Object.freeze(Object.keys(CODECS) as GgmlQuantType[]);

/** ggml type id, values per block and bytes per block of `type`. */
export function ggmlQuantLayout(type: GgmlQuantType): { id: number; blockSize: number; blockBytes: number } {
  const { id, blockSize, blockBytes } = CODECS[type];
  return { id, blockSize, blockBytes };
}

/** Bytes that n values take in `type` (n a multiple of its block size). */
export function ggmlQuantizedBytes(type: GgmlQuantType, n: number): number {
  const c = CODECS[type];
  return (n / c.blockSize) * c.blockBytes;
}

/** src: [n] f32 (n a multiple of the block size) → dst[0..ggmlQuantizedBytes(type, n)) in `type`. */
export function ggmlQuantizeInto(type: GgmlQuantType, src: Float32Array, dst: Uint8Array): void {
  const c = CODECS[type];
  if (!c) throw new Error(`no quantiser for GGML type '${type}' (have ${GGML_QUANT_TYPES.join(', ')})`);
  if (src.length % c.blockSize !== 0)
    throw new Error(`${type} needs a multiple of ${c.blockSize} values, got ${src.length}`);
  if (dst.length < ggmlQuantizedBytes(type, src.length))
    throw new Error(
      `${type}: ${src.length} values need ${ggmlQuantizedBytes(type, src.length)} bytes, got ${dst.length}`,
    );
  c.blocks(src, dst);
}

/** [n] f32 → a new buffer of `type` blocks. */
export function ggmlQuantize(type: GgmlQuantType, src: Float32Array): Uint8Array {
  const out = new Uint8Array(ggmlQuantizedBytes(type, src.length));
  ggmlQuantizeInto(type, src, out);
  return out;
}

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;
export const Q4_0_BYTES = 18;

/** src: [n] f32 (n % 32 == 0) → dst: [n / 32][34] q8_0 blocks (quantize_row_q8_0_ref: q = roundf(x / d)). */
export function quantizeQ8_0Into(src: Float32Array, dst: Uint8Array): void {
  ggmlQuantizeInto('q8_0', src, dst);
}

/** src: [n] f32 (n % 32 == 0) → dst: [n / 32][18] q4_0 blocks. */
export function quantizeQ4_0Into(src: Float32Array, dst: Uint8Array): void {
  ggmlQuantizeInto('q4_0', src, dst);
}

/** [n] f32 (n % 32 == 0) → q8_0 bytes [n / 32][34]. */
export function quantizeQ8_0(src: Float32Array): Uint8Array {
  return ggmlQuantize('q8_0', src);
}

/** q8_0 bytes [blocks][34] → [blocks * 32] f32 (for checks). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / Q8_0_BYTES) * Q8_0_BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < bytes.length / Q8_0_BYTES; b++) {
    const d = f16BitsToF32(view.getUint16(b * Q8_0_BYTES, true));
    for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = d * view.getInt8(b * Q8_0_BYTES + 2 + i);
  }
  return out;
}

/** src: [n] f32 → [n] binary16 bits. */
export function toF16Into(src: Float32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(at(src, i));
}
