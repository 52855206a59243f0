// Stand-alone check of the engine without Node: greedy-generates from a prompt with every kernel set
// this CPU supports (both KV types), prints the ids and the decode speed, and exits 1 if any set's
// tokens differ from the scalar reference. Useful on machines without Node (e.g. to exercise AVX-512).
// Build: see services/worker/engine/README.md. Usage: engine-check MODEL.gguf [nTokens] [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "../src/engine.h"

using namespace loom;

static std::vector<int> generate(const std::string& path, const std::string& kernels, KvType kv, int n, int threads,
                                 double* tokPerSec) {
  EngineOptions o;
  o.kernels = kernels;
  o.kvType = kv;
  o.threads = threads;
  Engine e(path, o);
  e.initKv(64, 16, 256, 4);
  std::vector<int> all = {1, 403, 407, 261, 378};
  std::vector<int> out;
  int fed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while ((int)out.size() < n) {
    StepInput& in = e.input();
    in.clear();
    StepSeq s;
    s.tokenStart = 0;
    s.nTokens = (int)all.size() - fed;
    s.startPos = fed;
    s.blockTableLen = (int)(all.size() + 15) / 16;
    s.sample = true;
    for (int i = fed; i < (int)all.size(); i++) in.tokens.push_back(all[(size_t)i]);
    for (int b = 0; b < s.blockTableLen; b++) in.blockTables.push_back(63 - b);
    in.seqs.push_back(s);
    e.step();
    fed = (int)all.size();
    out.push_back(e.output().tokens[0]);
    all.push_back(out.back());
  }
  *tokPerSec = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [nTokens=60] [threads=0]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? std::atoi(argv[2]) : 60;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 0;
  std::printf("supported kernel sets: %s\n", supportedKernels().c_str());
  std::vector<int> ref;
  bool ok = true;
  std::stringstream sets(supportedKernels());
  for (std::string k; std::getline(sets, k, ',');) {
    for (KvType kv : {KvType::F16, KvType::F32}) {
      double tps = 0;
      std::vector<int> ids;
      try {
        ids = generate(argv[1], k, kv, n, threads, &tps);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "error: %s\n", ex.what());
        return 1;
      }
      if (ref.empty()) ref = ids;
      const bool same = ids == ref;
      ok = ok && same;
      std::printf("%-7s kv=%s %s %.0f tok/s:", k.c_str(), kv == KvType::F16 ? "f16" : "f32", same ? "SAME" : "DIFF",
                  tps);
      for (int t : ids) std::printf(" %d", t);
      std::printf("\n");
    }
  }
  std::printf(ok ? "OK: all kernel sets agree\n" : "FAIL: kernel sets disagree\n");
  return ok ? 0 : 1;
}
