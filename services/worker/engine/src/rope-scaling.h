// RoPE scaling schemes turned into RopeSpec (model-config.h), computed as llama.cpp computes them so that
// angles round the same way: linear interpolation, Llama-3 frequency factors, YaRN (qwen / deepseek style:
// ramped interpolation plus a magnitude factor) and LongRoPE (Phi-3: per-frequency factors plus an
// attention factor). Shared by the GGUF and the Hugging Face config readers.
#pragma once
#include <vector>

#include "model-config.h"

namespace loom {

// Llama-3 rope_scaling ("rope_type": "llama3") frequency factors, as convert_hf_to_gguf.py computes them:
// wavelengths shorter than originalContext / highFreqFactor keep factor 1, longer than
// originalContext / lowFreqFactor get `factor`, and those between are interpolated smoothly.
std::vector<float> llama3RopeFactors(double theta, int nRot, double factor, double lowFreqFactor, double highFreqFactor,
                                     double originalContext);

// YaRN for a `factor`-times longer context than `originalContext`, as llama.cpp sets it up (llama-context.cpp):
// freq_scale 1/factor, ext_factor 1, and yarn_attn_factor = attnFactor * get_mscale(factor, 1) [/ get_mscale(factor,
// logMul) when logMul is set] / (1 + 0.1 ln factor), get_mscale(s, m) = 1 + 0.1 m ln s; ggml's rope_yarn then
// multiplies cos/sin by that times 1 + 0.1 ln factor (RopeSpec::cosSin).
RopeSpec yarnRope(float base, int nRot, float factor, int originalContext, float attnFactor = 1.f, float logMul = 0.f,
                  float betaFast = 32.f, float betaSlow = 1.f);

// LongRoPE's attention factor for a model trained to maxPositions from originalContext (Phi-3):
// sqrt(1 + ln(scale) / ln(originalContext)) with scale = maxPositions / originalContext, 1 when scale <= 1.
float longRopeAttnFactor(double maxPositions, double originalContext);

}  // namespace loom
