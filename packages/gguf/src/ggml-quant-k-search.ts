/**
 * ggml's per-group scale searches behind the K-quants (ggml-quants.c make_qkx2_quants, make_qx_quants with
 * rmse_type 1 and no importance weights, make_q3_quants with do_rmse), float operation for float operation,
 * and the q4_K / q5_K 6-bit (scale, min) packing. Arrays are addressed as (array, offset).
 */
import { f, nearestInt, signedAbsMax } from './ggml-float.js';
import { at } from '@loom/common';

const GROUP_MAX_EPS = f(1e-15);
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * Asymmetric quantisation of x[xo..xo+n) to [0, nmax] with a min (L[lo..]), minimising the weighted error
 * over nstep + 1 candidate scales. Returns [scale, -min].
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  weights: Float32Array,
  L: Uint8Array,
  lo: number,
  Laux: Uint8Array,
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): [number, number] {
  let min = at(x, xo),
    max = at(x, xo);
  let sumW = at(weights, 0);
  let sumX = f(sumW * at(x, xo));
  for (let i = 1; i < n; i++) {
    const xi = at(x, xo + i);
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = at(weights, i);
    sumW = f(sumW + w);
    sumX = f(sumX + f(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lo, lo + n);
    return [0, -min];
  }
  let iscale = f(nmax / f(max - min));
  let scale = f(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = at(x, xo + i);
    let l = nearestInt(f(iscale * f(xi - min)));
    l = l < 0 ? 0 : l > nmax ? nmax : l;
    L[lo + i] = l;
    const diff = f(f(f(scale * l) + min) - xi);
    bestError = f(bestError + f(at(weights, i) * (useMad ? Math.abs(diff) : f(diff * diff))));
  }
  if (nstep < 1) return [scale, -min];
  for (let is = 0; is <= nstep; is++) {
    // max - min, not the first range: ggml divides by the current min, which an improving step replaced.
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max - min));
    let sumL = 0,
      sumL2 = 0,
      sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = at(x, xo + i);
      let l = nearestInt(f(iscale * f(xi - min)));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      Laux[i] = l;
      const wl = f(at(weights, i) * l);
      sumL = f(sumL + wl);
      sumL2 = f(sumL2 + f(wl * l));
      sumXL = f(sumXL + f(wl * xi));
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL));
    if (D > 0) {
      let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        const diff = f(f(f(thisScale * at(Laux, i)) + thisMin) - at(x, xo + i));
        curError = f(curError + f(at(weights, i) * (useMad ? Math.abs(diff) : f(diff * diff))));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = at(Laux, i);
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return [scale, -min];
}

/** Symmetric quantisation of x[xo..xo+n) to [-nmax, nmax - 1], stored + nmax in L[lo..]; returns the scale. */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  const max = signedAbsMax(x, xo, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  // Sums of w*x*l and w*l*l with error weights w = x^2 for quants at 1 / iscale.
  const sums = (iscale: number, store: boolean): [number, number] => {
    let sumlx = 0,
      suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = at(x, xo + i);
      const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
      if (store) L[lo + i] = l + nmax;
      const w = f(xi * xi);
      sumlx = f(sumlx + f(f(w * xi) * l));
      suml2 = f(suml2 + f(f(w * l) * l));
    }
    return [sumlx, suml2];
  };
  let [sumlx, suml2] = sums(f(-nmax / max), true);
  let scale = suml2 ? f(sumlx / suml2) : 0;
  let best = f(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const iscale = f(-f(nmax + f(f(0.1) * is)) / max);
    [sumlx, suml2] = sums(iscale, false);
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      sums(iscale, true);
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  return scale;
}

/** make_q3_quants(n, nmax, x, L, do_rmse = true): symmetric, refined by coordinate descent, stored + nmax. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  const max = signedAbsMax(x, xo, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const iscale = f(-nmax / max);
  let sumlx = 0,
    suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = at(x, xo + i);
    const l = clamp(nearestInt(f(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l;
    const w = f(xi * xi);
    sumlx = f(sumlx + f(f(w * xi) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = at(x, xo + i);
      const Li = at(L, lo + i);
      const w = f(xi * xi);
      let slx = f(sumlx - f(f(w * xi) * Li));
      if (slx > 0) {
        let sl2 = f(suml2 - f(f(w * Li) * Li));
        const newL = clamp(nearestInt(f(f(xi * sl2) / slx)), -nmax, nmax - 1);
        if (newL !== Li) {
          slx = f(slx + f(f(w * xi) * newL));
          sl2 = f(sl2 + f(f(w * newL) * newL));
          if (sl2 > 0 && f(f(slx * slx) * suml2) > f(f(sumlx * sumlx) * sl2)) {
            L[lo + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (!nChanged) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] = at(L, lo + i) + nmax;
  return suml2 > 0 ? f(sumlx / suml2) : 0;
}

/** q4_K / q5_K: 6-bit (scale, min) pair j of the 12 packed scale bytes at q[o..] (ggml's get_scale_min_k4). */
export function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [at(q, o + j) & 63, at(q, o + j + 4) & 63];
  return [
    (at(q, o + j + 4) & 0xf) | ((at(q, o + j - 4) >> 6) << 4),
    (at(q, o + j + 4) >> 4) | ((at(q, o + j) >> 6) << 4),
  ];
}

/** Packs 8 6-bit (scale, min) pairs into 12 bytes at q[o..] (the inverse of scaleMinK4). */
export function packScaleMinK4(ls: Uint8Array, lm: Uint8Array, q: Uint8Array, o: number): void {
  q.fill(0, o, o + 12);
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      q[o + j] = at(ls, j);
      q[o + j + 4] = at(lm, j);
    } else {
      q[o + j + 4] = (at(ls, j) & 0xf) | ((at(lm, j) & 0xf) << 4);
      q[o + j - 4] = at(q, o + j - 4) | ((at(ls, j) >> 4) << 6);
      q[o + j] = at(q, o + j) | ((at(lm, j) >> 4) << 6);
    }
  }
}
