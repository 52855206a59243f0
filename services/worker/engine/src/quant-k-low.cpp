// The low-bit K-quants q2_K and q3_K: 256-value super-blocks, 16 sub-blocks of 16 values, 2-bit quants
// (q3_K: plus a high bit in hmask). Layouts in quant.h; the quantisers port ggml's quantize_row_q2_K_ref /
// quantize_row_q3_K_ref step for step in float arithmetic, so the bytes match llama-quantize's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant-k-search.h"
#include "quant-util.h"
#include "quant.h"

namespace loom {

using qsearch::makeQ3Quants;
using qsearch::makeQkx2Quants;
using qutil::f16At;
using qutil::nearestInt;
using qutil::putF16;
using qutil::QK_K;

namespace {
// 2-bit fields of a 128-value half: byte l of qs holds values l, l + 32, l + 64, l + 96 (bits 0-1, 2-3,
// 4-5, 6-7); L[256] in [0, 3] packed into 64 bytes.
void packCrumbs(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}
}  // namespace

void dequantRowQ2_K(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 84;
    const uint8_t* scales = blk;
    const uint8_t* q = blk + 16;
    const float d = f16At(blk + 80), min = f16At(blk + 82);
    int is = 0;
    for (int n0 = 0; n0 < QK_K; n0 += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int h = 0; h < 2; h++) {
          const uint8_t sc = scales[is++];
          const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * (int8_t)((q[l + 16 * h] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequantRowQ3_K(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 110;
    const uint8_t* hm = blk;
    const uint8_t* q = blk + 32;
    const uint8_t* scales = blk + 96;
    const float dAll = f16At(blk + 108);
    uint8_t m = 1;
    int is = 0;
    for (int n0 = 0; n0 < QK_K; n0 += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int h = 0; h < 2; h++) {
          const float dl = dAll * (float)q3kScale(scales, is++);
          for (int l = 16 * h; l < 16 * h + 16; ++l)
            *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
        }
      }
    }
  }
}

void quantizeRowQ2_K(const float* x, uint8_t* dst, int n) {
  uint8_t L[QK_K], Laux[16];
  float weights[16], mins[QK_K / 16], scales[QK_K / 16];
  const float q4scale = 15.f;
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 84;
    uint8_t* bscales = blk;
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    if (maxScale > 0) {
      const float iscale = q4scale / maxScale;
      for (int j = 0; j < QK_K / 16; ++j) bscales[j] = (uint8_t)nearestInt(iscale * scales[j]);
      putF16(blk + 80, maxScale / q4scale);
    } else {
      std::memset(bscales, 0, QK_K / 16);
      putF16(blk + 80, 0.f);
    }
    if (maxMin > 0) {
      const float iscale = q4scale / maxMin;
      for (int j = 0; j < QK_K / 16; ++j) bscales[j] |= (uint8_t)(nearestInt(iscale * mins[j]) << 4);
      putF16(blk + 82, maxMin / q4scale);
    } else {
      putF16(blk + 82, 0.f);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = f16At(blk + 80) * (bscales[j] & 0xF);
      if (!d) continue;
      const float dm = f16At(blk + 82) * (bscales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearestInt((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = (uint8_t)std::max(0, std::min(3, l));
      }
    }
    packCrumbs(L, blk + 16);
  }
}

void quantizeRowQ3_K(const float* x, uint8_t* dst, int n) {
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int i = 0; i < n / QK_K; i++, x += QK_K) {
    uint8_t* blk = dst + (size_t)i * 110;
    uint8_t* hmask = blk;
    uint8_t* bscales = blk + 96;
    float maxScale = 0, amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        maxScale = scales[j];
      }
    }
    std::memset(bscales, 0, 12);
    if (maxScale) {
      const float iscale = -32.f / maxScale;
      for (int j = 0; j < QK_K / 16; ++j) {
        int8_t l = (int8_t)nearestInt(iscale * scales[j]);
        l = (int8_t)(std::max<int>(-32, std::min<int>(31, l)) + 32);
        if (j < 8)
          bscales[j] = l & 0xF;
        else
          bscales[j - 8] |= (uint8_t)((l & 0xF) << 4);
        l >>= 4;
        bscales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
      }
      putF16(blk + 108, 1 / iscale);
    } else {
      putF16(blk + 108, 0.f);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = f16At(blk + 108) * (float)q3kScale(bscales, j);
      if (!d) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearestInt(x[16 * j + ii] / d);
        L[16 * j + ii] = (int8_t)(std::max(-4, std::min(3, l)) + 4);
      }
    }
    // High bits: value j's in hmask[j % 32] bit j / 32; the low two bits stay in L.
    std::memset(hmask, 0, QK_K / 8);
    for (int j = 0; j < QK_K; ++j) {
      if (L[j] > 3) {
        hmask[j % 32] |= (uint8_t)(1 << (j / 32));
        L[j] = (int8_t)(L[j] - 4);
      }
    }
    packCrumbs(reinterpret_cast<const uint8_t*>(L), blk + 32);
  }
}

}  // namespace loom
