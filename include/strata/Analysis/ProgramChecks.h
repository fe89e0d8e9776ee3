//===- ProgramChecks.h - What a program must be to be priced ----*- C++ -*-===//
//
// Preconditions of ProgramProfile / estimateProgram, checked up front so that
// a program Strata cannot price is one located error, never a crash or a
// silently wrong number (docs/diagnostics.md).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_ANALYSIS_PROGRAMCHECKS_H
#define STRATA_ANALYSIS_PROGRAMCHECKS_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Support/LLVM.h"

namespace strata::analysis {

/// Checks that no function reachable from `entry` through calls reaches
/// itself: a recursive program has no static execution count. Emits one
/// error at the call that closes the cycle, naming the functions on it.
mlir::LogicalResult verifyAcyclicCalls(mlir::FunctionOpInterface entry);

/// verifyAcyclicCalls, then every structured (linalg) op reachable from
/// `entry`: its shapes must be static (an error names the operand and the
/// dynamic dimension), and a contraction's operands and result must be all
/// integer or all floating point (an i32 x i32 -> f32 matmul has no single
/// arithmetic to price).
mlir::LogicalResult verifyPriceable(mlir::FunctionOpInterface entry);

} // namespace strata::analysis

#endif // STRATA_ANALYSIS_PROGRAMCHECKS_H
