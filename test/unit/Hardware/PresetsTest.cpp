//===- PresetsTest.cpp - Built-in presets against their datasheets --------===//
//
// Headline figures within 1% of the public figure (dense, no sparsity);
// docs/hardware-presets.md gives the source of each.
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/Presets.h"

#include "gtest/gtest.h"

#include <cstdio>

using namespace strata::hw;

namespace {

constexpr double T = 1e12, G = 1e9;
constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

#define EXPECT_WITHIN_1PCT(actual, expected)                                   \
  EXPECT_NEAR(static_cast<double>(actual), static_cast<double>(expected),      \
              0.01 * static_cast<double>(expected))

System preset(std::string_view name) {
  std::optional<System> s = getPreset(name);
  EXPECT_TRUE(s.has_value()) << name;
  return s ? *s : System{};
}

double peak(const System &s, DType t, std::string_view unit = {}) {
  std::optional<double> p = SystemQuery(s).peakFlops(t, unit);
  EXPECT_TRUE(p.has_value()) << s.name << " " << toString(t) << " " << unit;
  return p.value_or(0);
}

const MemoryLevel &lvl(const System &s, std::string_view name) {
  static const MemoryLevel none;
  const MemoryLevel *l = SystemQuery(s).level(name);
  EXPECT_NE(l, nullptr) << s.name << " has no level " << name;
  return l ? *l : none;
}

TEST(Presets, EveryNameBuildsAndValidates) {
  for (const std::string &name : presetNames()) {
    std::optional<System> s = getPreset(name);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_EQ(s->name, name);
    auto problems = validate(*s);
    EXPECT_TRUE(problems.empty()) << name << ":\n" << formatProblems(problems);
    // Efficiencies are achievable fractions of peak: 1 unless calibrated
    // (docs/cost-model.md), never above.
    for (const ComputeUnit &u : s->chip.units) {
      EXPECT_GT(u.efficiency, 0.0) << name;
      EXPECT_LE(u.efficiency, 1.0) << name;
    }
    for (const MemoryLevel &l : s->chip.memory) {
      EXPECT_GT(l.efficiency, 0.0) << name;
      EXPECT_LE(l.efficiency, 1.0) << name;
      EXPECT_GT(l.latency, 0) << name << " " << l.name;
      EXPECT_GT(l.energyPerByte, 0) << name << " " << l.name;
    }
    EXPECT_GT(s->chip.staticPower, 0) << name;
    EXPECT_GT(s->chip.launchOverhead, 0) << name;
    // A replayed graph node never costs more than an eager launch.
    EXPECT_LE(s->chip.kernelStartCost(/*graph=*/true),
              s->chip.launchOverhead)
        << name;
  }
}

TEST(Presets, NvidiaGpusReplayGraphsCheaply) {
  for (const char *n : {"h100-sxm", "a100-sxm-80g", "b200", "l40s"}) {
    std::optional<System> s = getPreset(n);
    ASSERT_TRUE(s) << n;
    EXPECT_DOUBLE_EQ(s->chip.graphNodeOverhead, 0.6e-6) << n;
    EXPECT_DOUBLE_EQ(s->chip.kernelStartCost(/*graph=*/false), 4e-6) << n;
  }
  // No cheaper replay described: graph mode pays the eager launch.
  std::optional<System> tpu = getPreset("tpu-v5p");
  ASSERT_TRUE(tpu);
  EXPECT_EQ(tpu->chip.kernelStartCost(/*graph=*/true),
            tpu->chip.launchOverhead);
}

TEST(Presets, NamesAreStableAndUnique) {
  std::vector<std::string> names = presetNames();
  for (const char *n :
       {"a100-sxm-80g", "h100-sxm", "h200", "b200", "tpu-v5p", "mi300x",
        "dgx-a100", "dgx-h100", "dgx-a100x4", "dgx-h100x4", "tpu-v5p-4x4x4",
        "mesh-sram", "chiplet-2x", "h800-sxm", "hgx-h800"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

// H800 SXM5: the H100 SXM5 but for NVLink (400 GB/s total, 200 per
// direction) and FP64 (1 TFLOP/s).
TEST(Presets, H800IsAnH100WithCutNVLinkAndFP64) {
  System h800 = preset("hgx-h800");
  System h100 = preset("dgx-h100");
  ASSERT_EQ(h800.topology.size(), 1u);
  EXPECT_DOUBLE_EQ(h800.topology[0].bandwidth, 200e9);
  EXPECT_DOUBLE_EQ(h100.topology[0].bandwidth, 450e9);
  EXPECT_EQ(h800.chip.cores, h100.chip.cores);
  EXPECT_DOUBLE_EQ(h800.chip.clock, h100.chip.clock);
  ASSERT_EQ(h800.chip.units.size(), h100.chip.units.size());
  EXPECT_EQ(h800.chip.units[0].rate(DType::bf16),
            h100.chip.units[0].rate(DType::bf16));
  double f64 = 0;
  for (const ComputeUnit &u : h800.chip.units)
    if (std::optional<double> r = u.rate(DType::f64))
      f64 += *r * h800.chip.clock * h800.chip.cores;
  EXPECT_NEAR(f64, 1e12, 1e9);
}

TEST(Presets, UnknownAndMalformedNames) {
  for (const char *n :
       {"", "h100", "a100", "dgx-h100x", "dgx-h100x0", "dgx-h100x-1",
        "dgx-h100x+2", "dgx-h100x1.5", "dgx-a100x4k", "tpu-v5p-", "tpu-v5p-4x4",
        "tpu-v5p-4x4x4x4", "tpu-v5p-0x4x4", "tpu-v5p-4xx4", "tpu-v5p-32x32x32",
        "dgx-h100x99999999999999999999"})
    EXPECT_FALSE(getPreset(n).has_value()) << n;
}

TEST(Presets, A100) {
  System s = preset("a100-sxm-80g");
  EXPECT_EQ(s.chip.cores, 108);
  EXPECT_WITHIN_1PCT(s.chip.clock, 1.41 * G);
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 312 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp16), 312 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::tf32), 156 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::int8), 624 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::f64, "tensor"), 19.5 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::f32, "cuda"), 19.5 * T);
  EXPECT_EQ(*s.chip.units[0].rate(DType::bf16), 2048);
  EXPECT_FALSE(SystemQuery(s).peakFlops(DType::fp8));
  EXPECT_EQ(lvl(s, "hbm").capacity, 80 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 2039 * G);
  EXPECT_EQ(lvl(s, "l2").capacity, 40 * MiB);
  EXPECT_EQ(lvl(s, "smem").capacity, 164 * KiB);
  EXPECT_EQ(lvl(s, "rf").capacity, 256 * KiB);
  EXPECT_EQ(SystemQuery(s).levelIndex("rf"), 0);
  EXPECT_EQ(SystemQuery(s).levelIndex("hbm"), 3);
}

