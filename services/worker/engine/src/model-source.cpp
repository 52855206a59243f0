#include "model-source.h"

#include <sys/stat.h>

#include "safetensors-dir.h"

namespace loom {

namespace {

class GgufSource : public ModelSource {
 public:
  explicit GgufSource(const std::string& path) : file_(path), config_(readModelConfig(file_)) {}
  const GgufTensor* tensor(const std::string& name) const override { return file_.tensor(name); }
  std::string err(const std::string& what) const override { return file_.err(what); }
  std::vector<std::string> vocab() const override { return file_.getStringArray("tokenizer.ggml.tokens"); }
  const ModelConfig& config() const override { return config_; }

 private:
  GgufFile file_;
  ModelConfig config_;
};

}  // namespace

std::unique_ptr<ModelSource> openModelSource(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return std::make_unique<SafetensorsDir>(path);
  return std::make_unique<GgufSource>(path);
}

}  // namespace loom
