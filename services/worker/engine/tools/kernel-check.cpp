// Per-kernel-set GEMM check and timing, Node-free (and the exp / SiLU / attention kernels' accuracy): for f32 (row
// GEMM, and the packed-panel GEMM of the sets that have one, which must also give the same bits at T = 1 and T = 64 and
// over split panel ranges, on a row count that is not a whole number of panels), bf16 and q8_0 weights against f32
// activations, and every type with an integer block GEMM (kernels.h integerGemm: q8_0, q4_0, q4_1, q5_0, q5_1,
// q2_K..q6_K, iq4_nl, iq4_xs, mxfp4, weights from ggml's reference quantisers) against int8 activations (q8_0 / q8_1 /
// q8_K), every set this CPU supports is compared with a float64 product of the same (dequantised) weights and
// activations, and timed on one thread at T = 1 and T = 64 tokens.
// Fails when a set's error exceeds its bound: 1e-5 relative (f32/bf16 weights, f32-exact activations;
// avx512bf16 splits activations into two bf16 terms, which must stay inside it) or, with q8_0
// activations (rounded to 8 bits by design), 2e-2; and when avx512vnni's integer GEMMs differ in any
// bit from avx512's (the integer block dot is exact either way), or the packed q4_K GEMMs of the sets differ in any
// bit (exact int32 sums, then the same f32 operations per lane at any vector width). Error = max |y - ref| / max |ref|.
// Usage: kernel-check [N=1024] [K=1024] (K a multiple of 256 for the 256-value super-block types)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../src/ggml-types.h"
#include "../src/half.h"
#include "../src/kernels.h"
#include "../src/quant.h"

using namespace loom;

struct Weights {
  std::vector<uint8_t> bytes;
  size_t rowBytes;
  std::vector<double> deq;  // [N][K] dequantised
};

// N random rows in `type` (ggml's reference quantisers for the block types, quant.h), and their values.
static Weights make(uint32_t type, int N, int K, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.f, 0.05f);
  Weights w;
  w.rowBytes = ggmlRowBytes(ggmlTypeInfo(type), (uint64_t)K);
  w.bytes.resize(w.rowBytes * N);
  w.deq.resize((size_t)N * K);
  std::vector<float> row((size_t)K), back((size_t)K);
  for (int n = 0; n < N; n++) {
    for (float& f : row) f = nd(rng);
    uint8_t* dst = w.bytes.data() + (size_t)n * w.rowBytes;
    if (type == GGML_BF16) {
      for (int k = 0; k < K; k++) {
        uint32_t u;
        std::memcpy(&u, &row[k], 4);
        const uint16_t h = (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
        std::memcpy(dst + 2 * k, &h, 2);
      }
    } else {
      quantizeRow(type, row.data(), dst, K);
    }
    dequantRow(type, dst, back.data(), K);
    for (int k = 0; k < K; k++) w.deq[(size_t)n * K + k] = back[k];
  }
  return w;
}

