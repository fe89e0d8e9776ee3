//===- strata-explore-bench.cpp - Design points per second ----------------===//
//
// The speed goals of the design-space exploration issue, printed (not
// asserted):
//
//  - the Calculon case: GPT-3-175B training (seq 2048, global batch 64,
//    ZeRO-1) on 64 A100-80G (dgx-a100x8), every tp x pp x dp x microbatch
//    x recompute plan, each at 10 HBM bandwidths (0.5x-4x, the base among
//    them): `design points/s per core: N` (goal >= 19,000), N = points
//    over the process CPU seconds of the sweep (lowerings included);
//  - a hardware sweep of Llama-3-8B prefill on h100-sxm (HBM x L2
//    bandwidth x tensor rate; 100 x 100 x 100 = 10^6 points with
//    --points=1000000, 10^5 by default): seconds and points/s.
//
// Results stream to a temporary directory (removed afterwards), so memory
// stays bounded; peak resident memory is printed.
//
//   build/benchmarks/strata-explore-bench [--case=calculon|llama|all]
//       [--points=N] [-j THREADS]
//
//===----------------------------------------------------------------------===//

#include "strata/Explore/Driver.h"
#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <fstream>
#include <string>

using namespace mlir;
using namespace strata;
namespace cl = llvm::cl;

static cl::opt<std::string> benchCase("case",
                                      cl::desc("calculon, llama or all"),
                                      cl::init("all"));
static cl::opt<unsigned> llamaPoints(
    "points", cl::desc("Points of the Llama-3-8B sweep (a cube, rounded)"),
    cl::init(100000));

static cl::opt<unsigned> jobs("j", cl::desc("Threads pricing the points"),
                              cl::init(1));

static double peakResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

static int run(MLIRContext &ctx, llvm::StringRef title, llvm::StringRef model,
               workload::WorkloadOptions wo, llvm::StringRef system,
               llvm::StringRef specText, bool perCore) {
  FailureOr<workload::ModelConfig> config =
      workload::loadModelConfig(model, STRATA_MODELS_DIR, &ctx);
  std::optional<hw::System> base = hw::getPreset(system.str());
  if (failed(config) || !base) {
    llvm::errs() << "strata-explore-bench: cannot load " << model << " or "
                 << system << "\n";
    return 1;
  }
  llvm::Expected<explore::SweepSpec> spec =
      explore::parseSweepSpecText(specText, *base);
  if (!spec) {
    llvm::errs() << "strata-explore-bench: " << llvm::toString(spec.takeError())
                 << "\n";
    return 1;
  }
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("strata-explore-bench", dir)) {
    llvm::errs() << "strata-explore-bench: cannot create a directory\n";
    return 1;
  }
  explore::DriverOptions o;
  o.outDir = dir.str().str();
  o.entry = workload::entryFunctionName(wo.mode).str();
  o.verify = 0;
  o.progress = false;
  o.batch = wo.batch;
  o.jobs = std::max(1u, unsigned(jobs));
  llvm::Expected<explore::DriverStats> st = explore::runSweep(
      ctx, *spec, *base, explore::modelWorkload(ctx, *config, wo), o);
  llvm::sys::fs::remove_directories(dir);
  if (!st) {
    llvm::errs() << "strata-explore-bench: " << llvm::toString(st.takeError())
                 << "\n";
    return 1;
  }
  llvm::outs() << title << "\n";
  llvm::outs() << llvm::formatv(
      "  plans: {0} ({1} rejected by the pipeline), points: {2}, lowerings: "
      "{3}, re-lowered points: {4}\n",
      st->plans, st->plansRejected, st->points, st->lowerings, st->relowered);
  llvm::outs() << llvm::formatv(
      "  wall {0:f2} s (lowering on the base systems {1:f2} s), CPU {2:f2} "
      "s, peak RSS {3:f0} MiB\n",
      st->sweepSeconds, st->compileSeconds, st->cpuSeconds, peakResidentMiB());
  double rate = st->cpuSeconds > 0 ? st->points / st->cpuSeconds : 0;
  if (perCore)
    llvm::outs() << llvm::formatv("design points/s per core: {0:f0}\n", rate);
  else
    llvm::outs() << llvm::formatv(
        "  points/s: {0:f0} (wall, {1} thread(s)), {2:f0} per CPU second\n",
        st->points / st->sweepSeconds, o.jobs, rate);
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "strata-explore speed goals\n");
  registerAllPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  workload::registerWorkloadDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  int rc = 0;
  if (benchCase == "calculon" || benchCase == "all") {
    workload::WorkloadOptions wo;
    wo.mode = workload::WorkloadMode::Train;
    wo.seq = 2048;
    wo.batch = 64;
    rc |= run(ctx,
              "Calculon case: GPT-3-175B train, seq 2048, batch 64, ZeRO-1, "
              "dgx-a100x8 (64 A100-80G), tp x pp x dp x microbatches x "
              "recompute, x 10 HBM bandwidths",
              "gpt3-175b", wo, "dgx-a100x8",
              R"({"plan": {"tp": "auto", "pp": "auto", "microbatches": "auto",
                           "recompute": ["none", "selective", "full"],
                           "zero": [1]},
                  "axes": [{"path": "chip.memory.hbm.bandwidth",
                            "scale": [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5,
                                      3, 4]}]})",
              /*perCore=*/true);
  }
  if (benchCase == "llama" || benchCase == "all") {
    workload::WorkloadOptions wo;
    int side = std::max(1, int(std::lround(std::cbrt(double(llamaPoints)))));
    std::string spec = llvm::formatv(
        R"({{"axes": [
          {{"path": "chip.memory.hbm.bandwidth", "log": [1e12, 16e12, {0}]},
          {{"path": "chip.memory.l2.bandwidth", "log": [2.75e12, 22e12, {0}]},
          {{"path": "chip.units.tensor.rates.bf16", "log": [2048, 16384, {0}]}]})",
        side);
    rc |= run(ctx,
              llvm::formatv("Llama-3-8B prefill (2048 tokens) on h100-sxm, "
                            "HBM x L2 x tensor rate, {0}^3 points",
                            side)
                  .str(),
              "llama-3-8b", wo, "h100-sxm", spec, /*perCore=*/false);
  }
  return rc;
}
