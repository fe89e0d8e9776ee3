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

struct SweepSpec {
  std::vector<Axis> axes;
  /// The two objectives of the Pareto front: latency, energy,
  /// energy_per_token, throughput or mfu.
  std::string objectives[2] = {"latency", "energy"};

  /// Points in the cartesian product.
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
/// Errors are one line: "<json path>: <message>".
llvm::Expected<SweepSpec> parseSweepSpec(const llvm::json::Value &spec,
                                         const hw::System &base);
/// The same, from text.
llvm::Expected<SweepSpec> parseSweepSpecText(llvm::StringRef text,
                                             const hw::System &base);

} // namespace strata::explore

#endif // STRATA_EXPLORE_SWEEP_H