TEST(Presets, H100) {
  System s = preset("h100-sxm");
  EXPECT_EQ(s.chip.cores, 132);
  // The tensor peaks are quoted at 1.83 GHz: 989.4e12 / (132 x 4096).
  EXPECT_WITHIN_1PCT(s.chip.clock, 1.83 * G);
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 989 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp8), 1979 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::tf32), 494 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::int8), 1979 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::f32, "cuda"), 67 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::f64, "tensor"), 67 * T);
  EXPECT_EQ(lvl(s, "hbm").capacity, 80 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 3.35 * T);
  EXPECT_EQ(lvl(s, "l2").capacity, 50 * MiB);
  EXPECT_EQ(lvl(s, "smem").capacity, 228 * KiB);
  EXPECT_EQ(lvl(s, "rf").capacity, 256 * KiB);
}

TEST(Presets, H200) {
  System s = preset("h200");
  System h100 = preset("h100-sxm");
  EXPECT_DOUBLE_EQ(peak(s, DType::bf16), peak(h100, DType::bf16));
  EXPECT_EQ(lvl(s, "hbm").capacity, 141 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 4.8 * T);
}

TEST(Presets, B200) {
  System s = preset("b200");
  EXPECT_EQ(s.chip.cores, 148);
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 2250 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp8), 4500 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp4), 9000 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::int8), 4500 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::f32, "cuda"), 80 * T);
  EXPECT_EQ(*s.chip.units[0].rate(DType::bf16), 8192);
  EXPECT_EQ(lvl(s, "hbm").capacity, 180 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 8 * T);
  System d = preset("dgx-b200");
  EXPECT_WITHIN_1PCT(d.topology[0].bandwidth, 900 * G);
  EXPECT_TRUE(d.topology[0].inNetworkReduction);
}

