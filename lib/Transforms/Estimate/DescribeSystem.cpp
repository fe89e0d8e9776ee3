//===- DescribeSystem.cpp - Print the target system -----------------------===//

#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Report/SystemSummary.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

namespace strata {
#define GEN_PASS_DEF_STRATADESCRIBESYSTEMPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {
struct DescribeSystemPass
    : strata::impl::StrataDescribeSystemPassBase<DescribeSystemPass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<strata::arch::SystemAttr> sys =
        strata::arch::resolveSystem(getOperation(), system);
    if (failed(sys))
      return signalPassFailure();
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> out =
        openOutputFile(output, &error);
    if (!out) {
      getOperation().emitError() << "cannot open '" << output
                                 << "': " << error;
      return signalPassFailure();
    }
    strata::report::printSystemSummary(strata::arch::toModel(*sys),
                                       out->os());
    out->keep();
    markAllAnalysesPreserved();
  }
};
} // namespace
