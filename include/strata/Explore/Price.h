//===- Price.h - What a design point costs ----------------------*- C++ -*-===//
//
// A small total-cost-of-ownership model: the chips are bought and written
// off over `amortizationYears`; they draw `power` (the point's modelled
// average power, or a given per-chip wall power) times the data centre's
// PUE, paid at `electricityPerKWh`. Cost per token is the cost of the
// time a step takes over the tokens it processes, at full utilisation.
// docs/explore.md gives the defaults and where they come from.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_PRICE_H
#define STRATA_EXPLORE_PRICE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>

namespace strata::explore {

struct PriceModel {
  double chipPrice = 25000;       ///< USD per chip
  double pue = 1.56;              ///< facility power / IT power
  double electricityPerKWh = 0.08; ///< USD per kWh
  double amortizationYears = 4;
  /// Wall power per chip in W; unset: the point's modelled average power
  /// (energy / time per chip).
  std::optional<double> chipPower;
};

/// What a point costs under a price model.
struct Costs {
  double power = 0;       ///< W drawn by the chips the point uses
  double capex = 0;       ///< USD: the chips
  double tco = 0;         ///< USD: capex + energy over the amortisation
  double costPerHour = 0; ///< USD per hour of use
  double costPerToken = 0; ///< USD
};

/// `chips` chips run a step of `latency` seconds that spends `energy`
/// joules per chip on `tokens` tokens.
Costs priceOf(const PriceModel &m, double chips, double latency,
              double energyPerChip, double tokens);

/// Parses the "price" object ("price.<key>: message" errors).
llvm::Expected<PriceModel> parsePriceModel(const llvm::json::Value &v);

} // namespace strata::explore

#endif // STRATA_EXPLORE_PRICE_H
