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

// f32 weights repacked once at load (packF32Panels) for the register-blocked GEMM: N rows as ceil(N / kPanel)
// panels, panel p = [K][kPanel] floats holding rows p*kPanel .. p*kPanel + kPanel - 1 (lane = row % kPanel; the
// lanes of rows >= N are zero). Y[t*ldy + n] = dot(W row n, X row t) for the rows n < N of panels [p0, p1).
// Each (row, token) value is one f32 multiply-add chain over k = 0..K-1 in order, whatever T, the tile or the
// panel range: the determinism contract holds (though its bits differ from the same set's row GEMM).
constexpr int kPanel = 16;
using PackedGemmFn = void (*)(const float* P, const float* X, float* Y, int K, int T, int ldy, int N, int p0, int p1);
// Panels [p0, p1) of dst [ceil(N / kPanel)][K][kPanel] from N f32 rows of K, `rowBytes` apart (kernels-pack.cpp).
void packF32Panels(const uint8_t* W, size_t rowBytes, int N, int K, float* dst, int p0, int p1);
inline size_t packedF32Floats(int N, int K) { return (size_t)((N + kPanel - 1) / kPanel) * kPanel * (size_t)K; }

// q8_0 weights repacked for the VNNI GEMM (packQ8_0Panels, kernels-packed-q8.h): per panel of kPanel rows and per
// 32-value block, [8][kPanel][4] int8 weights (4 consecutive values of a row per 32-bit lane), kPanel f32 scales,
// kPanel int32 128 * (sum of the row's block); rows >= N zero. Y as PackedGemmFn, X as QGemmFn's (kActQ8_0 rows).
using PackedQGemmFn = void (*)(const uint8_t* P, const uint8_t* X, float* Y, int K, int T, int ldy, int N, int p0,
                               int p1);
constexpr int kPackedQ8PanelGroup = 2;  // panels per micro-tile of gemmPackedQ8_0
void packQ8_0Panels(const uint8_t* W, size_t rowBytes, int N, int K, uint8_t* dst, int p0, int p1);
inline size_t packedQ8_0Bytes(int N, int K) {
  return (size_t)((N + kPanel - 1) / kPanel) * (size_t)(K / 32) * (8 * 64 + 2 * 4 * kPanel);
}

// q4_K weights repacked for the packed integer GEMM (packQ4_KPanels, kernels-packed-q4k.h): per panel of kPanel rows
// and per 256-value super-block, kPackedQ4KBlock bytes: [8 sub-blocks j][4 groups g][kPanel rows][4] nibble bytes
// (byte i of a row's four: the row's value 32j + 4g + i in its low nibble, 32j + 16 + 4g + i in its high one), then
// [8][kPanel] u8 6-bit scales, [8][kPanel] u8 6-bit mins, kPanel f16 d, kPanel f16 dmin (ggml's values, unpacked
// from its 12 scale bytes once here); rows >= N zero. Y as PackedGemmFn, X as QGemmFn's (kActQ8_K rows).
constexpr int kPQ4Scales = 8 * 4 * kPanel * 4, kPQ4Mins = kPQ4Scales + 8 * kPanel, kPQ4D = kPQ4Mins + 8 * kPanel,
              kPQ4Dmin = kPQ4D + 2 * kPanel, kPackedQ4KBlock = kPQ4Dmin + 2 * kPanel;  // offsets in a block
constexpr int kPackedQ4KPanelGroup = 1;  // panels per micro-tile of gemmPackedQ4_K
void packQ4_KPanels(const uint8_t* W, size_t rowBytes, int N, int K, uint8_t* dst, int p0, int p1);
inline size_t packedQ4_KBytes(int N, int K) {
  return (size_t)((N + kPanel - 1) / kPanel) * (size_t)(K / 256) * kPackedQ4KBlock;
}

// Weight formats of the integer block GEMM: the index into KernelSet::gemmQ. 256-value super-block
// formats (the K-quants, iq4_xs) need K % 256 == 0, the others K % 32 == 0.
enum QFormat : int {
  kQ8_0,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kIq4Nl,
  kIq4Xs,
  kMxfp4,
  kQFormatCount
};

// How the integer GEMM's activations are quantised, per weight format exactly as llama.cpp pairs them
// (its vec_dot_type), so both compute the same int8 activations. Every kind writes, per 32 values, one
// kQ8ActBytes block [f32 d][4 bytes: see below][32 x int8 q], x ~ d * q:
//   kActQ8_0  32 values: d = f16(max|x| / 127) (stored widened to f32), q = round-half-even(x * 127 / max|x|);
//             then [int16 sum of q 0..15][int16 sum of q 16..31]
//   kActQ8_1  as kActQ8_0, then [f32 value of f16(max|x| / 127 * sum of q)] (ggml's q8_1 s, for q4_1 / q5_1's m)
//   kActQ8_K  256 values (K % 256 == 0): d = max / -127 in f32 (max: the value of largest magnitude), the same in
//             all 8 blocks of the 256, q = min(127, round-half-even(x * -127 / max)); sums as kActQ8_0
enum QActs : int { kActQ8_0, kActQ8_1, kActQ8_K, kActCount };

