#include "hf-config.h"

#include <cmath>
#include <stdexcept>

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
};

}  // namespace

ModelConfig readHfConfig(const Json& cfg, const std::string& path) {
  Reader r{cfg, path};
  if (!cfg.isObject()) r.fail("must hold a JSON object");
  ModelConfig c;
  c.architecture = r.string(cfg, "model_type");
  if (c.architecture != "llama" && c.architecture != "mistral" && c.architecture != "qwen2")
    r.fail("unsupported model_type '" + c.architecture + "' (supported: llama, mistral, qwen2)");
  const std::string act = r.string(cfg, "hidden_act");
  if (!act.empty() && act != "silu") r.fail("unsupported hidden_act '" + act + "' (supported: silu)");
  c.ropeStyle = RopeStyle::NEOX;
  c.dim = r.integer("hidden_size");
  c.hiddenDim = r.integer("intermediate_size");
  c.nLayers = r.integer("num_hidden_layers");
  c.nHeads = r.integer("num_attention_heads");
  c.nKvHeads = r.integer("num_key_value_heads", c.nHeads);
  if (c.nHeads % c.nKvHeads != 0)
    r.fail("num_attention_heads " + std::to_string(c.nHeads) + " is not a multiple of num_key_value_heads " +
           std::to_string(c.nKvHeads));
  c.headDim = r.integer("head_dim", c.dim / c.nHeads);
  c.nRot = c.headDim;
  if (c.headDim % 2 != 0) r.fail("head_dim " + std::to_string(c.headDim) + " must be even for RoPE");
  c.contextLength = r.integer("max_position_embeddings", 2048);
  c.ropeTheta = (float)r.number(cfg, "rope_theta", 10000.0);
  // HF's LlamaConfig / MistralConfig / Qwen2Config all default rms_norm_eps to 1e-6.
  c.normEps = (float)r.number(cfg, "rms_norm_eps", 1e-6);
  if (!(c.ropeTheta > 0) || !(c.normEps > 0)) r.fail("rope_theta and rms_norm_eps must be positive");

  c.ropeFreqFactors.assign((size_t)c.nRot / 2, 1.f);
  if (const Json* rs = r.present(cfg, "rope_scaling")) {
    if (!rs->isObject()) r.fail("'rope_scaling' must be an object or null");
    std::string type = r.string(*rs, "rope_type");
    if (type.empty()) type = r.string(*rs, "type");  // older configs
    const std::string where = "rope_scaling.";
    if (type == "llama3") {
      c.ropeFreqFactors = llama3RopeFactors(
          c.ropeTheta, c.nRot, r.number(*rs, "factor", where), r.number(*rs, "low_freq_factor", where),
          r.number(*rs, "high_freq_factor", where), r.number(*rs, "original_max_position_embeddings", where));
    } else if (type == "linear") {
      const double factor = r.number(*rs, "factor", where);
      if (!(factor >= 1.0)) r.fail("rope_scaling.factor must be >= 1");
      c.ropeFreqScale = (float)(1.0 / factor);
    } else if (type != "default" && !type.empty()) {
      r.fail("unsupported rope_scaling type '" + type + "' (supported: llama3, linear, default)");
    }
  }
  return c;
}

bool hfTiedEmbeddings(const Json& cfg) {
  const Json* t = cfg.get("tie_word_embeddings");
  return t && t->kind == Json::Kind::Bool && t->b;
}

}  // namespace loom
