// IEEE binary16 and bfloat16 <-> binary32 conversions in portable C++.
// Every function is `static inline` on purpose: this header is included by translation units built with
// different -m flags (scalar, AVX2, AVX-512), and internal linkage keeps the linker from picking an
// AVX-compiled copy for the scalar path.
#pragma once
#include <cstdint>
#include <cstring>

static inline float loom_bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline uint32_t loom_f32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Exact: every binary16 value (normals, subnormals, inf, nan) is representable in binary32.
static inline float loom_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return loom_bits_to_f32(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return loom_bits_to_f32(sign);
    // Subnormal: value = mant * 2^-24.
    float v = (float)mant * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return loom_bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round-to-nearest-even, the same result as F16C's _mm_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT).
static inline uint16_t loom_f32_to_f16(float f) {
  const uint32_t x = loom_f32_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: overflow to inf
  if (ax < 0x38800000u) {                                    // below the smallest f16 normal (2^-14)
    if (ax < 0x33000000u) return (uint16_t)sign;             // below half the smallest subnormal
    const uint32_t e = ax >> 23;
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // m >> (shift) gives the subnormal mantissa
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
  }
  uint32_t r = ((ax >> 13) - (112u << 10));
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
  return (uint16_t)(sign | r);
}

static inline float loom_bf16_to_f32(uint16_t h) { return loom_bits_to_f32((uint32_t)h << 16); }
