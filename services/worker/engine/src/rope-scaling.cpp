#include "rope-scaling.h"

#include <algorithm>
#include <cmath>

namespace loom {

// ggml_rope_yarn_corr_dim: the dim whose rotation count over originalContext positions is nRotations.
static float yarnCorrDim(int nDims, int originalContext, float nRotations, float base) {
  return nDims * logf(originalContext / (nRotations * 2 * (float)M_PI)) / (2 * logf(base));
}

void RopeSpec::cosSin(int pos, int nRot, float* cosOut, float* sinOut) const {
  float low = 0, high = 0, mscale = attnFactor;
  if (extFactor != 0.0f) {
    low = std::max(0.0f, floorf(yarnCorrDim(nRot, originalContext, betaFast, base)));
    high = std::min((float)(nRot - 1), ceilf(yarnCorrDim(nRot, originalContext, betaSlow, base)));
    mscale *= 1.0f + 0.1f * logf(1.0f / freqScale);
  }
  const float thetaScale = powf(base, -2.0f / (float)nRot);
  float theta = (float)pos;  // p * base^(-2i/nRot), by repeated multiplication like ggml_rope_cache_init
  for (int i = 0; i < nRot / 2; i++) {
    const float extrap = theta / factors[(size_t)i];
    const float interp = freqScale * extrap;
    float angle = interp;
    if (extFactor != 0.0f) {
      const float y = ((float)i - low) / std::max(0.001f, high - low);
      const float mix = (1 - std::min(1.0f, std::max(0.0f, y))) * extFactor;
      angle = interp * (1 - mix) + extrap * mix;
    }
    cosOut[i] = cosf(angle) * mscale;
    sinOut[i] = sinf(angle) * mscale;
    theta *= thetaScale;
  }
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

RopeSpec yarnRope(float base, int nRot, float factor, int originalContext, float attnFactor, float logMul,
                  float betaFast, float betaSlow) {
  RopeSpec r;
  r.base = base;
  r.factors.assign((size_t)nRot / 2, 1.f);
  r.freqScale = 1.0f / factor;
  r.extFactor = 1.0f;
  r.originalContext = originalContext;
  r.betaFast = betaFast;
  r.betaSlow = betaSlow;
  // llama-context.cpp's yarn_attn_factor, in float; ggml's rope_yarn multiplies it by 1 + 0.1 ln(factor) again.
  auto getMscale = [](float scale, float m) { return scale <= 1.0f ? 1.0f : (0.1f * m * logf(scale) + 1.0f); };
  const float f = 1.0f / r.freqScale;
  float a = logMul != 0.0f ? getMscale(f, 1.0f) / getMscale(f, logMul) : getMscale(f, 1.0f);
  a *= 1.0f / (1.0f + 0.1f * logf(f));
  r.attnFactor = a * attnFactor;
  return r;
}

float longRopeAttnFactor(double maxPositions, double originalContext) {
  const double scale = maxPositions / originalContext;
  return scale > 1.0 ? (float)std::sqrt(1 + std::log(scale) / std::log(originalContext)) : 1.f;
}

}  // namespace loom
