//===- SystemLoader.h - How a system reaches a module ------------*- C++ -*-===//
//
// The one mechanism every pass and tool uses to find the target system: a
// `system=` spec (a preset name, or a path to a .json or .mlir file) or the
// module's `arch.system` attribute.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_ARCH_UTILS_SYSTEMLOADER_H
#define STRATA_DIALECT_ARCH_UTILS_SYSTEMLOADER_H

#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Hardware/System.h"

#include "mlir/IR/BuiltinOps.h"

namespace strata::arch {

/// Loads the system named by `spec`: a preset name (see hw::presetNames), a
/// `.json` file (docs/system-json.md) or a `.mlir` file whose module carries
/// `arch.system` (or whose only content is a `#arch.system` alias). Errors
/// are reported through `emitError`.
mlir::FailureOr<SystemAttr>
loadSystem(mlir::MLIRContext *ctx, llvm::StringRef spec,
           llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

/// The module's target system. With a non-empty `spec`, loads it and attaches
/// it to the module (replacing any attached system); otherwise reads the
/// attached `arch.system`. Fails with a diagnostic on the module when neither
/// gives a system.
mlir::FailureOr<SystemAttr> resolveSystem(mlir::ModuleOp module,
                                          llvm::StringRef spec);

/// resolveSystem, returning the hardware model the cost core reads.
mlir::FailureOr<hw::System> resolveSystemModel(mlir::ModuleOp module,
                                               llvm::StringRef spec);

/// The system attached to `op`'s enclosing module (or `op` itself), or null.
SystemAttr getAttachedSystem(mlir::Operation *op);

} // namespace strata::arch

#endif // STRATA_DIALECT_ARCH_UTILS_SYSTEMLOADER_H
