// Plain x86-64 kernels (no SIMD beyond what the compiler may use for scalar float): the reference set.
#include <cstdint>

#include "half.h"

namespace {
struct V {
  using reg = float;
  static constexpr int R = 1;   // weight rows per GEMM tile
  static constexpr int NT = 4;  // tokens per GEMM tile (R*NT accumulators + NT x registers + 1 weight register)
  // No packed f32 GEMM here (PMT = 0): this set's row GEMM is the readable definition the others are held to.
  static constexpr int PMT = 0, PNP = 1;
  static constexpr int W = 1;
  static constexpr const char* name = "scalar";
  static reg zero() { return 0.f; }
  static reg set1(float a) { return a; }
  static reg loadF32(const float* p) { return *p; }
  static reg loadF16(const uint16_t* p) { return loom_f16_to_f32(*p); }
  static reg loadBF16(const uint16_t* p) { return loom_bf16_to_f32(*p); }
  static reg loadQ8(const int8_t* q, float d) { return d * (float)*q; }
  static void storeF32(float* p, reg v) { *p = v; }
  static void storeF16(uint16_t* p, reg v) { *p = loom_f32_to_f16(v); }
  static reg fma(reg a, reg b, reg c) { return a * b + c; }
  static reg add(reg a, reg b) { return a + b; }
  static reg sub(reg a, reg b) { return a - b; }
  static reg div(reg a, reg b) { return a / b; }
  static reg mul(reg a, reg b) { return a * b; }
  static reg max(reg a, reg b) { return a > b ? a : b; }
  static reg fnma(reg a, reg b, reg c) { return c - a * b; }
  static reg pow2(reg j, reg n) { return __builtin_ldexpf(j, (int)n); }
  static float hsum(reg a) { return a; }
  static reg hsumW(const reg* a) { return a[0]; }  // lane i = hsum(a[i]), W = 1
  // q8_0 x q8_0: exact int32 block dot, scaled into one f32 sum per (row, token).
  static constexpr int QR = 1, QNT = 4;
  using qacc = float;
  struct qw {
    int8_t v[32];
  };
  static float f16(const uint8_t* p) {
    uint16_t h;
    __builtin_memcpy(&h, p, 2);
    return loom_f16_to_f32(h);
  }
  static qacc qzero() { return 0.f; }
  static qw prepQ(const int8_t* w) {
    qw q;
    __builtin_memcpy(q.v, w, 32);
    return q;
  }
  // q4_0 / q4_1 nibbles (low = value j, high = value j + 16) minus offset (8 / 0).
  static qw prepNib(const uint8_t* b, int offset) {
    qw q;
    for (int j = 0; j < 16; j++) {
      q.v[j] = (int8_t)((b[j] & 0x0F) - offset);
      q.v[j + 16] = (int8_t)((b[j] >> 4) - offset);
    }
    return q;
  }
  // q5_0 / q5_1: the nibbles | bit j of qh (4 bytes, little-endian) << 4, minus offset (16 / 0).
  static qw prepNib5(const uint8_t* b, const uint8_t* qh, int offset) {
    qw q = prepNib(b, 0);
    for (int j = 0; j < 32; j++) q.v[j] = (int8_t)((q.v[j] | (((qh[j >> 3] >> (j & 7)) & 1) << 4)) - offset);
    return q;
  }
  // Sub-block of unsigned nibbles: the low (high = 0) or high (high = 1) nibbles of 32 bytes.
  static qw prepNibbles(const uint8_t* b, int high) {
    qw q;
    for (int j = 0; j < 32; j++) q.v[j] = (int8_t)((b[j] >> (4 * high)) & 0x0F);
    return q;
  }
  // q5_K: those nibbles | bit `bit` of qh[j] << 4.
  static qw prepNibbles5(const uint8_t* b, int high, const uint8_t* qh, int bit) {
    qw q = prepNibbles(b, high);
    for (int j = 0; j < 32; j++) q.v[j] = (int8_t)(q.v[j] | (((qh[j] >> bit) & 1) << 4));
    return q;
  }
  // q2_K: bits shift..shift+1 of 32 bytes.
  static qw prepCrumbs(const uint8_t* b, int shift) {
    qw q;
    for (int j = 0; j < 32; j++) q.v[j] = (int8_t)((b[j] >> shift) & 3);
    return q;
  }
  // q3_K: those 2 bits | bit `bit` of hm[j] << 2, minus 4.
  static qw prepQ3(const uint8_t* b, int shift, const uint8_t* hm, int bit) {
    qw q;
    for (int j = 0; j < 32; j++) q.v[j] = (int8_t)((((b[j] >> shift) & 3) | (((hm[j] >> bit) & 1) << 2)) - 4);
    return q;
  }
  // q6_K: 4 low bits from ql (low or high nibble), 2 high bits from qh >> shift, offset by 32.
  static qw prepQ6(const uint8_t* ql, const uint8_t* qh, int high, int shift) {
    qw q;
    for (int j = 0; j < 32; j++)
      q.v[j] = (int8_t)((((ql[j] >> (4 * high)) & 0x0F) | (((qh[j] >> shift) & 3) << 4)) - 32);
    return q;
  }
  // iq4_nl / iq4_xs / MXFP4: nibbles (as q4_0) looked up in a 16-entry codebook.
  static qw prepLut(const uint8_t* b, const int8_t* values) {
    qw q;
    for (int j = 0; j < 16; j++) {
      q.v[j] = values[b[j] & 0x0F];
      q.v[j + 16] = values[b[j] >> 4];
    }
    return q;
  }
  // Two scales: values 0..15 by s0, 16..31 by s1.
  template <bool U>
  static qacc qdot2(const qw& w, const int8_t* x, float s0, float s1, qacc acc) {
    int32_t a = 0, b = 0;
    for (int i = 0; i < 16; i++) a += (int32_t)w.v[i] * x[i];
    for (int i = 16; i < 32; i++) b += (int32_t)w.v[i] * x[i];
    return acc + (float)a * s0 + (float)b * s1;
  }
  template <bool U>  // unsigned weights: the same here
  static qacc qdot(const qw& w, const int8_t* x, float scale, qacc acc) {
    int32_t s = 0;
    for (int i = 0; i < 32; i++) s += (int32_t)w.v[i] * x[i];
    return acc + (float)s * scale;
  }
  static float qhsum(qacc a) { return a; }
};
}  // namespace

#include "kernels-impl.h"

const loom::KernelSet& loom::scalarKernels() { return kSet; }