TEST(Presets, TpuV5p) {
  System s = preset("tpu-v5p");
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 459 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::int8), 918 * T);
  EXPECT_EQ(s.chip.units[0].name, "mxu");
  EXPECT_EQ(s.chip.units[0].shape, (std::vector<int64_t>{8, 128, 128}));
  EXPECT_EQ(s.chip.units[1].name, "vpu");
  EXPECT_EQ(lvl(s, "hbm").capacity, 95 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 2765 * G);
  EXPECT_EQ(SystemQuery(s).levelIndex("vmem"), 0);
  EXPECT_EQ(s.devices, 1);
  EXPECT_TRUE(s.topology.empty());
}

TEST(Presets, TpuV5pSlice) {
  System s = preset("tpu-v5p-4x4x4");
  EXPECT_EQ(s.devices, 64);
  ASSERT_EQ(s.topology.size(), 1u);
  const Fabric &ici = s.topology[0];
  EXPECT_EQ(ici.kind, FabricKind::Torus);
  EXPECT_EQ(ici.shape, (std::vector<int64_t>{4, 4, 4}));
  // 4800 Gbps = 600 GB/s per direction over 6 links.
  EXPECT_WITHIN_1PCT(ici.bandwidth, 600 * G);
  EXPECT_WITHIN_1PCT(ici.linkBandwidth(), 100 * G);
  SystemQuery q(s);
  EXPECT_EQ(q.path(0, 63).hops, 3); // (3,3,3) is one wrap-around per dim
  EXPECT_WITHIN_1PCT(q.bisectionBandwidth(), 2 * 16 * 100 * G);
  System odd = preset("tpu-v5p-2x4x8");
  EXPECT_EQ(odd.devices, 64);
  EXPECT_EQ(odd.topology[0].shape, (std::vector<int64_t>{2, 4, 8}));
}

// Cloud TPU v4 documentation: 275 TFLOPS (bf16 or int8), 32 GiB HBM2 at
// 1200 GB/s, 4096-chip pods with 24 TB/s bisection bandwidth in a 3D torus.
TEST(Presets, TpuV4) {
  System s = preset("tpu-v4");
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 275 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::int8), 275 * T);
  EXPECT_WITHIN_1PCT(s.chip.clock, 1.05 * G); // the published 1050 MHz
  EXPECT_EQ(lvl(s, "hbm").capacity, 32 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 1200 * G);
  EXPECT_EQ(s.devices, 1);
  System pod = preset("tpu-v4-16x16x16");
  EXPECT_EQ(pod.devices, 4096);
  ASSERT_EQ(pod.topology.size(), 1u);
  EXPECT_EQ(pod.topology[0].kind, FabricKind::Torus);
  EXPECT_WITHIN_1PCT(SystemQuery(pod).bisectionBandwidth(), 24 * T);
  // PaLM's two 3072-chip pods over the data-center network.
  System palm = preset("tpu-v4-12x16x16-x2");
  EXPECT_EQ(palm.devices, 6144);
  ASSERT_EQ(palm.topology.size(), 2u);
  EXPECT_EQ(palm.topology[1].name, "dcn");
  EXPECT_EQ(palm.topology[1].size(), 2);
  for (const char *bad : {"tpu-v4-", "tpu-v4-4x4", "tpu-v4-32x32x32",
                          "tpu-v4-4x4x4-x", "tpu-v4-4x4x4-x0"})
    EXPECT_FALSE(getPreset(bad).has_value()) << bad;
}

