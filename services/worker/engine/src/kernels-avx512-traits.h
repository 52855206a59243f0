// AVX-512 (F/BW/VL/DQ) vector traits, 16 lanes, shared by the three AVX-512 kernel TUs:
// kernels-avx512.cpp (plain), kernels-avx512vnni.cpp (+ VNNI q8_0 dot) and kernels-avx512bf16.cpp
// (+ VNNI, + dpbf16 bf16 GEMM). Each TU defines LOOM_AVX512_NAME (and LOOM_AVX512_VNNI where its -m
// flags allow it) before including this; only called after selectKernels() has checked CPUID.
// VNNI changes no bits: the per-block integer dot is exact in int32 either way (|w|, |x| <= 127, so
// maddubs' int16 pairs never saturate), so avx512vnni's q8_0 results equal avx512's.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "half.h"

namespace {
struct V {
  using reg = __m512;
  static constexpr int R = 4;   // weight rows per GEMM tile
  static constexpr int NT = 4;  // tokens per GEMM tile (R*NT accumulators + NT x registers + 1 weight register)
  static constexpr int W = 16;
  static constexpr const char* name = LOOM_AVX512_NAME;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float a) { return _mm512_set1_ps(a); }
  static reg loadF32(const float* p) { return _mm512_loadu_ps(p); }
  static reg loadF16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static reg loadBF16(const uint16_t* p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
  static reg loadQ8(const int8_t* q, float d) {
    return _mm512_mul_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)))));
  }
  static void storeF32(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static void storeF16(uint16_t* p, reg v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  // q8_0 x q8_0 on 256-bit lanes (one 32-block per op; AVX-512 VL/BW encodings, 32 registers): 4 x 4.
  static constexpr int QR = 4, QNT = 4;
  using qacc = __m256;
  struct qw { __m256i abs, w; };
  static float f16(const uint8_t* p) { uint16_t h; __builtin_memcpy(&h, p, 2); return _cvtsh_ss(h); }
  static qacc qzero() { return _mm256_setzero_ps(); }
  static qw prepQ(const int8_t* w) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    return {_mm256_sign_epi8(v, v), v};
  }
  // q4_0 nibbles (low = value j, high = value j + 16) to 32 int8 values q - 8.
  static qw prepQ4(const uint8_t* b) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
    const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes), _mm256_set1_epi8(0x0F));
    const __m256i v = _mm256_sub_epi8(nib, _mm256_set1_epi8(8));
    return {_mm256_sign_epi8(v, v), v};
  }
  // Unsigned nibbles 0..15 (the low or high ones of 32 bytes): |w| = w, and sign(x, w) zeroes x
  // only where w is 0, which adds nothing anyway, so qdot serves them unchanged.
  static qw prepNibbles(const uint8_t* b, int high) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i v = _mm256_and_si256(high ? _mm256_srli_epi16(bytes, 4) : bytes, _mm256_set1_epi8(0x0F));
    return {v, v};
  }
  // q6_K: 4 low bits from ql (its low or high nibbles), 2 high bits from qh >> shift, minus 32.
  static qw prepQ6(const uint8_t* ql, const uint8_t* qh, int high, int shift) {
    const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
    const __m256i lo4 = _mm256_and_si256(high ? _mm256_srli_epi16(l, 4) : l, _mm256_set1_epi8(0x0F));
    const __m256i hi2 = _mm256_and_si256(_mm256_srl_epi16(h, _mm_cvtsi32_si128(shift)), _mm256_set1_epi8(0x03));
    const __m256i v = _mm256_sub_epi8(_mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4)), _mm256_set1_epi8(32));
    return {_mm256_sign_epi8(v, v), v};
  }
  // Sum of 32 int8: u8 ones x s8 in pairs to i16, pairs to i32, then the 8 lanes.
  // int32 lane i: the products of values 4i..4i+3 (lanes 0-3: values 0..15, 4-7: 16..31).
  static __m256i qdot32(const qw& w, const int8_t* x) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
#ifdef LOOM_AVX512_VNNI
    // u8 x s8 products summed in groups of 4 straight into int32 (vpdpbusd): one op instead of two.
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w.abs, _mm256_sign_epi8(xv, w.w));
#else
    const __m256i p16 = _mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(xv, w.w));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
#endif
  }
  static qacc qdot(const qw& w, const int8_t* x, float scale, qacc acc) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(qdot32(w, x)), _mm256_set1_ps(scale), acc);
  }
  static qacc qdot2(const qw& w, const int8_t* x, float s0, float s1, qacc acc) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(qdot32(w, x)), _mm256_set_m128(_mm_set1_ps(s1), _mm_set1_ps(s0)), acc);
  }
  static float qhsum(qacc a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hsum(reg a) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
}  // namespace
