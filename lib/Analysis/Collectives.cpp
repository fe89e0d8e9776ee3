//===- Collectives.cpp - Collectives on the topology ----------------------===//

#include "strata/Analysis/Collectives.h"
#include "strata/Dialect/Tile/IR/TileOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace strata::analysis {

int64_t CollectiveGroup::size() const {
  int64_t n = 1;
  for (int64_t m : members)
    n *= m;
  return n;
}

cost::CollectiveWork CollectiveGroup::work(cost::CollectiveKind kind,
                                           double bytes) const {
  cost::CollectiveWork w;
  w.kind = kind;
  w.bytes = bytes;
  w.groupSize = size();
  w.fabric = std::max(fabric(), 0);
  for (int f = 0; f < fabric(); ++f)
    if (members[f] > 1) {
      w.innerFabric = f;
      w.innerGroupSize = members[f];
      break;
    }
  return w;
}

namespace {
/// One axis of the plan in the order strata-parallelize lays them
/// (innermost first).
struct LaidAxis {
  int64_t size = 1;
  int recordedFabric = -1;
  int gridAxis = -1;            ///< -1 for pp
  SmallVector<int64_t> members; ///< filled by layOut, one per fabric
};
} // namespace

/// Replays strata-parallelize's placement: fabrics are filled innermost
/// first, an axis taking the devices left in the current fabric instance
/// and continuing into the next one. False if the sizes do not factor.
static bool layOut(MutableArrayRef<LaidAxis> order, const hw::System &sys) {
  size_t nf = sys.topology.size();
  size_t fabric = 0;
  int64_t left = sys.topology[0].size();
  auto next = [&]() {
    ++fabric;
    left = fabric < nf ? sys.topology[fabric].size() : 1;
  };
  for (LaidAxis &axis : order) {
    axis.members.assign(nf, 1);
    if (axis.size == 1)
      continue;
    while (left == 1 && fabric + 1 < nf)
      next();
    int64_t rest = axis.size;
    while (rest > 1) {
      if (fabric >= nf)
        return false;
      if (left == 1) {
        next();
        continue;
      }
      int64_t take = rest <= left ? rest : left;
      if ((rest <= left ? left % rest : rest % left) != 0)
        return false;
      axis.members[fabric] *= take;
      left /= take;
      rest /= take;
    }
  }
  return true;
}

/// The outermost fabric an axis has devices on (-1 for none).
static int outermost(ArrayRef<int64_t> members) {
  for (int f = int(members.size()) - 1; f >= 0; --f)
    if (members[f] > 1)
      return f;
  return -1;
}

static int fabricIndex(const hw::System &sys, StringRef name) {
  for (int i = 0; i < int(sys.topology.size()); ++i)
    if (sys.topology[i].name == name)
      return i;
  return -1;
}

static std::string fabricList(const hw::System &sys) {
  std::string s;
  for (const hw::Fabric &f : sys.topology)
    s += (s.empty() ? "" : ", ") + f.name;
  return s;
}