TEST(Presets, Mi300x) {
  System s = preset("mi300x");
  EXPECT_EQ(s.chip.cores, 304);
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 1307 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp8), 2615 * T);
  EXPECT_EQ(s.chip.units[0].name, "matrix");
  EXPECT_EQ(s.chip.units[1].name, "vector");
  EXPECT_EQ(lvl(s, "hbm").capacity, 192 * GiB);
  EXPECT_WITHIN_1PCT(lvl(s, "hbm").readBandwidth, 5.3 * T);
  EXPECT_EQ(lvl(s, "llc").capacity, 256 * MiB);
  System p = preset("mi300x-x8");
  EXPECT_EQ(p.devices, 8);
  EXPECT_EQ(p.topology[0].kind, FabricKind::FullyConnected);
  EXPECT_WITHIN_1PCT(p.topology[0].linkBandwidth(), 64 * G);
  EXPECT_WITHIN_1PCT(SystemQuery(p).path(0, 5).bandwidth, 64 * G);
  EXPECT_EQ(SystemQuery(p).path(0, 5).hops, 1);
}

TEST(Presets, DgxNodes) {
  System a = preset("dgx-a100");
  ASSERT_EQ(a.topology.size(), 1u);
  EXPECT_EQ(a.devices, 8);
  EXPECT_EQ(a.topology[0].name, "nvlink");
  EXPECT_EQ(a.topology[0].kind, FabricKind::Switch);
  EXPECT_EQ(a.topology[0].size(), 8);
  EXPECT_WITHIN_1PCT(a.topology[0].bandwidth, 300 * G);
  EXPECT_FALSE(a.topology[0].inNetworkReduction);
  System h = preset("dgx-h100");
  EXPECT_WITHIN_1PCT(h.topology[0].bandwidth, 450 * G);
  EXPECT_TRUE(h.topology[0].inNetworkReduction);
  EXPECT_WITHIN_1PCT(peak(h, DType::bf16), 989 * T);
}

TEST(Presets, DgxClusters) {
  for (int64_t n : {1, 4, 32}) {
    System a = preset("dgx-a100x" + std::to_string(n));
    EXPECT_EQ(a.devices, 8 * n);
    ASSERT_EQ(a.topology.size(), 2u);
    EXPECT_EQ(a.topology[1].name, "ib");
    EXPECT_EQ(a.topology[1].kind, FabricKind::FatTree);
    EXPECT_EQ(a.topology[1].size(), n);
    EXPECT_WITHIN_1PCT(a.topology[1].bandwidth, 25 * G);
    System h = preset("dgx-h100x" + std::to_string(n));
    EXPECT_EQ(h.devices, 8 * n);
    EXPECT_WITHIN_1PCT(h.topology[1].bandwidth, 50 * G);
    EXPECT_GE(h.topology[1].latency, 1e-6);
    EXPECT_LE(h.topology[1].latency, 10e-6);
  }
  System h = preset("dgx-h100x4");
  SystemQuery q(h);
  DevicePath p = q.path(3, 8 * 2 + 3); // same rail, different nodes
  EXPECT_EQ(p.fabric, 1);
  EXPECT_WITHIN_1PCT(p.bandwidth, 50 * G);
  EXPECT_EQ(q.path(0, 7).fabric, 0);
  // IB: 2 nodes x 8 GPUs x 50 GB/s across the cut.
  EXPECT_WITHIN_1PCT(q.bisectionBandwidth(), 800 * G);
}

TEST(Presets, MeshSram) {
  System s = preset("mesh-sram");
  ASSERT_TRUE(s.chip.grid.has_value());
  EXPECT_EQ((*s.chip.grid)[0] * (*s.chip.grid)[1], s.chip.cores);
  EXPECT_TRUE(s.chip.noc.has_value());
  EXPECT_EQ(lvl(s, "sram").capacity, 48 * KiB);
  EXPECT_EQ(lvl(s, "sram").scope, Scope::Core);
  EXPECT_EQ(lvl(s, "dram").scope, Scope::Chip);
  EXPECT_EQ(s.chip.units[0].name, "matrix");
  EXPECT_EQ(s.chip.units[1].name, "vector");
}

TEST(Presets, Chiplet) {
  System s = preset("chiplet-2x");
  EXPECT_EQ(s.devices, 2);
  ASSERT_EQ(s.topology.size(), 1u);
  EXPECT_EQ(s.topology[0].name, "d2d");
  EXPECT_GE(s.topology[0].bandwidth, 1.5 * T);
  EXPECT_LE(s.topology[0].bandwidth, 5 * T);
  EXPECT_NE(SystemQuery(s).level("hbm"), nullptr);
}

