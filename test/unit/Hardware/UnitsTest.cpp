//===- UnitsTest.cpp - Human units: parsing scale and canonical printing --===//

#include "strata/Hardware/Units.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

using namespace strata::hw;

namespace {

/// Parses "<mantissa> <unit>" the way the IR parser does.
double readBack(const std::string &text, Quantity q) {
  size_t space = text.find(' ');
  double mantissa = std::strtod(text.substr(0, space).c_str(), nullptr);
  std::optional<double> v = toBaseUnits(mantissa, q, text.substr(space + 1));
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(-1);
}

TEST(Units, CanonicalForms) {
  EXPECT_EQ(formatQuantity(3.35e12, Quantity::BytesPerSecond), "3.35 TB/s");
  EXPECT_EQ(formatQuantity(1.83e9, Quantity::Hertz), "1.83 GHz");
  EXPECT_EQ(formatQuantity(600e-9, Quantity::Seconds), "600 ns");
  EXPECT_EQ(formatQuantity(7e-12, Quantity::JoulesPerByte), "7 pJ/B");
  EXPECT_EQ(formatQuantity(700, Quantity::Watts), "700 W");
  // Capacities: the shortest exact spelling, binary for SRAM-like sizes,
  // decimal for datasheet sizes.
  EXPECT_EQ(formatQuantity(228 * 1024.0, Quantity::Bytes), "228 KiB");
  EXPECT_EQ(formatQuantity(50 * 1048576.0, Quantity::Bytes), "50 MiB");
  EXPECT_EQ(formatQuantity(80e9, Quantity::Bytes), "80 GB");
  EXPECT_EQ(formatQuantity(80 * 1073741824.0, Quantity::Bytes), "80 GiB");
  EXPECT_EQ(formatQuantity(1000, Quantity::Bytes), "1 KB");
  EXPECT_EQ(formatQuantity(1000.5, Quantity::Bytes), "1000.5 B");
}

TEST(Units, SubUnitScalesDivideExactly) {
  // Dividing by the exact 1e9 gives the double nearest to 400e-9 for an
  // integer mantissa; multiplying by the inexact 1e-9 need not.
  EXPECT_EQ(*toBaseUnits(400, Quantity::Seconds, "ns"), 400e-9);
  EXPECT_EQ(*toBaseUnits(600, Quantity::Seconds, "ns"), 600e-9);
  EXPECT_EQ(*toBaseUnits(0.4, Quantity::Seconds, "us"), 0.4 / 1e6);
  EXPECT_EQ(*toBaseUnits(500, Quantity::JoulesPerByte, "fJ/B"), 5e-13);
  EXPECT_EQ(*toBaseUnits(2.765, Quantity::BytesPerSecond, "TB/s"), 2.765e12);
  EXPECT_FALSE(toBaseUnits(1, Quantity::Bytes, "KHz").has_value());
  EXPECT_FALSE(toBaseUnits(1, Quantity::BytesPerSecond, "GB").has_value());
}

TEST(Units, EveryPrintedValueReadsBackExactly) {
  const Quantity kinds[] = {Quantity::BytesPerSecond, Quantity::Hertz,
                            Quantity::Seconds, Quantity::JoulesPerByte,
                            Quantity::Watts};
  // Values of the kind presets derive (ratios, products with clocks).
  const double values[] = {1.0 / 1.83e9,  2.81088e12,  1.0 / 6e7,
                           3.1e-11,       546.448e-12, 0.1,
                           123456.789e3,  1e-15,       9.87654321e14,
                           2.0 / 3.0};
  for (Quantity q : kinds)
    for (double v : values) {
      std::string text = formatQuantity(v, q);
      EXPECT_EQ(readBack(text, q), v) << text;
    }
}

TEST(Units, ShortestDecimalHasNoExponent) {
  EXPECT_EQ(formatShortest(50), "50");
  EXPECT_EQ(formatShortest(0.1), "0.1");
  EXPECT_EQ(formatShortest(1e20), "100000000000000000000");
  EXPECT_EQ(std::strtod(formatShortest(1.0 / 3.0).c_str(), nullptr), 1.0 / 3.0);
}

TEST(Units, ApproximateFormsForReports) {
  EXPECT_EQ(formatFlopsApprox(989.4e12), "989.4 TFLOP/s");
  EXPECT_EQ(formatFlopsApprox(1978.9e12), "1.979 PFLOP/s");
  EXPECT_EQ(formatQuantityApprox(3.0921e13, Quantity::BytesPerSecond),
            "30.92 TB/s");
}

} // namespace
