//===- Units.h - Human units for hardware quantities -------------*- C++ -*-===//
//
// The textual IR and the reports write quantities in human units ("80 GiB",
// "3.35 TB/s", "1.83 GHz", "600 ns", "7 pJ/B"); the model stores SI base
// units. This is the one place that knows the unit names and prints the
// canonical form: the shortest decimal that parses back to the same double.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_HARDWARE_UNITS_H
#define STRATA_HARDWARE_UNITS_H

#include <optional>
#include <string>
#include <string_view>

namespace strata::hw {

enum class Quantity {
  Bytes,          ///< B, KB, MB, GB, TB, KiB, MiB, GiB, TiB
  BytesPerSecond, ///< B/s, KB/s, MB/s, GB/s, TB/s, PB/s, GiB/s, ...
  Hertz,          ///< Hz, kHz, MHz, GHz
  Seconds,        ///< s, ms, us, ns, ps
  JoulesPerByte,  ///< J/B, nJ/B, pJ/B, fJ/B
  Watts,          ///< W, kW, mW
};

/// Human name of the quantity kind ("bandwidth"), for diagnostics.
std::string_view describe(Quantity q);
/// The unit names accepted for `q`, comma separated, for diagnostics.
std::string_view acceptedUnits(Quantity q);
/// Multiplier from `unit` to the SI base unit of `q`, or nullopt.
std::optional<double> unitScale(Quantity q, std::string_view unit);
/// `mantissa` written in `unit` converted to SI base units, or nullopt for an
/// unknown unit. Sub-unit scales divide by an exact power of ten (0.4 us is
/// 0.4 / 1e6, correctly rounded) rather than multiply by an inexact 1e-6.
std::optional<double> toBaseUnits(double mantissa, Quantity q,
                                  std::string_view unit);
/// Canonical human form of `value` (SI base units), e.g. "3.35 TB/s".
std::string formatQuantity(double value, Quantity q);
/// Human form rounded to `digits` significant digits, for reports
/// ("989.4 TFLOP/s" style; not meant to be parsed back).
std::string formatQuantityApprox(double value, Quantity q, int digits = 4);
/// Bytes in binary units (KiB, MiB, GiB, ...) rounded to `digits`
/// significant digits, for reports that add and compare byte counts.
std::string formatBinaryBytesApprox(double bytes, int digits = 4);
/// FLOP/s in human units rounded to `digits` significant digits.
std::string formatFlopsApprox(double flopsPerSecond, int digits = 4);
/// Shortest decimal string that reads back as exactly `v`.
std::string formatShortest(double v);

} // namespace strata::hw

#endif // STRATA_HARDWARE_UNITS_H
