// AVX512-BF16 kernels: the avx512vnni set with the bf16-weight GEMM on vdpbf16ps (32 bf16 products per
// op, f32 accumulation). Compiled with the avx512 flags plus -mavx512vnni -mavx512bf16.
//
// Accuracy: vdpbf16ps multiplies bf16 by bf16, so the f32 activations must become bf16. Rounding them
// once (llama.cpp's ggml_vec_dot_bf16) would move logits by ~1e-3 relative and break the 1e-5 contract
// with the float64 reference that the other sets keep for bf16 weights. Instead each activation is split
// as x = hi + lo with hi = bf16(x), lo = bf16(x - hi) (round to nearest even): |x - hi - lo| <= 2^-16 |x|,
// and both products are exact in f32 (8-bit x 8-bit significands), so the only extra error is that
// representation error. Two dpbf16 per 32 elements is the same FMA-port work as the f32-widening path;
// what goes away is widening every weight (zero-extend + shift per 16 weights, per tile row).
// Determinism: the split depends on the token's own row only; each (row, token) pair has one accumulator
// over the 32-element chunks (hi then lo), then hsum and a scalar tail, whatever T and [n0, n1) are.
#define LOOM_AVX512_NAME "avx512bf16"
#define LOOM_AVX512_VNNI 1
#include "kernels-avx512-traits.h"
#include "kernels-impl.h"

#include <stdlib.h>  // C allocation only: no C++ library templates in an AVX-512 TU (see kernels-impl.h)

namespace {

constexpr int kChunk = 32;  // bf16 elements per vdpbf16ps

// Per-thread split of X, [T][K/32][hi 32 | lo 32] bf16. Grows to the largest step's need and is then
// reused, so steady-state steps allocate nothing. Pool threads and libuv workers are long-lived.
struct SplitScratch {
  uint16_t* p;
  size_t cap;  // elements
};
thread_local SplitScratch tSplit = {nullptr, 0};

inline __m512 bf16HalfToF32(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

// nullptr when the scratch cannot grow (the caller then falls back to the widening path).
const uint16_t* splitX(const float* X, int K, int T) {
  const int nc = K / kChunk;
  const size_t need = (size_t)T * (size_t)nc * 2 * kChunk;
  if (need > tSplit.cap) {
    free(tSplit.p);
    const size_t bytes = (need * 2 + 63) / 64 * 64;
    tSplit.p = static_cast<uint16_t*>(aligned_alloc(64, bytes));
    tSplit.cap = tSplit.p ? need : 0;
    if (!tSplit.p) return nullptr;
  }
  for (int t = 0; t < T; t++) {
    const float* x = X + (size_t)t * K;
    uint16_t* d = tSplit.p + (size_t)t * nc * 2 * kChunk;
    for (int c = 0; c < nc; c++, x += kChunk, d += 2 * kChunk) {
      const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
      const __m512i hi = (__m512i)_mm512_cvtne2ps_pbh(x1, x0);  // elements 0..15 from x0, 16..31 from x1
      const __m512 r0 = _mm512_sub_ps(x0, bf16HalfToF32(_mm512_castsi512_si256(hi)));
      const __m512 r1 = _mm512_sub_ps(x1, bf16HalfToF32(_mm512_extracti64x4_epi64(hi, 1)));
      _mm512_storeu_si512(d, hi);
      _mm512_storeu_si512(d + kChunk, (__m512i)_mm512_cvtne2ps_pbh(r1, r0));
    }
  }
  return tSplit.p;
}

// R bf16 weight rows x NT tokens. xs: the tokens' split rows (stride xss elements); x: their f32 rows for
// the K % 32 tail. Registers: R*NT accumulators + 2*NT activations + 1 weight (25 of 32 at 4 x 4).
template <int R, int NT>
inline void bfTile(const uint16_t* const* w, const uint16_t* xs, size_t xss, const float* x, int K, int nc, float* y,
                   int ldy) {
  __m512 acc[R][NT];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) acc[r][j] = _mm512_setzero_ps();
  for (int c = 0; c < nc; c++) {
    __m512bh xh[NT], xl[NT];
    for (int j = 0; j < NT; j++) {
      const uint16_t* p = xs + (size_t)j * xss + (size_t)c * 2 * kChunk;
      xh[j] = (__m512bh)_mm512_loadu_si512(p);
      xl[j] = (__m512bh)_mm512_loadu_si512(p + kChunk);
    }
    for (int r = 0; r < R; r++) {
      const __m512bh wv = (__m512bh)_mm512_loadu_si512(w[r] + (size_t)c * kChunk);
      for (int j = 0; j < NT; j++) acc[r][j] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(acc[r][j], wv, xh[j]), wv, xl[j]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) {
      float s = V::hsum(acc[r][j]);
      for (int kk = nc * kChunk; kk < K; kk++) s += loom_bf16_to_f32(w[r][kk]) * x[(size_t)j * K + kk];
      y[(size_t)j * ldy + r] = s;
    }
}

template <int R, int NT>
inline void bfTail(int rem, const uint16_t* const* w, const uint16_t* xs, size_t xss, const float* x, int K, int nc,
                   float* y, int ldy) {
  if constexpr (NT > 1) {
    if (rem == NT - 1)
      bfTile<R, NT - 1>(w, xs, xss, x, K, nc, y, ldy);
    else
      bfTail<R, NT - 1>(rem, w, xs, xss, x, K, nc, y, ldy);
  }
}

template <int R>
inline void bfRows(const uint16_t* const* w, const uint16_t* xs, const float* X, int K, int nc, float* Y, int T,
                   int ldy, int n) {
  const size_t xss = (size_t)nc * 2 * kChunk;
  constexpr int NT = 4;
  int t = 0;
  for (; t + NT <= T; t += NT)
    bfTile<R, NT>(w, xs + t * xss, xss, X + (size_t)t * K, K, nc, Y + (size_t)t * ldy + n, ldy);
  if (t < T) bfTail<R, NT>(T - t, w, xs + t * xss, xss, X + (size_t)t * K, K, nc, Y + (size_t)t * ldy + n, ldy);
}

void gemmBF16Dp(const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  const int nc = K / kChunk;
  const uint16_t* xs = nc > 0 ? splitX(X, K, T) : nullptr;
  if (!xs) return gemmBF16(W, rowBytes, X, Y, K, T, ldy, n0, n1);  // K < 32 (or no memory): widening path
  constexpr int R = 4;
  int n = n0;
  for (; n + R <= n1; n += R) {
    const uint16_t* w[R];
    for (int r = 0; r < R; r++) w[r] = reinterpret_cast<const uint16_t*>(W + (size_t)(n + r) * rowBytes);
    bfRows<R>(w, xs, X, K, nc, Y, T, ldy, n);
  }
  for (; n < n1; n++) {
    const uint16_t* w = reinterpret_cast<const uint16_t*>(W + (size_t)n * rowBytes);
    bfRows<1>(&w, xs, X, K, nc, Y, T, ldy, n);
  }
}

// kSet (kernels-impl.h) with gemmBF16 replaced, a constant aggregate like it.
const loom::KernelSet kSetBF16 = LOOM_KERNEL_SET(gemmBF16Dp);

}  // namespace

const loom::KernelSet& loom::avx512bf16Kernels() { return kSetBF16; }
