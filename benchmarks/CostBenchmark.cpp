//===- CostBenchmark.cpp - Speed of the cost core -------------------------===//
//
// How fast the cost core re-evaluates a Llama-3-8B decoder layer's matmuls,
// attention and vector ops for a changed hardware description (a fresh
// CostModel per evaluation, so nothing is served from the memo) — the rate a
// design-space sweep needs.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include "BenchmarkMain.h"

#include <benchmark/benchmark.h>

using namespace strata;

static void BM_LayerReevaluation(benchmark::State &state) {
  hw::System sys = *hw::getPreset("h100-sxm");
  const double baseBw = sys.chip.memory.back().readBandwidth;
  int64_t i = 0;
  const int64_t tokens = 4096, hidden = 4096, ffn = 14336, kv = 1024;
  for (auto _ : state) {
    // A new HBM bandwidth each time: a sweep point.
    sys.chip.memory.back().readBandwidth = baseBw * (1.0 + (i++ % 64) / 64.0);
    cost::CostModel model(sys);
    double t = 0;
    auto mm = [&](int64_t m, int64_t n, int64_t k) {
      cost::MatmulWork w{1, m, n, k, hw::DType::bf16, 2.0 * m * k,
                         2.0 * k * n, 2.0 * m * n};
      t += model.matmul(w).time;
    };
    mm(tokens, hidden, hidden);      // q
    mm(tokens, kv, hidden);          // k
    mm(tokens, kv, hidden);          // v
    mm(tokens, hidden, hidden);      // o
    mm(tokens, ffn, hidden);         // gate
    mm(tokens, ffn, hidden);         // up
    mm(tokens, hidden, ffn);         // down
    cost::AttentionWork a;
    a.heads = 32;
    a.kvHeads = 8;
    a.qLen = a.kvLen = tokens;
    a.headDim = 128;
    a.causal = true;
    t += model.attention(a).time;
    cost::VectorWork v{double(tokens * hidden), 4.0 * tokens * hidden, 0,
                       hw::DType::bf16, 2.0 * tokens * hidden,
                       2.0 * tokens * hidden};
    for (int j = 0; j < 6; ++j)
      t += model.vector(v).time;
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LayerReevaluation);

STRATA_BENCHMARK_MAIN()
