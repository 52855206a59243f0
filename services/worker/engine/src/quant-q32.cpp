// The 32-value block types q4_0, q4_1, q5_0 and q5_1 (layouts in quant.h): exact scalar dequantisation and
// ports of ggml's quantize_row_<type>_ref, float operation for float operation.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quant-util.h"
#include "quant.h"

namespace loom {

using qutil::f16At;
using qutil::putF16;

namespace {
constexpr int QK = 32;

void minMax(const float* x, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < QK; j++) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}
// 5th bits of the 32 quants, bit j for value j (low nibbles are values 0..15, high nibbles 16..31).
uint32_t highBits(const uint8_t* p) {
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  return qh;
}
}  // namespace

void dequantRowQ4_0(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / QK; b++, dst += QK) {
    const uint8_t* blk = src + (size_t)b * 18;
    const float d = f16At(blk);
    const uint8_t* qs = blk + 2;
    for (int j = 0; j < 16; j++) {
      dst[j] = (float)((qs[j] & 0x0F) - 8) * d;
      dst[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantRowQ4_1(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / QK; b++, dst += QK) {
    const uint8_t* blk = src + (size_t)b * 20;
    const float d = f16At(blk), m = f16At(blk + 2);
    const uint8_t* qs = blk + 4;
    for (int j = 0; j < 16; j++) {
      dst[j] = (float)(qs[j] & 0x0F) * d + m;
      dst[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
  }
}

void dequantRowQ5_0(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / QK; b++, dst += QK) {
    const uint8_t* blk = src + (size_t)b * 22;
    const float d = f16At(blk);
    const uint32_t qh = highBits(blk + 2);
    const uint8_t* qs = blk + 6;
    for (int j = 0; j < 16; j++) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      dst[j] = (float)(((qs[j] & 0x0F) | h0) - 16) * d;
      dst[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequantRowQ5_1(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / QK; b++, dst += QK) {
    const uint8_t* blk = src + (size_t)b * 24;
    const float d = f16At(blk), m = f16At(blk + 2);
    const uint32_t qh = highBits(blk + 4);
    const uint8_t* qs = blk + 8;
    for (int j = 0; j < 16; j++) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      dst[j] = (float)((qs[j] & 0x0F) | h0) * d + m;
      dst[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
    }
  }
}

// quantize_row_q4_0_ref: d = (value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)).
void quantizeRowQ4_0(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / QK; b++, x += QK) {
    const float d = qutil::signedAbsMax(x, QK) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 18;
    putF16(blk, d);
    for (int j = 0; j < 16; j++) {
      const int q0 = std::min(15, (int)(int8_t)(x[j] * id + 8.5f));
      const int q1 = std::min(15, (int)(int8_t)(x[j + 16] * id + 8.5f));
      blk[2 + j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

// quantize_row_q4_1_ref: d = (max - min) / 15, m = min, q = min(15, trunc((x - min) / d + 0.5)).
void quantizeRowQ4_1(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / QK; b++, x += QK) {
    float min, max;
    minMax(x, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 20;
    putF16(blk, d);
    putF16(blk + 2, min);
    for (int j = 0; j < 16; j++) {
      const int q0 = std::min(15, (int)(int8_t)((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, (int)(int8_t)((x[j + 16] - min) * id + 0.5f));
      blk[4 + j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

// quantize_row_q5_0_ref: d = (value of largest magnitude) / -16, q = min(31, trunc(x / d + 16.5)).
void quantizeRowQ5_0(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / QK; b++, x += QK) {
    const float d = qutil::signedAbsMax(x, QK) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 22;
    putF16(blk, d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
      const uint8_t q0 = (uint8_t)std::min(31, (int)(int8_t)(x[j] * id + 16.5f));
      const uint8_t q1 = (uint8_t)std::min(31, (int)(int8_t)(x[j + 16] * id + 16.5f));
      blk[6 + j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(blk + 2, &qh, 4);
  }
}

// quantize_row_q5_1_ref: d = (max - min) / 31, m = min, q = trunc((x - min) / d + 0.5).
void quantizeRowQ5_1(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / QK; b++, x += QK) {
    float min, max;
    minMax(x, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 24;
    putF16(blk, d);
    putF16(blk + 2, min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
      const uint8_t q0 = (uint8_t)((x[j] - min) * id + 0.5f);
      const uint8_t q1 = (uint8_t)((x[j + 16] - min) * id + 0.5f);
      blk[8 + j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(blk + 4, &qh, 4);
  }
}

}  // namespace loom
