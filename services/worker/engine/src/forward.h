// The batched decoder forward pass over every token of a step (see forward.cpp for the math).
#pragma once
#include <chrono>
#include <vector>

#include "kernels.h"
#include "kv-layout.h"
#include "kv-pool.h"
#include "model-config.h"
#include "step-batch.h"
#include "thread-pool.h"
#include "weights.h"

namespace loom {

constexpr int kMaxExperts = 512;  // llama.cpp's LLAMA_MAX_EXPERTS
constexpr int kMoeRows = 16;      // weight rows per grouped-GEMM task

class Forward {
 public:
  Forward(const ModelConfig& c, const KvLayout& layout, const Weights& w, const KernelSet& k, ThreadPool& pool)
      : c_(c), layout_(layout), w_(w), k_(k), pool_(pool) {}

  // Sizes the step buffers for at most maxTokens tokens and maxSeqs sampling rows; nothing is allocated per step.
  void allocate(int maxTokens, int maxSeqs);

  // Computes all layers for in.tokens, storing each token's K/V in `kv`, and writes the logits of the last
  // token of every sampling sequence, in seqs order, to logits [nSampling][vocab].
  void run(const StepInput& in, KvPool& kv, float* logits);

  // After run(): logits of n <= maxSeqs token rows of that step (indices into in.tokens) into out [n][vocab]
  // (prompt logprobs). Reads the final residual stream run() left behind; the next run() overwrites it.
  void rowLogits(const int* rows, int n, float* out);

  // After run(): for every sequence with pool != NONE, in seqs order, its final-normed hidden rows
  // (rmsnorm * output_norm, as llama.cpp's embedding output) reduced by its PoolRows, into out [nPooling][dim].
  // Reads the final residual stream run() left behind, as rowLogits does.
  void pool(const StepInput& in, float* out);

  // Wall time per kind of op, for engine-bench's breakdown: run() adds each op's seconds to seconds[op] while
  // enabled (seconds non-null, [kOpCount] values), nothing otherwise.
  enum Op {
    kOpEmbed,
    kOpNorm,
    kOpQkv,
    kOpRope,
    kOpAttn,
    kOpWo,
    kOpResidual,
    kOpGateUp,
    kOpAct,
    kOpDown,
    kOpHead,
    kOpCount
  };
  static const char* opName(int op);
  void profile(double* seconds) { prof_ = seconds; }

 private:
  // Charges the time since the previous lap to op (when profiling).
  void lap(Op op) {
    if (!prof_) return;
    const auto now = std::chrono::steady_clock::now();
    prof_[op] += std::chrono::duration<double>(now - lapStart_).count();
    lapStart_ = now;
  }
  // One output of an op group: y [T][w.rows] = x w^T.
  struct GemmJob {
    float* y;
    const Matrix* w;
  };
  // y = x w^T for every job (all w with the same cols), in one parallel-for over all their rows (forward-matmul.cpp):
  // an op group costs one fork-join, plus one to quantise x for the integer GEMMs among them.
  void matmuls(const float* x, int T, const GemmJob* jobs, int n);
  // One thread's share of matmuls: row units [b, e) of the jobs (units[j] .. units[j + 1] job j's) for T tokens, the
  // first t0 of y's rows before them; x and xq (int8 rows, slot[kind] of xq_'s slots) start at those tokens.
  void gemmRows(const float* x, const uint8_t* xq, int T, const GemmJob* jobs, int n, const IntegerGemm* q,
                const int* slot, const int* units, int b, int e, int t0);
  void matmul(float* y, const float* x, int T, const Matrix& w) {
    const GemmJob j{y, &w};
    matmuls(x, T, &j, 1);
  }
  // Distinct integer-GEMM activation kinds among the weights (0 when none): the slots xq_ holds.
  int actKinds() const;
  // out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight over `rows` rows of width n.
  void rmsnorm(float* out, const float* x, const float* weight, int rows, int n);
  void rope(float* v, int T, int nHeads, int ropeIndex);
  void addResidual(int T);
  void storeKv(const StepInput& in, KvPool& kv, int layer, int T);
  void attention(const StepInput& in, const KvPool& kv, int layer, int T);
  void attentionBlock(const StepInput& in, KvPool& kv, int layer, int T);
  void denseFfn(const LayerWeights& L, int T);
  // g[i] = act(g[i], u[i]) for i < n, the model's gated activation (Activation in model-config.h).
  void gate(float* g, const float* u, int n) const;
  // y[t][i] += bias[i] over [T][n] (nothing when bias is null).
  static void addBias(float* y, const float* bias, int T, int n);
  // Mixture-of-experts FFN (moe-ffn.cpp): route, group the (token, expert) pairs by expert, grouped GEMMs.
  void moeFfn(const LayerWeights& L, int T);
  void route(const LayerWeights& L, int T);
  // Y[r][N] = X[r] . W_e^T for every row r of every expert e's group [groupStart_[e], groupStart_[e + 1]).
  void groupedMatmul(float* Y, const float* X, int R, const ExpertMatrices& W);
  void finishLogits(float* logits, int rows);

