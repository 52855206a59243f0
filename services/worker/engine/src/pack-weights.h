// Repacks the f32 weight matrices into the packed-panel layout of the kernel set's GEMM, once at load.
#pragma once
#include "kernels.h"
#include "thread-pool.h"
#include "weights.h"

namespace loom {

// For every f32 matrix the forward pass multiplies by (the LM head, the layers' projections and routers): a
// packed copy in w.packed, pointed at by its Matrix::packed; likewise q8_0 ones (Matrix::packedQ8) where k has the
// VNNI packed q8_0 GEMM and q4_K ones (Matrix::packedQ4K) where it has the packed q4_K GEMM. Nothing for a type k has
// no packed GEMM for (all of them on scalar). The token embedding table stays as it is (rows are looked up, not
// multiplied), even when the LM head is tied to it.
void packWeights(Weights& w, const KernelSet& k, ThreadPool& pool);

}  // namespace loom