// Tenstorrent Wormhole: docs.tenstorrent.com "Card Comparison Table" [S],
// tt-isa-documentation [I], tt-metal GEMM_FLOPS / BasicEthernetGuide tech
// reports (docs/hardware-presets.md gives the places).
TEST(Presets, WormholeN150) {
  System s = preset("wormhole-n150");
  EXPECT_TRUE(validate(s).empty()) << formatProblems(validate(s));
  EXPECT_EQ(s.devices, 1);
  EXPECT_TRUE(s.topology.empty());
  // The 8x8 compute grid tt-metal programs.
  ASSERT_TRUE(s.chip.grid.has_value());
  EXPECT_EQ((*s.chip.grid)[0], 8);
  EXPECT_EQ((*s.chip.grid)[1], 8);
  EXPECT_EQ(s.chip.cores, 64);
  EXPECT_WITHIN_1PCT(s.chip.clock, 1 * G);
  // [S] "TeraFLOPs (FP8) 262" = 64 cores x 4096 (LoFi) x 1 GHz.
  EXPECT_WITHIN_1PCT(peak(s, DType::fp8), 262 * T);
  EXPECT_WITHIN_1PCT(peak(s, DType::fp8, "fpu"), 262 * T);
  // bf16 at HiFi4 (4 phases): a quarter of LoFi on the same 64 cores.
  EXPECT_WITHIN_1PCT(peak(s, DType::bf16), 65.5 * T);
  // [S]'s FP16 74 and BLOCKFP8 148 count all 72 enabled n150 cores at HiFi4
  // and HiFi2 (half of LoFi): the per-core rates reproduce them.
  const ComputeUnit &fpu = s.chip.units[0];
  EXPECT_EQ(fpu.name, "fpu");
  EXPECT_WITHIN_1PCT(*fpu.rate(DType::bf16) * 72 * s.chip.clock, 74 * T);
  EXPECT_WITHIN_1PCT(*fpu.rate(DType::fp8) / 2 * 72 * s.chip.clock, 148 * T);
  EXPECT_FALSE(fpu.rate(DType::int8).has_value()); // no published peak
  // [I] SFPU: 32 lanes x FMA.
  EXPECT_WITHIN_1PCT(peak(s, DType::f32, "sfpu"), 64 * 64 * G);
  // [I] 1464 KiB L1 per Tensix; [S] 1.5 MB per core, 108 MB on 72 cores and
  // 96 MB on 64 (decimal MB).
  const MemoryLevel &l1 = lvl(s, "l1");
  EXPECT_EQ(l1.capacity, 1464 * KiB);
  EXPECT_EQ(l1.scope, Scope::Core);
  EXPECT_WITHIN_1PCT(72 * l1.capacity, 108e6);
  EXPECT_WITHIN_1PCT(SystemQuery(s).aggregateCapacity(l1), 96e6);
  // [S] 12GB GDDR6 ([I]: 6 x 2 GiB), 288 GB/s.
  const MemoryLevel &dram = lvl(s, "dram");
  EXPECT_EQ(dram.capacity, 12 * GiB);
  EXPECT_EQ(dram.scope, Scope::Chip);
  EXPECT_WITHIN_1PCT(dram.readBandwidth, 288 * G);
  // [I] NoC: 2D torus, one 32 B flit per cycle per link, 9 cycles a hop.
  ASSERT_TRUE(s.chip.noc.has_value());
  EXPECT_EQ(s.chip.noc->kind, NocKind::Torus);
  EXPECT_WITHIN_1PCT(s.chip.noc->linkBandwidth, 32 * G);
  EXPECT_WITHIN_1PCT(s.chip.noc->hopLatency, 9e-9);
  // [S] TBP 160 W, 25 % static.
  EXPECT_WITHIN_1PCT(s.chip.staticPower, 40);
}

