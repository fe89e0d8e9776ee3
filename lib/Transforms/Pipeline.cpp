//===- Pipeline.cpp - The end-to-end strata-pipeline ----------------------===//
//
// `strata-pipeline` runs Strata's passes in order on a linalg program and
// ends with the estimate: attach the system; with tp=, parallelize
// (strata-parallelize, strata-partition, strata-stage) and bind the
// collectives to the topology (strata-route);
// fuse attention and epilogues (strata-fuse); tile the contractions
// (strata-tile); check and record each kernel's buffers per level
// (strata-place); estimate. docs/architecture.md, "The flow".
//
//===----------------------------------------------------------------------===//

#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

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
  Option<std::string> f32Matmul{
      *this, "f32-matmul",
      llvm::cl::desc("f32 contractions: f32 (PyTorch's default) or tf32 "
                     "(allow_tf32, the matrix unit's TF32 rate)"),
      llvm::cl::init("f32")};
};

void buildStrataPipeline(OpPassManager &pm, const PipelineOptions &options) {
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
    pm.addPass(strata::createStrataEstimatePass(estimate));
    return;
  }
  // Any parallel degree asks for a plan (tp defaults to 1 then): ep=8
  // alone must not silently price one device; so does a training option
  // (recompute=full on one device must not be silently ignored).
  if (options.tp > 0 || options.dp > 0 || options.pp > 1 || options.ep > 1 ||
      options.recompute != "none" || options.microbatches > 1 ||
      options.zero > 0) {
    strata::StrataParallelizePassOptions plan;
    plan.tp = std::max<int64_t>(options.tp, 1);
    plan.dp = options.dp;
    plan.pp = options.pp;
    plan.ep = options.ep;
    plan.sp = options.sp;
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
  if (options.fuse)
    pm.addPass(strata::createStrataFusePass());
  if (options.tile) {
    pm.addPass(strata::createStrataTilePass());
    pm.addPass(strata::createStrataPlacePass());
  }
  strata::StrataEstimatePassOptions estimate;
  estimate.entry = options.entry;
  estimate.format = options.report;
  estimate.output = options.reportFile;
  pm.addPass(strata::createStrataEstimatePass(estimate));
}

} // namespace

void strata::registerStrataPipeline() {
  PassPipelineRegistration<PipelineOptions>(
      "strata-pipeline",
      "Lower a linalg program onto the target system and estimate its cost",
      buildStrataPipeline);
}
