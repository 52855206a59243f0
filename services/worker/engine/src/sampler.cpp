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
// The largest of x[0..n) (n >= 1), as a loop of `m = x[i] > m ? x[i] : m` gives it (NaNs skipped unless x[0] is one):
// four-float vectors of GCC / Clang's vector extension, since the compiler does not vectorise a float max reduction
// by itself. A scalar pass over a 32000-token vocabulary cost ~20 us a row, twice per sampled row.
float maxOf(const float* x, int n) {
  typedef float v4 __attribute__((vector_size(16)));
  const v4 first = {x[0], x[0], x[0], x[0]};
  v4 acc[4] = {first, first, first, first};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 4; j++) {
      v4 v;
      __builtin_memcpy(&v, x + i + 4 * j, sizeof v);
      acc[j] = v > acc[j] ? v : acc[j];
    }
  float m = x[0];
  for (int j = 0; j < 4; j++)
    for (int l = 0; l < 4; l++) m = acc[j][l] > m ? acc[j][l] : m;
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

// The first i with x[i] == v, 16 compares at a time (vectorised) until a block holds it; 0 if none (v is then a NaN
// maxOf took from x[0]). So firstEqual(x, n, maxOf(x, n)) is the argmax loop `if (x[i] > x[b]) b = i`: the lowest id
// among ties (-0 == +0), index 0 when x[0] is a NaN.
int firstEqual(const float* x, int n, float v) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    bool any = false;
    for (int j = 0; j < 16; j++) any |= x[i + j] == v;
    if (any) break;
  }
  for (; i < n; i++)
    if (x[i] == v) return i;
  return 0;
}
}  // namespace

double counterUniform(uint32_t seed, uint64_t counter) {
  return (double)(splitmix64(splitmix64(seed) ^ counter) >> 11) * 0x1.0p-53;
}

void Sampler::allocate(int vocab, int threads, const KernelSet& k) {
  k_ = &k;
  vocab_ = vocab;
  idx_.assign((size_t)vocab * threads, 0);
  prob_.assign((size_t)vocab * threads, 0.f);
  adj_.assign((size_t)vocab * threads, 0.f);
  allowed_.assign((size_t)vocab * threads, 0.f);
  count_.assign((size_t)vocab * threads, 0);
  seen_.assign((size_t)vocab * threads, 0);
}

void Sampler::processLogits(const float* logits, const SamplingParams& p, int thread, float* adj) {
  const int V = vocab_;
  std::copy(logits, logits + V, adj);
  for (int j = 0; j < p.nBias; j++) adj[p.biasIds[j]] += p.biasValues[j];
  for (int j = 0; j < p.nMask; j++) adj[p.maskIds[j]] = -INFINITY;
  if (p.repetitionPenalty == 1.f && p.presencePenalty == 0.f && p.frequencyPenalty == 0.f) return;
  int32_t* count = &count_[(size_t)thread * V];
  uint8_t* seen = &seen_[(size_t)thread * V];
  for (int j = 0; j < p.nPrompt; j++) seen[p.promptIds[j]] = 1;
  for (int j = 0; j < p.nOutput; j++) {
    seen[p.outputIds[j]] = 1;
    count[p.outputIds[j]]++;
  }
  // Each distinct token once (seen 1 -> 2): the penalties depend on membership and counts, not on order.
  auto penalise = [&](int32_t id) {
    if (seen[id] != 1) return;
    seen[id] = 2;
    float& l = adj[id];
    if (p.repetitionPenalty != 1.f) l = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty;
    l -= p.frequencyPenalty * (float)count[id] + (count[id] > 0 ? p.presencePenalty : 0.f);
  };
  if (p.repetitionPenalty != 1.f)
    for (int j = 0; j < p.nPrompt; j++) penalise(p.promptIds[j]);
  for (int j = 0; j < p.nOutput; j++) penalise(p.outputIds[j]);
  // Restore the all-zero invariant touching only what was set.
  for (int j = 0; j < p.nPrompt; j++) seen[p.promptIds[j]] = 0;
  for (int j = 0; j < p.nOutput; j++) seen[p.outputIds[j]] = count[p.outputIds[j]] = 0;
}

bool Sampler::applyAllowed(const float* raw, const uint32_t* allowed, float* out) const {
  const int V = vocab_;
  uint32_t any = 0;
  for (int w = 0; w < V / 32; w++) any |= allowed[w];
  if (V % 32 != 0) any |= allowed[V / 32] & ((1u << (V % 32)) - 1);  // bits past the vocabulary do not count
  if (any == 0) return false;
  for (int i = 0; i < V; i++) out[i] = (allowed[i >> 5] >> (i & 31)) & 1u ? raw[i] : -INFINITY;
  return true;
}

