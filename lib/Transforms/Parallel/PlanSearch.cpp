//===- PlanSearch.cpp - plan=auto: every valid parallel plan, priced ------===//
//
// Enumerates the factorisations tp x pp x dp (x ep for mixture-of-experts
// models) of the system's devices, compiles the module under each one
// exactly as strata-pipeline would (strata-parallelize, strata-partition,
// strata-stage, then fuse / tile / place) on a copy, prices the copy with
// the estimate, and applies the fastest plan that fits to the module. The
// ranking (every plan tried, with why the invalid ones were rejected) is
// recorded as `strata.plan_search` for the report. Plans are validated by
// the passes themselves, so the search never admits a plan the explicit
// options would refuse.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Units.h"
#include "strata/Transforms/Passes.h"
#include "../OptionChecks.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>

namespace strata {
#define GEN_PASS_DEF_STRATAPLANSEARCHPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

struct Candidate {
  int64_t tp = 1, pp = 1, dp = 1, ep = 1;
  double latency = 0, tokensPerSecond = 0, mfu = 0, footprint = 0;
  double capacity = 0;
  bool fits = false;
  std::string status; ///< "ok", or why the plan was rejected
};

SmallVector<int64_t> divisors(int64_t n) {
  SmallVector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0)
      d.push_back(i);
  return d;
}

