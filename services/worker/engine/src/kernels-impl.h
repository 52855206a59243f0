// Generic kernel bodies, instantiated once per instruction set by kernels-{scalar,avx2,avx512}.cpp.
// Everything here lives in an anonymous namespace: each translation unit is compiled with different
// -m flags, and internal linkage guarantees no AVX code leaks into another TU through the linker.
// Include only after defining `struct V` (the vector traits) in the including TU; include nothing
// from the C++ standard library here for the same reason (its inline templates have external linkage).
#pragma once
#include "half.h"
#include "kernels.h"
#include "quant-blocks.h"

namespace {

// Weight-row loaders: load(k) gives V::W weights starting at element k as f32; at(k) gives one.
struct LoadF32 {
  const float* w;
  V::reg load(int k) const { return V::loadF32(w + k); }
  float at(int k) const { return w[k]; }
};
struct LoadF16 {
  const uint16_t* w;
  V::reg load(int k) const { return V::loadF16(w + k); }
  float at(int k) const { return loom_f16_to_f32(w[k]); }
};
struct LoadBF16 {
  const uint16_t* w;
  V::reg load(int k) const { return V::loadBF16(w + k); }
  float at(int k) const { return loom_bf16_to_f32(w[k]); }
};
// q8_0 block: [f16 scale d][32 x int8 q], value = d * q. V::W divides 32, so a load never straddles blocks.
struct LoadQ8_0 {
  const uint8_t* w;
  V::reg load(int k) const {
    const uint8_t* b = w + (k >> 5) * 34;
    uint16_t d;
    __builtin_memcpy(&d, b, 2);
    return V::loadQ8(reinterpret_cast<const int8_t*>(b + 2 + (k & 31)), loom_f16_to_f32(d));
  }
  float at(int k) const {
    const uint8_t* b = w + (k >> 5) * 34;
    uint16_t d;
    __builtin_memcpy(&d, b, 2);
    return loom_f16_to_f32(d) * (float)reinterpret_cast<const int8_t*>(b + 2)[k & 31];
  }
};

// R weight rows against NT tokens: R*NT accumulators, each x chunk loaded once for R rows and each
// weight chunk once for NT tokens. Every (row, token) pair has exactly one accumulator over k in V::W
// steps, then a horizontal sum and a scalar tail, whatever R and NT are: see the determinism contract.
template <int R, int NT, class L>
inline void tile(const L* w, const float* x, int K, float* y, int ldy) {
  V::reg acc[R][NT];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) acc[r][j] = V::zero();
  int k = 0;
  for (; k + V::W <= K; k += V::W) {
    V::reg xv[NT];
    for (int j = 0; j < NT; j++) xv[j] = V::loadF32(x + (size_t)j * K + k);
    for (int r = 0; r < R; r++) {
      const V::reg wv = w[r].load(k);
      for (int j = 0; j < NT; j++) acc[r][j] = V::fma(wv, xv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NT; j++) {
      float s = V::hsum(acc[r][j]);
      for (int kk = k; kk < K; kk++) s += w[r].at(kk) * x[(size_t)j * K + kk];
      y[(size_t)j * ldy + r] = s;
    }
}

// The last T % NT tokens (1 <= rem < NT) against R rows: a narrower tile, same per-pair arithmetic.
template <int R, int NT, class L>
inline void tailTile(int rem, const L* w, const float* x, int K, float* y, int ldy) {
  if constexpr (NT > 1) {
    if (rem == NT - 1)
      tile<R, NT - 1>(w, x, K, y, ldy);
    else
      tailTile<R, NT - 1>(rem, w, x, K, y, ldy);
  }
}

// All tokens against rows [n, n + R): full tiles of V::NT tokens, then the rest. The R weight rows stay
// in L1 while every token passes, so weights stream from memory once per call whatever T is.
template <int R, class L>
inline void rowsAllTokens(const L* w, const float* X, float* Y, int K, int T, int ldy, int n) {
  int t = 0;
  for (; t + V::NT <= T; t += V::NT) tile<R, V::NT>(w, X + (size_t)t * K, K, Y + (size_t)t * ldy + n, ldy);
  if (t < T) tailTile<R, V::NT>(T - t, w, X + (size_t)t * K, K, Y + (size_t)t * ldy + n, ldy);
}

// Rows in groups of V::R (then single rows); each group's weights stay in L1 while all tokens pass.
template <class L, class P>
void gemm(const uint8_t* W, size_t rowBytes, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  int n = n0;
  for (; n + V::R <= n1; n += V::R) {
    L w[V::R];
    for (int r = 0; r < V::R; r++) w[r] = L{reinterpret_cast<const P*>(W + (size_t)(n + r) * rowBytes)};
    rowsAllTokens<V::R>(w, X, Y, K, T, ldy, n);
  }
  for (; n < n1; n++) {
    const L w{reinterpret_cast<const P*>(W + (size_t)n * rowBytes)};
    rowsAllTokens<1>(&w, X, Y, K, T, ldy, n);
  }
}

#include "kernels-qgemm.h"
#ifdef LOOM_AVX512_VNNI
#include "kernels-packed-q8.h"
#define LOOM_PACKED_Q8 gemmPackedQ8_0
#else
#define LOOM_PACKED_Q8 nullptr
#endif
#if defined(__AVX2__)  // the sets whose traits define PQ4 (every one but scalar)
#include "kernels-packed-q4k.h"
#define LOOM_PACKED_Q4K gemmPackedQ4_K
#else
#define LOOM_PACKED_Q4K nullptr
#endif

// ---- f32 GEMM on packed panels (kernels.h PackedGemmFn; llamafile tinyBLAS / BLIS style) ----
// Micro-tile: MT tokens x NP panels in MT * NP * PV accumulators (PV registers per panel row). Per k it loads
// NP * PV weight registers and broadcasts MT activations, for MT * NP * PV multiply-adds: the weights come once
// per MT tokens and each activation once per NP * kPanel rows. Each accumulator lane is one (row, token) chain
// over k, so neither MT, NP, T nor the k blocking below changes a bit: a block boundary stores the exact f32
// sum in Y and the next block goes on from it.
constexpr int PV = loom::kPanel / V::W;
constexpr int kPackedKBlock = 512;  // k per pass over a panel group: NP panels of it stay in L2 while tokens pass

// Rows of the NP panels at P (pstride floats apart), k in [k0, k1), MT tokens from X (rows K apart) into Y;
// nValid: the rows of these panels that exist (< NP * kPanel only in the last panel of the matrix).
template <int MT, int NP>
inline void ptile(const float* P, size_t pstride, const float* X, int K, int k0, int k1, float* Y, int ldy,
                  int nValid) {
  constexpr int NR = NP * PV;
  const bool full = nValid >= NP * loom::kPanel;
  float edge[MT][NP * loom::kPanel];  // the partial panel's rows, through memory
  V::reg acc[MT][NR];
  for (int t = 0; t < MT; t++)
    for (int i = 0; i < NR; i++) {
      if (k0 == 0) {
        acc[t][i] = V::zero();
      } else if (full) {
        acc[t][i] = V::loadF32(Y + (size_t)t * ldy + i * V::W);
      } else {
        for (int l = 0; l < V::W; l++)
          edge[t][i * V::W + l] = i * V::W + l < nValid ? Y[(size_t)t * ldy + i * V::W + l] : 0.f;
        acc[t][i] = V::loadF32(&edge[t][i * V::W]);
      }
    }
  for (int k = k0; k < k1; k++) {
    const float* pk = P + (size_t)k * loom::kPanel;
    V::reg w[NR];
#pragma GCC unroll 16
    for (int i = 0; i < NR; i++) w[i] = V::loadF32(pk + (size_t)(i / PV) * pstride + (i % PV) * V::W);
#pragma GCC unroll 16
    for (int t = 0; t < MT; t++) {
      const V::reg x = V::set1(X[(size_t)t * K + k]);
#pragma GCC unroll 16
      for (int i = 0; i < NR; i++) acc[t][i] = V::fma(w[i], x, acc[t][i]);
    }
  }
  for (int t = 0; t < MT; t++)
    for (int i = 0; i < NR; i++) {
      if (full) {
        V::storeF32(Y + (size_t)t * ldy + i * V::W, acc[t][i]);
      } else {
        V::storeF32(&edge[t][i * V::W], acc[t][i]);
        for (int l = 0; l < V::W && i * V::W + l < nValid; l++)
          Y[(size_t)t * ldy + i * V::W + l] = edge[t][i * V::W + l];
      }
    }
}

// The last rem (1 <= rem < MT) tokens: a narrower tile, the same chains.
template <int MT, int NP>
inline void ptileTail(int rem, const float* P, size_t pstride, const float* X, int K, int k0, int k1, float* Y, int ldy,
                      int nValid) {
  if constexpr (MT > 1) {
    if (rem == MT - 1)
      ptile<MT - 1, NP>(P, pstride, X, K, k0, k1, Y, ldy, nValid);
    else
      ptileTail<MT - 1, NP>(rem, P, pstride, X, K, k0, k1, Y, ldy, nValid);
  }
}

// All T tokens against NP panels, k block by k block; the panels' block stays in cache while the tokens pass.
template <int NP>
inline void panelsAllTokens(const float* P, size_t pstride, const float* X, float* Y, int K, int T, int ldy,
                            int nValid) {
  for (int k0 = 0; k0 < K; k0 += kPackedKBlock) {
    const int k1 = K - k0 < kPackedKBlock ? K : k0 + kPackedKBlock;
    int t = 0;
    for (; t + V::PMT <= T; t += V::PMT)
      ptile<V::PMT, NP>(P, pstride, X + (size_t)t * K, K, k0, k1, Y + (size_t)t * ldy, ldy, nValid);
    if (t < T) ptileTail<V::PMT, NP>(T - t, P, pstride, X + (size_t)t * K, K, k0, k1, Y + (size_t)t * ldy, ldy, nValid);
  }
}

// The last rem (1 <= rem < NP) panels of a range.
template <int NP>
inline void panelsTail(int rem, const float* P, size_t pstride, const float* X, float* Y, int K, int T, int ldy,
                       int nValid) {
  if constexpr (NP > 1) {
    if (rem == NP - 1)
      panelsAllTokens<NP - 1>(P, pstride, X, Y, K, T, ldy, nValid);
    else
      panelsTail<NP - 1>(rem, P, pstride, X, Y, K, T, ldy, nValid);
  }
}

void gemmPackedF32(const float* P, const float* X, float* Y, int K, int T, int ldy, int N, int p0, int p1) {
  if constexpr (V::PMT > 0) {  // else the set has none (kSet holds nullptr)
    const size_t ps = (size_t)K * loom::kPanel;
    int p = p0;
    for (; p + V::PNP <= p1; p += V::PNP)
      panelsAllTokens<V::PNP>(P + p * ps, ps, X, Y + p * loom::kPanel, K, T, ldy, N - p * loom::kPanel);
    if (p < p1) panelsTail<V::PNP>(p1 - p, P + p * ps, ps, X, Y + p * loom::kPanel, K, T, ldy, N - p * loom::kPanel);
  }
}

void gemmF32(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemm<LoadF32, float>(W, rb, X, Y, K, T, ldy, n0, n1);
}
void gemmF16(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemm<LoadF16, uint16_t>(W, rb, X, Y, K, T, ldy, n0, n1);
}
void gemmBF16(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemm<LoadBF16, uint16_t>(W, rb, X, Y, K, T, ldy, n0, n1);
}
void gemmQ8_0(const uint8_t* W, size_t rb, const float* X, float* Y, int K, int T, int ldy, int n0, int n1) {
  gemm<LoadQ8_0, uint8_t>(W, rb, X, Y, K, T, ldy, n0, n1);
}

float dotF32(const float* a, const float* b, int n) {
  float y;
  const LoadF32 w{b};
  tile<1, 1>(&w, a, n, &y, 1);
  return y;
}
float dotF16(const float* a, const uint16_t* b, int n) {
  float y;
  const LoadF16 w{b};
  tile<1, 1>(&w, a, n, &y, 1);
  return y;
}

// Attention for a GQA group (kernels.h dotRows / axpyRows): the g <= 8 query heads that share one KV head use each
// K/V row once.
// g in 1..8 to the constant-G bodies.
#define LOOM_GROUP_SWITCH(g, CALL) \
  switch (g) {                     \
    case 1:                        \
      CALL(1);                     \
      break;                       \
    case 2:                        \
      CALL(2);                     \
      break;                       \
    case 3:                        \
      CALL(3);                     \
      break;                       \
    case 4:                        \
      CALL(4);                     \
      break;                       \
    case 5:                        \
      CALL(5);                     \
      break;                       \
    case 6:                        \
      CALL(6);                     \
      break;                       \
    case 7:                        \
      CALL(7);                     \
      break;                       \
    default:                       \
      CALL(8);                     \
      break;                       \
  }
// Accumulator registers the attention kernels keep live (of 32 zmm / 16 ymm): enough independent fma chains to
// hide the fma latency at g = 1, where one chain per row (dot) or per output slice (axpy) waits on the latency.
constexpr int kAttnAcc = V::W >= 16 ? 16 : V::W >= 8 ? 8 : 1;
// Rows of a dotRows chunk computed side by side: G * R accumulators, R a power of two dividing V::W.
template <int G>
constexpr int attnRows() {
  int r = V::W;
  while (r > 1 && G * r > kAttnAcc) r /= 2;
  return r;
}
// dotRows for a constant G: rows in chunks of V::W, each (row, head) accumulated in one register over hd in V::W
// steps, then the chunk's W accumulators of a head reduced at once by V::hsumW (bit for bit V::hsum: absent rows of
// a short last chunk repeat its last row in lanes nobody reads), then the scalar tail. R rows of a chunk go side by
// side (hd outside, rows inside), so one q load serves R rows and R * G chains are in flight; each accumulator still
// sees the same chain of fmas. So a value depends on its row and head only, never on n, the chunking or g.
template <int G, class L, class P>
inline void dotRowsG(const float* q, const uint8_t* rows, size_t stride, int n, int hd, float* out, int ldo) {
  constexpr int R = attnRows<G>();
  const int hv = hd - hd % V::W;  // the vector part of hd
  for (int r0 = 0; r0 < n; r0 += V::W) {
    const int nr = n - r0 < V::W ? n - r0 : V::W;
    V::reg acc[G][V::W];  // [head][row of the chunk]
    for (int rb = 0; rb < V::W; rb += R) {
      L k[R];
      for (int r = 0; r < R; r++) {
        const int row = r0 + (rb + r < nr ? rb + r : nr - 1);
        k[r] = L{reinterpret_cast<const P*>(rows + (size_t)row * stride)};
      }
      V::reg a[G][R];  // these rows' accumulators stay in registers over hd
      for (int h = 0; h < G; h++)
        for (int r = 0; r < R; r++) a[h][r] = V::zero();
      if (rb < nr)
        for (int i = 0; i < hv; i += V::W) {
          V::reg kv[R];
          for (int r = 0; r < R; r++) kv[r] = k[r].load(i);
          for (int h = 0; h < G; h++) {
            const V::reg qv = V::loadF32(q + (size_t)h * hd + i);
            for (int r = 0; r < R; r++) a[h][r] = V::fma(qv, kv[r], a[h][r]);
          }
        }
      for (int h = 0; h < G; h++)
        for (int r = 0; r < R; r++) acc[h][rb + r] = a[h][r];
    }
    for (int h = 0; h < G; h++) {
      float sums[V::W];
      V::storeF32(sums, V::hsumW(acc[h]));
      for (int r = 0; r < nr; r++) {
        const L k{reinterpret_cast<const P*>(rows + (size_t)(r0 + r) * stride)};
        float s = sums[r];
        for (int i = hv; i < hd; i++) s += q[(size_t)h * hd + i] * k.at(i);
        out[(size_t)h * ldo + r0 + r] = s;
      }
    }
  }
}
constexpr int kAxpyChunk = 64;  // rows per axpyRows pass: bounds its coefficient buffer
// S V::W-wide slices [i0, i0 + S * V::W) of the G outputs over the nr rows of a chunk: the G * S slices stay in
// registers over the rows (one load and one store each per chunk), each row's S slices loaded once for the G heads.
template <int G, int S, class L, class P>
inline void axpySlices(float* out, const float (*coef)[kAxpyChunk], const uint8_t* chunk, size_t stride, int nr, int hd,
                       int i0) {
  V::reg o[G][S];
  for (int h = 0; h < G; h++)
    for (int s = 0; s < S; s++) o[h][s] = V::loadF32(out + (size_t)h * hd + i0 + s * V::W);
  for (int r = 0; r < nr; r++) {
    const L row{reinterpret_cast<const P*>(chunk + (size_t)r * stride)};
    V::reg vv[S];
    for (int s = 0; s < S; s++) vv[s] = row.load(i0 + s * V::W);
    for (int h = 0; h < G; h++) {
      const V::reg c = V::set1(coef[h][r]);
      for (int s = 0; s < S; s++) o[h][s] = V::fma(c, vv[s], o[h][s]);
    }
  }
  for (int h = 0; h < G; h++)
    for (int s = 0; s < S; s++) V::storeF32(out + (size_t)h * hd + i0 + s * V::W, o[h][s]);
}
// axpyRows for a constant G: out[h] += (a[h][r] * inv[h]) * row r for r = 0, 1, ... in order, with the loops
// turned (slices outside, rows inside) so the outputs stay in registers over all the rows, up to kAttnAcc / G
// slices at a time (independent chains: a single slice at g = 1 is one serial fma chain over the rows).
// Each output element sees the same chain of fmas whatever the slicing.
template <int G, class L, class P>
inline void axpyRowsG(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                      int hd) {
  // Slices per pass: about 8 chains (G * SM), at most 4 slices; at G >= 5 one slice already gives G chains.
  constexpr int SM = kAttnAcc < 8 ? 1 : G >= 5 ? 1 : G >= 3 ? 2 : 4;
  constexpr int S3 = SM < 3 ? SM : 3, S2 = SM < 2 ? SM : 2;  // a remainder of 3 (2) slices implies SM > 3 (2)
  for (int r0 = 0; r0 < n; r0 += kAxpyChunk) {
    const int nr = n - r0 < kAxpyChunk ? n - r0 : kAxpyChunk;
    float coef[G][kAxpyChunk];  // [head][row]
    for (int h = 0; h < G; h++)
      for (int r = 0; r < nr; r++) coef[h][r] = a[(size_t)h * lda + r0 + r] * inv[h];
    const uint8_t* chunk = rows + (size_t)r0 * stride;
    int i = 0;
    for (; i + SM * V::W <= hd; i += SM * V::W) axpySlices<G, SM, L, P>(out, coef, chunk, stride, nr, hd, i);
    switch ((hd - i) / V::W) {  // the slices left, fewer than SM, in one pass
      case 3:
        axpySlices<G, S3, L, P>(out, coef, chunk, stride, nr, hd, i);
        break;
      case 2:
        axpySlices<G, S2, L, P>(out, coef, chunk, stride, nr, hd, i);
        break;
      case 1:
        axpySlices<G, 1, L, P>(out, coef, chunk, stride, nr, hd, i);
        break;
      default:
        break;
    }
    i = hd - (hd - i) % V::W;
    for (; i < hd; i++)
      for (int r = 0; r < nr; r++) {
        const float vi = L{reinterpret_cast<const P*>(chunk + (size_t)r * stride)}.at(i);
        for (int h = 0; h < G; h++) out[(size_t)h * hd + i] += coef[h][r] * vi;
      }
  }
}
template <class L, class P>
inline void dotRowsN(const float* q, const uint8_t* rows, size_t stride, int n, int hd, int g, float* out, int ldo) {
#define LOOM_CALL(G) dotRowsG<G, L, P>(q, rows, stride, n, hd, out, ldo)
  LOOM_GROUP_SWITCH(g, LOOM_CALL)
#undef LOOM_CALL
}
template <class L, class P>
inline void axpyRowsN(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                      int hd, int g) {
#define LOOM_CALL(G) axpyRowsG<G, L, P>(out, a, lda, inv, rows, stride, n, hd)
  LOOM_GROUP_SWITCH(g, LOOM_CALL)
#undef LOOM_CALL
}
#undef LOOM_GROUP_SWITCH
void dotRowsF32(const float* q, const uint8_t* rows, size_t stride, int n, int hd, int g, float* out, int ldo) {
  dotRowsN<LoadF32, float>(q, rows, stride, n, hd, g, out, ldo);
}
void dotRowsF16(const float* q, const uint8_t* rows, size_t stride, int n, int hd, int g, float* out, int ldo) {
  dotRowsN<LoadF16, uint16_t>(q, rows, stride, n, hd, g, out, ldo);
}
void axpyRowsF32(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                 int hd, int g) {
  axpyRowsN<LoadF32, float>(out, a, lda, inv, rows, stride, n, hd, g);
}
void axpyRowsF16(float* out, const float* a, int lda, const float* inv, const uint8_t* rows, size_t stride, int n,
                 int hd, int g) {
  axpyRowsN<LoadF16, uint16_t>(out, a, lda, inv, rows, stride, n, hd, g);
}

template <class L>
inline void axpy(float* y, float a, const L& x, int n) {
  const V::reg va = V::set1(a);
  int i = 0;
  for (; i + V::W <= n; i += V::W) V::storeF32(y + i, V::fma(va, x.load(i), V::loadF32(y + i)));
  for (; i < n; i++) y[i] += a * x.at(i);
}
void axpyF32(float* y, float a, const float* x, int n) { axpy(y, a, LoadF32{x}, n); }
void axpyF16(float* y, float a, const uint16_t* x, int n) { axpy(y, a, LoadF16{x}, n); }

// exp(x) for x <= 0 (softmax terms: a logit less the maximum). Vector sets: Cody-Waite reduction x = n ln2 + b,
// a degree-5 polynomial for e^b (ggml's ggml_v_expf coefficients, ~1.5 ulp), times 2^n; x is first raised to -87
// so that 2^n stays normal: such a term reads exp(-87) ~ 1.6e-38 instead of its (denormal or zero) value, nothing
// next to the maximum's term 1. The scalar set calls expf, the readable definition.
template <class R>
inline R expNeg(R x) {
  if constexpr (V::W == 1) {
    return __builtin_expf(x);
  } else {
    x = V::max(x, V::set1(-87.f));
    const R r = V::set1(0x1.8p23f);
    const R z = V::fma(x, V::set1(0x1.715476p+0f), r);  // n + 1.5 * 2^23: rounds x / ln2 to the integer n
    const R n = V::sub(z, r);
    const R b = V::fnma(n, V::set1(0x1.7f7d1cp-20f), V::fnma(n, V::set1(0x1.62e4p-1f), x));  // x - n ln2
    const R u = V::mul(b, b);
    const R j = V::fma(V::fma(V::fma(V::set1(0x1.0e4020p-7f), b, V::set1(0x1.573e2ep-5f)), u,
                              V::fma(V::set1(0x1.555e66p-3f), b, V::set1(0x1.fffdb6p-2f))),
                       u, V::fma(V::set1(0x1.ffffecp-1f), b, V::set1(1.0f)));
    return V::pow2(j, n);
  }
}

// y[i] = exp(x[i] - shift) for i < n (x[i] <= shift; y may be x); returns their sum: per vector lane in f32 over
// 16 vectors, those partial sums then in double, so the result depends on n and the values only.
double expShiftSum(float* y, const float* x, int n, float shift) {
  const V::reg s = V::set1(shift);
  double total = 0;
  int i = 0;
  while (i + V::W <= n) {
    V::reg acc = V::zero();
    for (int v = 0; v < 16 && i + V::W <= n; v++, i += V::W) {
      const V::reg e = expNeg(V::sub(V::loadF32(x + i), s));
      V::storeF32(y + i, e);
      acc = V::add(acc, e);
    }
    total += V::hsum(acc);
  }
  for (; i < n; i++) {
    float e;
    if constexpr (V::W == 1) {
      e = __builtin_expf(x[i] - shift);
    } else {  // the vector polynomial on a one-lane load, so a value's exp does not depend on its position
      float lane[V::W] = {};
      lane[0] = x[i] - shift;
      V::storeF32(lane, expNeg(V::loadF32(lane)));
      e = lane[0];
    }
    y[i] = e;
    total += e;
  }
  return total;
}

// silu(g) * u; g is first raised to -88 in the vector sets so exp(-g) stays finite (the result is then ~0 either way).
template <class R>
inline R siluMulV(R g, R u) {
  if constexpr (V::W == 1) {
    return g / (1.0f + __builtin_expf(-g)) * u;
  } else {
    const R e = expNeg(V::sub(V::zero(), V::max(g, V::set1(-88.f))));
    return V::mul(V::div(g, V::add(V::set1(1.0f), e)), u);
  }
}
void siluMul(float* g, const float* u, int n) {
  int i = 0;
  for (; i + V::W <= n; i += V::W) V::storeF32(g + i, siluMulV(V::loadF32(g + i), V::loadF32(u + i)));
  for (; i < n; i++) {  // one lane at a time through the same vector code, so a value does not depend on its position
    float a[V::W] = {}, b[V::W] = {};
    a[0] = g[i], b[0] = u[i];
    V::storeF32(a, siluMulV(V::loadF32(a), V::loadF32(b)));
    g[i] = a[0];
  }
}

void toF16(uint16_t* dst, const float* src, int n) {
  int i = 0;
  for (; i + V::W <= n; i += V::W) V::storeF16(dst + i, V::loadF32(src + i));
  for (; i < n; i++) dst[i] = loom_f32_to_f16(src[i]);
}

// This TU's set as a constant aggregate, with `bf16` as its gemmBF16 (kernels-avx512bf16.cpp puts in its own). A
// macro, so that set is one too: a copy made in a function would be a dynamic initializer, vector code run when the
// addon loads, on every CPU (SIGILL on one without the set's instructions).
#define LOOM_KERNEL_SET(bf16)                                                                                   \
  {                                                                                                             \
    V::name, gemmF32, gemmF16, bf16, gemmQ8_0, V::PMT > 0 ? gemmPackedF32 : nullptr, V::PNP, LOOM_PACKED_Q8,    \
        LOOM_PACKED_Q4K, dotF32, dotF16, axpyF32, axpyF16, toF16, expShiftSum, siluMul, dotRowsF32, dotRowsF16, \
        axpyRowsF32, axpyRowsF16, {quantizeActsQ8_0, quantizeActsQ8_1, quantizeActsQ8_K}, kQGemms               \
  }
const loom::KernelSet kSet = LOOM_KERNEL_SET(gemmBF16);

}  // namespace
