// The GGML tensor type table: ids as stored in GGUF tensor infos, with block geometry for size checks.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loom {

enum GgmlType : uint32_t {
  GGML_F32 = 0,
  GGML_F16 = 1,
  GGML_Q4_0 = 2,
  GGML_Q4_1 = 3,
  GGML_Q5_0 = 6,
  GGML_Q5_1 = 7,
  GGML_Q8_0 = 8,
  GGML_Q8_1 = 9,
  GGML_Q2_K = 10,
  GGML_Q3_K = 11,
  GGML_Q4_K = 12,
  GGML_Q5_K = 13,
  GGML_Q6_K = 14,
  GGML_Q8_K = 15,
  GGML_IQ4_NL = 20,
  GGML_IQ4_XS = 23,
  GGML_BF16 = 30,
  GGML_MXFP4 = 39,
};

struct GgmlTypeInfo {
  const char* name;     // "f32", "q4_K", ...; nullptr when the id is unknown
  uint32_t blockElems;  // elements per block (1 for plain types)
  uint32_t blockBytes;  // bytes per block
};

// Unknown ids give {nullptr, 0, 0}.
GgmlTypeInfo ggmlTypeInfo(uint32_t type);

// Bytes of one row of `elems` elements; elems must be a multiple of blockElems.
inline size_t ggmlRowBytes(const GgmlTypeInfo& t, uint64_t elems) {
  return (size_t)(elems / t.blockElems) * t.blockBytes;
}

}  // namespace loom
