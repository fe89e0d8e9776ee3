//===- ir-fuzzer.cpp - libFuzzer harness over Strata's IR path ------------===//
//
// One input is an MLIR source text, split like `-split-input-file` at lines
// of `// -----` (so the project's lit inputs are seeds as they stand). Each
// chunk is parsed, verified and, when it verifies, run through
// `strata-pipeline` on a preset with the report written to /dev/null. Bad
// input may fail with diagnostics (swallowed here); what the fuzzer looks
// for is a crash, a sanitizer report, a leak or a stall.
//
// STRATA_FUZZ_PIPELINE overrides the pipeline (a textual pass pipeline on
// builtin.module), e.g. to fuzz a parallel plan.
//
//===----------------------------------------------------------------------===//

#include "strata/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

const char *kDefaultPipeline =
    "builtin.module(strata-pipeline{system=h100-sxm report=json "
    "report-file=/dev/null})";

/// The upstream parser stalls (tens of seconds, GBs) on a result number
/// like `%y#999999999` before it reports it (see shared/crashes). That is
/// not Strata's bug; skip inputs with a result number of 5+ digits so the
/// fuzzer looks for Strata's.
bool hasHugeResultNumber(llvm::StringRef text) {
  for (size_t i = text.find('#'); i != llvm::StringRef::npos;
       i = text.find('#', i + 1)) {
    size_t digits = 0;
    while (i + 1 + digits < text.size() &&
           llvm::isDigit(text[i + 1 + digits]))
      ++digits;
    if (digits >= 5)
      return true;
  }
  return false;
}

struct Harness {
  mlir::DialectRegistry registry;
  std::string pipeline;

  Harness() {
    strata::registerAllDialects(registry);
    strata::registerAllPasses();
    const char *env = std::getenv("STRATA_FUZZ_PIPELINE");
    pipeline = env && *env ? env : kDefaultPipeline;
  }

  void runOne(llvm::StringRef text) {
    if (hasHugeResultNumber(text))
      return;
    mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
    // Diagnostics are expected on bad input; keep them off stderr.
    mlir::ScopedDiagnosticHandler quiet(
        &ctx, [](mlir::Diagnostic &) { return mlir::success(); });
    llvm::SourceMgr sm;
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz"),
                          llvm::SMLoc());
    mlir::OwningOpRef<mlir::Operation *> op =
        mlir::parseSourceFile(sm, mlir::ParserConfig(&ctx));
    if (!op || mlir::failed(mlir::verify(*op)))
      return;
    mlir::PassManager pm(&ctx, op.get()->getName().getStringRef());
    std::string error;
    llvm::raw_string_ostream errs(error);
    if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, errs))) {
      llvm::errs() << "strata-fuzz-ir: bad pipeline: " << error << "\n";
      std::abort();
    }
    (void)pm.run(op.get());
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Harness *harness = new Harness();
  llvm::StringRef input(reinterpret_cast<const char *>(data), size);
  // Split like -split-input-file.
  while (true) {
    size_t cut = input.find("// -----");
    harness->runOne(input.substr(0, cut));
    if (cut == llvm::StringRef::npos)
      break;
    input = input.substr(cut + 8);
  }
  return 0;
}
