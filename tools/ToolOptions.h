//===- ToolOptions.h - What Strata's tools show in --help -------*- C++ -*-===//
//
// Shared by strata-opt and strata-translate: libLLVM registers hundreds of
// backend flags in every tool that links it, and upstream MLIR a few dozen
// debugging ones. --help shows Strata's options first, then the upstream
// options a user of Strata needs; the rest stay available and are listed
// by --help-hidden. Diagnostics print without the IR of the operation they
// are attached to unless --mlir-print-op-on-diagnostic asks for it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_TOOLOPTIONS_H
#define STRATA_TOOLS_TOOLOPTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

namespace strata::tools {

/// Strata's own options ("Strata options" sorts after "Generic Options",
/// which holds --help and --version, and before the upstream category).
inline llvm::cl::OptionCategory &strataCategory() {
  static llvm::cl::OptionCategory category("Strata options");
  return category;
}

/// The upstream MLIR options --help keeps.
inline llvm::cl::OptionCategory &upstreamCategory() {
  static llvm::cl::OptionCategory category(
      "Upstream MLIR options (--help-hidden lists every option)");
  return category;
}

/// Upstream options a Strata user needs (output, test and debugging flags);
/// options missing from a tool are skipped.
inline constexpr llvm::StringLiteral kUpstreamOptions[] = {
    "o",
    "split-input-file",
    "verify-diagnostics",
    "pass-pipeline",
    "list-passes",
    "show-dialects",
    "allow-unregistered-dialect",
    "dump-pass-pipeline",
    "verify-each",
    "emit-bytecode",
    "mlir-disable-threading",
    "mlir-timing",
    "mlir-pass-statistics",
    "mlir-print-op-on-diagnostic",
    "mlir-print-stacktrace-on-diagnostic",
    "mlir-disable-diagnostic-notes",
    "mlir-print-ir-before-all",
    "mlir-print-ir-after-all",
    "mlir-print-ir-after-change",
    "mlir-print-ir-after-failure",
    "mlir-print-ir-module-scope",
    "mlir-print-debuginfo",
    "mlir-print-local-scope",
    "mlir-print-op-generic",
    "mlir-elide-elementsattrs-if-larger",
    "mlir-pass-pipeline-crash-reproducer",
    "run-reproducer",
};

/// Keeps `kUpstreamOptions` (and `extra`) visible in the upstream category
/// and hides every other option outside Strata's categories. Options
/// registered after this call stay visible.
inline void
hideUnrelatedOptions(llvm::ArrayRef<const llvm::cl::OptionCategory *> strata,
                     llvm::ArrayRef<llvm::StringRef> extra = {}) {
  auto &options = llvm::cl::getRegisteredOptions();
  auto keep = [&](llvm::StringRef name) {
    if (llvm::cl::Option *o = options.lookup(name))
      o->addCategory(upstreamCategory());
  };
  for (llvm::StringRef name : kUpstreamOptions)
    keep(name);
  for (llvm::StringRef name : extra)
    keep(name);
  llvm::SmallVector<const llvm::cl::OptionCategory *> categories(strata);
  categories.push_back(&upstreamCategory());
  // As cl::HideUnrelatedOptions, but Hidden rather than ReallyHidden, so
  // that --help-hidden still lists them.
  for (auto &entry : options) {
    llvm::cl::Option *o = entry.second;
    bool related = llvm::any_of(o->Categories, [&](auto *c) {
      return c == &llvm::cl::getGeneralCategory() ? false
             : llvm::is_contained(categories, c) ||
                   llvm::StringRef(c->getName()) == "Generic Options";
    });
    if (!related && o->getOptionHiddenFlag() == llvm::cl::NotHidden)
      o->setHiddenFlag(llvm::cl::Hidden);
  }
}

/// Diagnostics without the attached operation's IR by default (upstream
/// prints the whole op, hundreds of lines for a function); the flag turns
/// it back on. Call after mlir::registerMLIRContextCLOptions().
inline void printOpOnDiagnosticByDefault(bool print) {
  if (auto *o = static_cast<llvm::cl::opt<bool> *>(
          llvm::cl::getRegisteredOptions().lookup(
              "mlir-print-op-on-diagnostic")))
    o->setInitialValue(print);
}

} // namespace strata::tools

#endif // STRATA_TOOLS_TOOLOPTIONS_H
