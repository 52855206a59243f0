// q4_0: 32 values per block, one f16 scale, 4-bit quants offset by 8 (see quant.h for the layout).
#include <cmath>
#include <cstring>

#include "half.h"
#include "quant.h"

namespace loom {

void dequantRowQ4_0(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / 32; b++) {
    const uint8_t* blk = src + (size_t)b * 18;
    uint16_t dh;
    std::memcpy(&dh, blk, 2);
    const float d = loom_f16_to_f32(dh);
    const uint8_t* qs = blk + 2;
    float* y = dst + (size_t)b * 32;
    for (int j = 0; j < 16; j++) {
      y[j] = (float)((qs[j] & 0x0F) - 8) * d;
      y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
  }
}

// quantize_row_q4_0_ref: d = (value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)).
void quantizeRowQ4_0(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / 32; b++) {
    const float* xb = x + (size_t)b * 32;
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < 32; j++) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 18;
    const uint16_t dh = loom_f32_to_f16(d);
    std::memcpy(blk, &dh, 2);
    for (int j = 0; j < 16; j++) {
      const float x0 = xb[j] * id, x1 = xb[j + 16] * id;
      const int q0 = (int8_t)(x0 + 8.5f) < 15 ? (int8_t)(x0 + 8.5f) : 15;
      const int q1 = (int8_t)(x1 + 8.5f) < 15 ? (int8_t)(x1 + 8.5f) : 15;
      blk[2 + j] = (uint8_t)((uint8_t)q0 | ((uint8_t)q1 << 4));
    }
  }
}

}  // namespace loom
