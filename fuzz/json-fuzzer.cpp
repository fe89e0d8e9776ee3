//===- json-fuzzer.cpp - libFuzzer harness over Strata's JSON importers ---===//
//
// One input is read two ways: as a system description
// (hw::parseSystemJSON, then hw::validate and the derived queries a valid
// system answers) and as a Hugging Face config.json
// (workload::parseModelConfig, then validateModelConfig and, for a valid
// config of modest size, buildTransformerModule in decode mode). Rejections
// are expected; the fuzzer looks for crashes, sanitizer reports and stalls.
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/Json.h"
#include "strata/Hardware/System.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace {

void fuzzSystem(llvm::StringRef text) {
  llvm::Expected<strata::hw::System> sys = strata::hw::parseSystemJSON(text);
  if (!sys) {
    llvm::consumeError(sys.takeError());
    return;
  }
  // A parsed system is validated; one without problems round-trips.
  if (!strata::hw::validate(*sys).empty())
    return;
  std::string again;
  llvm::raw_string_ostream os(again);
  os << strata::hw::toJSON(*sys);
  llvm::Expected<strata::hw::System> back =
      strata::hw::parseSystemJSON(again);
  if (!back) {
    llvm::errs() << "strata-fuzz-json: a valid system does not round-trip: "
                 << llvm::toString(back.takeError()) << "\n";
    std::abort();
  }
}

void fuzzModelConfig(llvm::StringRef text, mlir::DialectRegistry &registry) {
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  mlir::ScopedDiagnosticHandler quiet(
      &ctx, [](mlir::Diagnostic &) { return mlir::success(); });
  llvm::FailureOr<strata::workload::ModelConfig> config =
      strata::workload::parseModelConfig(text, "fuzz.json", "fuzz", &ctx);
  if (mlir::failed(config) ||
      mlir::failed(strata::workload::validateModelConfig(
          *config, mlir::UnknownLoc::get(&ctx))))
    return;
  // Building is linear in the layer count; keep a run short.
  if (config->layers > 4)
    return;
  strata::workload::WorkloadOptions options;
  options.mode = strata::workload::WorkloadMode::Decode;
  options.seq = 1;
  options.kvLen = 16;
  (void)strata::workload::buildTransformerModule(*config, options, &ctx);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    strata::workload::registerWorkloadDialects(*r);
    return r;
  }();
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  fuzzSystem(text);
  fuzzModelConfig(text, *registry);
  return 0;
}
