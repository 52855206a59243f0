#include "pack-weights.h"

#include <stdexcept>

#include "ggml-types.h"

namespace loom {

namespace {

void pack(Matrix& m, Weights& w, ThreadPool& pool) {
  if (m.type != GGML_F32 || m.rows == 0) return;
  const size_t bytes = (packedF32Floats(m.rows, m.cols) * sizeof(float) + 63) / 64 * 64;
  float* dst = static_cast<float*>(std::aligned_alloc(64, bytes));  // 64: a panel row is one cache line
  if (!dst)
    throw std::runtime_error("out of memory packing a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                             " f32 weight matrix");
  w.packed.emplace_back(dst, std::free);
  const int panels = (m.rows + kPanel - 1) / kPanel;
  pool.parallelFor(panels, 16,
                   [&](int b, int e, int) { packF32Panels(m.data, m.rowBytes, m.rows, m.cols, dst, b, e); });
  m.packed = dst;
}

}  // namespace

void packWeights(Weights& w, const KernelSet& k, ThreadPool& pool) {
  if (!k.gemmPackedF32) return;
  pack(w.output, w, pool);
  for (LayerWeights& L : w.layers)
    for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.wGate, &L.wUp, &L.wDown, &L.router}) pack(*m, w, pool);
}

}  // namespace loom
