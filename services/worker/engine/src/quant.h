// Block-quantised GGML weight types beyond q8_0: q4_0, q4_K and q6_K. Block layouts are exactly ggml's
// (ggml-common.h), so GGUF files from llama.cpp load as they are:
//   q4_0  32 values, 18 bytes: [f16 d][16 x u8: low nibble = value j, high nibble = value j + 16]; x = d * (q - 8)
//   q4_K 256 values, 144 bytes: [f16 d][f16 dmin][12 x u8 packed 6-bit (scale, min) for 8 sub-blocks of 32]
//        [128 x u8 nibbles]; x = d * scale_j * q - dmin * min_j
//   q6_K 256 values, 210 bytes: [128 x u8 ql low 4 bits][64 x u8 qh high 2 bits][16 x i8 scales][f16 d];
//        x = d * scale_j * (q - 32), 16 sub-blocks of 16
// Dequantisation is scalar and exact (what the reference forward and the tests treat as "the weights");
// quantisation ports ggml's reference quantize_row_*_ref (no importance matrix) bit for bit, so files
// written by Loom are what llama-quantize would write from the same f32 rows.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loom {

// True for the types handled here (q4_0, q4_K, q6_K).
bool isBlockQuantType(uint32_t type);

// One row of n values (n a multiple of the type's block size) from `src` bytes into dst[n].
void dequantRowQ4_0(const uint8_t* src, float* dst, int n);
void dequantRowQ4_K(const uint8_t* src, float* dst, int n);
void dequantRowQ6_K(const uint8_t* src, float* dst, int n);

// ggml's quantize_row_<type>_ref: n f32 values (a multiple of the block size) into dst bytes.
void quantizeRowQ4_0(const float* src, uint8_t* dst, int n);
void quantizeRowQ4_K(const float* src, uint8_t* dst, int n);
void quantizeRowQ6_K(const float* src, uint8_t* dst, int n);

// Dispatch on the GgmlType id; both throw std::runtime_error for types without an implementation.
// Also cover f32, f16, bf16 and q8_0 so callers have one entry point for "these bytes as floats".
void dequantRow(uint32_t type, const uint8_t* src, float* dst, int n);
void quantizeRow(uint32_t type, const float* src, uint8_t* dst, int n);

}  // namespace loom
