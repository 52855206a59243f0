// The mixture-of-experts FFN of one layer over the T tokens of a step, as llama.cpp's build_moe_ffn computes it
// (E experts of width H, k used per token; R = T * k (token, expert) pairs):
//
//   xb = rmsnorm(x) * ffn_norm                                    [T][dim]
//   r = xb Wrouter^T [+ router bias]                              [T][E]
//   each token's k experts, best first, and their weights w       (MoeGating in model-config.h)
//   group the R pairs by expert (a counting sort: expert e's rows are [groupStart[e], groupStart[e + 1]) in
//   token order) and gather xb's rows into that order            xg: [R][dim]
//   g = xg W_gate,e^T [+ b], u = xg W_up,e^T [+ b] for every group e: one GEMM per expert over its rows, all
//   experts' tiles in one parallel-for per weight (never a loop over tokens)
//   h = act(g, u); d = h W_down,e^T [+ b]                         [R][H], [R][dim]
//   f[t] = sum over t's slots i, best first, of w_i * d[row(t, i)], added in slot order (llama.cpp's view adds)
//   x += f
//
// Batch invariance holds as for the dense FFN: a row of d depends only on its own row of xg and its expert's
// weights (the GEMM contract in kernels.h), and a token's sum only on its own slots.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "forward.h"

