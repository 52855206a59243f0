// The kernel table: every hot loop of the forward pass, in one implementation per instruction set.
// kernels-scalar.cpp (plain x86-64), kernels-avx2.cpp (-mavx2 -mfma -mf16c), kernels-avx512.cpp
// (-mavx512f/bw/vl/dq), kernels-avx512vnni.cpp (+ -mavx512vnni: q8_0 dot on vpdpbusd) and
// kernels-avx512bf16.cpp (+ -mavx512bf16: bf16 GEMM on vdpbf16ps) each instantiate kernels-impl.h with
// their own vector type; selectKernels() picks one at run time from CPUID, so the base binary runs on
// any x86-64.
//
// Determinism contract (within one kernel set): the value written for (weight row n, token t) does not
// depend on T, on which other tokens share the call, or on the [n0, n1) split. This is what makes a
// sequence produce the same bits alone, inside a batch, or split into prefill chunks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {

// Y[t*ldy + n] = dot(W row n, X row t) for t in [0,T), n in [n0,n1).
// W: [N rows][rowBytes] in the kernel's weight type; X: [T][K] f32; Y: [T][ldy] f32.
using GemmFn = void (*)(const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0,
                        int n1);

struct KernelSet {
  const char* name;  // "scalar" | "avx2" | "avx512" | "avx512vnni" | "avx512bf16"
  GemmFn gemmF32;
  GemmFn gemmF16;
  GemmFn gemmBF16;
  GemmFn gemmQ8_0;  // K must be a multiple of 32
  float (*dotF32)(const float* a, const float* b, int n);
  float (*dotF16)(const float* a, const uint16_t* b, int n);  // a f32, b binary16
  void (*axpyF32)(float* y, float a, const float* x, int n);  // y[i] += a * x[i]
  void (*axpyF16)(float* y, float a, const uint16_t* x, int n);
  void (*toF16)(uint16_t* dst, const float* src, int n);  // round to nearest even
  // GQA attention: g <= kMaxAttnGroup query heads (q: [g][hd]) against one K row / into one V row.
  void (*dotGroupF32)(const float* q, const float* k, int hd, int g, float* out);  // out[h] = q[h] . k
  void (*dotGroupF16)(const float* q, const uint16_t* k, int hd, int g, float* out);
  void (*axpyGroupF32)(float* out, const float* a, const float* v, int hd, int g);  // out[h] += a[h] * v
  void (*axpyGroupF16)(float* out, const float* a, const uint16_t* v, int hd, int g);
  // q8_0 x q8_0 (ggml's vec_dot_q8_0_q8_0): quantizeQ8_0 turns an f32 row x[K] (K % 32 == 0) into K/32
  // activation blocks [f16 d][int16 sum of q][32 x int8 q] (kQ8ActBytes each; the sum serves the
  // K-quants' min term); gemmQ8_0Q8 is GemmFn with X given as such rows ([T][K/32][kQ8ActBytes] bytes).
  void (*quantizeQ8_0)(const float* x, uint8_t* dst, int K);
  void (*gemmQ8_0Q8)(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                     int n1);
  // q4_0 x q8_0 (ggml's vec_dot_q4_0_q8_0): the same, with q4_0 weight blocks [f16 d][16 x u8 nibbles].
  void (*gemmQ4_0Q8)(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                     int n1);
  // q4_K x q8_0 (K % 256 == 0): 256-value super-blocks, 8 sub-blocks of 32 with 6-bit scales and mins.
  void (*gemmQ4_KQ8)(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                     int n1);
  // q6_K x q8_0 (K % 256 == 0): 256-value super-blocks of 6-bit quants, one int8 scale per 16 values.
  void (*gemmQ6_KQ8)(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                     int n1);
};
constexpr int kMaxAttnGroup = 8;
// Bytes of one quantizeQ8_0 activation block (32 values); q8_0 *weight* blocks are ggml's 34.
constexpr int kQ8ActBytes = 36;

const KernelSet& scalarKernels();
const KernelSet& avx2Kernels();
const KernelSet& avx512Kernels();
const KernelSet& avx512vnniKernels();
const KernelSet& avx512bf16Kernels();

// Best set this CPU supports, or the one named by `forced` (a set's name; empty or "auto" = best,
// normally from LOOM_KERNELS). Throws std::runtime_error when the forced set is unknown or unsupported here.
const KernelSet& selectKernels(const std::string& forced);

// Kernel sets this CPU can run, best last, e.g. "scalar,avx2".
std::string supportedKernels();

}  // namespace loom
