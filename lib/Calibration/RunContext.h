//===- RunContext.h - The MLIR context a calibration runner prices in ----===//
//
// Every runner (inference, training, spatial) generates each case's model
// and runs the pipeline on it in one context with all of Strata's dialects.
// Remarks of the builder and passes (a generated program larger than a
// chip's memory is still priced) are not the runner's output: the context
// swallows diagnostics, and a runner that needs a case's errors installs
// its own handler around that run.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_CALIBRATION_RUNCONTEXT_H
#define STRATA_LIB_CALIBRATION_RUNCONTEXT_H

#include "strata/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

namespace strata::calibration {

struct RunContext {
  RunContext() : ctx(registry()) { ctx.loadAllAvailableDialects(); }
  RunContext(const RunContext &) = delete;
  RunContext &operator=(const RunContext &) = delete;

  mlir::MLIRContext ctx;

private:
  static mlir::DialectRegistry registry() {
    mlir::DialectRegistry r;
    registerAllDialects(r);
    return r;
  }
  mlir::ScopedDiagnosticHandler quiet{
      &ctx, [](mlir::Diagnostic &) { return mlir::success(); }};
};

} // namespace strata::calibration

#endif // STRATA_LIB_CALIBRATION_RUNCONTEXT_H
