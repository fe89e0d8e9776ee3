//===- Place.cpp - Peak live bytes per level of each kernel ---------------===//

#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Hardware/Units.h"
#include "strata/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"

namespace strata {
#define GEN_PASS_DEF_STRATAPLACEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

struct PlacePass : strata::impl::StrataPlacePassBase<PlacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    hw::SystemQuery query(sys);
    Builder b(module.getContext());
    bool failedAny = false;

    module.walk([&](tile::KernelOp kernel) {
      // Every allocation is live for the whole kernel (schedules allocate
      // up front and reuse buffers across loop iterations), so the peak is
      // the sum. One core's share for core-scoped levels.
      llvm::MapVector<StringRef, double> live;
      llvm::MapVector<StringRef, SmallVector<tile::AllocOp>> allocs;
      kernel.getBody().walk([&](tile::AllocOp alloc) {
        auto type = cast<tile::BufType>(alloc.getType());
        live[type.getLevel()] +=
            double(type.getSizeInBytes()) * double(alloc.getBuffers());
        allocs[type.getLevel()].push_back(alloc);
      });
      SmallVector<NamedAttribute> placement;
      for (auto &[level, bytes] : live) {
        const hw::MemoryLevel *l = query.level(level);
        if (!l)
          continue; // the dialect verifier reports unknown levels
        placement.push_back(
            b.getNamedAttr(level, b.getI64IntegerAttr(int64_t(bytes))));
        if (bytes <= double(l->capacity))
          continue;
        InFlightDiagnostic diag =
            kernel.emitError()
            << "kernel '" << kernel.getName() << "' cannot be placed: its "
            << "buffers need "
            << hw::formatBinaryBytesApprox(bytes) << " of '"
            << level << "'"
            << (l->scope == hw::Scope::Core ? " per core" : "")
            << " but an instance holds "
            << hw::formatQuantity(double(l->capacity), hw::Quantity::Bytes);
        for (tile::AllocOp a : allocs[level])
          diag.attachNote(a.getLoc())
              << a.getBuffers() << " x "
              << hw::formatBinaryBytesApprox(
                     double(cast<tile::BufType>(a.getType()).getSizeInBytes()));
        failedAny = true;
      }
      kernel->setAttr("strata.placement", b.getDictionaryAttr(placement));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
