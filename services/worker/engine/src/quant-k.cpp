// The K-quants q4_K, q5_K and q6_K: 256-value super-blocks with per-sub-block scales (see quant.h for
// layouts). The quantisers port ggml's quantize_row_<type>_ref and their helpers (quant-k-search.h)
// step for step in float arithmetic, so the bytes match llama-quantize's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant-k-search.h"
#include "quant-util.h"
#include "quant.h"

namespace loom {

using qsearch::makeQkx2Quants;
using qsearch::makeQxQuants;
using qsearch::packScaleMinK4;
using qutil::f16At;
using qutil::GROUP_MAX_EPS;
using qutil::nearestInt;
using qutil::putF16;
using qutil::QK_K;

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

void dequantRowQ5_K(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 176;
    const float d = f16At(blk), min = f16At(blk + 2);
    const uint8_t* scales = blk + 4;
    const uint8_t* qh = blk + 16;
    const uint8_t* ql = blk + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      scaleMinK4(is + 0, scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      scaleMinK4(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
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

namespace {
// The common half of quantize_row_q4_K_ref / q5_K_ref: each 32-value sub-block gets a (scale, min) from
// makeQkx2Quants (error weights av|x| + |x|), both packed to 6 bits against the super-block's
// d = max scale / 63 and dmin = max min / 63 (f16 at blk[0..3], packed bytes at blk[4..15]); then every
// quant is recomputed against the rounded scales into L[256], each in [0, nmax].
void quantizeScalesMinsK(const float* x, uint8_t* blk, uint8_t* L, int nmax, float rmin, int nstep) {
  uint8_t Laux[32], ls[8], lm[8];
  float weights[32], mins[QK_K / 32], scales[QK_K / 32];
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < QK_K / 32; ++j) {
    float sumX2 = 0;
    for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
    const float avX = std::sqrt(sumX2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(x[32 * j + l]);
    scales[j] = makeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
  const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
  for (int j = 0; j < QK_K / 32; ++j) {
    ls[j] = std::min<uint8_t>(63, (uint8_t)nearestInt(invScale * scales[j]));
    lm[j] = std::min<uint8_t>(63, (uint8_t)nearestInt(invMin * mins[j]));
  }
  packScaleMinK4(ls, lm, blk + 4);
  putF16(blk, maxScale / 63.f);
  putF16(blk + 2, maxMin / 63.f);
  for (int j = 0; j < QK_K / 32; ++j) {
    uint8_t sc, m;
    scaleMinK4(j, blk + 4, &sc, &m);
    const float d = f16At(blk) * sc;
    if (!d) continue;
    const float dm = f16At(blk + 2) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = (uint8_t)std::max(0, std::min(nmax, l));
    }
  }
}
}  // namespace

void quantizeRowQ4_K(const float* x, uint8_t* dst, int n) {
  uint8_t L[QK_K];
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 144;
    quantizeScalesMinsK(x, blk, L, 15, -1.f, 20);
    uint8_t* q = blk + 16;
    for (int j = 0; j < QK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
  }
}

// q5_K: as q4_K with 5-bit quants, the 5th bits in qh (bit 2p / 2p + 1 of qh[l] for sub-block 2p / 2p + 1).
void quantizeRowQ5_K(const float* x, uint8_t* dst, int n) {
  uint8_t L[QK_K];
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 176;
    quantizeScalesMinsK(x, blk, L, 31, -0.5f, 15);
    uint8_t* qh = blk + 16;
    uint8_t* ql = blk + 48;
    std::memset(qh, 0, QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n0 = 0; n0 < QK_K; n0 += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n0 + j], l2 = L[n0 + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = (uint8_t)(l1 | (l2 << 4));
      }
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
