// One batched forward pass of a decoder, llama2.c style, over all T tokens of a step. The family differences are
// data in ModelConfig (model-config.h); bracketed steps apply only where the model has them:
//
//   x = embed(tokens) * embedScale                         x: [T][dim]
//   for each layer l (LayerSpec: rope setting r or none, window W or none):
//     xb = rmsnorm(x) * attn_norm
//     q, k, v = xb Wq^T (+bq), xb Wk^T (+bk), xb Wv^T (+bv)   one GEMM each over all T tokens, in one parallel-for
//     [q, k = rmsnorm per head * q_norm, k_norm]              qwen3, gemma3
//     rope(q, k) with setting r at each token's position      (skipped in NoPE layers)
//     kv[slot(token)] = k, v      block blockTable[(pos / bs) * nGroups + group(l)], row pos % bs (kv-layout.h)
//     s_j = q.k_j * attnScale  [s_j = cap * tanh(s_j / cap)]  causal over its own sequence, j > pos - W, GQA
//     a = softmax(s [, sink_h]) V ; o = a Wo^T [+ bo]  [o = rmsnorm(o) * attn_post_norm]   sinks: gpt-oss
//     x += residualScale * o
//     xb = rmsnorm(x) * ffn_norm
//     f = (act(xb Wgate^T) * (xb Wup^T)) Wdown^T                act: silu or gelu-tanh; gate and up in one parallel-for
//       or, in a MoE layer, sum over the token's chosen experts e of w_e * expert_e(xb)  (moe-ffn.cpp)
//     [f = rmsnorm(f) * ffn_post_norm]
//     x += residualScale * f
//   logits = (rmsnorm(x[last token of each sampling seq]) * output_norm) Wout^T * logitScale
//   [logits = cap * tanh(logits / cap)]
//   pooled = reduce(rmsnorm(x[rows of each pooling seq]) * output_norm)   embeddings: last / first / sum, no LM head
//
// Every per-token result depends only on that token's row and its own sequence's cache, never on the
// rest of the batch (see the determinism contract in kernels.h).
#include "forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ggml-types.h"

