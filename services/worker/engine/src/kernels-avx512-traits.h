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
  // Lane i = hsum(a[i]) bit for bit, for 16 registers at once: the same tree (256-bit halves, then 128-bit
  // halves, then pairs 2 apart, then neighbours) run on transposed data, ~3 ops per register instead of ~8.
  static reg hsumW(const reg* a) {
    __m512 b[8], c[4];
    for (int i = 0; i < 8; i++)  // [A.L0+A.L2, A.L1+A.L3, B.L0+B.L2, B.L1+B.L3] in 128-bit lanes L
      b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
                           _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 4; i++)  // lane k: register 4i + k's 128-bit sum s
      c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                           _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xDD));
    // lane k: (s0+s2, s1+s3) of registers k and 4+k (from c0, c1), of 8+k and 12+k (from c2, c3)
    const __m512 f0 = _mm512_add_ps(_mm512_shuffle_ps(c[0], c[1], 0x44), _mm512_shuffle_ps(c[0], c[1], 0xEE));
    const __m512 f1 = _mm512_add_ps(_mm512_shuffle_ps(c[2], c[3], 0x44), _mm512_shuffle_ps(c[2], c[3], 0xEE));
    // element 4k + m = register 4m + k's sum; the permutation puts register i's at element i
    const __m512 g = _mm512_add_ps(_mm512_shuffle_ps(f0, f1, 0x88), _mm512_shuffle_ps(f0, f1, 0xDD));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), g);
  }
};

// The packed q4_K GEMM's integer traits (kernels-packed-q4k.h): a panel in one register of 16 int32 lanes.
struct PQ4 {
  using ireg = __m512i;
  using freg = __m512;
  static constexpr int L = 16;
  static constexpr int MT =
      4;  // tokens per micro-tile (4 x (2 dot chains + sum + accumulator)); 5 and 6 measured no faster
#ifdef LOOM_AVX512_VNNI
  static constexpr bool kHigh16 = true;  // kernels-packed-q4k.h; vpdpbusd takes u8 up to 255
#else
  static constexpr bool kHigh16 = false;  // maddubs' int16 pairs would saturate on 240 x 127 x 2
#endif
  static ireg izero() { return _mm512_setzero_si512(); }
  static ireg set1(int v) { return _mm512_set1_epi32(v); }
  static ireg load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static ireg u8to32(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static ireg bcast4(const uint8_t* p) {
    int v;
    __builtin_memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static ireg and_(ireg a, ireg b) { return _mm512_and_si512(a, b); }
  static ireg or_(ireg a, ireg b) { return _mm512_or_si512(a, b); }
  static ireg shl32(ireg a, int n) { return _mm512_slli_epi32(a, n); }
  static ireg shr16(ireg a, int n) { return _mm512_srli_epi16(a, n); }
  static ireg add32(ireg a, ireg b) { return _mm512_add_epi32(a, b); }
  static ireg mul32(ireg a, ireg b) { return _mm512_mullo_epi32(a, b); }
#ifdef LOOM_AVX512_VNNI
  static ireg dpbusd(ireg acc, ireg u, ireg s) { return _mm512_dpbusd_epi32(acc, u, s); }
  static ireg dpwssd(ireg acc, ireg a, ireg b) { return _mm512_dpwssd_epi32(acc, a, b); }
#else
  static ireg dpbusd(ireg acc, ireg u, ireg s) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
  }
  static ireg dpwssd(ireg acc, ireg a, ireg b) { return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b)); }
#endif
  static freg fzero() { return _mm512_setzero_ps(); }
  static freg fset1(float a) { return _mm512_set1_ps(a); }
  static freg f16x(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static freg cvt(ireg a) { return _mm512_cvtepi32_ps(a); }
  static freg fmul(freg a, freg b) { return _mm512_mul_ps(a, b); }
  static freg fma(freg a, freg b, freg c) { return _mm512_fmadd_ps(a, b, c); }
  static freg fnma(freg a, freg b, freg c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a * b
  // The first n (<= 0: none) of the 16 lanes.
  static void store(float* y, freg v, int n) {
    if (n >= L)
      _mm512_storeu_ps(y, v);
    else if (n > 0)
      _mm512_mask_storeu_ps(y, (__mmask16)((1u << n) - 1), v);
  }
};
}  // namespace
