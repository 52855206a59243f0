// Hyper-parameters of a Llama-family model, read from GGUF metadata under the architecture's key prefix.
#pragma once
#include <string>
#include <vector>

#include "gguf-file.h"

namespace loom {

// How RoPE pairs dimensions. NORM rotates adjacent pairs (2i, 2i+1): GGUF `llama` Q/K weights are
// permuted at conversion so this applies. NEOX rotates (i, i + nRot/2) (qwen2 and HF-layout models).
enum class RopeStyle { NORM, NEOX };

struct ModelConfig {
  std::string architecture;  // general.architecture
  int dim = 0;               // embedding length
  int hiddenDim = 0;         // FFN width
  int nLayers = 0;
  int nHeads = 0;
  int nKvHeads = 0;
  int headDim = 0;    // per-head width of Q/K/V
  int nRot = 0;       // leading dims of each head that RoPE rotates (even, <= headDim)
  int vocabSize = 0;  // rows of token_embd
  int contextLength = 0;
  float ropeTheta = 10000.f;
  float normEps = 1e-5f;
  RopeStyle ropeStyle = RopeStyle::NORM;
  // RoPE frequency scaling, as llama.cpp applies it: angle_i = ropeFreqScale * pos * theta^(-2i/nRot) /
  // ropeFreqFactors[i]. Llama-3 scaling is carried by the factors (GGUF tensor rope_freqs.weight, or computed from an
  // HF config's rope_scaling); linear scaling ("type": "linear") by ropeFreqScale = 1 / factor.
  std::vector<float> ropeFreqFactors;  // [nRot / 2], all 1 without per-frequency scaling
  float ropeFreqScale = 1.f;

  int qDim() const { return nHeads * headDim; }
  int kvDim() const { return nKvHeads * headDim; }
};

// Throws (naming the file) for unsupported architectures or inconsistent shapes.
ModelConfig readModelConfig(const GgufFile& f);

// Llama-3 rope_scaling ("rope_type": "llama3") frequency factors, as convert_hf_to_gguf.py computes them:
// wavelengths shorter than originalContext / highFreqFactor keep factor 1, longer than
// originalContext / lowFreqFactor get `factor`, and those between are interpolated smoothly.
std::vector<float> llama3RopeFactors(double theta, int nRot, double factor, double lowFreqFactor, double highFreqFactor,
                                     double originalContext);

}  // namespace loom
