// AVX2 + FMA + F16C kernels (Haswell and later). Compiled with -mavx2 -mfma -mf16c; only called after
// selectKernels() has checked CPUID.
#include <immintrin.h>

#include <cstdint>

#include "half.h"
#include "kernels-q256.h"

namespace {
struct V : Q256 {
  using reg = __m256;
  static constexpr int R = 4;   // weight rows per GEMM tile
  static constexpr int NT = 3;  // tokens per GEMM tile (R*NT accumulators + NT x registers + 1 weight register)
  // Packed f32 GEMM micro-tile: 6 tokens x 1 panel of 2 registers (12 accumulators + 2 weight registers + 1 broadcast
  // of 16).
  static constexpr int PMT = 6, PNP = 1;
  static constexpr int W = 8;
  static constexpr const char* name = "avx2";
  static reg zero() { return _mm256_setzero_ps(); }
  static reg set1(float a) { return _mm256_set1_ps(a); }
  static reg loadF32(const float* p) { return _mm256_loadu_ps(p); }
  static reg loadF16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static reg loadBF16(const uint16_t* p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
  static reg loadQ8(const int8_t* q, float d) {
    return _mm256_mul_ps(
        _mm256_set1_ps(d),
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)))));
  }
  static void storeF32(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static void storeF16(uint16_t* p, reg v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg fnma(reg a, reg b, reg c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a * b
  // j * 2^n for integral n in [-126, 127]: n + 127 into the exponent field.
  static reg pow2(reg j, reg n) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(j, _mm256_castsi256_ps(e));
  }
  // Integer block GEMM tile (Q256): 2 rows x 4 tokens (8 accumulators + |w|, w, ones and temporaries in 16 registers).
  static constexpr int QR = 2, QNT = 4;
  static float hsum(reg a) { return qhsum(a); }
  // Lane i = hsum(a[i]) bit for bit, for 8 registers at once: qhsum's tree on transposed data.
  static reg hsumW(const reg* a) {
    __m256 b[4];
    for (int i = 0; i < 4; i++)  // [A.lo+A.hi, B.lo+B.hi]
      b[i] = _mm256_add_ps(_mm256_permute2f128_ps(a[2 * i], a[2 * i + 1], 0x20),
                           _mm256_permute2f128_ps(a[2 * i], a[2 * i + 1], 0x31));
    // lane k: (s0+s2, s1+s3) of registers k and 2+k (from b0, b1), of 4+k and 6+k (from b2, b3)
    const __m256 f0 = _mm256_add_ps(_mm256_shuffle_ps(b[0], b[1], 0x44), _mm256_shuffle_ps(b[0], b[1], 0xEE));
    const __m256 f1 = _mm256_add_ps(_mm256_shuffle_ps(b[2], b[3], 0x44), _mm256_shuffle_ps(b[2], b[3], 0xEE));
    // element 4k + m = register 2m + k's sum
    const __m256 g = _mm256_add_ps(_mm256_shuffle_ps(f0, f1, 0x88), _mm256_shuffle_ps(f0, f1, 0xDD));
    return _mm256_permutevar8x32_ps(g, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  }
};
// The packed q4_K GEMM's integer traits (kernels-packed-q4k.h): a panel in two registers of 8 int32 lanes; maddubs +
// madd for the byte dots.
struct PQ4 {
  using ireg = __m256i;
  using freg = __m256;
  static constexpr int L = 8;
  static constexpr int MT = 2;  // tokens per micro-tile: 3 x 2 x 2 accumulators + 4 weight halves in 16 registers
  static constexpr bool kHigh16 = false;  // kernels-packed-q4k.h
  static ireg izero() { return _mm256_setzero_si256(); }
  static ireg set1(int v) { return _mm256_set1_epi32(v); }
  static ireg load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static ireg u8to32(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static ireg bcast4(const uint8_t* p) {
    int v;
    __builtin_memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static ireg and_(ireg a, ireg b) { return _mm256_and_si256(a, b); }
  static ireg or_(ireg a, ireg b) { return _mm256_or_si256(a, b); }
  static ireg shl32(ireg a, int n) { return _mm256_slli_epi32(a, n); }
  static ireg shr16(ireg a, int n) { return _mm256_srli_epi16(a, n); }
  static ireg add32(ireg a, ireg b) { return _mm256_add_epi32(a, b); }
  static ireg mul32(ireg a, ireg b) { return _mm256_mullo_epi32(a, b); }
  static ireg dpbusd(ireg acc, ireg u, ireg s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
  static ireg dpwssd(ireg acc, ireg a, ireg b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
  static freg fzero() { return _mm256_setzero_ps(); }
  static freg fset1(float a) { return _mm256_set1_ps(a); }
  static freg f16x(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static freg cvt(ireg a) { return _mm256_cvtepi32_ps(a); }
  static freg fmul(freg a, freg b) { return _mm256_mul_ps(a, b); }
  static freg fma(freg a, freg b, freg c) { return _mm256_fmadd_ps(a, b, c); }
  static freg fnma(freg a, freg b, freg c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a * b
  // The first n (<= 0: none) of the 8 lanes.
  static void store(float* y, freg v, int n) {
    if (n >= L) {
      _mm256_storeu_ps(y, v);
    } else if (n > 0) {
      float lanes[L];
      _mm256_storeu_ps(lanes, v);
      for (int i = 0; i < n; i++) y[i] = lanes[i];
    }
  }
};
}  // namespace

#include "kernels-impl.h"

const loom::KernelSet& loom::avx2Kernels() { return kSet; }
