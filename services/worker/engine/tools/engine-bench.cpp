// Node-free speed probe: times one prefill of P tokens and D decode steps of B sequences on MODEL with
// the kernel set from LOOM_KERNELS (default: best). Prints tokens/s, and per phase where the forward pass's wall
// time goes by op (Forward::profile timers, so the share of each op without perf); compare runs on the same
// machine only. Build with tools/build-check.sh. Usage: engine-bench MODEL.gguf [P=128] [B=8] [D=16] [threads=0]
// [blockSize=16] [prefillTokens=P]: the B prompts are prefilled floor(prefillTokens / P) to a step (at least one), as
// bench:engine packs them into steps of up to 2048 tokens; the prefill row is per prefill step, over all of them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../src/engine.h"

using namespace loom;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [P=128] [B=8] [D=16] [threads=0] [blockSize=16] [prefillTokens=P]\n",
                 argv[0]);
    return 2;
  }
  const int P = argc > 2 ? std::atoi(argv[2]) : 128, B = argc > 3 ? std::atoi(argv[3]) : 8,
            D = argc > 4 ? std::atoi(argv[4]) : 16;
  EngineOptions o;
  o.threads = argc > 5 ? std::atoi(argv[5]) : 0;
  const char* k = std::getenv("LOOM_KERNELS");
  o.kernels = k ? k : "";
  Engine e(argv[1], o);
  const int bs = argc > 6 ? std::atoi(argv[6]) : 16, perSeq = (P + D + bs - 1) / bs;
  const int perStep = std::max(1, std::min(B, (argc > 7 ? std::atoi(argv[7]) : P) / P));  // prompts per prefill step
  e.initKv(perSeq * B, bs, std::max(perStep * P, B), B);
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
  double ops[3][Forward::kOpCount] = {};  // prefill, decode 1, decode B
  e.profile(ops[0]);
  int prefillSteps = 0;
  const auto p0 = Clock::now();
  for (int b0 = 0; b0 < B; b0 += perStep, prefillSteps++) {
    e.input().clear();
    for (int b = b0; b < std::min(B, b0 + perStep); b++) seqStep(b, 0, P);
    e.step();
  }
  const double prefill = std::chrono::duration<double>(Clock::now() - p0).count();
  auto decode = [&](int nSeqs, double* prof) {
    e.profile(prof);
    const auto t0 = Clock::now();
    for (int d = 0; d < D; d++) {
      e.input().clear();
      for (int b = 0; b < nSeqs; b++) seqStep(b, P + d, 1);
      e.step();
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const double d1 = decode(1, ops[1]), dB = decode(B, ops[2]);
  std::printf("kernels %s, %d threads, dim %d, %d layers, weights %s\n", e.kernelsName(), e.threads(), e.config().dim,
              e.config().nLayers, e.weightTypeName());
  std::printf("prefill %d x %d tokens in %d steps: %.1f tok/s\n", B, P, prefillSteps, (double)B * P / prefill);
  std::printf("decode 1 seq: %.1f tok/s; %d seqs: %.1f tok/s\n", D / d1, B, D * B / dB);
  const double wall[3] = {prefill, d1, dB};
  const char* phase[3] = {"prefill", "decode 1", "decode B"};
  std::printf("%-10s", "ms/step");
  for (int op = 0; op < Forward::kOpCount; op++) std::printf(" %9s", Forward::opName(op));
  std::printf(" %9s\n", "rest");
  for (int p = 0; p < 3; p++) {
    const double steps = p == 0 ? prefillSteps : D;
    double sum = 0;
    std::printf("%-10s", phase[p]);
    for (int op = 0; op < Forward::kOpCount; op++) std::printf(" %9.3f", 1e3 * ops[p][op] / steps), sum += ops[p][op];
    std::printf(" %9.3f\n", 1e3 * (wall[p] - sum) / steps);
  }
  return 0;
}
