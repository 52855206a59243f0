// Field accessors of ggml's block layouts (quant.h) shared by the quantisers and the kernel sets, and the
// non-linear 4-bit codebooks. Everything is `static` (internal linkage) and nothing from the C++ standard
// library is included: kernel translation units built with AVX flags include this (see half.h).
#pragma once
#include <stdint.h>

namespace loom {

// iq4_nl / iq4_xs codebook (ggml's kvalues_iq4nl): a 4-bit index q stands for kIq4nlValues[q] * scale.
static constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
// MXFP4: e2m1 values doubled (ggml's kvalues_mxfp4), so the e8m0 block scale is halved to match.
static constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// q4_K / q5_K: 6-bit (scale, min) pair j (0..7) of the 12 packed scale bytes q (ggml's get_scale_min_k4).
static inline void scaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// q3_K: signed 6-bit scale j (0..15) of the 12 scale bytes: low 4 bits in byte j % 8 (its low nibble for
// j < 8), high 2 bits in byte 8 + j % 4 at bit 2 * (j / 4), stored + 32.
static inline int q3kScale(const uint8_t* scales, int j) {
  const int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  return (lo | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

// iq4_xs: signed 6-bit scale of sub-block ib (0..7) of a block (scales_h at +2, scales_l at +4), stored + 32.
static inline int iq4xsScale(const uint8_t* blk, int ib) {
  const int sh = blk[2] | (blk[3] << 8);
  return (((blk[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((sh >> 2 * ib) & 3) << 4)) - 32;
}

// MXFP4: 2^(e - 128), half the e8m0 scale 2^(e - 127) (ggml's GGML_E8M0_TO_FP32_HALF).
static inline float e8m0Half(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

}  // namespace loom
