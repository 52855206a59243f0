// See reference-forward.h. Shapes: T tokens; activations are [T][width] row-major std::vector<double>.
#include "reference-forward.h"

#include <cmath>

namespace loom {

namespace {

using Rows = std::vector<double>;  // [T][width]

// y[t][n] = sum_k W[n][k] * x[t][k] (+ bias[n]); W dequantised one row at a time.
Rows linear(const Matrix& w, const Rows& x, int T, const float* bias = nullptr) {
  Rows y((size_t)T * w.rows);
  std::vector<float> row((size_t)w.cols);
  for (int n = 0; n < w.rows; n++) {
    dequantizeRow(w, n, row.data());
    for (int t = 0; t < T; t++) {
      double s = 0;
      for (int k = 0; k < w.cols; k++) s += (double)row[(size_t)k] * x[(size_t)t * w.cols + k];
      y[(size_t)t * w.rows + n] = s + (bias ? (double)bias[n] : 0.0);
    }
  }
  return y;
}

// x[t] / sqrt(mean(x[t]^2) + eps) * weight.
Rows rmsnorm(const Rows& x, const float* weight, int T, int n, double eps) {
  Rows y(x.size());
  for (int t = 0; t < T; t++) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[(size_t)t * n + i] * x[(size_t)t * n + i];
    const double scale = 1.0 / std::sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[(size_t)t * n + i] = x[(size_t)t * n + i] * scale * weight[i];
  }
  return y;
}

// Rotates the first nRot dims of every head of v [T][nHeads][headDim]; token t sits at position t.
void rope(const ModelConfig& c, Rows& v, int T, int nHeads) {
  const int half = c.nRot / 2;
  for (int t = 0; t < T; t++)
    for (int h = 0; h < nHeads; h++) {
      double* p = &v[((size_t)t * nHeads + h) * c.headDim];
      for (int i = 0; i < half; i++) {
        const double freq = std::pow((double)c.ropeTheta, -2.0 * i / c.nRot) / c.ropeFreqFactors[(size_t)i];
        const double angle = c.ropeFreqScale * t * freq;
        // NORM pairs adjacent dims (GGUF llama layout); NEOX pairs dim i with i + nRot/2.
        const int a = c.ropeStyle == RopeStyle::NEOX ? i : 2 * i,
                  b = c.ropeStyle == RopeStyle::NEOX ? i + half : 2 * i + 1;
        const double x0 = p[a], x1 = p[b];
        p[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
        p[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
      }
    }
}

}  // namespace

std::vector<float> referenceLogits(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens) {
  const int T = (int)tokens.size(), dim = c.dim, hd = c.headDim, group = c.nHeads / c.nKvHeads;
  Rows x((size_t)T * dim);
  std::vector<float> row((size_t)dim);
  for (int t = 0; t < T; t++) {
    dequantizeRow(w.tokenEmbd, tokens[(size_t)t], row.data());
    for (int i = 0; i < dim; i++) x[(size_t)t * dim + i] = row[(size_t)i];
  }

  for (const LayerWeights& L : w.layers) {
    // Attention: causal over positions 0..t, query head h reads KV head h / group (GQA).
    Rows xb = rmsnorm(x, L.attnNorm, T, dim, c.normEps);
    Rows q = linear(L.wq, xb, T, L.bq), k = linear(L.wk, xb, T, L.bk), v = linear(L.wv, xb, T, L.bv);
    rope(c, q, T, c.nHeads);
    rope(c, k, T, c.nKvHeads);
    Rows att((size_t)T * c.qDim(), 0.0);
    std::vector<double> score((size_t)T);
    for (int t = 0; t < T; t++)
      for (int h = 0; h < c.nHeads; h++) {
        const double* qh = &q[(size_t)t * c.qDim() + (size_t)h * hd];
        const size_t kvOff = (size_t)(h / group) * hd;
        double max = -INFINITY;
        for (int j = 0; j <= t; j++) {
          double s = 0;
          for (int i = 0; i < hd; i++) s += qh[i] * k[(size_t)j * c.kvDim() + kvOff + i];
          score[(size_t)j] = s / std::sqrt((double)hd);
          max = std::fmax(max, score[(size_t)j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; j++) sum += (score[(size_t)j] = std::exp(score[(size_t)j] - max));
        double* out = &att[(size_t)t * c.qDim() + (size_t)h * hd];
        for (int j = 0; j <= t; j++)
          for (int i = 0; i < hd; i++) out[i] += score[(size_t)j] / sum * v[(size_t)j * c.kvDim() + kvOff + i];
      }
    Rows o = linear(L.wo, att, T);
    for (size_t i = 0; i < x.size(); i++) x[i] += o[i];

    // SwiGLU feed-forward.
    xb = rmsnorm(x, L.ffnNorm, T, dim, c.normEps);
    Rows g = linear(L.wGate, xb, T), u = linear(L.wUp, xb, T);
    for (size_t i = 0; i < g.size(); i++) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    Rows d = linear(L.wDown, g, T);
    for (size_t i = 0; i < x.size(); i++) x[i] += d[i];
  }

  const Rows logits = linear(w.output, rmsnorm(x, w.outputNorm, T, dim, c.normEps), T);
  return std::vector<float>(logits.begin(), logits.end());
}

}  // namespace loom
