//===- CostModelTest.cpp - The cost core ----------------------------------===//

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace strata;
using namespace strata::cost;

namespace {

hw::System preset(const char *name) { return *hw::getPreset(name); }

MatmulWork gemm(int64_t m, int64_t n, int64_t k,
                hw::DType t = hw::DType::bf16) {
  double e = hw::bitWidth(t) / 8.0;
  return MatmulWork{1, m, n, k, t, m * k * e, k * n * e, m * n * 2.0};
}

TEST(CostModelTest, LevelsAreFoundByRole) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  EXPECT_EQ(model.homeLevel().name, "hbm");
  EXPECT_EQ(model.stagingLevel().name, "smem");
  hw::System mesh = preset("mesh-sram");
  CostModel meshModel(mesh);
  EXPECT_EQ(meshModel.stagingLevel().scope, hw::Scope::Core);
}

TEST(CostModelTest, LargeGemmIsBoundOnChip) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  Estimate e = model.matmul(gemm(8192, 8192, 8192));
  // HBM traffic is the ideal 3 x 128 MiB; the limit is on chip: the tensor
  // cores or the L2 re-reads of operand tiles (no TMA multicast modelled).
  EXPECT_NE(e.boundBy, "hbm");
  EXPECT_DOUBLE_EQ(e.bytesAt("hbm"), 3 * 8192.0 * 8192 * 2);
  double peak = *hw::SystemQuery(h100).peakFlops(hw::DType::bf16);
  EXPECT_GT(e.time, e.flops / peak);
  // cuBLAS reaches ~70-80 % of the 989 TFLOP/s BF16 peak at this size.
  EXPECT_GT(e.unitUtilization, 0.6);
  EXPECT_LE(e.unitUtilization, 1.0);

  // A 2-stage-K-only problem does not fit in a compute-bound regime.
  Estimate tall = model.matmul(gemm(8192, 8192, 64));
  EXPECT_NE(tall.boundBy, "tensor");
}

TEST(CostModelTest, DecodeGemvIsBoundByHbmAndScalesWithBandwidth) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  // One token through a 4096x14336 projection: weight streaming.
  MatmulWork w = gemm(1, 14336, 4096);
  Estimate e = model.matmul(w);
  EXPECT_EQ(e.boundKind, BoundKind::Memory);
  // Weight bytes at least once through HBM.
  EXPECT_GE(e.bytesAt("hbm"), w.bBytes);

  hw::System faster = h100;
  faster.chip.memory.back().readBandwidth *= 2;
  faster.chip.memory.back().writeBandwidth *= 2;
  CostModel fasterModel(faster);
  Estimate f = fasterModel.matmul(w);
  EXPECT_LT(f.time, e.time);
}

TEST(CostModelTest, PaddingToTheNativeShapeCosts) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  // M=65 needs a second 64-row block of the 64-row native shape.
  Estimate aligned = model.matmul(gemm(64 * 132, 4096, 4096));
  Estimate ragged = model.matmul(gemm(64 * 132 + 1, 4096, 4096));
  EXPECT_GT(ragged.computeTime, aligned.computeTime);
}

TEST(CostModelTest, MemoisedResultsAreIdentical) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  Estimate a = model.matmul(gemm(4096, 4096, 4096));
  Estimate b = model.matmul(gemm(4096, 4096, 4096));
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.boundBy, b.boundBy);
}

TEST(CostModelTest, VectorWorkIsMemoryBoundOnGpus) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  // A residual add over 4096 x 4096 bf16: 2 reads, 1 write.
  double elems = 4096.0 * 4096.0;
  VectorWork v{elems, elems, 0, hw::DType::bf16, 4 * elems, 2 * elems};
  Estimate e = model.vector(v);
  EXPECT_EQ(e.boundKind, BoundKind::Memory);
  EXPECT_EQ(e.boundBy, "hbm");
  const hw::MemoryLevel &hbm = h100.chip.memory.back();
  double expected = 6 * elems / hbm.readBandwidth + hbm.latency +
                    h100.chip.launchOverhead;
  EXPECT_NEAR(e.time, expected, expected * 1e-12);
  // Energy includes the HBM bytes and the static power over the time.
  EXPECT_GT(e.energy, 6 * elems * hbm.energyPerByte);
}

