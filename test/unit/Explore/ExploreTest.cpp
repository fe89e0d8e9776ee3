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

} // namespace
