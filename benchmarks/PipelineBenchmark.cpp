//===- PipelineBenchmark.cpp - Speed of generate + pipeline + estimate ----===//
//
// The speed goals of the cost-model issue, measured (not asserted):
//  - generate + strata-fuse + strata-tile + estimate for Llama-3-8B prefill
//    on h100-sxm and Llama-3-70B prefill (4096 tokens) on b200 (goal: the
//    70B case under 0.5 s on 2 cores);
//  - how that time grows from 1 to 126 layers (goal: flat, memoisation);
//  - re-evaluating an already lowered model for a changed hardware
//    description (HBM bandwidth x1.5): evaluations per second (goal
//    >= 20,000 per core);
//  - peak resident memory of the process (VmHWM), as a counter.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"
#include "strata/Transforms/Passes.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "BenchmarkMain.h"

#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

using namespace mlir;
using namespace strata;

namespace {

double peakResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0; // kB -> MiB
  return 0;
}

struct Setup {
  MLIRContext ctx;
  Setup() {
    static bool passesRegistered = [] {
      registerAllPasses();
      return true;
    }();
    (void)passesRegistered;
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    ctx.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  }
};

workload::ModelConfig model(const char *name, int64_t layers = 0) {
  Setup s;
  FailureOr<workload::ModelConfig> c =
      workload::loadModelConfig(name, STRATA_MODELS_DIR, &s.ctx);
  if (failed(c))
    std::abort();
  if (layers > 0)
    c->layers = layers;
  return *c;
}

/// Generate, lower and estimate once; returns the latency.
double runOnce(MLIRContext &ctx, const workload::ModelConfig &m,
               const workload::WorkloadOptions &o, const char *preset,
               const cost::CostModel &costModel) {
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &ctx);
  PassManager pm(&ctx);
  StrataFusePassOptions fuse;
  fuse.system = preset;
  pm.addPass(createStrataFusePass(fuse));
  pm.addPass(createStrataTilePass());
  if (!module || failed(pm.run(*module)))
    std::abort();
  auto entry = module->lookupSymbol<FunctionOpInterface>(
      workload::entryFunctionName(o.mode));
  return analysis::estimateProgram(entry, costModel).latency;
}

void pipeline(benchmark::State &state, const char *name, const char *preset,
              int64_t seq, int64_t layers) {
  Setup s;
  workload::ModelConfig m = model(name, layers);
  workload::WorkloadOptions o;
  o.seq = seq;
  hw::System sys = *hw::getPreset(preset);
  cost::CostModel costModel(sys);
  double latency = 0;
  for (auto _ : state)
    latency = runOnce(s.ctx, m, o, preset, costModel);
  state.counters["model_latency_ms"] = latency * 1e3;
  state.counters["peak_rss_MiB"] = peakResidentMiB();
}

void BM_Llama3_8B_Prefill_H100(benchmark::State &state) {
  pipeline(state, "llama-3-8b", "h100-sxm", 2048, 0);
}
BENCHMARK(BM_Llama3_8B_Prefill_H100)->Unit(benchmark::kMillisecond);

void BM_Llama3_70B_Prefill4096_B200(benchmark::State &state) {
  pipeline(state, "llama-3-70b", "b200", 4096, 0);
}
BENCHMARK(BM_Llama3_70B_Prefill4096_B200)->Unit(benchmark::kMillisecond);

/// The whole strata-pipeline (as strata-opt runs it) on a generated module;
/// the report goes to /dev/null. Returns the number of plans a plan=auto
/// search tried (0 otherwise).
int64_t runStrataPipeline(MLIRContext &ctx, const workload::ModelConfig &m,
                          const workload::WorkloadOptions &o,
                          const std::string &options) {
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &ctx);
  PassManager pm(&ctx, ModuleOp::getOperationName());
  if (!module ||
      failed(parsePassPipeline(
          "strata-pipeline{" + options + " report-file=/dev/null}", pm)) ||
      failed(pm.run(*module)))
    std::abort();
  auto plans = (*module)->getAttrOfType<ArrayAttr>("strata.plan_search");
  return plans ? int64_t(plans.size()) : 0;
}

