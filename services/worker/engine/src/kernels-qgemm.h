// The integer block GEMM of kernels-impl.h: q8_0-quantised activations against q8_0, q4_0, q4_K and
// q6_K weight blocks. Part of kernels-impl.h (included from it, inside its anonymous namespace, after
// `struct V`); like it, it includes nothing from the standard library.
#pragma once

// ---- q8_0 activations x block-quantised weights (ggml's vec_dot_*_q8_0) ----
// A weight block is [f16 d][32 x int8 q] (34 bytes). Activations are quantised per token row and per
// 32-block (d = max|x| / 127, q = round-half-even(x / d), as ggml's quantize_row_q8_0) into
// [f16 d][int16 sum q][32 x int8 q] (kQ8ActBytes): the value for (row, token) depends on that token's
// row only, so the determinism contract holds. Each block's integer dot is exact (int32), then scaled
// by d_w * d_x into one f32 accumulator per (row, token).
constexpr int kQ8Block = 32, kQ8Bytes = 34, kQ8Sum = 2, kQ8Quants = 4;

void quantizeQ8_0(const float* x, uint8_t* dst, int K) {
  for (int b = 0; b < K / kQ8Block; b++, x += kQ8Block, dst += loom::kQ8ActBytes) {
    float amax = 0.f;
    for (int i = 0; i < kQ8Block; i++) {
      const float a = x[i] < 0 ? -x[i] : x[i];
      amax = a > amax ? a : amax;
    }
    const float d = amax / 127.f, id = amax != 0.f ? 127.f / amax : 0.f;
    const uint16_t dh = loom_f32_to_f16(d);
    __builtin_memcpy(dst, &dh, 2);
    int8_t* q = reinterpret_cast<int8_t*>(dst + kQ8Quants);
    int16_t sum = 0;
    for (int i = 0; i < kQ8Block; i++) sum = (int16_t)(sum + (q[i] = (int8_t)(int)__builtin_nearbyintf(x[i] * id)));
    __builtin_memcpy(dst + kQ8Sum, &sum, 2);
  }
}

// Weight formats of the integer GEMM, one 32-value sub-block b of a row at a time: load() gives its
// scale (or, with kSplit, one per 16 values), min and 32 quants (V::qw), value = scale * q - min. q8_0 stores int8
// quants as is; q4_0 nibbles offset by 8 (low nibble = value j, high = value j + 16); q4_K 256-value super-blocks of
// [f16 d][f16 dmin][12 bytes of 6-bit (scale, min) per sub-block][128 bytes of nibbles: sub-blocks
// 2p and 2p+1 are the low and high nibbles of bytes 32p..32p+31], unsigned, with a min. All unpack to
// the same int8 form, so one tile serves them and the integer dot stays exact.
struct BlockQ8_0 {
  static constexpr bool kHasMin = false, kSplit = false;
  static void load(const uint8_t* row, int b, float* scale, float&, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * kQ8Bytes;
    scale[0] = V::f16(wb);
    q = V::prepQ(reinterpret_cast<const int8_t*>(wb + 2));
  }
};
struct BlockQ4_0 {
  static constexpr bool kHasMin = false, kSplit = false;
  static void load(const uint8_t* row, int b, float* scale, float&, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 18;
    scale[0] = V::f16(wb);
    q = V::prepQ4(wb + 2);
  }
};
struct BlockQ4_K {
  static constexpr bool kHasMin = true, kSplit = false;
  static void load(const uint8_t* row, int b, float* scale, float& min, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 144;
    const int j = b & 7;
    const uint8_t* sc = sb + 4;
    // ggml's get_scale_min_k4
    const int s = j < 4 ? sc[j] & 63 : (sc[j + 4] & 0xF) | ((sc[j - 4] >> 6) << 4);
    const int m = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
    scale[0] = V::f16(sb) * (float)s;
    min = V::f16(sb + 2) * (float)m;
    q = V::prepNibbles(sb + 16 + 32 * (j >> 1), j & 1);
  }
};
// q6_K: 256-value super-blocks [128 x u8 ql: low 4 bits][64 x u8 qh: high 2 bits][16 x int8 scales]
// [f16 d], value = d * scale * (q - 32), one scale per 16 values (so two per 32-value sub-block:
// kSplit). Sub-block j of a super-block: half h = j / 4 (128 values: ql + 64h, qh + 32h, scales +
// 8h), group g = j % 4 within it: ql bytes 0..31 (g even) or 32..63 (g odd), their low (g < 2) or
// high nibbles, qh bits 2g..2g+1, scales 2g and 2g + 1 (ggml's dequantize_row_q6_K).
struct BlockQ6_K {
  static constexpr bool kHasMin = false, kSplit = true;
  static void load(const uint8_t* row, int b, float* scale, float&, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 210;
    const int h = (b & 7) >> 2, g = b & 3;
    const int8_t* sc = reinterpret_cast<const int8_t*>(sb + 192 + 8 * h);
    const float d = V::f16(sb + 208);
    scale[0] = d * (float)sc[2 * g];
    scale[1] = d * (float)sc[2 * g + 1];
    q = V::prepQ6(sb + 64 * h + 32 * (g & 1), sb + 128 + 32 * h, g >> 1, 2 * g);
  }
};