TEST(CostModelTest, GraphReplayChargesTheGraphNodeOverhead) {
  hw::System h100 = preset("h100-sxm");
  CostModel eager(h100);
  CostModel graph(h100, LaunchMode::Graph);
  EXPECT_EQ(eager.launchMode(), LaunchMode::Eager);
  EXPECT_EQ(graph.launchCost(), h100.chip.graphNodeOverhead);
  // A tiny add is its launch: replayed, it pays 0.6 us instead of 4 us; the
  // rest of its time is the same.
  VectorWork v{256, 256, 0, hw::DType::bf16, 1024, 512};
  Estimate a = eager.vector(v), b = graph.vector(v);
  EXPECT_EQ(a.boundBy, "launch");
  EXPECT_EQ(b.boundBy, "launch");
  EXPECT_NEAR(a.time - b.time,
              h100.chip.launchOverhead - h100.chip.graphNodeOverhead, 1e-15);
  EXPECT_EQ(parseLaunchMode("graph"), LaunchMode::Graph);
  EXPECT_EQ(parseLaunchMode("eager"), LaunchMode::Eager);
  EXPECT_FALSE(parseLaunchMode("cuda"));
  EXPECT_EQ(toString(LaunchMode::Graph), "graph");
}

TEST(CostModelTest, RingAllReduceFollowsAlphaBeta) {
  hw::System dgx = preset("dgx-h100");
  CostModel model(dgx);
  const hw::Fabric &nvlink = dgx.topology[0];
  CollectiveWork w{CollectiveKind::AllReduce, 1e9, 8, 0,
                   CollectiveAlgorithm::Ring};
  CollectiveEstimate c = model.collective(w);
  double expected =
      2 * 7 * nvlink.latency + 2.0 * 7 / 8 * 1e9 / nvlink.bandwidth;
  EXPECT_NEAR(c.estimate.time, expected, expected * 1e-12);
  // nccl-tests' bus bandwidth of a ring all-reduce is the link bandwidth
  // less the latency share.
  EXPECT_LT(c.busBandwidth, nvlink.bandwidth);
  EXPECT_GT(c.busBandwidth, 0.9 * nvlink.bandwidth);
}

TEST(CostModelTest, AutoPicksTheCheaperAlgorithm) {
  hw::System dgx = preset("dgx-h100");
  CostModel model(dgx);
  // Tiny messages: latency dominates, so a log-step algorithm beats ring.
  CollectiveWork small{CollectiveKind::AllReduce, 1024, 8, 0,
                       CollectiveAlgorithm::Auto};
  CollectiveEstimate c = model.collective(small);
  EXPECT_NE(c.algorithm, CollectiveAlgorithm::Ring);
  CollectiveWork ring = small;
  ring.algorithm = CollectiveAlgorithm::Ring;
  EXPECT_LT(c.estimate.time, model.collective(ring).estimate.time);
}

TEST(CostModelTest, NvlinkSharpAllReduceIsNcclsFigures) {
  // NVLS on one DGX H100 against the published figures: the NCCL
  // maintainer's ~480 GB/s bus bandwidth for a large all-reduce on 8 x H100
  // (nccl-tests#212; ../shared/reference/collectives.json, tolerance 20 %)
  // and the 23 us NCCL's tuner charges before the first byte
  // (src/graph/tuning.cc).
  hw::System dgx = preset("dgx-h100");
  CostModel model(dgx);
  CollectiveWork big{CollectiveKind::AllReduce, 4e9, 8, 0,
                     CollectiveAlgorithm::InNetwork};
  CollectiveEstimate c = model.collective(big);
  EXPECT_NEAR(c.busBandwidth, 480e9, 0.2 * 480e9);
  EXPECT_NEAR(c.estimate.time, 23e-6 + 4e9 / 275e9, 1e-9);
  // Large enough, it beats every other algorithm; the bare send + receive
  // at the link rate it was priced as before would give 786 GB/s.
  big.algorithm = CollectiveAlgorithm::Auto;
  EXPECT_EQ(model.collective(big).algorithm, CollectiveAlgorithm::InNetwork);
  // A decode step's 64 KiB: the 23 us head start loses to halving/doubling.
  CollectiveWork small{CollectiveKind::AllReduce, 65536, 8, 0,
                       CollectiveAlgorithm::InNetwork};
  EXPECT_NEAR(model.collective(small).estimate.time, 23e-6 + 65536 / 275e9,
              1e-12);
  small.algorithm = CollectiveAlgorithm::Auto;
  EXPECT_EQ(model.collective(small).algorithm,
            CollectiveAlgorithm::RecursiveHalvingDoubling);
  // A100's NVSwitch does not reduce in the network.
  hw::System a100 = preset("dgx-a100");
  CostModel ampere(a100);
  big.algorithm = CollectiveAlgorithm::InNetwork;
  EXPECT_TRUE(std::isinf(ampere.collective(big).estimate.time));
}

