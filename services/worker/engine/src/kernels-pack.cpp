// The packed-panel layout of f32 weights (kernels.h packF32Panels), built with base x86-64 flags: it runs once
// at load, so plain loops suffice.
#include <cstring>

#include "kernels.h"

namespace loom {

void packF32Panels(const uint8_t* W, size_t rowBytes, int N, int K, float* dst, int p0, int p1) {
  for (int p = p0; p < p1; p++) {
    float* panel = dst + (size_t)p * K * kPanel;  // [K][kPanel]
    for (int l = 0; l < kPanel; l++) {
      const int n = p * kPanel + l;
      if (n >= N) {
        for (int k = 0; k < K; k++) panel[(size_t)k * kPanel + l] = 0.f;
        continue;
      }
      const uint8_t* row = W + (size_t)n * rowBytes;
      for (int k = 0; k < K; k++) std::memcpy(&panel[(size_t)k * kPanel + l], row + (size_t)k * 4, 4);
    }
  }
}

}  // namespace loom
