// Thread-pool stress check: 200k parallel-fors of varied sizes on 3 threads; every index must run exactly
// once and no job may hang (the chunk-claim protocol of thread-pool.h). Built by tools/build-check.sh.
#include <cstdio>
#include <vector>
#include <atomic>
#include "../src/thread-pool.h"
int main() {
  loom::ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(5000);
  long bad = 0;
  for (int it = 0; it < 200000; it++) {
    int n = 1 + (it * 7919) % 300;
    for (int i = 0; i < n; i++) hits[i].store(0, std::memory_order_relaxed);
    pool.parallelFor(n, 1, [&](int b, int e, int) {
      for (int i = b; i < e; i++) hits[i].fetch_add(1, std::memory_order_relaxed);
    });
    for (int i = 0; i < n; i++)
      if (hits[i].load() != 1) bad++;
  }
  std::printf("bad=%ld\n", bad);
  return bad != 0;
}
