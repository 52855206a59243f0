#include "thread-pool.h"

namespace loom {

ThreadPool::ThreadPool(int threads) {
  size_ = threads > 0 ? threads : (int)std::thread::hardware_concurrency();
  if (size_ <= 0) size_ = 1;
  for (int i = 1; i < size_; i++) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
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
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    chunk_ = chunk;
    next_.store(0, std::memory_order_relaxed);
    busy_ = (int)workers_.size();
    generation_++;
  }
  wake_.notify_all();
  drain(0);
  std::unique_lock<std::mutex> lk(mu_);
  done_.wait(lk, [this] { return busy_ == 0; });
}

void ThreadPool::workerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      wake_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(index);
    std::lock_guard<std::mutex> lk(mu_);
    if (--busy_ == 0) done_.notify_one();
  }
}

}  // namespace loom