// R weight rows x NT tokens over nb sub-blocks; w[r] and x[j] point at the start of their rows. With
// a min, sum(scale*q - min) * dx * xq = scale*dx * (q . xq) - min * dx * sum(xq): the second term
// goes to its own scalar accumulator, sum(xq) read from the activation block (quantizeQ8_0 made it).
template <class B, int R, int NT>
inline void q8tile(const uint8_t* const* w, const uint8_t* x, size_t xStride, int nb, float* y, int ldy) {
  V::qacc acc[R][NT];
  float macc[R][NT];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) acc[r][j] = V::qzero(), macc[r][j] = 0.f;
  for (int b = 0; b < nb; b++) {
    const size_t offX = (size_t)b * loom::kQ8ActBytes;
    float dx[NT], sx[NT];
    for (int j = 0; j < NT; j++) {
      const uint8_t* xb = x + (size_t)j * xStride + offX;
      dx[j] = V::f16(xb);
      if constexpr (B::kHasMin) {
        int16_t sum;
        __builtin_memcpy(&sum, xb + kQ8Sum, 2);
        sx[j] = dx[j] * (float)sum;
      }
    }
    for (int r = 0; r < R; r++) {
      float scale[2], min = 0.f;
      V::qw qw;
      B::load(w[r], b, scale, min, qw);
      for (int j = 0; j < NT; j++) {
        const int8_t* xq = reinterpret_cast<const int8_t*>(x + (size_t)j * xStride + offX + kQ8Quants);
        if constexpr (B::kSplit)
          acc[r][j] = V::qdot2(qw, xq, scale[0] * dx[j], scale[1] * dx[j], acc[r][j]);
        else
          acc[r][j] = V::qdot(qw, xq, scale[0] * dx[j], acc[r][j]);
        if constexpr (B::kHasMin) macc[r][j] += min * sx[j];
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

// Y[t*ldy + n] = W row n . Xq row t for n in [n0, n1); W in block format B; Xq: [T][K/32 blocks] from quantizeQ8_0.
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
void gemmQ8_0Q8(const uint8_t* W, size_t rb, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemmBlocksQ8<BlockQ8_0>(W, rb, Xq, Y, K, T, ldy, n0, n1);
}
void gemmQ4_0Q8(const uint8_t* W, size_t rb, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemmBlocksQ8<BlockQ4_0>(W, rb, Xq, Y, K, T, ldy, n0, n1);
}
void gemmQ4_KQ8(const uint8_t* W, size_t rb, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemmBlocksQ8<BlockQ4_K>(W, rb, Xq, Y, K, T, ldy, n0, n1);
}
void gemmQ6_KQ8(const uint8_t* W, size_t rb, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemmBlocksQ8<BlockQ6_K>(W, rb, Xq, Y, K, T, ldy, n0, n1);
}
