//===- InferenceCalibrationTest.cpp - End to end vs TensorRT-LLM ----------===//
//
// Every row of inference.json through the user path (generate; for
// tensor-parallel rows parallelize, partition and route on the node's GPUs;
// strata-fuse, strata-tile, estimate). Target of the serving issue: MAPE
// <= 12 % over all 57 rows, worst <= 30 %. The number of rows run is pinned so a case cannot quietly drop
// out; benchmarks/strata-calibrate prints each case.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Inference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

using namespace strata;

TEST(InferenceCalibrationTest, EveryRowWithinTarget) {
  // The in-repo copy (test/data/reference) unless STRATA_REFERENCE_DIR
  // names another.
  const char *dir = std::getenv("STRATA_REFERENCE_DIR");
  std::string path = std::string(dir ? dir : STRATA_REFERENCE_DIR) + "/inference.json";
  llvm::Expected<cost::FileResult> r =
      calibration::evaluateInferenceFile(path);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  for (const cost::CaseResult &c : r->cases)
    if (c.skipped.empty() && !c.withinTolerance())
      std::printf("outside tolerance: %s measured %.1f model %.1f (%+.1f%%)\n",
                  c.id.c_str(), c.measured, c.estimated, c.errorPct());
  std::printf("inference.json: %d run, MAPE %.1f%%\n", r->ran(), r->mape());
  // All 57 rows run: single GPUs (A100, H100, L40S) and tensor parallelism
  // over 2 to 8 GPUs of a DGX node.
  EXPECT_EQ(int(r->cases.size()), 57);
  EXPECT_EQ(r->ran(), 57);
  EXPECT_LE(r->mape(), 12.0);
  double worst = 0, worstSingle = 0;
  for (const cost::CaseResult &c : r->cases) {
    if (!c.skipped.empty())
      continue;
    worst = std::max(worst, std::abs(c.errorPct()));
    if (c.id.find("-tp1-") != std::string::npos)
      worstSingle = std::max(worstSingle, std::abs(c.errorPct()));
  }
  EXPECT_LE(worstSingle, 30.0);
  // Issue 18's goal, 30 %. The batch-1 first-token rows under tensor
  // parallelism are the worst: -36.1 % (Falcon-180B, 2048 tokens over 8
  // H100s) while an NVLink SHARP all-reduce was priced as a bare send and
  // receive at the link rate; -27.9 % since it is priced as NCCL runs it
  // (23 us, ~275 GB/s; CostModel.cpp), MAPE 10.4 -> 10.1 %.
  EXPECT_LE(worst, 30.0);
}
