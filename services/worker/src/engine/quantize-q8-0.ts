/**
 * GGML q8_0 quantization of f32 rows, for writing q8_0 test models (no copy of llama.cpp needed).
 * Block layout (34 bytes per 32 values): [f16 scale d][32 x int8 q], value ≈ d * q, d = max|x| / 127,
 * q = round(x / d), as llama.cpp's quantize_row_q8_0_ref does.
 */

/** IEEE binary16 bits of x, round to nearest even (Node 20 has no Float16Array). */
export function f32ToF16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const ax = u & 0x7fffffff;
  if (ax >= 0x7f800000) return sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0);
  if (ax >= 0x477ff000) return sign | 0x7c00;
  if (ax < 0x38800000) {
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

function f16BitsToF32(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** values: [rows * cols] f32 with cols % 32 == 0 → q8_0 bytes [rows][cols / 32][34]. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % 32 !== 0) throw new Error(`q8_0 needs a multiple of 32 values, got ${values.length}`);
  const out = new Uint8Array((values.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const bits = f32ToF16Bits(d);
    view.setUint16(b * 34, bits, true);
    for (let i = 0; i < 32; i++) view.setInt8(b * 34 + 2 + i, Math.round(Math.fround(values[b * 32 + i]! * id)));
  }
  return out;
}

/** Inverse of quantizeQ8_0 (for checks). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const out = new Float32Array((bytes.length / 34) * 32);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < bytes.length / 34; b++) {
    const d = f16BitsToF32(view.getUint16(b * 34, true));
    for (let i = 0; i < 32; i++) out[b * 32 + i] = d * view.getInt8(b * 34 + 2 + i);
  }
  return out;
}
