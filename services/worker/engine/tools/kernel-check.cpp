// Per-kernel-set GEMM check and timing, Node-free: for f32, bf16 and q8_0 weights (q8_0 both against f32
// activations and against q8_0-quantised ones) and q4_0 / q4_K / q6_K weights (against q8_0-quantised
// activations, the integer GEMM) every set this CPU supports is compared with a float64
// product of the same weights and activations, and timed on one thread at T = 1 and T = 64 tokens.
// Fails when a set's error exceeds its bound: 1e-5 relative (f32/bf16 weights, f32-exact activations;
// avx512bf16 splits activations into two bf16 terms, which must stay inside it) or, with q8_0
// activations (rounded to 8 bits by design), 2e-2; and when avx512vnni's integer GEMMs differ in any
// bit from avx512's (the integer block dot is exact either way). Error = max |y - ref| / max |ref| per case.
// Usage: kernel-check [N=1024] [K=1024]
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

static Weights make(const char* type, int N, int K, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.f, 0.05f);
  Weights w;
  w.deq.resize((size_t)N * K);
  if (!strcmp(type, "f32")) {
    w.rowBytes = (size_t)K * 4;
    w.bytes.resize(w.rowBytes * N);
    float* p = reinterpret_cast<float*>(w.bytes.data());
    for (size_t i = 0; i < (size_t)N * K; i++) w.deq[i] = p[i] = nd(rng);
  } else if (!strcmp(type, "bf16")) {
    w.rowBytes = (size_t)K * 2;
    w.bytes.resize(w.rowBytes * N);
    uint16_t* p = reinterpret_cast<uint16_t*>(w.bytes.data());
    for (size_t i = 0; i < (size_t)N * K; i++) {
      const float f = nd(rng);
      uint32_t u;
      std::memcpy(&u, &f, 4);
      p[i] = (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
      w.deq[i] = loom_bf16_to_f32(p[i]);
    }
  } else if (!strcmp(type, "q4_0") || !strcmp(type, "q4_K") || !strcmp(type, "q6_K")) {
    // ggml's reference quantisers (quant.h), and their dequantised values as the reference weights.
    const uint32_t t = !strcmp(type, "q4_0") ? GGML_Q4_0 : !strcmp(type, "q4_K") ? GGML_Q4_K : GGML_Q6_K;
    w.rowBytes = (size_t)K / 32 * 18;
    if (t != GGML_Q4_0) w.rowBytes = (size_t)K / 256 * (t == GGML_Q4_K ? 144 : 210);
    w.bytes.resize(w.rowBytes * N);
    std::vector<float> row((size_t)K), back((size_t)K);
    for (int n = 0; n < N; n++) {
      for (float& f : row) f = nd(rng);
      uint8_t* dst = w.bytes.data() + (size_t)n * w.rowBytes;
      quantizeRow(t, row.data(), dst, K);
      dequantRow(t, dst, back.data(), K);
      for (int k = 0; k < K; k++) w.deq[(size_t)n * K + k] = back[k];
    }
  } else {  // q8_0
    w.rowBytes = (size_t)K / 32 * 34;
    w.bytes.resize(w.rowBytes * N);
    std::vector<float> row((size_t)K);
    std::vector<uint8_t> act((size_t)K / 32 * kQ8ActBytes);
    for (int n = 0; n < N; n++) {
      for (float& f : row) f = nd(rng);
      uint8_t* dst = w.bytes.data() + (size_t)n * w.rowBytes;
      // The activation quantiser's blocks are [d][sum][32 q]; a q8_0 weight block is [d][32 q].
      scalarKernels().quantizeQ8_0(row.data(), act.data(), K);
      for (int b = 0; b < K / 32; b++) {
        std::memcpy(dst + b * 34, act.data() + (size_t)b * kQ8ActBytes, 2);
        std::memcpy(dst + b * 34 + 2, act.data() + (size_t)b * kQ8ActBytes + 4, 32);
      }
      for (int b = 0; b < K / 32; b++) {
        uint16_t d;
        std::memcpy(&d, dst + b * 34, 2);
        for (int i = 0; i < 32; i++)
          w.deq[(size_t)n * K + b * 32 + i] = (double)loom_f16_to_f32(d) * (int8_t)dst[b * 34 + 2 + i];
      }
    }
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
  for (const char* type : {"f32", "bf16", "q8_0", "q8_0xq8", "q4_0", "q4_K", "q6_K"}) {
    // Every type but f32/bf16/q8_0 runs against q8_0-quantised activations (the integer GEMM).
    const bool qq = strcmp(type, "f32") && strcmp(type, "bf16") && strcmp(type, "q8_0");
    const Weights w = make(!strcmp(type, "q8_0xq8") ? "q8_0" : type, N, K, rng);
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
      std::vector<uint8_t> Xq((size_t)Tmax * (K / 32) * kQ8ActBytes);
      std::vector<float> Y((size_t)Tmax * N);
      auto run = [&](int T) {
        if (qq) {
          for (int t = 0; t < T; t++)
            ks.quantizeQ8_0(X.data() + (size_t)t * K, Xq.data() + (size_t)t * (K / 32) * kQ8ActBytes, K);
          const auto gemm = !strcmp(type, "q4_0")   ? ks.gemmQ4_0Q8
                            : !strcmp(type, "q4_K") ? ks.gemmQ4_KQ8
                            : !strcmp(type, "q6_K") ? ks.gemmQ6_KQ8
                                                    : ks.gemmQ8_0Q8;
          gemm(w.bytes.data(), w.rowBytes, Xq.data(), Y.data(), K, T, N, 0, N);
        } else {
          const GemmFn fn = !strcmp(type, "f32") ? ks.gemmF32 : !strcmp(type, "bf16") ? ks.gemmBF16 : ks.gemmQ8_0;
          fn(w.bytes.data(), w.rowBytes, X.data(), Y.data(), K, T, N, 0, N);
        }
      };
      run(Tmax);
      double err = 0;
      for (size_t i = 0; i < Y.size(); i++) err = std::fmax(err, std::fabs(Y[i] - ref[i]));
      err /= refMax;
      const double bound = qq ? 2e-2 : 1e-5;
      if (qq) q8q8[std::string(type) + "/" + name] = Y;
      std::printf("%-8s %-11s err %.2e %s", type, name.c_str(), err, err <= bound ? "ok " : "BAD");
      ok = ok && err <= bound;
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
  }
  if (q8q8.count("q8_0xq8/avx512vnni")) {
    for (const char* type : {"q8_0xq8", "q4_0", "q4_K", "q6_K"}) {
      const bool same = q8q8[std::string(type) + "/avx512vnni"] == q8q8[std::string(type) + "/avx512"];
      std::printf("%s avx512vnni %s avx512 bit for bit\n", type, same ? "==" : "!=");
      ok = ok && same;
    }
  } else {
    std::printf("avx512vnni not supported here: VNNI bitwise check skipped\n");
  }
  std::printf(ok ? "OK\n" : "FAIL\n");
  return ok ? 0 : 1;
}
