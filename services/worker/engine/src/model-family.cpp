#include "model-family.h"

namespace loom {

namespace {

using A = Activation;
using R = RopeStyle;
using F = ModelFamily;
using G = MoeGating;

// Traits per llama.cpp's src/models/<arch>.cpp (and llama-model.cpp's llama_model_rope_type).
const ModelFamily kFamilies[] = {
    // arch      hf type        rope     act           qkNorm postNorms fusedGU gemma  window swa noRope moe gating
    {"llama", "llama", R::NORM, A::SILU, false, false, false, false, 0, 0, 0, F::OPTIONAL, G::SOFTMAX},
    {"mistral", "mistral", R::NORM, A::SILU, false, false, false, false, 0, 0, 0, F::NONE, G::SOFTMAX},
    {"qwen2", "qwen2", R::NEOX, A::SILU, false, false, false, false, -1, 0, 0, F::NONE, G::SOFTMAX},
    {"qwen3", "qwen3", R::NEOX, A::SILU, true, false, false, false, -1, 0, 0, F::NONE, G::SOFTMAX},
    {"gemma2", "gemma2", R::NEOX, A::GELU_TANH, false, true, false, true, 4096, 2, 0, F::NONE, G::SOFTMAX},
    {"gemma3", "gemma3_text", R::NEOX, A::GELU_TANH, true, true, false, true, 0, 6, 0, F::NONE, G::SOFTMAX},
    // Phi-3's sliding window is off in llama.cpp (its converters write it inconsistently), so here too.
    {"phi3", "phi3", R::NEOX, A::SILU, false, false, true, false, -1, 0, 0, F::NONE, G::SOFTMAX},
    {"smollm3", "smollm3", R::NORM, A::SILU, false, false, false, false, -1, 0, 4, F::NONE, G::SOFTMAX},
    {"granite", "granite", R::NORM, A::SILU, false, false, false, false, -1, 0, 0, F::NONE, G::SOFTMAX},
    {"qwen3moe", "qwen3_moe", R::NEOX, A::SILU, true, false, false, false, -1, 0, 0, F::REQUIRED, G::SOFTMAX},
    // gpt-oss (llama.cpp's openai-moe graph): sliding window on even layers, attention sinks, biases everywhere.
    {"gpt-oss", "gpt_oss", R::NEOX, A::SWIGLU_OAI, false, false, false, false, 0, 2, 0, F::REQUIRED, G::SOFTMAX_WEIGHT},
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
    if (*f.hfType && modelType == f.hfType) return &f;
  if (modelType == "mixtral") return familyByArch("llama");  // Mixtral is Llama with experts (GGUF arch llama)
  return nullptr;
}

std::string supportedArchitectures() {
  std::string s;
  for (const ModelFamily& f : kFamilies) s += std::string(s.empty() ? "" : ", ") + f.arch;
  return s;
}

std::string supportedHfModelTypes() {
  std::string s;
  for (const ModelFamily& f : kFamilies)
    if (*f.hfType) s += std::string(s.empty() ? "" : ", ") + f.hfType;
  return s + ", gemma3 (its text_config), mixtral";
}

}  // namespace loom
