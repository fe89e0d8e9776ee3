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

#include <tuple>

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

// FlashAttention-3's backward on wgmma (Shah et al. 2024, Figures 5 and 6,
// H100 SXM5, head dim 128, no mask, 16k tokens per batch): 638 TFLOP/s
// forward and 542 backward at 4k tokens, 648 and 561 at 16k. All five of
// the backward's products stream both operands from shared memory, which
// also takes the P and dS stores, the staged dQ share and the Q/dO fills,
// and its accumulators hold its blocks to 64 x 128. Before that bound the
// backward came out at 748 TFLOP/s, 29 % faster per FLOP than the forward.
TEST(MatrixPathTest, WgmmaBackwardBoundBySharedMemory) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  for (auto [seq, measuredFwd, measuredBwd] :
       {std::tuple{4096, 638.0, 542.0}, {16384, 648.0, 561.0}}) {
    AttentionWork fwd = fa(false);
    fwd.path = MatrixPath::Asynchronous;
    fwd.qLen = fwd.kvLen = seq;
    fwd.batch = 16384 / seq;
    AttentionWork bwd = fwd;
    bwd.backward = true;
    Estimate f = model.attention(fwd), b = model.attention(bwd);
    double fRate = f.flops / f.time / 1e12, bRate = b.flops / b.time / 1e12;
    EXPECT_NEAR(bRate, measuredBwd, 0.15 * measuredBwd) << seq;
    // Published: the backward runs at 0.85x the forward's rate per FLOP;
    // the model's forward is about 9 % slow, so within 1.1x of it.
    EXPECT_LT(bRate / fRate, measuredBwd / measuredFwd + 0.25) << seq;
    EXPECT_EQ(model.planAttention(bwd).tiling.tileM, 64) << seq;
    EXPECT_EQ(model.planAttention(bwd).tiling.tileN, 128) << seq;
  }
}

// A path that is ours to choose is priced on the cheapest unit for the
// shape: a long prefill on wgmma (the faster unit), a multi-head decode step
// (one query row per KV head) on mma.sync, whose 16-row tiles pad 4x less
// than wgmma's 64 — what decode kernels (FlashDecoding, TensorRT-LLM's MMHA
// and XQA) do instead of a 64-row wgmma tile.
TEST(MatrixPathTest, AnyPathTakesTheCheapestUnitForTheShape) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  const hw::ComputeUnit *wgmma =
      model.matrixUnit(hw::DType::bf16, MatrixPath::Asynchronous);
  const hw::ComputeUnit *mmaSync =
      model.matrixUnit(hw::DType::bf16, MatrixPath::Synchronous);
  ASSERT_TRUE(wgmma && mmaSync);
  EXPECT_TRUE(wgmma->asynchronous);

  AttentionWork prefill = fa(false);
  prefill.path = MatrixPath::Any;
  AttentionWork prefillAsync = prefill;
  prefillAsync.path = MatrixPath::Asynchronous;
  EXPECT_EQ(model.attention(prefill).unit, wgmma->name);
  EXPECT_EQ(model.attention(prefill).time, model.attention(prefillAsync).time);

  AttentionWork decode;
  decode.batch = 1;
  decode.heads = decode.kvHeads = 64 * 32; // 64 sequences x 32 heads (MHA)
  decode.qLen = 1;
  decode.kvLen = 4096;
  decode.headDim = 128;
  decode.path = MatrixPath::Any;
  AttentionWork onWgmma = decode, onSync = decode;
  onWgmma.path = MatrixPath::Asynchronous;
  onSync.path = MatrixPath::Synchronous;
  Estimate chosen = model.attention(decode);
  EXPECT_EQ(chosen.time, std::min(model.attention(onWgmma).time,
                                  model.attention(onSync).time));
  EXPECT_LE(chosen.time, model.attention(onWgmma).time);
}

// An fp8 KV cache under bf16 attention streams K/V at one byte: a decode
// step, bound by reading the cache, moves half the HBM bytes (Q and O stay
// bf16) and takes about half the time; the dequantisation is vector work.
TEST(MatrixPathTest, QuantisedKvCacheStreamsAtItsWidth) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  AttentionWork bf16;
  bf16.batch = 1;
  bf16.heads = 64 * 8; // 64 sequences x 8 KV heads, 4 query heads each
  bf16.kvHeads = 64 * 8;
  bf16.qLen = 4;
  bf16.kvLen = 8192;
  bf16.headDim = 128;
  AttentionWork fp8 = bf16;
  fp8.kvDType = hw::DType::fp8;
  Estimate a = model.attention(bf16), b = model.attention(fp8);
  auto hbm = [](const Estimate &e) {
    for (const auto &t : e.traffic)
      if (t.level == "hbm")
        return t.bytes;
    return 0.0;
  };
  double kv = 64.0 * 8 * 8192 * 128 * 2; // K and V elements
  double qo = 64.0 * 8 * 4 * 128 * 2 * 2; // Q read and O written, bf16
  EXPECT_DOUBLE_EQ(hbm(a), kv * 2 + qo);
  EXPECT_DOUBLE_EQ(hbm(b), kv * 1 + qo);
  EXPECT_EQ(a.boundBy, "hbm");
  EXPECT_EQ(b.boundBy, "hbm");
  EXPECT_NEAR(b.time / a.time, 0.5, 0.05);
  // The plan is memoised per cache dtype.
  EXPECT_EQ(model.attention(bf16).time, a.time);
}

TEST(MatrixPathTest, PathNamesRoundTrip) {
  for (MatrixPath p :
       {MatrixPath::Any, MatrixPath::Synchronous, MatrixPath::Asynchronous})
    EXPECT_EQ(parseMatrixPath(toString(p)), p);
  EXPECT_FALSE(parseMatrixPath("wgmma").has_value());
}

} // namespace
