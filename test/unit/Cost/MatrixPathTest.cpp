//===- MatrixPathTest.cpp - Which matrix unit a kernel's instructions reach ===//
//
// Hopper's tensor cores reach their datasheet peak only through wgmma
// (asynchronous warpgroup MMAs); a kernel written with synchronous mma.sync
// (FlashAttention-2) reaches about 2/3 of it. The chip description carries
// both as matrix units; the cost core picks one from the work's path.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include <gtest/gtest.h>

using namespace strata;
using namespace strata::cost;

namespace {

hw::System preset(const char *name) { return *hw::getPreset(name); }

AttentionWork fa(bool sync, bool backward = false) {
  AttentionWork w;
  w.batch = 2;
  w.heads = w.kvHeads = 16;
  w.qLen = w.kvLen = 8192;
  w.headDim = 128;
  w.asyncOverlap = !sync;
  w.path = sync ? MatrixPath::Synchronous : MatrixPath::Any;
  w.backward = backward;
  return w;
}

TEST(MatrixPathTest, HopperSynchronousMmaRunsOnItsOwnUnit) {
  for (const char *name : {"h100-sxm", "h200"}) {
    hw::System sys = preset(name);
    CostModel model(sys);
    const hw::ComputeUnit *any = model.matrixUnit(hw::DType::bf16);
    const hw::ComputeUnit *sync =
        model.matrixUnit(hw::DType::bf16, MatrixPath::Synchronous);
    ASSERT_NE(any, nullptr) << name;
    ASSERT_NE(sync, nullptr) << name;
    EXPECT_TRUE(any->asynchronous) << name;
    EXPECT_FALSE(sync->asynchronous) << name;
    EXPECT_NE(any, sync) << name;
    // mma.sync reaches 2/3 of the wgmma rate.
    EXPECT_NEAR(*sync->rate(hw::DType::bf16) / *any->rate(hw::DType::bf16),
                2.0 / 3.0, 1e-9)
        << name;
    // Matmuls (cuBLAS: wgmma) keep the datasheet peak.
    EXPECT_EQ(model.matmulPeak(hw::DType::bf16),
              *any->rate(hw::DType::bf16) * double(sys.chip.cores) *
                  sys.chip.clock)
        << name;
    // No published mma.sync figure for FP8: no synchronous FP8 unit.
    EXPECT_EQ(model.matrixUnit(hw::DType::fp8, MatrixPath::Synchronous),
              nullptr)
        << name;
  }
}

TEST(MatrixPathTest, AmpereHasOnePath) {
  hw::System a100 = preset("a100-sxm-80g");
  CostModel model(a100);
  const hw::ComputeUnit *any = model.matrixUnit(hw::DType::bf16);
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any, model.matrixUnit(hw::DType::bf16, MatrixPath::Synchronous));
  // The same work is priced the same whichever path it names.
  AttentionWork w = fa(true);
  AttentionWork anyPath = w;
  anyPath.path = MatrixPath::Any;
  EXPECT_EQ(model.attention(w).time, model.attention(anyPath).time);
  EXPECT_EQ(model.attention(w).unit, any->name);
}

TEST(MatrixPathTest, AttentionPricedOnTheUnitItsPathReaches) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  for (bool backward : {false, true}) {
    AttentionWork sync = fa(true, backward);
    AttentionWork wgmmaSync = sync; // the same schedule on wgmma
    wgmmaSync.path = MatrixPath::Any;
    Estimate s = model.attention(sync), w = model.attention(wgmmaSync);
    EXPECT_EQ(s.unit,
              model.matrixUnit(hw::DType::bf16, MatrixPath::Synchronous)->name);
    EXPECT_EQ(w.unit, model.matrixUnit(hw::DType::bf16)->name);
    // Compute-bound at this size: the slower path takes longer, by at most
    // the ratio of the two units' sustained rates.
    const hw::ComputeUnit *fast = model.matrixUnit(hw::DType::bf16);
    const hw::ComputeUnit *slow =
        model.matrixUnit(hw::DType::bf16, MatrixPath::Synchronous);
    double ratio = *fast->rate(hw::DType::bf16) * fast->efficiency /
                   (*slow->rate(hw::DType::bf16) * slow->efficiency);
    EXPECT_GT(s.time, w.time) << backward;
    EXPECT_LE(s.time, ratio * w.time) << backward;
    EXPECT_EQ(s.flops, w.flops);
  }
}

TEST(MatrixPathTest, PathNamesRoundTrip) {
  for (MatrixPath p : {MatrixPath::Any, MatrixPath::Synchronous})
    EXPECT_EQ(parseMatrixPath(toString(p)), p);
  EXPECT_FALSE(parseMatrixPath("wgmma").has_value());
}

} // namespace
