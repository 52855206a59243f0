#include "model-family.h"

namespace loom {

namespace {

using A = Activation;
using R = RopeStyle;

// Traits per llama.cpp's src/models/<arch>.cpp (and llama-model.cpp's llama_model_rope_type).
const ModelFamily kFamilies[] = {
    // arch      hf type        rope     act           qkNorm postNorms fusedGU gemma  window swa noRope
    {"llama", "llama", R::NORM, A::SILU, false, false, false, false, 0, 0, 0},
    {"mistral", "mistral", R::NORM, A::SILU, false, false, false, false, 0, 0, 0},
    {"qwen2", "qwen2", R::NEOX, A::SILU, false, false, false, false, -1, 0, 0},
    {"qwen3", "qwen3", R::NEOX, A::SILU, true, false, false, false, -1, 0, 0},
    {"gemma2", "gemma2", R::NEOX, A::GELU_TANH, false, true, false, true, 4096, 2, 0},
    {"gemma3", "gemma3_text", R::NEOX, A::GELU_TANH, true, true, false, true, 0, 6, 0},
    // Phi-3's sliding window is off in llama.cpp (its converters write it inconsistently), so here too.
    {"phi3", "phi3", R::NEOX, A::SILU, false, false, true, false, -1, 0, 0},
    {"smollm3", "smollm3", R::NORM, A::SILU, false, false, false, false, -1, 0, 4},
    {"granite", "granite", R::NORM, A::SILU, false, false, false, false, -1, 0, 0},
};

}  // namespace

const ModelFamily* familyByArch(const std::string& arch) {
  for (const ModelFamily& f : kFamilies)
    if (arch == f.arch) return &f;
  return nullptr;
}

const ModelFamily* familyByHfType(const std::string& modelType) {
  // Gemma 3's multimodal checkpoints say "gemma3" at the top and keep the text model in text_config.
  for (const ModelFamily& f : kFamilies)
    if (modelType == f.hfType) return &f;
  return nullptr;
}

std::string supportedArchitectures() {
  std::string s;
  for (const ModelFamily& f : kFamilies) s += std::string(s.empty() ? "" : ", ") + f.arch;
  return s;
}

std::string supportedHfModelTypes() {
  std::string s;
  for (const ModelFamily& f : kFamilies) s += std::string(s.empty() ? "" : ", ") + f.hfType;
  return s + ", gemma3 (its text_config)";
}

}  // namespace loom
