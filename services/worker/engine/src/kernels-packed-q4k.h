// The q4_K GEMM on packed panels (kernels.h PackedQGemmFn, layout at packQ4_KPanels), part of kernels-impl.h in the
// TUs whose vector traits define `struct PQ4` (AVX2, AVX-512; inside its anonymous namespace, including nothing).
// PQ4: integer registers `ireg` of PQ4::L int32 lanes, one weight row each, so a kPanel-row panel spans
// H = kPanel / L registers; dpbusd(acc, u8, s8) adds the products of 4 byte pairs into each int32 lane (vpdpbusd,
// or maddubs + madd where there is no VNNI: exact too, as |u8| <= 15 keeps maddubs' int16 pairs far from saturating).
//
// Per (row, token) and 256-value super-block, with sc_j / m_j the row's 6-bit scale / min of sub-block j, q its
// nibbles and x the token's q8_K quants (d_x per super-block, bs_j their sum over sub-block j):
//   y += d * d_x * sum_j sc_j * (q_j . x_j)  -  dmin * d_x * sum_j m_j * bs_j
// both sums exact in int32 (|sum_j sc_j q_j.x_j| <= 8 * 63 * 32 * 15 * 127, < 2^31 even 16 times over), then each
// one f32 multiply-add into the lane's accumulator, min term first, super-blocks in order: the value for (row, token)
// depends on its row and token only, so the determinism contract holds (the bits differ from the row GEMM's, which
// scales per block).
#pragma once
#include "kernels-packed-tiles.h"

// The micro-tile that kernels-packed-tiles.h drives.
struct PQ4Tile {
  static constexpr int kTokens = PQ4::MT, kPanels = loom::kPackedQ4KPanelGroup;

