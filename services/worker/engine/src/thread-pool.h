// Persistent worker threads and a blocking parallel-for. The calling thread works too, so a pool of
// n threads starts n-1 helpers. One parallelFor runs at a time (the engine runs one step at a time).
// A forward pass is ~10 parallel-fors per layer, so hand-off latency matters: helpers spin briefly on
// the job word before sleeping on the condition variable, and the caller spins for completion.
//
// Robust to a busy machine: the caller waits for the job's *chunks* to be done, not for every helper to
// check in, so a helper the OS has not scheduled never stalls a step; the caller simply does its share.
// Chunks are claimed by compare-and-swap on one 64-bit word [job id:32][chunk count:16][next chunk:16]:
// the bound check and the claim are one atomic step, so a helper that wakes late with a stale job id can
// never claim (or run) a chunk of a newer job, nor a phantom chunk while the caller sets up the next one.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
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
    run(
        n, grain, [](const void* ctx, int b, int e, int t) { (*static_cast<const F*>(ctx))(b, e, t); }, &f);
  }

 private:
  using Trampoline = void (*)(const void* ctx, int begin, int end, int thread);
  void run(int n, int grain, Trampoline fn, const void* ctx);
  void workerLoop(int index);
  // Claims and runs chunks of job `job` until none are left; false if the job was already over.
  void drain(uint32_t job, int thread);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};    // helpers blocked on wake_ (notify only when > 0)
  std::atomic<uint64_t> claim_{0};  // [job id:32][chunks:16][next chunk:16]; its store publishes the job fields
  std::atomic<int> done_{0};        // chunks of the current job finished
  // The current job: written by the caller only while no chunk of the previous job can still be claimed.
  Trampoline fn_ = nullptr;
  const void* ctx_ = nullptr;
  int n_ = 0, chunk_ = 1;
  uint32_t job_ = 0;
};

}  // namespace loom
