// Where a model's weights and hyper-parameters come from: a GGUF file or a Hugging Face safetensors
// directory. Both expose their tensors under GGUF's canonical names ("blk.0.attn_q.weight") in GGUF dim
// order (dims[0] is the contiguous row length), so weights.cpp and everything after it read either
// without knowing the format. GgufTensor doubles as that format-neutral view (`offset` is GGUF-only).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "gguf-file.h"
#include "model-config.h"

namespace loom {

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  // The tensor with that canonical name, or nullptr. Throws (naming file and tensor) when it exists in a
  // type the engine cannot read.
  virtual const GgufTensor* tensor(const std::string& name) const = 0;
  // "<file>: <what>" for error messages.
  virtual std::string err(const std::string& what) const = 0;
  // Token texts by id (GGUF tokenizer.ggml.tokens; a directory's tokenizer.json vocab + added tokens).
  virtual std::vector<std::string> vocab() const = 0;
  virtual const ModelConfig& config() const = 0;
};

// A directory is read as safetensors (config.json + *.safetensors), anything else as GGUF.
// Throws naming the file and the reason.
std::unique_ptr<ModelSource> openModelSource(const std::string& path);

}  // namespace loom
