//===- SystemSummary.h - Human-readable system description -------*- C++ -*-===//
//
// Prints a system and the figures derived from it: peak FLOP/s per unit and
// dtype, per-level capacity and bandwidth with roofline ridge points, the
// topology with per-fabric and system bisection bandwidth. MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_REPORT_SYSTEMSUMMARY_H
#define STRATA_REPORT_SYSTEMSUMMARY_H

#include "strata/Hardware/System.h"

#include "llvm/Support/raw_ostream.h"

namespace strata::report {

/// The dtype a summary quotes ridge points for: bf16 when the chip has it,
/// else the dtype with the highest peak.
hw::DType referenceDType(const hw::System &sys);

void printSystemSummary(const hw::System &sys, llvm::raw_ostream &os);

} // namespace strata::report

#endif // STRATA_REPORT_SYSTEMSUMMARY_H
