//===- Estimate.cpp - Cost a program and write the report -----------------===//

#include "strata/Analysis/ProgramChecks.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Units.h"
#include "strata/Report/ProgramSummary.h"
#include "strata/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

namespace strata {
#define GEN_PASS_DEF_STRATAESTIMATEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

enum class Format { Text, Json, Csv, Trace };

/// The functions to estimate: `name` if given, else every public function
/// with a body (one report for one, a summary row each for several).
FailureOr<SmallVector<FunctionOpInterface>> findEntries(ModuleOp module,
                                                        llvm::StringRef name) {
  if (!name.empty()) {
    auto fn = dyn_cast_if_present<FunctionOpInterface>(
        SymbolTable::lookupSymbolIn(module, name));
    if (!fn || fn.isExternal())
      return module.emitError() << "entry function '" << name
                                << "' is not defined in the module";
    return SmallVector<FunctionOpInterface>{fn};
  }
  SmallVector<FunctionOpInterface> candidates;
  for (auto fn : module.getOps<FunctionOpInterface>())
    if (!fn.isExternal() && fn.isPublic())
      candidates.push_back(fn);
  if (candidates.empty())
    return module.emitError() << "no public function with a body to estimate";
  return candidates;
}

struct EstimatePass
    : strata::impl::StrataEstimatePassBase<EstimatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Format> fmt =
        llvm::StringSwitch<std::optional<Format>>(format)
            .Case("text", Format::Text)
            .Case("json", Format::Json)
            .Case("csv", Format::Csv)
            .Case("trace", Format::Trace)
            .Default(std::nullopt);
    if (!fmt) {
      module.emitError() << "unknown report format '" << format
                         << "' (expected text, json, csv or trace)";
      return signalPassFailure();
    }
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    FailureOr<SmallVector<FunctionOpInterface>> entries =
        findEntries(module, entry);
    if (failed(entries))
      return signalPassFailure();
    for (FunctionOpInterface entryFn : *entries)
      if (failed(analysis::verifyPriceable(entryFn)))
        return signalPassFailure();
    bool summary = entries->size() > 1;
    if (summary && *fmt == Format::Trace) {
      InFlightDiagnostic diag = module.emitError();
      diag << "report=trace is one function's timeline; several public "
              "functions (";
      llvm::interleaveComma(*entries, diag, [&](FunctionOpInterface f) {
        diag << f.getName();
      });
      diag << "): choose one with entry=";
      return signalPassFailure();
    }

    if (remarkAboveFloor != 0 && !(remarkAboveFloor >= 1)) {
      module.emitError() << "remark-above-floor=" << remarkAboveFloor
                         << " is below 1: no op runs faster than its "
                            "roofline floor (0 turns the remarks off)";
      return signalPassFailure();
    }
    std::optional<cost::LaunchMode> launchMode = cost::parseLaunchMode(launch);
    if (!launchMode) {
      module.emitError() << "unknown launch mode '" << launch
                         << "' (expected eager or graph)";
      return signalPassFailure();
    }
    hw::System sys = std::move(*resolved);
    // On a grid chip strata-residency (after strata-tile) may keep tensors
    // on chip: the early check leaves the footprint to the final estimate.
    if (fitOnly && (sys.chip.grid || sys.chip.noc))
      return;
    cost::CostModel model(sys, *launchMode);
    Builder b(&getContext());
    analysis::ProgramCostOptions options;
    auto onOp = [&](Operation *op, const cost::Estimate &e) {
      if (!annotate || fitOnly)
        return;
      op->setAttr("strata.cost",
                  b.getDictionaryAttr({
                      b.getNamedAttr("bound_by", b.getStringAttr(e.boundBy)),
                      b.getNamedAttr("flops", b.getI64IntegerAttr(int64_t(e.flops))),
                      b.getNamedAttr("time_s", b.getF64FloatAttr(e.time)),
                  }));
    };
    options.onOp = onOp;
    options.remarkAboveFloor = fitOnly ? 0.0 : double(remarkAboveFloor);
    if (fitOnly)
      options.maxTraceEvents = 0;
    std::vector<report::CostReport> reports;
    for (FunctionOpInterface entryFn : *entries) {
      reports.push_back(analysis::estimateProgram(entryFn, model, options));
      const report::CostReport &r = reports.back();
      if (!r.unpriced.empty() && !fitOnly) {
        InFlightDiagnostic diag = entryFn->emitWarning()
                                  << "ops Strata cannot model were not costed: ";
        llvm::interleaveComma(r.unpriced, diag, [&](const auto &u) {
          diag << u.op << " x" << int64_t(std::llround(u.count));
        });
      }
    }

    if (fitOnly)
      return checkFits(*entries, reports);

    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
    if (!out) {
      module.emitError() << "cannot open '" << output << "': " << error;
      return signalPassFailure();
    }
    if (summary) {
      switch (*fmt) {
      case Format::Text:
        report::writeProgramsText(reports, out->os());
        break;
      case Format::Json:
        report::writeProgramsJson(reports, out->os());
        break;
      case Format::Csv:
      case Format::Trace: // rejected above
        report::writeProgramsCsv(reports, out->os());
        break;
      }
    } else {
      const report::CostReport &r = reports.front();
      switch (*fmt) {
      case Format::Text:
        report::writeText(r, out->os());
        break;
      case Format::Json:
        report::writeJson(r, out->os());
        break;
      case Format::Csv:
        report::writeCsv(r, out->os());
        break;
      case Format::Trace:
        report::writeTrace(r, out->os());
        if (report::traceTruncated(r))
          entries->front()->emitWarning()
              << "the trace is cut at " << report::kMaxTraceEvents
              << " events (op executions or pipeline slots); the report's "
                 "totals cover the whole program";
        break;
      }
    }
    out->keep();

    // A program whose data does not fit is an error, after the report so
    // the user sees the breakdown in both places.
    checkFits(*entries, reports);
  }

  /// The error of every entry whose footprint exceeds its capacity level.
  void checkFits(ArrayRef<FunctionOpInterface> entries,
                 const std::vector<report::CostReport> &reports) {
    bool fits = true;
    for (auto [entryFn, r] : llvm::zip(entries, reports)) {
      if (r.footprintTotal() <= r.capacity)
        continue;
      fits = false;
      InFlightDiagnostic diag =
          entryFn->emitError()
          << "memory footprint "
          << hw::formatBinaryBytesApprox(r.footprintTotal())
          << " exceeds " << r.capacityLevel << " capacity "
          << hw::formatBinaryBytesApprox(r.capacity)
          << " of " << r.chip << " (";
      llvm::interleaveComma(r.footprint, diag, [&](const auto &f) {
        diag << f.what << " "
             << hw::formatBinaryBytesApprox(f.bytes);
      });
      diag << ")";
    }
    if (!fits)
      signalPassFailure();
  }
};

} // namespace
