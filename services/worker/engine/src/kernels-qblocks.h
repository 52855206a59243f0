// The weight formats of the integer block GEMM (kernels-qgemm.h): how each unpacks one 32-value sub-block.
// Part of kernels-impl.h like kernels-qgemm.h (included from it inside the anonymous namespace, after
// `struct V`); includes nothing.
#pragma once

// Weight formats, one 32-value sub-block b of a row at a time: load() gives its scale(s), min(s) and 32
// quants (V::qw), value = scale * q - min. kScales / kMins: 1 per sub-block, 2 (one per 16 values), or no
// min; kActs: the activation kind it pairs with (llama.cpp's vec_dot_type for the type); kUnsigned: its quants
// are >= 0 (the dot skips the sign transfer). Layouts in
// quant.h; each unpacks to the same int8 form, so one tile serves them all.
struct BlockQ8_0 {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_0;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * kQ8Bytes;
    scale[0] = V::f16(wb);
    q = V::prepQ(reinterpret_cast<const int8_t*>(wb + 2));
  }
};
struct BlockQ4_0 {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_0;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 18;
    scale[0] = V::f16(wb);
    q = V::prepNib(wb + 2, 8);
  }
};
struct BlockQ4_1 {
  static constexpr int kScales = 1, kMins = 1, kActs = loom::kActQ8_1;
  static constexpr bool kUnsigned = true;
  static void load(const uint8_t* row, int b, float* scale, float* min, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 20;
    scale[0] = V::f16(wb);
    min[0] = -V::f16(wb + 2);
    q = V::prepNib(wb + 4, 0);
  }
};
struct BlockQ5_0 {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_0;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 22;
    scale[0] = V::f16(wb);
    q = V::prepNib5(wb + 6, wb + 2, 16);
  }
};
struct BlockQ5_1 {
  static constexpr int kScales = 1, kMins = 1, kActs = loom::kActQ8_1;
  static constexpr bool kUnsigned = true;
  static void load(const uint8_t* row, int b, float* scale, float* min, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 24;
    scale[0] = V::f16(wb);
    min[0] = -V::f16(wb + 2);
    q = V::prepNib5(wb + 8, wb + 4, 0);
  }
};
// q2_K / q3_K: sub-block j of a super-block is value bits 2(j % 4)..+1 of qs bytes 32(j / 4)..+31; a
// scale (q2_K: and a min) per 16 values.
struct BlockQ2_K {
  static constexpr int kScales = 2, kMins = 2, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = true;
  static void load(const uint8_t* row, int b, float* scale, float* min, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 84;
    const int j = b & 7;
    const float d = V::f16(sb + 80), dmin = V::f16(sb + 82);
    const uint8_t s0 = sb[2 * j], s1 = sb[2 * j + 1];
    scale[0] = d * (float)(s0 & 0xF);
    scale[1] = d * (float)(s1 & 0xF);
    min[0] = dmin * (float)(s0 >> 4);
    min[1] = dmin * (float)(s1 >> 4);
    q = V::prepCrumbs(sb + 16 + 32 * (j >> 2), 2 * (j & 3));
  }
};
struct BlockQ3_K {
  static constexpr int kScales = 2, kMins = 0, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 110;
    const int j = b & 7;
    const float d = V::f16(sb + 108);
    scale[0] = d * (float)loom::q3kScale(sb + 96, 2 * j);
    scale[1] = d * (float)loom::q3kScale(sb + 96, 2 * j + 1);
    q = V::prepQ3(sb + 32 + 32 * (j >> 2), 2 * (j & 3), sb, j);
  }
};
// q4_K / q5_K: sub-blocks 2p and 2p + 1 are the low and high nibbles of qs bytes 32p..32p+31 (q5_K: 5th
// bit j of qh bytes 0..31), a 6-bit (scale, min) pair each.
struct BlockQ4_K {
  static constexpr int kScales = 1, kMins = 1, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = true;
  static void load(const uint8_t* row, int b, float* scale, float* min, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 144;
    const int j = b & 7;
    uint8_t s, m;
    loom::scaleMinK4(j, sb + 4, &s, &m);
    scale[0] = V::f16(sb) * (float)s;
    min[0] = V::f16(sb + 2) * (float)m;
    q = V::prepNibbles(sb + 16 + 32 * (j >> 1), j & 1);
  }
};
struct BlockQ5_K {
  static constexpr int kScales = 1, kMins = 1, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = true;
  static void load(const uint8_t* row, int b, float* scale, float* min, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 176;
    const int j = b & 7;
    uint8_t s, m;
    loom::scaleMinK4(j, sb + 4, &s, &m);
    scale[0] = V::f16(sb) * (float)s;
    min[0] = V::f16(sb + 2) * (float)m;
    q = V::prepNibbles5(sb + 48 + 32 * (j >> 1), j & 1, sb + 16, j);
  }
};
// q6_K: sub-block j of a super-block: half h = j / 4 (128 values: ql + 64h, qh + 32h, scales + 8h),
// group g = j % 4 within it: ql bytes 0..31 (g even) or 32..63 (g odd), their low (g < 2) or high
// nibbles, qh bits 2g..2g+1, scales 2g and 2g + 1 (ggml's dequantize_row_q6_K).
struct BlockQ6_K {
  static constexpr int kScales = 2, kMins = 0, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 210;
    const int h = (b & 7) >> 2, g = b & 3;
    const int8_t* sc = reinterpret_cast<const int8_t*>(sb + 192 + 8 * h);
    const float d = V::f16(sb + 208);
    scale[0] = d * (float)sc[2 * g];
    scale[1] = d * (float)sc[2 * g + 1];
    q = V::prepQ6(sb + 64 * h + 32 * (g & 1), sb + 128 + 32 * h, g >> 1, 2 * g);
  }
};
// The non-linear formats look their 4-bit indices up in an int8 codebook (a byte shuffle on AVX), so the
// dot stays integer as for the linear ones.
struct BlockIq4Nl {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_0;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 18;
    scale[0] = V::f16(wb);
    q = V::prepLut(wb + 2, loom::kIq4nlValues);
  }
};
struct BlockIq4Xs {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_K;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* sb = row + (size_t)(b >> 3) * 136;
    const int j = b & 7;
    scale[0] = V::f16(sb) * (float)loom::iq4xsScale(sb, j);
    q = V::prepLut(sb + 8 + 16 * j, loom::kIq4nlValues);
  }
};
struct BlockMxfp4 {
  static constexpr int kScales = 1, kMins = 0, kActs = loom::kActQ8_0;
  static constexpr bool kUnsigned = false;
  static void load(const uint8_t* row, int b, float* scale, float*, V::qw& q) {
    const uint8_t* wb = row + (size_t)b * 17;
    scale[0] = loom::e8m0Half(wb[0]);
    q = V::prepLut(wb + 1, loom::kMxfp4Values);
  }
};
