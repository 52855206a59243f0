// The packed-panel layout of f32 weights (kernels.h packF32Panels), built with base x86-64 flags: it runs once
// at load, so plain loops suffice; likewise the packed q8_0 and q4_K panels (packQ8_0Panels, packQ4_KPanels).
#include <cstring>

#include "half.h"
#include "kernels.h"
#include "quant-blocks.h"

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

void packQ8_0Panels(const uint8_t* W, size_t rowBytes, int N, int K, uint8_t* dst, int p0, int p1) {
  const int nb = K / 32;
  constexpr size_t kBlock = 8 * 64 + 2 * 4 * kPanel;  // kernels.h packedQ8_0Bytes
  for (int p = p0; p < p1; p++)
    for (int b = 0; b < nb; b++) {
      uint8_t* out = dst + ((size_t)p * nb + b) * kBlock;
      float* scale = reinterpret_cast<float*>(out + 8 * 64);
      int32_t* corr = reinterpret_cast<int32_t*>(out + 8 * 64 + 4 * kPanel);
      for (int l = 0; l < kPanel; l++) {
        const int n = p * kPanel + l;
        const uint8_t* blk = n < N ? W + (size_t)n * rowBytes + (size_t)b * 34 : nullptr;  // [f16 d][32 x int8]
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) {
          const int8_t q = blk ? (int8_t)blk[2 + i] : 0;
          out[(i / 4) * 64 + l * 4 + i % 4] = (uint8_t)q;
          sum += q;
        }
        uint16_t d = 0;
        if (blk) std::memcpy(&d, blk, 2);
        scale[l] = loom_f16_to_f32(d);
        corr[l] = 128 * sum;
      }
    }
}

void packQ4_KPanels(const uint8_t* W, size_t rowBytes, int N, int K, uint8_t* dst, int p0, int p1) {
  const int nsb = K / 256;
  for (int p = p0; p < p1; p++)
    for (int s = 0; s < nsb; s++) {
      uint8_t* out = dst + ((size_t)p * nsb + s) * kPackedQ4KBlock;
      std::memset(out, 0, kPackedQ4KBlock);
      for (int l = 0; l < kPanel; l++) {
        const int n = p * kPanel + l;
        if (n >= N) continue;
        // ggml's block: [f16 d][f16 dmin][12 scale bytes][128 qs]; sub-block j's value i is nibble j % 2 of qs byte
        // 32 (j / 2) + i.
        const uint8_t* blk = W + (size_t)n * rowBytes + (size_t)s * 144;
        for (int j = 0; j < 8; j++) {
          uint8_t sc, m;
          scaleMinK4(j, blk + 4, &sc, &m);
          out[kPQ4Scales + j * kPanel + l] = sc;
          out[kPQ4Mins + j * kPanel + l] = m;
          const uint8_t* qs = blk + 16 + 32 * (j / 2);
          for (int g = 0; g < 4; g++)
            for (int i = 0; i < 4; i++) {
              const int lo = (qs[4 * g + i] >> (4 * (j % 2))) & 0xF, hi = (qs[16 + 4 * g + i] >> (4 * (j % 2))) & 0xF;
              out[((j * 4 + g) * kPanel + l) * 4 + i] = (uint8_t)(lo | hi << 4);
            }
        }
        std::memcpy(out + kPQ4D + 2 * l, blk, 2);         // d
        std::memcpy(out + kPQ4Dmin + 2 * l, blk + 2, 2);  // dmin
      }
    }
}

}  // namespace loom
