//===- Pipeline.cpp - The end-to-end strata-pipeline ----------------------===//
//
// `strata-pipeline` runs Strata's passes in order on a linalg program and
// ends with the estimate: attach the system; with tp=, parallelize
// (strata-parallelize, strata-partition, strata-stage) and bind the
// collectives to the topology (strata-route);
// fuse attention and epilogues (strata-fuse); tile the contractions
// (strata-tile); check and record each kernel's buffers per level
// (strata-place); on a grid chip keep activations on chip between kernels
// (strata-residency); estimate. docs/architecture.md, "The flow".
//
//===----------------------------------------------------------------------===//

#include "OptionChecks.h"
#include "strata/Analysis/ProgramChecks.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <tuple>

using namespace mlir;

namespace {

struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<std::string> system{
      *this, "system",
      llvm::cl::desc("Preset name, or path to a .json or .mlir system "
                     "description (default: the module's arch.system)"),
      llvm::cl::init("")};
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Entry function (default: every public function; "
                     "several give one summary row each)"),
      llvm::cl::init("")};
  Option<bool> tile{*this, "tile",
                    llvm::cl::desc("Lower contractions to tile IR before "
                                   "estimating (strata-tile)"),
                    llvm::cl::init(true)};
  Option<bool> residency{
      *this, "residency",
      llvm::cl::desc("On a grid chip, keep activations in the cores' SRAM "
                     "between kernels where the cost model says it pays "
                     "(strata-residency; needs tile)"),
      llvm::cl::init(true)};
  Option<bool> retile{
      *this, "retile",
      llvm::cl::desc("Re-plan contraction kernels for the operands "
                     "strata-residency keeps on chip (its retile option)"),
      llvm::cl::init(true)};
  Option<int64_t> tp{*this, "tp",
                     llvm::cl::desc("Tensor-parallel degree (0: 1 when dp, "
                                    "pp or ep ask for a plan, else no "
                                    "parallel plan, one device)"),
                     llvm::cl::init(0)};
  Option<int64_t> dp{*this, "dp",
                     llvm::cl::desc("Data-parallel degree (0: the devices "
                                    "left by tp and pp)"),
                     llvm::cl::init(0)};
  Option<int64_t> pp{*this, "pp",
                     llvm::cl::desc("Pipeline-parallel degree (validated)"),
                     llvm::cl::init(1)};
  Option<int64_t> ep{*this, "ep", llvm::cl::desc("Expert-parallel degree"),
                     llvm::cl::init(1)};
  Option<bool> sp{*this, "sp",
                  llvm::cl::desc("Sequence parallelism over the tp axis"),
                  llvm::cl::init(false)};
  Option<int64_t> cp{*this, "cp",
                     llvm::cl::desc("Context-parallel degree (the sequence "
                                    "split over a cp axis; ring attention)"),
                     llvm::cl::init(1)};
  Option<std::string> cpComm{
      *this, "cp-comm",
      llvm::cl::desc("K/V exchange under cp: p2p (ring) or all_gather"),
      llvm::cl::init("p2p")};
  Option<int64_t> microbatches{
      *this, "microbatches",
      llvm::cl::desc("Microbatches per step (the module is one microbatch of "
                     "the data-parallel group)"),
      llvm::cl::init(1)};
  Option<int64_t> interleave{
      *this, "interleave", llvm::cl::desc("Virtual pipeline stages per device"),
      llvm::cl::init(1)};
  Option<std::string> schedule{
      *this, "schedule", llvm::cl::desc("Pipeline schedule: gpipe or 1f1b"),
      llvm::cl::init("1f1b")};
  Option<int64_t> zero{*this, "zero",
                       llvm::cl::desc("ZeRO stage 0-3 over the data axis"),
                       llvm::cl::init(0)};
  Option<std::string> recompute{
      *this, "recompute",
      llvm::cl::desc("Activation recomputation: none, selective or full"),
      llvm::cl::init("none")};
  Option<bool> overlapGradSync{
      *this, "overlap-grad-sync",
      llvm::cl::desc("Overlap the data-parallel gradient reduction with the "
                     "backward pass"),
      llvm::cl::init(true)};
  Option<std::string> plan{
      *this, "plan",
      llvm::cl::desc("'auto': compile and price every tp x pp x dp (x ep) "
                     "plan of the system and keep the fastest that fits "
                     "(strata-plan-search); tp/pp/dp/ep are then ignored"),
      llvm::cl::init("")};
  Option<std::string> collectiveAlgorithm{
      *this, "collective-algorithm",
      llvm::cl::desc("Algorithm strata-route gives every collective: auto "
                     "(the cost model's cheapest) or one to force"),
      llvm::cl::init("auto")};
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("Fuse attention flash-style where the "
                                   "cost model says it pays (strata-fuse)"),
                    llvm::cl::init(true)};
  Option<std::string> report{
      *this, "report",
      llvm::cl::desc("Report format: text, json, csv or trace"),
      llvm::cl::init("text")};
  Option<std::string> reportFile{
      *this, "report-file",
      llvm::cl::desc("Where to write the report ('-' for stdout)"),
      llvm::cl::init("-")};
  ListOption<int64_t> bindDims{
      *this, "bind-dims",
      llvm::cl::desc("Sizes for the entry's dynamic dims, one per '?' of its "
                     "argument types in order (strata-bind-dims)")};
  Option<double> remarkAboveFloor{
      *this, "remark-above-floor",
      llvm::cl::desc("Remark on every op with arithmetic that is modelled "
                     "above this multiple of its roofline floor, naming why "
                     "(strata-estimate; 0: none)"),
      llvm::cl::init(0)};
  Option<std::string> launch{
      *this, "launch",
      llvm::cl::desc("How the kernels are issued (strata-estimate): eager, "
                     "or graph (replayed from a captured CUDA graph, as "
                     "vLLM and TensorRT-LLM run decode)"),
      llvm::cl::init("eager")};
  Option<std::string> f32Matmul{
      *this, "f32-matmul",
      llvm::cl::desc("f32 contractions: f32 (PyTorch's default) or tf32 "
                     "(allow_tf32, the matrix unit's TF32 rate)"),
      llvm::cl::init("f32")};
  Option<bool> earlyFitCheck{
      *this, "early-fit-check",
      llvm::cl::desc("Check the footprint before strata-tile (the estimate's "
                     "own check, strata-estimate fit-only): a program that "
                     "cannot fit fails with the final estimate's error "
                     "without being tiled, and writes no report "
                     "(strata-explore's lowerings)"),
      llvm::cl::init(false)};
};