TEST(CostModelTest, HierarchicalAllReduceComposesTheTwoFabrics) {
  hw::System sys = preset("dgx-h100x4");
  CostModel model(sys);
  // Two GPUs in each of four nodes: reduce-scatter on NVLink, all-reduce of
  // half the buffer over InfiniBand, all-gather on NVLink.
  const double n = 1e9;
  CollectiveWork w{CollectiveKind::AllReduce, n, 8, 1,
                   CollectiveAlgorithm::Hierarchical};
  w.innerFabric = 0;
  w.innerGroupSize = 2;
  CollectiveEstimate h = model.collective(w);
  ASSERT_EQ(h.algorithm, CollectiveAlgorithm::Hierarchical);
  auto flat = [&](CollectiveKind k, int fabric, int64_t group, double bytes) {
    return model.collective({k, bytes, group, fabric}).estimate.time;
  };
  double expected = flat(CollectiveKind::ReduceScatter, 0, 2, n) +
                    flat(CollectiveKind::AllReduce, 1, 4, n / 2) +
                    flat(CollectiveKind::AllGather, 0, 2, n);
  EXPECT_NEAR(h.estimate.time, expected, expected * 1e-12);
  // Every device sends its bytes once per level.
  EXPECT_GT(h.estimate.energy, 0);
  // Cheaper than the flat ring over InfiniBand here, but Auto does not
  // choose it (it is priced only when asked for; docs/cost-model.md).
  CollectiveWork ring = w;
  ring.algorithm = CollectiveAlgorithm::Ring;
  EXPECT_LT(h.estimate.time, model.collective(ring).estimate.time);
  CollectiveWork automatic = w;
  automatic.algorithm = CollectiveAlgorithm::Auto;
  EXPECT_NE(model.collective(automatic).algorithm,
            CollectiveAlgorithm::Hierarchical);
  // A group on one fabric has no inner level.
  CollectiveWork one{CollectiveKind::AllReduce, n, 4, 1,
                     CollectiveAlgorithm::Hierarchical};
  EXPECT_TRUE(std::isinf(model.collective(one).estimate.time));
}

TEST(CostModelTest, TorusDimOrderedRunsOneRingPerDimension) {
  hw::System tpu = preset("tpu-v5p-4x4x4");
  CostModel model(tpu);
  const hw::Fabric &ici = tpu.topology[0];
  // 16 chips fill the first two dimensions: rings of 4 and 4.
  const double n = 1e8;
  CollectiveWork w{CollectiveKind::AllReduce, n, 16, 0,
                   CollectiveAlgorithm::TorusDimOrdered};
  CollectiveEstimate c = model.collective(w);
  double expected =
      2 * (3 + 3) * ici.latency + 2.0 * 15 / 16 * n / ici.bandwidth;
  EXPECT_NEAR(c.estimate.time, expected, expected * 1e-12);
  // Never cheaper than recursive halving/doubling in this model, so Auto
  // keeps that.
  w.algorithm = CollectiveAlgorithm::Auto;
  EXPECT_EQ(model.collective(w).algorithm,
            CollectiveAlgorithm::RecursiveHalvingDoubling);
  // Off a torus it cannot run.
  hw::System node = preset("dgx-h100");
  CostModel dgx(node);
  CollectiveWork sw{CollectiveKind::AllReduce, n, 8, 0,
                    CollectiveAlgorithm::TorusDimOrdered};
  EXPECT_TRUE(std::isinf(dgx.collective(sw).estimate.time));
}