int Sampler::sample(const float* raw, const SamplingParams& p, int thread, float* logprob, int topN, int32_t* topIds,
                    float* topLogprobs) {
  const int V = vocab_;
  int32_t* idx = &idx_[(size_t)thread * V];
  float* prob = &prob_[(size_t)thread * V];

  // Structured outputs: from here on "raw" is the model's logits restricted to what the grammar allows.
  if (p.allowed != nullptr) {
    float* masked = &allowed_[(size_t)thread * V];
    if (applyAllowed(raw, p.allowed, masked)) raw = masked;
  }

  float rawMax;
  const double logZ = rawLogZ(raw, thread, &rawMax);  // for the reported logprobs

  // The logits to sample from: processed when the request asks for it.
  const float* logits = raw;
  if (p.processesLogits()) {
    float* adj = &adj_[(size_t)thread * V];
    processLogits(raw, p, thread, adj);
    logits = adj;
  }

  // The lowest id of the largest logit.
  int best = firstEqual(logits, V, logits == raw ? rawMax : maxOf(logits, V));
  if (logits[best] == -INFINITY) {  // everything masked: nothing sensible is left, so ignore the processing
    logits = raw;
    best = firstEqual(raw, V, rawMax);
  }
  const float maxLogit = logits[best];
  // Candidate order: higher logit first, ties to the lower id, so every sort is deterministic.
  auto higher = [logits](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };

  int token = best;
  if (p.temperature > 0.f) {
    const double invT = 1.0 / p.temperature;
    // weight(i) = exp((logit - max) / temperature): unnormalised tempered probability, 1 for the top token.
    auto weight = [&](int32_t i) { return std::exp(((double)logits[i] - maxLogit) * invT); };
    for (int i = 0; i < V; i++) idx[i] = i;
    int n = V;  // candidates kept so far: idx[0..n)
    bool sorted = false;
    if (p.topK > 0 && p.topK < V) {
      std::nth_element(idx, idx + p.topK, idx + V, higher);
      n = p.topK;
      std::sort(idx, idx + n, higher);
      sorted = true;
    } else if (p.topP < 1.f || p.minP > 0.f) {
      // Sorting a 128k vocabulary per token is slow, and top-p / min-p nearly always keep a short head.
      // Sort only the top kHead when the head provably contains the cut; else sort everything.
      constexpr int kHead = 1024;
      bool headSuffices = false;
      if (V > kHead) {
        std::nth_element(idx, idx + kHead, idx + V, higher);
        std::sort(idx, idx + kHead, higher);
        double all = 0, head = 0;
        for (int i = 0; i < V; i++) all += weight(i);
        for (int j = 0; j < kHead; j++) head += weight(idx[j]);
        const bool topPCutsInHead = p.topP < 1.f && head >= p.topP * all;
        const bool minPCutsInHead = p.minP > 0.f && weight(idx[kHead - 1]) < p.minP;  // the top weight is 1
        headSuffices = topPCutsInHead || minPCutsInHead;
        if (headSuffices) n = kHead;
      }
      if (!headSuffices) std::sort(idx, idx + V, higher);
      sorted = true;
    }
    // Mass that top-p measures against: the top-k candidates when top-k applies (vLLM's order),
    // else the whole vocabulary, summed in id order so both sort paths agree.
    double total = 0;
    if (p.topK > 0 && p.topK < V) {
      for (int j = 0; j < n; j++) total += weight(idx[j]);
    } else {
      for (int i = 0; i < V; i++) total += weight(i);
    }
    for (int j = 0; j < n; j++) prob[j] = (float)weight(idx[j]);
    if (sorted && p.topP < 1.f) {
      // Keep the smallest prefix whose mass reaches topP (at least one token).
      double cum = 0;
      for (int j = 0; j < n; j++) {
        cum += prob[j];
        if (cum >= p.topP * total) {
          n = j + 1;
          break;
        }
      }
    }
    if (sorted && p.minP > 0.f) {
      const float threshold = p.minP * prob[0];
      int keep = 1;
      while (keep < n && prob[keep] >= threshold) keep++;
      n = keep;
    }
    double kept = 0;
    for (int j = 0; j < n; j++) kept += prob[j];
    const double u = counterUniform(p.seed, p.rngCounter) * kept;
    double cum = 0;
    token = idx[n - 1];
    for (int j = 0; j < n; j++) {
      cum += prob[j];
      if (u < cum) {
        token = idx[j];
        break;
      }
    }
  }
  *logprob = (float)((double)raw[token] - logZ);
  writeTop(raw, logZ, thread, topN, topIds, topLogprobs);
  return token;
}

double Sampler::rawLogZ(const float* raw, int thread, float* maxOut) {
  const int V = vocab_;
  const float rawMax = maxOf(raw, V);
  if (maxOut) *maxOut = rawMax;
  // The vector sets' exp (kernels.h): a per-step cost of B x vocab exps, which double-precision std::exp made as
  // large as the LM head's GEMM at B = 64.
  return (double)rawMax + std::log(k_->expShiftSum(&prob_[(size_t)thread * V], raw, V, rawMax));
}

void Sampler::writeTop(const float* raw, double logZ, int thread, int topN, int32_t* topIds, float* topLogprobs) {
  if (topN <= 0) return;
  const int V = vocab_;
  int32_t* idx = &idx_[(size_t)thread * V];
  auto rawHigher = [raw](int32_t a, int32_t b) { return raw[a] > raw[b] || (raw[a] == raw[b] && a < b); };
  for (int i = 0; i < V; i++) idx[i] = i;
  const int k = std::min(topN, V);
  std::partial_sort(idx, idx + k, idx + V, rawHigher);
  for (int j = 0; j < topN; j++) {
    // A token the allowed-token mask ruled out (-inf) is no alternative: padded like ids past the vocabulary.
    const bool real = j < k && raw[idx[j]] != -INFINITY;
    topIds[j] = real ? idx[j] : -1;
    topLogprobs[j] = real ? (float)((double)raw[idx[j]] - logZ) : NAN;
  }
}

void Sampler::score(const float* raw, int token, int thread, float* logprob, int topN, int32_t* topIds,
                    float* topLogprobs) {
  const double logZ = rawLogZ(raw, thread);
  *logprob = token >= 0 ? (float)((double)raw[token] - logZ) : NAN;
  writeTop(raw, logZ, thread, topN, topIds, topLogprobs);
}

}  // namespace loom
