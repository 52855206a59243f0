// GEMM for weight types without a SIMD kernel of their own (q6_K): each weight row is
// dequantised once into per-thread scratch, then dotted against every token with the kernel set's f32
// dot. The value for (row, token) is the same whatever T is or which other rows share the call, which
// keeps the determinism contract of kernels.h.
#include "quant-gemm.h"

#include <vector>

#include "quant.h"

namespace loom {

void gemmDequant(uint32_t type, const KernelSet& k, const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0,
                 int n1) {
  thread_local std::vector<float> row;  // [K] the dequantised weight row; grows once per thread
  if ((int)row.size() < K) row.resize((size_t)K);
  for (int n = n0; n < n1; n++) {
    dequantRow(type, W + (size_t)n * rowBytes, row.data(), K);
    for (int t = 0; t < T; t++) Y[(size_t)t * ldy + n] = k.dotF32(row.data(), X + (size_t)t * K, K);
  }
}

}  // namespace loom