  const ModelConfig& c_;
  const KvLayout& layout_;
  const Weights& w_;
  const KernelSet& k_;
  ThreadPool& pool_;
  int maxTokens_ = 0, maxSeqs_ = 0;

  std::vector<float> x_;         // [T][dim] residual stream
  std::vector<float> xb_;        // [T][dim] normed input of the current sub-layer
  std::vector<float> q_;         // [T][qDim]
  std::vector<float> k_buf_;     // [T][kvDim]
  std::vector<float> v_buf_;     // [T][kvDim]
  std::vector<float> att_;       // [T][qDim] attention output, heads concatenated
  std::vector<float> proj_;      // [T][dim] output of wo / wDown before the residual add
  std::vector<float> hb_;        // [T][hiddenDim] gate, then act(gate) * up
  std::vector<float> hb2_;       // [T][hiddenDim] up
  std::vector<float> ropeCos_;   // [nRopes][T][nRot/2] cos * mscale of each RoPE setting at each token's position
  std::vector<float> ropeSin_;   // [nRopes][T][nRot/2]
  std::vector<int> pos_;         // [T] position of each token in its sequence
  std::vector<int> seqOf_;       // [T] index into in.seqs
  std::vector<float> xs_;        // [maxSeqs][dim] final-normed rows that sample
  std::vector<uint8_t> xq_;      // [kinds][T][K/32][kQ8ActBytes] GEMM input as int8 blocks, one slot per act kind
  size_t xqStride_ = 0;          // bytes of one slot
  std::vector<float> scratch_;   // [threads][attnHeads_][contextLength] attention scores of one task's heads
  int attnHeads_ = 0;            // query heads an attention task scores at most (forward.cpp kMaxAttnHeads)
  std::vector<double> poolAcc_;  // [threads][dim] sum of one pooling sequence's rows (pool())
  std::vector<int> poolFirst_;   // [maxSeqs] each pooling sequence's first normed row in xb_ (pool())
  std::vector<int> poolCount_;   // [maxSeqs] and how many rows it has there
  double* prof_ = nullptr;       // profile(): [kOpCount] seconds, or nullptr
  std::chrono::steady_clock::time_point lapStart_;
  // MoE (ModelConfig::moe: E experts, k used, width H; R = T * k (token, expert) pairs per step)
  std::vector<float> routerLogits_;  // [T][E]
  std::vector<int> chosen_;          // [T][k] expert of each of a token's slots, best first
  std::vector<float> chosenW_;       // [T][k] its weight
  std::vector<int> groupStart_;      // [E + 1] first row of each expert's group in the gathered rows
  std::vector<int> rowOfSlot_;       // [T][k] the gathered row of (token, slot)
  std::vector<int> expertOfRow_;     // [R] the expert a gathered row belongs to
  std::vector<int> tasks_;           // [<= E * ceil(max(H, dim) / kMoeRows)] (expert, first weight row) pairs
  std::vector<float> xg_;            // [R][dim] normed input rows gathered by expert
  std::vector<float> eg_;            // [R][H] expert gate, then the activation
  std::vector<float> eu_;            // [R][H] expert up
  std::vector<float> ed_;            // [R][dim] expert down
  std::vector<uint8_t> xgq_;         // [R][max(dim, H)/32][kQ8ActBytes] gathered rows as integer-GEMM activations
};

}  // namespace loom
