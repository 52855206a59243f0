// Hyper-parameters of a Hugging Face checkpoint from its config.json (model_type llama, mistral, qwen2, qwen3,
// gemma2, gemma3_text / gemma3, phi3, smollm3, granite). HF stores Q/K un-permuted (rotate_half pairs dim i with
// i + nRot/2), so every HF model uses NEOX-style RoPE here instead of un-permuting weights into GGUF's layout.
// vocabSize is left 0: the caller takes it from the embedding tensor, as for GGUF.
#pragma once
#include <string>

#include "json.h"
#include "model-config.h"

namespace loom {

// `path` names config.json in errors. Throws for unsupported model types / activations / RoPE scaling
// and for missing or inconsistent sizes.
ModelConfig readHfConfig(const Json& cfg, const std::string& path);

// tie_word_embeddings, or its default for the model type when absent (true for gemma and smollm3).
bool hfTiedEmbeddings(const Json& cfg);

}  // namespace loom
