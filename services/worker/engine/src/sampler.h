// Per-sequence sampling from raw logits: greedy, or temperature with top-k, top-p and min-p, drawing from
// a counter-based RNG so the draw for output token k of a sequence depends on (seed, k) only.
#pragma once
#include <cstdint>
#include <vector>

#include "step-batch.h"

namespace loom {

// The uniform in [0, 1) for draw `counter` of `seed`: splitmix64 of the pair, top 53 bits.
double counterUniform(uint32_t seed, uint64_t counter);

class Sampler {
 public:
  // Scratch for `threads` concurrent calls over a vocabulary of `vocab` tokens.
  void allocate(int vocab, int threads);

  // logits: [vocab] raw. Returns the token; *logprob = log_softmax(logits)[token].
  // When topN > 0, writes the topN most likely tokens (by raw logit, ties to the lower id) and their
  // logprobs to topIds[topN] / topLogprobs[topN].
  int sample(const float* logits, const SamplingParams& p, int thread, float* logprob, int topN, int32_t* topIds, float* topLogprobs);

 private:
  int vocab_ = 0;
  std::vector<int32_t> idx_;   // [threads][vocab] candidate ids
  std::vector<float> prob_;    // [threads][vocab] unnormalised candidate probabilities
};

}  // namespace loom
