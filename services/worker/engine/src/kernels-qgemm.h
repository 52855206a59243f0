// The integer block GEMM of kernels-impl.h: q8_0-quantised activations against every block-quantised
// weight format (loom::QFormat). Part of kernels-impl.h (included from it, inside its anonymous namespace,
// after `struct V`; kernels-impl.h includes quant-blocks.h for it); like it, it includes nothing from the
// standard library.
#pragma once

// ---- int8 activations x block-quantised weights (ggml's vec_dot_<type>_<vec_dot_type>) ----
// Activations are quantised per token row (kernels.h QActs: q8_0, q8_1 or q8_K, as llama.cpp pairs them with
// the weight type), into one kQ8ActBytes block [f32 d][4 bytes: two int16 sums, or q8_1's f32 d*sum][32 x int8
// q] per 32 values: the value for (row, token) depends on that token's row only, so the determinism contract
// holds. Weight blocks unpack to 32 int8 values in registers (never to f32), each block's integer dot is exact
// (int32), then scaled by d_w * d_x into one f32 accumulator per (row, token).
constexpr int kQ8Block = 32, kQ8Bytes = 34, kQ8Sums = 4, kQ8Quants = 8;

// 32 values with d = f16(max|x| / 127), q = round-half-even(x * 127 / max|x|), as ggml's quantize_row_q8_0 /
// q8_1 (AVX); returns the unrounded d, for q8_1's sum.
float quantizeBlock32(const float* x, uint8_t* dst) {
  float amax = 0.f;
  for (int i = 0; i < kQ8Block; i++) {
    const float a = x[i] < 0 ? -x[i] : x[i];
    amax = a > amax ? a : amax;
  }
  const float d = amax / 127.f, id = amax != 0.f ? 127.f / amax : 0.f;
  const float dh = loom_f16_to_f32(loom_f32_to_f16(d));
  __builtin_memcpy(dst, &dh, 4);
  int8_t* q = reinterpret_cast<int8_t*>(dst + kQ8Quants);
  for (int i = 0; i < kQ8Block; i++) q[i] = (int8_t)(int)__builtin_nearbyintf(x[i] * id);
  return d;
}
// The int16 sums of quants 0..15 and 16..31 (the K-quants' min terms read them, as ggml's q8_K bsums).
void putSums(uint8_t* dst) {
  const int8_t* q = reinterpret_cast<const int8_t*>(dst + kQ8Quants);
  int16_t sum[2] = {0, 0};
  for (int i = 0; i < kQ8Block; i++) sum[i >> 4] = (int16_t)(sum[i >> 4] + q[i]);
  __builtin_memcpy(dst + kQ8Sums, sum, 4);
}
void quantizeActsQ8_0(const float* x, uint8_t* dst, int K) {
  for (int b = 0; b < K / kQ8Block; b++, x += kQ8Block, dst += loom::kQ8ActBytes) {
    quantizeBlock32(x, dst);
    putSums(dst);
  }
}
// q8_1: ggml's s = f16(d * sum of q), d unrounded, in the sums' place.
void quantizeActsQ8_1(const float* x, uint8_t* dst, int K) {
  for (int b = 0; b < K / kQ8Block; b++, x += kQ8Block, dst += loom::kQ8ActBytes) {
    const float d = quantizeBlock32(x, dst);
    const int8_t* q = reinterpret_cast<const int8_t*>(dst + kQ8Quants);
    int sum = 0;
    for (int i = 0; i < kQ8Block; i++) sum += q[i];
    const float s = loom_f16_to_f32(loom_f32_to_f16(d * (float)sum));
    __builtin_memcpy(dst + kQ8Sums, &s, 4);
  }
}
// q8_K (quantize_row_q8_K_ref): per 256 values iscale = -127 / max (max: the value of largest magnitude),
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale; all zeros when max is 0.
void quantizeActsQ8_K(const float* x, uint8_t* dst, int K) {
  for (int sb = 0; sb < K / 256; sb++, x += 256) {
    float max = 0.f, amax = 0.f;
    for (int i = 0; i < 256; i++) {
      const float a = x[i] < 0 ? -x[i] : x[i];
      if (a > amax) amax = a, max = x[i];
    }
    const float iscale = amax != 0.f ? -127.f / max : 0.f, d = amax != 0.f ? 1 / iscale : 0.f;
    for (int b = 0; b < 8; b++, dst += loom::kQ8ActBytes) {
      __builtin_memcpy(dst, &d, 4);
      int8_t* q = reinterpret_cast<int8_t*>(dst + kQ8Quants);
      for (int i = 0; i < kQ8Block; i++) {
        const int v = (int)__builtin_nearbyintf(iscale * x[32 * b + i]);
        q[i] = (int8_t)(v < 127 ? v : 127);
      }
      putSums(dst);
    }
  }
}

#include "kernels-qblocks.h"