TEST(CostModelTest, CausalAttentionDoesAboutHalfTheWork) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  AttentionWork full;
  full.batch = 1;
  full.heads = full.kvHeads = 32;
  full.qLen = full.kvLen = 16384;
  full.headDim = 128;
  AttentionWork causal = full;
  causal.causal = true;
  Estimate f = model.attention(full), c = model.attention(causal);
  EXPECT_DOUBLE_EQ(c.flops, f.flops / 2);
  EXPECT_LT(c.time, 0.6 * f.time);
  EXPECT_GT(c.time, 0.45 * f.time);
}

} // namespace

namespace {

TEST(CostModelTest, TilingFollowsTheStagingLevel) {
  // The same 4096^3 bf16 matmul tiles differently on a 228 KiB shared
  // memory GPU, a TPU core's VMEM and a 48 KiB-per-core SRAM mesh.
  MatmulWork w = gemm(4096, 4096, 4096);
  std::vector<MatmulTiling> tilings;
  for (const char *name : {"h100-sxm", "tpu-v5p", "mesh-sram"}) {
    hw::System sys = preset(name);
    CostModel model(sys);
    MatmulPlan plan = model.planMatmul(w);
    ASSERT_GT(plan.tiling.tileM, 0) << name;
    // Buffers fit the staging level.
    double stageBytes =
        double(plan.tiling.tileM + plan.tiling.tileN) * plan.tiling.tileK * 2;
    EXPECT_LE(plan.tiling.stages * stageBytes,
              double(model.stagingLevel().capacity))
        << name;
    // The plan's estimate is the estimate of its tiling.
    std::optional<Estimate> again = model.matmulWithTiling(w, plan.tiling);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->time, plan.estimate.time);
    tilings.push_back(plan.tiling);
  }
  // The 48 KiB cores cannot hold the GPU's tiles with double buffering.
  EXPECT_LT(tilings[2].stages * (tilings[2].tileM + tilings[2].tileN),
            tilings[0].stages * (tilings[0].tileM + tilings[0].tileN));
  // A tiling that does not fit is refused.
  hw::System mesh = preset("mesh-sram");
  CostModel meshModel(mesh);
  MatmulTiling huge{256, 256, 64, 4};
  EXPECT_FALSE(meshModel.matmulWithTiling(w, huge).has_value());
}

// DeepGEMM's FP8 kernel as gemm.json describes it (Calibration.cpp): the
// partial sums are promoted on the CUDA cores every 128 elements of K into a
// second f32 accumulator, the tile's store completes before the next tile,
// and a tile is multicast within a 2-CTA cluster only when the kernel
// schedules one GEMM (one group, M >= 512).
MatmulWork deepGemm(int64_t groups, int64_t m, int64_t n, int64_t k,
                    bool multicast) {
  MatmulWork w{groups,
               m,
               n,
               k,
               hw::DType::fp8,
               double(groups * m * k),
               double(groups * n * k),
               double(groups * m * n) * 2};
  w.promotionK = 128;
  w.serialEpilogue = true;
  w.multicast = multicast;
  return w;
}

TEST(CostModelTest, ClusterMulticastSharesAnOperandTileThroughL2) {
  hw::System h800 = preset("h800-sxm");
  CostModel model(h800);
  EXPECT_EQ(h800.chip.multicastCores, 2);
  MatmulWork alone = deepGemm(1, 4096, 4096, 7168, false);
  MatmulWork shared = deepGemm(1, 4096, 4096, 7168, true);
  MatmulPlan a = model.planMatmul(alone), b = model.planMatmul(shared);
  EXPECT_EQ(a.tiling.multicast, 1);
  EXPECT_EQ(b.tiling.multicast, 2);
  // The same tiles with and without the cluster: the multicast operand's
  // tiles cross L2 once per cluster.
  MatmulTiling single = b.tiling;
  single.multicast = 1;
  std::optional<Estimate> unshared = model.matmulWithTiling(shared, single);
  ASSERT_TRUE(unshared.has_value());
  const double tm = double(b.tiling.tileM), tn = double(b.tiling.tileN);
  const double tk = double(b.tiling.tileK);
  const double tiles = std::ceil(4096 / tm) * std::ceil(4096 / tn);
  const double sharedTile = (b.tiling.multicastOperand == 0 ? tm : tn) * tk;
  EXPECT_NEAR(unshared->bytesAt("l2") - b.estimate.bytesAt("l2"),
              tiles * std::ceil(7168 / tk) * sharedTile / 2, 1.0);
  EXPECT_LE(b.estimate.time, a.estimate.time);
  // A chip without clusters never multicasts.
  hw::System a100 = preset("a100-sxm-80g");
  CostModel ampere(a100);
  EXPECT_EQ(ampere.planMatmul(gemm(4096, 4096, 4096)).tiling.multicast, 1);
  MatmulWork bf16 = gemm(4096, 4096, 4096);
  bf16.multicast = true;
  EXPECT_EQ(ampere.planMatmul(bf16).tiling.multicast, 1);
}

