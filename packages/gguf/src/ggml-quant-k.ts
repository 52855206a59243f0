/**
 * ggml's K-quant quantisers in TypeScript, float operation for float operation (ggml-float.ts):
 * quantize_row_{q2_K,q3_K,q4_K,q5_K,q6_K}_ref. 256-value super-blocks; layouts in the engine's quant.h.
 * Each function writes src.length / 256 blocks at dst[0..]; src.length must be a multiple of 256.
 */
import { BlockWriter, f, nearestInt } from './ggml-float.js';
import { makeQ3Quants, makeQkx2Quants, makeQxQuants, packScaleMinK4, scaleMinK4 } from './ggml-quant-k-search.js';
import { at } from '@loom/common';

const QK_K = 256;
const GROUP_MAX_EPS = f(1e-15);
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** 2-bit fields: byte l of each 128-value half holds values l, l + 32, l + 64, l + 96 at bits 0, 2, 4, 6. */
function packCrumbs(L: Uint8Array | Int8Array, q: Uint8Array, o: number): void {
  for (let j = 0; j < QK_K; j += 128)
    for (let l = 0; l < 32; l++)
      q[o + j / 4 + l] = at(L, j + l) | (at(L, j + l + 32) << 2) | (at(L, j + l + 64) << 4) | (at(L, j + l + 96) << 6);
}

export function quantizeQ2_KBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  const L = new Uint8Array(QK_K),
    Laux = new Uint8Array(16),
    weights = new Float32Array(16),
    mins = new Float32Array(16),
    scales = new Float32Array(16);
  const q4scale = 15;
  for (let x = 0, b = 0; x < src.length; x += QK_K, b += 84) {
    let maxScale = 0,
      maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(at(src, x + 16 * j + l));
      [scales[j], mins[j]] = makeQkx2Quants(16, 3, src, x + 16 * j, weights, L, 16 * j, Laux, -0.5, f(0.1), 15, true);
      if (at(scales, j) > maxScale) maxScale = at(scales, j);
      if (at(mins, j) > maxMin) maxMin = at(mins, j);
    }
    if (maxScale > 0) {
      const iscale = f(q4scale / maxScale);
      for (let j = 0; j < 16; j++) dst[b + j] = nearestInt(f(iscale * at(scales, j)));
      w.f16(b + 80, f(maxScale / q4scale));
    } else {
      dst.fill(0, b, b + 16);
      w.f16(b + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = f(q4scale / maxMin);
      for (let j = 0; j < 16; j++) dst[b + j] = at(dst, b + j) | (nearestInt(f(iscale * at(mins, j))) << 4);
      w.f16(b + 82, f(maxMin / q4scale));
    } else {
      w.f16(b + 82, 0);
    }
    for (let j = 0; j < 16; j++) {
      const d = f(w.f16At(b + 80) * (at(dst, b + j) & 0xf));
      if (!d) continue;
      const dm = f(w.f16At(b + 82) * (at(dst, b + j) >> 4));
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(f(at(src, x + 16 * j + ii) + dm) / d)), 0, 3);
    }
    packCrumbs(L, dst, b + 16);
  }
}

/** q3_K's signed 6-bit scale j (stored + 32) from the 12 scale bytes at q[o..]. */
function q3kScale(q: Uint8Array, o: number, j: number): number {
  const lo = j < 8 ? at(q, o + j) & 0xf : at(q, o + j - 8) >> 4;
  return (lo | (((at(q, o + 8 + (j % 4)) >> (2 * Math.floor(j / 4))) & 3) << 4)) - 32;
}

export function quantizeQ3_KBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  const L = new Int8Array(QK_K),
    scales = new Float32Array(16);
  for (let x = 0, b = 0; x < src.length; x += QK_K, b += 110) {
    let maxScale = 0,
      amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, src, x + 16 * j, L, 16 * j);
      const scale = Math.abs(at(scales, j));
      if (scale > amax) {
        amax = scale;
        maxScale = at(scales, j);
      }
    }
    const sc = b + 96;
    dst.fill(0, sc, sc + 12);
    if (maxScale) {
      const iscale = f(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        const l = clamp((nearestInt(f(iscale * at(scales, j))) << 24) >> 24, -32, 31) + 32; // via int8_t, as C
        if (j < 8) dst[sc + j] = l & 0xf;
        else dst[sc + j - 8] = at(dst, sc + j - 8) | ((l & 0xf) << 4);
        dst[sc + (j % 4) + 8] = at(dst, sc + (j % 4) + 8) | ((l >> 4) << (2 * Math.floor(j / 4)));
      }
      w.f16(b + 108, f(1 / iscale));
    } else {
      w.f16(b + 108, 0);
    }
    for (let j = 0; j < 16; j++) {
      const d = f(w.f16At(b + 108) * q3kScale(dst, sc, j));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(at(src, x + 16 * j + ii) / d)), -4, 3) + 4;
    }
    // Value j's high bit goes to hmask[j % 32] bit j / 32; the low two bits stay in L.
    dst.fill(0, b, b + 32);
    for (let j = 0; j < QK_K; j++) {
      if (at(L, j) > 3) {
        dst[b + (j % 32)] = at(dst, b + (j % 32)) | (1 << Math.floor(j / 32));
        L[j] = at(L, j) - 4;
      }
    }
    packCrumbs(L, dst, b + 32);
  }
}

