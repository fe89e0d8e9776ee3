//===- TrainingCalibrationTest.cpp - End to end vs Megatron-LM runs -------===//
//
// The cases of training.json whose plan is stated or follows from the
// source's rules (Narayanan et al. 2021, Tables 1 and 2, on up to 3,072
// A100s; Llama 3 405B on 8,192 and 16,384 H100s) through the user path:
// generate the training step, strata-parallelize + strata-partition (upstream
// shard) + strata-stage, fuse, tile, estimate the step. Target of the
// many-chips issue: MAPE
// <= 10 %, worst case <= 25 %. The number of cases run is pinned so a case
// cannot quietly drop out; benchmarks/strata-calibrate --cases prints each.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Training.h"

#include "llvm/ADT/StringRef.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

using namespace strata;

TEST(TrainingCalibrationTest, FullyStatedRunsWithinTarget) {
  // The in-repo copy (test/data/reference) unless STRATA_REFERENCE_DIR
  // names another.
  const char *dir = std::getenv("STRATA_REFERENCE_DIR");
  std::string path = std::string(dir ? dir : STRATA_REFERENCE_DIR) + "/training.json";
  llvm::Expected<cost::FileResult> r = calibration::evaluateTrainingFile(path);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  double worst = 0;
  int llama3 = 0;
  for (const cost::CaseResult &c : r->cases) {
    if (!c.skipped.empty())
      continue;
    std::printf("%s measured %.1f model %.1f (%+.1f%%)\n", c.id.c_str(),
                c.measured, c.estimated, c.errorPct());
    if (llvm::StringRef(c.id).starts_with("llama3-"))
      // Llama 3 405B under Meta's plan (Table 4): interleaved 1F1B on
      // uneven stages, FSDP (ZeRO-2), model-FLOPs MFU, fused attention
      // forward and backward: +11.0 % and +4.9 % when this was written,
      // held to the file's 25 % bound like every other row.
      ++llama3;
    worst = std::max(worst, std::fabs(c.errorPct()));
  }
  std::printf("training.json: %d run, MAPE %.1f%%, worst %.1f%%\n",
              r->ran(), r->mape(), worst);
  // 39 cases: the 22 Narayanan et al. rows (Table 1, and Table 2's ZeRO-3
  // and PTD-P rows, the latter with tp = 8 and pp = mp / 8 as the paper's
  // rule gives) and Llama 3's two 8K-context rows run; skipped are the
  // 131K-context Llama 3 row (context parallelism), PaLM (TPU v4) and the
  // 13 NeMo rows (FP8 training).
  EXPECT_EQ(int(r->cases.size()), 39);
  EXPECT_EQ(r->ran(), 24);
  EXPECT_EQ(llama3, 2);
  // Issue 15's goal; 5.4 % when the fused training attention landed.
  EXPECT_LE(r->mape(), 8.0);
  EXPECT_LE(worst, 25.0);
}
