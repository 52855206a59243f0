// Memory bandwidth of this machine, measured: the ceiling for B=1 decode, which reads every weight once per
// token. Each thread streams its own slice of a buffer far larger than the caches; best of several passes.
// read: bytes read per second (a sum over 64-bit words, which the compiler vectorises); copy: memcpy,
// bytes read + bytes written per second (STREAM's convention). Built by build.mjs with base flags.
// Usage: mem-bandwidth [threads=hardware] [MiB=512]  → one JSON line {"threads","mib","readGBps","copyGBps"}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

uint64_t sumWords(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  return a + b + c + d;
}

// Runs job(t) on `threads` threads started together; returns the wall seconds of the slowest.
template <class Job>
double timed(int threads, Job job) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++)
    ts.emplace_back([&, t] {
      ready++;
      while (!go.load()) {
      }
      job(t);
    });
  while (ready.load() != threads) {
  }
  const auto t0 = Clock::now();
  go = true;
  for (auto& t : ts) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int threads =
      argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : (int)std::thread::hardware_concurrency();
  const size_t mib = argc > 2 && std::atoi(argv[2]) > 0 ? (size_t)std::atoi(argv[2]) : 512;
  const size_t bytes = mib << 20, words = bytes / 8, slice = words / threads;
  std::vector<uint64_t> src(words, 1), dst(words, 0);  // touched here, so no page faults are timed
  std::vector<uint64_t> sums(threads);
  double bestRead = 0, bestCopy = 0;
  for (int pass = 0; pass < 5; pass++) {
    const double r = timed(threads, [&](int t) { sums[t] = sumWords(src.data() + t * slice, slice); });
    bestRead = std::max(bestRead, (double)(slice * threads * 8) / r);
    const double c =
        timed(threads, [&](int t) { std::memcpy(dst.data() + t * slice, src.data() + t * slice, slice * 8); });
    bestCopy = std::max(bestCopy, 2.0 * (double)(slice * threads * 8) / c);
  }
  uint64_t sink = dst[words / 2];
  for (uint64_t s : sums) sink += s;
  if (sink == 12345) std::puts("");  // keeps the reads alive
  std::printf("{\"threads\":%d,\"mib\":%zu,\"readGBps\":%.2f,\"copyGBps\":%.2f}\n", threads, mib, bestRead / 1e9,
              bestCopy / 1e9);
  return 0;
}
