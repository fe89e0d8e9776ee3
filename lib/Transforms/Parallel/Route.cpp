//===- Route.cpp - Collectives onto the topology --------------------------===//
//
// Upstream `shard-partition` leaves collectives that name grid axes, not
// hardware. This pass binds each one to the system: the fabric its axes are
// laid on (as strata-parallelize laid them), the devices it has on each
// fabric, and an algorithm. The algorithm is the cost core's choice for the
// same CollectiveWork the estimate prices a shard collective with
// (analysis::shardCollectiveGroup), so routing makes the choice explicit
// without changing the estimate; the one change in cost is the fusion of
// upstream's all_reduce + all_slice into the reduce-scatter it stands for.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/Collectives.h"
#include "strata/Analysis/OpCounts.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Dialect/Tile/IR/TileTypes.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

namespace strata {
#define GEN_PASS_DEF_STRATAROUTEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

constexpr llvm::StringLiteral kAxesAttr = "strata.axes";
constexpr llvm::StringLiteral kReductionAttr = "strata.reduction";

std::optional<cost::CollectiveAlgorithm> parseAlgorithm(StringRef s) {
  return llvm::StringSwitch<std::optional<cost::CollectiveAlgorithm>>(s)
      .Case("auto", cost::CollectiveAlgorithm::Auto)
      .Case("ring", cost::CollectiveAlgorithm::Ring)
      .Case("tree", cost::CollectiveAlgorithm::Tree)
      .Case("recursive_halving_doubling",
            cost::CollectiveAlgorithm::RecursiveHalvingDoubling)
      .Case("hierarchical", cost::CollectiveAlgorithm::Hierarchical)
      .Case("torus_dim_ordered", cost::CollectiveAlgorithm::TorusDimOrdered)
      .Case("in_network", cost::CollectiveAlgorithm::InNetwork)
      .Case("direct", cost::CollectiveAlgorithm::Direct)
      .Default(std::nullopt);
}

tile::CollectiveAlgorithm toTile(cost::CollectiveAlgorithm a) {
  switch (a) {
  case cost::CollectiveAlgorithm::Ring:
    return tile::CollectiveAlgorithm::Ring;
  case cost::CollectiveAlgorithm::Tree:
    return tile::CollectiveAlgorithm::Tree;
  case cost::CollectiveAlgorithm::RecursiveHalvingDoubling:
    return tile::CollectiveAlgorithm::RecursiveHalvingDoubling;
  case cost::CollectiveAlgorithm::Hierarchical:
    return tile::CollectiveAlgorithm::Hierarchical;
  case cost::CollectiveAlgorithm::TorusDimOrdered:
    return tile::CollectiveAlgorithm::TorusDimOrdered;
  case cost::CollectiveAlgorithm::InNetwork:
    return tile::CollectiveAlgorithm::InNetwork;
  case cost::CollectiveAlgorithm::Direct:
  case cost::CollectiveAlgorithm::Auto:
    break;
  }
  return tile::CollectiveAlgorithm::Direct;
}

tile::CollectiveKind toTile(cost::CollectiveKind k) {
  switch (k) {
  case cost::CollectiveKind::AllGather:
    return tile::CollectiveKind::AllGather;
  case cost::CollectiveKind::ReduceScatter:
    return tile::CollectiveKind::ReduceScatter;
  case cost::CollectiveKind::AllToAll:
    return tile::CollectiveKind::AllToAll;
  default:
    return tile::CollectiveKind::AllReduce;
  }
}

/// Why the cost core cannot run `a` for `w` (it priced it at infinity).
std::string whyNot(const cost::CollectiveWork &w, cost::CollectiveAlgorithm a,
                   const hw::System &sys) {
  const hw::Fabric &f = sys.topology[w.fabric];
  std::string kind(cost::toString(w.kind));
  std::string s;
  llvm::raw_string_ostream os(s);
  switch (a) {
  case cost::CollectiveAlgorithm::InNetwork:
    if (w.kind != cost::CollectiveKind::AllReduce)
      os << "in_network runs all_reduce only, not " << kind;
    else
      os << "fabric '" << f.name << "' of system '" << sys.name
         << "' does not reduce in the switch";
    break;
  case cost::CollectiveAlgorithm::TorusDimOrdered:
    if (w.innerFabric >= 0)
      os << "the group spans fabrics '" << sys.topology[w.innerFabric].name
         << "' and '" << f.name << "'";
    else if (f.kind != hw::FabricKind::Torus && f.kind != hw::FabricKind::Mesh)
      os << "fabric '" << f.name << "' is a " << hw::toString(f.kind)
         << ", not a torus or mesh";
    else
      os << "it does not run " << kind;
    break;
  case cost::CollectiveAlgorithm::Hierarchical:
    if (w.innerFabric < 0)
      os << "the group lies on fabric '" << f.name << "' alone";
    else
      os << "it does not run " << kind;
    break;
  case cost::CollectiveAlgorithm::Direct:
    os << "direct is all_to_all's algorithm, not " << kind << "'s";
    break;
  default:
    if (w.kind == cost::CollectiveKind::AllToAll)
      os << "all_to_all runs only as direct";
    else
      os << "it does not run " << kind;
    break;
  }
  return s;
}

struct RoutePass : strata::impl::StrataRoutePassBase<RoutePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Lowers one shard collective; false (with a diagnostic) if it cannot.
  bool route(Operation *op, const cost::CostModel &model,
             cost::CollectiveAlgorithm forced);
};

