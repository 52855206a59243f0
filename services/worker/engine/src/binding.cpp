// N-API binding: class Engine(modelPath, {threads, kvType, kernels}) implementing the NativeEngine
// interface of services/worker/src/engine/engine-api.ts, plus supportedKernels().
// step() validates and stages its input on the JS thread, runs forward + sampling and settles a Promise: on a
// napi_async_work (off the event loop), or, for a small step known to be quick, on the JS thread itself (see
// kInlineTokens). No C++ exception ever crosses into Node: every entry point catches and turns it into a JS Error /
// TypeError / RangeError.
#include <node_api.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine.h"
#include "ggml-types.h"
#include "quant.h"
#include "reference-forward.h"
#include "napi-util.h"
#include "step-args.h"

using loom::JsError;
using loom::JsErrorKind;

namespace {

// A step of at most kInlineTokens tokens runs on the calling (JS) thread when the last such step took under
// kInlineSeconds; every other step runs on a libuv worker thread. Why: the engine's pool has as many threads as it
// was given cores, and a libuv thread running the step is one thread more, so the hand-off to it and back (two
// cross-thread wake-ups, the pool's helper and the libuv thread contending for a core while the JS thread still runs)
// cost a B=1 decode step 0.1-0.2 ms of a 0.6-0.8 ms step on 2 cores (docs/benchmarks.md). A decode step's cost is
// mostly the weights it streams, so the last small step's time predicts the next one's; the bound keeps the event
// loop from stalling longer than that on a large model, which keeps the libuv path.
constexpr size_t kInlineTokens = 16;
constexpr double kInlineSeconds = 0.010;

struct Handle {
  std::unique_ptr<loom::Engine> engine;
  bool busy = false;             // a step is in flight: no step(), initKv() or close() until it settles
  bool small = false;            // the step in flight feeds at most kInlineTokens tokens
  double smallStepSeconds = -1;  // seconds of the last such step (-1: none yet)
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref self = nullptr;  // keeps the JS object (and so this Handle) alive during a step
  std::string error;        // set by execute() when the step threw
};

Handle* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  napi_get_cb_info(env, info, argc, argv, &self, nullptr);
  void* h = nullptr;
  if (napi_unwrap(env, self, &h) != napi_ok || !h) throw JsError{JsErrorKind::TypeError, "not an Engine instance"};
  return static_cast<Handle*>(h);
}

loom::Engine& live(Handle* h, bool allowBusy = false) {
  if (!h->engine) throw JsError{JsErrorKind::Error, "engine is closed; load a new one with loadEngine()"};
  if (h->busy && !allowBusy) throw JsError{JsErrorKind::Error, "a step is running; await the previous step() first"};
  return *h->engine;
}

// Wraps a method body so C++ exceptions become JS exceptions.
template <class F>
napi_value guard(napi_env env, F&& body) {
  try {
    return body();
  } catch (const JsError& e) {
    loom::throwJs(env, e);
  } catch (const std::exception& e) {
    loom::throwJs(env, JsError{JsErrorKind::Error, e.what()});
  }
  return nullptr;
}

napi_value construct(napi_env env, napi_callback_info info) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 2;
    napi_value argv[2] = {nullptr, nullptr}, self;
    napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
    const std::string path = loom::stringOr(env, argv[0], "modelPath", "");
    if (path.empty())
      throw JsError{JsErrorKind::TypeError,
                    "modelPath must be a non-empty string (a .gguf file or a safetensors model directory)"};
    loom::EngineOptions opts;
    const char* env_kernels = std::getenv("LOOM_KERNELS");
    opts.kernels = env_kernels ? env_kernels : "";
    if (loom::typeOf(env, argv[1]) == napi_object) {
      opts.threads = (int)loom::intIn(env, loom::getProp(env, argv[1], "threads"), "opts.threads", 0, 1024, 0);
      const std::string kv = loom::stringOr(env, loom::getProp(env, argv[1], "kvType"), "opts.kvType", "f16");
      if (kv != "f16" && kv != "f32") throw JsError{JsErrorKind::RangeError, "opts.kvType must be 'f16' or 'f32'"};
      opts.kvType = kv == "f16" ? loom::KvType::F16 : loom::KvType::F32;
      opts.kernels = loom::stringOr(env, loom::getProp(env, argv[1], "kernels"), "opts.kernels", opts.kernels);
    }
    auto h = std::make_unique<Handle>();
    h->engine = std::make_unique<loom::Engine>(path, opts);
    napi_wrap(
        env, self, h.get(), [](napi_env, void* p, void*) { delete static_cast<Handle*>(p); }, nullptr, nullptr);
    h.release();
    return self;
  });
}

