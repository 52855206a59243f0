// config.json -> ModelConfig for every family in model-family.cpp, with the defaults of the transformers
// config classes where a field may be absent.
#include "hf-config.h"

#include <cmath>
#include <stdexcept>

#include "model-family.h"
#include "rope-scaling.h"

namespace loom {

namespace {

struct Reader {
  const Json& cfg;
  const std::string& path;

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path + ": " + what); }

  const Json* present(const Json& obj, const std::string& key) const {
    const Json* v = obj.get(key);
    return v && !v->isNull() ? v : nullptr;
  }
  double number(const Json& obj, const std::string& key, const std::string& where) const {
    const Json* v = present(obj, key);
    if (!v) fail("missing '" + where + key + "'");
    if (!v->isNumber()) fail("'" + where + key + "' must be a number");
    return v->num;
  }
  double number(const Json& obj, const std::string& key, double fallback, const std::string& where = "") const {
    return present(obj, key) ? number(obj, key, where) : fallback;
  }
  double number(const std::string& key, double fallback) const { return number(cfg, key, fallback); }
  int integer(const std::string& key) const {
    const double v = number(cfg, key, "");
    if (v != std::floor(v) || v <= 0 || v > 1e9) fail("'" + key + "' must be a positive integer");
    return (int)v;
  }
  int integer(const std::string& key, int fallback) const { return present(cfg, key) ? integer(key) : fallback; }
  std::string string(const Json& obj, const std::string& key) const {
    const Json* v = present(obj, key);
    if (!v) return "";
    if (!v->isString()) fail("'" + key + "' must be a string");
    return v->str;
  }
  // An array of numbers of length n (or empty when absent).
  std::vector<double> numbers(const Json& obj, const std::string& key, size_t n, const std::string& where) const {
    const Json* v = present(obj, key);
    if (!v) return {};
    if (!v->isArray() || v->items.size() != n)
      fail("'" + where + key + "' must be an array of " + std::to_string(n) + " numbers");
    std::vector<double> out;
    for (const Json& x : v->items) {
      if (!x.isNumber()) fail("'" + where + key + "' must hold numbers");
      out.push_back(x.num);
    }
    return out;
  }
};

// rope_scaling of the global layers (or null): llama3, linear, yarn, longrope.
RopeSpec globalRope(const Reader& r, const ModelConfig& c) {
  RopeSpec rope;
  rope.base = c.ropeTheta;
  rope.factors.assign((size_t)c.nRot / 2, 1.f);
  const Json* rs = r.present(r.cfg, "rope_scaling");
  if (!rs) return rope;
  if (!rs->isObject()) r.fail("'rope_scaling' must be an object or null");
  std::string type = r.string(*rs, "rope_type");
  if (type.empty()) type = r.string(*rs, "type");  // older configs
  const std::string where = "rope_scaling.";
  if (type == "llama3") {
    rope.factors = llama3RopeFactors(c.ropeTheta, c.nRot, r.number(*rs, "factor", where),
                                     r.number(*rs, "low_freq_factor", where), r.number(*rs, "high_freq_factor", where),
                                     r.number(*rs, "original_max_position_embeddings", where));
  } else if (type == "linear") {
    const double factor = r.number(*rs, "factor", where);
    if (!(factor >= 1.0)) r.fail("rope_scaling.factor must be >= 1");
    rope.freqScale = (float)(1.0 / factor);
  } else if (type == "yarn") {
    const double factor = r.number(*rs, "factor", where);
    if (!(factor >= 1.0)) r.fail("rope_scaling.factor must be >= 1");
    const int original = (int)r.number(*rs, "original_max_position_embeddings", (double)c.contextLength, where);
    const double ms = r.number(*rs, "mscale", 0.0, where), msAll = r.number(*rs, "mscale_all_dim", 0.0, where);
    rope = yarnRope(c.ropeTheta, c.nRot, (float)factor, original, 1.f, ms != 0 && msAll != 0 ? (float)msAll : 0.f,
                    (float)r.number(*rs, "beta_fast", 32.0, where), (float)r.number(*rs, "beta_slow", 1.0, where));
    // An explicit attention_factor is the final magnitude (transformers' _compute_yarn_parameters). `truncate`
    // (gpt-oss: false) is not read: llama.cpp always rounds the correction dims, and Loom computes as llama.cpp.
    if (r.present(*rs, "attention_factor"))
      rope.attnFactor = (float)(r.number(*rs, "attention_factor", where) / (1 + 0.1 * std::log(factor)));
  } else if (type == "longrope") {
    // Phi-3: short factors up to the original context, long ones beyond; the engine serves the full context,
    // so long when it exceeds the original (as llama.cpp picks by its context size).
    const double original = r.number(*rs, "original_max_position_embeddings",
                                     r.number("original_max_position_embeddings", (double)c.contextLength), where);
    const std::vector<double> lf = r.numbers(*rs, "long_factor", (size_t)c.nRot / 2, where),
                              sf = r.numbers(*rs, "short_factor", (size_t)c.nRot / 2, where);
    if (lf.empty() || sf.empty()) r.fail("rope_scaling longrope needs long_factor and short_factor");
    const std::vector<double>& use = c.contextLength > original ? lf : sf;
    for (size_t i = 0; i < use.size(); i++) {
      if (!(use[i] > 0)) r.fail("rope_scaling factors must be positive");
      rope.factors[i] = (float)use[i];
    }
    rope.attnFactor = (float)r.number(*rs, "attention_factor", longRopeAttnFactor(c.contextLength, original), where);
  } else if (type != "default" && !type.empty()) {
    r.fail("unsupported rope_scaling type '" + type + "' (supported: llama3, linear, yarn, longrope, default)");
  }
  return rope;
}