std::optional<CollectiveGroup>
shardCollectiveGroup(Operation *op, const hw::System &sys, std::string &error) {
  llvm::raw_string_ostream os(error);
  auto gridRef = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto grid =
      gridRef ? SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridRef)
              : shard::GridOp();
  if (!grid) {
    os << "its grid is not a shard.grid of the module";
    return std::nullopt;
  }
  if (sys.topology.empty()) {
    os << "system '" << sys.name << "' has no fabrics";
    return std::nullopt;
  }
  ArrayRef<int64_t> shape = grid.getShape();
  auto names = grid->getAttrOfType<ArrayAttr>("strata.axis_names");
  auto fabrics = grid->getAttrOfType<DictionaryAttr>("strata.axis_fabrics");
  if (!names || !fabrics || names.size() != shape.size()) {
    os << "grid @" << grid.getSymName()
       << " has no strata.axis_names and strata.axis_fabrics for its "
       << shape.size()
       << " axes (strata-parallelize records which fabric each axis is laid "
          "on)";
    return std::nullopt;
  }
  // Grid axes are outermost first; the placement is innermost first.
  SmallVector<LaidAxis> gridAxes;
  for (int a = int(shape.size()) - 1; a >= 0; --a) {
    auto name = dyn_cast<StringAttr>(names[a]);
    if (ShapedType::isDynamic(shape[a]) || !name) {
      os << "grid @" << grid.getSymName() << " axis " << a
         << " has no static size or no name";
      return std::nullopt;
    }
    auto fabric = fabrics.getAs<StringAttr>(name.getValue());
    if (!fabric) {
      os << "grid axis '" << name.getValue()
         << "' has no fabric in strata.axis_fabrics";
      return std::nullopt;
    }
    int index = fabricIndex(sys, fabric.getValue());
    if (index < 0) {
      os << "grid axis '" << name.getValue() << "' is laid on fabric '"
         << fabric.getValue() << "', which system '" << sys.name
         << "' does not have (fabrics: " << fabricList(sys) << ")";
      return std::nullopt;
    }
    LaidAxis axis;
    axis.size = shape[a];
    axis.recordedFabric = index;
    axis.gridAxis = a;
    gridAxes.push_back(axis);
  }
  // Pipeline stages occupy devices without being a grid axis.
  LaidAxis pp;
  if (auto module = op->getParentOfType<ModuleOp>())
    if (auto plan = module->getAttrOfType<DictionaryAttr>("strata.parallel")) {
      if (auto degree = plan.getAs<IntegerAttr>("pp"))
        pp.size = degree.getInt();
      if (auto planFabrics = plan.getAs<DictionaryAttr>("axis_fabrics"))
        if (auto f = planFabrics.getAs<StringAttr>("pp"))
          pp.recordedFabric = fabricIndex(sys, f.getValue());
    }
  // By default pp is laid last (outermost); an `axes=` mapping may have put
  // it further in. Take the first position that reproduces every recorded
  // fabric.
  std::optional<SmallVector<LaidAxis>> laid;
  for (int k = int(gridAxes.size()); k >= 0 && !laid; --k) {
    SmallVector<LaidAxis> order(gridAxes);
    if (pp.size > 1)
      order.insert(order.begin() + k, pp);
    if (!layOut(order, sys))
      continue;
    if (llvm::all_of(order, [](const LaidAxis &a) {
          return a.recordedFabric < 0 || outermost(a.members) < 0 ||
                 outermost(a.members) == a.recordedFabric;
        }))
      laid = std::move(order);
    if (pp.size <= 1)
      break;
  }
  if (!laid) {
    os << "the axes of grid @" << grid.getSymName()
       << " cannot be laid on the topology of '" << sys.name
       << "' as strata.axis_fabrics records";
    return std::nullopt;
  }

  SmallVector<int16_t> axes;
  auto axesAttr = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  if (axesAttr && !axesAttr.empty())
    axes.assign(axesAttr.asArrayRef().begin(), axesAttr.asArrayRef().end());
  else
    for (int16_t a = 0; a < int16_t(shape.size()); ++a)
      axes.push_back(a);
  SmallVector<int64_t> members(sys.topology.size(), 1);
  for (int16_t a : axes) {
    const LaidAxis *axis = llvm::find_if(
        *laid, [&](const LaidAxis &l) { return l.gridAxis == a; });
    if (axis == laid->end()) {
      os << "grid_axes names axis " << a << " of a " << shape.size()
         << "-axis grid";
      return std::nullopt;
    }
    for (size_t f = 0; f < members.size(); ++f)
      members[f] *= axis->members[f];
  }
  CollectiveGroup group;
  group.members.assign(members.begin(),
                       members.begin() + (outermost(members) + 1));
  return group;
}

SmallVector<StringRef> collectiveAxisNames(Operation *op) {
  SmallVector<StringRef> result;
  if (auto routed = op->getAttrOfType<ArrayAttr>("strata.axes")) {
    for (Attribute a : routed)
      if (auto n = dyn_cast<StringAttr>(a))
        result.push_back(n.getValue());
    return result;
  }
  auto gridRef = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto axesAttr = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  auto grid =
      gridRef ? SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridRef)
              : shard::GridOp();
  auto names =
      grid ? grid->getAttrOfType<ArrayAttr>("strata.axis_names") : ArrayAttr();
  if (!names || !axesAttr)
    return result;
  for (int16_t a : axesAttr.asArrayRef())
    if (a >= 0 && a < int16_t(names.size()))
      if (auto n = dyn_cast<StringAttr>(names[a]))
        result.push_back(n.getValue());
  return result;
}

static cost::CollectiveAlgorithm toCost(tile::CollectiveAlgorithm a) {
  switch (a) {
  case tile::CollectiveAlgorithm::Ring:
    return cost::CollectiveAlgorithm::Ring;
  case tile::CollectiveAlgorithm::Tree:
    return cost::CollectiveAlgorithm::Tree;
  case tile::CollectiveAlgorithm::RecursiveHalvingDoubling:
    return cost::CollectiveAlgorithm::RecursiveHalvingDoubling;
  case tile::CollectiveAlgorithm::Hierarchical:
    return cost::CollectiveAlgorithm::Hierarchical;
  case tile::CollectiveAlgorithm::TorusDimOrdered:
    return cost::CollectiveAlgorithm::TorusDimOrdered;
  case tile::CollectiveAlgorithm::InNetwork:
    return cost::CollectiveAlgorithm::InNetwork;
  case tile::CollectiveAlgorithm::Direct:
    return cost::CollectiveAlgorithm::Direct;
  }
  return cost::CollectiveAlgorithm::Auto;
}