napi_value info(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 0;
    loom::Engine& e = live(unwrap(env, cbi, &argc, nullptr), true);
    const loom::ModelConfig& c = e.config();
    napi_value o;
    napi_create_object(env, &o);
    auto set = [&](const char* k, napi_value v) { napi_set_named_property(env, o, k, v); };
    set("architecture", loom::str(env, c.architecture));
    set("vocabSize", loom::num(env, c.vocabSize));
    set("contextLength", loom::num(env, c.contextLength));
    set("dim", loom::num(env, c.dim));
    set("hiddenDim", loom::num(env, c.hiddenDim));
    set("expertCount", loom::num(env, c.moe.nExperts));
    set("expertsUsed", loom::num(env, c.moe.nUsed));
    set("expertHiddenDim", loom::num(env, c.moe.hiddenDim));
    set("nLayers", loom::num(env, c.nLayers));
    set("nHeads", loom::num(env, c.nHeads));
    set("nKvHeads", loom::num(env, c.nKvHeads));
    set("headDim", loom::num(env, c.headDim));
    set("ropeTheta", loom::num(env, c.ropeTheta));
    set("normEps", loom::num(env, c.normEps));
    set("weightType", loom::str(env, e.weightTypeName()));
    set("kernels", loom::str(env, e.kernelsName()));
    set("threads", loom::num(env, e.threads()));
    set("kvType", loom::str(env, e.kvTypeName()));
    // The KV cache groups (kv-layout.h), in block-table order: [{window, layers}].
    const loom::KvLayout& layout = e.kvLayout();
    napi_value groups;
    napi_create_array_with_length(env, layout.groups.size(), &groups);
    for (size_t g = 0; g < layout.groups.size(); g++) {
      napi_value go, layers;
      napi_create_object(env, &go);
      napi_set_named_property(env, go, "window", loom::num(env, layout.groups[g].window));
      napi_create_array_with_length(env, layout.groups[g].layers.size(), &layers);
      for (size_t l = 0; l < layout.groups[g].layers.size(); l++)
        napi_set_element(env, layers, (uint32_t)l, loom::num(env, layout.groups[g].layers[l]));
      napi_set_named_property(env, go, "layers", layers);
      napi_set_element(env, groups, (uint32_t)g, go);
    }
    set("kvCacheGroups", groups);
    set("kvLayersPerBlock", loom::num(env, layout.layersPerBlock));
    return o;
  });
}

napi_value kvBytesPerBlock(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 1;
    napi_value argv[1] = {nullptr};
    loom::Engine& e = live(unwrap(env, cbi, &argc, argv), true);
    const int bs = (int)loom::intIn(env, argv[0], "blockSize", 1, 1 << 16, -1);
    return loom::num(env, (double)e.kvBytesPerBlock(bs));
  });
}

napi_value initKv(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 4;
    napi_value argv[4] = {nullptr, nullptr, nullptr, nullptr};
    loom::Engine& e = live(unwrap(env, cbi, &argc, argv));
    const int numBlocks = (int)loom::intIn(env, argv[0], "numBlocks", 1, 1 << 30, -1);
    const int blockSize = (int)loom::intIn(env, argv[1], "blockSize", 1, 1 << 16, -1);
    const int maxBatchTokens = (int)loom::intIn(env, argv[2], "maxBatchTokens", 1, 1 << 20, -1);
    const int maxSeqs = (int)loom::intIn(env, argv[3], "maxSeqs", 1, 1 << 16, -1);
    if (maxSeqs > maxBatchTokens)
      throw JsError{JsErrorKind::RangeError,
                    "maxSeqs must be <= maxBatchTokens (every sequence feeds at least one token)"};
    e.initKv(numBlocks, blockSize, maxBatchTokens, maxSeqs);
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  });
}

