//===- ExploreTest.cpp - Sweep specs, Pareto fronts, sensitivities --------===//

#include "strata/Explore/Results.h"
#include "strata/Explore/Sweep.h"
#include "strata/Hardware/Presets.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace strata;
using namespace strata::explore;

namespace {

TEST(ExploreTest, ParetoOfAHandMadeSet) {
  // (latency, energy): 0, 2, 4 and the duplicate 5 are the front; 1 is
  // dominated by 0, 3 by 2, 6 by 4 (equal latency, more energy).
  std::vector<std::array<double, 2>> v = {
      {1, 9}, {2, 9}, {3, 4}, {3.5, 5}, {6, 1}, {3, 4}, {6, 2}};
  EXPECT_EQ(paretoFront(v), (std::vector<size_t>{0, 2, 4, 5}));
  // Maximising the second objective instead: the largest energy at each
  // latency, 0 first (9 at the least latency); 1 is dominated by 0.
  EXPECT_EQ(paretoFront(v, {false, true}), (std::vector<size_t>{0}));
  // Both maximised: 4 (6, 1) loses to 6 (6, 2), 2 and 5 (3, 4) to 3
  // (3.5, 5), 0 (1, 9) to 1 (2, 9).
  EXPECT_EQ(paretoFront(v, {true, true}), (std::vector<size_t>{1, 3, 6}));
  EXPECT_TRUE(paretoFront({}).empty());
}

TEST(ExploreTest, ElasticityOfAPowerLaw) {
  // f = 3 x^-0.7: the elasticity is -0.7 exactly for a power law.
  auto f = [](double x) { return 3 * std::pow(x, -0.7); };
  double x = 2e12;
  EXPECT_NEAR(elasticity(f(x * 1.01), f(x * 0.99), x * 1.01, x * 0.99), -0.7,
              1e-12);
  // A roofline max(a/x, c) has elasticity -1 where a/x binds, 0 past it.
  auto roof = [](double x) { return std::max(1e12 / x, 0.5); };
  EXPECT_NEAR(elasticity(roof(1.01), roof(0.99), 1.01, 0.99), -1, 1e-12);
  EXPECT_EQ(elasticity(roof(4.04e12), roof(3.96e12), 4.04e12, 3.96e12), 0);
}

TEST(ExploreTest, SpecValuesAndPoints) {
  hw::System h100 = *hw::getPreset("h100-sxm");
  llvm::Expected<SweepSpec> s = parseSweepSpecText(
      R"({"axes": [
        {"path": "chip.memory.hbm.bandwidth", "linear": [1e12, 3e12, 3]},
        {"path": "chip.clock", "log": [1e9, 4e9, 3]},
        {"path": "chip.memory.l2.capacity", "scale": [0.5, 2]},
        {"path": "chip.units.tensor.rates.bf16",
         "random": {"from": 1000, "to": 8000, "count": 4, "seed": 7}}]})",
      h100);
  ASSERT_TRUE(bool(s)) << llvm::toString(s.takeError());
  ASSERT_EQ(s->axes.size(), 4u);
  EXPECT_EQ(s->axes[0].values, (std::vector<double>{1e12, 2e12, 3e12}));
  EXPECT_NEAR(s->axes[1].values[1], 2e9, 1e-3);
  EXPECT_TRUE(s->axes[2].structural);
  EXPECT_FALSE(s->axes[0].structural);
  EXPECT_EQ(s->axes[2].values[1], 100.0 * 1024 * 1024);
  for (double r : s->axes[3].values) {
    EXPECT_GE(r, 1000);
    EXPECT_LT(r, 8000);
  }
  // Seeded: the same spec samples the same values.
  llvm::Expected<SweepSpec> again = parseSweepSpecText(
      R"({"axes": [{"path": "chip.units.tensor.rates.bf16",
          "random": {"from": 1000, "to": 8000, "count": 4, "seed": 7}}]})",
      h100);
  ASSERT_TRUE(bool(again));
  EXPECT_EQ(again->axes[0].values, s->axes[3].values);
  EXPECT_EQ(s->numPoints(), 3u * 3 * 2 * 4);
  // The last axis varies fastest.
  std::vector<double> p = s->point(5);
  EXPECT_EQ(p[0], 1e12);
  EXPECT_EQ(p[2], s->axes[2].values[1]);
  EXPECT_EQ(p[3], s->axes[3].values[1]);

  // Writing an axis moves that field only (bandwidth: read and write).
  hw::System sys = h100;
  ASSERT_FALSE(bool(writeAxis(sys, "chip.memory.hbm.bandwidth", 5e12)));
  EXPECT_EQ(sys.chip.memory[3].readBandwidth, 5e12);
  EXPECT_EQ(sys.chip.memory[3].writeBandwidth, 5e12);
  EXPECT_EQ(sys.chip.memory[2].readBandwidth,
            h100.chip.memory[2].readBandwidth);
  ASSERT_FALSE(bool(writeAxis(sys, "chip.cores", 66.4)));
  EXPECT_EQ(sys.chip.cores, 66);
}

