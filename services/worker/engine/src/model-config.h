// What a decoder model is, as data: its sizes, and per layer how attention and the FFN are built (RoPE
// settings, sliding window, norms, activation, multipliers, soft-caps). Every supported family (llama,
// mistral, qwen2, qwen3, gemma2, gemma3, phi3, smollm3, granite) is one such description, read from GGUF
// metadata (readModelConfig) or a Hugging Face config.json (hf-config.h); the forward pass and the
// reference read only this, never the family name.
#pragma once
#include <string>
#include <vector>

#include "gguf-file.h"

namespace loom {

// How RoPE pairs dimensions. NORM rotates adjacent pairs (2i, 2i+1): GGUF `llama` Q/K weights are
// permuted at conversion so this applies. NEOX rotates (i, i + nRot/2) (qwen2 and HF-layout models).
enum class RopeStyle { NORM, NEOX };

// The FFN's gate activation: h = act(x Wgate^T) * (x Wup^T).
enum class Activation {
  SILU,       // SwiGLU (llama, qwen, phi3, smollm3, granite)
  GELU_TANH,  // GeGLU with the tanh approximation of GELU (gemma2, gemma3)
  // gpt-oss experts: g' = min(g, 7), u' = clamp(u, -7, 7), h = g' * sigmoid(1.702 g') * (u' + 1) (ggml_swiglu_oai)
  SWIGLU_OAI,
};

// One RoPE setting, as llama.cpp's ggml_rope_ext takes it. For frequency i (0 <= i < nRot/2) at position p:
//   extrap = p * base^(-2i/nRot) / factors[i]
//   interp = freqScale * extrap
//   angle  = interp * (1 - mix_i) + extrap * mix_i,   mix_i = extFactor * ramp(i)   (YaRN; 0 otherwise)
//   (cos, sin) = (cos(angle), sin(angle)) * mscale,     mscale = attnFactor * (extFactor ? 1 + 0.1 ln(1/freqScale) : 1)
// ramp(i) = 1 - clamp((i - low) / max(0.001, high - low), 0, 1), [low, high] the dims whose rotation counts over
// originalContext positions lie between betaSlow and betaFast (ggml_rope_yarn_corr_dims).
struct RopeSpec {
  float base = 10000.f;
  float freqScale = 1.f;       // 1 / (linear or YaRN factor)
  std::vector<float> factors;  // [nRot/2] per-frequency divisors (Llama-3 rope_freqs, LongRoPE); all 1 if none
  float extFactor = 0.f;       // 1 for YaRN, else 0
  float attnFactor = 1.f;      // llama.cpp's yarn_attn_factor (YaRN), or rope.scaling.attn_factor (LongRoPE)
  int originalContext = 0;     // YaRN: the context the model was trained on
  float betaFast = 32.f, betaSlow = 1.f;