int main(int argc, char** argv) {
  const int N = argc > 1 ? std::atoi(argv[1]) : 1024, K = argc > 2 ? std::atoi(argv[2]) : 1024;
  const int Tmax = 64;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> X((size_t)Tmax * K);
  for (float& x : X) x = nd(rng);
  std::printf("supported kernel sets: %s; N=%d K=%d, 1 thread\n", supportedKernels().c_str(), N, K);
  bool ok = true;
  std::map<std::string, std::vector<float>> q8q8;  // set -> Y, for the bitwise VNNI check
  std::vector<float> packedQ4K;                    // the first vector set's Y, for the bitwise check across sets
  std::string packedQ4KSet;
  // f32-activation GEMMs first, then every integer block GEMM (activations to q8_0), by GGML type.
  struct Case {
    uint32_t type;
    bool integer;
    bool packed = false;  // f32, q8_0 x q8_0, q4_K x q8_K: the packed-panel GEMM, N - 5 rows
  };
  std::vector<Case> cases = {{GGML_F32, false}, {GGML_F32, false, true}, {GGML_BF16, false}, {GGML_Q8_0, false}};
  for (uint32_t t = 0; t < 64; t++)
    if (integerGemm(scalarKernels(), t).gemm) cases.push_back({t, true});
  cases.push_back({GGML_Q8_0, true, true});
  cases.push_back({GGML_Q4_K, true, true});
  for (const Case& c : cases) {
    const std::string type = std::string(ggmlTypeInfo(c.type).name) + (c.integer ? "xq8" : "") + (c.packed ? "p" : "");
    if (K % (int)ggmlTypeInfo(c.type).blockElems != 0) {
      std::printf("%-9s skipped: K=%d is not a whole number of blocks\n", type.c_str(), K);
      continue;
    }
    const Weights w = make(c.type, N, K, rng);
    const int Np = N - 5, panels = (Np + kPanel - 1) / kPanel;
    std::vector<float> packed(c.packed && !c.integer ? packedF32Floats(Np, K) : 0);
    const bool q4k = c.type == GGML_Q4_K;
    std::vector<uint8_t> packedQ(c.packed && c.integer ? q4k ? packedQ4_KBytes(Np, K) : packedQ8_0Bytes(Np, K) : 0);
    if (c.packed && !c.integer) packF32Panels(w.bytes.data(), w.rowBytes, Np, K, packed.data(), 0, panels);
    if (c.packed && c.integer)
      (q4k ? packQ4_KPanels : packQ8_0Panels)(w.bytes.data(), w.rowBytes, Np, K, packedQ.data(), 0, panels);
    std::vector<double> ref((size_t)Tmax * N);
    double refMax = 0;
    for (int t = 0; t < Tmax; t++)
      for (int n = 0; n < N; n++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += w.deq[(size_t)n * K + k] * X[(size_t)t * K + k];
        ref[(size_t)t * N + n] = s;
        refMax = std::fmax(refMax, std::fabs(s));
      }
    std::stringstream sets(supportedKernels());
    for (std::string name; std::getline(sets, name, ',');) {
      const KernelSet& ks = selectKernels(name);
      const PackedQGemmFn packedQGemm = q4k ? ks.gemmPackedQ4_K : ks.gemmPackedQ8_0;
      if (c.packed && (c.integer ? !packedQGemm : !ks.gemmPackedF32)) continue;
      // The packed GEMM of sets that have one: f32 activations, or int8 ones (q8_0; q8_K for q4_K) quantised first.
      auto gemmPacked = [&](const float* x, float* y, int T, int p0, int p1) {
        if (!c.integer) return ks.gemmPackedF32(packed.data(), x, y, K, T, N, Np, p0, p1);
        const size_t xs = (size_t)(K / 32) * kQ8ActBytes;
        std::vector<uint8_t> xq((size_t)T * xs);
        for (int t = 0; t < T; t++)
          ks.quantizeActs[q4k ? kActQ8_K : kActQ8_0](x + (size_t)t * K, xq.data() + t * xs, K);
        packedQGemm(packedQ.data(), xq.data(), y, K, T, N, Np, p0, p1);
      };
      std::vector<uint8_t> Xq((size_t)Tmax * (K / 32) * kQ8ActBytes);
      std::vector<float> Y((size_t)Tmax * N);
      auto run = [&](int T) {
        if (c.packed) {
          gemmPacked(X.data(), Y.data(), T, 0, panels);
        } else if (c.integer) {
          const IntegerGemm q = integerGemm(ks, c.type);
          for (int t = 0; t < T; t++)
            ks.quantizeActs[q.acts](X.data() + (size_t)t * K, Xq.data() + (size_t)t * (K / 32) * kQ8ActBytes, K);
          q.gemm(w.bytes.data(), w.rowBytes, Xq.data(), Y.data(), K, T, N, 0, N);
        } else {
          const GemmFn fn = c.type == GGML_Q8_0 ? ks.gemmQ8_0 : floatGemm(ks, c.type);
          fn(w.bytes.data(), w.rowBytes, X.data(), Y.data(), K, T, N, 0, N);
        }
      };
      run(Tmax);
      double err = 0;
      for (int t = 0; t < Tmax; t++)
        for (int n = 0; n < (c.packed ? Np : N); n++)
          err = std::fmax(err, std::fabs(Y[(size_t)t * N + n] - ref[(size_t)t * N + n]));
      err /= refMax;
      const double bound = c.integer ? 2e-2 : 1e-5;
      if (c.integer && !c.packed) q8q8[type + "/" + name] = Y;
      if (c.packed && q4k && packedQ4K.empty()) packedQ4K = Y, packedQ4KSet = name;
      if (c.packed && q4k && Y != packedQ4K) {
        std::printf("%-9s %-11s BAD: differs from %s\n", type.c_str(), name.c_str(), packedQ4KSet.c_str());
        ok = false;
      }
      std::printf("%-9s %-11s err %.2e %s", type.c_str(), name.c_str(), err, err <= bound ? "ok " : "BAD");
      ok = ok && err <= bound;
      if (c.packed) {  // the determinism contract: T = 1 and split panel ranges give T = 64's bits
        const std::vector<float> all = Y;
        std::vector<float> y1((size_t)N), split((size_t)Tmax * N);
        gemmPacked(X.data() + (size_t)3 * K, y1.data(), 1, 0, panels);
        for (int p = 0; p < panels; p += 3) gemmPacked(X.data(), split.data(), Tmax, p, std::min(panels, p + 3));
        bool same = true;
        for (int t = 0; t < Tmax; t++)
          for (int n = 0; n < Np; n++) {
            const size_t i = (size_t)t * N + n;
            same = same && split[i] == all[i] && (t != 3 || y1[n] == all[i]);
          }
        std::printf(" %s", same ? "T/split-invariant" : "VARIES-WITH-T/SPLIT");
        ok = ok && same;
      }
      for (int T : {1, 64}) {
        const int reps = T == 1 ? 200 : 8;
        run(T);  // warm
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; r++) run(T);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("  T=%-2d %7.1f GFLOP/s", T, 2.0 * N * K * T * reps / s / 1e9);
      }
      std::printf("\n");
    }
    if (c.integer && !c.packed && q8q8.count(type + "/avx512vnni")) {
      const bool same = q8q8[type + "/avx512vnni"] == q8q8[type + "/avx512"];
      std::printf("%-9s avx512vnni %s avx512 bit for bit\n", type.c_str(), same ? "==" : "!=");
      ok = ok && same;
    }
  }
  // expShiftSum (softmax, the sampler's log Z): every value within 4e-7 relative of exp in double (absolute 4e-37 for
  // the tiny ones), the sum within 1e-6, over a vocabulary-sized row whose tail is not a whole vector, values down to
  // 120 below the shift.
  {
    const int n = 32000 + 5;
    std::vector<float> x((size_t)n), y((size_t)n);
    std::uniform_real_distribution<float> ud(-120.f, 0.f);
    for (float& v : x) v = ud(rng);
    x[7] = 0.f;
    std::stringstream sets(supportedKernels());
    for (std::string name; std::getline(sets, name, ',');) {
      const double sum = selectKernels(name).expShiftSum(y.data(), x.data(), n, 0.f);
      double ref = 0, err = 0;
      for (int i = 0; i < n; i++) {
        const double e = std::exp((double)x[i]);
        ref += e;
        err = std::fmax(err, std::fabs(y[i] - e) / std::fmax(e, 1e-30));  // below exp(-87): 1.6e-38 (kernels.h)
      }
      const double sumErr = std::fabs(sum - ref) / ref;
      const bool good = err <= 4e-7 && sumErr <= 1e-6;
      std::printf("exp       %-11s err %.2e, sum %.2e %s\n", name.c_str(), err, sumErr, good ? "ok" : "BAD");
      ok = ok && good;
    }
  }
  // siluMul: g / (1 + exp(-g)) * u within 1e-6 of the double value (relative to max(|value|, 1e-3)), g over +-100.
  {
    const int n = 4096 + 3;
    std::vector<float> g((size_t)n), u((size_t)n), y((size_t)n);
    std::uniform_real_distribution<float> ud(-100.f, 100.f), uu(-2.f, 2.f);
    for (int i = 0; i < n; i++) g[(size_t)i] = i < n / 2 ? ud(rng) / 25.f : ud(rng), u[(size_t)i] = uu(rng);
    std::stringstream sets(supportedKernels());
    for (std::string name; std::getline(sets, name, ',');) {
      y = g;
      selectKernels(name).siluMul(y.data(), u.data(), n);
      double err = 0;
      for (int i = 0; i < n; i++) {
        const double ref = (double)g[(size_t)i] / (1 + std::exp(-(double)g[(size_t)i])) * u[(size_t)i];
        err = std::fmax(err, std::fabs(y[(size_t)i] - ref) / std::fmax(std::fabs(ref), 1e-3));
      }
      std::printf("silu      %-11s err %.2e %s\n", name.c_str(), err, err <= 1e-6 ? "ok" : "BAD");
      ok = ok && err <= 1e-6;
    }
  }
  // Attention (dotRows / axpyRows) over f32 and f16 rows: within 1e-5 of double, and each (row, head) value the same
  // bits whether the rows come in one call or one per call and the heads as a group or one by one (kernels.h), for head
  // sizes with and without a scalar tail and row counts that are not a whole number of vectors.
  {
    const int n = 37, ld = 40, gMax = kMaxAttnGroup;
    std::stringstream sets(supportedKernels());
    for (std::string name; std::getline(sets, name, ',');) {
      const KernelSet& k = selectKernels(name);
      double err = 0;
      bool same = true;
      for (bool f16 : {false, true})
        for (int hd : {48, 64, 72})
          for (int g : {1, 3, gMax}) {
            const size_t elt = f16 ? 2 : 4, stride = (size_t)(gMax * hd + 5) * elt;
            std::vector<uint8_t> rows((size_t)n * stride);
            std::vector<double> rv((size_t)n * hd);  // row values as stored
            for (int r = 0; r < n; r++)
              for (int i = 0; i < hd; i++) {
                const float v = nd(rng);
                uint8_t* at = &rows[(size_t)r * stride + (size_t)i * elt];
                if (f16) {
                  const uint16_t h = loom_f32_to_f16(v);
                  std::memcpy(at, &h, 2);
                  rv[(size_t)r * hd + i] = loom_f16_to_f32(h);
                } else {
                  std::memcpy(at, &v, 4);
                  rv[(size_t)r * hd + i] = v;
                }
              }
            std::vector<float> q((size_t)g * hd), a((size_t)g * ld), inv((size_t)g), out0((size_t)g * hd);
            for (float& v : q) v = nd(rng);
            for (float& v : a) v = std::fabs(nd(rng));
            for (float& v : inv) v = 0.5f + std::fabs(nd(rng));
            for (float& v : out0) v = nd(rng);
            auto dot = f16 ? k.dotRowsF16 : k.dotRowsF32;
            auto axpy = f16 ? k.axpyRowsF16 : k.axpyRowsF32;
            std::vector<float> d1((size_t)g * ld), d2 = d1, d3 = d1;
            dot(q.data(), rows.data(), stride, n, hd, g, d1.data(), ld);
            for (int r = 0; r < n; r++) dot(q.data(), &rows[(size_t)r * stride], stride, 1, hd, g, &d2[(size_t)r], ld);
            for (int h = 0; h < g; h++) dot(&q[(size_t)h * hd], rows.data(), stride, n, hd, 1, &d3[(size_t)h * ld], ld);
            std::vector<float> o1 = out0, o2 = out0, o3 = out0;
            axpy(o1.data(), a.data(), ld, inv.data(), rows.data(), stride, n, hd, g);
            for (int r = 0; r < n; r++)
              axpy(o2.data(), &a[(size_t)r], ld, inv.data(), &rows[(size_t)r * stride], stride, 1, hd, g);
            for (int h = 0; h < g; h++)
              axpy(&o3[(size_t)h * hd], &a[(size_t)h * ld], ld, &inv[(size_t)h], rows.data(), stride, n, hd, 1);
            same = same && d1 == d2 && d1 == d3 && o1 == o2 && o1 == o3;
            double dMax = 0, dErr = 0, oMax = 0, oErr = 0;
            for (int h = 0; h < g; h++) {
              for (int r = 0; r < n; r++) {
                double ref = 0;
                for (int i = 0; i < hd; i++) ref += (double)q[(size_t)h * hd + i] * rv[(size_t)r * hd + i];
                dMax = std::fmax(dMax, std::fabs(ref));
                dErr = std::fmax(dErr, std::fabs(d1[(size_t)h * ld + r] - ref));
              }
              for (int i = 0; i < hd; i++) {
                double ref = out0[(size_t)h * hd + i];
                for (int r = 0; r < n; r++)
                  ref += (double)a[(size_t)h * ld + r] * inv[(size_t)h] * rv[(size_t)r * hd + i];
                oMax = std::fmax(oMax, std::fabs(ref));
                oErr = std::fmax(oErr, std::fabs(o1[(size_t)h * hd + i] - ref));
              }
            }
            err = std::fmax(err, std::fmax(dErr / dMax, oErr / oMax));
          }
      const bool good = err <= 1e-5 && same;
      std::printf("attention %-11s err %.2e, %s %s\n", name.c_str(), err,
                  same ? "split-invariant" : "VARIES-WITH-SPLIT", good ? "ok" : "BAD");
      ok = ok && good;
    }
  }
  if (supportedKernels().find("avx512vnni") == std::string::npos)
    std::printf("avx512vnni not supported here: VNNI bitwise check skipped\n");
  std::printf(ok ? "OK\n" : "FAIL\n");
  return ok ? 0 : 1;
}
