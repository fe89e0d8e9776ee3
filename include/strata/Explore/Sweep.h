//===- Sweep.h - Design-space sweep specifications --------------*- C++ -*-===//
//
// A sweep spec (JSON) names hardware axes by path into the system
// description (docs/explore.md lists the paths) and gives each a set of
// values: a list, a linear or log range, multiples of the base value, or
// seeded random samples. The design points are the cartesian product of
// the axes. Errors name the JSON path of the bad entry.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_SWEEP_H
#define STRATA_EXPLORE_SWEEP_H

#include "strata/Explore/Plan.h"
#include "strata/Explore/Price.h"
#include "strata/Hardware/System.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::explore {

/// One hardware axis: a path into the system and the values it takes.
struct Axis {
  std::string path;
  std::vector<double> values;
  /// Changing it changes the program's structure (tile shapes, grids):
  /// a capacity or a core count. Points that move it are re-lowered.
  bool structural = false;
};

/// Limits a point must meet to be feasible (on the Pareto front). An
/// infeasible point is still priced and listed, with the limit it breaks.
struct Constraints {
  bool fitsMemory = true;            ///< footprint <= the device's capacity
  std::optional<double> maxPower;    ///< W, all chips the point uses
  std::optional<double> maxCapex;    ///< USD, the chips
  std::optional<double> maxTco;      ///< USD, over the amortisation
};

/// The objective names a spec may give (objectiveValue in Results.h).
llvm::ArrayRef<llvm::StringRef> objectiveNames();

struct SweepSpec {
  std::vector<Axis> axes;
  PlanSpec plan;
  PriceModel price;
  Constraints constraints;
  /// The two objectives of the Pareto front (objectiveNames()).
  std::string objectives[2] = {"latency", "energy"};

  /// Hardware points in the cartesian product (of every plan).
  uint64_t numPoints() const;
  /// The axis values of point `index` (the last axis varies fastest).
  std::vector<double> point(uint64_t index) const;
};

/// Reads the value at `path` of `sys`; an error naming what is unknown.
llvm::Expected<double> readAxis(const hw::System &sys, llvm::StringRef path);
/// Sets the value at `path` of `sys` (integers are rounded).
llvm::Error writeAxis(hw::System &sys, llvm::StringRef path, double value);
/// Whether the axis at a (valid) path is structural (see Axis).
bool isStructuralPath(llvm::StringRef path);

/// Parses a spec against the base system: every path must resolve in it.
/// Errors are one line: "<json path>: <message>". `fromModel`: the
/// workload is generated (plan.batch and plan.precision may be swept).
llvm::Expected<SweepSpec> parseSweepSpec(const llvm::json::Value &spec,
                                         const hw::System &base,
                                         bool fromModel = true);
/// The same, from text.
llvm::Expected<SweepSpec> parseSweepSpecText(llvm::StringRef text,
                                             const hw::System &base,
                                             bool fromModel = true);

} // namespace strata::explore

#endif // STRATA_EXPLORE_SWEEP_H
