// Node-free speed probe: times one prefill of P tokens and D decode steps of B sequences on MODEL with
// the kernel set from LOOM_KERNELS (default: best). Prints tokens/s; compare runs on the same machine only.
// Build with tools/build-check.sh. Usage: engine-bench MODEL.gguf [P=128] [B=8] [D=16] [threads=0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../src/engine.h"

using namespace loom;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [P=128] [B=8] [D=16] [threads=0]\n", argv[0]);
    return 2;
  }
  const int P = argc > 2 ? std::atoi(argv[2]) : 128, B = argc > 3 ? std::atoi(argv[3]) : 8,
            D = argc > 4 ? std::atoi(argv[4]) : 16;
  EngineOptions o;
  o.threads = argc > 5 ? std::atoi(argv[5]) : 0;
  const char* k = std::getenv("LOOM_KERNELS");
  o.kernels = k ? k : "";
  Engine e(argv[1], o);
  const int bs = 16, perSeq = (P + D + bs - 1) / bs;
  e.initKv(perSeq * B, bs, P > B ? P : B, B);
  auto seqStep = [&](int b, int startPos, int n) {
    StepSeq s;
    s.tokenStart = (int)e.input().tokens.size();
    s.nTokens = n;
    s.startPos = startPos;
    s.blockTableStart = (int)e.input().blockTables.size();
    s.blockTableLen = perSeq;
    s.sample = true;
    for (int i = 0; i < n; i++) e.input().tokens.push_back(3 + (startPos + i) * 7 % 200);
    for (int i = 0; i < perSeq; i++) e.input().blockTables.push_back(b * perSeq + i);
    e.input().seqs.push_back(s);
  };
  double prefill = 0;
  for (int b = 0; b < B; b++) {
    e.input().clear();
    seqStep(b, 0, P);
    const auto t0 = Clock::now();
    e.step();
    if (b == 0) prefill = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  auto decode = [&](int nSeqs) {
    const auto t0 = Clock::now();
    for (int d = 0; d < D; d++) {
      e.input().clear();
      for (int b = 0; b < nSeqs; b++) seqStep(b, P + d, 1);
      e.step();
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const double d1 = decode(1), dB = decode(B);
  std::printf("kernels %s, %d threads, dim %d, %d layers, weights %s\n", e.kernelsName(), e.threads(), e.config().dim,
              e.config().nLayers, e.weightTypeName());
  std::printf("prefill %d tokens: %.1f tok/s\n", P, P / prefill);
  std::printf("decode 1 seq: %.1f tok/s; %d seqs: %.1f tok/s\n", D / d1, B, D * B / dB);
  return 0;
}
