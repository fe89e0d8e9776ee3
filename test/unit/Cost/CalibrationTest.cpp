//===- CalibrationTest.cpp - The cost model against published figures -----===//
//
// The targets: MAPE <= 10 % on gemm.json, <= 10 % on attention.json (all
// 115 rows, issue 15). Cases the model cannot express are skipped with a reason;
// the number that runs is pinned so a case cannot quietly drop out.
// benchmarks/strata-calibrate prints every case's error.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/Calibration.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

using namespace strata::cost;

namespace {

// The in-repo copy of the published set (test/data/reference); the
// STRATA_REFERENCE_DIR environment variable points the test at another copy.
std::string referenceDir() {
  const char *dir = std::getenv("STRATA_REFERENCE_DIR");
  return dir ? dir : STRATA_REFERENCE_DIR;
}

void report(const FileResult &f) {
  for (const CaseResult &c : f.cases)
    if (c.skipped.empty() && !c.withinTolerance())
      std::printf("outside tolerance: %s measured %.1f model %.1f (%+.1f%%)\n",
                  c.id.c_str(), c.measured, c.estimated, c.errorPct());
  std::printf("%s: %d run, MAPE %.1f%%\n", f.file.c_str(), f.ran(), f.mape());
}

TEST(CalibrationTest, GemmWithinTarget) {
  llvm::Expected<FileResult> r = evaluateGemmFile(referenceDir() + "/gemm.json");
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  report(*r);
  EXPECT_EQ(r->ran(), 28);
  // The goal, met at 8.7 % once DeepGEMM's cluster multicast,
  // promotion and serial epilogue are described (strata-calibrate --cases).
  EXPECT_LE(r->mape(), 10.0);
}

TEST(CalibrationTest, AttentionWithinTarget) {
  llvm::Expected<FileResult> r =
      evaluateAttentionFile(referenceDir() + "/attention.json");
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  report(*r);
  // All 115 cases run: FlashAttention-2 on H100 on the mma.sync unit of
  // the h100-sxm description, FlashAttention-3 on wgmma.
  EXPECT_EQ(r->ran(), 115);
  EXPECT_EQ(int(r->cases.size()), 115);
  // The goal, met at 9.0 % (strata-calibrate --cases).
  EXPECT_LE(r->mape(), 10.0);
}

} // namespace
