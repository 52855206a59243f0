// Persistent worker threads and a blocking parallel-for. The calling thread works too, so a pool of
// n threads starts n-1 helpers. One parallelFor runs at a time (the engine runs one step at a time).
// A forward pass is ~10 parallel-fors per layer, so hand-off latency matters: helpers spin briefly on
// the job generation before sleeping on the condition variable, and the caller spins for completion.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace loom {

class ThreadPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Calls f(begin, end, threadIndex) over disjoint chunks covering [0, n), `grain` items per chunk at
  // least, and returns when all are done. threadIndex < size() identifies per-thread scratch.
  template <class F>
  void parallelFor(int n, int grain, const F& f) {
    if (n <= 0) return;
    run(n, grain, [](const void* ctx, int b, int e, int t) { (*static_cast<const F*>(ctx))(b, e, t); }, &f);
  }

 private:
  using Trampoline = void (*)(const void* ctx, int begin, int end, int thread);
  void run(int n, int grain, Trampoline fn, const void* ctx);
  void workerLoop(int index);
  void drain(int thread);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};  // bumped (release) after the job fields are set
  std::atomic<int> busy_{0};             // helpers still inside the current job
  // The current job (valid while a parallelFor is running).
  Trampoline fn_ = nullptr;
  const void* ctx_ = nullptr;
  int n_ = 0, chunk_ = 1;
  std::atomic<int> next_{0};
};

}  // namespace loom
