//===- Units.cpp - Human units for hardware quantities --------------------===//

#include "strata/Hardware/Units.h"

#include <cmath>
#include <optional>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace strata::hw {
namespace {

struct UnitName {
  const char *name;
  double scale;
};

// Listed largest first: the printer picks the first unit that gives a value
// >= 1, the parser accepts any of them.
constexpr UnitName kDecimalBytes[] = {
    {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}};
constexpr UnitName kBinaryBytes[] = {{"TiB", 1099511627776.0},
                                     {"GiB", 1073741824.0},
                                     {"MiB", 1048576.0},
                                     {"KiB", 1024.0}};
constexpr UnitName kBandwidth[] = {
    {"PB/s", 1e15}, {"TB/s", 1e12}, {"GB/s", 1e9},      {"MB/s", 1e6},
    {"KB/s", 1e3},  {"B/s", 1},     {"TiB/s", 1099511627776.0},
    {"GiB/s", 1073741824.0},        {"MiB/s", 1048576.0}};
constexpr UnitName kFrequency[] = {
    {"GHz", 1e9}, {"MHz", 1e6}, {"kHz", 1e3}, {"Hz", 1}};
constexpr UnitName kTime[] = {
    {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}};
constexpr UnitName kEnergy[] = {
    {"J/B", 1}, {"nJ/B", 1e-9}, {"pJ/B", 1e-12}, {"fJ/B", 1e-15}};
constexpr UnitName kPower[] = {{"kW", 1e3}, {"W", 1}, {"mW", 1e-3}};

/// Applies / removes a unit scale; see toBaseUnits for why sub-unit scales
/// divide by their exact inverse.
double applyScale(double mantissa, double scale) {
  return scale < 1 ? mantissa / std::round(1 / scale) : mantissa * scale;
}
double removeScale(double value, double scale) {
  return scale < 1 ? value * std::round(1 / scale) : value / scale;
}

template <size_t N>
std::optional<double> lookup(const UnitName (&table)[N],
                             std::string_view unit) {
  for (const UnitName &u : table)
    if (unit == u.name)
      return u.scale;
  return std::nullopt;
}

/// Prints `value / scale` with the largest unit of `table` (among the first
/// `decimalCount` entries) giving a magnitude >= 1.
template <size_t N>
std::string formatDecimal(double value, const UnitName (&table)[N],
                          size_t decimalCount) {
  const UnitName *chosen = &table[decimalCount - 1];
  for (size_t i = 0; i < decimalCount; ++i) {
    if (std::fabs(value) >= table[i].scale) {
      chosen = &table[i];
      break;
    }
  }
  if (value == 0)
    chosen = &table[0];
  // Multiplying the printed mantissa back by the scale must give `value`
  // exactly. Try the natural unit first, then the others; the base unit
  // (scale 1) always works.
  auto exactIn = [&](const UnitName &u) -> std::optional<std::string> {
    double mantissa = removeScale(value, u.scale);
    for (int precision = 1; precision <= 17; ++precision) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.*g", precision, mantissa);
      if (std::strchr(buf, 'e'))
        continue;
      if (applyScale(std::strtod(buf, nullptr), u.scale) == value)
        return std::string(buf) + " " + u.name;
    }
    return std::nullopt;
  };
  if (std::optional<std::string> text = exactIn(*chosen))
    return *text;
  for (size_t i = 0; i < decimalCount; ++i)
    if (std::optional<std::string> text = exactIn(table[i]))
      return *text;
  for (size_t i = 0; i < decimalCount; ++i)
    if (table[i].scale == 1)
      return formatShortest(value) + " " + table[i].name;
  return formatShortest(value);
}

} // namespace

