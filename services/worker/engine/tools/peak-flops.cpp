// Peak fp32 FLOP/s of this machine, measured: every thread runs independent FMA chains held in registers
// (no memory traffic), so the figure is what the FMA units can do, the ceiling for any GEMM. Used by
// `npm run bench:engine` to say what share of the peak Loom and llama.cpp reach. Built by build.mjs with
// base flags; the AVX2 and AVX-512 bodies carry their own target attributes and run only where CPUID has them.
// Usage: peak-flops [threads=hardware] [seconds=0.3]  → one JSON line {"isa","threads","gflops"}.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;       // > FMA latency (4-5 cycles) x FMA ports (2): keeps both ports busy
constexpr long kInner = 1 << 14;  // FMAs per chain between clock checks

// Returns FLOPs done: each FMA lane = 2 FLOPs.
__attribute__((target("avx2,fma"))) double fmaAvx2(long rounds, float seed) {
  __m256 acc[kChains];
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < kChains; i++) acc[i] = _mm256_set1_ps(seed + i);
  for (long r = 0; r < rounds; r++)
    for (long k = 0; k < kInner; k++) {
#pragma GCC unroll 16
      for (int i = 0; i < kChains; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
  float sink = 0;
  for (int i = 0; i < kChains; i++) sink += _mm256_cvtss_f32(acc[i]);
  if (sink == 12345.f) std::puts("");  // keep the chains alive
  return 2.0 * 8 * kChains * kInner * (double)rounds;
}

__attribute__((target("avx512f"))) double fmaAvx512(long rounds, float seed) {
  __m512 acc[kChains];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(seed + i);
  for (long r = 0; r < rounds; r++)
    for (long k = 0; k < kInner; k++) {
#pragma GCC unroll 16
      for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
  float sink = 0;
  for (int i = 0; i < kChains; i++) sink += _mm512_reduce_add_ps(acc[i]);
  if (sink == 12345.f) std::puts("");
  return 2.0 * 16 * kChains * kInner * (double)rounds;
}

using Clock = std::chrono::steady_clock;

// All threads start together and run a fixed number of rounds calibrated to ~seconds on thread 0.
double measure(double (*fn)(long, float), int threads, double seconds) {
  long rounds = 1;
  for (;;) {  // calibrate single-threaded
    const auto t0 = Clock::now();
    fn(rounds, 1.f);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (dt > 0.02) {
      rounds = std::max(1L, (long)(rounds * seconds / dt));
      break;
    }
    rounds *= 2;
  }
  double best = 0;
  for (int trial = 0; trial < 3; trial++) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> flops(threads);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
      ts.emplace_back([&, t] {
        ready++;
        while (!go.load()) {
        }
        flops[t] = fn(rounds, 1.f + t);
      });
    while (ready.load() != threads) {
    }
    const auto t0 = Clock::now();
    go = true;
    for (auto& t : ts) t.join();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / dt);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads =
      argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : (int)std::thread::hardware_concurrency();
  const double seconds = argc > 2 ? std::atof(argv[2]) : 0.3;
  const char* isa = "avx2";
  double flops = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) flops = measure(fmaAvx2, threads, seconds);
  if (__builtin_cpu_supports("avx512f")) {
    const double f = measure(fmaAvx512, threads, seconds);
    if (f > flops) {
      flops = f;
      isa = "avx512";
    }
  }
  if (flops == 0) isa = "none";
  std::printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.2f}\n", isa, threads, flops / 1e9);
  return 0;
}
