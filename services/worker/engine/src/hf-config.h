// Hyper-parameters of a Hugging Face Llama-family checkpoint from its config.json (model_type llama,
// mistral or qwen2). HF stores Q/K un-permuted (rotate_half pairs dim i with i + headDim/2), so every HF
// model uses NEOX-style RoPE here instead of un-permuting weights into GGUF's layout.
// vocabSize is left 0: the caller takes it from the embedding tensor, as for GGUF.
#pragma once
#include <string>

#include "json.h"
#include "model-config.h"

namespace loom {

// `path` names config.json in errors. Throws for unsupported model types / activations / RoPE scaling
// and for missing or inconsistent sizes.
ModelConfig readHfConfig(const Json& cfg, const std::string& path);

// tie_word_embeddings (HF's default for these model types: false).
bool hfTiedEmbeddings(const Json& cfg);

}  // namespace loom
