/**
 * The non-linear 4-bit quantisers in TypeScript, float operation for float operation (ggml-float.ts), as
 * llama-quantize runs them without an importance matrix: ggml's quantize_iq4_nl / quantize_iq4_xs (both
 * quantize_row_iq4_nl_impl with ntry 7) and quantize_row_mxfp4_ref. A 4-bit index stands for a codebook
 * value times the block scale. Layouts (the engine's quant.h):
 *   iq4_nl  32 values: [f16 d][16 x u8 nibbles]
 *   iq4_xs 256 values: [f16 d][u16 scales_h][4 x u8 scales_l][128 x u8 nibbles], 8 sub-blocks of 32 with
 *          6-bit scales (low 4 bits in scales_l, high 2 in scales_h, stored + 32)
 *   mxfp4   32 values: [u8 e8m0 exponent][16 x u8 nibbles]
 * Nibbles: byte j of a 32-value group holds value j (low) and j + 16 (high).
 */
import { BlockWriter, f, nearestInt, signedAbsMax } from './ggml-float.js';
import { at } from '@loom/common';

/** ggml's kvalues_iq4nl. */
export const IQ4NL_VALUES: readonly number[] = [
  -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];
/** ggml's kvalues_mxfp4: e2m1 values doubled (the e8m0 scale is halved to match). */
export const MXFP4_VALUES: readonly number[] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

const GROUP_MAX_EPS = f(1e-15);
const NTRY = 7;

/** ggml's best_index_int8 over the (ascending) iq4_nl codebook: nearest value's index, the upper on ties. */
function bestIndex(x: number): number {
  const v = IQ4NL_VALUES;
  if (x <= at(v, 0)) return 0;
  if (x >= at(v, 15)) return 15;
  let ml = 0,
    mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < at(v, mav)) mu = mav;
    else ml = mav;
  }
  return f(x - at(v, mu - 1)) < f(at(v, mu) - x) ? mu - 1 : mu;
}

function packNibbles(L: Uint8Array, lo: number, q: Uint8Array, o: number): void {
  for (let j = 0; j < 16; j++) q[o + j] = at(L, lo + j) | (at(L, lo + 16 + j) << 4);
}

/**
 * quantize_row_iq4_nl_impl(superBlock, 32, ..., no importance weights, ntry 7) for x[xo..xo+superBlock):
 * d at dOff (f16), nibbles at qOff; with superBlock 256 (iq4_xs) also the 6-bit sub-block scales at
 * scalesOff (u16 scales_h, then 4 bytes scales_l).
 */
