// See reference-forward.h. Shapes: T tokens; activations are [T][width] row-major std::vector<double>. This is
// the definition of every family's math (the header of forward.cpp states the same steps); each step is
// written out once, in the order llama.cpp's graphs apply them.
#include "reference-forward.h"

#include <algorithm>
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

// x[r] / sqrt(mean(x[r]^2) + eps) * weight, over rows of width n (rows of one token, or of one head).
Rows rmsnorm(const Rows& x, const float* weight, int n, double eps) {
  Rows y(x.size());
  for (size_t r = 0; r < x.size() / n; r++) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[r * n + i] * x[r * n + i];
    const double scale = 1.0 / std::sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * scale * weight[i];
  }
  return y;
}

// The angle of frequency i at position p under setting r, and its magnitude (see RopeSpec in model-config.h).
void ropeAngle(const RopeSpec& r, int nRot, int p, int i, double* angle, double* mscale) {
  const double extrap = p * std::pow((double)r.base, -2.0 * i / nRot) / r.factors[(size_t)i];
  const double interp = r.freqScale * extrap;
  *angle = interp;
  *mscale = r.attnFactor;
  if (r.extFactor != 0) {  // YaRN: interpolate low frequencies, extrapolate high ones, ramp between
    const double pi = 3.14159265358979323846;
    auto corrDim = [&](double rotations) {
      return nRot * std::log(r.originalContext / (rotations * 2 * pi)) / (2 * std::log((double)r.base));
    };
    const double low = std::max(0.0, std::floor(corrDim(r.betaFast)));
    const double high = std::min((double)nRot - 1, std::ceil(corrDim(r.betaSlow)));
    const double mix = (1 - std::min(1.0, std::max(0.0, (i - low) / std::max(0.001, high - low)))) * r.extFactor;
    *angle = interp * (1 - mix) + extrap * mix;
    *mscale *= 1 + 0.1 * std::log(1.0 / r.freqScale);
  }
}

// Rotates the first nRot dims of every head of v [T][nHeads][headDim]; token t sits at position t.
void rope(const ModelConfig& c, const RopeSpec& r, Rows& v, int T, int nHeads) {
  const int half = c.nRot / 2;
  for (int t = 0; t < T; t++)
    for (int h = 0; h < nHeads; h++) {
      double* p = &v[((size_t)t * nHeads + h) * c.headDim];
      for (int i = 0; i < half; i++) {
        double angle, m;
        ropeAngle(r, c.nRot, t, i, &angle, &m);
        // NORM pairs adjacent dims (GGUF llama layout); NEOX pairs dim i with i + nRot/2.
        const int a = c.ropeStyle == RopeStyle::NEOX ? i : 2 * i,
                  b = c.ropeStyle == RopeStyle::NEOX ? i + half : 2 * i + 1;
        const double x0 = p[a], x1 = p[b];
        p[a] = m * (x0 * std::cos(angle) - x1 * std::sin(angle));
        p[b] = m * (x0 * std::sin(angle) + x1 * std::cos(angle));
      }
    }
}

double softcap(double x, double cap) { return cap > 0 ? cap * std::tanh(x / cap) : x; }

// act(g) * u, the gated activation.
double gated(const ModelConfig& c, double g, double u) {
  if (c.activation == Activation::GELU_TANH)
    return 0.5 * g * (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (g + 0.044715 * g * g * g))) * u;
  if (c.activation == Activation::SWIGLU_OAI) {  // gpt-oss: clamps at 7, sigmoid(1.702 g), (u + 1)
    const double x = std::min(g, 7.0), y = std::min(std::max(u, -7.0), 7.0);
    return x / (1.0 + std::exp(-1.702 * x)) * (y + 1);
  }
  return g / (1.0 + std::exp(-g)) * u;  // silu
}

// The mixture-of-experts FFN of xb [T][dim] (model-config.h's MoeGating): per token, the k experts with the
// largest router logits, weighted, each a gated FFN of its own.
Rows moe(const ModelConfig& c, const LayerWeights& L, const Rows& xb, int T) {
  const int E = c.moe.nExperts, k = c.moe.nUsed, H = c.moe.hiddenDim, dim = c.dim;
  const Rows r = linear(L.router, xb, T, L.routerBias);
  Rows out((size_t)T * dim, 0.0);
  for (int t = 0; t < T; t++) {
    const double* rt = &r[(size_t)t * E];
    std::vector<int> order((size_t)E);
    for (int e = 0; e < E; e++) order[(size_t)e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return rt[a] > rt[b]; });
    std::vector<double> w((size_t)k);
    double sum = 0;
    if (c.moe.gating == MoeGating::SOFTMAX) {
      for (int e = 0; e < E; e++) sum += std::exp(rt[e] - rt[order[0]]);
      double ws = 0;
      for (int i = 0; i < k; i++) ws += (w[(size_t)i] = std::exp(rt[order[(size_t)i]] - rt[order[0]]) / sum);
      if (c.moe.normTopK)
        for (double& v : w) v /= std::max(ws, 6.103515625e-5);
    } else {
      for (int i = 0; i < k; i++) sum += (w[(size_t)i] = std::exp(rt[order[(size_t)i]] - rt[order[0]]));
      for (double& v : w) v /= sum;
    }
    const Rows x1(xb.begin() + (size_t)t * dim, xb.begin() + (size_t)(t + 1) * dim);
    for (int i = 0; i < k; i++) {
      const size_t e = (size_t)order[(size_t)i];
      Rows g = linear(L.gateExps.of((int)e), x1, 1, L.gateExpsBias ? L.gateExpsBias + e * H : nullptr);
      const Rows u = linear(L.upExps.of((int)e), x1, 1, L.upExpsBias ? L.upExpsBias + e * H : nullptr);
      for (int j = 0; j < H; j++) g[(size_t)j] = gated(c, g[(size_t)j], u[(size_t)j]);
      const Rows d = linear(L.downExps.of((int)e), g, 1, L.downExpsBias ? L.downExpsBias + e * dim : nullptr);
      for (int j = 0; j < dim; j++) out[(size_t)t * dim + j] += w[(size_t)i] * d[(size_t)j];
    }
  }
  return out;
}

}  // namespace

