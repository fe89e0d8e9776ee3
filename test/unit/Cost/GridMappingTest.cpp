//===- GridMappingTest.cpp - Residency and redistribution on a core grid --===//
//
// The grid-chip part of the cost core (lib/Cost/GridMapping.cpp), checked
// against hand-derived figures of the bundled mesh-sram preset (64 x 64
// cores, 48 KiB of SRAM each, mesh links of 35.2 GB/s with 0.909 ns hops,
// 512 GB/s DRAM) and against a chip without a grid.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include <gtest/gtest.h>

using namespace strata;
using namespace strata::cost;

namespace {

TEST(GridMapping, DistributedCapacityIsEveryCoresScratchpad) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  EXPECT_DOUBLE_EQ(model.distributedCapacity(), 4096.0 * 48 * 1024); // 192 MiB
  hw::System gpu = *hw::getPreset("h100-sxm");
  CostModel gpuModel(gpu);
  EXPECT_EQ(gpuModel.distributedCapacity(), 0);
  EXPECT_EQ(gpuModel.meanGridHops(), 0);
}

TEST(GridMapping, MeanRouteOfAMeshIsAThirdOfItsPerimeterHalf) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  // Uniform traffic on a k x k mesh: E|x1 - x2| = (k^2 - 1) / 3k per axis,
  // about k / 3; two axes: (64 + 64) / 3.
  EXPECT_NEAR(model.meanGridHops(), 128.0 / 3, 1e-12);
  mesh.chip.noc->kind = hw::NocKind::Torus;
  CostModel torus(mesh);
  EXPECT_NEAR(torus.meanGridHops(), 128.0 / 4, 1e-12);
}

TEST(GridMapping, RedistributionIsBoundByTheBisection) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  const double link = mesh.chip.noc->linkBandwidth; // 35.2 GB/s
  const double bytes = 1024.0 * 768 * 2;             // GPT-2's hidden state
  // Half the bytes cross the middle cut of 64 links in each direction;
  // that beats every core's own link (bytes / 4096 per link) and the mean
  // route over all 16,128 directed links.
  const double bisection = bytes / 2 / (128 * link);
  const double perCore = bytes / 4096 / link;
  const double allLinks = bytes * (128.0 / 3) / (2 * (64 * 63 * 2) * link);
  EXPECT_GT(bisection, perCore);
  EXPECT_GT(bisection, allLinks);
  EXPECT_NEAR(model.gridRedistributionTime(bytes), bisection, 1e-15);
  EXPECT_NEAR(model.gridRedistributionTime(bytes), 174.5e-9, 0.1e-9);
  EXPECT_EQ(model.gridRedistributionTime(0), 0);
}

TEST(GridMapping, ResidencyPaysOnAGridAndNeverWithoutOne) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  const double bytes = 1024.0 * 768 * 2;
  ResidencyQuote q = model.residency(bytes, 3);
  // A write and three reads at 512 GB/s against three re-layouts.
  EXPECT_NEAR(q.homeTime, 4 * bytes / 512e9, 1e-12);
  EXPECT_NEAR(q.networkTime,
              3 * (model.gridRedistributionTime(bytes) +
                   (128.0 / 3) * mesh.chip.noc->hopLatency),
              1e-15);
  EXPECT_TRUE(q.pays());
  hw::System gpu = *hw::getPreset("h100-sxm");
  CostModel gpuModel(gpu);
  EXPECT_FALSE(gpuModel.residency(bytes, 3).pays());
}

TEST(GridMapping, AWeightPaysToKeepWhenReadMoreThanOnce) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  const double bytes = 4096.0 * 4096 * 2; // 32 MiB
  const double read = bytes / 512e9;      // 65.5 us from DRAM
  const double net = model.gridRedistributionTime(bytes) +
                     (128.0 / 3) * mesh.chip.noc->hopLatency;
  // One step: the fill costs a DRAM read and a launch more than reading it.
  ResidencyQuote once = model.residentWeight(bytes, 1);
  EXPECT_NEAR(once.homeTime, read, 1e-12);
  EXPECT_NEAR(once.networkTime,
              read + mesh.chip.launchOverhead +
                  mesh.chip.memory.back().latency + net,
              1e-12);
  EXPECT_FALSE(once.pays());
  // Two decode steps: one fill instead of two reads.
  ResidencyQuote twice = model.residentWeight(bytes, 2);
  EXPECT_NEAR(twice.homeTime, 2 * read, 1e-12);
  EXPECT_TRUE(twice.pays());
}

// GPT-2's mlp.fc (1024 x 768 by 768 x 3072, bf16). With A, B and C in DRAM
// its floor is their 12 MiB at 512 GB/s (24.6 us); with A and C resident
// in the grid's SRAM only the 4.5 MiB weight crosses DRAM (9.2 us), and
// the plan that knows it is faster, moves only the weight at home and
// stays within the SRAM per core it was given.
TEST(GridMapping, APlanForResidentOperandsMovesOnlyTheOthersAtHome) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  MatmulWork w;
  w.m = 1024;
  w.n = 3072;
  w.k = 768;
  w.aBytes = 1024.0 * 768 * 2;
  w.bBytes = 768.0 * 3072 * 2;
  w.cBytes = 1024.0 * 3072 * 2;
  MatmulPlan home = model.planMatmul(w);
  EXPECT_NEAR(home.estimate.bytesAt("dram"), w.aBytes + w.bBytes + w.cBytes, 1);
  EXPECT_GE(home.estimate.time, (w.aBytes + w.bBytes + w.cBytes) / 512e9);

  MatmulWork resident = w;
  resident.aOnChip = true;
  resident.cOnChip = true;
  resident.stagingBudget = 16 * 1024;
  MatmulPlan onChip = model.planMatmul(resident);
  const MatmulTiling &t = onChip.tiling;
  ASSERT_GT(t.tileM, 0);
  EXPECT_NEAR(onChip.estimate.bytesAt("dram"), w.bBytes, 1);
  EXPECT_GE(onChip.estimate.time, w.bBytes / 512e9);
  EXPECT_LT(onChip.estimate.time, home.estimate.time);
  // The tiles (f32 accumulator, bf16 operand stages, bf16 cast buffer)
  // fit the budget.
  const double footprint =
      double(t.tileM * t.tileN) * (4 + 2) +
      double(t.stages) * double(t.tileM + t.tileN) * double(t.tileK) * 2;
  EXPECT_LE(footprint, resident.stagingBudget);
}

} // namespace

