// GEMM through dequantised rows, for the block-quantised types of quant.h (same contract as GemmFn).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace loom {

// Y[t*ldy + n] = dot(dequant(W row n), X row t) for t in [0,T), n in [n0,n1).
// W: [N rows][rowBytes] of `type`; X: [T][K] f32; Y: [T][ldy] f32.
void gemmDequant(uint32_t type, const KernelSet& k, const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0, int n1);

}  // namespace loom
