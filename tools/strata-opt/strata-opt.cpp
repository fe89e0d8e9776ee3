//===- strata-opt.cpp - Strata's opt-style driver -------------------------===//
//
// mlir-opt with Strata's dialects and passes, and three differences a user
// sees (docs/diagnostics.md):
//  - --help lists Strata's passes and pipelines first and hides libLLVM's
//    backend flags (--help-hidden shows everything);
//  - diagnostics print without the attached op's IR
//    (--mlir-print-op-on-diagnostic turns it on);
//  - remarks are summarised in one line (--strata-remarks lists them).
//
//===----------------------------------------------------------------------===//

#include "../ToolOptions.h"
#include "strata/InitAll.h"

#include "mlir/Debug/Counter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

/// Prints Strata's registered passes and pipelines (those named strata-*)
/// with their options, in the layout of upstream's pass list.
void printStrataPasses(size_t width) {
  std::vector<std::string> pipelines, passes;
  for (const auto &entry : cl::getRegisteredOptions()) {
    llvm::StringRef name = entry.first;
    if (!name.starts_with("strata-"))
      continue;
    if (PassPipelineInfo::lookup(name))
      pipelines.push_back(name.str());
    else if (PassInfo::lookup(name))
      passes.push_back(name.str());
  }
  llvm::sort(pipelines);
  llvm::sort(passes);
  llvm::outs().indent(4) << "Pipelines (--<name>=\"opt=value ...\", or in "
                            "--pass-pipeline):\n";
  for (const std::string &p : pipelines)
    PassPipelineInfo::lookup(p)->printHelpStr(/*indent=*/6, width);
  llvm::outs().indent(4) << "Passes:\n";
  for (const std::string &p : passes)
    PassInfo::lookup(p)->printHelpStr(/*indent=*/6, width);
}

/// A flag whose --help entry is followed by Strata's passes and pipelines
/// (upstream's full pass list is --list-passes).
struct PassListParser : cl::parser<bool> {
  using cl::parser<bool>::parser;
  size_t getOptionWidth(const cl::Option &o) const {
    return std::max<size_t>(cl::parser<bool>::getOptionWidth(o), 40);
  }
  void printOptionInfo(const cl::Option &o, size_t width) const {
    cl::parser<bool>::printOptionInfo(o, width);
    printStrataPasses(width);
  }
};

cl::opt<bool, false, PassListParser> listPasses(
    "strata-passes",
    cl::desc("List Strata's passes and pipelines with their options, then "
             "exit"),
    cl::cat(strata::tools::strataCategory()));

cl::opt<bool> showRemarks(
    "strata-remarks",
    cl::desc("Print every remark (what a pass left alone and why); by "
             "default they are counted in one line"),
    cl::init(false), cl::cat(strata::tools::strataCategory()));

/// Counts the remarks of every context it is attached to, by kind (the
/// message up to its first ':' or parenthesis), instead of printing them.
struct RemarkSummary {
  /// Kinds in order of first appearance, with their counts.
  std::vector<std::pair<std::string, int64_t>> kinds;
  int64_t total = 0;

  void attach(MLIRContext *ctx) {
    // Registered after the tool's printer, so it sees each diagnostic
    // first; returning success consumes a remark (and its notes).
    ctx->getDiagEngine().registerHandler([this](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Remark)
        return failure();
      std::string message = d.str();
      llvm::StringRef kind = llvm::StringRef(message).split(':').first;
      kind = kind.split(" (").first;
      std::string key = kind.take_front(60).rtrim().str();
      auto it = llvm::find_if(kinds, [&](auto &k) { return k.first == key; });
      if (it == kinds.end())
        kinds.push_back({key, 1});
      else
        ++it->second;
      ++total;
      return success();
    });
  }

  void print(llvm::StringRef input) const {
    if (!total)
      return;
    llvm::errs() << (input == "-" ? "<stdin>" : input) << ": remark: "
                 << total << (total == 1 ? " remark" : " remarks") << " (";
    llvm::interleaveComma(kinds, llvm::errs(), [](const auto &k) {
      llvm::errs() << k.second << " x '" << k.first << "'";
    });
    llvm::errs() << "); --strata-remarks lists them\n";
  }
};

