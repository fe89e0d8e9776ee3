//===- FlashMlaCalibrationTest.cpp - FlashMLA decode on H800 --------------===//
//
// The cost model's fused attention against FlashMLA's published decode
// throughput (test/data/kernel-reference/flashmla.json): every case runs,
// and the errors benchmarks/strata-calibrate prints are pinned.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/FlashMla.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace strata::cost;

namespace {

TEST(FlashMlaCalibrationTest, PublishedFiguresWithinTolerance) {
  llvm::Expected<FileResult> r = strata::calibration::evaluateFlashMlaFile(
      std::string(STRATA_KERNEL_REFERENCE_DIR) + "/flashmla.json");
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  ASSERT_EQ(r->cases.size(), 4u);
  EXPECT_EQ(r->ran(), 4);
  for (const CaseResult &c : r->cases) {
    EXPECT_TRUE(c.skipped.empty()) << c.id << ": " << c.skipped;
    EXPECT_EQ(c.preset, "h800-sxm") << c.id;
    std::printf("%s: measured %.0f model %.0f %s (%+.1f%%)\n", c.id.c_str(),
                c.measured, c.estimated, c.unit.c_str(), c.errorPct());
  }
  auto error = [&](llvm::StringRef id) {
    for (const CaseResult &c : r->cases)
      if (c.id == id)
        return c.errorPct();
    ADD_FAILURE() << "no case " << id.str();
    return 0.0;
  };
  // Memory-bound (h_q x s_q small: the latent cache streamed once per
  // batch row): within the 15 % goal, +10.5 % and +11.1 %.
  EXPECT_LE(std::fabs(error("flashmla-v1-memory-bound")), 15.0);
  EXPECT_LE(std::fabs(error("flashmla-v2-memory-bound")), 15.0);
  EXPECT_NEAR(error("flashmla-v1-memory-bound"), 10.5, 1.0);
  EXPECT_NEAR(error("flashmla-v2-memory-bound"), 11.1, 1.0);
  // Compute-bound (h_q = 128, s_q = 2): the 576-wide QKᵀ and 512-wide PV
  // of the 128-row blocks are bounded by the wgmma operands they stream
  // from shared memory (CostModel::planAttentionOn, "warpgroup operand
  // delivery"), not by the tensor rate: +13.8 % (v1, 580 TFLOP/s published)
  // and +0.8 % (v2, 660). Before that bound the model ran them at the
  // wgmma unit's full rate, +43.0 % and +26.8 %. FlashMLA's deep-dive also
  // reports the H800 throttling to ~1600 MHz under this load, which the
  // chip description does not model. Pinned so that a change in either
  // direction is seen.
  EXPECT_NEAR(error("flashmla-v1-compute-bound"), 13.8, 1.0);
  EXPECT_NEAR(error("flashmla-v2-compute-bound"), 0.8, 1.0);
}

} // namespace