  // Tokens [0, MT) against the NP panels at P (pstride bytes apart); X: q8_K rows xStride bytes apart; nsb
  // super-blocks.
  template <int MT, int NP>
  static void run(const uint8_t* P, size_t pstride, const uint8_t* X, size_t xStride, int nsb, float* Y, int ldy,
                  int nValid) {
    using I = PQ4::ireg;
    using F = PQ4::freg;
    constexpr int H = loom::kPanel / PQ4::L, NR = NP * H;  // registers per token row of the tile
    // kHigh16: the high nibbles are only masked (so stand for 16 x their value) and go to a chain of their own, one op
    // fewer per weight register; else they are shifted down, and short tiles still split the dot in two chains.
    constexpr bool H16 = PQ4::kHigh16;
    constexpr int C = H16 || MT * NR < 4 ? 2 : 1;
    const I low4 = PQ4::set1(0x0F0F0F0F), high4 = PQ4::set1((int)0xF0F0F0F0u);
    F acc[MT][NR];
    for (int t = 0; t < MT; t++)
      for (int i = 0; i < NR; i++) acc[t][i] = PQ4::fzero();
    for (int s = 0; s < nsb; s++) {
      const uint8_t* blk = P + (size_t)s * loom::kPackedQ4KBlock;
      const uint8_t* xs = X + (size_t)s * 8 * loom::kQ8ActBytes;  // sub-block j: xs + j * kQ8ActBytes
      // Min term: m_j paired in int16 (m_j, m_j) against the activation block's int16 sums (of values 0..15, 16..31).
      I summ[MT][NR];
      for (int t = 0; t < MT; t++)
        for (int i = 0; i < NR; i++) summ[t][i] = PQ4::izero();
      for (int j = 0; j < 8; j++) {
        I m[NR];
        for (int i = 0; i < NR; i++) {
          const I v = PQ4::u8to32(blk + (i / H) * pstride + loom::kPQ4Mins + j * loom::kPanel + (i % H) * PQ4::L);
          m[i] = PQ4::or_(v, PQ4::shl32(v, 16));
        }
        for (int t = 0; t < MT; t++) {
          const I bs = PQ4::bcast4(xs + t * xStride + j * loom::kQ8ActBytes + 4);
          for (int i = 0; i < NR; i++) summ[t][i] = PQ4::dpwssd(summ[t][i], m[i], bs);
        }
      }
      F dmin[NR], d[NR];
      for (int i = 0; i < NR; i++) {
        dmin[i] = PQ4::f16x(blk + (i / H) * pstride + loom::kPQ4Dmin + (i % H) * PQ4::L * 2);
        d[i] = PQ4::f16x(blk + (i / H) * pstride + loom::kPQ4D + (i % H) * PQ4::L * 2);
      }
      float dx[MT];
      for (int t = 0; t < MT; t++) {
        __builtin_memcpy(&dx[t], xs + t * xStride, 4);
        const F vdx = PQ4::fset1(dx[t]);
        for (int i = 0; i < NR; i++) acc[t][i] = PQ4::fnma(PQ4::cvt(summ[t][i]), PQ4::fmul(dmin[i], vdx), acc[t][i]);
      }
      // Scale term: per sub-block an exact int32 dot per lane, times the lane's scale, summed over the super-block.
      I sumi[MT][NR];
      for (int t = 0; t < MT; t++)
        for (int i = 0; i < NR; i++) sumi[t][i] = PQ4::izero();
      for (int j = 0; j < 8; j++) {
        I dot[C][MT][NR];
        for (int c = 0; c < C; c++)
          for (int t = 0; t < MT; t++)
            for (int i = 0; i < NR; i++) dot[c][t][i] = PQ4::izero();
        const uint8_t* xq = xs + j * loom::kQ8ActBytes + 8;
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
          I lo[NR], hi[NR];
          for (int i = 0; i < NR; i++) {
            const I w = PQ4::load(blk + (i / H) * pstride + (j * 4 + g) * 4 * loom::kPanel + (i % H) * PQ4::L * 4);
            lo[i] = PQ4::and_(w, low4);
            hi[i] = H16 ? PQ4::and_(w, high4) : PQ4::and_(PQ4::shr16(w, 4), low4);
          }
          for (int t = 0; t < MT; t++) {
            const I xl = PQ4::bcast4(xq + t * xStride + 4 * g), xh = PQ4::bcast4(xq + t * xStride + 16 + 4 * g);
            for (int i = 0; i < NR; i++) {
              dot[0][t][i] = PQ4::dpbusd(dot[0][t][i], lo[i], xl);
              dot[C - 1][t][i] = PQ4::dpbusd(dot[C - 1][t][i], hi[i], xh);
            }
          }
        }
        I sc[NR];
        for (int i = 0; i < NR; i++)
          sc[i] = PQ4::u8to32(blk + (i / H) * pstride + loom::kPQ4Scales + j * loom::kPanel + (i % H) * PQ4::L);
        for (int t = 0; t < MT; t++)
          for (int i = 0; i < NR; i++) {
            const I dt = H16      ? PQ4::add32(PQ4::shl32(dot[0][t][i], 4), dot[1][t][i])  // 16 x the dot
                         : C == 2 ? PQ4::add32(dot[0][t][i], dot[C - 1][t][i])
                                  : dot[0][t][i];
            sumi[t][i] = PQ4::add32(sumi[t][i], PQ4::mul32(dt, sc[i]));
          }
      }
      for (int t = 0; t < MT; t++) {  // H16: sumi is 16 x the sum, so d_x / 16 (exact, and so is every product after)
        const F vdx = PQ4::fset1(H16 ? dx[t] * 0.0625f : dx[t]);
        for (int i = 0; i < NR; i++) acc[t][i] = PQ4::fma(PQ4::cvt(sumi[t][i]), PQ4::fmul(d[i], vdx), acc[t][i]);
      }
    }
    for (int t = 0; t < MT; t++)
      for (int i = 0; i < NR; i++) PQ4::store(Y + (size_t)t * ldy + i * PQ4::L, acc[t][i], nValid - i * PQ4::L);
  }
};

// Y[t*ldy + n] for the rows n < N of panels [p0, p1); X: [T][K/32][kQ8ActBytes] q8_K activations.
void gemmPackedQ4_K(const uint8_t* P, const uint8_t* X, float* Y, int K, int T, int ldy, int N, int p0, int p1) {
  const int nsb = K / 256;
  packedTiles<PQ4Tile>(P, (size_t)nsb * loom::kPackedQ4KBlock, X, (size_t)nsb * 8 * loom::kQ8ActBytes, nsb, Y, T, ldy,
                       N, p0, p1);
}
