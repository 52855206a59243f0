// Repacks the f32 weight matrices into the packed-panel layout of the kernel set's GEMM, once at load.
#pragma once
#include "kernels.h"
#include "thread-pool.h"
#include "weights.h"

namespace loom {

// For every f32 matrix the forward pass multiplies by (the LM head, the layers' projections and routers): a
// packed copy in w.packed, pointed at by its Matrix::packed. Nothing when k has no packed GEMM (scalar). The
// token embedding table stays as it is (rows are looked up, not multiplied), even when the LM head is tied to it.
void packWeights(Weights& w, const KernelSet& k, ThreadPool& pool);

}  // namespace loom