// R weight rows x NT tokens over nb sub-blocks; w[r] and x[j] point at the start of their rows. With
// mins, sum(scale*q - min) * dx * xq = scale*dx * (q . xq) - min * dx * sum(xq): the second term goes
// to its own scalar accumulator, dx * sum(xq) (per 16 values with two mins; q8_1's f16-rounded product
// as ggml uses it) read from the activation block.
template <class B, int R, int NT>
inline void q8tile(const uint8_t* const* w, const uint8_t* x, size_t xStride, int nb, float* y, int ldy) {
  V::qacc acc[R][NT];
  float macc[R][NT];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) acc[r][j] = V::qzero(), macc[r][j] = 0.f;
  for (int b = 0; b < nb; b++) {
    const size_t offX = (size_t)b * loom::kQ8ActBytes;
    float dx[NT], sx[NT][2];
    for (int j = 0; j < NT; j++) {
      const uint8_t* xb = x + (size_t)j * xStride + offX;
      __builtin_memcpy(&dx[j], xb, 4);
      if constexpr (B::kActs == loom::kActQ8_1) {
        __builtin_memcpy(&sx[j][0], xb + kQ8Sums, 4);
      } else if constexpr (B::kMins > 0) {
        int16_t sum[2];
        __builtin_memcpy(sum, xb + kQ8Sums, 4);
        if constexpr (B::kMins == 1)
          sx[j][0] = dx[j] * (float)(sum[0] + sum[1]);
        else
          sx[j][0] = dx[j] * (float)sum[0], sx[j][1] = dx[j] * (float)sum[1];
      }
    }
    for (int r = 0; r < R; r++) {
      float scale[2], min[2];
      V::qw qw;
      B::load(w[r], b, scale, min, qw);
      for (int j = 0; j < NT; j++) {
        const int8_t* xq = reinterpret_cast<const int8_t*>(x + (size_t)j * xStride + offX + kQ8Quants);
        if constexpr (B::kScales == 2)
          acc[r][j] = V::template qdot2<B::kUnsigned>(qw, xq, scale[0] * dx[j], scale[1] * dx[j], acc[r][j]);
        else
          acc[r][j] = V::template qdot<B::kUnsigned>(qw, xq, scale[0] * dx[j], acc[r][j]);
        if constexpr (B::kMins == 1) macc[r][j] += min[0] * sx[j][0];
        if constexpr (B::kMins == 2) macc[r][j] += min[0] * sx[j][0] + min[1] * sx[j][1];
      }
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) y[(size_t)j * ldy + r] = V::qhsum(acc[r][j]) - macc[r][j];
}

template <class B, int R, int NT>
inline void q8tail(int rem, const uint8_t* const* w, const uint8_t* x, size_t xs, int nb, float* y, int ldy) {
  if constexpr (NT > 1) {
    if (rem == NT - 1)
      q8tile<B, R, NT - 1>(w, x, xs, nb, y, ldy);
    else
      q8tail<B, R, NT - 1>(rem, w, x, xs, nb, y, ldy);
  }
}

template <class B, int R>
inline void q8rows(const uint8_t* const* w, const uint8_t* X, size_t xs, int nb, float* Y, int T, int ldy, int n) {
  int t = 0;
  for (; t + V::QNT <= T; t += V::QNT)
    q8tile<B, R, V::QNT>(w, X + (size_t)t * xs, xs, nb, Y + (size_t)t * ldy + n, ldy);
  if (t < T) q8tail<B, R, V::QNT>(T - t, w, X + (size_t)t * xs, xs, nb, Y + (size_t)t * ldy + n, ldy);
}

// Y[t*ldy + n] = W row n . Xq row t for n in [n0, n1); W in block format B; Xq: [T][K/32 blocks] from
// KernelSet::quantizeActs.
template <class B>
void gemmBlocksQ8(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                  int n1) {
  const int nb = K / kQ8Block;
  const size_t xs = (size_t)nb * loom::kQ8ActBytes;
  int n = n0;
  for (; n + V::QR <= n1; n += V::QR) {
    const uint8_t* w[V::QR];
    for (int r = 0; r < V::QR; r++) w[r] = W + (size_t)(n + r) * rowBytes;
    q8rows<B, V::QR>(w, Xq, xs, nb, Y, T, ldy, n);
  }
  for (; n < n1; n++) {
    const uint8_t* w = W + (size_t)n * rowBytes;
    q8rows<B, 1>(&w, Xq, xs, nb, Y, T, ldy, n);
  }
}

// In loom::QFormat order, each with the activation kind its format pairs with.
template <class B>
constexpr loom::IntegerGemm entry() {
  return {gemmBlocksQ8<B>, (loom::QActs)B::kActs};
}
constexpr loom::IntegerGemm kQGemms[] = {
    entry<BlockQ8_0>(),  entry<BlockQ4_0>(),  entry<BlockQ4_1>(), entry<BlockQ5_0>(), entry<BlockQ5_1>(),
    entry<BlockQ2_K>(),  entry<BlockQ3_K>(),  entry<BlockQ4_K>(), entry<BlockQ5_K>(), entry<BlockQ6_K>(),
    entry<BlockIq4Nl>(), entry<BlockIq4Xs>(), entry<BlockMxfp4>()};
static_assert(sizeof kQGemms / sizeof kQGemms[0] == loom::kQFormatCount, "one integer GEMM per QFormat");