  // (cos, sin) * mscale of every frequency at `pos` into cosOut/sinOut [nRot/2], in float exactly as ggml's
  // rope cache computes them, so positions round as they do in llama.cpp.
  void cosSin(int pos, int nRot, float* cosOut, float* sinOut) const;
};

// What kind of FFN a layer has: a dense gated FFN, or a mixture of experts (ModelConfig::moe).
enum class FfnKind { DENSE, MOE };

// How a MoE layer turns router logits r [nExperts] into the chosen experts and their weights (llama.cpp's
// build_moe_ffn gating ops):
//   SOFTMAX         p = softmax(r); the k largest p; w_i = p_i, then w /= max(sum w, 2^-14) when normTopK
//                   (qwen3moe and mixtral normalise: the same as a softmax over the chosen logits)
//   SOFTMAX_WEIGHT  the k largest r; w = softmax over those k logits (gpt-oss)
enum class MoeGating { SOFTMAX, SOFTMAX_WEIGHT };

struct MoeSpec {
  int nExperts = 0;   // experts per layer (`<arch>.expert_count`)
  int nUsed = 0;      // experts each token runs (`<arch>.expert_used_count`), 0 < nUsed <= nExperts
  int hiddenDim = 0;  // each expert's FFN width
  MoeGating gating = MoeGating::SOFTMAX;
  bool normTopK = true;  // SOFTMAX: renormalise the chosen weights to sum 1
};

struct LayerSpec {
  int rope = 0;    // index into ModelConfig::ropes; -1: no positional encoding in this layer (NoPE)
  int window = 0;  // 0: attends every earlier position; W > 0: only positions j with p - j < W (sliding window)
  FfnKind ffn = FfnKind::DENSE;
};

struct ModelConfig {
  std::string architecture;  // general.architecture (GGUF) or the HF model_type's GGUF name
  int dim = 0;               // embedding length
  int hiddenDim = 0;         // FFN width
  int nLayers = 0;
  int nHeads = 0;
  int nKvHeads = 0;
  int headDim = 0;    // per-head width of Q/K/V
  int nRot = 0;       // leading dims of each head that RoPE rotates (even, <= headDim)
  int vocabSize = 0;  // rows of token_embd
  int contextLength = 0;
  float ropeTheta = 10000.f;  // base of the global (non-sliding) layers' RoPE, for info()
  float normEps = 1e-5f;
  RopeStyle ropeStyle = RopeStyle::NORM;
  Activation activation = Activation::SILU;

  // Tensors the family has beyond Llama's (weights.cpp requires them when set).
  bool qkNorm = false;     // per-head RMSNorm of Q and K before RoPE: attn_q_norm / attn_k_norm [headDim]
  bool postNorms = false;  // RMSNorm of each sub-layer's output before the residual add: attn_post_norm, ffn_post_norm
  bool fusedGateUp = false;  // ffn_up holds [gate; up] ([2 * hiddenDim][dim]) and there is no ffn_gate
  bool attnSinks = false;    // attn_sinks [nHeads]: a per-head logit in every softmax denominator (gpt-oss)
  // The pre-FFN norm's tensor: ffn_norm, or post_attention_norm (gpt-oss names it so).
  std::string ffnNormTensor = "ffn_norm";
  MoeSpec moe;  // the experts of the FfnKind::MOE layers (nExperts == 0: none)

  // Multipliers (1 / 0 = none).
  float embedScale = 1.f;     // x = embed(token) * embedScale (gemma: sqrt(dim); granite: embedding_multiplier)
  float attnScale = 0.f;      // score = q.k * attnScale (set by the readers: 1/sqrt(headDim) unless the family says)
  float attnSoftcap = 0.f;    // score = cap * tanh(score / cap) before the softmax (gemma2)
  float residualScale = 1.f;  // x += residualScale * sublayer(x) (granite)
  float logitScale = 1.f;     // logits *= logitScale (granite: 1 / logits_scaling)
  float finalSoftcap = 0.f;   // logits = cap * tanh(logits / cap) (gemma2, gemma3 when set)

  std::vector<RopeSpec> ropes;    // distinct RoPE settings; [0] is the global layers'
  std::vector<LayerSpec> layers;  // [nLayers]

  int qDim() const { return nHeads * headDim; }
  int kvDim() const { return nKvHeads * headDim; }
};

// Architectures readModelConfig / readHfConfig accept, for error messages: "llama, mistral, ...".
std::string supportedArchitectures();

// Throws (naming the file) for unsupported architectures or inconsistent shapes.
ModelConfig readModelConfig(const GgufFile& f);

// Layers il % n < n - 1 slide (n == 0: all), as llama.cpp's set_swa_pattern: [nLayers].
std::vector<bool> periodicSlidingLayers(int nLayers, int n);

// The layers flagged in `sliding` attend to their last `window` positions with RoPE setting `swaRope`, which
// joins c.ropes when its base or scale differs from the global setting's.
void setSlidingWindow(ModelConfig& c, int window, const RopeSpec& swaRope, const std::vector<bool>& sliding);

// Checks the sizes and the per-layer description once a reader filled them; throws `where: what`.
void validateConfig(const ModelConfig& c, const std::string& where);

}  // namespace loom
