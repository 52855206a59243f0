import { at } from '@loom/common';
/**
 * binary32 / binary16 arithmetic as ggml's C does it, for the JS ports of its quantisers: every C float
 * operation is one `f(...)` (Math.fround of the double result, which is the correctly rounded float result
 * for +, -, *, / and sqrt of float operands), f16 is IEEE binary16 with round-to-nearest-even (ggml's
 * GGML_FP32_TO_FP16), and nearestInt is ggml's nearest_int (ties to even, via 1.5 * 2^23).
 */

/** Rounds a double to the nearest binary32 value: one C float operation. */
export const f = Math.fround;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of x, round to nearest even (Node 20 has no Float16Array). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const u = at(u32, 0);
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

/** Value of binary16 bits. */
export function f16BitsToF32(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * ggml's nearest_int: x (a float, |x| <= 2^22) rounded to the nearest integer, ties to even (C adds
 * 1.5 * 2^23 in float, whose ulp is 1, and reads the mantissa; the same integer as this).
 */
export function nearestInt(x: number): number {
  const r = Math.round(x); // ties toward +infinity
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** The value of largest magnitude among x[o..o+n), signed (the first one on ties), as ggml's quantisers take it. */
export function signedAbsMax(x: Float32Array, o: number, n: number): number {
  let amax = 0,
    max = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(at(x, o + i));
    if (a > amax) {
      amax = a;
      max = at(x, o + i);
    }
  }
  return max;
}

/** C's roundf: halves away from zero. */
export const roundf = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** C's float-to-int8_t conversion of a value in range: truncation toward zero. */
export const truncInt = Math.trunc;

/** FLT_MAX. */
export const FLT_MAX = 3.4028234663852886e38;

/** Little-endian writer over a block buffer (a DataView that knows its f16 fields). */
export class BlockWriter {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Writes f16(v) at byte o and returns the f16's value as a float (what the block now holds). */
  f16(o: number, v: number): number {
    const h = f32ToF16Bits(v);
    this.view.setUint16(o, h, true);
    return f16BitsToF32(h);
  }
  f16At(o: number): number {
    return f16BitsToF32(this.view.getUint16(o, true));
  }
}
