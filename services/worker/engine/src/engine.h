// The engine: weights (mmap), kernels, threads, KV pool, forward pass and sampler behind one object.
// Not thread-safe: the binding guarantees one step at a time and no close() during a step.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "forward.h"
#include "kernels.h"
#include "kv-layout.h"
#include "kv-pool.h"
#include "model-config.h"
#include "model-source.h"
#include "sampler.h"
#include "step-batch.h"
#include "thread-pool.h"
#include "weights.h"

namespace loom {

struct EngineOptions {
  int threads = 0;  // 0 = hardware concurrency
  KvType kvType = KvType::F16;
  std::string kernels;  // "" / "auto" | "scalar" | "avx2" | "avx512"
};

class Engine {
 public:
  // modelPath: a GGUF file or a Hugging Face safetensors directory (model-source.h).
  Engine(const std::string& modelPath, const EngineOptions& opts);

  const ModelConfig& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  const char* kernelsName() const { return kernels_.name; }
  int threads() const { return pool_.size(); }
  // Per-op wall time of the forward pass into seconds[Forward::kOpCount] (nullptr: off); see Forward::profile.
  void profile(double* seconds) { forward_.profile(seconds); }
  const char* weightTypeName() const;
  const char* kvTypeName() const { return kvType_ == KvType::F16 ? "f16" : "f32"; }
  // Which layers share which blocks (the worker's KV cache groups).
  const KvLayout& kvLayout() const { return kvLayout_; }
  size_t kvBytesPerBlock(int blockSize) const {
    return KvPool::bytesPerBlock(blockSize, kvLayout_.layersPerBlock, config_.kvDim(), kvType_);
  }
  std::vector<std::string> vocab() const;

  void initKv(int numBlocks, int blockSize, int maxBatchTokens, int maxSeqs);
  bool kvReady() const { return kv_ != nullptr; }
  int numBlocks() const { return kv_ ? kv_->numBlocks() : 0; }
  int blockSize() const { return kv_ ? kv_->blockSize() : 0; }
  int maxBatchTokens() const { return maxBatchTokens_; }
  int maxSeqs() const { return maxSeqs_; }

  // The binding fills input() (validated), calls step() off the JS thread, then reads output().
  StepInput& input() { return input_; }
  void step();
  const StepOutput& output() const { return output_; }
  // [nSampling][vocab] raw logits of the last step's sampling sequences, in seqs order (for tests).
  const float* lastLogits() const { return logits_.data(); }

 private:
  std::unique_ptr<ModelSource> source_;
  const ModelConfig& config_;  // source_->config()
  Weights weights_;
  const KernelSet& kernels_;
  ThreadPool pool_;
  KvType kvType_;
  KvLayout kvLayout_;
  Forward forward_;
  Sampler sampler_;
  std::unique_ptr<KvPool> kv_;
  int maxBatchTokens_ = 0, maxSeqs_ = 0;
  StepInput input_;
  StepOutput output_;
  std::vector<float> logits_;        // [maxSeqs][vocab] rows of the sampling sequences, in order
  std::vector<int> sampleRow_;       // [nSeqs] row of each sequence in logits_, -1 if it does not sample
  std::vector<float> promptLogits_;  // [maxSeqs][vocab] one chunk of prompt-logprob rows; empty until first needed
  std::vector<int> promptRows_;      // [rows] token index (in input_.tokens) of each prompt-logprob row
  std::vector<int32_t> promptNext_;  // [rows] the token each row scores, -1 if unknown
  std::vector<int> promptTopN_;      // [rows] top-N asked by the row's sequence

  void promptLogprobs();  // fills output_.prompt* after the forward pass
};

}  // namespace loom
