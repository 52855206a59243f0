/**
 * ggml's 32-value block quantisers in TypeScript, float operation for float operation (ggml-float.ts):
 * quantize_row_{q8_0,q4_0,q4_1,q5_0,q5_1}_ref. Block layouts (the engine's quant.h has them all):
 *   q8_0 [f16 d][32 x i8 q]                       d = max|x| / 127, q = roundf(x / d)
 *   q4_0 [f16 d][16 x u8 nibbles]                 d = (value of largest |x|) / -8, q = min(15, trunc(x / d + 8.5))
 *   q4_1 [f16 d][f16 m][16 x u8 nibbles]          d = (max - min) / 15, m = min, q = min(15, trunc((x - m) / d + 0.5))
 *   q5_0 [f16 d][u32 qh][16 x u8 nibbles]         d = (value of largest |x|) / -16, q = min(31, trunc(x / d + 16.5))
 *   q5_1 [f16 d][f16 m][u32 qh][16 x u8 nibbles]  d = (max - min) / 31, q = trunc((x - m) / d + 0.5)
 * Nibbles: byte j holds value j (low) and j + 16 (high); qh bit j is the 5th bit of value j.
 * Each function writes src.length / 32 blocks at dst[0..]; src.length must be a multiple of 32.
 */
import { BlockWriter, f, FLT_MAX, roundf, signedAbsMax, truncInt } from './ggml-float.js';
import { at } from '@loom/common';

const QK = 32;

function minMax(x: Float32Array, o: number): [number, number] {
  let min = FLT_MAX,
    max = -FLT_MAX;
  for (let j = 0; j < QK; j++) {
    const v = at(x, o + j);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

export function quantizeQ8_0Blocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let o = 0, b = 0; o < src.length; o += QK, b += 34) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(at(src, o + j)));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    w.f16(b, d);
    for (let j = 0; j < QK; j++) w.view.setInt8(b + 2 + j, roundf(f(at(src, o + j) * id)));
  }
}

export function quantizeQ4_0Blocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let o = 0, b = 0; o < src.length; o += QK, b += 18) {
    const d = f(signedAbsMax(src, o, QK) / -8);
    const id = d ? f(1 / d) : 0;
    w.f16(b, d);
    const q = (x: number) => Math.min(15, truncInt(f(f(x * id) + 8.5)));
    for (let j = 0; j < 16; j++) dst[b + 2 + j] = q(at(src, o + j)) | (q(at(src, o + j + 16)) << 4);
  }
}

export function quantizeQ4_1Blocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let o = 0, b = 0; o < src.length; o += QK, b += 20) {
    const [min, max] = minMax(src, o);
    const d = f(f(max - min) / 15);
    const id = d ? f(1 / d) : 0;
    w.f16(b, d);
    w.f16(b + 2, min);
    const q = (x: number) => Math.min(15, truncInt(f(f(f(x - min) * id) + 0.5)));
    for (let j = 0; j < 16; j++) dst[b + 4 + j] = q(at(src, o + j)) | (q(at(src, o + j + 16)) << 4);
  }
}

/** q5_0 / q5_1 tail: 32 5-bit quants into 16 nibble bytes at qs and the 32 5th bits at qh. */
function put5(w: BlockWriter, qh: number, qs: number, q: (j: number) => number): void {
  let bits = 0;
  for (let j = 0; j < 16; j++) {
    const q0 = q(j),
      q1 = q(j + 16);
    w.bytes[qs + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
    bits |= ((q0 & 0x10) >> 4) << j;
    bits |= ((q1 & 0x10) >> 4) << (j + 16);
  }
  w.view.setUint32(qh, bits >>> 0, true);
}

export function quantizeQ5_0Blocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let o = 0, b = 0; o < src.length; o += QK, b += 22) {
    const d = f(signedAbsMax(src, o, QK) / -16);
    const id = d ? f(1 / d) : 0;
    w.f16(b, d);
    put5(w, b + 2, b + 6, (j) => Math.min(31, truncInt(f(f(at(src, o + j) * id) + 16.5))));
  }
}

export function quantizeQ5_1Blocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let o = 0, b = 0; o < src.length; o += QK, b += 24) {
    const [min, max] = minMax(src, o);
    const d = f(f(max - min) / 31);
    const id = d ? f(1 / d) : 0;
    w.f16(b, d);
    w.f16(b + 2, min);
    put5(w, b + 4, b + 8, (j) => truncInt(f(f(f(at(src, o + j) - min) * id) + 0.5)) & 0xff);
  }
}
