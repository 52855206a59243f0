#include "model-config.h"

#include <cmath>
#include <stdexcept>

namespace loom {

ModelConfig readModelConfig(const GgufFile& f) {
  ModelConfig c;
  c.architecture = f.getString("general.architecture");
  const std::string& a = c.architecture;
  if (a == "llama" || a == "mistral") {
    c.ropeStyle = RopeStyle::NORM;
  } else if (a == "qwen2") {
    c.ropeStyle = RopeStyle::NEOX;
  } else {
    throw std::runtime_error(f.err("unsupported architecture '" + a + "' (supported: llama, mistral, qwen2)"));
  }
  c.dim = (int)f.getInt(a + ".embedding_length");
  c.nLayers = (int)f.getInt(a + ".block_count");
  c.hiddenDim = (int)f.getInt(a + ".feed_forward_length");
  c.nHeads = (int)f.getInt(a + ".attention.head_count");
  c.nKvHeads = (int)f.getInt(a + ".attention.head_count_kv", c.nHeads);
  c.contextLength = (int)f.getInt(a + ".context_length", 2048);
  c.ropeTheta = (float)f.getFloat(a + ".rope.freq_base", 10000.0);
  c.normEps = (float)f.getFloat(a + ".attention.layer_norm_rms_epsilon", 1e-5);
  if (c.dim <= 0 || c.nLayers <= 0 || c.hiddenDim <= 0 || c.nHeads <= 0 || c.nKvHeads <= 0)
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
  c.ropeFreqFactors.assign((size_t)c.nRot / 2, 1.f);
  const std::string scaling = f.find(a + ".rope.scaling.type") ? f.getString(a + ".rope.scaling.type") : "none";
  if (scaling == "linear") {
    const double factor = f.getFloat(a + ".rope.scaling.factor", 1.0);
    if (!(factor >= 1.0)) throw std::runtime_error(f.err(a + ".rope.scaling.factor must be >= 1"));
    c.ropeFreqScale = (float)(1.0 / factor);
  } else if (scaling != "none") {
    throw std::runtime_error(f.err("unsupported RoPE scaling type '" + scaling +
                                   "' (supported: none, linear, and Llama-3 frequency factors)"));
  }
  if (const GgufTensor* rf = f.tensor("rope_freqs.weight")) {
    if (rf->type != 0 || rf->dims.size() != 1 || rf->dims[0] != (uint64_t)c.nRot / 2)
      throw std::runtime_error(f.err("tensor 'rope_freqs.weight' must be f32 [" + std::to_string(c.nRot / 2) + "]"));
    const float* ff = reinterpret_cast<const float*>(rf->data);
    for (int i = 0; i < c.nRot / 2; i++) {
      if (!(ff[i] > 0))
        throw std::runtime_error(
            f.err("tensor 'rope_freqs.weight' holds a non-positive factor at " + std::to_string(i)));
      c.ropeFreqFactors[(size_t)i] = ff[i];
    }
  }
  const GgufTensor* emb = f.tensor("token_embd.weight");
  if (!emb)
    throw std::runtime_error(f.err("missing tensor 'token_embd.weight'; is this a model GGUF (not vocab-only)?"));
  if (emb->dims.size() != 2 || emb->dims[0] != (uint64_t)c.dim)
    throw std::runtime_error(f.err("tensor 'token_embd.weight' must be [" + std::to_string(c.dim) + ", vocab]"));
  c.vocabSize = (int)emb->dims[1];
  return c;
}

std::vector<float> llama3RopeFactors(double theta, int nRot, double factor, double lowFreqFactor, double highFreqFactor,
                                     double originalContext) {
  const double pi = 3.14159265358979323846;
  const double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
  std::vector<float> out;
  for (int i = 0; i < nRot; i += 2) {
    const double freq = 1.0 / std::pow(theta, (double)i / nRot);
    const double wavelen = 2 * pi / freq;
    if (wavelen < highWavelen) {
      out.push_back(1.f);
    } else if (wavelen > lowWavelen) {
      out.push_back((float)factor);
    } else {
      const double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      out.push_back((float)(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

}  // namespace loom
