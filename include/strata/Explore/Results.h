//===- Results.h - Pareto fronts, sensitivities, result files ---*- C++ -*-===//

#ifndef STRATA_EXPLORE_RESULTS_H
#define STRATA_EXPLORE_RESULTS_H

#include "strata/Explore/Engine.h"
#include "strata/Explore/Sweep.h"

#include "llvm/Support/Error.h"

#include <array>
#include <string>
#include <vector>

namespace strata::explore {

/// The value of an objective (latency, energy, energy_per_token,
/// throughput, mfu) and whether larger is better.
double objectiveValue(const Metrics &m, llvm::StringRef objective);
bool maximized(llvm::StringRef objective);

/// Indices of the non-dominated points, in input order: no other point is
/// at least as good in both objectives and better in one. Equal points are
/// all kept. Objectives are minimised unless `maximize` says otherwise.
std::vector<size_t> paretoFront(const std::vector<std::array<double, 2>> &v,
                                std::array<bool, 2> maximize = {false, false});

/// d ln(f) / d ln(x) by central differences: f(x+) and f(x-) at x+ and x-.
double elasticity(double fPlus, double fMinus, double xPlus, double xMinus);

struct SweepPoint {
  std::vector<double> values; ///< one per axis
  PointResult result;
};

struct Sensitivity {
  std::string path;
  double base = 0;        ///< the base system's value
  double elasticity = 0;  ///< of latency
  std::string boundBy;    ///< what bounds the largest block at the base
  bool relowered = false; ///< a ±1 % point was re-lowered
};

/// Writes points.csv, points.json and pareto.csv into `dir`.
llvm::Error writePoints(llvm::StringRef dir, const SweepSpec &spec,
                        const std::vector<SweepPoint> &points);
/// Writes sensitivity.csv into `dir`.
llvm::Error writeSensitivity(llvm::StringRef dir,
                             const std::vector<Sensitivity> &rows);

} // namespace strata::explore

#endif // STRATA_EXPLORE_RESULTS_H