namespace {

/// Rounds with %g to `digits` significant digits, never in exponent form.
std::string roundTo(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  if (std::strchr(buf, 'e'))
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

template <size_t N>
std::string approxWith(double value, const UnitName (&table)[N],
                       size_t decimalCount, int digits) {
  const UnitName *chosen = &table[decimalCount - 1];
  for (size_t i = 0; i < decimalCount; ++i) {
    if (std::fabs(value) >= table[i].scale) {
      chosen = &table[i];
      break;
    }
  }
  return roundTo(removeScale(value, chosen->scale), digits) + " " +
         chosen->name;
}

constexpr UnitName kBinaryBytesThenB[] = {{"TiB", 1099511627776.0},
                                          {"GiB", 1073741824.0},
                                          {"MiB", 1048576.0},
                                          {"KiB", 1024.0},
                                          {"B", 1}};
constexpr UnitName kFlops[] = {{"PFLOP/s", 1e15}, {"TFLOP/s", 1e12},
                               {"GFLOP/s", 1e9},  {"MFLOP/s", 1e6},
                               {"FLOP/s", 1}};

} // namespace

std::string formatQuantityApprox(double value, Quantity q, int digits) {
  switch (q) {
  case Quantity::Bytes:
    // Decimal units when the datasheet would use them (HBM "80 GB"),
    // binary for on-chip sizes; the exact formatter already decides that.
    if (formatQuantity(value, q).find("i") != std::string::npos)
      return approxWith(value, kBinaryBytesThenB, 5, digits);
    return approxWith(value, kDecimalBytes, 5, digits);
  case Quantity::BytesPerSecond:
    return approxWith(value, kBandwidth, 6, digits);
  case Quantity::Hertz:
    return approxWith(value, kFrequency, 4, digits);
  case Quantity::Seconds:
    return approxWith(value, kTime, 5, digits);
  case Quantity::JoulesPerByte:
    return approxWith(value, kEnergy, 4, digits);
  case Quantity::Watts:
    return approxWith(value, kPower, 3, digits);
  }
  return roundTo(value, digits);
}

std::string formatBinaryBytesApprox(double bytes, int digits) {
  return approxWith(bytes, kBinaryBytesThenB, 5, digits);
}

std::string formatFlopsApprox(double flopsPerSecond, int digits) {
  return approxWith(flopsPerSecond, kFlops, 5, digits);
}

std::string formatShortest(double v) {
  // Plain decimal only: "50", not "5e+01". %.17g always round-trips; the
  // fixed forms cover magnitudes that %g would write with an exponent.
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (!std::strchr(buf, 'e') && std::strtod(buf, nullptr) == v)
      return buf;
  }
  for (int decimals = 0; decimals <= 30; ++decimals) {
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    if (std::strtod(buf, nullptr) == v)
      return buf;
  }
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string_view describe(Quantity q) {
  switch (q) {
  case Quantity::Bytes:
    return "capacity";
  case Quantity::BytesPerSecond:
    return "bandwidth";
  case Quantity::Hertz:
    return "frequency";
  case Quantity::Seconds:
    return "time";
  case Quantity::JoulesPerByte:
    return "energy per byte";
  case Quantity::Watts:
    return "power";
  }
  return "quantity";
}

std::string_view acceptedUnits(Quantity q) {
  switch (q) {
  case Quantity::Bytes:
    return "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB";
  case Quantity::BytesPerSecond:
    return "B/s, KB/s, MB/s, GB/s, TB/s, PB/s, MiB/s, GiB/s, TiB/s";
  case Quantity::Hertz:
    return "Hz, kHz, MHz, GHz";
  case Quantity::Seconds:
    return "s, ms, us, ns, ps";
  case Quantity::JoulesPerByte:
    return "J/B, nJ/B, pJ/B, fJ/B";
  case Quantity::Watts:
    return "W, kW, mW";
  }
  return "";
}

std::optional<double> unitScale(Quantity q, std::string_view unit) {
  switch (q) {
  case Quantity::Bytes:
    if (auto s = lookup(kDecimalBytes, unit))
      return s;
    return lookup(kBinaryBytes, unit);
  case Quantity::BytesPerSecond:
    return lookup(kBandwidth, unit);
  case Quantity::Hertz:
    return lookup(kFrequency, unit);
  case Quantity::Seconds:
    return lookup(kTime, unit);
  case Quantity::JoulesPerByte:
    return lookup(kEnergy, unit);
  case Quantity::Watts:
    return lookup(kPower, unit);
  }
  return std::nullopt;
}

std::optional<double> toBaseUnits(double mantissa, Quantity q,
                                  std::string_view unit) {
  std::optional<double> scale = unitScale(q, unit);
  if (!scale)
    return std::nullopt;
  return applyScale(mantissa, *scale);
}

std::string formatQuantity(double value, Quantity q) {
  switch (q) {
  case Quantity::Bytes: {
    // Capacities are whole bytes. Of the units that express the value
    // exactly, pick the shortest text: "48 KiB" for SRAM, "80 GB" (not
    // "78125000 KiB") for datasheet HBM sizes.
    std::string best = formatShortest(value) + " B";
    auto consider = [&](const UnitName &u) {
      double m = value / u.scale;
      if (m < 1)
        return;
      std::string text = formatShortest(m);
      if (std::strtod(text.c_str(), nullptr) * u.scale != value ||
          text.find('e') != std::string::npos)
        return;
      text += std::string(" ") + u.name;
      if (text.size() < best.size())
        best = text;
    };
    for (const UnitName &u : kBinaryBytes)
      consider(u);
    for (const UnitName &u : kDecimalBytes)
      consider(u);
    return best;
  }
  case Quantity::BytesPerSecond:
    return formatDecimal(value, kBandwidth, 6);
  case Quantity::Hertz:
    return formatDecimal(value, kFrequency, 4);
  case Quantity::Seconds:
    return formatDecimal(value, kTime, 5);
  case Quantity::JoulesPerByte:
    return formatDecimal(value, kEnergy, 4);
  case Quantity::Watts:
    return formatDecimal(value, kPower, 3);
  }
  return formatShortest(value);
}

} // namespace strata::hw
