// One table of every weight type the engine reads, with its two row codecs: "these bytes as floats" and back.
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "ggml-types.h"
#include "half.h"

namespace loom {

namespace {
void dequantRowF32(const uint8_t* src, float* dst, int n) { std::memcpy(dst, src, sizeof(float) * (size_t)n); }
void quantizeRowF32(const float* src, uint8_t* dst, int n) { std::memcpy(dst, src, sizeof(float) * (size_t)n); }
void dequantRowF16(const uint8_t* src, float* dst, int n) {
  for (int i = 0; i < n; i++) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = loom_f16_to_f32(h);
  }
}
void quantizeRowF16(const float* src, uint8_t* dst, int n) {
  for (int i = 0; i < n; i++) {
    const uint16_t h = loom_f32_to_f16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}
void dequantRowBF16(const uint8_t* src, float* dst, int n) {
  for (int i = 0; i < n; i++) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = loom_bf16_to_f32(h);
  }
}
void dequantRowQ8_0(const uint8_t* src, float* dst, int n) {
  for (int b = 0; b < n / 32; b++) {
    const uint8_t* blk = src + (size_t)b * 34;
    uint16_t d;
    std::memcpy(&d, blk, 2);
    const float scale = loom_f16_to_f32(d);
    for (int i = 0; i < 32; i++) dst[b * 32 + i] = scale * (float)reinterpret_cast<const int8_t*>(blk + 2)[i];
  }
}
// quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d).
void quantizeRowQ8_0(const float* x, uint8_t* dst, int n) {
  for (int b = 0; b < n / 32; b++) {
    const float* xb = x + (size_t)b * 32;
    float amax = 0.f;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.f;
    const float id = d ? 1.0f / d : 0.0f;
    uint8_t* blk = dst + (size_t)b * 34;
    const uint16_t dh = loom_f32_to_f16(d);
    std::memcpy(blk, &dh, 2);
    for (int j = 0; j < 32; j++) reinterpret_cast<int8_t*>(blk + 2)[j] = (int8_t)std::round(xb[j] * id);
  }
}

struct Codec {
  uint32_t type;
  void (*dequant)(const uint8_t*, float*, int);
  void (*quantize)(const float*, uint8_t*, int);  // nullptr: read only
};
// In the order errors list them.
const Codec kCodecs[] = {
    {GGML_F32, dequantRowF32, quantizeRowF32},
    {GGML_F16, dequantRowF16, quantizeRowF16},
    {GGML_BF16, dequantRowBF16, nullptr},
    {GGML_Q8_0, dequantRowQ8_0, quantizeRowQ8_0},
    {GGML_Q4_0, dequantRowQ4_0, quantizeRowQ4_0},
    {GGML_Q4_1, dequantRowQ4_1, quantizeRowQ4_1},
    {GGML_Q5_0, dequantRowQ5_0, quantizeRowQ5_0},
    {GGML_Q5_1, dequantRowQ5_1, quantizeRowQ5_1},
    {GGML_Q2_K, dequantRowQ2_K, quantizeRowQ2_K},
    {GGML_Q3_K, dequantRowQ3_K, quantizeRowQ3_K},
    {GGML_Q4_K, dequantRowQ4_K, quantizeRowQ4_K},
    {GGML_Q5_K, dequantRowQ5_K, quantizeRowQ5_K},
    {GGML_Q6_K, dequantRowQ6_K, quantizeRowQ6_K},
    {GGML_IQ4_NL, dequantRowIq4Nl, quantizeRowIq4Nl},
    {GGML_IQ4_XS, dequantRowIq4Xs, quantizeRowIq4Xs},
    {GGML_MXFP4, dequantRowMxfp4, quantizeRowMxfp4},
};

const Codec* codec(uint32_t type) {
  for (const Codec& c : kCodecs)
    if (c.type == type) return &c;
  return nullptr;
}

std::string typeName(uint32_t type) {
  const char* n = ggmlTypeInfo(type).name;
  return n ? n : "id " + std::to_string(type);
}
}  // namespace

bool isSupportedWeightType(uint32_t type) { return codec(type) != nullptr; }

std::string supportedWeightTypes() {
  std::string s;
  for (const Codec& c : kCodecs) s += (s.empty() ? "" : ", ") + typeName(c.type);
  return s;
}

void dequantRow(uint32_t type, const uint8_t* src, float* dst, int n) {
  const Codec* c = codec(type);
  if (!c)
    throw std::runtime_error("cannot dequantise GGML type " + typeName(type) +
                             " (supported: " + supportedWeightTypes() + ")");
  c->dequant(src, dst, n);
}

void quantizeRow(uint32_t type, const float* src, uint8_t* dst, int n) {
  const GgmlTypeInfo info = ggmlTypeInfo(type);
  const Codec* c = codec(type);
  if (!c || !c->quantize) {
    std::string can;
    for (const Codec& k : kCodecs)
      if (k.quantize) can += (can.empty() ? "" : ", ") + typeName(k.type);
    throw std::runtime_error("cannot quantise to GGML type " + typeName(type) + " (supported: " + can + ")");
  }
  if (n % (int)info.blockElems != 0)
    throw std::runtime_error("cannot quantise " + std::to_string(n) + " values to " + typeName(type) +
                             ": not a whole number of " + std::to_string(info.blockElems) + "-value blocks");
  c->quantize(src, dst, n);
}

}  // namespace loom
