//===- Engine.h - Compile once, re-price many -------------------*- C++ -*-===//
//
// The exploration engine: the workload is lowered once through
// strata-pipeline on the base system, and each design point re-prices the
// lowered program with the cost core (analysis::ProgramProfile +
// estimateOp). A point gets another lowering (the pipeline run again on a
// fresh copy of the input, for that point's system) when a structural
// field differs (capacities, cores, grid, unit shapes) or when a mapping
// decision the cost core makes comes out differently on it: the tiling
// planMatmul picks for a contraction, or the flash schedule planAttention
// picks for an attention group. Lowerings are kept by that key, so points
// that agree on it share one.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_ENGINE_H
#define STRATA_EXPLORE_ENGINE_H

#include "strata/Hardware/System.h"
#include "strata/Report/CostReport.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace strata::cost {
class CostModel;
} // namespace strata::cost

namespace strata::explore {

/// The headline numbers of one design point.
struct Metrics {
  double latency = 0;        ///< seconds (a step under a parallel plan)
  double energy = 0;         ///< joules
  double flops = 0;
  double tokens = 0;         ///< tokens the program processes
  double tokensPerSecond = 0;
  double energyPerToken = 0; ///< joules
  double mfu = 0;
  double footprint = 0;      ///< bytes per device (weights, activations, ...)
  double capacity = 0;       ///< bytes of the level it must fit in
  std::string capacityLevel;
  /// Time and energy per report block (one run of the program), in the
  /// order of `blockNames` (shared by the points of a lowering).
  std::shared_ptr<const std::vector<std::string>> blockNames;
  std::vector<double> blockTime, blockEnergy;
  std::string largestBlock;  ///< the block with the most time
  std::string boundBy;       ///< what bounds that block
};

struct PointResult {
  bool valid = true;
  std::string problem; ///< why the hardware is impossible (validate())
  Metrics metrics;
  /// Priced on a lowering other than the base's (why says why).
  bool relowered = false;
  std::string why;
  /// Which lowering (0: the base's); `lowered` when this point made it.
  size_t lowering = 0;
  bool lowered = false;
};

class Engine {
public:
  /// `input` is the unlowered module; `pipelineOptions` are extra
  /// strata-pipeline options (besides system= and the report).
  Engine(mlir::MLIRContext &ctx, mlir::OwningOpRef<mlir::ModuleOp> input,
         std::string entry, std::string pipelineOptions);
  ~Engine();

  /// Lowers the input on `base` (the compile-once step).
  llvm::Error compile(const hw::System &base);
  /// Prices `sys` on the lowering its key selects (structural fields and
  /// the cost core's mapping decisions on `sys`), lowering anew when no
  /// point had that key yet.
  PointResult evaluate(const hw::System &sys);
  /// `sys` priced without touching the lowerings kept for the sweep: on
  /// the base lowering when its key is the base's, else on a lowering of
  /// its own made for it. The result depends on the base and `sys` only
  /// (not on which points this engine priced before), as the
  /// sensitivities must be whichever process computes them.
  PointResult probe(const hw::System &sys);

  /// evaluate() in three steps, for many points at once: prepare() and
  /// finish() may run on several threads at a time (they only read the
  /// lowerings); lowerIfNew() must run on one, in point order, between
  /// them, so the point that creates a lowering is the first in order
  /// whatever the threads do (the sweep's results do not depend on them).
  struct Prepared {
    Prepared();
    Prepared(Prepared &&);
    Prepared &operator=(Prepared &&);
    ~Prepared();
    bool done = false; ///< `result` is final (impossible hardware, --exact)
    PointResult result;
    std::vector<double> key;
    std::unique_ptr<cost::CostModel> model;
  };
  Prepared prepare(const hw::System &sys) const;
  /// Whether a lowering with `key` exists already.
  bool hasLowering(const std::vector<double> &key) const;
  /// Makes the lowering of `p`'s key if there is none yet: for `origin`
  /// when given (the system of the first point of the sweep with this key,
  /// priced by another process or an earlier run), else for `sys` (then
  /// `p.result.lowered` says this point made it).
  void lowerIfNew(Prepared &p, const hw::System &sys,
                  const hw::System *origin = nullptr);
  PointResult finish(Prepared &p, const hw::System &sys) const;
  /// Lower every point anew (the pipeline's numbers by construction; as
  /// slow as running strata-pipeline per point). The key does not yet see
  /// the vector-op block sizes strata-tile picks, fusion or placement
  /// choices; --verify samples points to catch those.
  void setExact(bool e);
  /// Lower with strata-pipeline's early-fit-check (default on): a program
  /// that cannot fit fails with the same error, without being tiled.
  void setEarlyFitCheck(bool e);
  /// Lowers the input for `sys` and prices it as strata-pipeline reports it
  /// (the full report); what a re-lowered point gets.
  llvm::Expected<Metrics> lowerAndPrice(const hw::System &sys);

  const hw::System &baseSystem() const;
  /// The full report of the base lowering on the base system.
  const report::CostReport &baseReport() const;
  /// Lowerings compiled so far (the base's included).
  size_t numLowerings() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace strata::explore

#endif // STRATA_EXPLORE_ENGINE_H