namespace {

TEST(GridMapping, SplitReduceIsAFoldedRingOverNeighbours) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  const double link = mesh.chip.noc->linkBandwidth;
  const double hop = mesh.chip.noc->hopLatency;
  const double bytes = 8 * (64 + 2) * 4.0; // an 8-row block's O, max, sum
  // Four parts on a mesh run: three steps of a quarter over one link, each
  // edge of the folded ring two hops.
  EXPECT_EQ(model.splitReduceHops(4), 2);
  EXPECT_EQ(model.splitReduceHops(2), 1);
  EXPECT_NEAR(model.splitReduceTime(bytes, 4, 1),
              3 * (bytes / 4 / link + 2 * hop), 1e-15);
  // A million groups at once: their traffic over the 16,128 directed links
  // is slower than one ring.
  const double all = 1e6 * 4 * bytes * 3 / 4 * 2 / (16128 * link);
  EXPECT_NEAR(model.splitReduceTime(bytes, 4, 1e6), all, 1e-12);
  EXPECT_EQ(model.splitReduceTime(bytes, 1, 1), 0);
  mesh.chip.noc->kind = hw::NocKind::Torus;
  EXPECT_EQ(CostModel(mesh).splitReduceHops(4), 1);
  hw::System gpu = *hw::getPreset("h100-sxm");
  EXPECT_EQ(CostModel(gpu).splitReduceTime(bytes, 4, 1), 0);
}

TEST(GridMapping, CausalAttentionSplitsOverTheNetworkOnlyOnAGrid) {
  // GPT-2's attention (12 heads, 1024 tokens, head dim 64, causal).
  AttentionWork w;
  w.heads = w.kvHeads = 12;
  w.qLen = w.kvLen = 1024;
  w.causal = true;
  hw::System mesh = *hw::getPreset("mesh-sram");
  AttentionPlan p = CostModel(mesh).planAttention(w);
  EXPECT_TRUE(p.tiling.combineOnNetwork);
  EXPECT_GT(p.tiling.splits, 1);
  EXPECT_EQ(p.tiling.tileM % p.tiling.splits, 0);
  // Keeping Q, K, V and O on chip lifts the DRAM floor but not the choice.
  w.qOnChip = w.kOnChip = w.vOnChip = w.oOnChip = true;
  AttentionPlan resident = CostModel(mesh).planAttention(w);
  EXPECT_LT(resident.estimate.time, p.estimate.time);
  EXPECT_EQ(resident.tiling.tileM, p.tiling.tileM);
  EXPECT_EQ(resident.tiling.tileN, p.tiling.tileN);
  EXPECT_EQ(resident.tiling.splits, p.tiling.splits);
  hw::System gpu = *hw::getPreset("h100-sxm");
  AttentionPlan onGpu = CostModel(gpu).planAttention(w);
  EXPECT_FALSE(onGpu.tiling.combineOnNetwork);
  EXPECT_EQ(onGpu.tiling.splits, 1);
}

} // namespace

// An epilogue reading a tensor kept in the grid's SRAM (a chained residual
// add's stream) re-lays it over the network: GPT-2's 1.5 MiB hidden state
// adds the bisection-bound 174.5 ns and its bytes to the noc traffic, no
// home bytes; off a grid chip the same field adds nothing.
TEST(GridMapping, EpilogueResidentReadsCrossTheNetwork) {
  hw::System mesh = *hw::getPreset("mesh-sram");
  CostModel model(mesh);
  Estimate producer;
  producer.time = 1e-6;
  VectorWork extra;
  extra.flops = 0;
  extra.dtype = hw::DType::bf16;
  extra.networkBytesRead = 1024.0 * 768 * 2;
  Estimate e = model.withEpilogue(producer, extra);
  EXPECT_NEAR(e.time - producer.time,
              model.gridRedistributionTime(extra.networkBytesRead), 1e-15);
  EXPECT_NEAR(e.time - producer.time, 174.5e-9, 0.1e-9);
  double noc = 0, home = 0;
  for (const LevelTraffic &t : e.traffic) {
    if (t.level == kNetworkLevel)
      noc += t.bytes;
    if (t.level == model.homeLevel().name)
      home += t.bytes;
  }
  EXPECT_EQ(noc, extra.networkBytesRead);
  EXPECT_EQ(home, 0);

  hw::System gpu = *hw::getPreset("h100-sxm");
  CostModel gpuModel(gpu);
  EXPECT_EQ(gpuModel.withEpilogue(producer, extra).time, producer.time);
}
