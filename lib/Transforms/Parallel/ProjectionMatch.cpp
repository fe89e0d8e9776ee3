//===- ProjectionMatch.cpp - What strata-parallelize recognises -----------===//

#include "ProjectionMatch.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace strata::parallel {

ModelDims readModelDims(ModuleOp module) {
  ModelDims dims;
  auto dict = module->getAttrOfType<DictionaryAttr>(kModelAttr);
  if (!dict)
    return dims;
  auto get = [&](StringRef key) -> std::optional<int64_t> {
    if (auto attr = dict.getAs<IntegerAttr>(key))
      return attr.getInt();
    return std::nullopt;
  };
  dims.heads = get("heads");
  dims.kvHeads = get("kv_heads");
  dims.layers = get("layers");
  dims.experts = get("experts");
  if (auto format = dict.getAs<StringAttr>("weight_dtype"))
    dims.weightFormat = format.getValue().str();
  return dims;
}

bool ModelDims::dequantisingWeights() const {
  StringRef f(weightFormat);
  return f.starts_with("int") || f.starts_with("mxfp4") ||
         f.starts_with("bfp");
}

bool hasExpertLoop(const Projection &proj) {
  linalg::LinalgOp op = proj.op;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  auto uses = [](AffineMap map, unsigned d) {
    return llvm::any_of(map.getResults(), [&](AffineExpr e) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      return dim && dim.getPosition() == d;
    });
  };
  for (unsigned d = 0; d < op.getNumLoops(); ++d)
    if (iters[d] == utils::IteratorType::parallel &&
        uses(maps[proj.weightInput], d) &&
        uses(maps[1 - proj.weightInput], d) && uses(maps[2], d))
      return true;
  return false;
}

std::optional<unsigned>
findWeightInput(linalg::LinalgOp op, FunctionOpInterface fn, bool fnHasRoles) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op->getNumResults() != 1)
    return std::nullopt;
  for (unsigned i = 0; i < 2; ++i) {
    auto arg = dyn_cast<BlockArgument>(op.getDpsInputs()[i]);
    if (!arg || arg.getOwner() != &fn.getFunctionBody().front())
      continue;
    auto role = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kRoleAttr);
    if (role ? role.getValue() == "weight" : (!fnHasRoles && i == 1))
      return i;
  }
  return std::nullopt;
}

Value unannotated(Value v) {
  while (auto shardOp = v.getDefiningOp<shard::ShardOp>())
    v = shardOp.getSrc();
  return v;
}

std::string unpartitionableReason(Operation *op) {
  bool touchesTensors =
      llvm::any_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>) ||
      llvm::any_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>);
  if (!touchesTensors || isa<shard::ShardOp, shard::ShardingOp>(op))
    return "";
  if (!isa<shard::ShardingInterface>(op))
    return "it has no ShardingInterface model in MLIR 22";
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    if (!llvm::all_of(linalgOp.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isProjectedPermutation(); }))
      return "upstream partitions linalg ops only when every indexing map is "
             "a projected permutation";
  return "";
}

} // namespace strata::parallel
