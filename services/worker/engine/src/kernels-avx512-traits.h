// AVX-512 (F/BW/VL/DQ) vector traits, 16 lanes, shared by the three AVX-512 kernel TUs:
// kernels-avx512.cpp (plain), kernels-avx512vnni.cpp (+ VNNI q8_0 dot) and kernels-avx512bf16.cpp
// (+ VNNI, + dpbf16 bf16 GEMM). Each TU defines LOOM_AVX512_NAME (and LOOM_AVX512_VNNI where its -m
// flags allow it) before including this; only called after selectKernels() has checked CPUID.
// VNNI changes no bits: the per-block integer dot is exact in int32 either way (|w|, |x| <= 127, so
// maddubs' int16 pairs never saturate), so avx512vnni's integer GEMMs equal avx512's.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "half.h"
#include "kernels-q256.h"

namespace {
struct V : Q256 {
  using reg = __m512;
  static constexpr int R = 4;   // weight rows per GEMM tile
  static constexpr int NT = 4;  // tokens per GEMM tile (R*NT accumulators + NT x registers + 1 weight register)
  // Packed f32 GEMM micro-tile: 6 tokens x 4 panels (24 accumulators + 4 weight registers + 1 broadcast of 32).
  static constexpr int PMT = 6, PNP = 4;
  static constexpr int W = 16;
  static constexpr const char* name = LOOM_AVX512_NAME;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float a) { return _mm512_set1_ps(a); }
  static reg loadF32(const float* p) { return _mm512_loadu_ps(p); }
  static reg loadF16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static reg loadBF16(const uint16_t* p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
  static reg loadQ8(const int8_t* q, float d) {
    return _mm512_mul_ps(
        _mm512_set1_ps(d),
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)))));
  }
  static void storeF32(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static void storeF16(uint16_t* p, reg v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg fnma(reg a, reg b, reg c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a * b
  static reg pow2(reg j, reg n) { return _mm512_scalef_ps(j, n); }            // j * 2^n, n integral
  // Integer block GEMM tile (Q256: one 32-block per 256-bit op, VL/BW encodings, 32 registers): 4 x 4.
  static constexpr int QR = 4, QNT = 4;
  static float hsum(reg a) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
}  // namespace
