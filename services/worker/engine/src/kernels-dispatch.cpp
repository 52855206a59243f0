// Run-time choice of the kernel set (CPUID via __builtin_cpu_supports). Built with base x86-64 flags.
// Sets form a chain, each needing everything the previous one does: scalar < avx2 < avx512 < avx512vnni
// < avx512bf16 (every CPU with AVX512-BF16 so far, Cooper Lake, Sapphire Rapids, Zen 4, also has VNNI;
// one without it simply stops at avx512).
// Auto picks the best set marked `autoPick`: avx512bf16 is not, because its dpbf16 bf16 GEMM (which has
// to split activations in two bf16 terms to keep f32 accuracy) measured slower than avx512vnni's
// widening path on a Xeon with AVX512-BF16 (docs/benchmarks.md, Engine); LOOM_KERNELS=avx512bf16 forces it.
#include <stdexcept>

#include "ggml-types.h"
#include "kernels.h"

namespace loom {

namespace {
bool hasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
bool hasAvx512() {
  return hasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
bool hasAvx512Vnni() { return hasAvx512() && __builtin_cpu_supports("avx512vnni"); }
bool hasAvx512Bf16() { return hasAvx512Vnni() && __builtin_cpu_supports("avx512bf16"); }

struct Entry {
  const char* name;
  bool (*supported)();
  const KernelSet& (*set)();
  bool autoPick;
};
bool always() { return true; }
// Best last.
const Entry kSets[] = {{"scalar", always, scalarKernels, true},
                       {"avx2", hasAvx2, avx2Kernels, true},
                       {"avx512", hasAvx512, avx512Kernels, true},
                       {"avx512vnni", hasAvx512Vnni, avx512vnniKernels, true},
                       {"avx512bf16", hasAvx512Bf16, avx512bf16Kernels, false}};
// GGML weight type -> integer GEMM format; the types missing here take no integer GEMM.
const struct {
  uint32_t type;
  QFormat format;
} kQTypes[] = {{GGML_Q8_0, kQ8_0},  {GGML_Q4_0, kQ4_0}, {GGML_Q4_1, kQ4_1},    {GGML_Q5_0, kQ5_0},
               {GGML_Q5_1, kQ5_1},  {GGML_Q2_K, kQ2_K}, {GGML_Q3_K, kQ3_K},    {GGML_Q4_K, kQ4_K},
               {GGML_Q5_K, kQ5_K},  {GGML_Q6_K, kQ6_K}, {GGML_IQ4_NL, kIq4Nl}, {GGML_IQ4_XS, kIq4Xs},
               {GGML_MXFP4, kMxfp4}};
}  // namespace

IntegerGemm integerGemm(const KernelSet& k, uint32_t ggmlType) {
  for (const auto& e : kQTypes)
    if (e.type == ggmlType) return k.gemmQ[e.format];
  return {nullptr, kActQ8_0};
}

GemmFn floatGemm(const KernelSet& k, uint32_t ggmlType) {
  return ggmlType == GGML_F32    ? k.gemmF32
         : ggmlType == GGML_F16  ? k.gemmF16
         : ggmlType == GGML_BF16 ? k.gemmBF16
                                 : nullptr;
}

std::string supportedKernels() {
  std::string s;
  for (const Entry& e : kSets)
    if (e.supported()) s += (s.empty() ? "" : ",") + std::string(e.name);
  return s;
}

const KernelSet& selectKernels(const std::string& forced) {
  const bool automatic = forced.empty() || forced == "auto";
  for (int i = (int)(sizeof kSets / sizeof kSets[0]) - 1; i >= 0; i--) {
    const Entry& e = kSets[i];
    if (automatic ? e.autoPick && e.supported() : forced == e.name) {
      if (!e.supported())
        throw std::runtime_error("LOOM_KERNELS=" + forced + " but this CPU only supports " + supportedKernels() +
                                 "; unset LOOM_KERNELS or pick one of those");
      return e.set();
    }
  }
  if (automatic) return scalarKernels();
  throw std::runtime_error("LOOM_KERNELS=" + forced +
                           " is not a kernel set; use scalar, avx2, avx512, avx512vnni, avx512bf16 or auto");
}

}  // namespace loom