/// The grid axes a shard collective runs over, by name (all of the grid's
/// when `grid_axes` is empty).
ArrayAttr axisNames(Operation *op, Builder &b) {
  SmallVector<Attribute> names;
  auto gridRef = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto grid =
      gridRef ? SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridRef)
              : shard::GridOp();
  auto gridNames =
      grid ? grid->getAttrOfType<ArrayAttr>("strata.axis_names") : ArrayAttr();
  auto axes = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  if (!gridNames)
    return b.getArrayAttr({});
  if (!axes || axes.empty())
    return gridNames;
  for (int16_t a : axes.asArrayRef())
    if (a >= 0 && a < int16_t(gridNames.size()))
      names.push_back(gridNames[a]);
  return b.getArrayAttr(names);
}

bool RoutePass::route(Operation *op, const cost::CostModel &model,
                      cost::CollectiveAlgorithm forced) {
  const hw::System &sys = model.system();
  std::string error;
  std::optional<analysis::CollectiveGroup> group =
      analysis::shardCollectiveGroup(op, sys, error);
  if (!group) {
    mlir::emitError(op->getLoc())
        << "'" << op->getName() << "' op "
        << "cannot be routed on system '" << sys.name << "': " << error;
    return false;
  }
  Value input = op->getOperand(0);
  Type resultType = op->getResult(0).getType();

  // What to lower to: the kind, the dimension a gather concatenates or a
  // scatter splits, the payload the cost core prices (the gathered buffer
  // for a gather, else the input), and the op whose result it replaces.
  cost::CollectiveKind kind = cost::CollectiveKind::AllReduce;
  std::optional<int64_t> dim;
  Operation *replaced = op;
  if (isa<shard::AllGatherOp>(op)) {
    kind = cost::CollectiveKind::AllGather;
    dim = cast<shard::AllGatherOp>(op).getGatherAxis().getSExtValue();
  } else if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op)) {
    kind = cost::CollectiveKind::ReduceScatter;
    dim = scatter.getScatterAxis().getSExtValue();
  } else if (isa<shard::AllToAllOp>(op)) {
    kind = cost::CollectiveKind::AllToAll;
  }
  std::optional<analysis::OpCounts> counts = analysis::countOp(op);
  if (!counts || !cast<ShapedType>(input.getType()).hasStaticShape()) {
    mlir::emitError(op->getLoc())
        << "'" << op->getName() << "' op "
        << "cannot be routed: it needs statically shaped tensors";
    return false;
  }
  // Priced as the estimate prices the shard op (OpCounts' bytes).
  double bytes = kind == cost::CollectiveKind::AllGather ? counts->bytesWritten
                                                         : counts->bytesRead;
  cost::CollectiveWork work = group->work(kind, bytes);
  work.algorithm = forced;
  // A group spanning two fabrics, hierarchically where asked and possible.
  if (hierarchicalSpanning && forced == cost::CollectiveAlgorithm::Auto &&
      work.innerFabric >= 0) {
    cost::CollectiveWork h = work;
    h.algorithm = cost::CollectiveAlgorithm::Hierarchical;
    if (std::isfinite(model.collective(h).estimate.time))
      work = h;
  }

  // Upstream's form of a reduce-scatter (Megatron sequence parallelism):
  // all_reduce whose only use slices the result over the same axes. One
  // reduce_scatter moves half the bytes of a ring all-reduce; a reduction
  // in the switch may still be faster for small tensors, so ask.
  auto reduce = dyn_cast<shard::AllReduceOp>(op);
  if (reduce && reduceScatter && group->size() > 1 &&
      reduce.getReduction() == shard::ReductionKind::Sum &&
      reduce->hasOneUse()) {
    auto slice = dyn_cast<shard::AllSliceOp>(*reduce->getUsers().begin());
    if (slice && slice.getGrid() == reduce.getGrid() &&
        slice.getGridAxes() == reduce.getGridAxes()) {
      cost::CollectiveWork scatter = work;
      scatter.kind = cost::CollectiveKind::ReduceScatter;
      double tScatter = model.collective(scatter).estimate.time;
      double tReduce = model.collective(work).estimate.time;
      if (std::isfinite(tScatter) && tScatter <= tReduce) {
        work = scatter;
        kind = cost::CollectiveKind::ReduceScatter;
        dim = slice.getSliceAxis().getSExtValue();
        replaced = slice;
        resultType = slice.getResult().getType();
      }
    }
  }

  OpBuilder b(op);
  ArrayAttr axes = axisNames(op, b);
  bool ringExchange = false;
  if (auto module = op->getParentOfType<ModuleOp>())
    if (auto plan = module->getAttrOfType<DictionaryAttr>("strata.parallel")) {
      auto comm = plan.getAs<StringAttr>("cp_comm");
      auto cp = plan.getAs<IntegerAttr>("cp");
      ringExchange = cp && cp.getInt() > 1 && comm &&
                     comm.getValue() == "p2p" && axes.size() == 1 &&
                     cast<StringAttr>(axes[0]).getValue() == "cp" &&
                     (kind == cost::CollectiveKind::AllGather ||
                      kind == cost::CollectiveKind::ReduceScatter);
    }
  if (ringExchange) {
    // Priced as the ring it is: point-to-point hops around the group.
    work.algorithm = cost::CollectiveAlgorithm::Ring;
  }
  // A group of one device communicates nothing.
  if (group->size() < 2) {
    if (resultType != input.getType()) {
      mlir::emitError(op->getLoc())
          << "'" << op->getName() << "' op "
          << "runs on a group of one device but changes " << input.getType()
          << " into " << resultType;
      return false;
    }
    replaced->getResult(0).replaceAllUsesWith(input);
  } else {
    cost::CollectiveEstimate chosen = model.collective(work);
    if (!std::isfinite(chosen.estimate.time)) {
      mlir::emitError(op->getLoc())
          << "'" << op->getName() << "' op "
          << "cannot run as algorithm=" << cost::toString(forced) << ": "
          << whyNot(work, forced, sys);
      return false;
    }
    auto routed = tile::CollectiveOp::create(
        b, replaced->getLoc(), resultType, toTile(kind), input,
        sys.topology[work.fabric].name, toTile(chosen.algorithm),
        dim ? b.getI64IntegerAttr(*dim) : IntegerAttr(),
        b.getDenseI64ArrayAttr(group->members),
        tile::getSizeInBytes(cast<ShapedType>(input.getType())));
    routed->setAttr(kAxesAttr, axes);
    // Context parallelism's K/V gathers and dK/dV reduce-scatters under
    // cp_comm = p2p: the ring of cp - 1 point-to-point hops of one chunk
    // each (Transformer Engine's ring attention), overlapped with the
    // attention that reads them and priced with it.
    if (ringExchange)
      routed->setAttr("strata.cp_ring",
                      b.getDictionaryAttr(
                          {b.getNamedAttr("hops", b.getI64IntegerAttr(
                                                      group->size() - 1)),
                           b.getNamedAttr(
                               "hop_bytes",
                               b.getI64IntegerAttr(tile::getSizeInBytes(
                                   cast<ShapedType>(input.getType()))))}));
    if (reduce && reduce.getReduction() != shard::ReductionKind::Sum)
      routed->setAttr(kReductionAttr,
                      b.getStringAttr(shard::stringifyReductionKind(
                          reduce.getReduction())));
    replaced->getResult(0).replaceAllUsesWith(routed.getResult());
  }
  if (replaced != op)
    replaced->erase();
  op->erase();
  return true;
}

