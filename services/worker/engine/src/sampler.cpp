#include "sampler.h"

#include <algorithm>
#include <cmath>

namespace loom {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

double counterUniform(uint32_t seed, uint64_t counter) {
  return (double)(splitmix64(splitmix64(seed) ^ counter) >> 11) * 0x1.0p-53;
}

void Sampler::allocate(int vocab, int threads) {
  vocab_ = vocab;
  idx_.assign((size_t)vocab * threads, 0);
  prob_.assign((size_t)vocab * threads, 0.f);
}

int Sampler::sample(const float* logits, const SamplingParams& p, int thread, float* logprob, int topN, int32_t* topIds, float* topLogprobs) {
  const int V = vocab_;
  int32_t* idx = &idx_[(size_t)thread * V];
  float* prob = &prob_[(size_t)thread * V];
  // Candidate order: higher logit first, ties to the lower id, so every sort is deterministic.
  auto higher = [logits](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };

  int best = 0;
  for (int i = 1; i < V; i++)
    if (logits[i] > logits[best]) best = i;
  const float maxLogit = logits[best];
  double sum = 0;
  for (int i = 0; i < V; i++) sum += std::exp((double)logits[i] - maxLogit);
  const double logZ = (double)maxLogit + std::log(sum);

  int token = best;
  if (p.temperature > 0.f) {
    int n = V;
    bool sorted = false;
    for (int i = 0; i < V; i++) idx[i] = i;
    if (p.topK > 0 && p.topK < V) {
      std::nth_element(idx, idx + p.topK, idx + V, higher);
      n = p.topK;
      std::sort(idx, idx + n, higher);
      sorted = true;
    } else if (p.topP < 1.f || p.minP > 0.f) {
      std::sort(idx, idx + V, higher);
      sorted = true;
    }
    // prob[j] = exp((logit - max) / temperature) of candidate j; the top candidate (if sorted) has 1.
    double total = 0;
    const double invT = 1.0 / p.temperature;
    for (int j = 0; j < n; j++) {
      prob[j] = (float)std::exp(((double)logits[idx[j]] - maxLogit) * invT);
      total += prob[j];
    }
    if (sorted && p.topP < 1.f) {
      // Keep the smallest prefix whose mass reaches topP (at least one token).
      double cum = 0;
      int keep = n;
      for (int j = 0; j < n; j++) {
        cum += prob[j];
        if (cum >= p.topP * total) { keep = j + 1; break; }
      }
      n = keep;
    }
    if (sorted && p.minP > 0.f) {
      const float threshold = p.minP * prob[0];
      int keep = 1;
      while (keep < n && prob[keep] >= threshold) keep++;
      n = keep;
    }
    total = 0;
    for (int j = 0; j < n; j++) total += prob[j];
    const double u = counterUniform(p.seed, p.rngCounter) * total;
    double cum = 0;
    token = idx[n - 1];
    for (int j = 0; j < n; j++) {
      cum += prob[j];
      if (u < cum) { token = idx[j]; break; }
    }
  }
  *logprob = (float)((double)logits[token] - logZ);

  if (topN > 0) {
    for (int i = 0; i < V; i++) idx[i] = i;
    const int k = std::min(topN, V);
    std::partial_sort(idx, idx + k, idx + V, higher);
    for (int j = 0; j < topN; j++) {
      topIds[j] = j < k ? idx[j] : -1;
      topLogprobs[j] = j < k ? (float)((double)logits[idx[j]] - logZ) : NAN;
    }
  }
  return token;
}

}  // namespace loom