TEST(CostModelTest, MaskedGroupedGemmDependsOnTheGroupSplit) {
  // DeepGEMM's masked layout, 1 x 1024, 2 x 512 and 4 x 256 rows of a
  // 4096 x 7168 weight per group (README, commit 55ab91f: 1233, 1040 and
  // 932 TFLOP/s). The same FLOPs and tiles; more groups read more weights,
  // and only the single group's kernel multicasts.
  hw::System h800 = preset("h800-sxm");
  CostModel model(h800);
  auto tflops = [&](int64_t groups, int64_t m) {
    Estimate e = model.matmul(deepGemm(groups, m, 4096, 7168, groups == 1));
    return e.flops / e.time / 1e12;
  };
  const double one = tflops(1, 1024), two = tflops(2, 512),
               four = tflops(4, 256);
  EXPECT_GT(one, two * 1.1);
  EXPECT_GE(two, four);
  EXPECT_NEAR(one, 1233, 0.15 * 1233);
  EXPECT_NEAR(four, 932, 0.15 * 932);
  // Each group's weight is read from HBM.
  Estimate e4 = model.matmul(deepGemm(4, 256, 4096, 7168, false));
  EXPECT_GE(e4.bytesAt("hbm"), 4.0 * 4096 * 7168);
}

TEST(CostModelTest, PromotionHoldsASecondAccumulatorAndCostsVectorTime) {
  hw::System h800 = preset("h800-sxm");
  CostModel model(h800);
  MatmulWork plain = gemm(4096, 4096, 7168, hw::DType::fp8);
  MatmulWork promoted = plain;
  promoted.promotionK = 128;
  // 256 x 256 f32 accumulators fill the 256 KiB register file; a second
  // set does not fit.
  MatmulTiling big{256, 256, 64, 3};
  big.tiles = 256;
  EXPECT_TRUE(model.matmulWithTiling(plain, big).has_value());
  EXPECT_FALSE(model.matmulWithTiling(promoted, big).has_value());
  // The promotion's multiply-adds follow the MMAs they wait for.
  MatmulTiling t{128, 256, 64, 4};
  t.tiles = 512;
  std::optional<Estimate> p = model.matmulWithTiling(plain, t);
  std::optional<Estimate> q = model.matmulWithTiling(promoted, t);
  ASSERT_TRUE(p && q);
  EXPECT_GT(q->computeTime, p->computeTime * 1.1);
}

TEST(CostModelTest, SerialEpilogueDrainsTheOutputAfterTheLoop) {
  // 4096 x 32768 x 512: 268 MB of BF16 output for 137 GFLOP. DeepGEMM
  // measures 751 TFLOP/s (183 us); overlapping the stores with the MMAs
  // would hide the ~80 us the output takes to reach HBM.
  hw::System h800 = preset("h800-sxm");
  CostModel model(h800);
  MatmulWork serial = deepGemm(1, 4096, 32768, 512, true);
  MatmulWork overlapped = serial;
  overlapped.serialEpilogue = false;
  Estimate s = model.matmul(serial), o = model.matmul(overlapped);
  EXPECT_GT(s.time, o.time * 1.1);
  EXPECT_NEAR(s.flops / s.time / 1e12, 751, 0.15 * 751);
  // A long K loop hides the same stores almost entirely.
  MatmulWork longK = deepGemm(1, 4096, 7168, 16384, true);
  MatmulWork longKOverlapped = longK;
  longKOverlapped.serialEpilogue = false;
  EXPECT_LT(model.matmul(longK).time,
            model.matmul(longKOverlapped).time * 1.05);
}

} // namespace

