// One entry point per direction over every weight type the engine reads: "these bytes as floats" and back.
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ggml-types.h"
#include "half.h"

namespace loom {

bool isBlockQuantType(uint32_t type) { return type == GGML_Q4_0 || type == GGML_Q4_K || type == GGML_Q6_K; }

namespace {
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

std::string typeName(uint32_t type) {
  const char* n = ggmlTypeInfo(type).name;
  return n ? n : "id " + std::to_string(type);
}
}  // namespace

void dequantRow(uint32_t type, const uint8_t* src, float* dst, int n) {
  switch (type) {
    case GGML_F32:
      std::memcpy(dst, src, sizeof(float) * (size_t)n);
      break;
    case GGML_F16:
      for (int i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = loom_f16_to_f32(h);
      }
      break;
    case GGML_BF16:
      for (int i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = loom_bf16_to_f32(h);
      }
      break;
    case GGML_Q8_0:
      dequantRowQ8_0(src, dst, n);
      break;
    case GGML_Q4_0:
      dequantRowQ4_0(src, dst, n);
      break;
    case GGML_Q4_K:
      dequantRowQ4_K(src, dst, n);
      break;
    case GGML_Q6_K:
      dequantRowQ6_K(src, dst, n);
      break;
    default:
      throw std::runtime_error("cannot dequantise GGML type " + typeName(type));
  }
}

void quantizeRow(uint32_t type, const float* src, uint8_t* dst, int n) {
  const GgmlTypeInfo info = ggmlTypeInfo(type);
  if (!info.name || n % (int)info.blockElems != 0)
    throw std::runtime_error("cannot quantise " + std::to_string(n) + " values to " + typeName(type) +
                             ": not a whole number of blocks");
  switch (type) {
    case GGML_F32:
      std::memcpy(dst, src, sizeof(float) * (size_t)n);
      break;
    case GGML_F16:
      for (int i = 0; i < n; i++) {
        const uint16_t h = loom_f32_to_f16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    case GGML_Q8_0:
      quantizeRowQ8_0(src, dst, n);
      break;
    case GGML_Q4_0:
      quantizeRowQ4_0(src, dst, n);
      break;
    case GGML_Q4_K:
      quantizeRowQ4_K(src, dst, n);
      break;
    case GGML_Q6_K:
      quantizeRowQ6_K(src, dst, n);
      break;
    default:
      throw std::runtime_error("cannot quantise to GGML type " + typeName(type) +
                               " (supported: f32, f16, q8_0, q4_0, q4_K, q6_K)");
  }
}

}  // namespace loom