namespace {

// [T][dim] rmsnorm(x) * output_norm after every layer: the rows the logits and the embeddings come from.
Rows finalHidden(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens) {
  const int T = (int)tokens.size(), dim = c.dim, hd = c.headDim, group = c.nHeads / c.nKvHeads;
  Rows x((size_t)T * dim);
  std::vector<float> row((size_t)dim);
  for (int t = 0; t < T; t++) {
    dequantizeRow(w.tokenEmbd, tokens[(size_t)t], row.data());
    for (int i = 0; i < dim; i++) x[(size_t)t * dim + i] = row[(size_t)i] * (double)c.embedScale;
  }

  for (int l = 0; l < c.nLayers; l++) {
    const LayerWeights& L = w.layers[(size_t)l];
    const LayerSpec& spec = c.layers[(size_t)l];
    // Attention: causal over positions max(0, t - window + 1)..t, query head h reads KV head h / group (GQA).
    Rows xb = rmsnorm(x, L.attnNorm, dim, c.normEps);
    Rows q = linear(L.wq, xb, T, L.bq), k = linear(L.wk, xb, T, L.bk), v = linear(L.wv, xb, T, L.bv);
    if (L.qNorm) {
      q = rmsnorm(q, L.qNorm, hd, c.normEps);
      k = rmsnorm(k, L.kNorm, hd, c.normEps);
    }
    if (spec.rope >= 0) {
      rope(c, c.ropes[(size_t)spec.rope], q, T, c.nHeads);
      rope(c, c.ropes[(size_t)spec.rope], k, T, c.nKvHeads);
    }
    Rows att((size_t)T * c.qDim(), 0.0);
    std::vector<double> score((size_t)T);
    for (int t = 0; t < T; t++) {
      const int j0 = spec.window > 0 ? std::max(0, t - spec.window + 1) : 0;
      for (int h = 0; h < c.nHeads; h++) {
        const double* qh = &q[(size_t)t * c.qDim() + (size_t)h * hd];
        const size_t kvOff = (size_t)(h / group) * hd;
        const double sink = L.sinks ? L.sinks[h] : -INFINITY;  // gpt-oss: a logit with no value
        double max = sink;
        for (int j = j0; j <= t; j++) {
          double s = 0;
          for (int i = 0; i < hd; i++) s += qh[i] * k[(size_t)j * c.kvDim() + kvOff + i];
          score[(size_t)j] = softcap(s * c.attnScale, c.attnSoftcap);
          max = std::fmax(max, score[(size_t)j]);
        }
        double sum = L.sinks ? std::exp(sink - max) : 0.0;
        for (int j = j0; j <= t; j++) sum += (score[(size_t)j] = std::exp(score[(size_t)j] - max));
        double* out = &att[(size_t)t * c.qDim() + (size_t)h * hd];
        for (int j = j0; j <= t; j++)
          for (int i = 0; i < hd; i++) out[i] += score[(size_t)j] / sum * v[(size_t)j * c.kvDim() + kvOff + i];
      }
    }
    Rows o = linear(L.wo, att, T, L.bo);
    if (L.attnPostNorm) o = rmsnorm(o, L.attnPostNorm, dim, c.normEps);
    for (size_t i = 0; i < x.size(); i++) x[i] += c.residualScale * o[i];

    // Gated feed-forward: act(x Wgate^T) * (x Wup^T), then Wdown; or the mixture of experts.
    xb = rmsnorm(x, L.ffnNorm, dim, c.normEps);
    Rows d;
    if (spec.ffn == FfnKind::MOE) {
      d = moe(c, L, xb, T);
    } else {
      Rows g = linear(L.wGate, xb, T), u = linear(L.wUp, xb, T);
      for (size_t i = 0; i < g.size(); i++) g[i] = gated(c, g[i], u[i]);
      d = linear(L.wDown, g, T);
    }
    if (L.ffnPostNorm) d = rmsnorm(d, L.ffnPostNorm, dim, c.normEps);
    for (size_t i = 0; i < x.size(); i++) x[i] += c.residualScale * d[i];
  }

  return rmsnorm(x, w.outputNorm, dim, c.normEps);
}

}  // namespace

std::vector<float> referenceHidden(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens) {
  const Rows h = finalHidden(c, w, tokens);
  return std::vector<float>(h.begin(), h.end());
}

std::vector<float> referenceLogits(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens) {
  const Rows logits = linear(w.output, finalHidden(c, w, tokens), (int)tokens.size());
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); i++) out[i] = (float)softcap(logits[i] * c.logitScale, c.finalSoftcap);
  return out;
}

}  // namespace loom