void executeStep(napi_env, void* data) {
  Handle* h = static_cast<Handle*>(data);
  try {
    h->engine->step();
  } catch (const std::exception& e) {
    h->error = std::string("engine step failed: ") + e.what();
  }
}

void completeStep(napi_env env, napi_status status, void* data) {
  Handle* h = static_cast<Handle*>(data);
  h->busy = false;
  if (h->small) h->smallStepSeconds = h->error.empty() ? h->engine->output().seconds : -1;
  napi_deferred d = h->deferred;
  h->deferred = nullptr;
  if (status != napi_ok || !h->error.empty()) {
    napi_reject_deferred(
        env, d,
        loom::makeError(env, JsError{JsErrorKind::Error, h->error.empty() ? "engine step was cancelled" : h->error}));
  } else {
    const loom::StepOutput& out = h->engine->output();
    napi_value o;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "tokens",
                            loom::copyTypedArray(env, napi_int32_array, out.tokens.data(), out.tokens.size()));
    napi_set_named_property(env, o, "logprobs",
                            loom::copyTypedArray(env, napi_float32_array, out.logprobs.data(), out.logprobs.size()));
    if (out.topN > 0) {
      napi_set_named_property(env, o, "topIds",
                              loom::copyTypedArray(env, napi_int32_array, out.topIds.data(), out.topIds.size()));
      napi_set_named_property(
          env, o, "topLogprobs",
          loom::copyTypedArray(env, napi_float32_array, out.topLogprobs.data(), out.topLogprobs.size()));
    }
    napi_set_named_property(env, o, "topN", loom::num(env, out.topN));
    if (out.promptOffsets.back() > 0) {  // some sequence asked for prompt logprobs
      napi_value p;
      napi_create_object(env, &p);
      napi_set_named_property(
          env, p, "offsets",
          loom::copyTypedArray(env, napi_int32_array, out.promptOffsets.data(), out.promptOffsets.size()));
      napi_set_named_property(
          env, p, "logprobs",
          loom::copyTypedArray(env, napi_float32_array, out.promptLogprobs.data(), out.promptLogprobs.size()));
      napi_set_named_property(env, p, "topN", loom::num(env, out.promptTopN));
      napi_set_named_property(
          env, p, "topIds",
          loom::copyTypedArray(env, napi_int32_array, out.promptTopIds.data(), out.promptTopIds.size()));
      napi_set_named_property(
          env, p, "topLogprobs",
          loom::copyTypedArray(env, napi_float32_array, out.promptTopLogprobs.data(), out.promptTopLogprobs.size()));
      napi_set_named_property(env, o, "prompt", p);
    }
    if (!out.pooled.empty())
      napi_set_named_property(env, o, "pooled",
                              loom::copyTypedArray(env, napi_float32_array, out.pooled.data(), out.pooled.size()));
    napi_set_named_property(env, o, "seconds", loom::num(env, out.seconds));
    napi_resolve_deferred(env, d, o);
  }
  h->error.clear();
  if (h->work) napi_delete_async_work(env, h->work);
  h->work = nullptr;
  napi_ref self = h->self;
  h->self = nullptr;
  napi_delete_reference(env, self);  // may let the object (and h) be collected later: touch h no more
}

