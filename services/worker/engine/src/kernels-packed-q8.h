// The q8_0 GEMM on packed panels with VNNI (kernels.h PackedQGemmFn), part of kernels-impl.h in the TUs that
// define LOOM_AVX512_VNNI (inside its anonymous namespace; includes nothing from the standard library).
// vpdpbusd multiplies unsigned by signed bytes, so each activation byte goes in as x + 128 and the panel carries,
// per (row, block), 128 * sum(w) to take off: the block's integer dot stays exact. Then per block one
// multiply-add acc = float(dot) * (d_w * d_x) + acc per (row, token), in block order: the determinism contract
// holds (the bits differ from the row GEMM's, which sums per lane first).
#pragma once
#include "kernels-packed-tiles.h"

constexpr int kPQ8Group = 64;                               // 16 rows x 4 bytes: one vpdpbusd operand
constexpr int kPQ8Block = 8 * kPQ8Group + 16 * 4 + 16 * 4;  // w groups, f32 d_w, int32 128 * sum(w)

// The micro-tile that kernels-packed-tiles.h drives.
struct PQ8Tile {
  static constexpr int kTokens = 6, kPanels = 2;

  // Tokens [0, MT) against the NP panels at P (pstride bytes apart); X: q8_0 rows xStride bytes apart; nb blocks.
  template <int MT, int NP>
  static void run(const uint8_t* P, size_t pstride, const uint8_t* X, size_t xStride, int nb, float* Y, int ldy,
                  int nValid) {
    __m512 acc[MT][NP];
    for (int t = 0; t < MT; t++)
      for (int p = 0; p < NP; p++) acc[t][p] = _mm512_setzero_ps();
    const __m512i bias = _mm512_set1_epi32((int)0x80808080u);
    for (int b = 0; b < nb; b++) {
      const uint8_t* blk = P + (size_t)b * kPQ8Block;
      const uint8_t* xb = X + (size_t)b * loom::kQ8ActBytes;
      __m512i dot[MT][NP];
      for (int t = 0; t < MT; t++)
        for (int p = 0; p < NP; p++) dot[t][p] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int g = 0; g < 8; g++) {
        __m512i w[NP];
        for (int p = 0; p < NP; p++) w[p] = _mm512_loadu_si512(blk + p * pstride + g * kPQ8Group);
#pragma GCC unroll 8
        for (int t = 0; t < MT; t++) {
          int x4;
          __builtin_memcpy(&x4, xb + t * xStride + 8 + 4 * g, 4);
          const __m512i xv = _mm512_xor_si512(_mm512_set1_epi32(x4), bias);
          for (int p = 0; p < NP; p++) dot[t][p] = _mm512_dpbusd_epi32(dot[t][p], xv, w[p]);
        }
      }
      __m512 dw[NP];
      __m512i corr[NP];
      for (int p = 0; p < NP; p++) {
        dw[p] = _mm512_loadu_ps(reinterpret_cast<const float*>(blk + p * pstride + 8 * kPQ8Group));
        corr[p] = _mm512_loadu_si512(blk + p * pstride + 8 * kPQ8Group + 64);
      }
      for (int t = 0; t < MT; t++) {
        float dx;
        __builtin_memcpy(&dx, xb + t * xStride, 4);
        const __m512 d = _mm512_set1_ps(dx);
        for (int p = 0; p < NP; p++)
          acc[t][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(dot[t][p], corr[p])), _mm512_mul_ps(dw[p], d),
                                      acc[t][p]);
      }
    }
    for (int t = 0; t < MT; t++)
      for (int p = 0; p < NP; p++) {
        const int n0 = p * loom::kPanel;
        if (n0 + loom::kPanel <= nValid) {
          _mm512_storeu_ps(Y + (size_t)t * ldy + n0, acc[t][p]);
        } else if (n0 < nValid) {
          _mm512_mask_storeu_ps(Y + (size_t)t * ldy + n0, (__mmask16)((1u << (nValid - n0)) - 1), acc[t][p]);
        }
      }
  }
};

// Y[t*ldy + n] for the rows n < N of panels [p0, p1); X: [T][K/32][kQ8ActBytes] q8_0 activations.
void gemmPackedQ8_0(const uint8_t* P, const uint8_t* X, float* Y, int K, int T, int ldy, int N, int p0, int p1) {
  const int nb = K / 32;
  packedTiles<PQ8Tile>(P, (size_t)nb * kPQ8Block, X, (size_t)nb * loom::kQ8ActBytes, nb, Y, T, ldy, N, p0, p1);
}
