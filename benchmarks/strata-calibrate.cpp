//===- strata-calibrate.cpp - Cost model error on published figures -------===//
//
// Usage: strata-calibrate [REFERENCE_DIR] [--cases]  (default: test/data/reference)
// Files: gemm.json and attention.json through the cost core; inference.json
// end to end (workload generator, strata-tile, estimate).
// Prints, per reference file, the mean absolute percentage error, the worst
// case and the cases outside their tolerance (all cases with --cases).
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Inference.h"
#include "strata/Calibration/Training.h"
#include "strata/Cost/Calibration.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <string>

using namespace strata::cost;

static void print(const FileResult &f, bool allCases) {
  llvm::outs() << f.file << "\n";
  int outside = 0, skipped = 0;
  for (const CaseResult &c : f.cases) {
    if (!c.skipped.empty()) {
      ++skipped;
      llvm::outs() << llvm::format("  %-58s skipped: %s\n", c.id.c_str(),
                                   c.skipped.c_str());
      continue;
    }
    bool ok = c.withinTolerance();
    outside += !ok;
    if (allCases || !ok)
      llvm::outs() << llvm::format(
          "  %-58s measured %8.1f  model %8.1f  error %+6.1f%%%s\n",
          c.id.c_str(), c.measured, c.estimated, c.errorPct(),
          ok ? "" : "  (outside tolerance)");
  }
  const CaseResult *w = f.worst();
  llvm::outs() << llvm::format(
      "  => %d cases run, %d skipped, MAPE %.1f%%, worst %s %+.1f%%, %d "
      "outside tolerance\n",
      f.ran(), skipped, f.mape(), w ? w->id.c_str() : "-",
      w ? w->errorPct() : 0.0, outside);
}

int main(int argc, char **argv) {
  std::string dir = STRATA_REFERENCE_DIR;
  bool allCases = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--cases"))
      allCases = true;
    else
      dir = argv[i];
  }
  int status = 0;
  using Evaluator = llvm::Expected<FileResult> (*)(const std::string &);
  const std::pair<const char *, Evaluator> files[] = {
      {"/gemm.json", evaluateGemmFile},
      {"/attention.json", evaluateAttentionFile},
      {"/inference.json", strata::calibration::evaluateInferenceFile},
      {"/training.json", strata::calibration::evaluateTrainingFile}};
  for (auto [name, eval] : files) {
    std::string file = dir + name;
    llvm::Expected<FileResult> r = eval(file);
    if (!r) {
      llvm::errs() << "strata-calibrate: " << llvm::toString(r.takeError())
                   << "\n";
      status = 1;
      continue;
    }
    print(*r, allCases);
  }
  return status;
}