napi_value step(napi_env env, napi_callback_info cbi) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr}, self;
  napi_get_cb_info(env, cbi, &argc, argv, &self, nullptr);
  napi_deferred deferred;
  napi_value promise;
  napi_create_promise(env, &deferred, &promise);
  try {
    void* hp = nullptr;
    if (napi_unwrap(env, self, &hp) != napi_ok || !hp) throw JsError{JsErrorKind::TypeError, "not an Engine instance"};
    Handle* h = static_cast<Handle*>(hp);
    loom::Engine& e = live(h);
    loom::stageStep(env, e, argv[0]);
    h->small = e.input().tokens.size() <= kInlineTokens;
    const bool inline_ = h->small && h->smallStepSeconds >= 0 && h->smallStepSeconds < kInlineSeconds;
    if (!inline_) {
      napi_value name;
      napi_create_string_utf8(env, "loom.step", NAPI_AUTO_LENGTH, &name);
      if (napi_create_async_work(env, nullptr, name, executeStep, completeStep, h, &h->work) != napi_ok)
        throw JsError{JsErrorKind::Error, "cannot create the step's async work"};
    }
    napi_create_reference(env, self, 1, &h->self);
    h->deferred = deferred;
    h->busy = true;
    if (inline_) {
      executeStep(env, h);
      completeStep(env, napi_ok, h);  // settles the promise before it is returned
    } else {
      napi_queue_async_work(env, h->work);
    }
  } catch (const JsError& e) {
    napi_reject_deferred(env, deferred, loom::makeError(env, e));
  } catch (const std::exception& e) {
    napi_reject_deferred(env, deferred, loom::makeError(env, JsError{JsErrorKind::Error, e.what()}));
  }
  return promise;
}

napi_value vocab(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 0;
    const std::vector<std::string> v = live(unwrap(env, cbi, &argc, nullptr), true).vocab();
    napi_value arr;
    napi_create_array_with_length(env, v.size(), &arr);
    for (size_t i = 0; i < v.size(); i++) napi_set_element(env, arr, (uint32_t)i, loom::str(env, v[i]));
    return arr;
  });
}

// The token ids of a reference call (tests only), validated: non-empty, within the context, in the vocabulary.
std::vector<int32_t> referenceTokens(napi_env env, const loom::Engine& e, napi_value v) {
  size_t n = 0;
  const int32_t* toks = loom::int32Array(env, v, "tokens", &n);
  const int vocab = e.config().vocabSize;
  if (n == 0) throw JsError{JsErrorKind::RangeError, "tokens is empty"};
  if (n > (size_t)e.config().contextLength)
    throw JsError{JsErrorKind::RangeError, "tokens is longer than the context length"};
  for (size_t j = 0; j < n; j++)
    if (toks[j] < 0 || toks[j] >= vocab)
      throw JsError{JsErrorKind::RangeError, "tokens[" + std::to_string(j) + "] = " + std::to_string(toks[j]) +
                                                 " is not a token id (vocab size " + std::to_string(vocab) + ")"};
  return std::vector<int32_t>(toks, toks + n);
}

// referenceLogits(tokens: Int32Array): Float32Array [n][vocab] from the float64 reference forward (tests only:
// slow, synchronous, independent of the KV pool).
napi_value referenceLogits(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 1;
    napi_value argv[1] = {nullptr};
    loom::Engine& e = live(unwrap(env, cbi, &argc, argv));
    const std::vector<float> logits = loom::referenceLogits(e.config(), e.weights(), referenceTokens(env, e, argv[0]));
    return loom::copyTypedArray(env, napi_float32_array, logits.data(), logits.size());
  });
}

// referenceHidden(tokens: Int32Array): Float32Array [n][dim], the final-normed hidden state of every position from
// the float64 reference forward (what embeddings pool; tests only).
napi_value referenceHidden(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 1;
    napi_value argv[1] = {nullptr};
    loom::Engine& e = live(unwrap(env, cbi, &argc, argv));
    const std::vector<float> hidden = loom::referenceHidden(e.config(), e.weights(), referenceTokens(env, e, argv[0]));
    return loom::copyTypedArray(env, napi_float32_array, hidden.data(), hidden.size());
  });
}

// lastLogits(): Float32Array [nSampling][vocab], the raw logits the last step sampled from (tests only).
napi_value lastLogits(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 0;
    loom::Engine& e = live(unwrap(env, cbi, &argc, nullptr));
    size_t rows = 0;
    for (const loom::StepSeq& s : e.input().seqs) rows += s.sample ? 1 : 0;
    return loom::copyTypedArray(env, napi_float32_array, e.lastLogits(), rows * (size_t)e.config().vocabSize);
  });
}