/// Upstream's parser takes tens of seconds and gigabytes to reject a result
/// number such as `%y#999999999` (shared/crashes/huge-result-number.mlir).
/// An op cannot have more results than its input has bytes (each result
/// needs a type), so such a reference is rejected before parsing. Comments
/// and string literals are skipped.
LogicalResult checkResultNumbers(const llvm::MemoryBuffer &buffer) {
  llvm::StringRef text = buffer.getBuffer();
  auto isIdent = [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '-';
  };
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    }
    if (c == '/' && i + 1 < e && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == llvm::StringRef::npos)
        break;
      continue;
    }
    if (c != '%')
      continue;
    size_t j = i + 1;
    while (j < e && isIdent(text[j]))
      ++j;
    if (j == i + 1 || j >= e || text[j] != '#') {
      i = j - 1;
      continue;
    }
    size_t start = j + 1, end = start;
    while (end < e && llvm::isDigit(text[end]))
      ++end;
    uint64_t number = 0;
    bool huge = end - start > 18 ||
                text.slice(start, end).getAsInteger(10, number);
    if (end > start && (huge || number >= text.size())) {
      llvm::SourceMgr sm;
      sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBuffer(
                                buffer.getMemBufferRef(),
                                /*RequiresNullTerminator=*/false),
                            llvm::SMLoc());
      sm.PrintMessage(llvm::SMLoc::getFromPointer(text.data() + i),
                      llvm::SourceMgr::DK_Error,
                      "result number " + text.slice(start, end) +
                          " in '" + text.slice(i, end) +
                          "' cannot exist in a " +
                          std::to_string(text.size()) +
                          "-byte input (no op has that many results)");
      return failure();
    }
    i = end - 1;
  }
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  strata::registerAllDialects(registry);
  strata::registerAllPasses();

  static cl::opt<std::string> inputFilename(
      cl::Positional, cl::desc("<input file>"), cl::init("-"));
  static cl::opt<std::string> outputFilename(
      "o", cl::desc("Output filename"), cl::value_desc("filename"),
      cl::init("-"));
  // Upstream's options, registered before parsing so that --help can be
  // arranged and a default changed.
  MlirOptMainConfig::registerCLOptions(registry);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  tracing::DebugCounter::registerCLOptions();
  strata::tools::printOpOnDiagnosticByDefault(false);
  strata::tools::hideUnrelatedOptions({&strata::tools::strataCategory()});

  std::string header = "Strata: compiler for accelerator co-design\n\n"
                       "Dialects: ";
  {
    llvm::raw_string_ostream os(header);
    llvm::interleaveComma(registry.getDialectNames(), os);
  }
  cl::ParseCommandLineOptions(argc, argv, header);

  if (listPasses) {
    printStrataPasses(/*width=*/48);
    return 0;
  }

  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  RemarkSummary remarks;
  if (!showRemarks && !config.shouldVerifyDiagnostics()) {
    MlirOptMainConfig upstream = config;
    config.setPassPipelineSetupFn([upstream, &remarks](PassManager &pm) {
      remarks.attach(pm.getContext());
      return upstream.setupPassPipeline(pm);
    });
  }

  // --show-dialects and --list-passes read no input.
  if (config.shouldShowDialects() || config.shouldListPasses())
    return failed(MlirOptMain(llvm::outs(), llvm::MemoryBuffer::getMemBuffer(""),
                              registry, config));
  if (inputFilename == "-" &&
      llvm::sys::Process::FileDescriptorIsDisplayed(fileno(stdin)))
    llvm::errs() << "(processing input from stdin now, hit ctrl-c/ctrl-d to "
                    "interrupt)\n";

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << "strata-opt: " << error << "\n";
    return 1;
  }
  if (failed(checkResultNumbers(*input)))
    return 1;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "strata-opt: " << error << "\n";
    return 1;
  }
  LogicalResult result =
      MlirOptMain(output->os(), std::move(input), registry, config);
  remarks.print(inputFilename);
  if (failed(result))
    return 1;
  output->keep();
  return 0;
}
