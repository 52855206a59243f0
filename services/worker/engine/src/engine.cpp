#include "engine.h"

#include <chrono>
#include <cmath>

#include "ggml-types.h"
#include "pack-weights.h"

namespace loom {

Engine::Engine(const std::string& modelPath, const EngineOptions& opts)
    : source_(openModelSource(modelPath)),
      config_(source_->config()),
      weights_(loadWeights(*source_, config_)),
      kernels_(selectKernels(opts.kernels)),
      pool_(opts.threads),
      kvType_(opts.kvType),
      kvLayout_(kvLayoutOf(config_)),
      forward_(config_, kvLayout_, weights_, kernels_, pool_) {
  packWeights(weights_, kernels_, pool_);
}

const char* Engine::weightTypeName() const { return ggmlTypeInfo(weights_.bulkType).name; }

std::vector<std::string> Engine::vocab() const { return source_->vocab(); }

void Engine::initKv(int numBlocks, int blockSize, int maxBatchTokens, int maxSeqs) {
  kv_.reset();
  kv_ = std::make_unique<KvPool>(numBlocks, blockSize, kvLayout_.layersPerBlock, config_.kvDim(), kvType_);
  maxBatchTokens_ = maxBatchTokens;
  maxSeqs_ = maxSeqs;
  forward_.allocate(maxBatchTokens, maxSeqs);
  sampler_.allocate(config_.vocabSize, pool_.size(), kernels_);
  logits_.assign((size_t)maxSeqs * config_.vocabSize, 0.f);
  sampleRow_.assign((size_t)maxSeqs, -1);
  input_.tokens.reserve((size_t)maxBatchTokens);
  input_.seqs.reserve((size_t)maxSeqs);
  input_.blockTables.reserve((size_t)maxSeqs * 64);
  input_.bitmasks.reserve((size_t)maxSeqs * (((size_t)config_.vocabSize + 31) / 32));
  output_.tokens.reserve((size_t)maxSeqs);
  output_.logprobs.reserve((size_t)maxSeqs);
  output_.pooled.reserve((size_t)maxSeqs * config_.dim);
}

void Engine::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const int nSeqs = (int)input_.seqs.size();
  const int V = config_.vocabSize;
  forward_.run(input_, *kv_, logits_.data());
  int nPool = 0;
  for (const StepSeq& s : input_.seqs) nPool += s.pool != PoolRows::NONE ? 1 : 0;
  output_.pooled.resize((size_t)nPool * config_.dim);
  forward_.pool(input_, output_.pooled.data());

  int topN = 0, S = 0;
  for (int i = 0; i < nSeqs; i++) {
    const StepSeq& s = input_.seqs[(size_t)i];
    sampleRow_[(size_t)i] = s.sample ? S++ : -1;
    if (s.sample && s.params.logprobs > topN) topN = s.params.logprobs;
  }
  output_.topN = topN;
  output_.tokens.assign((size_t)nSeqs, -1);
  output_.logprobs.assign((size_t)nSeqs, NAN);
  output_.topIds.assign((size_t)nSeqs * topN, -1);
  output_.topLogprobs.assign((size_t)nSeqs * topN, NAN);
  pool_.parallelFor(nSeqs, 1, [&](int b, int e, int thread) {
    for (int i = b; i < e; i++) {
      const int row = sampleRow_[(size_t)i];
      if (row < 0) continue;
      const SamplingParams& p = input_.seqs[(size_t)i].params;
      const int n = p.logprobs;
      output_.tokens[(size_t)i] =
          sampler_.sample(&logits_[(size_t)row * V], p, thread, &output_.logprobs[(size_t)i], n,
                          output_.topIds.data() + (size_t)i * topN, output_.topLogprobs.data() + (size_t)i * topN);
    }
  });
  promptLogprobs();
  output_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Scores every fed row of the sequences that ask for prompt logprobs, maxSeqs rows per logits GEMM (the
// forward's gather buffers hold that many). The [maxSeqs][vocab] scratch is allocated on the first such
// step only, so engines that never see one pay nothing.
void Engine::promptLogprobs() {
  const int nSeqs = (int)input_.seqs.size();
  const int V = config_.vocabSize;
  int topN = 0, rows = 0;
  output_.promptOffsets.assign((size_t)nSeqs + 1, 0);
  for (int i = 0; i < nSeqs; i++) {
    const StepSeq& s = input_.seqs[(size_t)i];
    if (s.promptLogprobs != kNoPromptLogprobs) {
      rows += s.nTokens;
      topN = std::max(topN, s.promptLogprobs);
    }
    output_.promptOffsets[(size_t)i + 1] = rows;
  }
  output_.promptTopN = topN;
  output_.promptLogprobs.assign((size_t)rows, NAN);
  output_.promptTopIds.assign((size_t)rows * topN, -1);
  output_.promptTopLogprobs.assign((size_t)rows * topN, NAN);
  if (rows == 0) return;
  if (promptLogits_.empty()) promptLogits_.assign((size_t)maxSeqs_ * V, 0.f);

  promptRows_.clear();
  promptNext_.clear();
  promptTopN_.clear();
  for (const StepSeq& s : input_.seqs) {
    if (s.promptLogprobs == kNoPromptLogprobs) continue;
    for (int j = 0; j < s.nTokens; j++) {
      promptRows_.push_back(s.tokenStart + j);
      promptNext_.push_back(j + 1 < s.nTokens ? input_.tokens[(size_t)(s.tokenStart + j + 1)] : s.nextPromptToken);
      promptTopN_.push_back(s.promptLogprobs);
    }
  }
  for (int r0 = 0; r0 < rows; r0 += maxSeqs_) {
    const int n = std::min(maxSeqs_, rows - r0);
    forward_.rowLogits(&promptRows_[(size_t)r0], n, promptLogits_.data());
    pool_.parallelFor(n, 1, [&](int b, int e, int thread) {
      for (int r = b; r < e; r++) {
        const size_t row = (size_t)(r0 + r);
        sampler_.score(&promptLogits_[(size_t)r * V], promptNext_[row], thread, &output_.promptLogprobs[row],
                       promptTopN_[row], output_.promptTopIds.data() + row * topN,
                       output_.promptTopLogprobs.data() + row * topN);
      }
    });
  }
}

}  // namespace loom
