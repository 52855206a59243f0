// The non-linear 4-bit types iq4_nl, iq4_xs and MXFP4: each 4-bit index stands for a codebook value
// (quant-codebooks.h) times the block's scale. Layouts in quant.h. The quantisers port what
// llama-quantize runs without an importance matrix: ggml's quantize_iq4_nl / quantize_iq4_xs (both
// quantize_row_iq4_nl_impl with ntry 7, a search over 15 candidate scales) and quantize_row_mxfp4_ref.
#include <cmath>
#include <cstring>

#include "quant-util.h"
#include "quant.h"

namespace loom {

using qutil::f16At;
using qutil::GROUP_MAX_EPS;
using qutil::nearestInt;
using qutil::putF16;
using qutil::QK_K;

namespace {

// ggml's best_index_int8: the index of the codebook value (sorted ascending) nearest x, the upper on ties.
int bestIndex(const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[15]) return 15;
  int ml = 0, mu = 15;
  while (mu - ml > 1) {
    const int mav = (ml + mu) / 2;
    if (x < val[mav])
      mu = mav;
    else
      ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

// 32 indices into 16 bytes: low nibble value j, high nibble value j + 16.
void packNibbles(const uint8_t* L, uint8_t* q) {
  for (int j = 0; j < 16; ++j) q[j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

void dequantLut(const uint8_t* qs, float d, const int8_t* values, float* y) {
  for (int j = 0; j < 16; ++j) {
    y[j] = d * values[qs[j] & 0xf];
    y[j + 16] = d * values[qs[j] >> 4];
  }
}

constexpr int kNtry = 7;

// quantize_row_iq4_nl_impl(superBlock, 32, ..., quant_weights NULL, ntry 7) for one super-block of
// `superBlock` values (32: iq4_nl, one scale, stored as f16 at *dh; 256: iq4_xs, 6-bit sub-block scales
// against f16 d = -max scale / 32, low 4 bits in scalesL, high 2 in scalesH). Indices go to q4.
void quantizeIq4(int superBlock, const float* x, uint8_t* dh, uint8_t* q4, uint8_t* scalesH, uint8_t* scalesL) {
  const int8_t* values = kIq4nlValues;
  uint8_t L[QK_K];
  float scales[QK_K / 32], weight[32];
  std::memset(q4, 0, superBlock / 2);
  putF16(dh, 0.f);
  float maxScale = 0, amaxScale = 0;
  for (int ib = 0; ib < superBlock / 32; ++ib) {
    const float* xb = x + ib * 32;
    uint8_t* Lb = L + ib * 32;
    for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
    const float max = qutil::signedAbsMax(xb, 32);
    if (std::fabs(max) < GROUP_MAX_EPS) {
      scales[ib] = 0;
      continue;
    }
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const int l = bestIndex(values, id * xb[j]);
      Lb[j] = (uint8_t)l;
      const float q = values[l], w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kNtry; itry <= kNtry; ++itry) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < 32; ++j) {
        const float q = values[bestIndex(values, id * xb[j])], w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    const float absD = std::fabs(d);
    if (absD > amaxScale) {
      amaxScale = absD;
      maxScale = d;
    }
  }
  if (superBlock > 32) {
    std::memset(scalesH, 0, 2);
    uint16_t sh = 0;
    const float d = -maxScale / 32;
    putF16(dh, d);
    const float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < superBlock / 32; ++ib) {
      int l = nearestInt(id * scales[ib]);
      l = l < -32 ? -32 : l > 31 ? 31 : l;
      const float dl = d * l;
      const float idl = dl ? 1 / dl : 0.f;
      for (int j = 0; j < 32; ++j) L[ib * 32 + j] = (uint8_t)bestIndex(values, idl * x[ib * 32 + j]);
      l += 32;
      const uint8_t lLow = l & 0xf, lHigh = (uint8_t)(l >> 4);
      if (ib % 2 == 0)
        scalesL[ib / 2] = lLow;
      else
        scalesL[ib / 2] |= (uint8_t)(lLow << 4);
      sh = (uint16_t)(sh | (lHigh << 2 * (ib % 8)));
    }
    std::memcpy(scalesH, &sh, 2);
  } else {
    putF16(dh, scales[0]);
    const float id = scales[0] ? 1 / scales[0] : 0;
    for (int j = 0; j < superBlock; ++j) L[j] = (uint8_t)bestIndex(values, id * x[j]);
  }
  for (int i = 0; i < superBlock / 32; ++i) packNibbles(L + 32 * i, q4 + 16 * i);
}

// ggml's best_index_mxfp4: the first index whose value * e is nearest x.
int bestIndexMxfp4(float x, float e) {
  int best = 0;
  float bestErr = std::fabs(kMxfp4Values[0] * e - x);
  for (int i = 1; i < 16; i++) {
    const float err = std::fabs(kMxfp4Values[i] * e - x);
    if (err < bestErr) {
      best = i;
      bestErr = err;
    }
  }
  return best;
}

}  // namespace

void dequantRowIq4Nl(const uint8_t* src, float* y, int n) {
  for (int b = 0; b < n / 32; b++, y += 32)
    dequantLut(src + (size_t)b * 18 + 2, f16At(src + (size_t)b * 18), kIq4nlValues, y);
}

void dequantRowIq4Xs(const uint8_t* src, float* y, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    const uint8_t* blk = src + (size_t)i * 136;
    const float d = f16At(blk);
    for (int ib = 0; ib < QK_K / 32; ++ib, y += 32) {
      dequantLut(blk + 8 + 16 * ib, d * iq4xsScale(blk, ib), kIq4nlValues, y);
    }
  }
}

void dequantRowMxfp4(const uint8_t* src, float* y, int n) {
  for (int b = 0; b < n / 32; b++, y += 32)
    dequantLut(src + (size_t)b * 17 + 1, e8m0Half(src[(size_t)b * 17]), kMxfp4Values, y);
}

void quantizeRowIq4Nl(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / 32; b++) {
    uint8_t* blk = dst + (size_t)b * 18;
    quantizeIq4(32, x + (size_t)b * 32, blk, blk + 2, nullptr, nullptr);
  }
}

void quantizeRowIq4Xs(const float* x, uint8_t* dst, int n) {
  for (int i = 0; i < n / QK_K; i++) {
    uint8_t* blk = dst + (size_t)i * 136;
    quantizeIq4(QK_K, x + (size_t)i * QK_K, blk, blk + 8, blk + 2, blk + 4);
  }
}

// quantize_row_mxfp4_ref: e = floor(log2(max|x|)) - 2 + 127 (so the largest value, 6 = 12 / 2, covers
// max|x| up to 8x the power of two below it), each value the nearest codebook entry.
void quantizeRowMxfp4(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / 32; b++, x += 32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++)
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
    const uint8_t e = amax > 0.0f ? (uint8_t)(std::floor(std::log2(amax)) - 2 + 127) : 0;
    const float d = e8m0Half(e);
    uint8_t* blk = dst + (size_t)b * 17;
    blk[0] = e;
    for (int j = 0; j < 16; ++j) blk[1 + j] = (uint8_t)(bestIndexMxfp4(x[j], d) | (bestIndexMxfp4(x[j + 16], d) << 4));
  }
}

}  // namespace loom
