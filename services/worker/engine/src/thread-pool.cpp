#include "thread-pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() {}
#endif

namespace loom {

namespace {
// ~50-100 us of pause instructions: long enough to bridge two parallel-fors of one forward pass,
// short enough not to burn a core between steps.
constexpr int kSpins = 2000;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  size_ = threads > 0 ? threads : (int)std::thread::hardware_concurrency();
  if (size_ <= 0) size_ = 1;
  for (int i = 1; i < size_; i++) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::drain(int thread) {
  for (;;) {
    const int b = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (b >= n_) return;
    fn_(ctx_, b, b + chunk_ < n_ ? b + chunk_ : n_, thread);
  }
}

void ThreadPool::run(int n, int grain, Trampoline fn, const void* ctx) {
  // About 4 chunks per thread balances uneven rows without much atomic traffic.
  int chunk = (n + size_ * 4 - 1) / (size_ * 4);
  if (chunk < grain) chunk = grain;
  if (chunk < 1) chunk = 1;
  if (size_ == 1 || chunk >= n) {
    fn(ctx, 0, n, 0);
    return;
  }
  // No helper is inside a job here (busy_ reached 0), so the job fields can be written; the release
  // increment of generation_ publishes them to helpers that acquire it.
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  busy_.store((int)workers_.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lk(mu_);  // pairs with the predicate check of sleeping helpers
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  drain(0);
  for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; spins++) {
    if (spins < kSpins * 8) cpuRelax();
    else std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) && spins < kSpins) {
      cpuRelax();
      spins++;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      wake_.wait(lk, [&] { return stop_.load() || generation_.load(std::memory_order_acquire) != seen; });
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    drain(index);
    busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace loom
