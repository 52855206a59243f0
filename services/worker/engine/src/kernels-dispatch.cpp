// Run-time choice of the kernel set (CPUID via __builtin_cpu_supports). Built with base x86-64 flags.
#include <stdexcept>

#include "kernels.h"

namespace loom {

namespace {
bool hasAvx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"); }
bool hasAvx512() {
  return hasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq");
}
}  // namespace

std::string supportedKernels() {
  std::string s = "scalar";
  if (hasAvx2()) s += ",avx2";
  if (hasAvx512()) s += ",avx512";
  return s;
}

const KernelSet& selectKernels(const std::string& forced) {
  if (forced.empty() || forced == "auto") {
    if (hasAvx512()) return avx512Kernels();
    if (hasAvx2()) return avx2Kernels();
    return scalarKernels();
  }
  if (forced == "scalar") return scalarKernels();
  if (forced == "avx2" && hasAvx2()) return avx2Kernels();
  if (forced == "avx512" && hasAvx512()) return avx512Kernels();
  if (forced == "avx2" || forced == "avx512")
    throw std::runtime_error("LOOM_KERNELS=" + forced + " but this CPU only supports " + supportedKernels() + "; unset LOOM_KERNELS or pick one of those");
  throw std::runtime_error("LOOM_KERNELS=" + forced + " is not a kernel set; use scalar, avx2, avx512 or auto");
}

}  // namespace loom
