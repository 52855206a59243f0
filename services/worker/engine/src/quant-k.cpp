// The K-quants q4_K and q6_K: 256-value super-blocks with per-sub-block scales (see quant.h for layouts).
// The quantisers port ggml's quantize_row_q4_K_ref / quantize_row_q6_K_ref and their helpers
// (make_qkx2_quants, make_qx_quants) step for step in float arithmetic, so the bytes match llama.cpp's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.h"
#include "quant.h"

namespace loom {

namespace {

constexpr int QK_K = 256;
constexpr float GROUP_MAX_EPS = 1e-15f;

// ggml's round-to-nearest via the 1.5 * 2^23 trick (ties to even), valid for |x| <= 2^22.
int nearestInt(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// 6-bit (scale, min) pair j of a q4_K block's 12 packed bytes.
void scaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// Asymmetric n-value quantisation to [0, nmax] minimising the weighted error over a grid of scales.
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin, uint8_t* Laux,
                     float rmin, float rdelta, int nstep, bool useMad) {
  float min = x[0], max = x[0];
  float sumW = weights[0];
  float sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *theMin = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float bestError = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearestInt(iscale * (x[i] - min));
    L[i] = (uint8_t)std::max(0, std::min(nmax, l));
    float diff = scale * L[i] + min - x[i];
    diff = useMad ? std::fabs(diff) : diff * diff;
    bestError += weights[i] * diff;
  }
  if (nstep < 1) {
    *theMin = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = (uint8_t)l;
      const float w = weights[i];
      sumL += w * l;
      sumL2 += w * l * l;
      sumXL += w * l * x[i];
    }
    const float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float curError = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * Laux[i] + thisMin - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        curError += weights[i] * diff;
      }
      if (curError < bestError) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

// Symmetric quantisation to [-nmax, nmax-1] (stored +nmax), rmse_type 1 without importance weights:
// error weights x^2, then a search over 18 nearby scales.
float makeQxQuants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = (int8_t)(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * x[i]);
        L[i] = (int8_t)(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float f16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return loom_f16_to_f32(h);
}
void putF16(uint8_t* p, float v) {
  const uint16_t h = loom_f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

}  // namespace

void dequantRowQ4_K(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 144;
    const float d = f16At(blk), min = f16At(blk + 2);
    const uint8_t* scales = blk + 4;
    const uint8_t* q = blk + 16;
    int is = 0;
    for (int j = 0; j < QK_K; j += 64) {
      uint8_t sc, m;
      scaleMinK4(is + 0, scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      scaleMinK4(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void dequantRowQ6_K(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 210;
    const float d = f16At(blk + 208);
    const uint8_t* ql = blk;
    const uint8_t* qh = blk + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
    for (int k = 0; k < QK_K; k += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void quantizeRowQ4_K(const float* x, uint8_t* dst, int n) {
  uint8_t L[QK_K], Laux[32];
  float weights[32], mins[QK_K / 32], scales[QK_K / 32];
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 144;
    uint8_t* bscales = blk + 4;
    std::memset(bscales, 0, 12);
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < QK_K / 32; ++j) {
      float sumX2 = 0;
      for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
      const float avX = std::sqrt(sumX2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(x[32 * j + l]);
      scales[j] = makeQkx2Quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f, 20, false);
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    for (int j = 0; j < QK_K / 32; ++j) {
      uint8_t ls = (uint8_t)nearestInt(invScale * scales[j]);
      uint8_t lm = (uint8_t)nearestInt(invMin * mins[j]);
      ls = std::min<uint8_t>(63, ls);
      lm = std::min<uint8_t>(63, lm);
      if (j < 4) {
        bscales[j] = ls;
        bscales[j + 4] = lm;
      } else {
        bscales[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
        bscales[j - 4] |= (uint8_t)((ls >> 4) << 6);
        bscales[j - 0] |= (uint8_t)((lm >> 4) << 6);
      }
    }
    putF16(blk, maxScale / 63.f);
    putF16(blk + 2, maxMin / 63.f);
    for (int j = 0; j < QK_K / 32; ++j) {
      uint8_t sc, m;
      scaleMinK4(j, bscales, &sc, &m);
      const float d = f16At(blk) * sc;
      if (!d) continue;
      const float dm = f16At(blk + 2) * m;
      for (int ii = 0; ii < 32; ++ii) {
        const int l = nearestInt((x[32 * j + ii] + dm) / d);
        L[32 * j + ii] = (uint8_t)std::max(0, std::min(15, l));
      }
    }
    uint8_t* q = blk + 16;
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
  }
}

void quantizeRowQ6_K(const float* x, uint8_t* dst, int n) {
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 210;
    int8_t* bscales = reinterpret_cast<int8_t*>(blk + 192);
    float maxScale = 0, maxAbsScale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      const float scale = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      if (std::fabs(scale) > maxAbsScale) {
        maxAbsScale = std::fabs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      std::memset(blk, 0, 210);
      continue;
    }
    const float iscale = -128.f / maxScale;
    putF16(blk + 208, 1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) bscales[ib] = (int8_t)std::min(127, nearestInt(iscale * scales[ib]));
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = f16At(blk + 208) * bscales[j];
      if (!d) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearestInt(x[16 * j + ii] / d);
        L[16 * j + ii] = (int8_t)(std::max(-32, std::min(31, l)) + 32);
      }
    }
    uint8_t* ql = blk;
    uint8_t* qh = blk + 128;
    for (int j = 0; j < QK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF,
                      q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
        ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
        qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                          ((L[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
  }
}

}  // namespace loom
