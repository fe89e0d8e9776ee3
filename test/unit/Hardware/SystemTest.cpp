//===- SystemTest.cpp - Hardware model: enums, validation, queries --------===//

#include "strata/Hardware/System.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace strata::hw;

namespace {

//===----------------------------------------------------------------------===//
// A small valid system to break one field at a time.
//===----------------------------------------------------------------------===//

MemoryLevel mkLevel(std::string name, Scope scope, Management m, uint64_t cap,
                    double bw) {
  MemoryLevel l;
  l.name = std::move(name);
  l.scope = scope;
  l.management = m;
  l.capacity = cap;
  l.readBandwidth = bw;
  l.writeBandwidth = bw;
  l.latency = 1e-9;
  l.energyPerByte = 1e-12;
  return l;
}

Chip mkChip() {
  Chip c;
  c.name = "toy";
  c.clock = 1e9;
  c.cores = 4;
  ComputeUnit mm;
  mm.name = "mm";
  mm.kind = UnitKind::Matrix;
  mm.shape = {16, 16, 16};
  mm.rates = {{DType::bf16, 1024}, {DType::fp8, 2048}};
  ComputeUnit vec;
  vec.name = "vec";
  vec.kind = UnitKind::Vector;
  vec.shape = {32};
  vec.rates = {{DType::f32, 64}, {DType::bf16, 128}};
  c.units = {mm, vec};
  c.memory = {
      mkLevel("smem", Scope::Core, Management::Scratchpad, 1 << 16, 100e9),
      mkLevel("l2", Scope::Chip, Management::Cache, 1 << 20, 200e9),
      mkLevel("dram", Scope::Chip, Management::Scratchpad, 1ull << 30, 100e9)};
  c.staticPower = 10;
  c.launchOverhead = 1e-6;
  return c;
}

Fabric mkFabric(std::string name, FabricKind kind, std::vector<int64_t> shape,
                double bw) {
  Fabric f;
  f.name = std::move(name);
  f.kind = kind;
  f.shape = std::move(shape);
  f.bandwidth = bw;
  f.latency = 1e-6;
  f.energyPerByte = 1e-11;
  return f;
}

System mkSystem() {
  System s;
  s.name = "toy-sys";
  s.chip = mkChip();
  s.devices = 8;
  s.topology = {mkFabric("link", FabricKind::Switch, {4}, 100e9),
                mkFabric("net", FabricKind::FatTree, {2}, 10e9)};
  return s;
}

/// True when some problem has exactly `path` and a message containing
/// `needle`.
bool hasProblem(const std::vector<Problem> &ps, const std::string &path,
                const std::string &needle = "") {
  return std::any_of(ps.begin(), ps.end(), [&](const Problem &p) {
    return p.path == path && p.message.find(needle) != std::string::npos;
  });
}

std::string dump(const std::vector<Problem> &ps) { return formatProblems(ps); }

#define EXPECT_PROBLEM(sys, path, needle)                                      \
  do {                                                                         \
    auto ps_ = validate(sys);                                                  \
    EXPECT_TRUE(hasProblem(ps_, path, needle))                                 \
        << "expected a problem at " << path << " mentioning '" << needle       \
        << "', got:\n"                                                         \
        << dump(ps_);                                                          \
  } while (0)

//===----------------------------------------------------------------------===//
// Enumerations
//===----------------------------------------------------------------------===//

TEST(Enums, RoundTripEveryValue) {
  for (DType t : kAllDTypes)
    EXPECT_EQ(parseDType(toString(t)), t);
  for (UnitKind k : {UnitKind::Matrix, UnitKind::Vector})
    EXPECT_EQ(parseUnitKind(toString(k)), k);
  for (Scope s : {Scope::Core, Scope::Chip, Scope::System})
    EXPECT_EQ(parseScope(toString(s)), s);
  for (Management m : {Management::Scratchpad, Management::Cache})
    EXPECT_EQ(parseManagement(toString(m)), m);
  for (NocKind k :
       {NocKind::Mesh, NocKind::Torus, NocKind::Crossbar, NocKind::Ring})
    EXPECT_EQ(parseNocKind(toString(k)), k);
  for (FabricKind k :
       {FabricKind::Switch, FabricKind::FatTree, FabricKind::Ring,
        FabricKind::Torus, FabricKind::Mesh, FabricKind::FullyConnected})
    EXPECT_EQ(parseFabricKind(toString(k)), k);
}

TEST(Enums, Spellings) {
  EXPECT_EQ(toString(DType::bf16), "bf16");
  EXPECT_EQ(toString(DType::fp8), "fp8");
  EXPECT_EQ(toString(UnitKind::Matrix), "matrix");
  EXPECT_EQ(toString(Scope::Core), "core");
  EXPECT_EQ(toString(Management::Scratchpad), "scratchpad");
  EXPECT_EQ(toString(NocKind::Crossbar), "crossbar");
  EXPECT_EQ(toString(FabricKind::FatTree), "fat_tree");
  EXPECT_EQ(toString(FabricKind::FullyConnected), "fully_connected");
  EXPECT_FALSE(parseDType("BF16"));
  EXPECT_FALSE(parseFabricKind("fat-tree"));
  EXPECT_FALSE(parseScope(""));
}

TEST(Enums, BitWidth) {
  EXPECT_EQ(bitWidth(DType::f64), 64u);
  EXPECT_EQ(bitWidth(DType::tf32), 32u);
  EXPECT_EQ(bitWidth(DType::bf16), 16u);
  EXPECT_EQ(bitWidth(DType::fp8), 8u);
  EXPECT_EQ(bitWidth(DType::fp4), 4u);
}

TEST(Description, RateAndSize) {
  Chip c = mkChip();
  EXPECT_EQ(c.units[0].rate(DType::bf16), 1024);
  EXPECT_FALSE(c.units[0].rate(DType::f64));
  Fabric t = mkFabric("t", FabricKind::Torus, {4, 4, 2}, 600e9);
  EXPECT_EQ(t.size(), 32);
  EXPECT_EQ(t.linksPerDevice(), 6);
  EXPECT_DOUBLE_EQ(t.linkBandwidth(), 100e9);
  EXPECT_EQ(mkFabric("f", FabricKind::FullyConnected, {8}, 1).linksPerDevice(),
            7);
  EXPECT_EQ(mkFabric("s", FabricKind::Switch, {8}, 1).linksPerDevice(), 1);
  EXPECT_EQ(mkFabric("r", FabricKind::Ring, {8}, 1).linksPerDevice(), 2);
}

//===----------------------------------------------------------------------===//
// Validation: one test per rule
//===----------------------------------------------------------------------===//

TEST(Validate, BaselineIsValid) {
  auto ps = validate(mkSystem());
  EXPECT_TRUE(ps.empty()) << dump(ps);
}

TEST(Validate, EmptyNames) {
  System s = mkSystem();
  s.name = "";
  s.chip.name = "";
  s.chip.units[0].name = "";
  s.chip.memory[1].name = "";
  s.topology[0].name = "";
  EXPECT_PROBLEM(s, "name", "system name");
  EXPECT_PROBLEM(s, "chip.name", "chip name");
  EXPECT_PROBLEM(s, "chip.units[0].name", "unit name");
  EXPECT_PROBLEM(s, "chip.memory[1].name", "level name");
  EXPECT_PROBLEM(s, "topology[0].name", "fabric name");
}

TEST(Validate, DuplicateNames) {
  System s = mkSystem();
  s.chip.units[1].name = "mm";
  s.chip.memory[2].name = "smem";
  s.topology[1].name = "link";
  EXPECT_PROBLEM(s, "chip.units[1].name", "duplicate unit name 'mm'");
  EXPECT_PROBLEM(s, "chip.memory[2].name", "duplicate level name 'smem'");
  EXPECT_PROBLEM(s, "topology[1].name", "duplicate fabric name 'link'");
}

TEST(Validate, NonPositiveClockAndCores) {
  System s = mkSystem();
  s.chip.clock = 0;
  s.chip.cores = -1;
  EXPECT_PROBLEM(s, "chip.clock", "positive");
  EXPECT_PROBLEM(s, "chip.cores", "positive");
}

TEST(Validate, NonPositiveRate) {
  System s = mkSystem();
  s.chip.units[0].rates[1].second = 0;
  EXPECT_PROBLEM(s, "chip.units[0].rates.fp8", "positive");
}

TEST(Validate, NonPositiveCapacityAndBandwidth) {
  System s = mkSystem();
  s.chip.memory[0].capacity = 0;
  s.chip.memory[1].readBandwidth = -1;
  s.chip.memory[2].writeBandwidth = 0;
  EXPECT_PROBLEM(s, "chip.memory[0].capacity", "positive");
  EXPECT_PROBLEM(s, "chip.memory[1].bandwidth", "positive");
  EXPECT_PROBLEM(s, "chip.memory[2].write_bandwidth", "positive");
}

TEST(Validate, NonPositiveFabricAndNocBandwidth) {
  System s = mkSystem();
  s.topology[0].bandwidth = 0;
  EXPECT_PROBLEM(s, "topology[0].bandwidth", "positive");
  OnChipNetwork n;
  n.linkBandwidth = 0;
  EXPECT_TRUE(
      hasProblem(validate(n, "chip.noc"), "chip.noc.bandwidth", "positive"));
}

TEST(Validate, NegativeLatencyEnergyPower) {
  System s = mkSystem();
  s.chip.memory[0].latency = -1e-9;
  s.chip.memory[1].energyPerByte = -1;
  s.chip.staticPower = -5;
  s.chip.launchOverhead = -1e-6;
  s.topology[0].latency = -1;
  s.topology[1].energyPerByte = -1;
  EXPECT_PROBLEM(s, "chip.memory[0].latency", "non-negative");
  EXPECT_PROBLEM(s, "chip.memory[1].energy", "non-negative");
  EXPECT_PROBLEM(s, "chip.static_power", "non-negative");
  EXPECT_PROBLEM(s, "chip.launch_overhead", "non-negative");
  EXPECT_PROBLEM(s, "topology[0].latency", "non-negative");
  EXPECT_PROBLEM(s, "topology[1].energy", "non-negative");
  OnChipNetwork n;
  n.linkBandwidth = 1;
  n.hopLatency = -1;
  n.energyPerByte = -1;
  auto ps = validate(n, "noc");
  EXPECT_TRUE(hasProblem(ps, "noc.hop_latency", "non-negative"));
  EXPECT_TRUE(hasProblem(ps, "noc.energy", "non-negative"));
}

TEST(Validate, ZeroLatencyAndEnergyAreFine) {
  System s = mkSystem();
  s.chip.memory[0].latency = 0;
  s.chip.memory[0].energyPerByte = 0;
  s.chip.staticPower = 0;
  EXPECT_TRUE(validate(s).empty()) << dump(validate(s));
}

TEST(Validate, EfficiencyRange) {
  System s = mkSystem();
  s.chip.units[0].efficiency = 0;
  s.chip.memory[0].efficiency = 1.01;
  s.topology[0].efficiency = -0.5;
  EXPECT_PROBLEM(s, "chip.units[0].efficiency", "(0, 1]");
  EXPECT_PROBLEM(s, "chip.memory[0].efficiency", "(0, 1]");
  EXPECT_PROBLEM(s, "topology[0].efficiency", "(0, 1]");
  s = mkSystem();
  s.chip.units[0].efficiency = 1.0;
  s.chip.memory[0].efficiency = 0.01;
  EXPECT_TRUE(validate(s).empty());
}

TEST(Validate, MatrixShape) {
  System s = mkSystem();
  s.chip.units[0].shape = {16, 16};
  EXPECT_PROBLEM(s, "chip.units[0].shape", "3 dimensions");
  s.chip.units[0].shape = {};
  EXPECT_PROBLEM(s, "chip.units[0].shape", "3 dimensions");
  s.chip.units[0].shape = {16, 0, 16};
  EXPECT_PROBLEM(s, "chip.units[0].shape[1]", "positive");
}

TEST(Validate, VectorShape) {
  System s = mkSystem();
  s.chip.units[1].shape = {8, 128};
  EXPECT_PROBLEM(s, "chip.units[1].shape", "at most 1 dimension");
  s.chip.units[1].shape = {};
  EXPECT_TRUE(validate(s).empty());
  s.chip.units[1].shape = {-4};
  EXPECT_PROBLEM(s, "chip.units[1].shape[0]", "positive");
}

TEST(Validate, DuplicateAndMissingRates) {
  System s = mkSystem();
  s.chip.units[0].rates.push_back({DType::bf16, 99});
  EXPECT_PROBLEM(s, "chip.units[0].rates.bf16", "duplicate rate");
  s.chip.units[0].rates.clear();
  EXPECT_PROBLEM(s, "chip.units[0].rates", "at least one dtype");
}

TEST(Validate, ChipNeedsUnitsAndMemory) {
  System s = mkSystem();
  s.chip.units.clear();
  s.chip.memory.clear();
  EXPECT_PROBLEM(s, "chip.units", "at least one compute unit");
  EXPECT_PROBLEM(s, "chip.memory", "at least one memory level");
}

TEST(Validate, GridAndNoc) {
  System s = mkSystem();
  OnChipNetwork n;
  n.linkBandwidth = 1e9;
  s.chip.grid = std::array<int64_t, 2>{2, 3};
  s.chip.noc = n;
  EXPECT_PROBLEM(s, "chip.grid", "6 cores but the chip has 4");
  s.chip.grid = std::array<int64_t, 2>{2, 2};
  EXPECT_TRUE(validate(s).empty()) << dump(validate(s));
  s.chip.grid = std::array<int64_t, 2>{0, 2};
  EXPECT_PROBLEM(s, "chip.grid", "positive");
  // One without the other.
  s.chip.grid.reset();
  EXPECT_PROBLEM(s, "chip.noc", "needs a core grid");
  s.chip.grid = std::array<int64_t, 2>{2, 2};
  s.chip.noc.reset();
  EXPECT_PROBLEM(s, "chip.grid", "needs an on-chip network");
}

TEST(Validate, CacheLargerThanBackingLevel) {
  System s = mkSystem();
  s.chip.memory[1].capacity = 2ull << 30; // l2 cache > 1 GiB dram
  EXPECT_PROBLEM(s, "chip.memory[1].capacity", "larger than the level 'dram'");
  // Totals count every core of a core-scoped cache: 4 x 512 KiB > 1 MiB.
  s = mkSystem();
  s.chip.memory[0].management = Management::Cache;
  s.chip.memory[0].capacity = 512 << 10;
  EXPECT_PROBLEM(s, "chip.memory[0].capacity", "larger than the level 'l2'");
  // A scratchpad may be larger than the next level (no inclusion).
  s.chip.memory[0].management = Management::Scratchpad;
  EXPECT_TRUE(validate(s).empty()) << dump(validate(s));
}

TEST(Validate, ScopesNonDecreasingOutwards) {
  System s = mkSystem();
  s.chip.memory[2].scope = Scope::Core; // dram per core, outside chip l2
  EXPECT_PROBLEM(s, "chip.memory[2].scope", "must not narrow");
  s = mkSystem();
  s.chip.memory[2].scope = Scope::System;
  EXPECT_TRUE(validate(s).empty());
}

TEST(Validate, FabricShape) {
  System s = mkSystem();
  s.topology[0].shape = {};
  EXPECT_PROBLEM(s, "topology[0].shape", "must not be empty");
  s = mkSystem();
  s.topology[0].shape = {0};
  EXPECT_PROBLEM(s, "topology[0].shape[0]", "positive");
  s = mkSystem();
  s.topology[0].shape = {2, 2}; // a switch has one dimension
  EXPECT_PROBLEM(s, "topology[0].shape", "exactly 1 dimension");
}

TEST(Validate, FabricDimsPerKind) {
  for (FabricKind k : {FabricKind::Switch, FabricKind::FatTree,
                       FabricKind::Ring, FabricKind::FullyConnected}) {
    System s = mkSystem();
    s.topology[0].kind = k;
    s.topology[0].shape = {2, 2};
    EXPECT_PROBLEM(s, "topology[0].shape", "exactly 1 dimension");
    s.topology[0].shape = {4};
    EXPECT_TRUE(validate(s).empty()) << toString(k);
  }
  for (FabricKind k : {FabricKind::Torus, FabricKind::Mesh}) {
    System s = mkSystem();
    s.topology[0].kind = k;
    s.topology[0].shape = {2, 2};
    EXPECT_TRUE(validate(s).empty()) << toString(k);
    s.topology[0].shape = {4};
    EXPECT_TRUE(validate(s).empty()) << toString(k);
  }
}

TEST(Validate, InNetworkReductionNeedsSwitch) {
  System s = mkSystem();
  s.topology[0].inNetworkReduction = true;
  s.topology[1].inNetworkReduction = true;
  EXPECT_TRUE(validate(s).empty());
  s.topology[0].kind = FabricKind::Ring;
  EXPECT_PROBLEM(s, "topology[0].in_network_reduction", "ring");
  s.topology[0].kind = FabricKind::Torus;
  EXPECT_PROBLEM(s, "topology[0].in_network_reduction", "torus");
}

TEST(Validate, Devices) {
  System s = mkSystem();
  s.devices = 0;
  EXPECT_PROBLEM(s, "devices", "positive");
  s = mkSystem();
  s.devices = 12;
  EXPECT_PROBLEM(s, "devices", "multiply to 8 but devices is 12");
  s = mkSystem();
  s.topology.clear();
  EXPECT_PROBLEM(s, "topology", "8 devices need a topology");
  s.devices = 1;
  EXPECT_TRUE(validate(s).empty());
}

TEST(Validate, PathPrefix) {
  Chip c = mkChip();
  c.clock = -1;
  auto ps = validate(c, "sys.chip");
  EXPECT_TRUE(hasProblem(ps, "sys.chip.clock")) << dump(ps);
  ComputeUnit u;
  auto ups = validate(u, "");
  EXPECT_TRUE(hasProblem(ups, "name")) << dump(ups);
  EXPECT_EQ(formatProblems({{"a.b", "bad"}, {"", "worse"}}),
            "a.b: bad\n(root): worse");
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

TEST(Query, PeakFlopsIsDatasheetPeak) {
  System s = mkSystem();
  s.chip.units[0].efficiency = 0.5; // must not affect the peak
  SystemQuery q(s);
  EXPECT_DOUBLE_EQ(*q.peakFlops(DType::bf16), 1024 * 4 * 1e9);
  EXPECT_DOUBLE_EQ(*q.peakFlops(DType::bf16, "vec"), 128 * 4 * 1e9);
  EXPECT_DOUBLE_EQ(*q.peakFlops(DType::f32), 64 * 4 * 1e9);
  EXPECT_FALSE(q.peakFlops(DType::f64));
  EXPECT_FALSE(q.peakFlops(DType::f32, "mm"));
  EXPECT_FALSE(q.peakFlops(DType::bf16, "nope"));
}

TEST(Query, BestUnit) {
  System s = mkSystem();
  SystemQuery q(s);
  EXPECT_EQ(q.bestUnit(DType::bf16)->name, "mm");
  EXPECT_EQ(q.bestUnit(DType::bf16, UnitKind::Vector)->name, "vec");
  EXPECT_EQ(q.bestUnit(DType::fp8, UnitKind::Vector)->name, "mm"); // fallback
  EXPECT_EQ(q.bestUnit(DType::f64), nullptr);
}

TEST(Query, Levels) {
  System s = mkSystem();
  SystemQuery q(s);
  EXPECT_EQ(q.levelIndex("l2"), 1);
  EXPECT_EQ(q.levelIndex("nope"), -1);
  EXPECT_EQ(q.level("nope"), nullptr);
  const MemoryLevel &smem = *q.level("smem");
  EXPECT_EQ(q.instances(smem), 4);
  EXPECT_EQ(q.instances(*q.level("dram")), 1);
  EXPECT_DOUBLE_EQ(q.aggregateReadBandwidth(smem), 400e9);
  EXPECT_DOUBLE_EQ(q.aggregateWriteBandwidth(smem), 400e9);
  EXPECT_EQ(q.aggregateCapacity(smem), 4u << 16);
  // dram read 100 GB/s vs smem write 400 GB/s aggregate.
  EXPECT_DOUBLE_EQ(q.transferBandwidth("dram", "smem"), 100e9);
  EXPECT_DOUBLE_EQ(q.transferBandwidth("l2", "smem"), 200e9);
  EXPECT_DOUBLE_EQ(q.transferBandwidth("dram", "nope"), 0);
  s.chip.memory[2].latency = 500e-9;
  EXPECT_DOUBLE_EQ(q.transferLatency("dram", "smem"), 500e-9);
  EXPECT_DOUBLE_EQ(q.transferEnergyPerByte("dram", "smem"), 2e-12);
}

TEST(Query, RidgePoint) {
  System s = mkSystem();
  SystemQuery q(s);
  // 4.096 TFLOP/s over 100 GB/s.
  EXPECT_DOUBLE_EQ(*q.ridgePoint(DType::bf16, "dram"), 4096e9 / 100e9);
  EXPECT_FALSE(q.ridgePoint(DType::f64, "dram"));
  EXPECT_FALSE(q.ridgePoint(DType::bf16, "nope"));
}

TEST(Query, CoordinatesMixedRadix) {
  System s = mkSystem(); // [switch 4, fat_tree 2]
  SystemQuery q(s);
  EXPECT_EQ(q.coordinates(0), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(q.coordinates(3), (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(q.coordinates(6), (std::vector<int64_t>{2, 1}));
}

TEST(Query, PathCrossesOutermostDifferingFabric) {
  System s = mkSystem();
  SystemQuery q(s);
  DevicePath same = q.path(5, 5);
  EXPECT_EQ(same.fabric, -1);
  EXPECT_EQ(same.hops, 0);
  DevicePath inNode = q.path(0, 3);
  EXPECT_EQ(inNode.fabric, 0);
  EXPECT_EQ(inNode.hops, 2); // switch: up and down
  EXPECT_DOUBLE_EQ(inNode.bandwidth, 100e9);
  EXPECT_DOUBLE_EQ(inNode.latency, 1e-6);
  DevicePath across = q.path(1, 6);
  EXPECT_EQ(across.fabric, 1);
  EXPECT_EQ(across.hops, 4); // two-level fat tree
  EXPECT_DOUBLE_EQ(across.bandwidth, 10e9);
  EXPECT_DOUBLE_EQ(across.energyPerByte, 1e-11);
}

TEST(Query, PathHopsPerKind) {
  System s = mkSystem();
  s.devices = 8;
  s.topology = {mkFabric("r", FabricKind::Ring, {8}, 200e9)};
  SystemQuery q(s);
  EXPECT_EQ(q.path(0, 3).hops, 3);
  EXPECT_EQ(q.path(0, 6).hops, 2);                 // the short way round
  EXPECT_DOUBLE_EQ(q.path(0, 6).bandwidth, 100e9); // one of 2 links
  s.topology = {mkFabric("f", FabricKind::FullyConnected, {8}, 700e9)};
  EXPECT_EQ(q.path(0, 7).hops, 1);
  EXPECT_DOUBLE_EQ(q.path(0, 7).bandwidth, 100e9); // one of 7 links

  // 4x4 torus vs mesh: member = x + 4y.
  s.devices = 16;
  s.topology = {mkFabric("t", FabricKind::Torus, {4, 4}, 400e9)};
  EXPECT_EQ(q.path(0, 3).hops, 1);      // wrap-around in x
  EXPECT_EQ(q.path(0, 3 + 12).hops, 2); // wrap in x and y
  EXPECT_EQ(q.path(0, 2 + 8).hops, 4);
  EXPECT_DOUBLE_EQ(q.path(0, 1).bandwidth, 100e9);
  s.topology[0].kind = FabricKind::Mesh;
  EXPECT_EQ(q.path(0, 3).hops, 3);
  EXPECT_EQ(q.path(0, 3 + 12).hops, 6);
}

TEST(Query, FabricBisection) {
  System s = mkSystem();
  SystemQuery q(s);
  // switch of 4: 2 x 100 GB/s.
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(0), 200e9);
  // fat tree of 2 nodes of 4 devices, 10 GB/s each: 1 node x 4 x 10 GB/s.
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(1), 40e9);
  // System: min(2 switch instances x 200, 1 x 40).
  EXPECT_DOUBLE_EQ(q.bisectionBandwidth(), 40e9);
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(7), 0);

  s.devices = 64;
  s.topology = {mkFabric("t", FabricKind::Torus, {4, 4, 4}, 600e9)};
  // Cut across a 4-ring dimension: 2 x 16 links of 100 GB/s.
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(0), 3200e9);
  s.topology[0].kind = FabricKind::Mesh;
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(0), 1600e9);
  s.devices = 8;
  s.topology = {mkFabric("r", FabricKind::Ring, {8}, 200e9)};
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(0), 200e9); // 2 links x 100
  s.topology = {mkFabric("f", FabricKind::FullyConnected, {8}, 700e9)};
  EXPECT_DOUBLE_EQ(q.fabricBisectionBandwidth(0), 1600e9); // 16 links x 100
  s.devices = 1;
  s.topology.clear();
  EXPECT_DOUBLE_EQ(q.bisectionBandwidth(), 0);
}

} // namespace
