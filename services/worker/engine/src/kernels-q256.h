// The integer block GEMM's helpers on 256-bit registers (kernels-impl.h: q8tile), shared by the AVX2
// and AVX-512 kernel sets: one 32-value block is one __m256i in both. Each TU compiles it with its own
// -m flags (AVX2 at least); one defining LOOM_AVX512_VNNI first gets vpdpbusd for the block dot, which
// changes no bits (the integer dot is exact either way).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace {
struct Q256 {
  using qacc = __m256;
  struct qw {
    __m256i abs, w;
  };
  static float f16(const uint8_t* p) {
    uint16_t h;
    __builtin_memcpy(&h, p, 2);
    return _cvtsh_ss(h);
  }
  static qacc qzero() { return _mm256_setzero_ps(); }
  static qw prepQ(const int8_t* w) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    return {_mm256_sign_epi8(v, v), v};
  }
  static qw signedQ(__m256i v) { return {_mm256_sign_epi8(v, v), v}; }
  // 16 bytes of nibbles (low = value j, high = value j + 16) as 32 bytes 0..15.
  static __m256i nibbles16(const uint8_t* b) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes), _mm256_set1_epi8(0x0F));
  }
  // 32 bits to 32 bytes: 0xFF where bit j is set (ggml's bytes_from_bits_32).
  static __m256i bitBytes(const uint8_t* p) {
    uint32_t x32;
    __builtin_memcpy(&x32, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes =
        _mm256_or_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuf), _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
  }
  // q4_0 / q4_1: nibbles minus offset (8 / 0).
  static qw prepNib(const uint8_t* b, int offset) {
    return signedQ(_mm256_sub_epi8(nibbles16(b), _mm256_set1_epi8((char)offset)));
  }
  // q5_0 / q5_1: nibbles | 5th bit j of qh (4 bytes) << 4, minus offset (16 / 0).
  static qw prepNib5(const uint8_t* b, const uint8_t* qh, int offset) {
    const __m256i hi = _mm256_and_si256(bitBytes(qh), _mm256_set1_epi8(0x10));
    return signedQ(_mm256_sub_epi8(_mm256_or_si256(nibbles16(b), hi), _mm256_set1_epi8((char)offset)));
  }
  // Unsigned nibbles 0..15 (the low or high ones of 32 bytes); unsigned formats return {w, w}.
  static __m256i nibbles32(const uint8_t* b, int high) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    return _mm256_and_si256(high ? _mm256_srli_epi16(bytes, 4) : bytes, _mm256_set1_epi8(0x0F));
  }
  // Bit `bit` of 32 bytes, as 0 / 1 per byte.
  static __m256i bit32(const uint8_t* p, int bit) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(bit)), _mm256_set1_epi8(1));
  }
  static qw prepNibbles(const uint8_t* b, int high) {
    const __m256i v = nibbles32(b, high);
    return {v, v};
  }
  // q5_K: nibbles | bit `bit` of qh bytes << 4 (0..31, unsigned).
  static qw prepNibbles5(const uint8_t* b, int high, const uint8_t* qh, int bit) {
    const __m256i v = _mm256_or_si256(nibbles32(b, high), _mm256_slli_epi16(bit32(qh, bit), 4));
    return {v, v};
  }
  // q2_K: bits shift..shift+1 of 32 bytes (0..3, unsigned).
  static qw prepCrumbs(const uint8_t* q, int shift) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i c = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(shift)), _mm256_set1_epi8(3));
    return {c, c};
  }
  // q3_K: the 2 bits at shift | bit `bit` of hm << 2, minus 4 (-4..3).
  static qw prepQ3(const uint8_t* q, int shift, const uint8_t* hm, int bit) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i c = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(shift)), _mm256_set1_epi8(3));
    const __m256i h = _mm256_slli_epi16(bit32(hm, bit), 2);
    return signedQ(_mm256_sub_epi8(_mm256_or_si256(c, h), _mm256_set1_epi8(4)));
  }
  // q6_K: 4 low bits from ql (its low or high nibbles), 2 high bits from qh >> shift, minus 32.
  static qw prepQ6(const uint8_t* ql, const uint8_t* qh, int high, int shift) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
    const __m256i hi2 = _mm256_and_si256(_mm256_srl_epi16(h, _mm_cvtsi32_si128(shift)), _mm256_set1_epi8(0x03));
    return signedQ(
        _mm256_sub_epi8(_mm256_or_si256(nibbles32(ql, high), _mm256_slli_epi16(hi2, 4)), _mm256_set1_epi8(32)));
  }
  // iq4_nl / iq4_xs / MXFP4: nibbles (as q4_0) looked up in a 16-entry int8 codebook (one byte shuffle).
  static qw prepLut(const uint8_t* b, const int8_t* values) {
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(values)));
    return signedQ(_mm256_shuffle_epi8(lut, nibbles16(b)));
  }
  // |w| (u8) x (x * sign(w)) (s8), int32 lane i the sum of the products of values 4i..4i+3 (lanes 0-3:
  // values 0..15, 4-7: 16..31). maddubs' int16 pairs never saturate: 2 * 128 * 127 < 32768. U: the weights
  // are unsigned (|w| = w), so x goes in as it is, one op fewer.
  template <bool U>
  static __m256i qdot32(const qw& w, const int8_t* x) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i xs = U ? xv : _mm256_sign_epi8(xv, w.w);
#ifdef LOOM_AVX512_VNNI
    // u8 x s8 products summed in groups of 4 straight into int32 (vpdpbusd): one op instead of two.
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w.abs, xs);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w.abs, xs), _mm256_set1_epi16(1));
#endif
  }
  template <bool U>
  static qacc qdot(const qw& w, const int8_t* x, float scale, qacc acc) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(qdot32<U>(w, x)), _mm256_set1_ps(scale), acc);
  }
  // Two scales: values 0..15 by s0, 16..31 by s1 (the per-16 scales of q2_K, q3_K, q6_K).
  template <bool U>
  static qacc qdot2(const qw& w, const int8_t* x, float s0, float s1, qacc acc) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(qdot32<U>(w, x)), _mm256_set_m128(_mm_set1_ps(s1), _mm_set1_ps(s0)), acc);
  }
  static float qhsum(qacc a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
}  // namespace
