// Every GGML weight type the engine reads, with its row codecs. Block layouts are exactly ggml's
// (ggml-common.h), so GGUF files from llama.cpp load as they are (x = the value a quant stands for):
//   q8_0   32 values,  34 bytes: [f16 d][32 x i8 q]; x = d * q
//   q4_0   32 values,  18 bytes: [f16 d][16 x u8: low nibble = value j, high nibble = value j + 16]; x = d * (q - 8)
//   q4_1   32 values,  20 bytes: [f16 d][f16 m][16 x u8 nibbles as q4_0]; x = d * q + m
//   q5_0   32 values,  22 bytes: [f16 d][u32 qh: bit j = 5th bit of value j][16 x u8 nibbles]; x = d * (q - 16)
//   q5_1   32 values,  24 bytes: [f16 d][f16 m][u32 qh][16 x u8 nibbles]; x = d * q + m
//   q2_K  256 values,  84 bytes: [16 x u8 scales: low 4 bits scale, high 4 min, per 16 values][64 x u8 qs:
//         2 bits each, byte l of half h holds values 128h + l + 32i at bits 2i][f16 d][f16 dmin];
//         x = d * scale * q - dmin * min
//   q3_K  256 values, 110 bytes: [32 x u8 hmask: value j's 3rd bit in byte j % 32, bit j / 32][64 x u8 qs as
//         q2_K][12 x u8: 16 6-bit scales][f16 d]; x = d * (scale - 32) * (q - 4), q = 2 low bits | hmask bit << 2
//   q4_K  256 values, 144 bytes: [f16 d][f16 dmin][12 x u8 packed 6-bit (scale, min) for 8 sub-blocks of 32]
//         [128 x u8 nibbles: sub-blocks 2p, 2p + 1 = low, high nibbles of bytes 32p..32p+31];
//         x = d * scale_j * q - dmin * min_j
//   q5_K  256 values, 176 bytes: [f16 d][f16 dmin][12 x u8 scales as q4_K][32 x u8 qh: sub-block j's 5th
//         bits = bit j of qh[l]][128 x u8 nibbles as q4_K]; x as q4_K, q in 0..31
//   q6_K  256 values, 210 bytes: [128 x u8 ql low 4 bits][64 x u8 qh high 2 bits][16 x i8 scales][f16 d];
//         x = d * scale_j * (q - 32), 16 sub-blocks of 16
//   iq4_nl 32 values,  18 bytes: [f16 d][16 x u8 nibbles as q4_0]; x = d * kIq4nlValues[q]
//   iq4_xs 256 values, 136 bytes: [f16 d][u16 scales_h][4 x u8 scales_l][128 x u8: 8 sub-blocks of 16 bytes,
//         nibbles as q4_0]; sub-block scale ls = 4 bits of scales_l | 2 bits of scales_h << 4,
//         x = d * (ls - 32) * kIq4nlValues[q]
//   mxfp4  32 values,  17 bytes: [u8 e8m0 exponent e][16 x u8 nibbles as q4_0]; x = 2^(e - 128) * kMxfp4Values[q]
//         (e2m1 values doubled, scale halved: ggml's convention)
// Dequantisation is scalar and exact (what the reference forward and the tests treat as "the weights");
// quantisation ports what llama-quantize runs without an importance matrix (ggml's quantize_row_*_ref,
// and quantize_iq4_nl / quantize_iq4_xs) bit for bit, so files written by Loom are what llama-quantize
// would write from the same f32 rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {

// Types a weight matrix may have here: f32, f16, bf16 and every block type above.
bool isSupportedWeightType(uint32_t type);
// Their names, comma-separated, for errors ("f32, f16, bf16, q8_0, ...").
std::string supportedWeightTypes();

// One row of n values (n a multiple of the type's block size) from `src` bytes into dst[n]; throws
// std::runtime_error for types without a codec (naming the type).
void dequantRow(uint32_t type, const uint8_t* src, float* dst, int n);
// n f32 values into `type` bytes, as llama-quantize would write them; throws for types without a
// quantiser and for n not a whole number of blocks.
void quantizeRow(uint32_t type, const float* src, uint8_t* dst, int n);

// The per-type codecs behind the two (each: n a multiple of the block size).
void dequantRowQ4_0(const uint8_t* src, float* dst, int n);
void dequantRowQ4_1(const uint8_t* src, float* dst, int n);
void dequantRowQ5_0(const uint8_t* src, float* dst, int n);
void dequantRowQ5_1(const uint8_t* src, float* dst, int n);
void dequantRowQ2_K(const uint8_t* src, float* dst, int n);
void dequantRowQ3_K(const uint8_t* src, float* dst, int n);
void dequantRowQ4_K(const uint8_t* src, float* dst, int n);
void dequantRowQ5_K(const uint8_t* src, float* dst, int n);
void dequantRowQ6_K(const uint8_t* src, float* dst, int n);
void dequantRowIq4Nl(const uint8_t* src, float* dst, int n);
void dequantRowIq4Xs(const uint8_t* src, float* dst, int n);
void dequantRowMxfp4(const uint8_t* src, float* dst, int n);
void quantizeRowQ4_0(const float* src, uint8_t* dst, int n);
void quantizeRowQ4_1(const float* src, uint8_t* dst, int n);
void quantizeRowQ5_0(const float* src, uint8_t* dst, int n);
void quantizeRowQ5_1(const float* src, uint8_t* dst, int n);
void quantizeRowQ2_K(const float* src, uint8_t* dst, int n);
void quantizeRowQ3_K(const float* src, uint8_t* dst, int n);
void quantizeRowQ4_K(const float* src, uint8_t* dst, int n);
void quantizeRowQ5_K(const float* src, uint8_t* dst, int n);
void quantizeRowQ6_K(const float* src, uint8_t* dst, int n);
void quantizeRowIq4Nl(const float* src, uint8_t* dst, int n);
void quantizeRowIq4Xs(const float* src, uint8_t* dst, int n);
void quantizeRowMxfp4(const float* src, uint8_t* dst, int n);

}  // namespace loom
