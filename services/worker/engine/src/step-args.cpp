#include "step-args.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "napi-util.h"

namespace loom {

namespace {

// The EngineSeq fields stageStep reads: Field f_<name>, and its name in kFieldNames.
// clang-format off
#define LOOM_SEQ_FIELDS(X)                                                                                    \
  X(tokens) X(startPos) X(blockTable) X(sample) X(temperature) X(topP) X(minP) X(topK) X(seed) X(rngCounter) \
  X(logprobs) X(presencePenalty) X(frequencyPenalty) X(repetitionPenalty) X(promptTokens) X(outputTokens)    \
  X(logitBiasIds) X(logitBiasValues) X(maskTokens) X(allowedTokens) X(promptLogprobs) X(nextPromptToken) X(pool)
// clang-format on
#define LOOM_FIELD_ENUM(name) f_##name,
#define LOOM_FIELD_NAME(name) #name,
enum Field { LOOM_SEQ_FIELDS(LOOM_FIELD_ENUM) kFieldCount };
const char* const kFieldNames[kFieldCount] = {LOOM_SEQ_FIELDS(LOOM_FIELD_NAME)};

// The field names as JS strings, made once per env (this file's napi instance data: a reference to an array of them,
// as references hold only objects at this NAPI_VERSION) and read once per step: a field read by a ready key skips
// hashing and interning its name again for every sequence, as napi_get_named_property does.
struct FieldKeys {
  napi_value key[kFieldCount];
  napi_value get(napi_env env, napi_value obj, Field f) const {
    napi_value v = nullptr;
    napi_get_property(env, obj, key[f], &v);
    return v;
  }
};

FieldKeys fieldKeys(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  napi_value names;
  if (data) {
    napi_get_reference_value(env, *static_cast<napi_ref*>(data), &names);
  } else {
    napi_create_array_with_length(env, kFieldCount, &names);
    for (uint32_t f = 0; f < kFieldCount; f++) napi_set_element(env, names, f, str(env, kFieldNames[f]));
    napi_ref* ref = new napi_ref;
    napi_create_reference(env, names, 1, ref);
    napi_set_instance_data(
        env, ref,
        [](napi_env e, void* d, void*) {
          napi_delete_reference(e, *static_cast<napi_ref*>(d));
          delete static_cast<napi_ref*>(d);
        },
        nullptr);
  }
  FieldKeys keys;
  for (uint32_t f = 0; f < kFieldCount; f++) napi_get_element(env, names, f, &keys.key[f]);
  return keys;
}

// Optional Int32Array of token ids < vocab; appended to `out`; returns how many (0 when undefined).
int appendIds(napi_env env, napi_value v, const What& what, int vocab, std::vector<int32_t>& out) {
  if (typeOf(env, v) == napi_undefined) return 0;
  size_t n = 0;
  const int32_t* ids = int32Array(env, v, what, &n);
  for (size_t j = 0; j < n; j++)
    if (ids[j] < 0 || ids[j] >= vocab)
      throw JsError{JsErrorKind::RangeError, what.str() + "[" + std::to_string(j) + "] = " + std::to_string(ids[j]) +
                                                 " is not a token id (vocab size " + std::to_string(vocab) + ")"};
  out.insert(out.end(), ids, ids + n);
  return (int)n;
}

// Optional Float32Array of finite values; appended to `out`; returns how many.
int appendFloats(napi_env env, napi_value v, const What& what, std::vector<float>& out) {
  if (typeOf(env, v) == napi_undefined) return 0;
  size_t n = 0;
  const float* f = float32Array(env, v, what, &n);
  for (size_t j = 0; j < n; j++)
    if (!std::isfinite(f[j]))
      throw JsError{JsErrorKind::RangeError, what.str() + "[" + std::to_string(j) + "] must be finite"};
  out.insert(out.end(), f, f + n);
  return (int)n;
}

// Where one sequence's sampling arrays start in StepInput::samplingIds / samplingValues / bitmasks.
struct SamplingSpans {
  size_t prompt, output, biasIds, biasValues, mask;
  size_t allowed;  // SIZE_MAX = no allowed-token mask
};

// Optional Int32Array allowedTokens: at least ceil(vocab / 32) words (the rest ignored), appended to
// in.bitmasks; returns its offset there, or SIZE_MAX when absent.
size_t stageAllowedTokens(napi_env env, napi_value v, const What& what, int vocab, bool sample, StepInput& in) {
  if (typeOf(env, v) == napi_undefined) return SIZE_MAX;
  if (!sample) throw JsError{JsErrorKind::RangeError, what.str() + " is given but the sequence does not sample"};
  size_t n = 0;
  const int32_t* words = int32Array(env, v, what, &n);
  const size_t need = ((size_t)vocab + 31) / 32;
  if (n < need)
    throw JsError{JsErrorKind::RangeError, what.str() + " has " + std::to_string(n) + " words but vocab size " +
                                               std::to_string(vocab) + " needs " + std::to_string(need)};
  const size_t at = in.bitmasks.size();
  in.bitmasks.insert(in.bitmasks.end(), (const uint32_t*)words, (const uint32_t*)words + need);
  return at;
}

// Penalties, logit bias and masked ids of seqs[i] (all optional) into sp and in.sampling*.
SamplingSpans stageLogitProcessing(napi_env env, const FieldKeys& keys, napi_value s, const std::string& p, int vocab,
                                   StepInput& in, SamplingParams& sp) {
  sp.presencePenalty = (float)numberOr(env, keys.get(env, s, f_presencePenalty), What(p, ".presencePenalty"), 0);
  sp.frequencyPenalty = (float)numberOr(env, keys.get(env, s, f_frequencyPenalty), What(p, ".frequencyPenalty"), 0);
  sp.repetitionPenalty = (float)numberOr(env, keys.get(env, s, f_repetitionPenalty), What(p, ".repetitionPenalty"), 1);
  if (!(sp.presencePenalty >= -2 && sp.presencePenalty <= 2))
    throw JsError{JsErrorKind::RangeError, p + ".presencePenalty must be in [-2, 2]"};
  if (!(sp.frequencyPenalty >= -2 && sp.frequencyPenalty <= 2))
    throw JsError{JsErrorKind::RangeError, p + ".frequencyPenalty must be in [-2, 2]"};
  if (!(sp.repetitionPenalty > 0)) throw JsError{JsErrorKind::RangeError, p + ".repetitionPenalty must be > 0"};
  SamplingSpans at{};
  at.prompt = in.samplingIds.size();
  sp.nPrompt = appendIds(env, keys.get(env, s, f_promptTokens), What(p, ".promptTokens"), vocab, in.samplingIds);
  at.output = in.samplingIds.size();
  sp.nOutput = appendIds(env, keys.get(env, s, f_outputTokens), What(p, ".outputTokens"), vocab, in.samplingIds);
  at.biasIds = in.samplingIds.size();
  at.biasValues = in.samplingValues.size();
  sp.nBias = appendIds(env, keys.get(env, s, f_logitBiasIds), What(p, ".logitBiasIds"), vocab, in.samplingIds);
  if (appendFloats(env, keys.get(env, s, f_logitBiasValues), What(p, ".logitBiasValues"), in.samplingValues) !=
      sp.nBias)
    throw JsError{JsErrorKind::RangeError, p + ".logitBiasValues must have one value per logitBiasIds entry"};
  at.mask = in.samplingIds.size();
  sp.nMask = appendIds(env, keys.get(env, s, f_maskTokens), What(p, ".maskTokens"), vocab, in.samplingIds);
  return at;
}

}  // namespace

void stageStep(napi_env env, Engine& e, napi_value seqs) {
  if (!e.kvReady()) throw JsError{JsErrorKind::Error, "initKv() must be called before step()"};
  bool isArray = false;
  napi_is_array(env, seqs, &isArray);
  if (!isArray) throw JsError{JsErrorKind::TypeError, "step(seqs): seqs must be an array of EngineSeq"};
  uint32_t n = 0;
  napi_get_array_length(env, seqs, &n);
  if (n == 0) throw JsError{JsErrorKind::RangeError, "step(seqs): seqs is empty; a step needs at least one sequence"};
  if ((int)n > e.maxSeqs())
    throw JsError{JsErrorKind::RangeError,
                  "step has " + std::to_string(n) +
                      " sequences but initKv() sized it for maxSeqs = " + std::to_string(e.maxSeqs())};
  const int vocab = e.config().vocabSize, bs = e.blockSize(), numBlocks = e.numBlocks();
  const KvLayout& layout = e.kvLayout();
  const int G = layout.nGroups();
  StepInput& in = e.input();
  in.clear();
  const FieldKeys keys = fieldKeys(env);
  // [n] offsets; pointers are taken after the last append, when the vectors no longer reallocate.
  static thread_local std::vector<SamplingSpans> spans;  // JS thread only; reused across steps
  spans.clear();
  for (uint32_t i = 0; i < n; i++) {
    const std::string p = "seqs[" + std::to_string(i) + "]";
    napi_value s;
    napi_get_element(env, seqs, i, &s);
    if (typeOf(env, s) != napi_object) throw JsError{JsErrorKind::TypeError, p + " must be an object"};
    StepSeq spec;
    size_t nTok = 0, nBt = 0;
    const int32_t* toks = int32Array(env, keys.get(env, s, f_tokens), What(p, ".tokens"), &nTok);
    if (nTok == 0)
      throw JsError{JsErrorKind::RangeError, p + ".tokens is empty; every sequence in a step feeds at least one token"};
    if (in.tokens.size() + nTok > (size_t)e.maxBatchTokens())
      throw JsError{JsErrorKind::RangeError,
                    "step has more than maxBatchTokens = " + std::to_string(e.maxBatchTokens()) +
                        " tokens (initKv size); split it into smaller steps"};
    for (size_t j = 0; j < nTok; j++)
      if (toks[j] < 0 || toks[j] >= vocab)
        throw JsError{JsErrorKind::RangeError, p + ".tokens[" + std::to_string(j) + "] = " + std::to_string(toks[j]) +
                                                   " is not a token id (vocab size " + std::to_string(vocab) + ")"};
    spec.startPos = (int)intIn(env, keys.get(env, s, f_startPos), What(p, ".startPos"), 0, 1 << 30, -1);
    if ((size_t)spec.startPos + nTok > (size_t)e.config().contextLength)
      throw JsError{JsErrorKind::RangeError, p + " reaches position " + std::to_string(spec.startPos + nTok - 1) +
                                                 " but the model's context length is " +
                                                 std::to_string(e.config().contextLength) +
                                                 "; stop or truncate the sequence"};
    const int32_t* bt = int32Array(env, keys.get(env, s, f_blockTable), What(p, ".blockTable"), &nBt);
    const size_t needBlocks = ((size_t)spec.startPos + nTok + bs - 1) / bs, need = needBlocks * (size_t)G;
    if (nBt < need)
      throw JsError{JsErrorKind::RangeError,
                    p + ".blockTable has " + std::to_string(nBt) + " entries but positions up to " +
                        std::to_string(spec.startPos + nTok - 1) + " need " + std::to_string(need) + " (block size " +
                        std::to_string(bs) + (G > 1 ? ", " + std::to_string(G) + " KV cache groups" : "") + ")"};
    // Entry i * G + g must be a block where group g's layers read or write: from the window of the first
    // query on (the whole table for full attention); entries before it are never read (-1 or stale ids).
    for (int g = 0; g < G; g++) {
      const int w = layout.groups[(size_t)g].window;
      const size_t first = w > 0 && spec.startPos >= w ? (size_t)(spec.startPos - w + 1) / bs : 0;
      for (size_t j = first * (size_t)G + (size_t)g; j < need; j += (size_t)G)
        if (bt[j] < 0 || bt[j] >= numBlocks)
          throw JsError{JsErrorKind::RangeError, p + ".blockTable[" + std::to_string(j) +
                                                     "] = " + std::to_string(bt[j]) + " is not a block id (numBlocks " +
                                                     std::to_string(numBlocks) + ")"};
    }
    napi_value sv = keys.get(env, s, f_sample);
    if (typeOf(env, sv) != napi_boolean) throw JsError{JsErrorKind::TypeError, p + ".sample must be a boolean"};
    napi_get_value_bool(env, sv, &spec.sample);
    SamplingParams& sp = spec.params;
    sp.temperature = (float)numberOr(env, keys.get(env, s, f_temperature), What(p, ".temperature"), 0);
    sp.topP = (float)numberOr(env, keys.get(env, s, f_topP), What(p, ".topP"), 1);
    sp.minP = (float)numberOr(env, keys.get(env, s, f_minP), What(p, ".minP"), 0);
    if (sp.temperature < 0) throw JsError{JsErrorKind::RangeError, p + ".temperature must be >= 0"};
    if (!(sp.topP > 0 && sp.topP <= 1)) throw JsError{JsErrorKind::RangeError, p + ".topP must be in (0, 1]"};
    if (!(sp.minP >= 0 && sp.minP <= 1)) throw JsError{JsErrorKind::RangeError, p + ".minP must be in [0, 1]"};
    sp.topK = (int)intIn(env, keys.get(env, s, f_topK), What(p, ".topK"), 0, 1 << 30, 0);
    sp.seed = (uint32_t)intIn(env, keys.get(env, s, f_seed), What(p, ".seed"), 0, 4294967295.0, 0);
    sp.rngCounter =
        (uint64_t)intIn(env, keys.get(env, s, f_rngCounter), What(p, ".rngCounter"), 0, 9007199254740991.0, 0);
    sp.logprobs = (int)intIn(env, keys.get(env, s, f_logprobs), What(p, ".logprobs"), 0, vocab, 0);
    spans.push_back(stageLogitProcessing(env, keys, s, p, vocab, in, sp));
    spans.back().allowed =
        stageAllowedTokens(env, keys.get(env, s, f_allowedTokens), What(p, ".allowedTokens"), vocab, spec.sample, in);
    // Absent = none (kNoPromptLogprobs / kNoToken); a present value is a count / a token id.
    napi_value plp = keys.get(env, s, f_promptLogprobs);
    spec.promptLogprobs = typeOf(env, plp) == napi_undefined
                              ? kNoPromptLogprobs
                              : (int)intIn(env, plp, What(p, ".promptLogprobs"), 0, vocab, kNoPromptLogprobs);
    napi_value next = keys.get(env, s, f_nextPromptToken);
    spec.nextPromptToken = typeOf(env, next) == napi_undefined
                               ? kNoToken
                               : (int32_t)intIn(env, next, What(p, ".nextPromptToken"), 0, vocab - 1, kNoToken);
    const std::string pool = stringOr(env, keys.get(env, s, f_pool), What(p, ".pool"), "");
    if (!pool.empty()) {
      if (pool != "last" && pool != "first" && pool != "sum")
        throw JsError{JsErrorKind::RangeError, p + ".pool must be 'last', 'first' or 'sum', got '" + pool + "'"};
      if (spec.sample)
        throw JsError{JsErrorKind::RangeError, p + " both samples and pools; a sequence does one or the other"};
      spec.pool = pool == "last" ? PoolRows::LAST : pool == "first" ? PoolRows::FIRST : PoolRows::SUM;
    }
    spec.tokenStart = (int)in.tokens.size();
    spec.nTokens = (int)nTok;
    spec.blockTableStart = (int)in.blockTables.size();
    spec.blockTableLen = (int)need;
    in.tokens.insert(in.tokens.end(), toks, toks + nTok);
    in.blockTables.insert(in.blockTables.end(), bt, bt + need);
    in.seqs.push_back(spec);
  }
  for (size_t i = 0; i < in.seqs.size(); i++) {
    SamplingParams& sp = in.seqs[i].params;
    sp.promptIds = in.samplingIds.data() + spans[i].prompt;
    sp.outputIds = in.samplingIds.data() + spans[i].output;
    sp.biasIds = in.samplingIds.data() + spans[i].biasIds;
    sp.biasValues = in.samplingValues.data() + spans[i].biasValues;
    sp.maskIds = in.samplingIds.data() + spans[i].mask;
    sp.allowed = spans[i].allowed == SIZE_MAX ? nullptr : in.bitmasks.data() + spans[i].allowed;
  }
}

}  // namespace loom
