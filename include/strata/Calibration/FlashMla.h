//===- FlashMla.h - FlashMLA's published decode throughput ------*- C++ -*-===//
//
// The cost model's fused attention against DeepSeek's FlashMLA decode
// kernel (test/data/kernel-reference/flashmla.json): the README's best
// memory-bound GB/s and compute-bound TFLOP/s on H800 SXM5 against the
// model's best over the benchmark script's grid, in the script's
// convention.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_CALIBRATION_FLASHMLA_H
#define STRATA_CALIBRATION_FLASHMLA_H

#include "strata/Cost/Calibration.h"

#include "llvm/Support/Error.h"

#include <string>

namespace strata::calibration {

/// Evaluates flashmla.json: per case, every fixed-length configuration of
/// its grid priced as MLA decode attention (kv heads' query heads packed as
/// rows, V the first dv columns of the cached K), the best GB/s or TFLOP/s
/// kept. The case's `estimated` is that best, in the case's unit.
llvm::Expected<cost::FileResult> evaluateFlashMlaFile(const std::string &path);

} // namespace strata::calibration

#endif // STRATA_CALIBRATION_FLASHMLA_H
