//===- strata-translate.cpp - Imports and exports -------------------------===//
//
// Translations between Strata's IR and the outside world:
//   --import-system-json   system JSON      -> module carrying arch.system
//   --export-system-json   module / preset  -> system JSON
//
//===----------------------------------------------------------------------===//

#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Json.h"
#include "strata/InitAll.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <cstring>
#include <vector>

using namespace mlir;
using namespace strata;

static llvm::cl::opt<std::string> systemSpec(
    "system",
    llvm::cl::desc("System for --export-system-json: a preset name or a "
                   ".json/.mlir file (default: the input module's "
                   "arch.system)"),
    llvm::cl::init(""));

static void registerSystemTranslations() {
  TranslateToMLIRRegistration importJson(
      "import-system-json", "Import a system description from JSON",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        ctx->getOrLoadDialect<arch::ArchDialect>();
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        Location loc = FileLineColLoc::get(
            ctx, buffer->getBufferIdentifier(), /*line=*/1, /*column=*/1);
        llvm::Expected<hw::System> sys =
            hw::parseSystemJSON(buffer->getBuffer());
        if (!sys) {
          emitError(loc) << "invalid system JSON: "
                         << llvm::toString(sys.takeError());
          return nullptr;
        }
        OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
        (*module)->setAttr(arch::ArchDialect::kSystemAttrName,
                           arch::toAttr(ctx, *sys));
        return module;
      },
      [](DialectRegistry &registry) { strata::registerAllDialects(registry); });

  TranslateFromMLIRRegistration exportJson(
      "export-system-json", "Export the target system as JSON",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        FailureOr<arch::SystemAttr> sys =
            arch::resolveSystem(module, systemSpec);
        if (failed(sys))
          return failure();
        os << llvm::formatv("{0:2}", hw::toJSON(arch::toModel(*sys))) << "\n";
        return success();
      },
      [](DialectRegistry &registry) { strata::registerAllDialects(registry); });
}

int main(int argc, char **argv) {
  registerSystemTranslations();
  // `--export-system-json --system=<preset>` needs no input: read an empty
  // module instead of waiting on stdin.
  std::vector<char *> args(argv, argv + argc);
  bool exporting = false, hasSystem = false, hasInput = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--export-system-json") ||
        !std::strcmp(argv[i], "-export-system-json"))
      exporting = true;
    else if (!std::strncmp(argv[i], "--system=", 9) ||
             !std::strncmp(argv[i], "-system=", 8))
      hasSystem = true;
    else if (argv[i][0] != '-' || !std::strcmp(argv[i], "-"))
      hasInput = true;
  }
  static char devNull[] = "/dev/null";
  if (exporting && hasSystem && !hasInput)
    args.push_back(devNull);
  return failed(mlirTranslateMain(int(args.size()), args.data(),
                                  "Strata translations"));
}
