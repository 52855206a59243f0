// GGUF metadata -> ModelConfig, following each family's load_arch_hparams in llama.cpp (src/models/<arch>.cpp)
// and the generic part of llama-model.cpp's load_hparams / llama-context.cpp's RoPE setup.
#include "model-config.h"

#include <cmath>
#include <stdexcept>

#include "model-family.h"
#include "rope-scaling.h"

namespace loom {

namespace {

// A [nRot/2] f32 tensor of positive factors, or empty when absent.
std::vector<float> factorTensor(const GgufFile& f, const std::string& name, int nRot) {
  const GgufTensor* t = f.tensor(name);
  if (!t) return {};
  if (t->type != 0 || t->dims.size() != 1 || t->dims[0] != (uint64_t)nRot / 2)
    throw std::runtime_error(f.err("tensor '" + name + "' must be f32 [" + std::to_string(nRot / 2) + "]"));
  const float* ff = reinterpret_cast<const float*>(t->data);
  for (int i = 0; i < nRot / 2; i++)
    if (!(ff[i] > 0))
      throw std::runtime_error(f.err("tensor '" + name + "' holds a non-positive factor at " + std::to_string(i)));
  return std::vector<float>(ff, ff + nRot / 2);
}

// The global layers' RoPE: llama.cpp's scaling type (default "linear"), factor, original context, attention
// factor, and per-frequency factors (rope_freqs, or LongRoPE's long / short by the served context).
RopeSpec globalRope(const GgufFile& f, const ModelConfig& c) {
  const std::string& a = c.architecture;
  const std::string type = f.find(a + ".rope.scaling.type") ? f.getString(a + ".rope.scaling.type") : "linear";
  double factor = f.getFloat(a + ".rope.scaling.factor", f.getFloat(a + ".rope.scale_linear", 0.0));
  if (factor == 0.0) factor = 1.0;
  if (!(factor >= 1.0)) throw std::runtime_error(f.err(a + ".rope.scaling.factor must be >= 1"));
  const int original = (int)f.getInt(a + ".rope.scaling.original_context_length", c.contextLength);
  const float attnFactor = (float)f.getFloat(a + ".rope.scaling.attn_factor", 1.0);
  RopeSpec r;
  if (type == "yarn") {
    r = yarnRope(c.ropeTheta, c.nRot, (float)factor, original, attnFactor);
  } else if (type == "none" || type == "linear" || type == "longrope") {
    r.base = c.ropeTheta;
    r.freqScale = type == "none" ? 1.f : (float)(1.0 / factor);
    r.attnFactor = attnFactor;
    r.factors.assign((size_t)c.nRot / 2, 1.f);
  } else {
    throw std::runtime_error(f.err("unsupported RoPE scaling type '" + type +
                                   "' (supported: none, linear, yarn, longrope, and Llama-3 frequency factors)"));
  }
  std::vector<float> ff = factorTensor(f, "rope_freqs.weight", c.nRot);
  if (ff.empty()) {
    // LongRoPE (Phi-3): long factors when the served context exceeds the original one, as llama.cpp picks
    // them by its context size (here the model's full context, which the engine serves).
    std::vector<float> lf = factorTensor(f, "rope_factors_long.weight", c.nRot);
    std::vector<float> sf = factorTensor(f, "rope_factors_short.weight", c.nRot);
    ff = c.contextLength > original ? lf : sf;
  }
  if (!ff.empty()) r.factors = ff;
  return r;
}

// Which layers slide, from `sliding_window_pattern` (an int period or one bool per layer) or the family default.
std::vector<bool> slidingLayers(const GgufFile& f, const ModelConfig& c, const ModelFamily& fam) {
  const std::string key = c.architecture + ".attention.sliding_window_pattern";
  std::vector<bool> out((size_t)c.nLayers);
  const GgufValue* v = f.find(key);
  if (v && v->type == GgufValueType::ARRAY) {
    const std::vector<int64_t> p = f.getIntArray(key);
    if (p.size() != (size_t)c.nLayers)
      throw std::runtime_error(
          f.err(key + " has " + std::to_string(p.size()) + " entries for " + std::to_string(c.nLayers) + " layers"));
    for (int l = 0; l < c.nLayers; l++) out[(size_t)l] = p[(size_t)l] != 0;
    return out;
  }
  return periodicSlidingLayers(c.nLayers, (int)f.getInt(key, fam.swaPattern));
}

// Experts, as llama.cpp's load_hparams reads them (expert_count, expert_used_count) and each family's expert
// width: mixtral (llama) uses feed_forward_length, qwen3moe expert_feed_forward_length or n_ff / nUsed, gpt-oss
// expert_feed_forward_length. Every layer of a MoE model is MoE.
void readMoe(const GgufFile& f, const ModelFamily& fam, ModelConfig& c) {
  const std::string& a = c.architecture;
  const int nExp = (int)f.getInt(a + ".expert_count", 0);
  if (nExp == 0 && fam.moe != ModelFamily::REQUIRED) return;
  if (fam.moe == ModelFamily::NONE)
    throw std::runtime_error(f.err("architecture '" + a + "' with experts (" + a +
                                   ".expert_count = " + std::to_string(nExp) +
                                   ") is not supported (mixture-of-experts families: llama (mixtral), qwen3moe, "
                                   "gpt-oss)"));
  MoeSpec& m = c.moe;
  m.nExperts = nExp;
  m.nUsed = (int)f.getInt(a + ".expert_used_count", 0);
  if (m.nExperts <= 0 || m.nExperts > 512 || m.nUsed <= 0 || m.nUsed > m.nExperts)
    throw std::runtime_error(f.err(a + ".expert_count (" + std::to_string(m.nExperts) + ") and " + a +
                                   ".expert_used_count (" + std::to_string(m.nUsed) +
                                   ") must be positive with used <= count <= 512"));
  if (a == "llama")
    m.hiddenDim = c.hiddenDim;
  else if (a == "qwen3moe")
    m.hiddenDim = (int)f.getInt(a + ".expert_feed_forward_length", c.hiddenDim / m.nUsed);
  else
    m.hiddenDim = (int)f.getInt(a + ".expert_feed_forward_length");
  if (m.hiddenDim <= 0) throw std::runtime_error(f.err(a + ": the expert FFN width must be positive"));
  m.gating = fam.gating;
  // llama.cpp normalises the chosen weights of llama and qwen3moe unconditionally; a file that says otherwise
  // (Qwen's norm_topk_prob = false) is honoured here.
  m.normTopK = fam.gating == MoeGating::SOFTMAX && f.getBool(a + ".expert_weights_norm", true);
  for (LayerSpec& l : c.layers) l.ffn = FfnKind::MOE;
}

}  // namespace

ModelConfig readModelConfig(const GgufFile& f) {
  ModelConfig c;
  c.architecture = f.getString("general.architecture");
  const std::string& a = c.architecture;
  const ModelFamily* fam = familyByArch(a);
  if (!fam)
    throw std::runtime_error(
        f.err("unsupported architecture '" + a + "' (supported: " + supportedArchitectures() + ")"));
  c.ropeStyle = fam->ggufRope;
  c.activation = fam->activation;
  c.qkNorm = fam->qkNorm;
  c.postNorms = fam->postNorms;
  c.fusedGateUp = fam->fusedGateUp;
  if (a == "gpt-oss") {
    c.attnSinks = true;
    c.ffnNormTensor = "post_attention_norm";
  }
  c.dim = (int)f.getInt(a + ".embedding_length");
  c.nLayers = (int)f.getInt(a + ".block_count");
  c.hiddenDim = (int)f.getInt(a + ".feed_forward_length");
  c.nHeads = (int)f.getInt(a + ".attention.head_count");
  c.nKvHeads = (int)f.getInt(a + ".attention.head_count_kv", c.nHeads);
  c.contextLength = (int)f.getInt(a + ".context_length", 2048);
  c.ropeTheta = (float)f.getFloat(a + ".rope.freq_base", 10000.0);
  c.normEps = (float)f.getFloat(a + ".attention.layer_norm_rms_epsilon", 1e-5);
  if (c.dim <= 0 || c.nLayers <= 0 || c.hiddenDim <= 0 || c.nHeads <= 0 || c.nKvHeads <= 0 || c.contextLength <= 0)
    throw std::runtime_error(f.err("architecture '" + a + "' has non-positive dimensions in its metadata"));
  if (c.nHeads % c.nKvHeads != 0)
    throw std::runtime_error(f.err("head_count " + std::to_string(c.nHeads) + " is not a multiple of head_count_kv " +
                                   std::to_string(c.nKvHeads)));
  c.headDim = (int)f.getInt(a + ".attention.key_length", c.dim / c.nHeads);
  if (f.getInt(a + ".attention.value_length", c.headDim) != c.headDim)
    throw std::runtime_error(f.err("key_length != value_length is not supported"));
  c.nRot = (int)f.getInt(a + ".rope.dimension_count", c.headDim);
  if (c.headDim <= 0 || c.nRot <= 0 || c.nRot > c.headDim || c.nRot % 2 != 0)
    throw std::runtime_error(
        f.err("invalid head size " + std::to_string(c.headDim) + " / rope dimension count " + std::to_string(c.nRot)));

  // Attention and output multipliers.
  c.attnScale = 1.0f / std::sqrt((float)c.headDim);
  if (fam->gemmaScales) {
    c.embedScale = std::sqrt((float)c.dim);
    // gemma_pytorch: the 27B models scale queries by 1/sqrt(dim / heads), the others by 1/sqrt(head size);
    // llama.cpp tells them apart by their layer count.
    const bool is27B = (a == "gemma2" && c.nLayers == 46) || (a == "gemma3" && c.nLayers == 62);
    if (is27B) c.attnScale = 1.0f / std::sqrt(float(c.dim / c.nHeads));
  }
  if (a == "gemma2") {
    c.attnSoftcap = (float)f.getFloat(a + ".attn_logit_softcapping", 50.0);
    c.finalSoftcap = (float)f.getFloat(a + ".final_logit_softcapping", 30.0);
  } else if (a == "gemma3") {
    c.finalSoftcap = (float)f.getFloat(a + ".final_logit_softcapping", 0.0);
  } else if (a == "granite") {
    const float e = (float)f.getFloat(a + ".embedding_scale", 0.0), s = (float)f.getFloat(a + ".attention.scale", 0.0),
                r = (float)f.getFloat(a + ".residual_scale", 0.0);
    if (!f.find(a + ".logit_scale")) throw std::runtime_error(f.err("missing metadata key '" + a + ".logit_scale'"));
    const float l = (float)f.getFloat(a + ".logit_scale", 1.0);
    if (!(l > 0)) throw std::runtime_error(f.err(a + ".logit_scale must be positive"));
    if (e != 0.0f) c.embedScale = e;
    if (s != 0.0f) c.attnScale = s;
    if (r != 0.0f) c.residualScale = r;
    c.logitScale = 1.0f / l;
  }

  // RoPE: the global setting, and for sliding layers (gemma) their own base.
  c.ropes.push_back(globalRope(f, c));
  c.layers.assign((size_t)c.nLayers, LayerSpec{});
  const int window = fam->window < 0 ? 0 : (int)f.getInt(a + ".attention.sliding_window", fam->window);
  if (window < 0) throw std::runtime_error(f.err(a + ".attention.sliding_window must not be negative"));
  if (window > 0) {
    RopeSpec swa = c.ropes[0];
    if (a == "gemma2") {  // llama.cpp: the sliding layers' base defaults to the global one, their scale is the same
      swa.base = (float)f.getFloat(a + ".rope.freq_base_swa", c.ropeTheta);
    } else if (a == "gemma3") {  // ... for gemma3 it defaults to 10000 and they are not scaled
      swa.base = (float)f.getFloat(a + ".rope.freq_base_swa", 10000.0);
      swa.freqScale = 1.f;
    }
    setSlidingWindow(c, window, swa, slidingLayers(f, c, *fam));
  }
  readMoe(f, *fam, c);
  for (int l = 0; l < c.nLayers; l++)
    if (fam->noRopeEvery > 0 && (l + 1) % fam->noRopeEvery == 0) c.layers[(size_t)l].rope = -1;  // SmolLM3's NoPE
  // Granite turns RoPE off entirely with rope.scaling.finetuned = false (llama.cpp's rope_pattern switch).
  if (a == "granite" && !f.getBool(a + ".rope.scaling.finetuned", true))
    for (LayerSpec& l : c.layers) l.rope = -1;

  const GgufTensor* emb = f.tensor("token_embd.weight");
  if (!emb)
    throw std::runtime_error(f.err("missing tensor 'token_embd.weight'; is this a model GGUF (not vocab-only)?"));
  if (emb->dims.size() != 2 || emb->dims[0] != (uint64_t)c.dim)
    throw std::runtime_error(f.err("tensor 'token_embd.weight' must be [" + std::to_string(c.dim) + ", vocab]"));
  c.vocabSize = (int)emb->dims[1];
  validateConfig(c, f.path());
  return c;
}

std::vector<bool> periodicSlidingLayers(int nLayers, int n) {
  std::vector<bool> out((size_t)nLayers);
  for (int l = 0; l < nLayers; l++) out[(size_t)l] = n == 0 || l % n < n - 1;
  return out;
}

void setSlidingWindow(ModelConfig& c, int window, const RopeSpec& swaRope, const std::vector<bool>& sliding) {
  const bool ownRope = swaRope.base != c.ropes[0].base || swaRope.freqScale != c.ropes[0].freqScale;
  if (ownRope) c.ropes.push_back(swaRope);
  for (int l = 0; l < c.nLayers; l++) {
    if (!sliding[(size_t)l]) continue;
    c.layers[(size_t)l].window = window;
    if (ownRope) c.layers[(size_t)l].rope = (int)c.ropes.size() - 1;
  }
}

void validateConfig(const ModelConfig& c, const std::string& where) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(where + ": " + what); };
  if ((int)c.layers.size() != c.nLayers) fail("internal: layer descriptions do not match block_count");
  if (c.ropes.empty()) fail("internal: no RoPE setting");
  for (const RopeSpec& r : c.ropes) {
    if (!(r.base > 0) || !(r.freqScale > 0) || !(r.attnFactor > 0))
      fail("RoPE base, scale and factors must be positive");
    if (r.factors.size() != (size_t)c.nRot / 2) fail("internal: RoPE factors do not have nRot/2 entries");
    if (r.extFactor != 0.0f && r.originalContext <= 0) fail("YaRN needs a positive original context length");
  }
  for (const LayerSpec& l : c.layers)
    if (l.rope >= (int)c.ropes.size() || l.rope < -1 || l.window < 0) fail("internal: invalid layer description");
  if (!(c.normEps > 0)) fail("the RMSNorm epsilon must be positive");
  if (!(c.attnScale > 0) || !(c.embedScale > 0) || !(c.logitScale > 0) || !(c.residualScale > 0))
    fail("embedding, attention, residual and logit multipliers must be positive");
  if (c.attnSoftcap < 0 || c.finalSoftcap < 0) fail("soft-capping values must not be negative");
  for (const LayerSpec& l : c.layers)
    if (l.ffn == FfnKind::MOE && (c.moe.nExperts <= 0 || c.moe.nUsed <= 0 || c.moe.nUsed > c.moe.nExperts))
      fail("internal: a MoE layer without a valid expert description");
}

}  // namespace loom
