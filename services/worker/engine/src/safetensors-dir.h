// A Hugging Face model directory: config.json, tokenizer.json and the weights in *.safetensors (one file,
// or shards listed by model.safetensors.index.json), each shard mmapped. Tensors are renamed to GGUF's
// canonical names and dims reversed into GGUF order; matrices stay zero-copy views (f32, f16, bf16).
// 1-D tensors (norms, biases) are widened to owned f32 copies: the forward reads them as float* and
// safetensors guarantees no alignment; they are a few KB. Per-expert matrices (qwen3_moe, mixtral) are
// stacked into GGUF's 3-D expert tensors and gpt-oss's MXFP4 experts repacked (hf-gpt-oss-experts.h), both
// copies. Unknown tensor names (rotary_emb.inv_freq, ...) are ignored. Errors name the offending file (shard,
// config.json) and the reason.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hf-gpt-oss-experts.h"
#include "json.h"
#include "mapped-file.h"
#include "model-source.h"

namespace loom {

class SafetensorsDir : public ModelSource {
 public:
  explicit SafetensorsDir(const std::string& dir);

  const GgufTensor* tensor(const std::string& name) const override;
  std::string err(const std::string& what) const override { return dir_ + ": " + what; }
  std::vector<std::string> vocab() const override;
  const ModelConfig& config() const override { return config_; }

 private:
  void loadShard(const std::string& file);

  std::string dir_;
  ModelConfig config_;
  bool gemma_ = false;  // norm weights are stored as w - 1
  std::vector<std::unique_ptr<MappedFile>> shards_;
  std::map<std::string, GgufTensor> tensors_;                 // by canonical name
  std::map<std::string, std::string> unsupported_;            // canonical name -> "<shard>: dtype X"
  std::map<std::string, RawHfTensor> gptOssParts_;            // "blk.L.oss:<part>" until addGptOssExperts
  std::vector<std::unique_ptr<std::vector<float>>> widened_;  // owned f32 copies of 1-D tensors
};

// The GGUF name of an HF tensor name, or "" when the engine does not use it. `gemma`: the checkpoint's
// post_attention_layernorm is Gemma's attention post-norm (not the FFN's input norm).
std::string canonicalTensorName(const std::string& hfName, bool gemma);

}  // namespace loom