void RoutePass::runOnOperation() {
  ModuleOp module = getOperation();
  std::optional<cost::CollectiveAlgorithm> forced = parseAlgorithm(algorithm);
  if (!forced) {
    mlir::emitError(module.getLoc())
        << "strata-route: algorithm=" << algorithm
        << " is not one of auto, ring, tree, "
           "recursive_halving_doubling, hierarchical, "
           "torus_dim_ordered, in_network, direct";
    return signalPassFailure();
  }
  SmallVector<Operation *> collectives;
  bool unsupported = false;
  module.walk([&](Operation *op) {
    if (isa<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
            shard::AllToAllOp>(op)) {
      collectives.push_back(op);
    } else if (isa<shard::BroadcastOp, shard::GatherOp, shard::ScatterOp,
                   shard::ReduceOp, shard::SendOp, shard::RecvOp,
                   shard::ShiftOp, shard::UpdateHaloOp>(op)) {
      mlir::emitError(op->getLoc())
          << "'" << op->getName() << "' op "
          << "cannot be routed: strata-route lowers all_reduce, "
             "all_gather, reduce_scatter and all_to_all";
      unsupported = true;
    }
  });
  if (unsupported)
    return signalPassFailure();
  // A program without collectives (one device, or pp alone) needs no system.
  if (collectives.empty())
    return;
  FailureOr<hw::System> sys = arch::resolveSystemModel(module, system);
  if (failed(sys))
    return signalPassFailure();
  if (sys->topology.empty()) {
    mlir::emitError(module.getLoc())
        << "strata-route: system '" << sys->name
        << "' has no fabrics to route collectives on";
    return signalPassFailure();
  }
  cost::CostModel model(*sys);
  bool ok = true;
  for (Operation *op : collectives)
    ok &= route(op, model, *forced);
  if (!ok)
    signalPassFailure();
}

} // namespace
