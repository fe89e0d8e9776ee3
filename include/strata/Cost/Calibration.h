//===- Calibration.h - The cost model against published figures -*- C++ -*-===//
//
// Runs the cases of ../shared/reference/{gemm,attention}.json through the
// cost core and reports the error per case and per file. Shared by the unit
// tests (which assert the targets) and benchmarks/strata-calibrate (which
// prints the table).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COST_CALIBRATION_H
#define STRATA_COST_CALIBRATION_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace strata::cost {

struct CaseResult {
  std::string id;
  std::string preset;   ///< the Strata preset the case ran on
  double measured = 0;  ///< the published figure
  double estimated = 0; ///< the model's figure, same unit and convention
  double tolerancePct = 0;
  /// The unit of `measured` when it differs from the file's.
  std::string unit;
  /// Why the case was not run (empty when it ran).
  std::string skipped;
  /// Assumptions the runner made where the source is silent (e.g. the
  /// framework defaults of a published recipe), printed with the case.
  std::string note;

  double errorPct() const { return (estimated - measured) / measured * 100.0; }
  bool withinTolerance() const {
    double e = errorPct();
    return (e < 0 ? -e : e) <= tolerancePct;
  }
};

struct FileResult {
  std::string file;
  std::string unit; ///< what `measured` is (e.g. "TFLOP/s")
  std::vector<CaseResult> cases;

  /// Mean absolute percentage error over the cases that ran.
  double mape() const;
  const CaseResult *worst() const;
  int ran() const;
};

/// The `cases` array of a reference file of ../shared/reference, or an
/// error naming the file (unreadable, not JSON, no cases).
llvm::Expected<llvm::json::Array> readReferenceCases(const std::string &path);

/// Evaluates gemm.json (TFLOP/s by M, N, K; grouped GEMMs as a batch).
llvm::Expected<FileResult> evaluateGemmFile(const std::string &path);
/// Evaluates attention.json (FlashAttention TFLOP/s in its convention).
llvm::Expected<FileResult> evaluateAttentionFile(const std::string &path);

/// Maps a chip name as the references spell it ("H800-SXM5-80GB") to a
/// Strata preset, or "" if there is none.
std::string presetForChip(const std::string &chip);

} // namespace strata::cost

#endif // STRATA_COST_CALIBRATION_H