std::optional<cost::CollectiveWork> collectiveWork(Operation *op,
                                                   double bytesRead,
                                                   double bytesWritten,
                                                   const hw::System &sys) {
  if (sys.topology.empty())
    return std::nullopt;
  if (auto routed = dyn_cast<tile::CollectiveOp>(op)) {
    int fabric = fabricIndex(sys, routed.getFabric());
    if (fabric < 0)
      return std::nullopt;
    CollectiveGroup group;
    if (std::optional<ArrayRef<int64_t>> members = routed.getGroup()) {
      group.members.assign(members->begin(), members->end());
      if (int(group.members.size()) != fabric + 1)
        return std::nullopt;
    } else {
      group.members.assign(fabric + 1, 1);
      group.members.back() = sys.topology[fabric].size();
    }
    cost::CollectiveKind kind = cost::CollectiveKind::AllReduce;
    double bytes = bytesRead;
    switch (routed.getKind()) {
    case tile::CollectiveKind::AllReduce:
      break;
    case tile::CollectiveKind::AllGather:
      kind = cost::CollectiveKind::AllGather;
      bytes = bytesWritten; // the gathered buffer, as for shard.all_gather
      break;
    case tile::CollectiveKind::ReduceScatter:
      kind = cost::CollectiveKind::ReduceScatter;
      break;
    case tile::CollectiveKind::AllToAll:
      kind = cost::CollectiveKind::AllToAll;
      break;
    }
    cost::CollectiveWork w = group.work(kind, bytes);
    w.fabric = fabric;
    w.algorithm = toCost(routed.getAlgorithm());
    return w;
  }

  cost::CollectiveKind kind = cost::CollectiveKind::SendRecv;
  double bytes = bytesRead;
  if (isa<shard::AllReduceOp>(op)) {
    kind = cost::CollectiveKind::AllReduce;
  } else if (isa<shard::AllGatherOp, shard::BroadcastOp>(op)) {
    kind = cost::CollectiveKind::AllGather;
    bytes = bytesWritten;
  } else if (isa<shard::ReduceScatterOp>(op)) {
    kind = cost::CollectiveKind::ReduceScatter;
  } else if (isa<shard::AllToAllOp>(op)) {
    kind = cost::CollectiveKind::AllToAll;
  }
  std::string ignored;
  if (std::optional<CollectiveGroup> group =
          shardCollectiveGroup(op, sys, ignored))
    return group->work(kind, bytes);

  // A grid strata-parallelize did not lay out: the group is the product of
  // its axes, on the outermost fabric recorded for them, else the innermost
  // fabric whose devices hold it, priced flat.
  auto gridRef = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto axesAttr = op->getAttrOfType<DenseI16ArrayAttr>("grid_axes");
  auto grid =
      gridRef ? SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridRef)
              : shard::GridOp();
  if (!grid)
    return std::nullopt;
  ArrayRef<int64_t> shape = grid.getShape();
  SmallVector<int16_t> axes;
  if (axesAttr && !axesAttr.empty())
    axes.assign(axesAttr.asArrayRef().begin(), axesAttr.asArrayRef().end());
  else
    for (int16_t i = 0; i < int16_t(shape.size()); ++i)
      axes.push_back(i);
  int64_t size = 1;
  for (int16_t a : axes)
    if (a >= 0 && a < int16_t(shape.size()) && !ShapedType::isDynamic(shape[a]))
      size *= shape[a];
  int fabric = -1;
  auto names = grid->getAttrOfType<ArrayAttr>("strata.axis_names");
  auto fabrics = grid->getAttrOfType<DictionaryAttr>("strata.axis_fabrics");
  if (names && fabrics)
    for (int16_t a : axes)
      if (a >= 0 && a < int16_t(names.size()))
        if (auto axisName = dyn_cast<StringAttr>(names[a]))
          if (auto f = fabrics.getAs<StringAttr>(axisName.getValue()))
            fabric = std::max(fabric, fabricIndex(sys, f.getValue()));
  if (fabric < 0) {
    int64_t devices = 1;
    fabric = int(sys.topology.size()) - 1;
    for (int i = 0; i < int(sys.topology.size()); ++i) {
      devices *= sys.topology[i].size();
      if (devices >= size) {
        fabric = i;
        break;
      }
    }
  }
  cost::CollectiveWork w;
  w.kind = kind;
  w.bytes = bytes;
  w.groupSize = size;
  w.fabric = fabric;
  return w;
}

} // namespace strata::analysis
