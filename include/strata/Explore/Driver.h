//===- Driver.h - One design-space sweep, end to end ------------*- C++ -*-===//
//
// What strata-explore and strata-explore-bench run: for every plan of the
// spec (or the one fixed plan), build the workload, lower it once on the
// base system and re-price every hardware point on it (the engine lowers
// again where the key says so), streaming the rows to the output files.
// Plans are the outer loop, hardware points the inner one: point index =
// plan index x hardware points + hardware index.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_DRIVER_H
#define STRATA_EXPLORE_DRIVER_H

#include "strata/Explore/Plan.h"
#include "strata/Explore/Sweep.h"
#include "strata/Hardware/System.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace strata::explore {

/// Builds the workload a plan needs (its batch per microbatch and
/// precision): null and `error` set when it cannot.
using WorkloadBuilder = std::function<mlir::OwningOpRef<mlir::ModuleOp>(
    const Plan *plan, std::string &error)>;

/// The generated model (`options` as for strata-translate
/// --import-model-config, batch = the global batch), built once per batch
/// per microbatch and precision the plans ask for.
WorkloadBuilder modelWorkload(mlir::MLIRContext &ctx,
                              const workload::ModelConfig &config,
                              const workload::WorkloadOptions &options);
/// Copies of a given module (plans may not change its batch or precision).
WorkloadBuilder moduleWorkload(mlir::ModuleOp module);

struct DriverOptions {
  std::string outDir;
  std::string entry;
  /// Extra strata-pipeline options for every point.
  std::string pipelineOptions;
  /// Write each point's system (and plan options) into this directory.
  std::string emitSystems;
  /// Re-lower this many evenly spaced points and compare.
  unsigned verify = 4;
  bool exact = false;
  /// Reject a plan whose footprint cannot fit before strata-tile
  /// (strata-pipeline's early-fit-check; the results are the same either
  /// way, test/Explore/early-fit-check.test).
  bool earlyFitCheck = true;
  /// A progress bar on stderr (when it is a terminal).
  bool progress = true;
  /// Threads pricing the points (the results do not depend on it).
  unsigned jobs = 1;
  /// The global batch when the spec does not sweep it (--batch).
  int64_t batch = 1;
  /// Points per chunk: the unit of the checkpoint (`<outDir>/checkpoint`)
  /// and of the split between MPI processes.
  uint64_t chunkPoints = 1024;
  /// Continue from the checkpoint of a stopped run of the same sweep.
  bool resume = false;
  /// Stop (without writing the result files) once this process has priced
  /// this many points, in whole chunks; for tests of --resume. 0: never.
  uint64_t stopAfter = 0;
  /// What makes the sweep this sweep (the spec, system, workload and
  /// options, as text): --resume refuses a checkpoint of another one.
  std::string identity;
};

struct DriverStats {
  uint64_t points = 0, invalid = 0, infeasible = 0, relowered = 0;
  uint64_t plans = 0, plansRejected = 0, lowerings = 0;
  llvm::StringMap<unsigned> reasons;
  unsigned verified = 0, mismatches = 0;
  double compileSeconds = 0; ///< the lowerings on the base systems
  double sweepSeconds = 0;   ///< wall time of the whole sweep
  double cpuSeconds = 0;     ///< process CPU time of the whole sweep
  /// This process (MPI rank) and how many there are; only rank 0 writes
  /// the result files and has the counts above.
  int rank = 0, ranks = 1;
  uint64_t resumedPoints = 0; ///< found in the checkpoint, not priced again
  uint64_t pricedPoints = 0;  ///< priced by this process
  /// The run stopped before every chunk was priced (--stop-after-points): no
  /// result files, the checkpoint stays for --resume.
  bool stopped = false;
};

llvm::Expected<DriverStats> runSweep(mlir::MLIRContext &ctx,
                                     const SweepSpec &spec,
                                     const hw::System &base,
                                     const WorkloadBuilder &build,
                                     const DriverOptions &options);

} // namespace strata::explore

#endif // STRATA_EXPLORE_DRIVER_H