TEST(ExploreTest, SpecErrorsNameTheEntry) {
  hw::System h100 = *hw::getPreset("h100-sxm");
  auto error = [&](llvm::StringRef text) {
    llvm::Expected<SweepSpec> s = parseSweepSpecText(text, h100);
    return s ? std::string("(parsed)") : llvm::toString(s.takeError());
  };
  EXPECT_EQ(error(R"({"axes": [{"path": "chip.noc.bandwidth", "values": [1]}]})"),
            "axes[0].path: unknown axis path 'chip.noc.bandwidth': chip "
            "'h100-sxm' has no on-chip network");
  EXPECT_EQ(error(R"({"axes": [{"path": "chip.clock", "values": [1e9]},
                               {"path": "chip.clock", "values": [2e9]}]})"),
            "axes[1].path: axis 'chip.clock' is swept twice");
  EXPECT_EQ(error(R"({"axes": [{"path": "chip.clock",
                "random": {"from": 1, "to": 2, "count": 3}}]})"),
            "axes[0].random: expected {\"from\", \"to\", \"count\", \"seed\"} "
            "(and optional \"scale\": \"linear\" or \"log\")");
  EXPECT_EQ(error(R"({"axes": [{"path": "chip.memory.hbm.latency",
                "values": [0, -1]}]})"),
            "axes[0].values[1]: value -1 must be non-negative");
}

TEST(ExploreTest, StreamedFrontEqualsTheBatchFront) {
  // The front kept while points stream by is the front of the whole set,
  // on a hand-made set (duplicates, ties) and on random ones.
  std::vector<std::array<double, 2>> v = {
      {1, 9}, {2, 9}, {3, 4}, {3.5, 5}, {6, 1}, {3, 4}, {6, 2}};
  for (std::array<bool, 2> max : {std::array<bool, 2>{false, false},
                                  {false, true}, {true, true}}) {
    ParetoFront f(max);
    for (size_t i = 0; i < v.size(); ++i)
      f.add(i, v[i]);
    EXPECT_EQ(f.front(), paretoFront(v, max));
  }
  uint64_t state = 7;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return double(state >> 40 & 63); // few distinct values: many ties
  };
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::array<double, 2>> r;
    for (int i = 0; i < 200; ++i)
      r.push_back({next(), next()});
    ParetoFront f;
    for (size_t i = 0; i < r.size(); ++i)
      f.add(i, r[i]);
    ASSERT_EQ(f.front(), paretoFront(r)) << "trial " << trial;
  }
}

TEST(ExploreTest, PriceModel) {
  // 64 chips at 400 W each for a 10 s step of 1e6 tokens: capex 64 x
  // 10,000; energy 25.6 kW x PUE 1.5 x 0.10 USD/kWh = 3.84 USD/h; capex
  // over 3 years = 640,000 / 26,298 h = 24.336 USD/h.
  PriceModel m;
  m.chipPrice = 10000;
  m.pue = 1.5;
  m.electricityPerKWh = 0.10;
  m.amortizationYears = 3;
  Costs c = priceOf(m, 64, 10, 4000, 1e6); // 4000 J per chip in 10 s
  EXPECT_DOUBLE_EQ(c.power, 25600);
  EXPECT_DOUBLE_EQ(c.capex, 640000);
  double hours = 3 * 365.25 * 24;
  EXPECT_DOUBLE_EQ(c.costPerHour, 640000 / hours + 3.84);
  EXPECT_DOUBLE_EQ(c.tco, 640000 + 3.84 * hours);
  EXPECT_DOUBLE_EQ(c.costPerToken, (640000 / hours + 3.84) * 10 / 3600 / 1e6);
  // A given wall power per chip replaces the modelled one.
  m.chipPower = 700;
  EXPECT_DOUBLE_EQ(priceOf(m, 64, 10, 4000, 1e6).power, 64 * 700);
}

TEST(ExploreTest, PlanEnumeration) {
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(
      R"({"tp": "auto", "pp": [1, 2], "microbatches": "auto",
          "recompute": ["none", "full"]})");
  ASSERT_TRUE(bool(v));
  llvm::Expected<PlanSpec> spec = parsePlanSpec(*v, true);
  ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
  // 8 devices, batch 8: tp in {1, 2, 4, 8}, pp in {1, 2}, dp the rest,
  // microbatches every m with 8 = m x dp x (microbatch size).
  std::vector<Plan> plans = spec->enumerate(8, 8);
  size_t expected = 0;
  for (int64_t tp : {1, 2, 4, 8})
    for (int64_t pp : {1, 2}) {
      if (8 % (tp * pp))
        continue;
      int64_t dp = 8 / (tp * pp);
      for (int64_t m = 1; m <= 8; ++m)
        if (8 % (m * dp) == 0)
          expected += 2;
    }
  EXPECT_EQ(plans.size(), expected);
  for (const Plan &p : plans) {
    EXPECT_EQ(p.chips(), 8);
    EXPECT_EQ(8 % (p.microbatches * p.dp), 0);
  }
  EXPECT_EQ(plans.front().pipelineOptions(),
            "tp=1 pp=1 dp=8 ep=1 sp=false microbatches=1 interleave=1 "
            "zero=0 recompute=none");
  // The last axis varies fastest.
  EXPECT_EQ(plans[0].recompute, "none");
  EXPECT_EQ(plans[1].recompute, "full");
}

} // namespace