// Y[t*ldy + n] = dot(W row n, Xq row t) as GemmFn, X quantised by KernelSet::quantizeActs.
using QGemmFn = void (*)(const uint8_t* W, size_t rowBytes, const uint8_t* Xq, float* Y, int K, int T, int ldy, int n0,
                         int n1);

// An integer GEMM and the activation kind its weight format pairs with.
struct IntegerGemm {
  QGemmFn gemm;
  QActs acts;
};

struct KernelSet {
  const char* name;  // "scalar" | "avx2" | "avx512" | "avx512vnni" | "avx512bf16"
  GemmFn gemmF32;
  GemmFn gemmF16;
  GemmFn gemmBF16;
  GemmFn gemmQ8_0;  // K must be a multiple of 32
  // The f32 GEMM on packed panels; nullptr in the scalar set, whose row GEMM stays the readable definition
  // (f32 weights are then left unpacked). packedPanels: panels per micro-tile, the grain of a panel range.
  PackedGemmFn gemmPackedF32;
  int packedPanels;
  PackedQGemmFn gemmPackedQ8_0;  // sets with VNNI; nullptr elsewhere (q8_0 weights then stay as they are)
  PackedQGemmFn gemmPackedQ4_K;  // AVX2 and later; nullptr in the scalar set (its row GEMM is the definition)
  float (*dotF32)(const float* a, const float* b, int n);
  float (*dotF16)(const float* a, const uint16_t* b, int n);  // a f32, b binary16
  void (*axpyF32)(float* y, float a, const float* x, int n);  // y[i] += a * x[i]
  void (*axpyF16)(float* y, float a, const uint16_t* x, int n);
  void (*toF16)(uint16_t* dst, const float* src, int n);  // round to nearest even
  // y[i] = exp(x[i] - shift) (x[i] <= shift, y may be x), returns the sum (softmax; the sampler's log Z). Vector
  // sets use a polynomial exp within ~2 ulp of expf (kernels-impl.h expNeg), the scalar set expf.
  double (*expShiftSum)(float* y, const float* x, int n, float shift);
  // g[i] = g[i] / (1 + exp(-g[i])) * u[i] (the SiLU-gated FFN's activation), exp as expShiftSum's.
  void (*siluMul)(float* g, const float* u, int n);
  // GQA attention over n cached rows of one KV head, `stride` bytes apart (f32 or f16 K/V): g <= kMaxAttnGroup
  // query heads (q: [g][hd]) against each K row, out[h * ldo + r] = q[h] . row r; then into the g outputs
  // (out: [g][hd]) for r = 0, 1, ... in order, out[h] += (a[h * lda + r] * inv[h]) * row r. A (row, head) value
  // does not depend on n or g, so neither does a head's result on how its rows are split into calls.
  void (*dotRowsF32)(const float* q, const uint8_t* rows, size_t stride, int n, int hd, int g, float* out, int ldo);
  void (*dotRowsF16)(const float* q, const uint8_t* rows, size_t stride, int n, int hd, int g, float* out, int ldo);
  void (*axpyRowsF32)(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                      int hd, int g);
  void (*axpyRowsF16)(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                      int hd, int g);
  // Integer block GEMM (kernels-qgemm.h; ggml's vec_dot_<type>_<vec_dot_type>): quantizeActs[a] turns an
  // f32 row x[K] into K/32 activation blocks of kind a ([K/32][kQ8ActBytes] bytes); gemmQ[f] is GemmFn for
  // weights in QFormat f, with X given as such rows ([T][K/32][kQ8ActBytes]) of kind gemmQ[f].acts.
  void (*quantizeActs[kActCount])(const float* x, uint8_t* dst, int K);
  const IntegerGemm* gemmQ;  // [kQFormatCount]
};
constexpr int kMaxAttnGroup = 8;
// Bytes of one quantizeQ8_0 activation block (32 values); q8_0 *weight* blocks are ggml's 34.
constexpr int kQ8ActBytes = 40;

const KernelSet& scalarKernels();
const KernelSet& avx2Kernels();
const KernelSet& avx512Kernels();
const KernelSet& avx512vnniKernels();
const KernelSet& avx512bf16Kernels();

// Best set this CPU supports, or the one named by `forced` (a set's name; empty or "auto" = best,
// normally from LOOM_KERNELS). Throws std::runtime_error when the forced set is unknown or unsupported here.
const KernelSet& selectKernels(const std::string& forced);

// The weight GEMMs by GGML type id (ggml-types.h): integerGemm gives the integer block GEMM of a block-quantised
// type and the activation kind it takes (gemm nullptr for a type without one), floatGemm the f32-activation
// GEMM of f32 / f16 / bf16 (nullptr otherwise). One table (kernels-dispatch.cpp) maps types to formats.
IntegerGemm integerGemm(const KernelSet& k, uint32_t ggmlType);
GemmFn floatGemm(const KernelSet& k, uint32_t ggmlType);

// Kernel sets this CPU can run, best last, e.g. "scalar,avx2".
std::string supportedKernels();

}  // namespace loom
