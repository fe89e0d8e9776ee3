//===- ProgramSummary.h - One row per public function -----------*- C++ -*-===//
//
// A module with several public functions and no `entry=` is estimated
// function by function; the summary is one row per function (latency,
// FLOPs, MFU, energy, bound by, footprint, unpriced ops) as text, JSON
// (schema "strata.program-summary", docs/inputs.md) or CSV. MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_REPORT_PROGRAMSUMMARY_H
#define STRATA_REPORT_PROGRAMSUMMARY_H

#include "strata/Report/CostReport.h"

#include <vector>

namespace strata::report {

inline constexpr int kProgramSummaryVersion = 1;

void writeProgramsText(const std::vector<CostReport> &reports,
                       llvm::raw_ostream &os);
void writeProgramsJson(const std::vector<CostReport> &reports,
                       llvm::raw_ostream &os);
void writeProgramsCsv(const std::vector<CostReport> &reports,
                      llvm::raw_ostream &os);

} // namespace strata::report

#endif // STRATA_REPORT_PROGRAMSUMMARY_H
