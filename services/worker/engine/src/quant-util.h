// Small helpers shared by the quantisers (quant-*.cpp), ggml's own where ggml has one, so results
// round exactly as llama.cpp's reference code does. Base x86-64 translation units only.
#pragma once
#include <cstdint>
#include <cstring>

#include "half.h"
#include "quant-blocks.h"

namespace loom::qutil {

constexpr int QK_K = 256;                // values per K-quant / iq4_xs super-block
constexpr float GROUP_MAX_EPS = 1e-15f;  // ggml: a group below this |max| quantises to zeros

// ggml's nearest_int: round to nearest, ties to even, via the 1.5 * 2^23 trick (valid for |f| <= 2^22).
inline int nearestInt(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// The value of largest magnitude among x[0..n), signed (the first one on ties), as ggml's quantisers take it.
inline float signedAbsMax(const float* x, int n) {
  float amax = 0.f, max = 0.f;
  for (int i = 0; i < n; i++) {
    const float ax = x[i] < 0 ? -x[i] : x[i];
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  return max;
}

inline float f16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return loom_f16_to_f32(h);
}
inline void putF16(uint8_t* p, float v) {
  const uint16_t h = loom_f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

}  // namespace loom::qutil
