// What distinguishes the supported decoder families, as a table: the GGUF architecture name, the Hugging
// Face model_type(s) it comes from, and the traits the readers turn into a ModelConfig. Adding a dense
// family is a row here plus its metadata quirks in model-config.cpp / hf-config.cpp.
#pragma once
#include <string>

#include "model-config.h"

namespace loom {

struct ModelFamily {
  const char* arch;    // GGUF general.architecture
  const char* hfType;  // HF config.json model_type ("" when the family only ships GGUF here)
  // GGUF Q/K layout: NORM where convert_hf_to_gguf permutes them (llama-style), NEOX where it does not.
  // HF checkpoints always hold un-permuted Q/K, so they run NEOX.
  RopeStyle ggufRope;
  Activation activation;
  bool qkNorm;       // attn_q_norm / attn_k_norm
  bool postNorms;    // post_attention_norm / post_ffw_norm (gemma's sandwich norms)
  bool fusedGateUp;  // ffn_up = [gate; up] (phi3)
  bool gemmaScales;  // embeddings * sqrt(dim); HF norm weights are stored as w - 1 (Gemma RMSNorm multiplies by 1 + w)
  // Sliding-window metadata (`<arch>.attention.sliding_window`): -1 ignored (llama.cpp ignores it for this family),
  // 0 applied when present, W > 0 applied with W as the default.
  int window;
  int swaPattern;   // which layers slide: il % swaPattern < swaPattern - 1 (0: every layer), unless metadata says
  int noRopeEvery;  // layer il has no RoPE when (il + 1) % noRopeEvery == 0 (0: RoPE everywhere)
  // Mixture of experts: NONE (dense only), OPTIONAL (MoE when `<arch>.expert_count` > 0: llama's mixtral files),
  // REQUIRED (every layer). `gating` is how its router weighs the chosen experts.
  enum Moe { NONE, OPTIONAL, REQUIRED } moe;
  MoeGating gating;
};

// The family of a GGUF architecture name, or nullptr.
const ModelFamily* familyByArch(const std::string& arch);
// The family of an HF model_type, or nullptr (families with no HF type are GGUF-only).
const ModelFamily* familyByHfType(const std::string& modelType);
// "llama, mistral, ..." (GGUF names) / "llama, mistral, ..., gemma3_text" (HF model types).
std::string supportedHfModelTypes();

}  // namespace loom