namespace loom {

void Forward::route(const LayerWeights& L, int T) {
  const int E = c_.moe.nExperts, k = c_.moe.nUsed;
  const bool softmaxAll = c_.moe.gating == MoeGating::SOFTMAX, norm = c_.moe.normTopK;
  float* r = routerLogits_.data();
  matmul(r, xb_.data(), T, L.router);
  addBias(r, L.routerBias, T, E);
  pool_.parallelFor(T, 8, [&](int b, int e, int) {
    bool taken[kMaxExperts];
    for (int t = b; t < e; t++) {
      const float* rt = r + (size_t)t * E;
      int* sel = &chosen_[(size_t)t * k];
      float* w = &chosenW_[(size_t)t * k];
      // The k largest logits, best first (ties: the lower expert); the softmax is monotonic, so they are also the
      // k largest probabilities.
      std::fill(taken, taken + E, false);
      for (int i = 0; i < k; i++) {
        int best = -1;
        for (int j = 0; j < E; j++)
          if (!taken[j] && (best < 0 || rt[j] > rt[best])) best = j;
        taken[best] = true;
        sel[i] = best;
      }
      if (softmaxAll) {  // ggml_soft_max over all E: exp in float, the sum in double
        float m = rt[0];
        for (int j = 1; j < E; j++) m = std::max(m, rt[j]);
        double sum = 0;
        for (int j = 0; j < E; j++) sum += std::exp(rt[j] - m);
        const float inv = (float)(1.0 / sum);
        for (int i = 0; i < k; i++) w[i] = std::exp(rt[sel[i]] - m) * inv;
        if (norm) {
          double ws = 0;
          for (int i = 0; i < k; i++) ws += w[i];
          const float d = std::max((float)ws, 6.103515625e-5f);  // llama.cpp's clamp: the smallest normal f16
          for (int i = 0; i < k; i++) w[i] /= d;
        }
      } else {  // softmax over the chosen logits; sel[0] holds the largest
        double sum = 0;
        for (int i = 0; i < k; i++) sum += (w[i] = std::exp(rt[sel[i]] - rt[sel[0]]));
        const float inv = (float)(1.0 / sum);
        for (int i = 0; i < k; i++) w[i] *= inv;
      }
    }
  });
}

void Forward::groupedMatmul(float* Y, const float* X, int R, const ExpertMatrices& W) {
  const int E = W.count, N = W.first.rows, K = W.first.cols;
  int nTasks = 0;
  for (int e = 0; e < E; e++)
    if (groupStart_[(size_t)e + 1] > groupStart_[(size_t)e])
      for (int n0 = 0; n0 < N; n0 += kMoeRows) {
        tasks_[(size_t)nTasks * 2] = e;
        tasks_[(size_t)nTasks * 2 + 1] = n0;
        nTasks++;
      }
  const int* tasks = tasks_.data();
  const int* start = groupStart_.data();
  if (const IntegerGemm q = integerGemm(k_, W.first.type); q.gemm) {
    // Activations to int8 blocks per row, as matmul() does: a gathered row quantises as its token's row would.
    const size_t xs = (size_t)(K / 32) * kQ8ActBytes;
    uint8_t* xq = xgq_.data();
    const auto quantize = k_.quantizeActs[q.acts];
    pool_.parallelFor(R, 4, [&](int b, int e, int) {
      for (int r = b; r < e; r++) quantize(X + (size_t)r * K, xq + (size_t)r * xs, K);
    });
    pool_.parallelFor(nTasks, 1, [&](int b, int e, int) {
      for (int i = b; i < e; i++) {
        const int ex = tasks[2 * i], n0 = tasks[2 * i + 1], r0 = start[ex], n = start[ex + 1] - r0;
        const Matrix m = W.of(ex);
        q.gemm(m.data, m.rowBytes, xq + (size_t)r0 * xs, Y + (size_t)r0 * N, K, n, N, n0, std::min(N, n0 + kMoeRows));
      }
    });
    return;
  }
  const GemmFn fn = floatGemm(k_, W.first.type);
  pool_.parallelFor(nTasks, 1, [&](int b, int e, int) {
    for (int i = b; i < e; i++) {
      const int ex = tasks[2 * i], n0 = tasks[2 * i + 1], r0 = start[ex], n = start[ex + 1] - r0;
      const Matrix m = W.of(ex);
      fn(m.data, m.rowBytes, X + (size_t)r0 * K, Y + (size_t)r0 * N, K, n, N, n0, std::min(N, n0 + kMoeRows));
    }
  });
}

void Forward::moeFfn(const LayerWeights& L, int T) {
  const int E = c_.moe.nExperts, k = c_.moe.nUsed, H = c_.moe.hiddenDim, dim = c_.dim, R = T * k;
  rmsnorm(xb_.data(), x_.data(), L.ffnNorm, T, dim);
  route(L, T);

  // Counting sort of the pairs by expert, tokens in order within each group.
  int* start = groupStart_.data();
  std::fill(start, start + E + 1, 0);
  for (int i = 0; i < R; i++) start[chosen_[(size_t)i] + 1]++;
  for (int e = 0; e < E; e++) start[e + 1] += start[e];
  for (int i = 0; i < R; i++) {
    const int ex = chosen_[(size_t)i], row = start[ex]++;
    rowOfSlot_[(size_t)i] = row;
    expertOfRow_[(size_t)row] = ex;
  }
  for (int e = E; e > 0; e--) start[e] = start[e - 1];  // each start[e] moved to the end of its group
  start[0] = 0;

  pool_.parallelFor(R, 16, [&](int b, int e, int) {
    for (int i = b; i < e; i++)
      std::memcpy(&xg_[(size_t)rowOfSlot_[(size_t)i] * dim], &xb_[(size_t)(i / k) * dim], sizeof(float) * dim);
  });
  groupedMatmul(eg_.data(), xg_.data(), R, L.gateExps);
  groupedMatmul(eu_.data(), xg_.data(), R, L.upExps);
  pool_.parallelFor(R, 4, [&](int b, int e, int) {
    for (int r = b; r < e; r++) {
      float* g = &eg_[(size_t)r * H];
      float* u = &eu_[(size_t)r * H];
      const size_t ex = (size_t)expertOfRow_[(size_t)r];
      if (L.gateExpsBias)
        for (int j = 0; j < H; j++) g[j] += L.gateExpsBias[ex * H + j];
      if (L.upExpsBias)
        for (int j = 0; j < H; j++) u[j] += L.upExpsBias[ex * H + j];
      gate(g, u, H);
    }
  });
  groupedMatmul(ed_.data(), eg_.data(), R, L.downExps);

  pool_.parallelFor(T, 4, [&](int b, int e, int) {
    for (int t = b; t < e; t++) {
      float* out = &proj_[(size_t)t * dim];
      for (int i = 0; i < k; i++) {
        const int row = rowOfSlot_[(size_t)t * k + i];
        const float w = chosenW_[(size_t)t * k + i];
        const float* d = &ed_[(size_t)row * dim];
        const float* bias = L.downExpsBias ? L.downExpsBias + (size_t)expertOfRow_[(size_t)row] * dim : nullptr;
        for (int j = 0; j < dim; j++) {
          const float v = (bias ? d[j] + bias[j] : d[j]) * w;
          out[j] = i == 0 ? v : out[j] + v;
        }
      }
    }
  });
  addResidual(T);
}

}  // namespace loom
