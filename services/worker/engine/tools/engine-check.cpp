// Stand-alone check of the engine without Node: first the greedy sampler's argmax on crafted rows (ties, -inf,
// NaN, lengths around its 16-float blocks) against the scalar definition, with every kernel set; then greedy-
// generates from a prompt with every kernel set this CPU supports (both KV types), prints the ids and the decode
// speed, and exits 1 if any set's tokens differ from the scalar reference or a sampler case fails. Useful on
// machines without Node (e.g. to exercise AVX-512).
// Build: see services/worker/engine/README.md. Usage: engine-check MODEL.gguf [nTokens] [threads]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../src/engine.h"
#include "../src/sampler.h"

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

// The argmax as the sampler defines it: the lowest id of the largest logit, NaNs never taken over a number (so 0 when
// x[0] is a NaN), -0 == +0.
static int scalarArgmax(const std::vector<float>& x) {
  int b = 0;
  for (int i = 1; i < (int)x.size(); i++)
    if (x[(size_t)i] > x[(size_t)b]) b = i;
  return b;
}

// Rows of length n whose argmax the sampler's vector max / first-equal scan could get wrong: ties (among equal
// values, +-0, +inf), all or most -inf, NaNs (first, elsewhere, everywhere), the maximum in the last element.
static std::vector<std::vector<float>> samplerRows(int n, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pos(0, n - 1), small(0, 3);
  auto row = [&](auto f) {
    std::vector<float> x((size_t)n);
    for (int i = 0; i < n; i++) x[(size_t)i] = f(i);
    return x;
  };
  std::vector<std::vector<float>> rows;
  rows.push_back(row([&](int) { return normal(rng); }));
  rows.push_back(row([&](int) { return (float)small(rng); }));  // many ties at the max
  rows.push_back(row([&](int) { return 1.5f; }));
  rows.push_back(row([&](int) { return -INFINITY; }));
  rows.push_back(row([&](int) { return NAN; }));
  const int a = pos(rng), b = pos(rng);
  rows.push_back(row([&](int i) { return i == a ? -0.f : i == b ? 0.f : -1.f; }));
  rows.push_back(row([&](int i) { return i == a || i == b ? INFINITY : normal(rng); }));
  rows.push_back(row([&](int i) { return i == a ? 2.f : -INFINITY; }));
  rows.push_back(row([&](int i) { return i == n - 1 ? 9.f : normal(rng); }));
  rows.push_back(row([&](int i) { return i == 0 ? NAN : normal(rng); }));
  rows.push_back(row([&](int i) { return i == a || small(rng) == 0 ? NAN : (float)small(rng); }));
  rows.push_back(row([&](int i) { return i == a ? 1.f : i == 0 ? 0.f : NAN; }));
  return rows;
}

// Greedy Sampler::sample on samplerRows of lengths 1..70 and a vocabulary's, raw and through the logit-processing
// copy (a zero bias), must pick scalarArgmax's token, with log_softmax(x)[token] as its logprob on finite rows.
static int checkGreedySampler(const KernelSet& k) {
  std::mt19937 rng(7);
  int failures = 0;
  std::vector<int> lengths;
  for (int n = 1; n <= 70; n++) lengths.push_back(n);
  lengths.push_back(32000);
  for (int n : lengths) {
    Sampler s;
    s.allocate(n, 1, k);
    for (const std::vector<float>& x : samplerRows(n, rng)) {
      const int want = scalarArgmax(x);
      bool finite = true;
      double mx = x[(size_t)want], z = 0;
      for (float v : x) finite = finite && std::isfinite(v);
      for (float v : x) z += std::exp((double)v - mx);
      for (const bool processed : {false, true}) {
        SamplingParams p;
        const int32_t id = 0;
        const float zero = 0.f;
        if (processed) {
          p.biasIds = &id;
          p.biasValues = &zero;
          p.nBias = 1;
        }
        float logprob = 0;
        const int got = s.sample(x.data(), p, 0, &logprob, 0, nullptr, nullptr);
        const double lp = -std::log(z);  // x[want] is the max
        if (got != want || (finite && std::fabs(logprob - lp) > 1e-5 * (1 + std::fabs(lp)))) {
          if (failures++ < 5)
            std::printf("sampler %s n=%d%s: token %d (want %d), logprob %g (want %g)\n", k.name, n,
                        processed ? " processed" : "", got, want, logprob, finite ? lp : NAN);
        }
      }
    }
  }
  return failures;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [nTokens=60] [threads=0]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? std::atoi(argv[2]) : 60;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 0;
  std::printf("supported kernel sets: %s\n", supportedKernels().c_str());
  bool ok = true;
  std::stringstream names(supportedKernels());
  for (std::string k; std::getline(names, k, ',');) {
    const int failures = checkGreedySampler(selectKernels(k));
    std::printf("%-7s greedy sampler argmax: %s\n", k.c_str(), failures == 0 ? "ok" : "FAIL");
    ok = ok && failures == 0;
  }
  std::vector<int> ref;
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
