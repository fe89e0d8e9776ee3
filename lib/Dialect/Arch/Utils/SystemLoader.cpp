//===- SystemLoader.cpp - How a system reaches a module -------------------===//

#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Json.h"
#include "strata/Hardware/Presets.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace strata;
using namespace strata::arch;

static FailureOr<SystemAttr>
loadFromMlirFile(MLIRContext *ctx, StringRef path,
                 function_ref<InFlightDiagnostic()> emitError) {
  ctx->getOrLoadDialect<ArchDialect>();
  ParserConfig config(ctx);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, config);
  if (!module)
    return emitError() << "could not parse system file '" << path << "'";
  if (auto sys = dyn_cast_or_null<SystemAttr>(
          (*module)->getAttr(ArchDialect::kSystemAttrName)))
    return sys;
  return emitError() << "'" << path << "' has no '"
                     << ArchDialect::kSystemAttrName
                     << "' attribute on its module";
}

FailureOr<SystemAttr>
arch::loadSystem(MLIRContext *ctx, StringRef spec,
                 function_ref<InFlightDiagnostic()> emitError) {
  ctx->getOrLoadDialect<ArchDialect>();
  if (spec.ends_with(".json")) {
    auto buffer = llvm::MemoryBuffer::getFile(spec, /*IsText=*/true);
    if (!buffer)
      return emitError() << "cannot read system file '" << spec
                         << "': " << buffer.getError().message();
    // Each problem is reported at its field in the JSON file.
    std::vector<hw::LocatedProblem> problems;
    llvm::Expected<hw::System> sys =
        hw::parseSystemJSON((*buffer)->getBuffer(), problems);
    if (!sys) {
      llvm::consumeError(sys.takeError());
      for (const hw::LocatedProblem &p : problems) {
        InFlightDiagnostic diag =
            mlir::emitError(FileLineColLoc::get(ctx, spec, p.line, p.column));
        if (!p.path.empty())
          diag << p.path << ": ";
        diag << p.message;
      }
      return failure();
    }
    return toAttr(ctx, *sys);
  }
  if (spec.ends_with(".mlir"))
    return loadFromMlirFile(ctx, spec, emitError);
  if (std::optional<hw::System> preset =
          hw::getPreset(std::string_view(spec.data(), spec.size())))
    return toAttr(ctx, *preset);
  return emitError() << "unknown system '" << spec
                     << "': expected a preset name ("
                     << llvm::join(hw::presetNames(), ", ")
                     << ") or a .json / .mlir file";
}

SystemAttr arch::getAttachedSystem(Operation *op) {
  for (Operation *cur = op; cur; cur = cur->getParentOp())
    if (auto sys = dyn_cast_or_null<SystemAttr>(
            cur->getAttr(ArchDialect::kSystemAttrName)))
      return sys;
  return {};
}

FailureOr<SystemAttr> arch::resolveSystem(ModuleOp module, StringRef spec) {
  if (!spec.empty()) {
    FailureOr<SystemAttr> sys = loadSystem(
        module.getContext(), spec, [&] { return module.emitError(); });
    if (failed(sys))
      return failure();
    module->setAttr(ArchDialect::kSystemAttrName, *sys);
    return sys;
  }
  if (SystemAttr sys = getAttachedSystem(module))
    return sys;
  return module.emitError()
         << "no target system: pass system=<preset|file.json|file.mlir> or "
            "attach '"
         << ArchDialect::kSystemAttrName << "' to the module";
}

FailureOr<hw::System> arch::resolveSystemModel(ModuleOp module,
                                               llvm::StringRef spec) {
  FailureOr<SystemAttr> sys = resolveSystem(module, spec);
  if (failed(sys))
    return failure();
  return toModel(*sys);
}