/// plan=auto for Llama-3-70B prefill (32 sequences of 2048 tokens) over
/// four DGX H100 nodes: every tp x pp x dp plan compiled and priced (goal:
/// under 10 s on 2 cores).
void BM_PlanAuto_Llama3_70B_DGXH100x4(benchmark::State &state) {
  Setup s;
  workload::ModelConfig m = model("llama-3-70b");
  workload::WorkloadOptions o;
  o.seq = 2048;
  o.batch = 32;
  int64_t plans = 0;
  for (auto _ : state)
    plans = runStrataPipeline(s.ctx, m, o, "system=dgx-h100x4 plan=auto");
  state.counters["plans"] = double(plans);
  state.counters["peak_rss_MiB"] = peakResidentMiB();
}
BENCHMARK(BM_PlanAuto_Llama3_70B_DGXH100x4)->Unit(benchmark::kMillisecond);

/// A Llama-3.1-405B training step under Meta's plan (Llama 3 paper, Table
/// 4): tp=8, pp=16 (126 layers on uneven stages), dp=64 on 8,192 H100s
/// (1,024 DGX nodes), sequences of 8,192 tokens, one per microbatch and
/// data-parallel rank, 16 microbatches, ZeRO-1 and full recomputation (the
/// plan that fits 80 GiB: about 60 GiB per GPU): generate + strata-pipeline
/// (plan, upstream partitioning, stages, fuse, tile, place, estimate) per
/// iteration (goal: under 1 s on 2 cores).
void BM_Train_Llama31_405B_8192xH100(benchmark::State &state) {
  Setup s;
  workload::ModelConfig m = model("llama-3.1-405b");
  workload::WorkloadOptions o;
  o.mode = workload::WorkloadMode::Train;
  o.seq = 8192;
  o.batch = 64; // one sequence per data-parallel rank
  for (auto _ : state)
    runStrataPipeline(s.ctx, m, o,
                      "system=dgx-h100x1024 tp=8 pp=16 dp=64 microbatches=16 "
                      "zero=1 recompute=full");
  state.counters["peak_rss_MiB"] = peakResidentMiB();
}
BENCHMARK(BM_Train_Llama31_405B_8192xH100)->Unit(benchmark::kMillisecond);

/// Llama-3-70B layer shape with 1..126 layers: time should stay flat.
void BM_Depth(benchmark::State &state) {
  pipeline(state, "llama-3-70b", "b200", 4096, state.range(0));
}
BENCHMARK(BM_Depth)->Arg(1)->Arg(8)->Arg(32)->Arg(80)->Arg(126)->Unit(
    benchmark::kMillisecond);

/// The cost core alone on an already lowered Llama-3-70B prefill: each
/// iteration is one design point (HBM bandwidth x1.5, then back), priced
/// with a fresh cost model (no memo carried over).
void BM_Reevaluate_Llama3_70B(benchmark::State &state) {
  Setup s;
  workload::ModelConfig m = model("llama-3-70b");
  workload::WorkloadOptions o;
  o.seq = 4096;
  hw::System base = *hw::getPreset("b200");
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &s.ctx);
  PassManager pm(&s.ctx);
  StrataFusePassOptions fuse;
  fuse.system = "b200";
  pm.addPass(createStrataFusePass(fuse));
  pm.addPass(createStrataTilePass());
  if (!module || failed(pm.run(*module)))
    std::abort();
  auto entry = module->lookupSymbol<FunctionOpInterface>("forward");
  // The profile (what executes, how often) does not depend on the hardware.
  analysis::ProgramProfile profile(entry);
  int64_t i = 0;
  for (auto _ : state) {
    hw::System sys = base;
    double scale = (i++ % 2) ? 1.5 : 1.0;
    sys.chip.memory.back().readBandwidth *= scale;
    sys.chip.memory.back().writeBandwidth *= scale;
    cost::CostModel costModel(sys);
    benchmark::DoNotOptimize(
        analysis::priceProgram(profile, costModel).latency);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Reevaluate_Llama3_70B);

} // namespace

STRATA_BENCHMARK_MAIN()