napi_value close(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 0;
    Handle* h = unwrap(env, cbi, &argc, nullptr);
    if (h->busy) throw JsError{JsErrorKind::Error, "cannot close while a step is running; await step() first"};
    h->engine.reset();  // idempotent: closing twice is a no-op
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  });
}

napi_value supportedKernels(napi_env env, napi_callback_info) { return loom::str(env, loom::supportedKernels()); }

// The GGML type id named by a JS string ("q4_K", ...) for quantize() / dequantize().
uint32_t ggmlTypeByName(const std::string& name) {
  for (uint32_t id = 0; id < 64; id++) {
    const char* n = loom::ggmlTypeInfo(id).name;
    if (n && name == n) return id;
  }
  throw JsError{JsErrorKind::RangeError, "unknown GGML type '" + name + "'"};
}

// quantize(type: string, values: Float32Array): Uint8Array, ggml's quantisation (as llama-quantize runs it) of
// values.length f32 (a whole number of blocks) into `type` bytes (f32, f16 and every block type of quant.h).
napi_value quantize(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 2;
    napi_value argv[2] = {nullptr, nullptr};
    napi_get_cb_info(env, cbi, &argc, argv, nullptr, nullptr);
    const uint32_t type = ggmlTypeByName(loom::stringOr(env, argv[0], "type", ""));
    size_t n = 0;
    const float* data = loom::float32Array(env, argv[1], "values", &n);
    const loom::GgmlTypeInfo info = loom::ggmlTypeInfo(type);
    if (n % info.blockElems != 0)
      throw JsError{JsErrorKind::RangeError, "values.length must be a multiple of " + std::to_string(info.blockElems)};
    std::vector<uint8_t> out(loom::ggmlRowBytes(info, n));
    loom::quantizeRow(type, data, out.data(), (int)n);
    return loom::copyTypedArray(env, napi_uint8_array, out.data(), out.size());
  });
}

// dequantize(type: string, bytes: Uint8Array): Float32Array, the values those bytes encode.
napi_value dequantize(napi_env env, napi_callback_info cbi) {
  return guard(env, [&]() -> napi_value {
    size_t argc = 2;
    napi_value argv[2] = {nullptr, nullptr};
    napi_get_cb_info(env, cbi, &argc, argv, nullptr, nullptr);
    const uint32_t type = ggmlTypeByName(loom::stringOr(env, argv[0], "type", ""));
    size_t n = 0;
    const uint8_t* data = loom::uint8Array(env, argv[1], "bytes", &n);
    const loom::GgmlTypeInfo info = loom::ggmlTypeInfo(type);
    if (n % info.blockBytes != 0)
      throw JsError{JsErrorKind::RangeError, "bytes.length must be a multiple of " + std::to_string(info.blockBytes)};
    std::vector<float> out(n / info.blockBytes * info.blockElems);
    loom::dequantRow(type, data, out.data(), (int)out.size());
    return loom::copyTypedArray(env, napi_float32_array, out.data(), out.size());
  });
}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"info", nullptr, info, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"kvBytesPerBlock", nullptr, kvBytesPerBlock, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"initKv", nullptr, initKv, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"step", nullptr, step, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"vocab", nullptr, vocab, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"referenceLogits", nullptr, referenceLogits, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"referenceHidden", nullptr, referenceHidden, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"lastLogits", nullptr, lastLogits, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"close", nullptr, close, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_value cls;
  napi_define_class(env, "Engine", NAPI_AUTO_LENGTH, construct, nullptr, sizeof(methods) / sizeof(methods[0]), methods,
                    &cls);
  napi_set_named_property(env, exports, "Engine", cls);
  napi_value fn;
  napi_create_function(env, "supportedKernels", NAPI_AUTO_LENGTH, supportedKernels, nullptr, &fn);
  napi_set_named_property(env, exports, "supportedKernels", fn);
  napi_create_function(env, "quantize", NAPI_AUTO_LENGTH, quantize, nullptr, &fn);
  napi_set_named_property(env, exports, "quantize", fn);
  napi_create_function(env, "dequantize", NAPI_AUTO_LENGTH, dequantize, nullptr, &fn);
  napi_set_named_property(env, exports, "dequantize", fn);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return init(env, exports); }
