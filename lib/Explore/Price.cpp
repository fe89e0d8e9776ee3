//===- Price.cpp - What a design point costs ------------------------------===//

#include "strata/Explore/Price.h"

#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace llvm;

namespace strata::explore {

/// Hours in a (Julian) year.
static constexpr double kHoursPerYear = 365.25 * 24;

Costs priceOf(const PriceModel &m, double chips, double latency,
              double energyPerChip, double tokens) {
  Costs c;
  double perChip = m.chipPower ? *m.chipPower
                   : latency > 0 ? energyPerChip / latency
                                 : 0;
  c.power = perChip * chips;
  c.capex = m.chipPrice * chips;
  double energyCostPerHour = c.power * m.pue / 1000.0 * m.electricityPerKWh;
  c.costPerHour = c.capex / (m.amortizationYears * kHoursPerYear) +
                  energyCostPerHour;
  c.tco = c.capex + energyCostPerHour * m.amortizationYears * kHoursPerYear;
  if (tokens > 0)
    c.costPerToken = c.costPerHour * (latency / 3600.0) / tokens;
  return c;
}

Expected<PriceModel> parsePriceModel(const json::Value &v) {
  PriceModel m;
  const json::Object *o = v.getAsObject();
  if (!o)
    return createStringError(inconvertibleErrorCode(),
                             "price: expected an object");
  for (const auto &kv : *o) {
    std::string at = "price." + kv.first.str();
    std::optional<double> x = kv.second.getAsNumber();
    double *field = StringSwitch<double *>(kv.first)
                        .Case("chip_price_usd", &m.chipPrice)
                        .Case("pue", &m.pue)
                        .Case("electricity_usd_per_kwh", &m.electricityPerKWh)
                        .Case("amortization_years", &m.amortizationYears)
                        .Default(nullptr);
    bool power = kv.first == "chip_power_w";
    if (!field && !power)
      return createStringError(
          inconvertibleErrorCode(),
          at + ": unknown key (chip_price_usd, chip_power_w, pue, "
               "electricity_usd_per_kwh, amortization_years)");
    if (!x || !std::isfinite(*x) || *x < 0 ||
        ((kv.first == "pue" && *x < 1) ||
         (kv.first == "amortization_years" && *x <= 0)))
      return createStringError(
          inconvertibleErrorCode(),
          at + (kv.first == "pue" ? ": expected a number >= 1"
                : kv.first == "amortization_years"
                    ? ": expected a positive number"
                    : ": expected a non-negative number"));
    if (power)
      m.chipPower = *x;
    else
      *field = *x;
  }
  return m;
}

} // namespace strata::explore