TEST(Presets, WormholeN300) {
  System s = preset("wormhole-n300");
  EXPECT_TRUE(validate(s).empty()) << formatProblems(validate(s));
  // [S] two ASICs of 64 Tensix cores each; every figure below is per card.
  EXPECT_EQ(s.devices, 2);
  EXPECT_EQ(s.chip.cores, 64);
  double devices = double(s.devices);
  // [S] "TeraFLOPs (FP16) 131" and "(BFP8) 262" = 128 cores at HiFi4 and
  // HiFi2. (Its "FP8 466" is not 128 x 4096 x 1 GHz = 524: it equals the
  // n150's 262 scaled by 128/72 cores; see docs/hardware-presets.md.)
  EXPECT_WITHIN_1PCT(devices * peak(s, DType::bf16), 131 * T);
  EXPECT_WITHIN_1PCT(devices * peak(s, DType::fp8) / 2, 262 * T);
  // [S] 24GB GDDR6, 576 GB/s; 192 MB SRAM (96 MB per ASIC).
  const MemoryLevel &dram = lvl(s, "dram");
  EXPECT_EQ(uint64_t(devices) * dram.capacity, 24 * GiB);
  EXPECT_WITHIN_1PCT(devices * dram.readBandwidth, 576 * G);
  EXPECT_WITHIN_1PCT(
      devices * double(SystemQuery(s).aggregateCapacity(lvl(s, "l1"))), 192e6);
  // [E] two 100 GbE links between the ASICs: 200 Gb/s = 25 GB/s each way;
  // ~0.6 us one way over a link.
  ASSERT_EQ(s.topology.size(), 1u);
  const Fabric &eth = s.topology[0];
  EXPECT_EQ(eth.name, "eth");
  EXPECT_EQ(eth.kind, FabricKind::FullyConnected);
  EXPECT_EQ(eth.size(), 2);
  EXPECT_WITHIN_1PCT(eth.bandwidth, 25 * G);
  EXPECT_WITHIN_1PCT(eth.latency, 0.6e-6);
  DevicePath p = SystemQuery(s).path(0, 1);
  EXPECT_EQ(p.fabric, 0);
  EXPECT_EQ(p.hops, 1);
  EXPECT_WITHIN_1PCT(p.bandwidth, 25 * G);
  // [S] TBP 300 W for the board -> 150 W per ASIC, 25 % static.
  EXPECT_WITHIN_1PCT(s.chip.staticPower, 37.5);
  // Same ASIC as the n150 otherwise.
  System n150 = preset("wormhole-n150");
  EXPECT_EQ(*s.chip.grid, *n150.chip.grid);
  EXPECT_EQ(lvl(s, "l1").capacity, lvl(n150, "l1").capacity);
  EXPECT_DOUBLE_EQ(peak(s, DType::bf16), peak(n150, DType::bf16));
}

TEST(Presets, WormholeNamesAreExact) {
  for (const char *n : {"wormhole", "wormhole-n", "wormhole-n150x2",
                        "wormhole-n300 ", "Wormhole-n150", "wormhole-n450"})
    EXPECT_FALSE(getPreset(n).has_value()) << n;
  std::vector<std::string> names = presetNames();
  for (const char *n : {"wormhole-n150", "wormhole-n300"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

// Prints the headline numbers (run the binary to see them).
TEST(Presets, PrintHeadlines) {
  std::printf("%-14s %9s %9s %9s %9s %9s %8s %9s %7s %s\n", "preset", "bf16 TF",
              "fp8 TF", "int8 TO", "f32 TF", "fp4 TF", "hbm GiB", "hbm TB/s",
              "devices", "fabrics (GB/s per device per dir)");
  for (const std::string &name : presetNames()) {
    System s = *getPreset(name);
    SystemQuery q(s);
    auto tf = [&](DType t) {
      std::optional<double> p = q.peakFlops(t);
      return p ? *p / T : 0.0;
    };
    const MemoryLevel &main = s.chip.memory.back();
    std::string fabrics;
    for (const Fabric &f : s.topology)
      fabrics += f.name + ":" + std::string(toString(f.kind)) + "x" +
                 std::to_string(f.size()) + "@" +
                 std::to_string(static_cast<int>(f.bandwidth / G)) + " ";
    std::printf("%-14s %9.1f %9.1f %9.1f %9.1f %9.1f %8.0f %9.3f %7lld %s\n",
                name.c_str(), tf(DType::bf16), tf(DType::fp8), tf(DType::int8),
                tf(DType::f32), tf(DType::fp4),
                static_cast<double>(main.capacity) / GiB,
                main.readBandwidth / T, static_cast<long long>(s.devices),
                fabrics.c_str());
  }
}

} // namespace