/// Checks strata-pipeline's options before any pass runs, each error
/// located at the option (`<strata-pipeline option 'zero'>`), not at the
/// model, and before minutes of partitioning. What depends on the system
/// (degrees against its devices and fabrics) is strata-parallelize's.
struct CheckPipelineOptions
    : PassWrapper<CheckPipelineOptions, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckPipelineOptions)

  struct Values {
    std::string system, entry, schedule, recompute, plan, report, reportFile,
        collectiveAlgorithm;
    int64_t tp, dp, pp, ep, microbatches, interleave, zero;
    double remarkAboveFloor;
    int64_t cp;
    std::string launch;
  };
  explicit CheckPipelineOptions(Values v) : v(std::move(v)) {}
  StringRef getArgument() const override {
    return "strata-check-pipeline-options";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto fail = [&](StringRef option) {
      signalPassFailure();
      return emitError(FileLineColLoc::get(
          ctx, "<strata-pipeline option '" + option.str() + "'>", 0, 0));
    };
    for (auto [name, value, least] :
         {std::tuple<StringRef, int64_t, int64_t>{"tp", v.tp, 0},
          {"dp", v.dp, 0},
          {"pp", v.pp, 1},
          {"ep", v.ep, 1},
          {"cp", v.cp, 1}})
      if (value < least) {
        fail(name) << name << "=" << value << " must be at least " << least
                   << (least == 0 ? " (0: automatic)" : "");
        return;
      }
    if (std::optional<strata::OptionProblem> bad = strata::checkTrainingOptions(
            v.microbatches, v.interleave, v.schedule, v.zero, v.recompute)) {
      fail(bad->option) << bad->message;
      return;
    }
    if (v.remarkAboveFloor != 0 && !(v.remarkAboveFloor >= 1)) {
      fail("remark-above-floor")
          << "remark-above-floor=" << v.remarkAboveFloor
          << " must be at least 1 (no op runs faster than its roofline "
             "floor; 0: no remarks)";
      return;
    }
    if (v.plan == "auto" && v.cp > 1) {
      fail("cp") << "cp=" << v.cp
                 << " is not searched by plan=auto (state the plan: tp, pp, "
                    "dp and cp)";
      return;
    }
    if (!strata::cost::parseLaunchMode(v.launch)) {
      fail("launch") << "launch='" << v.launch
                     << "' must be eager or graph";
      return;
    }
    if (!v.plan.empty() && v.plan != "auto") {
      fail("plan") << "plan='" << v.plan
                   << "' must be 'auto' (or absent, for the plan tp/pp/dp/ep "
                      "state)";
      return;
    }
    {
      // strata-route's values, also when no plan asks for routing.
      bool known = false;
      std::string names;
      for (int a = 0; a <= int(strata::cost::CollectiveAlgorithm::Hierarchical);
           ++a) {
        std::string_view n =
            strata::cost::toString(strata::cost::CollectiveAlgorithm(a));
        known |= v.collectiveAlgorithm == n;
        names += (a ? ", " : "") + std::string(n);
      }
      if (!known) {
        fail("collective-algorithm")
            << "collective-algorithm='" << v.collectiveAlgorithm
            << "' must be one of " << names;
        return;
      }
    }
    if (!llvm::is_contained({"text", "json", "csv", "trace"}, v.report)) {
      fail("report") << "report='" << v.report
                     << "' must be text, json, csv or trace";
      return;
    }
    if (v.reportFile != "-") {
      namespace fs = llvm::sys::fs;
      StringRef dir = llvm::sys::path::parent_path(v.reportFile);
      if (dir.empty())
        dir = ".";
      if (fs::is_directory(v.reportFile)) {
        fail("report-file") << "report-file='" << v.reportFile
                            << "' is a directory";
        return;
      }
      if (!fs::is_directory(dir) || fs::access(dir, fs::AccessMode::Write) ||
          (fs::exists(v.reportFile) &&
           fs::access(v.reportFile, fs::AccessMode::Write))) {
        fail("report-file") << "report-file='" << v.reportFile
                            << "' cannot be written ("
                            << (fs::is_directory(dir)
                                    ? "no write permission"
                                    : "directory '" + dir.str() +
                                          "' does not exist")
                            << ")";
        return;
      }
    }
    if (!v.system.empty()) {
      // A JSON or .mlir description reports its own problems at its file;
      // an unknown preset is the option's.
      FailureOr<strata::arch::SystemAttr> sys =
          strata::arch::loadSystem(ctx, v.system, [&] { return fail("system"); });
      if (failed(sys))
        return signalPassFailure();
    }
    if (!v.entry.empty()) {
      auto fn = dyn_cast_if_present<FunctionOpInterface>(
          SymbolTable::lookupSymbolIn(module, v.entry));
      if (!fn || fn.isExternal()) {
        fail("entry") << "entry='" << v.entry
                      << "' is not a function defined in the module";
        return;
      }
    }
    // A recursive call graph has no static execution count; say where
    // before anything tries to follow it.
    for (auto fn : module.getOps<FunctionOpInterface>())
      if (!fn.isExternal() && fn.isPublic() &&
          failed(strata::analysis::verifyAcyclicCalls(fn)))
        return signalPassFailure();
  }

  Values v;
};

