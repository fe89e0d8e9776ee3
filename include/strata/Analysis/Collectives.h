//===- Collectives.h - Collectives on the topology --------------*- C++ -*-===//
//
// Where a collective's group of devices lies on a system's topology, and the
// cost core's description of it. The estimate prices upstream `shard`
// collectives and `tile.collective` through these, and `strata-route` asks
// the cost core for the same work when it chooses an algorithm, so routing
// a program does not change its estimate.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_ANALYSIS_COLLECTIVES_H
#define STRATA_ANALYSIS_COLLECTIVES_H

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/System.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace strata::analysis {

/// The devices of a collective's group on each fabric of the topology,
/// innermost first, up to the outermost fabric the group crosses.
struct CollectiveGroup {
  llvm::SmallVector<int64_t> members; ///< one entry per fabric 0..fabric()
  /// The outermost fabric the group crosses (-1 for an empty group).
  int fabric() const { return int(members.size()) - 1; }
  int64_t size() const;
  /// The work of a `kind` collective of `bytes` per device on this group:
  /// a group on two fabrics carries its inner part for `Hierarchical`.
  cost::CollectiveWork work(cost::CollectiveKind kind, double bytes) const;
};

/// The group of an upstream shard collective: its `grid_axes` (all axes
/// when absent) laid on the topology as `strata-parallelize` laid the grid
/// (`strata.axis_names`, `strata.axis_fabrics`; pp, which occupies devices
/// without being a grid axis, from the module's `strata.parallel`).
/// `error` says why not when it returns nullopt: no grid, an axis without a
/// fabric, a fabric missing from the system, a layout that does not
/// reproduce the recorded fabrics.
std::optional<CollectiveGroup> shardCollectiveGroup(mlir::Operation *op,
                                                    const hw::System &sys,
                                                    std::string &error);

/// The names of the grid axes a collective runs over: `strata.axes` on a
/// routed `tile.collective`, else a shard collective's `grid_axes` named by
/// the grid's `strata.axis_names`. Empty when unknown.
llvm::SmallVector<llvm::StringRef> collectiveAxisNames(mlir::Operation *op);

/// The cost core's work for a collective op as the estimate prices it: a
/// shard collective (see shardCollectiveGroup; without axis fabrics, the
/// innermost fabric whose devices hold the group) or a `tile.collective`
/// (its fabric, `group` and algorithm). `bytesRead`/`bytesWritten` are the
/// op's operand and result bytes. nullopt when it cannot be placed on the
/// topology.
std::optional<cost::CollectiveWork> collectiveWork(mlir::Operation *op,
                                                   double bytesRead,
                                                   double bytesWritten,
                                                   const hw::System &sys);

} // namespace strata::analysis

#endif // STRATA_ANALYSIS_COLLECTIVES_H