namespace {

// SUMMA on a grid chip: the plan lays the output tiles on the core grid and
// multicasts operand tiles along rows and columns, so DRAM sees each operand
// once per wave of the grid, not once per core.
TEST(CostModelTest, GridChipMatmulSharesOperandsOverTheNetwork) {
  hw::System mesh = preset("mesh-sram");
  CostModel model(mesh);
  MatmulWork w = gemm(4096, 4096, 4096);
  w.cBytes = 4096.0 * 4096 * 4; // f32 output, as strata-tile.mlir's case
  MatmulPlan plan = model.planMatmul(w);
  ASSERT_GT(plan.tiling.tileM, 0);
  EXPECT_EQ(plan.tiling.gridRows, 64);
  EXPECT_EQ(plan.tiling.gridCols, 64);
  // One 64x64 wave covers the whole output: every operand crosses DRAM
  // once, the compulsory traffic.
  EXPECT_DOUBLE_EQ(plan.estimate.bytesAt("dram"),
                   w.aBytes + w.bBytes + w.cBytes);
  // Each core received its K steps' A and B tiles over the network.
  const double perCore =
      4096.0 * double(plan.tiling.tileM + plan.tiling.tileN) * 2;
  EXPECT_DOUBLE_EQ(plan.estimate.bytesAt(kNetworkLevel), 4096 * perCore);
  // The same tiling without the grid (every core fetches its own tiles)
  // reads the operands 64 times.
  MatmulTiling flat = plan.tiling;
  flat.gridRows = flat.gridCols = 0;
  std::optional<Estimate> unshared = model.matmulWithTiling(w, flat);
  ASSERT_TRUE(unshared);
  EXPECT_DOUBLE_EQ(unshared->bytesAt("dram"),
                   64 * (w.aBytes + w.bBytes) + w.cBytes);
  EXPECT_LT(plan.estimate.time, unshared->time);
}

// A network too slow for the multicast makes the same mapping bound by it,
// and a faster one never hurts.
TEST(CostModelTest, GridMulticastIsPricedOnTheLinks) {
  hw::System mesh = preset("mesh-sram");
  MatmulWork w = gemm(4096, 4096, 4096);
  MatmulTiling t = CostModel(mesh).planMatmul(w).tiling;
  hw::System slow = mesh;
  slow.chip.noc->linkBandwidth /= 64;
  std::optional<Estimate> e = CostModel(slow).matmulWithTiling(w, t);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->boundKind, BoundKind::Link);
  EXPECT_EQ(e->boundBy, kNetworkLevel);
  hw::System fast = mesh;
  fast.chip.noc->linkBandwidth *= 4;
  EXPECT_LE(CostModel(fast).matmulWithTiling(w, t)->time,
            CostModel(mesh).matmulWithTiling(w, t)->time);
}

// GPUs have no core grid: their plans are unchanged (no grid, no network).
TEST(CostModelTest, GpuMatmulHasNoGridMapping) {
  hw::System h100 = preset("h100-sxm");
  MatmulPlan plan = CostModel(h100).planMatmul(gemm(4096, 4096, 4096));
  EXPECT_EQ(plan.tiling.gridRows, 0);
  EXPECT_EQ(plan.estimate.bytesAt(kNetworkLevel), 0);
}

// The roofline floor: FLOPs at the peak, or compulsory bytes at the home
// bandwidth, whichever is larger.
TEST(CostModelTest, RooflineBoundIsTheLargerOfComputeAndTraffic) {
  hw::System mesh = preset("mesh-sram");
  CostModel model(mesh);
  const double peak = model.matmulPeak(hw::DType::bf16);
  EXPECT_DOUBLE_EQ(model.rooflineBound(1e12, hw::DType::bf16, true, 0),
                   1e12 / peak);
  EXPECT_DOUBLE_EQ(model.rooflineBound(0, hw::DType::bf16, true, 512e9),
                   1.0);
}

} // namespace

