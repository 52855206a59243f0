#include "thread-pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() {}
#endif

namespace loom {

namespace {
// How long a helper spins on the job word before it sleeps: 20000 pauses, ~0.55 ms on this project's bench box
// (27 ns a pause in its VM). Long enough to bridge the gap between two steps driven from Node (~0.15-0.25 ms: the
// N-API hand-off and the JS loop) as well as two parallel-fors of one step: a helper that slept through that gap
// has to be woken by the first parallel-for of the next step (a futex wake, and in a VM a halted vCPU's), which
// measured as ~0.3-0.5 ms more per B=1 step (stories15M q8_0, 0.77-0.96 ms a step with this value against
// 1.18-1.66 ms with 2000 pauses, ~55 us). An idle engine burns at most this once after its last step.
constexpr int kSpins = 20000;
// How long the caller spins for the last chunks of its job before it yields the core between polls.
constexpr int kWaitSpins = 16000;
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

void ThreadPool::drain(uint32_t job, int thread) {
  uint64_t cur = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((uint32_t)(cur >> 32) != job) return;  // a newer job (or none): nothing of ours left
    const uint32_t idx = (uint32_t)cur & 0xffff, count = (uint32_t)(cur >> 16) & 0xffff;
    if (idx >= count) return;
    if (!claim_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // Chunk idx of `job` is ours and not done, so the caller is still waiting and the fields are `job`'s.
    const int b = (int)idx * chunk_;
    fn_(ctx_, b, b + chunk_ < n_ ? b + chunk_ : n_, thread);
    done_.fetch_add(1, std::memory_order_release);
    cur = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(int n, int grain, Trampoline fn, const void* ctx) {
  // About 4 chunks per thread balances uneven rows without much atomic traffic.
  int chunk = (n + size_ * 4 - 1) / (size_ * 4);
  if (chunk < grain) chunk = grain;
  if (chunk < 1) chunk = 1;
  if ((n + chunk - 1) / chunk > 0xffff) chunk = (n + 0xfffe) / 0xffff;  // the chunk count fits 16 bits
  if (size_ == 1 || chunk >= n) {
    fn(ctx, 0, n, 0);
    return;
  }
  // Every chunk of the previous job is done, so no helper can be inside it or claim from it: the job
  // fields are free to write. The release store of claim_ publishes them with the new job id.
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  chunk_ = chunk;
  const int nChunks = (n + chunk - 1) / chunk;
  job_++;
  done_.store(0, std::memory_order_relaxed);
  // seq_cst store then seq_cst load of sleepers_, against the helper's seq_cst increment then load of
  // claim_: one of the two sides sees the other, so no helper sleeps through a job (Dekker).
  claim_.store((uint64_t)job_ << 32 | (uint64_t)nChunks << 16, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(mu_);  // pairs with the predicate check of sleeping helpers
    wake_.notify_all();
  }
  drain(job_, 0);
  for (int spins = 0; done_.load(std::memory_order_acquire) != nChunks; spins++) {
    if (spins < kWaitSpins)
      cpuRelax();
    else
      std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(int index) {
  uint32_t seen = 0;  // last job id this helper drained
  auto pending = [&] { return (uint32_t)(claim_.load(std::memory_order_seq_cst) >> 32) != seen; };
  for (;;) {
    for (int spins = 0; !pending() && !stop_.load(std::memory_order_relaxed) && spins < kSpins; spins++) cpuRelax();
    if (!pending() && !stop_.load()) {
      std::unique_lock<std::mutex> lk(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lk, [&] { return stop_.load() || pending(); });
      sleepers_.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (stop_.load()) return;
    seen = (uint32_t)(claim_.load(std::memory_order_acquire) >> 32);
    drain(seen, index);
  }
}

}  // namespace loom
