//===- Estimate.cpp - Cost a program and write the report -----------------===//

#include "strata/Analysis/ProgramChecks.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Units.h"
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

/// The function the report starts from: `name` if given, else the single
/// public function with a body.
FailureOr<FunctionOpInterface> findEntry(ModuleOp module,
                                         llvm::StringRef name) {
  if (!name.empty()) {
    auto fn = dyn_cast_if_present<FunctionOpInterface>(
        SymbolTable::lookupSymbolIn(module, name));
    if (!fn || fn.isExternal())
      return module.emitError() << "entry function '" << name
                                << "' is not defined in the module";
    return fn;
  }
  SmallVector<FunctionOpInterface> candidates;
  for (auto fn : module.getOps<FunctionOpInterface>())
    if (!fn.isExternal() && fn.isPublic())
      candidates.push_back(fn);
  if (candidates.size() == 1)
    return candidates.front();
  InFlightDiagnostic diag = module.emitError();
  if (candidates.empty())
    diag << "no public function with a body to estimate";
  else {
    diag << "several public functions (";
    llvm::interleaveComma(candidates, diag,
                          [&](FunctionOpInterface f) { diag << f.getName(); });
    diag << "); choose one with entry=";
  }
  return failure();
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
    FailureOr<FunctionOpInterface> entryFn = findEntry(module, entry);
    if (failed(entryFn) || failed(analysis::verifyPriceable(*entryFn)))
      return signalPassFailure();

    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    Builder b(&getContext());
    analysis::ProgramCostOptions options;
    auto onOp = [&](Operation *op, const cost::Estimate &e) {
      if (!annotate)
        return;
      op->setAttr("strata.cost",
                  b.getDictionaryAttr({
                      b.getNamedAttr("bound_by", b.getStringAttr(e.boundBy)),
                      b.getNamedAttr("flops", b.getI64IntegerAttr(int64_t(e.flops))),
                      b.getNamedAttr("time_s", b.getF64FloatAttr(e.time)),
                  }));
    };
    options.onOp = onOp;
    report::CostReport r = analysis::estimateProgram(*entryFn, model, options);

    if (!r.unmodelled.empty()) {
      InFlightDiagnostic diag = entryFn->emitWarning()
                                << "ops Strata cannot model were not costed: ";
      llvm::interleaveComma(r.unmodelled, diag, [&](const auto &u) {
        diag << u.first << " x" << int64_t(std::llround(u.second));
      });
    }

    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
    if (!out) {
      module.emitError() << "cannot open '" << output << "': " << error;
      return signalPassFailure();
    }
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
      break;
    }
    out->keep();

    // A program whose data does not fit is an error, after the report so
    // the user sees the breakdown in both places.
    if (r.footprintTotal() > r.capacity) {
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
      return signalPassFailure();
    }
  }
};

} // namespace
