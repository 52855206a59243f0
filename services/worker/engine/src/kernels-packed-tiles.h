// The token and panel tiling of the quantised GEMMs on packed panels (kernels-packed-q8.h, kernels-packed-q4k.h),
// part of kernels-impl.h like them (inside its anonymous namespace; includes nothing). A Tile is a struct with
//   static constexpr int kTokens, kPanels;  // tokens per full micro-tile, panels per group
//   template <int MT, int NP>
//   static void run(const uint8_t* P, size_t pstride, const uint8_t* X, size_t xStride, int nb, float* Y, int ldy,
//                   int nValid);
// run: tokens [0, MT) of X (rows xStride bytes apart, nb blocks each) against the NP panels at P (pstride bytes
// apart) into Y (rows ldy floats apart), storing only the first nValid rows of the panels. Each run call owns its
// (row, token) pairs whole, so neither T nor the panel range changes a bit of any of them.
#pragma once

// The last rem (1 <= rem < MT) tokens: a narrower tile, the same per-pair arithmetic.
template <class Tile, int MT, int NP>
inline void packedTilesTail(int rem, const uint8_t* P, size_t pstride, const uint8_t* X, size_t xStride, int nb,
                            float* Y, int ldy, int nValid) {
  if constexpr (MT > 1) {
    if (rem == MT - 1)
      Tile::template run<MT - 1, NP>(P, pstride, X, xStride, nb, Y, ldy, nValid);
    else
      packedTilesTail<Tile, MT - 1, NP>(rem, P, pstride, X, xStride, nb, Y, ldy, nValid);
  }
}

// All T tokens against the NP panels at P: tiles of Tile::kTokens tokens, the panels' weights staying in cache.
template <class Tile, int NP>
inline void packedTilesPanels(const uint8_t* P, size_t pstride, const uint8_t* X, size_t xStride, int nb, float* Y,
                              int T, int ldy, int nValid) {
  constexpr int MT = Tile::kTokens;
  int t = 0;
  for (; t + MT <= T; t += MT)
    Tile::template run<MT, NP>(P, pstride, X + t * xStride, xStride, nb, Y + (size_t)t * ldy, ldy, nValid);
  if (t < T)
    packedTilesTail<Tile, MT, NP>(T - t, P, pstride, X + t * xStride, xStride, nb, Y + (size_t)t * ldy, ldy, nValid);
}

// Y[t*ldy + n] for the rows n < N of panels [p0, p1) (ps bytes per panel), T tokens of X (xs bytes per token):
// groups of Tile::kPanels panels, then single ones.
template <class Tile>
inline void packedTiles(const uint8_t* P, size_t ps, const uint8_t* X, size_t xs, int nb, float* Y, int T, int ldy,
                        int N, int p0, int p1) {
  constexpr int NP = Tile::kPanels;
  int p = p0;
  for (; p + NP <= p1; p += NP)
    packedTilesPanels<Tile, NP>(P + p * ps, ps, X, xs, nb, Y + p * loom::kPanel, T, ldy, N - p * loom::kPanel);
  for (; p < p1; p++)
    packedTilesPanels<Tile, 1>(P + p * ps, ps, X, xs, nb, Y + p * loom::kPanel, T, ldy, N - p * loom::kPanel);
}
