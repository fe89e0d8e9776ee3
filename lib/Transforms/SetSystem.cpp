//===- SetSystem.cpp - Attach the target system to the module -------------===//

#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Transforms/Passes.h"

namespace strata {
#define GEN_PASS_DEF_STRATASETSYSTEMPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {
struct SetSystemPass
    : strata::impl::StrataSetSystemPassBase<SetSystemPass> {
  using Base::Base;
  void runOnOperation() override {
    if (!f32Matmul.empty()) {
      if (f32Matmul != "f32" && f32Matmul != "tf32") {
        getOperation().emitError()
            << "strata-set-system: f32-matmul must be f32 or tf32, got '"
            << f32Matmul << "'";
        return signalPassFailure();
      }
      getOperation()->setAttr(
          "strata.f32_matmul",
          StringAttr::get(&getContext(), f32Matmul.getValue()));
      if (system.empty())
        return;
    }
    if (system.empty()) {
      getOperation().emitError("strata-set-system needs system=<preset|file>");
      return signalPassFailure();
    }
    if (failed(strata::arch::resolveSystem(getOperation(), system)))
      signalPassFailure();
  }
};
} // namespace
