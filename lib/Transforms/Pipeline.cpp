//===- Pipeline.cpp - The end-to-end strata-pipeline ----------------------===//
//
// `strata-pipeline` runs Strata's passes in order on a linalg program and
// ends with the estimate. Single-chip today: attach the system, fuse
// attention (strata-fuse), tile the contractions (strata-tile), check and record
// each kernel's buffers per level (strata-place), estimate; placement, fusion and sharding slot
// in before the estimate as they land (docs/architecture.md, "The flow").
//
//===----------------------------------------------------------------------===//

#include "strata/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

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
      llvm::cl::desc("Entry function (default: the only public function)"),
      llvm::cl::init("")};
  Option<bool> tile{*this, "tile",
                    llvm::cl::desc("Lower contractions to tile IR before "
                                   "estimating (strata-tile)"),
                    llvm::cl::init(true)};
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
};

void buildStrataPipeline(OpPassManager &pm, const PipelineOptions &options) {
  if (!options.system.empty()) {
    strata::StrataSetSystemPassOptions set;
    set.system = options.system;
    pm.addPass(strata::createStrataSetSystemPass(set));
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