namespace {

// A decode step's fused attention on chips where split-KV's combine
// buffers do not fit beside the flash tile: B200 (a 128-row native M pads
// the 4 grouped query rows to 128, whose f32 accumulators twice over
// exceed the 256 KiB register file) at head_dim 128 and 256, and the
// 48 KiB-per-core mesh at head_dim 256. The schedule then runs without
// split-KV (it used to be priced 0 s, and strata-fuse left the attention
// unfused). H100's split-KV plan is unchanged.
TEST(CostModelTest, DecodeAttentionFallsBackToUnsplitKv) {
  AttentionWork w;
  w.batch = 8;
  w.heads = 8;
  w.kvHeads = 2;
  w.qLen = 1;
  w.kvLen = 4097;
  w.packGroupedHeads = true;
  for (const char *name : {"b200", "mesh-sram", "h100-sxm"}) {
    for (int64_t d : {128, 256}) {
      w.headDim = d;
      hw::System sys = preset(name);
      CostModel model(sys);
      AttentionPlan plan = model.planAttention(w);
      ASSERT_GT(plan.tiling.tileM, 0) << name << " d=" << d;
      EXPECT_GT(plan.estimate.time, 0) << name << " d=" << d;
      // Useful FLOPs: 4 x q x kv x d per head.
      EXPECT_DOUBLE_EQ(plan.estimate.flops, 4.0 * 4097 * d * 8 * 8);
      // Every key block is visited once per group (and split).
      EXPECT_EQ(plan.tiling.splits * plan.tiling.kvBlocks * plan.tiling.tileN >=
                    4097,
                true);
      auto [staging, inner] = model.attentionBuffers(w, plan.tiling);
      EXPECT_LE(staging, double(model.stagingLevel().capacity)) << name;
      bool unsplit = std::string(name) != "h100-sxm" &&
                     !(std::string(name) == "mesh-sram" && d == 128);
      EXPECT_EQ(plan.tiling.splits == 1, unsplit) << name << " d=" << d;
    }
  }
}

} // namespace

namespace {

// Sliding-window prefill (Mistral-7B: 32 heads over 8 KV heads of 128, a
// 4,096-token window) at 32k tokens: the flash schedule visits only the
// K/V blocks inside each query block's window, as FlashAttention's
// window_size does, and the useful FLOPs are the visible pairs:
// sum over queries r of min(4096, r + 1) = 4096 x 4097 / 2 + 28,672 x 4096,
// times 2 x (d + d) per head: 2.06 x 10^12 per layer, 0.234 of the causal
// square's 8.80 x 10^12. A window past every key changes nothing.
TEST(CostModelTest, SlidingWindowPrefillSkipsBlocksOutsideTheWindow) {
  hw::System h100 = preset("h100-sxm");
  CostModel model(h100);
  AttentionWork causal;
  causal.heads = 32;
  causal.kvHeads = 8;
  causal.qLen = causal.kvLen = 32768;
  causal.headDim = 128;
  causal.causal = true;
  AttentionWork windowed = causal;
  windowed.window = 4096;
  AttentionPlan c = model.planAttention(causal);
  AttentionPlan w = model.planAttention(windowed);
  ASSERT_GT(c.tiling.tileM, 0);
  ASSERT_GT(w.tiling.tileM, 0);
  const double pairs = 4096.0 * 4097 / 2 + (32768.0 - 4096) * 4096;
  EXPECT_DOUBLE_EQ(w.estimate.flops, 2 * pairs * 256 * 32);
  EXPECT_DOUBLE_EQ(c.estimate.flops, 2.0 * 32768 * 32768 * 256 * 32 / 2);
  // Blocks: a query block of tileM rows sees at most (window + tileM) keys,
  // i.e. ceil((window + tileM) / tileN) + 1 blocks.
  const double tm = double(w.tiling.tileM), tn = double(w.tiling.tileN);
  const double perTile = std::ceil((4096 + tm) / tn) + 1;
  EXPECT_LE(double(w.tiling.visitedBlocks), w.tiling.qTiles * perTile);
  // Past the first window every query block sees window / tileN blocks.
  EXPECT_GE(double(w.tiling.visitedBlocks),
            (w.tiling.qTiles - 4096 / tm) * 4096 / tn);
  // Time follows the work: about the FLOP ratio (0.234), not the square's.
  double ratio = w.estimate.time / c.estimate.time;
  EXPECT_GT(ratio, 0.22);
  EXPECT_LT(ratio, 0.30);
  // A window past every key is causal attention.
  AttentionWork global = causal;
  global.window = 32769;
  EXPECT_DOUBLE_EQ(model.attention(global).time, c.estimate.time);
  EXPECT_DOUBLE_EQ(model.attention(global).flops, c.estimate.flops);
  // The backward visits the same band (2.5x the forward's useful FLOPs).
  AttentionWork bwd = windowed;
  bwd.backward = true;
  EXPECT_DOUBLE_EQ(model.attention(bwd).flops, 2.5 * w.estimate.flops);
}

} // namespace