namespace loom {

namespace {
// Asks for every cache line of [p, p + bytes) (a hint: no fault, no wait).
inline void prefetchLines(const uint8_t* p, size_t bytes) {
  const uintptr_t end = (uintptr_t)p + bytes;
  for (uintptr_t l = (uintptr_t)p & ~(uintptr_t)63; l < end; l += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(l));
}
// Loads one byte of every cache line of [p, p + bytes) and returns their sum (for keepAlive).
inline uint32_t touchLines(const uint8_t* p, size_t bytes) {
  const uintptr_t end = (uintptr_t)p + bytes;
  uint32_t sum = 0;
  for (uintptr_t l = (uintptr_t)p & ~(uintptr_t)63; l < end; l += 64) sum += *reinterpret_cast<const uint8_t*>(l);
  return sum;
}
// Makes the compiler keep the loads that computed v (an empty asm that takes it as an input).
inline void keepAlive(uint32_t v) { __asm__ volatile("" : : "r"(v)); }
// Bytes of the cache one attention task reads ahead with plain loads before computing on them (a slice of the core's
// 1 MB L2, so they are still there when the dot / axpy pass gets to them).
constexpr size_t kTouchBytes = 256 << 10;
// Query heads one attention task scores at most, and the floats of score rows a thread may hold: a task then reads
// whole K / V rows at 12 MHA heads of 64 (stories110M), where 8-head slices of its rows measured 1.5x slower, and the
// scratch stays within max(4 MB, 8 heads of the context) a thread.
constexpr int kMaxAttnHeads = 32;
constexpr size_t kScoreFloats = 1 << 20;
}  // namespace

const char* Forward::opName(int op) {
  static const char* const names[kOpCount] = {"embed",    "norm",    "qkv", "rope+kv", "attention", "wo",
                                              "residual", "gate+up", "act", "down",    "head"};
  return names[op];
}

void Forward::allocate(int maxTokens, int maxSeqs) {
  maxTokens_ = maxTokens;
  maxSeqs_ = maxSeqs;
  const size_t T = (size_t)maxTokens;
  x_.assign(T * c_.dim, 0.f);
  xb_.assign(T * c_.dim, 0.f);
  q_.assign(T * c_.qDim(), 0.f);
  k_buf_.assign(T * c_.kvDim(), 0.f);
  v_buf_.assign(T * c_.kvDim(), 0.f);
  att_.assign(T * c_.qDim(), 0.f);
  proj_.assign(T * c_.dim, 0.f);
  hb_.assign(T * c_.hiddenDim, 0.f);
  hb2_.assign(T * c_.hiddenDim, 0.f);
  ropeCos_.assign(c_.ropes.size() * T * (c_.nRot / 2), 0.f);
  ropeSin_.assign(c_.ropes.size() * T * (c_.nRot / 2), 0.f);
  pos_.assign(T, 0);
  seqOf_.assign(T, 0);
  xs_.assign((size_t)maxSeqs * c_.dim, 0.f);
  const size_t maxK = (size_t)std::max({c_.dim, c_.qDim(), c_.hiddenDim});
  xqStride_ = (size_t)std::max(maxTokens, maxSeqs) * (maxK / 32 + 1) * kQ8ActBytes;
  xq_.assign(xqStride_ * actKinds(), 0);
  attnHeads_ = std::clamp((int)(kScoreFloats / (size_t)std::max(1, c_.contextLength)), kMaxAttnGroup, kMaxAttnHeads);
  scratch_.assign((size_t)pool_.size() * attnHeads_ * c_.contextLength, 0.f);
  poolAcc_.assign((size_t)pool_.size() * c_.dim, 0.0);
  poolFirst_.assign((size_t)maxSeqs, 0);
  poolCount_.assign((size_t)maxSeqs, 0);
  if (c_.moe.nExperts > 0) {
    const size_t E = (size_t)c_.moe.nExperts, R = T * c_.moe.nUsed, H = (size_t)c_.moe.hiddenDim;
    routerLogits_.assign(T * E, 0.f);
    chosen_.assign(R, 0);
    chosenW_.assign(R, 0.f);
    groupStart_.assign(E + 1, 0);
    rowOfSlot_.assign(R, 0);
    expertOfRow_.assign(R, 0);
    xg_.assign(R * c_.dim, 0.f);
    eg_.assign(R * H, 0.f);
    eu_.assign(R * H, 0.f);
    ed_.assign(R * c_.dim, 0.f);
    xgq_.assign(R * (std::max((size_t)c_.dim, H) / 32 + 1) * kQ8ActBytes, 0);
    tasks_.assign(2 * E * ((std::max((size_t)c_.dim, H) + kMoeRows - 1) / kMoeRows), 0);
  }
}

// The sum of squares in double, as llama.cpp does.
void Forward::rmsnorm(float* out, const float* x, const float* weight, int rows, int n) {
  pool_.parallelFor(rows, 4, [&](int b, int e, int) {
    for (int t = b; t < e; t++) {
      const float* xt = x + (size_t)t * n;
      float* ot = out + (size_t)t * n;
      double ss = 0;
      for (int i = 0; i < n; i++) ss += (double)xt[i] * xt[i];
      const float scale = 1.0f / std::sqrt((float)(ss / n) + c_.normEps);
      for (int i = 0; i < n; i++) ot[i] = (xt[i] * scale) * weight[i];
    }
  });
}

// v: [T][nHeads][headDim]; rotates the first nRot dims of each head by the token's angles under setting r.
void Forward::rope(float* v, int T, int nHeads, int r) {
  const int half = c_.nRot / 2, hd = c_.headDim;
  const bool neox = c_.ropeStyle == RopeStyle::NEOX;
  const float* cosTab = &ropeCos_[(size_t)r * maxTokens_ * half];  // [T][half]
  const float* sinTab = &ropeSin_[(size_t)r * maxTokens_ * half];
  pool_.parallelFor(T, 16, [&](int tb, int te, int) {
    for (int t = tb; t < te; t++) {
      const float* cs = &cosTab[(size_t)t * half];
      const float* sn = &sinTab[(size_t)t * half];
      for (int h = 0; h < nHeads; h++) {
        float* p = v + ((size_t)t * nHeads + h) * hd;
        for (int i = 0; i < half; i++) {
          const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
          const float x0 = p[a], x1 = p[b];
          p[a] = x0 * cs[i] - x1 * sn[i];
          p[b] = x0 * sn[i] + x1 * cs[i];
        }
      }
    }
  });
}

void Forward::storeKv(const StepInput& in, KvPool& kv, int layer, int T) {
  const int bs = kv.blockSize(), kvDim = c_.kvDim(), G = layout_.nGroups(), g = layout_.groupOf[(size_t)layer],
            slot = layout_.slotOf[(size_t)layer];
  for (int t = 0; t < T; t++) {
    const StepSeq& s = in.seqs[(size_t)seqOf_[(size_t)t]];
    const int p = pos_[(size_t)t];
    const int block = in.blockTables[(size_t)(s.blockTableStart + (p / bs) * G + g)];
    const size_t off = (size_t)(p % bs) * kv.rowBytes();
    uint8_t* kd = kv.rows(block, slot, 0) + off;
    uint8_t* vd = kv.rows(block, slot, 1) + off;
    const float* ks = &k_buf_[(size_t)t * kvDim];
    const float* vs = &v_buf_[(size_t)t * kvDim];
    if (kv.type() == KvType::F16) {
      k_.toF16(reinterpret_cast<uint16_t*>(kd), ks, kvDim);
      k_.toF16(reinterpret_cast<uint16_t*>(vd), vs, kvDim);
    } else {
      std::memcpy(kd, ks, sizeof(float) * kvDim);
      std::memcpy(vd, vs, sizeof(float) * kvDim);
    }
  }
}

// Paged causal attention, one task per (token, run of KV heads): the task reads each cached K and V row of the
// token's own sequence (positions j0..p, gathered block by block through its layer group's block table; j0 = p - W
// + 1 in a layer with a sliding window W, whose group's table holds no block before the window) once for all the
// query heads of its run, block by block in position order (one kernel call per block and KV head): the rows
// stream from memory, where one task per KV head read each row in head-sized slices, nKv times over. Runs are as long
// as keep <= attnHeads_ query heads in a task and still give every thread a task (at T = 1 the KV heads are split
// between the threads): longer pieces of each row measured faster than more, smaller tasks. Two passes over a score row
// per head rather than an online softmax per block, so the result does not depend on the block size, on how the
// sequence was split into steps, on the run length, or on the rest of the batch: each (token, head) value is the same
// chain of dot / axpy steps (whose values do not depend on the group size) whatever the tasks are.
void Forward::attention(const StepInput& in, const KvPool& kv, int layer, int T) {
  const int hd = c_.headDim, nKv = c_.nKvHeads, group = c_.nHeads / c_.nKvHeads, bs = kv.blockSize(),
            ctx = c_.contextLength, window = c_.layers[(size_t)layer].window, G = layout_.nGroups(),
            kvGroup = layout_.groupOf[(size_t)layer], slot = layout_.slotOf[(size_t)layer];
  const size_t rowBytes = kv.rowBytes(), elt = KvPool::eltBytes(kv.type());
  const bool f16 = kv.type() == KvType::F16;
  const float scale = c_.attnScale, cap = c_.attnSoftcap;
  const float* sinks = w_.layers[(size_t)layer].sinks;  // [nHeads] or nullptr
  const int gc = std::min(group, kMaxAttnGroup);        // query heads per dotRows call
  const int run = std::clamp(T * nKv / pool_.size(), 1, std::max(1, attnHeads_ / gc));
  const int runs = (nKv + run - 1) / run;
  pool_.parallelFor(T * runs, 1, [&](int b, int e, int thread) {
    float* scores = &scratch_[(size_t)thread * attnHeads_ * ctx];  // [run * g][ctx]
    for (int item = b; item < e; item++) {
      const int t = item / runs, kv0 = item % runs * run, kv1 = std::min(nKv, kv0 + run);
      const StepSeq& s = in.seqs[(size_t)seqOf_[(size_t)t]];
      const int p = pos_[(size_t)t];
      const int j0 = window > 0 && p >= window ? p - window + 1 : 0;
      const int* table = &in.blockTables[(size_t)s.blockTableStart + kvGroup];  // block i at table[i * G]
      const size_t sliceOff = (size_t)kv0 * hd * elt, sliceBytes = (size_t)(kv1 - kv0) * hd * elt;
      // The rows [jb, je] of block blk that lie in [j0, p] (K: kOrV 0, V: 1); returns the first row's start.
      auto blockRows = [&](int kOrV, int blk, int& jb, int& je) {
        jb = std::max(j0, blk * bs), je = std::min(p, blk * bs + bs - 1);
        return kv.rows(table[blk * G], slot, kOrV) + (size_t)(jb % bs) * rowBytes;
      };
      // lines(start, bytes) on this task's slice (KV heads kv0..kv1) of each of those rows.
      auto forSlices = [&](int kOrV, int blk, auto&& lines) {
        int jb, je;
        const uint8_t* first = blockRows(kOrV, blk, jb, je) + sliceOff;
        for (int j = 0; j <= je - jb; j++) lines(first + (size_t)j * rowBytes, sliceBytes);
      };
      // The rows [jb, je] of each block in [j0, p], block by block: fn(jb, je, first row). The cache is mostly out
      // of L2 after the weights of a layer streamed through, and a core keeps few of its misses in flight while its
      // loads wait behind the dot / axpy arithmetic (docs/benchmarks.md): so up to kTouchBytes of blocks are first
      // read with a bare load loop, which keeps many misses in flight, then computed on from L2 (a prefetch of the
      // next block as well only re-asked for rows already there: not slower without, measured).
      const int touchBlocks = std::max<int>(1, (int)(kTouchBytes / ((size_t)bs * std::max<size_t>(sliceBytes, 1))));
      auto forBlocks = [&](int kOrV, auto&& fn) {
        for (int seg = j0 / bs; seg <= p / bs; seg += touchBlocks) {
          const int segEnd = std::min(p / bs, seg + touchBlocks - 1);
          uint32_t sum = 0;
          for (int blk = seg; blk <= segEnd; blk++)
            forSlices(kOrV, blk, [&](const uint8_t* row, size_t bytes) { sum += touchLines(row, bytes); });
          keepAlive(sum);
          for (int blk = seg; blk <= segEnd; blk++) {
            int jb, je;
            const uint8_t* first = blockRows(kOrV, blk, jb, je);
            fn(jb, je, first);
          }
        }
      };
      for (int h0 = 0; h0 < group; h0 += kMaxAttnGroup) {  // query heads h0.. of each KV head, <= 8 at a time
        const int g = std::min(group - h0, kMaxAttnGroup);
        auto qOf = [&](int kvh) { return (size_t)t * c_.qDim() + (size_t)(kvh * group + h0) * hd; };  // [g][hd]
        forBlocks(0, [&](int jb, int je, const uint8_t* rows) {
          for (int kvh = kv0; kvh < kv1; kvh++) {
            float* sc = &scores[(size_t)(kvh - kv0) * g * ctx + jb];
            (f16 ? k_.dotRowsF16 : k_.dotRowsF32)(&q_[qOf(kvh)], rows + (size_t)kvh * hd * elt, rowBytes, je - jb + 1,
                                                  hd, g, sc, ctx);
          }
        });
        forSlices(1, j0 / bs, prefetchLines);  // V's first block, while the softmax runs
        float inv[kMaxAttnHeads];              // [run * g]
        for (int kvh = kv0; kvh < kv1; kvh++)
          for (int h = 0; h < g; h++) {
            const int r = (kvh - kv0) * g + h, head = kvh * group + h0 + h;
            float* sc = &scores[(size_t)r * ctx];
            for (int j = j0; j <= p; j++) {
              const float v = sc[j] * scale;
              sc[j] = cap > 0 ? std::tanh(v * (1.0f / cap)) * cap : v;
            }
            float m = -std::numeric_limits<float>::infinity();
            for (int j = j0; j <= p; j++) m = sc[j] > m ? sc[j] : m;
            if (sinks) m = std::max(m, sinks[head]);  // a sink: one more logit in the denominator, no value
            float sum = (float)k_.expShiftSum(sc + j0, sc + j0, p - j0 + 1, m);
            if (sinks) sum += std::exp(sinks[head] - m);
            inv[r] = 1.0f / sum;
            float* out = &att_[(size_t)t * c_.qDim() + (size_t)head * hd];
            for (int i = 0; i < hd; i++) out[i] = 0.f;
          }
        forBlocks(1, [&](int jb, int je, const uint8_t* rows) {
          for (int kvh = kv0; kvh < kv1; kvh++) {
            const int r0 = (kvh - kv0) * g;
            (f16 ? k_.axpyRowsF16 : k_.axpyRowsF32)(&att_[qOf(kvh)], &scores[(size_t)r0 * ctx + jb], ctx, &inv[r0],
                                                    rows + (size_t)kvh * hd * elt, rowBytes, je - jb + 1, hd, g);
          }
        });
      }
    }
  });
}

// x += residualScale * proj over [T][dim].
void Forward::addResidual(int T) {
  float* x = x_.data();
  const float* y = proj_.data();
  const float r = c_.residualScale;
  pool_.parallelFor(T * c_.dim, 4096, [&](int b, int e, int) {
    if (r == 1.0f) {
      for (int i = b; i < e; i++) x[i] += y[i];
    } else {
      for (int i = b; i < e; i++) x[i] += r * y[i];
    }
  });
}

void Forward::addBias(float* y, const float* bias, int T, int n) {
  if (!bias) return;
  for (int t = 0; t < T; t++)
    for (int i = 0; i < n; i++) y[(size_t)t * n + i] += bias[i];
}

// x += attention sub-layer of layer l over the T tokens (xb holds nothing on entry; x is the residual stream).
void Forward::attentionBlock(const StepInput& in, KvPool& kv, int l, int T) {
  const LayerWeights& L = w_.layers[(size_t)l];
  const int rope = c_.layers[(size_t)l].rope;
  rmsnorm(xb_.data(), x_.data(), L.attnNorm, T, c_.dim);
  lap(kOpNorm);
  const GemmJob qkv[] = {{q_.data(), &L.wq}, {k_buf_.data(), &L.wk}, {v_buf_.data(), &L.wv}};
  matmuls(xb_.data(), T, qkv, 3);
  lap(kOpQkv);
  addBias(q_.data(), L.bq, T, c_.qDim());
  addBias(k_buf_.data(), L.bk, T, c_.kvDim());
  addBias(v_buf_.data(), L.bv, T, c_.kvDim());
  if (L.qNorm) {  // per-head RMSNorm, in place: rows of headDim
    rmsnorm(q_.data(), q_.data(), L.qNorm, T * c_.nHeads, c_.headDim);
    rmsnorm(k_buf_.data(), k_buf_.data(), L.kNorm, T * c_.nKvHeads, c_.headDim);
  }
  if (rope >= 0) {
    this->rope(q_.data(), T, c_.nHeads, rope);
    this->rope(k_buf_.data(), T, c_.nKvHeads, rope);
  }
  storeKv(in, kv, l, T);
  lap(kOpRope);
  attention(in, kv, l, T);
  lap(kOpAttn);
  matmul(proj_.data(), att_.data(), T, L.wo);
  lap(kOpWo);
  addBias(proj_.data(), L.bo, T, c_.dim);
  if (L.attnPostNorm) rmsnorm(proj_.data(), proj_.data(), L.attnPostNorm, T, c_.dim);
  addResidual(T);
  lap(kOpResidual);
}

void Forward::gate(float* g, const float* u, int n) const {
  switch (c_.activation) {
    case Activation::GELU_TANH: {
      const float k0 = 0.79788456080286535588f, k1 = 0.044715f;  // sqrt(2/pi); the tanh approximation's cubic term
      for (int i = 0; i < n; i++) g[i] = 0.5f * g[i] * (1.0f + std::tanh(k0 * g[i] * (1.0f + k1 * g[i] * g[i]))) * u[i];
      break;
    }
    case Activation::SILU:
      k_.siluMul(g, u, n);
      break;
    case Activation::SWIGLU_OAI: {
      const float alpha = 1.702f, limit = 7.0f;  // llama.cpp's LLM_FFN_SWIGLU_OAI_MOE constants
      for (int i = 0; i < n; i++) {
        const float x = std::min(g[i], limit), y = std::clamp(u[i], -limit, limit);
        g[i] = x / (1.0f + std::exp(alpha * -x)) * (y + 1.0f);
      }
      break;
    }
  }
}

// x += gated FFN of layer L: (act(xb Wgate^T) * (xb Wup^T)) Wdown^T, act silu or gelu-tanh.
void Forward::denseFfn(const LayerWeights& L, int T) {
  rmsnorm(xb_.data(), x_.data(), L.ffnNorm, T, c_.dim);
  lap(kOpNorm);
  const GemmJob gateUp[] = {{hb_.data(), &L.wGate}, {hb2_.data(), &L.wUp}};
  matmuls(xb_.data(), T, gateUp, 2);
  lap(kOpGateUp);
  float* g = hb_.data();
  const float* u = hb2_.data();
  pool_.parallelFor(T * c_.hiddenDim, 4096, [&](int b, int e, int) { gate(g + b, u + b, e - b); });
  lap(kOpAct);
  matmul(proj_.data(), hb_.data(), T, L.wDown);
  lap(kOpDown);
  if (L.ffnPostNorm) rmsnorm(proj_.data(), proj_.data(), L.ffnPostNorm, T, c_.dim);
  addResidual(T);
  lap(kOpResidual);
}

// logits [rows][vocab] *= logitScale, then soft-capped: as llama.cpp's graph tail.
void Forward::finishLogits(float* logits, int rows) {
  const float s = c_.logitScale, cap = c_.finalSoftcap;
  if (s == 1.0f && cap == 0.0f) return;
  const size_t V = (size_t)c_.vocabSize;
  pool_.parallelFor(rows, 1, [&](int b, int e, int) {
    for (size_t i = (size_t)b * V; i < (size_t)e * V; i++) {
      float v = logits[i] * s;
      if (cap > 0) v = std::tanh(v * (1.0f / cap)) * cap;
      logits[i] = v;
    }
  });
}

void Forward::run(const StepInput& in, KvPool& kv, float* logits) {
  const int T = (int)in.tokens.size(), dim = c_.dim, half = c_.nRot / 2;
  if (prof_) lapStart_ = std::chrono::steady_clock::now();

  // Token bookkeeping and, per RoPE setting, each token's (cos, sin) (RopeSpec::cosSin: as llama.cpp's rope cache).
  for (size_t si = 0; si < in.seqs.size(); si++) {
    const StepSeq& s = in.seqs[si];
    for (int j = 0; j < s.nTokens; j++) {
      const int t = s.tokenStart + j;
      pos_[(size_t)t] = s.startPos + j;
      seqOf_[(size_t)t] = (int)si;
      for (size_t r = 0; r < c_.ropes.size(); r++) {
        const size_t at = (r * maxTokens_ + (size_t)t) * half;
        c_.ropes[r].cosSin(s.startPos + j, c_.nRot, &ropeCos_[at], &ropeSin_[at]);
      }
    }
  }

  for (int t = 0; t < T; t++) {
    float* xt = &x_[(size_t)t * dim];
    dequantizeRow(w_.tokenEmbd, in.tokens[(size_t)t], xt);
    if (c_.embedScale != 1.0f)
      for (int i = 0; i < dim; i++) xt[i] *= c_.embedScale;
  }

  lap(kOpEmbed);
  for (int l = 0; l < c_.nLayers; l++) {
    attentionBlock(in, kv, l, T);
    switch (c_.layers[(size_t)l].ffn) {
      case FfnKind::DENSE:
        denseFfn(w_.layers[(size_t)l], T);
        break;
      case FfnKind::MOE:
        moeFfn(w_.layers[(size_t)l], T);
        lap(kOpGateUp);  // the whole MoE FFN
        break;
    }
  }

  // Gather the last row of every sampling sequence, then one GEMM over those rows for the logits.
  int S = 0;
  for (const StepSeq& s : in.seqs) {
    if (!s.sample) continue;
    std::memcpy(&proj_[(size_t)S * dim], &x_[(size_t)(s.tokenStart + s.nTokens - 1) * dim], sizeof(float) * dim);
    S++;
  }
  if (S == 0) return;
  rmsnorm(xs_.data(), proj_.data(), w_.outputNorm, S, dim);
  matmul(logits, xs_.data(), S, w_.output);
  finishLogits(logits, S);
  lap(kOpHead);
}

void Forward::rowLogits(const int* rows, int n, float* out) {
  const int dim = c_.dim;
  for (int r = 0; r < n; r++) std::memcpy(&proj_[(size_t)r * dim], &x_[(size_t)rows[r] * dim], sizeof(float) * dim);
  rmsnorm(xs_.data(), proj_.data(), w_.outputNorm, n, dim);
  matmul(out, xs_.data(), n, w_.output);
  finishLogits(out, n);
}

// The rows each pooling sequence needs are gathered into proj_ (at most T of them), normed into xb_ in one
// pass, then reduced per sequence; sums run in double so a long prompt's mean does not drift with its length.
void Forward::pool(const StepInput& in, float* out) {
  const int dim = c_.dim;
  int* first = poolFirst_.data();
  int* count = poolCount_.data();
  int rows = 0, nPool = 0;
  for (const StepSeq& s : in.seqs) {
    if (s.pool == PoolRows::NONE) continue;
    const int src = s.pool == PoolRows::LAST ? s.tokenStart + s.nTokens - 1 : s.tokenStart;
    const int n = s.pool == PoolRows::SUM ? s.nTokens : 1;
    std::memcpy(&proj_[(size_t)rows * dim], &x_[(size_t)src * dim], sizeof(float) * dim * n);
    first[nPool] = rows;
    count[nPool] = n;
    rows += n;
    nPool++;
  }
  if (nPool == 0) return;
  rmsnorm(xb_.data(), proj_.data(), w_.outputNorm, rows, dim);
  pool_.parallelFor(nPool, 1, [&](int b, int e, int thread) {
    double* acc = &poolAcc_[(size_t)thread * dim];
    for (int q = b; q < e; q++) {
      const float* src = &xb_[(size_t)first[q] * dim];
      float* dst = out + (size_t)q * dim;
      if (count[q] == 1) {
        std::memcpy(dst, src, sizeof(float) * dim);
        continue;
      }
      for (int i = 0; i < dim; i++) acc[i] = 0.0;
      for (int j = 0; j < count[q]; j++)
        for (int i = 0; i < dim; i++) acc[i] += src[(size_t)j * dim + i];
      for (int i = 0; i < dim; i++) dst[i] = (float)acc[i];
    }
  });
}

}  // namespace loom
