// The forward pass's weight GEMMs: an op group (q/k/v, gate/up, or one matrix) as one parallel-for over the rows of
// all its matrices, each matrix through its kernel: packed f32 panels, packed q8_0 / q4_K panels, the integer block
// GEMM on int8 activations, or the f16 / bf16 (or unpacked f32) row GEMM.
#include <algorithm>

#include "forward.h"

namespace loom {

namespace {
constexpr int kRowUnit = 16;  // rows per work unit of a row GEMM (packed: the kernel's micro-tile of panels)
constexpr int kMaxJobs = 4;
}  // namespace

int Forward::actKinds() const {
  bool seen[kActCount] = {};
  auto note = [&](const Matrix& m) {
    if (const IntegerGemm q = integerGemm(k_, m.type); q.gemm) seen[q.acts] = true;
  };
  note(w_.output);
  for (const LayerWeights& L : w_.layers)
    for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.wGate, &L.wUp, &L.wDown, &L.router}) note(*m);
  return (int)std::count(seen, seen + kActCount, true);
}

void Forward::matmuls(const float* x, int T, const GemmJob* jobs, int n) {
  const int K = jobs[0].w->cols;
  const size_t xs = (size_t)(K / 32) * kQ8ActBytes;  // bytes of one token's int8 row
  // Like llama.cpp: activations to int8 blocks (per token row, so batch-invariant; of the kind llama.cpp pairs with
  // the weight type: q8_0, q8_1 or q8_K), once per kind the group's integer GEMMs take, into slot `slot[kind]`.
  int slot[kActCount] = {-1, -1, -1}, kinds[kActCount], nKinds = 0;
  IntegerGemm q[kMaxJobs];
  int units[kMaxJobs + 1] = {0};  // job j's work units are [units[j], units[j + 1])
  for (int j = 0; j < n; j++) {
    const Matrix& w = *jobs[j].w;
    q[j] = integerGemm(k_, w.type);
    if (q[j].gemm && slot[q[j].acts] < 0) slot[q[j].acts] = nKinds, kinds[nKinds++] = q[j].acts;
    const int rowsPerUnit = w.packed      ? k_.packedPanels * kPanel
                            : w.packedQ8  ? kPackedQ8PanelGroup * kPanel
                            : w.packedQ4K ? kPackedQ4KPanelGroup * kPanel
                                          : kRowUnit;
    units[j + 1] = units[j] + (w.rows + rowsPerUnit - 1) / rowsPerUnit;
  }
  uint8_t* xq = xq_.data();
  if (nKinds > 0)
    pool_.parallelFor(T * nKinds, 4, [&](int b, int e, int) {
      for (int i = b; i < e; i++) {
        const int t = i % T, s = i / T;
        k_.quantizeActs[kinds[s]](x + (size_t)t * K, xq + s * xqStride_ + (size_t)t * xs, K);
      }
    });
  pool_.parallelFor(units[n], 1, [&](int b, int e, int) {
    for (int j = 0; j < n; j++) {
      const int u0 = std::max(b, units[j]) - units[j], u1 = std::min(e, units[j + 1]) - units[j];
      if (u0 >= u1) continue;
      const Matrix& w = *jobs[j].w;
      float* y = jobs[j].y;
      if (w.packed) {
        const int panels = (w.rows + kPanel - 1) / kPanel, np = k_.packedPanels;
        k_.gemmPackedF32(w.packed, x, y, K, T, w.rows, w.rows, u0 * np, std::min(u1 * np, panels));
      } else if (w.packedQ8) {
        const int panels = (w.rows + kPanel - 1) / kPanel, np = kPackedQ8PanelGroup;
        k_.gemmPackedQ8_0(w.packedQ8, xq + slot[q[j].acts] * xqStride_, y, K, T, w.rows, w.rows, u0 * np,
                          std::min(u1 * np, panels));
      } else if (w.packedQ4K) {
        const int panels = (w.rows + kPanel - 1) / kPanel, np = kPackedQ4KPanelGroup;
        k_.gemmPackedQ4_K(w.packedQ4K, xq + slot[q[j].acts] * xqStride_, y, K, T, w.rows, w.rows, u0 * np,
                          std::min(u1 * np, panels));
      } else if (q[j].gemm) {
        q[j].gemm(w.data, w.rowBytes, xq + slot[q[j].acts] * xqStride_, y, K, T, w.rows, u0 * kRowUnit,
                  std::min(u1 * kRowUnit, w.rows));
      } else {  // f32 (unpacked), f16 or bf16: loadWeights admits nothing else
        floatGemm(k_, w.type)(w.data, w.rowBytes, x, y, K, T, w.rows, u0 * kRowUnit, std::min(u1 * kRowUnit, w.rows));
      }
    }
  });
}

}  // namespace loom
