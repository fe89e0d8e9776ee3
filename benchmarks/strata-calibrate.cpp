//===- strata-calibrate.cpp - Cost model error on published figures -------===//
//
// Usage: strata-calibrate [REFERENCE_DIR] [--cases]  (default: test/data/reference)
// Files: gemm.json and attention.json through the cost core; inference.json
// end to end (workload generator, strata-tile, estimate).
// Prints, per reference file, the mean absolute percentage error, the worst
// case and the cases outside their tolerance (all cases with --cases).
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/FlashMla.h"
#include "strata/Calibration/Inference.h"
#include "strata/Calibration/Spatial.h"
#include "strata/Calibration/Training.h"
#include "strata/Cost/Calibration.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <string>

using namespace strata::cost;

static void print(const FileResult &f, bool allCases) {
  llvm::outs() << f.file << " (measured and model in " << f.unit
               << "; error = (model - measured) / measured)\n";
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
          "  %-58s measured %8.1f  model %8.1f %-9s error %+6.1f%%%s\n",
          c.id.c_str(), c.measured, c.estimated,
          (c.unit.empty() ? f.unit : c.unit).c_str(), c.errorPct(),
          ok ? "" : "  (outside tolerance)");
    if (allCases && !c.note.empty())
      llvm::outs() << "      note: " << c.note << "\n";
  }
  const CaseResult *w = f.worst();
  llvm::outs() << llvm::format(
      "  => %d cases run, %d skipped, MAPE %.1f%%, worst %s %+.1f%%, %d "
      "outside tolerance\n",
      f.ran(), skipped, f.mape(), w ? w->id.c_str() : "-",
      w ? w->errorPct() : 0.0, outside);
}

static void usage(llvm::raw_ostream &os) {
  os << "Usage: strata-calibrate [REFERENCE_DIR] [--cases]\n"
        "\n"
        "Runs the cost model on the published reference set (gemm.json and\n"
        "attention.json through the cost core, inference.json and\n"
        "training.json end to end) and prints, per file, each case outside\n"
        "its tolerance (every case with --cases) with the measured and\n"
        "modelled figures in the file's unit, the mean absolute percentage\n"
        "error (MAPE) and the worst case.\n"
        "\n"
        "  REFERENCE_DIR  directory of the reference files (default: "
     << STRATA_REFERENCE_DIR
     << ")\n"
        "  --cases        print every case, not only those outside tolerance\n"
        "  --help         print this message\n";
}

int main(int argc, char **argv) {
  std::string dir = STRATA_REFERENCE_DIR;
  bool allCases = false;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "--cases") {
      allCases = true;
    } else if (arg == "--help" || arg == "-help" || arg == "-h") {
      usage(llvm::outs());
      return 0;
    } else if (arg.starts_with("-")) {
      llvm::errs() << "strata-calibrate: unknown option '" << arg << "'\n";
      usage(llvm::errs());
      return 1;
    } else {
      dir = argv[i];
    }
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
  // Real spatial chips: tt-metal's published Wormhole n150/n300 figures, the
  // repository's own reference data (test/data/spatial-reference), end to
  // end on the wormhole presets.
  {
    llvm::Expected<FileResult> r =
        strata::calibration::evaluateSpatialFile(STRATA_SPATIAL_REFERENCE);
    if (!r) {
      llvm::errs() << "strata-calibrate: " << llvm::toString(r.takeError())
                   << "\n";
      status = 1;
    } else {
      print(*r, allCases);
    }
  }
  // Published kernels outside ../shared/reference, in the repository
  // (test/data/kernel-reference): DeepSeek's FlashMLA decode on H800.
  {
    llvm::Expected<FileResult> r = strata::calibration::evaluateFlashMlaFile(
        std::string(STRATA_KERNEL_REFERENCE_DIR) + "/flashmla.json");
    if (!r) {
      llvm::errs() << "strata-calibrate: " << llvm::toString(r.takeError())
                   << "\n";
      status = 1;
    } else {
      print(*r, allCases);
    }
  }
  return status;
}