void buildStrataPipeline(OpPassManager &pm, const PipelineOptions &options) {
  pm.addPass(std::make_unique<CheckPipelineOptions>(CheckPipelineOptions::Values{
      options.system, options.entry, options.schedule, options.recompute,
      options.plan, options.report, options.reportFile,
      options.collectiveAlgorithm, options.tp,
      options.dp, options.pp, options.ep, options.microbatches,
      options.interleave, options.zero, options.remarkAboveFloor,
      options.cp, options.launch}));
  if (!options.bindDims.empty()) {
    strata::StrataBindDimsPassOptions bind;
    bind.entry = options.entry;
    bind.sizes.assign(options.bindDims.begin(), options.bindDims.end());
    pm.addPass(strata::createStrataBindDimsPass(bind));
  }
  if (!options.system.empty() || options.f32Matmul != "f32") {
    strata::StrataSetSystemPassOptions set;
    set.system = options.system;
    set.f32Matmul = options.f32Matmul;
    pm.addPass(strata::createStrataSetSystemPass(set));
  }
  // A parallel plan: annotate with upstream shard, let upstream propagate
  // and partition each annotated function into per-device IR with explicit
  // collectives, and carry the per-device signatures through the calls
  // (strata-partition); everything after prices one device (collectives on
  // the topology's fabrics).
  if (options.plan == "auto") {
    strata::StrataPlanSearchPassOptions search;
    search.entry = options.entry;
    search.fuse = options.fuse;
    search.tile = options.tile;
    search.microbatches = options.microbatches;
    search.interleave = options.interleave;
    search.schedule = options.schedule;
    search.zero = options.zero;
    search.recompute = options.recompute;
    search.overlapGradSync = options.overlapGradSync;
    search.collectiveAlgorithm = options.collectiveAlgorithm;
    pm.addPass(strata::createStrataPlanSearchPass(search));
    // The search applied the winning plan, fused, tiled and placed.
    strata::StrataEstimatePassOptions estimate;
    estimate.entry = options.entry;
    estimate.format = options.report;
    estimate.output = options.reportFile;
    estimate.remarkAboveFloor = options.remarkAboveFloor;
    estimate.launch = options.launch;
    pm.addPass(strata::createStrataEstimatePass(estimate));
    return;
  }
  // Any parallel degree asks for a plan (tp defaults to 1 then): ep=8
  // alone must not silently price one device; so does a training option
  // (recompute=full on one device must not be silently ignored).
  if (options.tp > 0 || options.dp > 0 || options.pp > 1 || options.ep > 1 ||
      options.cp > 1 || options.recompute != "none" || options.microbatches > 1 ||
      options.zero > 0) {
    strata::StrataParallelizePassOptions plan;
    plan.tp = std::max<int64_t>(options.tp, 1);
    plan.dp = options.dp;
    plan.pp = options.pp;
    plan.ep = options.ep;
    plan.sp = options.sp;
    plan.cp = options.cp;
    plan.cpComm = options.cpComm;
    plan.microbatches = options.microbatches;
    plan.interleave = options.interleave;
    plan.schedule = options.schedule;
    plan.zero = options.zero;
    plan.recompute = options.recompute;
    plan.overlapGradSync = options.overlapGradSync;
    pm.addPass(strata::createStrataParallelizePass(plan));
    pm.addPass(strata::createStrataPartitionPass());
    strata::StrataStagePassOptions stage;
    stage.entry = options.entry;
    pm.addPass(strata::createStrataStagePass(stage));
    // Bind the collectives to the topology before anything is priced.
    strata::StrataRoutePassOptions route;
    route.algorithm = options.collectiveAlgorithm;
    pm.addPass(strata::createStrataRoutePass(route));
  }
  if (options.fuse) {
    // With activations kept on chip (a grid chip's strata-residency), a
    // chained epilogue's residual input and a norm's rows are priced where
    // they live; there the cost model decides whether the longer chains
    // and one-kernel norms pay. Without residency strata-fuse keeps one
    // epilogue op per contraction and a kernel per norm op, the lowering
    // the inference reference rows (GPUs, tt-metal) are calibrated on.
    strata::StrataFusePassOptions fuse;
    if (options.tile && options.residency) {
      fuse.epilogueChain = "auto";
      fuse.norms = "auto";
    }
    pm.addPass(strata::createStrataFusePass(fuse));
  }
  if (options.tile) {
    // The footprint does not depend on the tiling: a program that cannot
    // fit is rejected before the blocking searches (the same estimate and
    // error as the final pass; test/Explore/early-fit-check.test).
    if (options.earlyFitCheck) {
      strata::StrataEstimatePassOptions check;
      check.entry = options.entry;
      check.launch = options.launch;
      check.fitOnly = true;
      pm.addPass(strata::createStrataEstimatePass(check));
    }
    pm.addPass(strata::createStrataTilePass());
    pm.addPass(strata::createStrataPlacePass());
    if (options.residency) {
      strata::StrataResidencyPassOptions residency;
      residency.retile = options.retile;
      pm.addPass(strata::createStrataResidencyPass(residency));
    }
  }
  strata::StrataEstimatePassOptions estimate;
  estimate.entry = options.entry;
  estimate.format = options.report;
  estimate.output = options.reportFile;
  estimate.remarkAboveFloor = options.remarkAboveFloor;
  estimate.launch = options.launch;
  pm.addPass(strata::createStrataEstimatePass(estimate));
}

} // namespace

void strata::registerStrataPipeline() {
  PassPipelineRegistration<PipelineOptions>(
      "strata-pipeline",
      "Lower a linalg program onto the target system and estimate its cost",
      buildStrataPipeline);
}