/**
 * The common half of q4_K / q5_K: per 32-value sub-block a (scale, min) from makeQkx2Quants (error
 * weights sqrt(mean x^2) + |x|), packed to 6 bits against d = max scale / 63 and dmin = max min / 63 (f16
 * at b, b + 2; packed at b + 4), then every quant recomputed against the rounded scales into L[256].
 */
function quantizeScalesMinsK(
  src: Float32Array,
  x: number,
  w: BlockWriter,
  b: number,
  L: Uint8Array,
  nmax: number,
  rmin: number,
  nstep: number,
): void {
  const Laux = new Uint8Array(32),
    weights = new Float32Array(32),
    mins = new Float32Array(8),
    scales = new Float32Array(8),
    ls = new Uint8Array(8),
    lm = new Uint8Array(8);
  let maxScale = 0,
    maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) {
      const v = at(src, x + 32 * j + l);
      sumX2 = f(sumX2 + f(v * v));
    }
    const avX = f(Math.sqrt(f(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = f(avX + Math.abs(at(src, x + 32 * j + l)));
    [scales[j], mins[j]] = makeQkx2Quants(
      32,
      nmax,
      src,
      x + 32 * j,
      weights,
      L,
      32 * j,
      Laux,
      rmin,
      f(0.1),
      nstep,
      false,
    );
    if (at(scales, j) > maxScale) maxScale = at(scales, j);
    if (at(mins, j) > maxMin) maxMin = at(mins, j);
  }
  const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    ls[j] = Math.min(63, nearestInt(f(invScale * at(scales, j))) & 0xff);
    lm[j] = Math.min(63, nearestInt(f(invMin * at(mins, j))) & 0xff);
  }
  packScaleMinK4(ls, lm, w.bytes, b + 4);
  const d0 = w.f16(b, f(maxScale / 63));
  const m0 = w.f16(b + 2, f(maxMin / 63));
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(j, w.bytes, b + 4);
    const d = f(d0 * sc);
    if (!d) continue;
    const dm = f(m0 * m);
    for (let ii = 0; ii < 32; ii++)
      L[32 * j + ii] = clamp(nearestInt(f(f(at(src, x + 32 * j + ii) + dm) / d)), 0, nmax);
  }
}

export function quantizeQ4_KBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  const L = new Uint8Array(QK_K);
  for (let x = 0, b = 0; x < src.length; x += QK_K, b += 144) {
    quantizeScalesMinsK(src, x, w, b, L, 15, -1, 20);
    for (let j = 0, q = b + 16; j < QK_K; j += 64, q += 32)
      for (let l = 0; l < 32; l++) dst[q + l] = at(L, j + l) | (at(L, j + l + 32) << 4);
  }
}

export function quantizeQ5_KBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  const L = new Uint8Array(QK_K);
  for (let x = 0, b = 0; x < src.length; x += QK_K, b += 176) {
    quantizeScalesMinsK(src, x, w, b, L, 31, -0.5, 15);
    const qh = b + 16;
    dst.fill(0, qh, qh + 32);
    for (let n = 0, ql = b + 48, m1 = 1, m2 = 2; n < QK_K; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (let j = 0; j < 32; j++) {
        let l1 = at(L, n + j),
          l2 = at(L, n + j + 32);
        if (l1 > 15) {
          l1 -= 16;
          dst[qh + j] = at(dst, qh + j) | m1;
        }
        if (l2 > 15) {
          l2 -= 16;
          dst[qh + j] = at(dst, qh + j) | m2;
        }
        dst[ql + j] = l1 | (l2 << 4);
      }
    }
  }
}

export function quantizeQ6_KBlocks(src: Float32Array, dst: Uint8Array): void {
  const w = new BlockWriter(dst);
  const L = new Int8Array(QK_K),
    scales = new Float32Array(16);
  for (let x = 0, b = 0; x < src.length; x += QK_K, b += 210) {
    let maxScale = 0,
      maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, src, x + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      dst.fill(0, b, b + 210);
      continue;
    }
    const iscale = f(-128 / maxScale);
    const d0 = w.f16(b + 208, f(1 / iscale));
    for (let ib = 0; ib < 16; ib++) w.view.setInt8(b + 192 + ib, Math.min(127, nearestInt(f(iscale * at(scales, ib)))));
    for (let j = 0; j < 16; j++) {
      const d = f(d0 * w.view.getInt8(b + 192 + j));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(at(src, x + 16 * j + ii) / d)), -32, 31) + 32;
    }
    for (let j = 0, ql = b, qh = b + 128; j < QK_K; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const q1 = at(L, j + l) & 0xf,
          q2 = at(L, j + l + 32) & 0xf,
          q3 = at(L, j + l + 64) & 0xf,
          q4 = at(L, j + l + 96) & 0xf;
        dst[ql + l] = q1 | (q3 << 4);
        dst[ql + l + 32] = q2 | (q4 << 4);
        dst[qh + l] =
          (at(L, j + l) >> 4) |
          ((at(L, j + l + 32) >> 4) << 2) |
          ((at(L, j + l + 64) >> 4) << 4) |
          ((at(L, j + l + 96) >> 4) << 6);
      }
    }
  }
}