struct PlanSearchPass
    : strata::impl::StrataPlanSearchPassBase<PlanSearchPass> {
  using Base::Base;

  /// strata-pipeline's passes between set-system and estimate, for `c`.
  void buildPlanPipeline(OpPassManager &pm, const Candidate &c) {
    strata::StrataParallelizePassOptions plan;
    plan.tp = c.tp;
    plan.pp = c.pp;
    plan.dp = c.dp;
    plan.ep = c.ep;
    plan.microbatches = microbatches;
    plan.interleave = interleave;
    plan.schedule = schedule;
    plan.zero = zero;
    plan.recompute = recompute;
    plan.overlapGradSync = overlapGradSync;
    pm.addPass(strata::createStrataParallelizePass(plan));
    pm.addPass(strata::createStrataPartitionPass());
    strata::StrataStagePassOptions stage;
    stage.entry = entry;
    pm.addPass(strata::createStrataStagePass(stage));
    strata::StrataRoutePassOptions route;
    route.algorithm = collectiveAlgorithm;
    pm.addPass(strata::createStrataRoutePass(route));
    if (fuse)
      pm.addPass(strata::createStrataFusePass());
    if (tile) {
      pm.addPass(strata::createStrataTilePass());
      pm.addPass(strata::createStrataPlacePass());
    }
  }

  FunctionOpInterface findEntry(ModuleOp module) {
    FunctionOpInterface found;
    for (auto fn : module.getOps<FunctionOpInterface>()) {
      if (fn.isExternal())
        continue;
      if (!entry.empty() ? fn.getName() == entry : fn.isPublic()) {
        if (found && entry.empty())
          return {};
        found = fn;
      }
    }
    return found;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // A bad value would fail every candidate the same way: say so once.
    if (std::optional<strata::OptionProblem> bad = strata::checkTrainingOptions(
            microbatches, interleave, schedule, zero, recompute)) {
      module.emitError("strata-plan-search: ") << bad->message;
      return signalPassFailure();
    }
    FailureOr<strata::hw::System> resolved = strata::arch::resolveSystemModel(module, "");
    if (failed(resolved))
      return signalPassFailure();
    const strata::hw::System &sys = *resolved;
    if (!findEntry(module)) {
      mlir::emitError(module.getLoc(), "strata-plan-search: ")
          << (entry.empty() ? "no single public entry function; name it "
                              "with entry="
                            : "no entry function named '" + entry + "'");
      return signalPassFailure();
    }
    int64_t experts = 0;
    if (auto model = module->getAttrOfType<DictionaryAttr>("strata.model"))
      if (auto e = model.getAs<IntegerAttr>("experts"))
        experts = e.getInt();

    SmallVector<Candidate> tried;
    strata::cost::CostModel costModel(sys);
    OpBuilder b(module.getContext());
    for (int64_t tp : divisors(sys.devices))
      for (int64_t pp : divisors(sys.devices / tp))
        for (int64_t ep : experts > 0 ? divisors(sys.devices / (tp * pp))
                                      : SmallVector<int64_t>{1}) {
          Candidate c;
          c.tp = tp;
          c.pp = pp;
          c.dp = sys.devices / (tp * pp);
          c.ep = ep;
          evaluate(module, c, costModel, b);
          tried.push_back(std::move(c));
        }

    // Fastest first: plans that compile and fit, by throughput (or latency
    // when the program processes no tokens); then the rest.
    std::stable_sort(tried.begin(), tried.end(),
                     [](const Candidate &a, const Candidate &c) {
                       bool ua = a.status == "ok" && a.fits;
                       bool uc = c.status == "ok" && c.fits;
                       if (ua != uc)
                         return ua;
                       if (a.tokensPerSecond != c.tokensPerSecond)
                         return a.tokensPerSecond > c.tokensPerSecond;
                       return a.latency < c.latency;
                     });
    if (tried.empty() || tried.front().status != "ok" ||
        !tried.front().fits) {
      InFlightDiagnostic diag =
          mlir::emitError(module.getLoc(), "strata-plan-search: none of the ")
          << tried.size() << " plans for the " << sys.devices << " devices of '"
          << sys.name << "' compiles and fits";
      for (const Candidate &c : llvm::make_range(
               tried.begin(), tried.begin() + std::min<size_t>(tried.size(), 8)))
        diag.attachNote() << "tp=" << c.tp << " pp=" << c.pp << " dp=" << c.dp
                          << " ep=" << c.ep << ": "
                          << (c.status == "ok"
                                  ? "needs " +
                                        strata::hw::formatBinaryBytesApprox(
                                            c.footprint) +
                                        " per device, more than " +
                                        strata::hw::formatBinaryBytesApprox(
                                            c.capacity)
                                  : c.status);
      return signalPassFailure();
    }

    // Apply the winner to the module itself.
    OpPassManager pm(ModuleOp::getOperationName());
    buildPlanPipeline(pm, tried.front());
    if (failed(runPipeline(pm, module)))
      return signalPassFailure();

    SmallVector<Attribute> rows;
    for (const Candidate &c : tried) {
      SmallVector<NamedAttribute> row = {
          b.getNamedAttr("tp", b.getI64IntegerAttr(c.tp)),
          b.getNamedAttr("pp", b.getI64IntegerAttr(c.pp)),
          b.getNamedAttr("dp", b.getI64IntegerAttr(c.dp)),
          b.getNamedAttr("ep", b.getI64IntegerAttr(c.ep)),
          b.getNamedAttr("status", b.getStringAttr(c.status)),
          b.getNamedAttr("fits", b.getBoolAttr(c.fits)),
          b.getNamedAttr("latency_s", b.getF64FloatAttr(c.latency)),
          b.getNamedAttr("tokens_per_s", b.getF64FloatAttr(c.tokensPerSecond)),
          b.getNamedAttr("mfu", b.getF64FloatAttr(c.mfu)),
          b.getNamedAttr("footprint_bytes", b.getF64FloatAttr(c.footprint))};
      rows.push_back(b.getDictionaryAttr(row));
    }
    module->setAttr("strata.plan_search", b.getArrayAttr(rows));
  }

  /// Compiles a copy of `module` under `c` and prices it; `c.status` says
  /// why a plan was rejected (the first error the passes reported).
  void evaluate(ModuleOp module, Candidate &c,
                const strata::cost::CostModel &costModel, OpBuilder &b) {
    // The copy lives inside the module while it compiles, so the nested
    // pipeline runs on an op this pass owns.
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    auto copy = cast<ModuleOp>(b.clone(*module.getOperation()));
    copy->removeAttr("strata.plan_search");
    std::string firstError;
    {
      ScopedDiagnosticHandler capture(
          module.getContext(), [&](Diagnostic &d) {
            if (d.getSeverity() == DiagnosticSeverity::Error &&
                firstError.empty())
              firstError = d.str();
            return success(); // candidates fail quietly; the table says why
          });
      OpPassManager pm(ModuleOp::getOperationName());
      buildPlanPipeline(pm, c);
      if (failed(runPipeline(pm, copy))) {
        c.status = firstError.empty() ? "the plan does not compile"
                                      : firstError;
        copy.erase();
        return;
      }
      FunctionOpInterface fn = findEntry(copy);
      if (!fn) {
        c.status = "no entry function after partitioning";
        copy.erase();
        return;
      }
      strata::report::CostReport r = strata::analysis::estimateProgram(fn, costModel);
      c.latency = r.latency;
      c.tokensPerSecond = r.tokensPerSecond;
      c.mfu = r.mfu;
      c.footprint = r.footprintTotal();
      c.capacity = r.capacity;
      c.fits = r.footprintTotal() <= r.capacity;
      c.status = "ok";
    }
    copy.erase();
  }
};

} // namespace
