// Generic kernel bodies, instantiated once per instruction set by kernels-{scalar,avx2,avx512}.cpp.
// Everything here lives in an anonymous namespace: each translation unit is compiled with different
// -m flags, and internal linkage guarantees no AVX code leaks into another TU through the linker.
// Include only after defining `struct V` (the vector traits) in the including TU; include nothing
// from the C++ standard library here for the same reason (its inline templates have external linkage).
#pragma once
#include "half.h"
#include "kernels.h"

namespace {

// Weight-row loaders: load(k) gives V::W weights starting at element k as f32; at(k) gives one.
struct LoadF32 {
  const float* w;
  V::reg load(int k) const { return V::loadF32(w + k); }
  float at(int k) const { return w[k]; }
};
struct LoadF16 {
  const uint16_t* w;
  V::reg load(int k) const { return V::loadF16(w + k); }
  float at(int k) const { return loom_f16_to_f32(w[k]); }
};
struct LoadBF16 {
  const uint16_t* w;
  V::reg load(int k) const { return V::loadBF16(w + k); }
  float at(int k) const { return loom_bf16_to_f32(w[k]); }
};
// q8_0 block: [f16 scale d][32 x int8 q], value = d * q. V::W divides 32, so a load never straddles blocks.
struct LoadQ8_0 {
  const uint8_t* w;
  V::reg load(int k) const {
    const uint8_t* b = w + (k >> 5) * 34;
    uint16_t d;
    __builtin_memcpy(&d, b, 2);
    return V::loadQ8(reinterpret_cast<const int8_t*>(b + 2 + (k & 31)), loom_f16_to_f32(d));
  }
  float at(int k) const {
    const uint8_t* b = w + (k >> 5) * 34;
    uint16_t d;
    __builtin_memcpy(&d, b, 2);
    return loom_f16_to_f32(d) * (float)reinterpret_cast<const int8_t*>(b + 2)[k & 31];
  }
};

// One weight row against NT tokens. Each (row, token) pair keeps two accumulators (even and odd
// V::W-wide chunks) and a scalar tail, in the same order whatever NT is: see the determinism contract.
template <int NT, class L>
inline void tile(const L& w, const float* x, int K, float* y, int ldy) {
  V::reg a0[NT], a1[NT];
  for (int j = 0; j < NT; j++) a0[j] = a1[j] = V::zero();
  int k = 0;
  for (; k + 2 * V::W <= K; k += 2 * V::W) {
    const V::reg w0 = w.load(k), w1 = w.load(k + V::W);
    for (int j = 0; j < NT; j++) {
      a0[j] = V::fma(w0, V::loadF32(x + (size_t)j * K + k), a0[j]);
      a1[j] = V::fma(w1, V::loadF32(x + (size_t)j * K + k + V::W), a1[j]);
    }
  }
  if (k + V::W <= K) {
    const V::reg w0 = w.load(k);
    for (int j = 0; j < NT; j++) a0[j] = V::fma(w0, V::loadF32(x + (size_t)j * K + k), a0[j]);
    k += V::W;
  }
  for (int j = 0; j < NT; j++) {
    float s = V::hsum(V::add(a0[j], a1[j]));
    for (int kk = k; kk < K; kk++) s += w.at(kk) * x[(size_t)j * K + kk];
    y[(size_t)j * ldy] = s;
  }
}

// Rows in blocks of RB so a block of weight rows stays in cache while every token tile passes over it.
template <class L, class P>
void gemm(const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  constexpr int RB = 16;
  for (int nb = n0; nb < n1; nb += RB) {
    const int ne = nb + RB < n1 ? nb + RB : n1;
    int t = 0;
    for (; t + 4 <= T; t += 4)
      for (int n = nb; n < ne; n++) tile<4>(L{reinterpret_cast<const P*>(W + (size_t)n * rowBytes)}, X + (size_t)t * K, K, Y + (size_t)t * ldy + n, ldy);
    const int rem = T - t;
    for (int n = nb; n < ne; n++) {
      const L w{reinterpret_cast<const P*>(W + (size_t)n * rowBytes)};
      const float* x = X + (size_t)t * K;
      float* y = Y + (size_t)t * ldy + n;
      if (rem == 3) tile<3>(w, x, K, y, ldy);
      else if (rem == 2) tile<2>(w, x, K, y, ldy);
      else if (rem == 1) tile<1>(w, x, K, y, ldy);
    }
  }
}

void gemmF32(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) { gemm<LoadF32, float>(W, rb, X, Y, K, T, ldy, n0, n1); }
void gemmF16(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) { gemm<LoadF16, uint16_t>(W, rb, X, Y, K, T, ldy, n0, n1); }
void gemmBF16(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) { gemm<LoadBF16, uint16_t>(W, rb, X, Y, K, T, ldy, n0, n1); }
void gemmQ8_0(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) { gemm<LoadQ8_0, uint8_t>(W, rb, X, Y, K, T, ldy, n0, n1); }

float dotF32(const float* a, const float* b, int n) {
  float y;
  tile<1>(LoadF32{b}, a, n, &y, 1);
  return y;
}
float dotF16(const float* a, const uint16_t* b, int n) {
  float y;
  tile<1>(LoadF16{b}, a, n, &y, 1);
  return y;
}

template <class L>
inline void axpy(float* y, float a, const L& x, int n) {
  const V::reg va = V::set1(a);
  int i = 0;
  for (; i + V::W <= n; i += V::W) V::storeF32(y + i, V::fma(va, x.load(i), V::loadF32(y + i)));
  for (; i < n; i++) y[i] += a * x.at(i);
}
void axpyF32(float* y, float a, const float* x, int n) { axpy(y, a, LoadF32{x}, n); }
void axpyF16(float* y, float a, const uint16_t* x, int n) { axpy(y, a, LoadF16{x}, n); }

void toF16(uint16_t* dst, const float* src, int n) {
  int i = 0;
  for (; i + V::W <= n; i += V::W) V::storeF16(dst + i, V::loadF32(src + i));
  for (; i < n; i++) dst[i] = loom_f32_to_f16(src[i]);
}

const loom::KernelSet kSet = {V::name, gemmF32, gemmF16, gemmBF16, gemmQ8_0, dotF32, dotF16, axpyF32, axpyF16, toF16};

}  // namespace
