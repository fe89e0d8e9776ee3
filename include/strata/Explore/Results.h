//===- Results.h - Pareto fronts, sensitivities, result files ---*- C++ -*-===//

#ifndef STRATA_EXPLORE_RESULTS_H
#define STRATA_EXPLORE_RESULTS_H

#include "strata/Explore/Engine.h"
#include "strata/Explore/Sweep.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace strata::explore {

/// Indices of the non-dominated points, in input order: no other point is
/// at least as good in both objectives and better in one. Equal points are
/// all kept. Objectives are minimised unless `maximize` says otherwise.
std::vector<size_t> paretoFront(const std::vector<std::array<double, 2>> &v,
                                std::array<bool, 2> maximize = {false, false});

/// The same front kept while the points stream by: add() each point, and
/// front() holds the indices (as added) of the non-dominated ones so far.
class ParetoFront {
public:
  explicit ParetoFront(std::array<bool, 2> maximize = {false, false})
      : maximize(maximize) {}
  /// Adds point `index`; returns the indices it pushed off the front.
  std::vector<size_t> add(size_t index, std::array<double, 2> v);
  /// The front, in index order.
  std::vector<size_t> front() const;

private:
  std::array<bool, 2> maximize;
  std::vector<std::pair<size_t, std::array<double, 2>>> members;
};

/// d ln(f) / d ln(x) by central differences: f(x+) and f(x-) at x+ and x-.
double elasticity(double fPlus, double fMinus, double xPlus, double xMinus);

struct SweepPoint {
  uint64_t index = 0;
  /// The plan (null when the spec has no plan axes).
  const Plan *plan = nullptr;
  std::vector<double> values; ///< one per hardware axis
  PointResult result;
  double chips = 1; ///< chips the point occupies
  Costs costs;
  bool fits = true;
  /// The constraint the point breaks; empty when it is feasible.
  std::string infeasible;
};

/// Costs and feasibility of a priced point under the spec's price model
/// and constraints.
void assess(const SweepSpec &spec, SweepPoint &p);

/// The value of an objective (objectiveNames()) and whether larger is
/// better.
double objectiveValue(const SweepPoint &p, llvm::StringRef objective);
bool maximized(llvm::StringRef objective);

struct Sensitivity {
  std::string path;
  double base = 0;        ///< the base system's value
  double elasticity = 0;  ///< of latency
  std::string boundBy;    ///< what bounds the largest block at the base
  bool relowered = false; ///< a ±1 % point was re-lowered
};

/// Streams points.csv and points.json into a directory as the points come
/// (in index order), keeping only the Pareto front in memory; finish()
/// writes pareto.csv.
class ResultWriter {
public:
  static llvm::Expected<std::unique_ptr<ResultWriter>>
  create(llvm::StringRef dir, const SweepSpec &spec);
  ~ResultWriter();
  void add(const SweepPoint &p);
  llvm::Error finish();
  /// Front points (feasible, non-dominated), in index order.
  std::vector<const SweepPoint *> front() const;

private:
  ResultWriter(const SweepSpec &spec);
  const SweepSpec &spec;
  std::string dir;
  std::unique_ptr<llvm::raw_fd_ostream> csv, js;
  std::unique_ptr<llvm::json::OStream> json;
  ParetoFront pareto;
  std::vector<SweepPoint> frontPoints;
};

/// Writes sensitivity.csv into `dir`.
llvm::Error writeSensitivity(llvm::StringRef dir,
                             const std::vector<Sensitivity> &rows);

} // namespace strata::explore

#endif // STRATA_EXPLORE_RESULTS_H
