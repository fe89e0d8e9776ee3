//===- Training.h - Multi-GPU training against published runs --*- C++ -*-===//
//
// Runs the cases of ../shared/reference/training.json whose plan the source
// states through the path a user runs: the workload generator builds the
// model's training step for one microbatch of the whole data-parallel group,
// strata-pipeline's passes apply the plan (strata-parallelize, the upstream
// shard partitioning through strata-partition, strata-stage, fuse, tile,
// place), and the estimate composes the step (schedule, bubble, gradient
// sync, optimizer). The step time is converted into the source's own FLOP
// convention (e.g. Narayanan et al. 2021 eq. 3) before comparing.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_CALIBRATION_TRAINING_H
#define STRATA_CALIBRATION_TRAINING_H

#include "strata/Cost/Calibration.h"

#include "llvm/Support/Error.h"

#include <string>

namespace strata::calibration {

/// Evaluates training.json: TFLOP/s per GPU in the source's convention.
/// Cases whose plan is not fully stated, whose FLOP convention or
/// precision Strata does not model, or whose system has no preset are
/// skipped with the reason.
llvm::Expected<cost::FileResult> evaluateTrainingFile(const std::string &path);

} // namespace strata::calibration

#endif // STRATA_CALIBRATION_TRAINING_H
