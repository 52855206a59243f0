/**
 * GGML weight encodings in TypeScript (writing synthesised and test models), bit-exact with ggml's
 * reference code:
 * f16 is IEEE binary16 with round-to-nearest-even (ggml's GGML_FP32_TO_FP16 on F16C hardware), and q8_0
 * is ggml's quantize_row_q8_0_ref: per 32 values, d = max|x| / 127, q = roundf(x / d) (halves away from
 * zero, unlike Math.round), block = [f16 d][32 x int8 q], 34 bytes; q4_0 is quantize_row_q4_0_ref:
 * d = (the value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)), block = [f16 d][16 bytes:
 * low nibble value j, high nibble value j + 16], 18 bytes.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of x, round to nearest even (Node 20 has no Float16Array). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const ax = u & 0x7fffffff;
  if (ax >= 0x7f800000) return sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0);
  if (ax >= 0x477ff000) return sign | 0x7c00; // rounds past 65504
  if (ax < 0x38800000) {
    // subnormal half: value = m * 2^-24
    if (ax < 0x33000000) return sign;
    const e = ax >>> 23;
    const m = (ax & 0x7fffff) | 0x800000;
    const shift = 126 - e;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) !== 0)) r++;
    return sign | r;
  }
  let r = (ax >>> 13) - (112 << 10);
  const rem = ax & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) !== 0)) r++;
  return sign | r;
}

/** C's roundf: halves away from zero. */
const roundf = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

/** src: [n] f32 (n % 32 == 0) → dst: [n / 32][34] q8_0 blocks, written at dst[0..]. */
export function quantizeQ8_0Into(src: Float32Array, dst: Uint8Array): void {
  if (src.length % Q8_0_BLOCK !== 0) throw new Error(`q8_0 needs a multiple of 32 values, got ${src.length}`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let b = 0, o = 0; b < src.length; b += Q8_0_BLOCK, o += Q8_0_BYTES) {
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(src[b + i]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let i = 0; i < Q8_0_BLOCK; i++) view.setInt8(o + 2 + i, roundf(Math.fround(src[b + i]! * id)));
  }
}

export const Q4_0_BYTES = 18;

/** src: [n] f32 (n % 32 == 0) → dst: [n / 32][18] q4_0 blocks, written at dst[0..]. */
export function quantizeQ4_0Into(src: Float32Array, dst: Uint8Array): void {
  if (src.length % Q8_0_BLOCK !== 0) throw new Error(`q4_0 needs a multiple of 32 values, got ${src.length}`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let b = 0, o = 0; b < src.length; b += Q8_0_BLOCK, o += Q4_0_BYTES) {
    let amax = 0;
    let max = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      const a = Math.abs(src[b + i]!);
      if (amax < a) {
        amax = a;
        max = src[b + i]!;
      }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(o, f32ToF16Bits(d), true);
    // C's (int8_t) cast of x + 8.5 truncates toward zero (x + 8.5 >= 0 here), then caps at 15.
    const q = (x: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(x * id) + 8.5)));
    for (let j = 0; j < 16; j++) dst[o + 2 + j] = q(src[b + j]!) | (q(src[b + j + 16]!) << 4);
  }
}

/** [n] f32 (n % 32 == 0) → q8_0 bytes [n / 32][34]. */
export function quantizeQ8_0(src: Float32Array): Uint8Array {
  const out = new Uint8Array((src.length / Q8_0_BLOCK) * Q8_0_BYTES);
  quantizeQ8_0Into(src, out);
  return out;
}

/** Value of binary16 bits. */
export function f16BitsToF32(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
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
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(src[i]!);
}
