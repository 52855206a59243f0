// Per-sequence sampling from raw logits: greedy, or temperature with top-k, top-p and min-p, drawing from
// a counter-based RNG so the draw for output token k of a sequence depends on (seed, k) only.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels.h"
#include "step-batch.h"

namespace loom {

// The uniform in [0, 1) for draw `counter` of `seed`: splitmix64 of the pair, top 53 bits.
double counterUniform(uint32_t seed, uint64_t counter);

class Sampler {
 public:
  // Scratch for `threads` concurrent calls over a vocabulary of `vocab` tokens; k's expShiftSum for log Z.
  void allocate(int vocab, int threads, const KernelSet& k);

  // logits: [vocab] raw. The allowed-token mask (p.allowed, structured outputs) comes first: disallowed logits
  // become -inf in a per-thread copy, which then stands for the raw logits everywhere below, as vLLM applies
  // its grammar bitmask to the logits before its sampler. Then p's logit processing (bias, mask, penalties)
  // to another per-thread copy, and sampling from that. Returns the token; *logprob = log_softmax(raw
  // logits)[token] (vLLM's default raw_logprobs: logprobs describe the model, not the processed
  // distribution; under a grammar, the model renormalised over what the grammar allows).
  // When topN > 0, writes the topN most likely tokens (by raw logit, ties to the lower id) and their
  // logprobs to topIds[topN] / topLogprobs[topN].
  int sample(const float* logits, const SamplingParams& p, int thread, float* logprob, int topN, int32_t* topIds,
             float* topLogprobs);

  // Prompt logprobs: *logprob = log_softmax(raw)[token] (NaN when token < 0) and the topN as sample() reports them.
  void score(const float* raw, int token, int thread, float* logprob, int topN, int32_t* topIds, float* topLogprobs);

 private:
  int vocab_ = 0;
  const KernelSet* k_ = nullptr;
  std::vector<int32_t> idx_;    // [threads][vocab] candidate ids
  std::vector<float> prob_;     // [threads][vocab] unnormalised candidate probabilities
  std::vector<float> adj_;      // [threads][vocab] processed logits
  std::vector<float> allowed_;  // [threads][vocab] raw logits with the allowed-token mask applied
  std::vector<int32_t> count_;  // [threads][vocab] occurrences in the output; kept all-zero between calls
  std::vector<uint8_t> seen_;   // [threads][vocab] 1 = in prompt or output, 2 = penalised; kept all-zero

  // log sum exp of raw[vocab] (uses the thread's prob_); *maxOut (when non-null) = the largest raw logit.
  double rawLogZ(const float* raw, int thread, float* maxOut = nullptr);
  // topIds/topLogprobs[topN]: the topN most likely raw tokens (ties to the lower id), -1 / NaN padded.
  void writeTop(const float* raw, double logZ, int thread, int topN, int32_t* topIds, float* topLogprobs);
  // out[vocab] = raw with every token the mask does not allow at -inf; false (out untouched) when it allows none.
  bool applyAllowed(const float* raw, const uint32_t* allowed, float* out) const;
  // adj[vocab] = logits with bias, mask and penalties applied.
  void processLogits(const float* logits, const SamplingParams& p, int thread, float* adj);
};

}  // namespace loom
