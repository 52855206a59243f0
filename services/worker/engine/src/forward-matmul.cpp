// The forward pass's weight GEMMs: an op group (q/k/v, gate/up, or one matrix) as one parallel-for over the rows of
// all its matrices, each matrix through its kernel: packed f32 panels, packed q8_0 / q4_K panels, the integer block
// GEMM on int8 activations, or the f16 / bf16 (or unpacked f32) row GEMM.
#include <algorithm>

#include "forward.h"

namespace loom {

namespace {
constexpr int kRowUnit = 16;  // rows per work unit of a row GEMM (packed: the kernel's micro-tile of panels)
constexpr int kMaxJobs = 4;
// At large T (a prefill of many prompts) a group's row units are too few and too big to share out evenly (wo at T =
// 2048: 9 units of ~0.3 ms for 2 threads), so the tokens are cut into blocks as well: about kUnitsPerThread units a
// thread, blocks of at least kMinTokenBlock tokens (a multiple of 12, so of every kernel's token tile: f32 and q8_0 6,
// q4_K 4), below which the weights would be re-read from L2 for too few tokens.
constexpr int kUnitsPerThread = 16, kMinTokenBlock = 96;
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
  int tokenBlock = T;
  if (T >= 2 * kMinTokenBlock) {
    const int want = (kUnitsPerThread * pool_.size() + units[n] - 1) / units[n];
    const int blocks = std::clamp(want, 1, T / kMinTokenBlock);
    tokenBlock = ((T + blocks - 1) / blocks + 11) / 12 * 12;
  }
  const int tokenBlocks = (T + tokenBlock - 1) / tokenBlock, rowUnits = units[n];
  uint8_t* xq = xq_.data();
  if (nKinds > 0)
    pool_.parallelFor(T * nKinds, 4, [&](int b, int e, int) {
      for (int i = b; i < e; i++) {
        const int t = i % T, s = i / T;
        k_.quantizeActs[kinds[s]](x + (size_t)t * K, xq + s * xqStride_ + (size_t)t * xs, K);
      }
    });
  // Unit i: token block i / rowUnits, row unit i % rowUnits (a chunk walks the rows of one block of tokens).
  pool_.parallelFor(tokenBlocks * rowUnits, 1, [&](int cb, int ce, int) {
    for (int blk = cb / rowUnits; blk * rowUnits < ce; blk++) {
      const int b = std::max(cb - blk * rowUnits, 0), e = std::min(ce - blk * rowUnits, rowUnits);
      const int t0 = blk * tokenBlock, tn = std::min(tokenBlock, T - t0);
      gemmRows(x + (size_t)t0 * K, xq + (size_t)t0 * xs, tn, jobs, n, q, slot, units, b, e, t0);
    }
  });
}

// Row units [b, e) of the group's jobs (numbered as in matmuls) for T tokens starting at token t0 of each job's y; x
// and xq point at those tokens' rows.
void Forward::gemmRows(const float* x, const uint8_t* xq, int T, const GemmJob* jobs, int n, const IntegerGemm* q,
                       const int* slot, const int* units, int b, int e, int t0) {
  const int K = jobs[0].w->cols;
  for (int j = 0; j < n; j++) {
    const int u0 = std::max(b, units[j]) - units[j], u1 = std::min(e, units[j + 1]) - units[j];
    if (u0 >= u1) continue;
    const Matrix& w = *jobs[j].w;
    float* y = jobs[j].y + (size_t)t0 * w.rows;
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
}

}  // namespace loom
