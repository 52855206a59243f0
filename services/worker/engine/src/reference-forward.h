// The reference forward pass: the model's math written as plainly as possible, for tests to hold every
// fast path against. One sequence, positions 0..n-1, a contiguous cache, no threads, no SIMD, every
// weight read through dequantRow (so a quantised model is compared against its dequantised weights),
// and float64 for all activations and accumulations.
#pragma once
#include <cstdint>
#include <vector>

#include "model-config.h"
#include "weights.h"

namespace loom {

// logits: [tokens.size()][vocab], the next-token logits after each position. Token ids must be valid.
std::vector<float> referenceLogits(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens);

// hidden: [tokens.size()][dim], rmsnorm(final residual stream) * output_norm at each position: what the logits are
// computed from, and what embeddings pool (llama.cpp's t_embd).
std::vector<float> referenceHidden(const ModelConfig& c, const Weights& w, const std::vector<int32_t>& tokens);

}  // namespace loom
