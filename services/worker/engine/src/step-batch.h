// What one step computes (StepInput, staged by the binding on the JS thread) and what it returns
// (StepOutput). Vectors are reserved once in Engine::initKv and only cleared between steps, so a step
// allocates nothing unless a block table is longer than any seen before.
#pragma once
#include <cstdint>
#include <vector>

namespace loom {

// StepSeq::promptLogprobs of a sequence that asks for none (0 asks for the tokens' logprobs, no alternatives).
constexpr int kNoPromptLogprobs = -1;
// A token id that is not there (StepSeq::nextPromptToken when the chunk ends the prompt).
constexpr int32_t kNoToken = -1;

struct SamplingParams {
  float temperature = 0.f;  // 0 = greedy (argmax); other fields are then ignored
  float topP = 1.f;         // (0, 1]
  float minP = 0.f;         // [0, 1]
  int topK = 0;             // 0 = off
  uint32_t seed = 0;
  uint64_t rngCounter = 0;  // k: tokens this sequence generated before; the draw uses (seed, k) only
  int logprobs = 0;         // top-N alternatives returned with the sampled token's logprob (always returned)

  // Logit processing before sampling (also under greedy), in vLLM's order: logit bias and masking, then
  // the repetition penalty over prompt + output tokens, then frequency / presence over output tokens.
  float presencePenalty = 0.f;    // subtracted once from the logit of every token the output holds
  float frequencyPenalty = 0.f;   // subtracted once per occurrence in the output
  float repetitionPenalty = 1.f;  // tokens in prompt or output: logit / p when > 0, else logit * p
  // Spans into StepInput::samplingIds / samplingValues, pointed by the binding once staging is done.
  const int32_t* promptIds = nullptr;  // [nPrompt] (only needed for the repetition penalty)
  const int32_t* outputIds = nullptr;  // [nOutput] tokens generated so far
  const int32_t* biasIds = nullptr;    // [nBias] logit[biasIds[i]] += biasValues[i]
  const float* biasValues = nullptr;
  const int32_t* maskIds = nullptr;  // [nMask] logits forced to -inf (EOS / stop ids until min_tokens)
  int nPrompt = 0, nOutput = 0, nBias = 0, nMask = 0;
  // Structured outputs: [ceil(vocab / 32)] words into StepInput::bitmasks, bit j of word i allows token 32i + j;
  // nullptr = every token. Applied to the raw logits before everything else (logprobs included).
  const uint32_t* allowed = nullptr;

  bool processesLogits() const {
    return presencePenalty != 0.f || frequencyPenalty != 0.f || repetitionPenalty != 1.f || nBias > 0 || nMask > 0;
  }
};

// Which final-normed hidden rows of a sequence's chunk a step returns (embeddings). The rows are
// rmsnorm(x) * output_norm, llama.cpp's t_embd in embedding mode; a pooling sequence never samples, so the
// LM head is not applied to it. Pooling across chunks (a mean over a whole prompt) is the caller's.
enum class PoolRows : uint8_t {
  NONE,   // nothing (a sampling or non-final prefill sequence)
  LAST,   // the chunk's last row
  FIRST,  // the chunk's first row (CLS pooling when the chunk starts at position 0)
  SUM,    // the sum of the chunk's rows (mean pooling: the caller divides by the prompt's length)
};

// One sequence's slice of a step: its chunk of tokens, its block table and how to sample after it.
struct StepSeq {
  int tokenStart = 0;       // index of the sequence's first token in StepInput::tokens
  int nTokens = 0;          // >= 1
  int startPos = 0;         // position of its first token
  int blockTableStart = 0;  // offset of its block tables in StepInput::blockTables (groups interleaved, kv-layout.h)
  int blockTableLen = 0;    // ceil((startPos + nTokens) / blockSize) * nGroups
  bool sample = false;      // sample after its last token
  SamplingParams params;
  // Prompt logprobs (echo + logprobs): unless kNoPromptLogprobs, row j of this sequence scores the token that follows
  // tokens[j] (tokens[j + 1], and nextPromptToken after the last row; NaN where none is given) with this many top
  // alternatives. Rows of the whole step's sequences come out in StepOutput::prompt*.
  int promptLogprobs = kNoPromptLogprobs;
  int32_t nextPromptToken =
      kNoToken;                    // first token of the next prefill chunk; kNoToken when this chunk ends the prompt
  PoolRows pool = PoolRows::NONE;  // != NONE: one row of StepOutput::pooled (never together with sample)
};

struct StepInput {
  std::vector<int32_t> tokens;        // [T] every sequence's tokens, concatenated in seqs order
  std::vector<int32_t> blockTables;   // every sequence's block tables (kv-layout.h), concatenated
  std::vector<StepSeq> seqs;          // [nSeqs]
  std::vector<int32_t> samplingIds;   // every sequence's prompt / output / bias / mask ids, concatenated
  std::vector<float> samplingValues;  // every sequence's logit bias values, concatenated
  std::vector<uint32_t> bitmasks;     // [nConstrained][ceil(vocab / 32)] allowed-token words, in seqs order
  void clear() {
    tokens.clear();
    blockTables.clear();
    seqs.clear();
    samplingIds.clear();
    samplingValues.clear();
    bitmasks.clear();
  }
};

struct StepOutput {
  std::vector<int32_t> tokens;     // [nSeqs] sampled id, -1 where sample was false
  std::vector<float> logprobs;     // [nSeqs] log-softmax(raw logits, allowed-token mask applied)[token]; NaN where
                                   // sample was false
  int topN = 0;                    // row width of topIds/topLogprobs (max requested logprobs, 0 = none)
  std::vector<int32_t> topIds;     // [nSeqs][topN], -1 padded
  std::vector<float> topLogprobs;  // [nSeqs][topN], NaN padded
  // Prompt logprobs: rows [promptOffsets[i], promptOffsets[i + 1]) belong to seqs[i] (empty unless it asked).
  int promptTopN = 0;                    // row width of promptTopIds / promptTopLogprobs
  std::vector<int32_t> promptOffsets;    // [nSeqs + 1]
  std::vector<float> promptLogprobs;     // [rows] logprob of the token after row j; NaN when unknown
  std::vector<int32_t> promptTopIds;     // [rows][promptTopN], -1 padded
  std::vector<float> promptTopLogprobs;  // [rows][promptTopN], NaN padded
  // Embeddings: one row per sequence whose pool != NONE, in seqs order (see PoolRows).
  std::vector<float> pooled;  // [nPooling][dim]
  double seconds = 0;         // wall time of forward + sampling
};

}  // namespace loom
