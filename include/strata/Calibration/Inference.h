//===- Inference.h - End-to-end inference against published figures -*- C++ -*-===//
//
// Runs the single-GPU cases of ../shared/reference/inference.json through
// the path a user runs: the workload generator builds the model's prefill
// and decode graphs, strata-fuse and strata-tile lower them, and the
// estimate prices them (strata-place only checks buffers: no cost effect).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_CALIBRATION_INFERENCE_H
#define STRATA_CALIBRATION_INFERENCE_H

#include "strata/Cost/Calibration.h"

#include "llvm/Support/Error.h"

#include <string>

namespace strata::calibration {

/// Evaluates inference.json: static-batch output throughput (tokens/s) and
/// batch-1 first-token latency (ms). Multi-GPU rows are skipped (they need
/// tensor parallelism), as are chips without a preset.
llvm::Expected<cost::FileResult> evaluateInferenceFile(const std::string &path);

} // namespace strata::calibration

#endif // STRATA_CALIBRATION_INFERENCE_H
