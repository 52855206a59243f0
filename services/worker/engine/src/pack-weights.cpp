#include "pack-weights.h"

#include <stdexcept>

#include "ggml-types.h"

namespace loom {

namespace {

void* alloc(size_t bytes, const Matrix& m, Weights& w) {
  void* dst = std::aligned_alloc(64, (bytes + 63) / 64 * 64);  // 64: a panel row is one cache line
  if (!dst)
    throw std::runtime_error("out of memory packing a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                             " weight matrix");
  w.packed.emplace_back(dst, std::free);
  return dst;
}

void pack(Matrix& m, Weights& w, const KernelSet& k, ThreadPool& pool) {
  if (m.rows == 0) return;
  const int panels = (m.rows + kPanel - 1) / kPanel;
  if (m.type == GGML_F32 && k.gemmPackedF32) {
    float* dst = static_cast<float*>(alloc(packedF32Floats(m.rows, m.cols) * sizeof(float), m, w));
    pool.parallelFor(panels, 16,
                     [&](int b, int e, int) { packF32Panels(m.data, m.rowBytes, m.rows, m.cols, dst, b, e); });
    m.packed = dst;
  } else if (m.type == GGML_Q8_0 && k.gemmPackedQ8_0) {
    uint8_t* dst = static_cast<uint8_t*>(alloc(packedQ8_0Bytes(m.rows, m.cols), m, w));
    pool.parallelFor(panels, 16,
                     [&](int b, int e, int) { packQ8_0Panels(m.data, m.rowBytes, m.rows, m.cols, dst, b, e); });
    m.packedQ8 = dst;
  } else if (m.type == GGML_Q4_K && k.gemmPackedQ4_K) {
    uint8_t* dst = static_cast<uint8_t*>(alloc(packedQ4_KBytes(m.rows, m.cols), m, w));
    pool.parallelFor(panels, 16,
                     [&](int b, int e, int) { packQ4_KPanels(m.data, m.rowBytes, m.rows, m.cols, dst, b, e); });
    m.packedQ4K = dst;
  }
}

}  // namespace

void packWeights(Weights& w, const KernelSet& k, ThreadPool& pool) {
  pack(w.output, w, k, pool);
  for (LayerWeights& L : w.layers)
    for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.wGate, &L.wUp, &L.wDown, &L.router}) pack(*m, w, k, pool);
}

}  // namespace loom