// Which layers use sliding-window attention: layer_types, else the family's period (gemma2: even layers,
// gemma3: 5 of every 6), else (mistral) every layer.
std::vector<bool> slidingLayers(const Reader& r, const ModelConfig& c, const ModelFamily& fam) {
  std::vector<bool> out((size_t)c.nLayers);
  if (const Json* lt = r.present(r.cfg, "layer_types")) {
    if (!lt->isArray() || lt->items.size() != (size_t)c.nLayers)
      r.fail("'layer_types' must list one type per layer (" + std::to_string(c.nLayers) + ")");
    for (int l = 0; l < c.nLayers; l++) out[(size_t)l] = lt->items[(size_t)l].str == "sliding_attention";
    return out;
  }
  return periodicSlidingLayers(c.nLayers, r.integer("sliding_window_pattern", fam.swaPattern));
}

}  // namespace

ModelConfig readHfConfig(const Json& root, const std::string& path) {
  if (!root.isObject()) throw std::runtime_error(path + ": must hold a JSON object");
  // Gemma 3's image-text checkpoints hold the text model's config in text_config.
  const Json* text = root.get("text_config");
  const Json& cfg =
      Reader{root, path}.string(root, "model_type") == "gemma3" && text && text->isObject() ? *text : root;
  Reader r{cfg, path};
  ModelConfig c;
  std::string type = r.string(cfg, "model_type");
  if (type.empty() && &cfg != &root) type = "gemma3_text";
  const ModelFamily* fam = familyByHfType(type);
  if (!fam) r.fail("unsupported model_type '" + type + "' (supported: " + supportedHfModelTypes() + ")");
  c.architecture = fam->arch;
  c.activation = fam->activation;
  c.qkNorm = fam->qkNorm;
  c.postNorms = fam->postNorms;
  c.fusedGateUp = fam->fusedGateUp;
  const std::string act =
      r.string(cfg, "hidden_activation").empty() ? r.string(cfg, "hidden_act") : r.string(cfg, "hidden_activation");
  // gpt-oss says silu for its clamped SwiGLU (transformers' GptOssExperts hard-codes alpha 1.702, limit 7).
  const std::string wantAct = fam->activation == Activation::GELU_TANH ? "gelu_pytorch_tanh" : "silu";
  if (!act.empty() && act != wantAct)
    r.fail("unsupported hidden_act '" + act + "' for " + type + " (supported: " + wantAct + ")");
  c.ropeStyle = RopeStyle::NEOX;  // HF keeps Q/K un-permuted: rotate_half pairs i with i + nRot/2
  const bool gemma = fam->gemmaScales;
  c.dim = r.integer("hidden_size");
  c.hiddenDim = r.integer("intermediate_size");
  c.nLayers = r.integer("num_hidden_layers");
  // Gemma 3 image-text checkpoints leave most of text_config to Gemma3TextConfig's defaults.
  const bool g3 = type == "gemma3_text";
  c.nHeads = g3 ? r.integer("num_attention_heads", 8) : r.integer("num_attention_heads");
  c.nKvHeads = r.integer("num_key_value_heads", g3 ? 4 : c.nHeads);
  if (c.nHeads % c.nKvHeads != 0)
    r.fail("num_attention_heads " + std::to_string(c.nHeads) + " is not a multiple of num_key_value_heads " +
           std::to_string(c.nKvHeads));
  // Granite's converter ignores head_dim (llama.cpp derives it from the width); so does this reader.
  c.headDim = type == "granite" ? c.dim / c.nHeads : r.integer("head_dim", g3 ? 256 : c.dim / c.nHeads);
  const double rotary = r.number("partial_rotary_factor", 1.0);
  c.nRot = rotary == 1.0 ? c.headDim : (int)(rotary * c.dim) / c.nHeads;  // as convert_hf_to_gguf (phi3)
  if (c.headDim % 2 != 0 || c.nRot % 2 != 0 || c.nRot <= 0 || c.nRot > c.headDim)
    r.fail("head_dim " + std::to_string(c.headDim) + " / rotary dims " + std::to_string(c.nRot) +
           " must be even and rotary <= head_dim");
  c.contextLength = r.integer("max_position_embeddings", g3 ? 131072 : 2048);
  c.ropeTheta = (float)r.number("rope_theta", g3 ? 1e6 : 10000.0);
  // The transformers config classes of these families all default rms_norm_eps to 1e-6.
  c.normEps = (float)r.number("rms_norm_eps", 1e-6);
  if (!(c.ropeTheta > 0) || !(c.normEps > 0)) r.fail("rope_theta and rms_norm_eps must be positive");

  c.attnScale = 1.0f / std::sqrt((float)c.headDim);
  if (gemma) {
    c.embedScale = std::sqrt((float)c.dim);
    c.attnScale = 1.0f / std::sqrt((float)r.number("query_pre_attn_scalar", g3 ? 256.0 : (double)c.headDim));
    c.attnSoftcap = (float)r.number("attn_logit_softcapping", 0.0);
    c.finalSoftcap = (float)r.number("final_logit_softcapping", 0.0);
  }
  if (type == "granite") {
    c.embedScale = (float)r.number("embedding_multiplier", 1.0);
    c.attnScale = (float)r.number("attention_multiplier", c.attnScale);
    c.residualScale = (float)r.number("residual_multiplier", 1.0);
    c.logitScale = (float)(1.0 / r.number("logits_scaling", 1.0));
  }

  c.ropes.push_back(globalRope(r, c));
  c.layers.assign((size_t)c.nLayers, LayerSpec{});
  const int window = fam->window < 0 ? 0 : r.integer("sliding_window", g3 ? 4096 : fam->window);
  if (window > 0) {
    RopeSpec swa = c.ropes[0];
    if (type == "gemma3_text") {  // local layers: their own base, never scaled
      swa = RopeSpec{};
      swa.base = (float)r.number("rope_local_base_freq", 10000.0);
      swa.factors.assign((size_t)c.nRot / 2, 1.f);
    }
    setSlidingWindow(c, window, swa, slidingLayers(r, c, *fam));
  }
  // Mixture of experts (transformers' Qwen3MoeConfig / MixtralConfig / GptOssConfig): every layer's FFN, as the
  // GGUF readers.
  const bool oss = type == "gpt_oss";
  if (oss) {
    c.attnSinks = true;
    if (r.number("swiglu_limit", 7.0) != 7.0) r.fail("'swiglu_limit' other than 7 is not supported (llama.cpp's)");
  }
  if (type == "qwen3_moe" || type == "mixtral" || oss) {
    const bool qwen = type == "qwen3_moe";
    MoeSpec& m = c.moe;
    m.nExperts = r.integer(qwen ? "num_experts" : "num_local_experts");
    m.nUsed = r.integer("num_experts_per_tok", oss ? r.integer("experts_per_token", 4) : 2);
    m.hiddenDim = qwen ? r.integer("moe_intermediate_size") : c.hiddenDim;  // gpt-oss: intermediate_size
    m.gating = fam->gating;
    if (m.nExperts <= 0 || m.nExperts > 512 || m.nUsed <= 0 || m.nUsed > m.nExperts || m.hiddenDim <= 0)
      r.fail("num_experts / num_experts_per_tok / the expert width must be positive, per-token <= experts <= 512");
    // Mixtral's softmax-then-top-k is always renormalised (= a softmax over the chosen); Qwen3-MoE says.
    const Json* norm = r.present(cfg, "norm_topk_prob");
    if (norm && norm->kind != Json::Kind::Bool) r.fail("'norm_topk_prob' must be true or false");
    m.normTopK = qwen ? norm && norm->b : !oss;  // gpt-oss: a softmax over the chosen logits (SOFTMAX_WEIGHT)
    if (qwen) {
      const Json* dense = r.present(cfg, "mlp_only_layers");
      if ((dense && dense->isArray() && !dense->items.empty()) || r.integer("decoder_sparse_step", 1) != 1)
        r.fail("dense layers between the MoE ones (mlp_only_layers, decoder_sparse_step) are not supported");
    }
    for (LayerSpec& l : c.layers) l.ffn = FfnKind::MOE;
  }
  if (fam->noRopeEvery > 0) {  // SmolLM3: no_rope_layers[l] == 0 means no RoPE in layer l
    const std::vector<double> use = r.numbers(cfg, "no_rope_layers", (size_t)c.nLayers, "");
    const int every = r.integer("no_rope_layer_interval", fam->noRopeEvery);
    for (int l = 0; l < c.nLayers; l++)
      if (use.empty() ? (l + 1) % every == 0 : use[(size_t)l] == 0) c.layers[(size_t)l].rope = -1;
  }
  validateConfig(c, path);
  return c;
}

bool hfTiedEmbeddings(const Json& root) {
  const Json* text = root.get("text_config");
  const Json* t = root.get("tie_word_embeddings");
  if (!t && text && text->isObject()) t = text->get("tie_word_embeddings");
  if (t && t->kind == Json::Kind::Bool) return t->b;
  // Absent: the transformers config class's default (true for Gemma and SmolLM3, false for the others).
  const Json* type = root.get("model_type");
  const std::string ty = type && type->isString() ? type->str : "";
  return ty.rfind("gemma", 0) == 0 || ty == "smollm3";
}

}  // namespace loom
