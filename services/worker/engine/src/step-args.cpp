#include "step-args.h"

#include <string>

#include "napi-util.h"

namespace loom {

void stageStep(napi_env env, Engine& e, napi_value seqs) {
  if (!e.kvReady()) throw JsError{JsErrorKind::Error, "initKv() must be called before step()"};
  bool isArray = false;
  napi_is_array(env, seqs, &isArray);
  if (!isArray) throw JsError{JsErrorKind::TypeError, "step(seqs): seqs must be an array of EngineSeq"};
  uint32_t n = 0;
  napi_get_array_length(env, seqs, &n);
  if (n == 0) throw JsError{JsErrorKind::RangeError, "step(seqs): seqs is empty; a step needs at least one sequence"};
  if ((int)n > e.maxSeqs())
    throw JsError{JsErrorKind::RangeError, "step has " + std::to_string(n) + " sequences but initKv() sized it for maxSeqs = " + std::to_string(e.maxSeqs())};
  const int vocab = e.config().vocabSize, bs = e.blockSize(), numBlocks = e.numBlocks();
  StepInput& in = e.input();
  in.clear();
  for (uint32_t i = 0; i < n; i++) {
    const std::string p = "seqs[" + std::to_string(i) + "]";
    napi_value s;
    napi_get_element(env, seqs, i, &s);
    if (typeOf(env, s) != napi_object) throw JsError{JsErrorKind::TypeError, p + " must be an object"};
    SeqSpec spec;
    size_t nTok = 0, nBt = 0;
    const int32_t* toks = int32Array(env, getProp(env, s, "tokens"), p + ".tokens", &nTok);
    if (nTok == 0) throw JsError{JsErrorKind::RangeError, p + ".tokens is empty; every sequence in a step feeds at least one token"};
    if (in.tokens.size() + nTok > (size_t)e.maxBatchTokens())
      throw JsError{JsErrorKind::RangeError, "step has more than maxBatchTokens = " + std::to_string(e.maxBatchTokens()) +
                                                 " tokens (initKv size); split it into smaller steps"};
    for (size_t j = 0; j < nTok; j++)
      if (toks[j] < 0 || toks[j] >= vocab)
        throw JsError{JsErrorKind::RangeError, p + ".tokens[" + std::to_string(j) + "] = " + std::to_string(toks[j]) + " is not a token id (vocab size " +
                                                   std::to_string(vocab) + ")"};
    spec.startPos = (int)intIn(env, getProp(env, s, "startPos"), p + ".startPos", 0, 1 << 30, -1);
    if ((size_t)spec.startPos + nTok > (size_t)e.config().contextLength)
      throw JsError{JsErrorKind::RangeError, p + " reaches position " + std::to_string(spec.startPos + nTok - 1) + " but the model's context length is " +
                                                 std::to_string(e.config().contextLength) + "; stop or truncate the sequence"};
    const int32_t* bt = int32Array(env, getProp(env, s, "blockTable"), p + ".blockTable", &nBt);
    const size_t need = ((size_t)spec.startPos + nTok + bs - 1) / bs;
    if (nBt < need)
      throw JsError{JsErrorKind::RangeError, p + ".blockTable has " + std::to_string(nBt) + " blocks but positions up to " +
                                                 std::to_string(spec.startPos + nTok - 1) + " need " + std::to_string(need) + " (block size " + std::to_string(bs) + ")"};
    for (size_t j = 0; j < need; j++)
      if (bt[j] < 0 || bt[j] >= numBlocks)
        throw JsError{JsErrorKind::RangeError, p + ".blockTable[" + std::to_string(j) + "] = " + std::to_string(bt[j]) + " is not a block id (numBlocks " +
                                                   std::to_string(numBlocks) + ")"};
    napi_value sv = getProp(env, s, "sample");
    if (typeOf(env, sv) != napi_boolean) throw JsError{JsErrorKind::TypeError, p + ".sample must be a boolean"};
    napi_get_value_bool(env, sv, &spec.sample);
    SamplingParams& sp = spec.params;
    sp.temperature = (float)numberOr(env, getProp(env, s, "temperature"), p + ".temperature", 0);
    sp.topP = (float)numberOr(env, getProp(env, s, "topP"), p + ".topP", 1);
    sp.minP = (float)numberOr(env, getProp(env, s, "minP"), p + ".minP", 0);
    if (sp.temperature < 0) throw JsError{JsErrorKind::RangeError, p + ".temperature must be >= 0"};
    if (!(sp.topP > 0 && sp.topP <= 1)) throw JsError{JsErrorKind::RangeError, p + ".topP must be in (0, 1]"};
    if (!(sp.minP >= 0 && sp.minP <= 1)) throw JsError{JsErrorKind::RangeError, p + ".minP must be in [0, 1]"};
    sp.topK = (int)intIn(env, getProp(env, s, "topK"), p + ".topK", 0, 1 << 30, 0);
    sp.seed = (uint32_t)intIn(env, getProp(env, s, "seed"), p + ".seed", 0, 4294967295.0, 0);
    sp.rngCounter = (uint64_t)intIn(env, getProp(env, s, "rngCounter"), p + ".rngCounter", 0, 9007199254740991.0, 0);
    sp.logprobs = (int)intIn(env, getProp(env, s, "logprobs"), p + ".logprobs", -1, vocab, -1);
    spec.tokenStart = (int)in.tokens.size();
    spec.nTokens = (int)nTok;
    spec.blockTableStart = (int)in.blockTables.size();
    spec.blockTableLen = (int)need;
    in.tokens.insert(in.tokens.end(), toks, toks + nTok);
    in.blockTables.insert(in.blockTables.end(), bt, bt + need);
    in.seqs.push_back(spec);
  }
}

}  // namespace loom
