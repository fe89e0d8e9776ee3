//===- AmountChecks.h - Errors for amounts a caller priced -------*- C++ -*-===//
//
// Shared by the cost formulas that take times, bytes and FLOPs from their
// caller (Parallelism.cpp, ContextParallel.cpp): a NaN or negative amount is
// a bug upstream, which must surface as an error naming it rather than as a
// plausible-looking number.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_COST_AMOUNTCHECKS_H
#define STRATA_LIB_COST_AMOUNTCHECKS_H

#include "strata/Hardware/Units.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace strata::cost::detail {

inline llvm::Error invalid(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

inline llvm::Error checkAmount(double v, llvm::StringRef what) {
  if (!std::isfinite(v) || v < 0)
    return invalid(llvm::formatv("{0} must be finite and >= 0, got {1}", what,
                                 hw::formatShortest(v)));
  return llvm::Error::success();
}

} // namespace strata::cost::detail

#endif // STRATA_LIB_COST_AMOUNTCHECKS_H
