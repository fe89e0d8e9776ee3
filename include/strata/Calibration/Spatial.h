//===- Spatial.h - Real spatial chips against published figures -*- C++ -*-===//
//
// Runs test/data/spatial-reference/tenstorrent.json (tt-metal's published
// Wormhole n150/n300 LLM figures) through the path a user runs: the
// workload generator builds the model from the case's config.json, a
// tensor-parallel plan over the n300's two ASICs where the case has one
// (strata-parallelize, strata-partition, strata-stage, strata-route), then
// strata-fuse and strata-tile on the wormhole preset, and the estimate.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_CALIBRATION_SPATIAL_H
#define STRATA_CALIBRATION_SPATIAL_H

#include "strata/Cost/Calibration.h"

#include "llvm/Support/Error.h"

#include <string>

namespace strata::calibration {

/// Evaluates a spatial-chip reference file: decode tokens/s per user and
/// time to first token (ms). A case the pipeline cannot price is skipped
/// with the reason.
llvm::Expected<cost::FileResult> evaluateSpatialFile(const std::string &path);

} // namespace strata::calibration

#endif // STRATA_CALIBRATION_SPATIAL_H