function quantizeIq4(
  superBlock: number,
  x: Float32Array,
  xo: number,
  w: BlockWriter,
  dOff: number,
  qOff: number,
  scalesOff: number,
): void {
  const v0 = at(IQ4NL_VALUES, 0);
  const L = new Uint8Array(superBlock),
    scales = new Float32Array(superBlock / 32),
    weight = new Float32Array(32);
  w.bytes.fill(0, qOff, qOff + superBlock / 2);
  w.f16(dOff, 0);
  let maxScale = 0,
    amaxScale = 0;
  for (let ib = 0; ib < superBlock / 32; ib++) {
    const xb = xo + 32 * ib;
    for (let j = 0; j < 32; j++) weight[j] = f(at(x, xb + j) * at(x, xb + j));
    const max = signedAbsMax(x, xb, 32);
    if (Math.abs(max) < GROUP_MAX_EPS) {
      scales[ib] = 0;
      continue;
    }
    // Sums of w*q*x and w*q*q for the indices nearest x / d.
    const sums = (id: number, store: boolean): [number, number] => {
      let sumqx = 0,
        sumq2 = 0;
      for (let j = 0; j < 32; j++) {
        const l = bestIndex(f(id * at(x, xb + j)));
        if (store) L[32 * ib + j] = l;
        const q = at(IQ4NL_VALUES, l),
          wj = at(weight, j);
        sumqx = f(sumqx + f(f(wj * q) * at(x, xb + j)));
        sumq2 = f(sumq2 + f(f(wj * q) * q));
      }
      return [sumqx, sumq2];
    };
    let d = f(-max / v0);
    let [sumqx, sumq2] = sums(f(1 / d), true);
    d = sumq2 > 0 ? f(sumqx / sumq2) : 0;
    let best = f(d * sumqx);
    for (let itry = -NTRY; itry <= NTRY; itry++) {
      [sumqx, sumq2] = sums(f((itry + v0) / max), false);
      if (sumq2 > 0 && f(sumqx * sumqx) > f(best * sumq2)) {
        d = f(sumqx / sumq2);
        best = f(d * sumqx);
      }
    }
    scales[ib] = d;
    if (Math.abs(d) > amaxScale) {
      amaxScale = Math.abs(d);
      maxScale = d;
    }
  }
  if (superBlock > 32) {
    let sh = 0;
    const d = f(-maxScale / 32);
    w.f16(dOff, d);
    const id = d ? f(1 / d) : 0;
    for (let ib = 0; ib < superBlock / 32; ib++) {
      const l = Math.max(-32, Math.min(31, nearestInt(f(id * at(scales, ib)))));
      const dl = f(d * l);
      const idl = dl ? f(1 / dl) : 0;
      for (let j = 0; j < 32; j++) L[32 * ib + j] = bestIndex(f(idl * at(x, xo + 32 * ib + j)));
      const ls = l + 32;
      if (ib % 2 === 0) w.bytes[scalesOff + 2 + ib / 2] = ls & 0xf;
      else w.bytes[scalesOff + 2 + (ib >> 1)] = at(w.bytes, scalesOff + 2 + (ib >> 1)) | ((ls & 0xf) << 4);
      sh |= (ls >> 4) << (2 * (ib % 8));
    }
    w.view.setUint16(scalesOff, sh, true);
  } else {
    w.f16(dOff, at(scales, 0));
    const id = scales[0] ? f(1 / scales[0]) : 0;
    for (let j = 0; j < superBlock; j++) L[j] = bestIndex(f(id * at(x, xo + j)));
  }
  for (let i = 0; i < superBlock / 32; i++) packNibbles(L, 32 * i, w.bytes, qOff + 16 * i);
}

export function quantizeIq4NlBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let x = 0, b = 0; x < src.length; x += 32, b += 18) quantizeIq4(32, src, x, w, b, b + 2, -1);
}

export function quantizeIq4XsBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  for (let x = 0, b = 0; x < src.length; x += 256, b += 136) quantizeIq4(256, src, x, w, b, b + 8, b + 2);
}

/** 2^(e - 128): half the e8m0 scale (ggml's GGML_E8M0_TO_FP32_HALF). */
export function e8m0Half(e: number): number {
  return 2 ** (e - 128);
}

/**
 * quantize_row_mxfp4_ref: e = floor(log2f(max|x|)) - 2 + 127, each value the first codebook entry nearest
 * x / 2^(e - 128). log2f is taken as the binary32 rounding of log2 (glibc's log2f agrees on all but
 * inputs within a rounding error of a float midpoint near a power of two).
 */
export function quantizeMxfp4Blocks(src: Float32Array, dst: Uint8Array): void {
  for (let x = 0, b = 0; x < src.length; x += 32, b += 17) {
    let amax = 0;
    for (let j = 0; j < 32; j++) if (amax < Math.abs(at(src, x + j))) amax = Math.abs(at(src, x + j));
    const e = amax > 0 ? (Math.floor(f(Math.log2(amax))) - 2 + 127) & 0xff : 0;
    const d = e8m0Half(e);
    dst[b] = e;
    const best = (v: number) => {
      let bi = 0,
        bestErr = Math.abs(f(f(at(MXFP4_VALUES, 0) * d) - v));
      for (let i = 1; i < 16; i++) {
        const err = Math.abs(f(f(at(MXFP4_VALUES, i) * d) - v));
        if (err < bestErr) {
          bi = i;
          bestErr = err;
        }
      }
      return bi;
    };
    for (let j = 0; j < 16; j++) dst[b + 1 + j] = best(at(src, x + j)) | (best(at(src, x + j + 16)) << 4);
  }
}
