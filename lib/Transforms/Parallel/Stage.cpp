//===- Stage.cpp - One pipeline stage's program ---------------------------===//
//
// With pipeline parallelism each device runs 1/pp of the layers. Strata's
// workloads hold the layers as one loop over stacked [layers, ...] weights,
// so a stage is the same program with a shorter loop and stacks of
// layers/pp: this pass shortens every layer loop of the entry function,
// re-types the stacks it slices (weights, saved activations, gradients) and
// makes the stage boundary explicit with `tile.recv` / `tile.send` over the
// fabric that carries the pp axis. The schedule (GPipe, 1F1B, interleaved)
// and its bubble are the estimate's business: it reads `strata.parallel`.
//
// The program stands for the last stage, the heaviest one (it also holds the
// final norm, the LM head and the loss; the embedding stays too, so the
// program prices an upper bound of the slowest stage): its forward input is
// received from stage pp-2 and, in training, its input gradient is sent
// back there. Under tensor parallelism only 1/tp of the activation crosses
// the stage boundary per device and is all-gathered over the tp axis on the
// other side (Megatron-LM's scatter/gather optimisation, Narayanan et al.
// 2021 section 4.1).
//
//===----------------------------------------------------------------------===//

#include "PlumbingRetyper.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace strata {
#define GEN_PASS_DEF_STRATASTAGEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

int64_t tensorBytes(RankedTensorType type) {
  int64_t bits = type.getElementTypeBitWidth();
  return type.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

/// The loops over the model's layers in `entry`, in program order: top-level
/// scf.for ops with a static trip count of `layers` whose body calls a
/// function.
SmallVector<scf::ForOp> layerLoops(func::FuncOp entry, int64_t layers) {
  SmallVector<scf::ForOp> loops;
  for (auto loop : entry.getBody().getOps<scf::ForOp>()) {
    std::optional<APInt> trips = loop.getStaticTripCount();
    bool calls = false;
    loop.getBody()->walk([&](func::CallOp) { calls = true; });
    if (trips && trips->getSExtValue() == layers && calls)
      loops.push_back(loop);
  }
  return loops;
}

struct StagePass : strata::impl::StrataStagePassBase<StagePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto plan = module->getAttrOfType<DictionaryAttr>("strata.parallel");
    auto ppAttr = plan ? plan.getAs<IntegerAttr>("pp") : IntegerAttr();
    if (!ppAttr || ppAttr.getInt() <= 1)
      return;
    const int64_t pp = ppAttr.getInt();
    auto modelAttr = module->getAttrOfType<DictionaryAttr>("strata.model");
    auto layersAttr =
        modelAttr ? modelAttr.getAs<IntegerAttr>("layers") : IntegerAttr();
    if (!layersAttr) {
      module.emitError("strata-stage: pp=")
          << pp << " needs the model's layer count (strata.model.layers) to "
          << "find the layer loops";
      return signalPassFailure();
    }
    const int64_t layers = layersAttr.getInt();
    if (pp > layers) {
      module.emitError("strata-stage: pp=")
          << pp << " exceeds the model's " << layers << " layers";
      return signalPassFailure();
    }

    func::FuncOp entry = findEntry(module);
    if (!entry)
      return signalPassFailure();
    SmallVector<scf::ForOp> loops = layerLoops(entry, layers);
    if (loops.empty()) {
      entry.emitError("strata-stage: pp=")
          << pp << " but @" << entry.getSymName() << " has no loop over the "
          << layers << " layers (an scf.for with " << layers
          << " trips calling the layer function)";
      return signalPassFailure();
    }

    SymbolTableCollection symbols;
    llvm::DenseSet<Operation *> none;
    strata::PlumbingRetyper retyper(module, symbols, none);
    // Stages of uneven depth (Llama 3 405B: 126 layers on 16 stages, one
    // layer fewer on the first and last) run at the pace of the deepest:
    // this stage is that one, ceil(layers / pp) layers.
    const int64_t perStage = (layers + pp - 1) / pp;
    for (scf::ForOp loop : loops)
      if (failed(shortenLoop(loop, layers, perStage, retyper)))
        return signalPassFailure();
    if (failed(retyper.verifySlices()))
      return signalPassFailure();

    StringRef fabric = "";
    if (auto fabrics = plan.getAs<DictionaryAttr>("axis_fabrics"))
      if (auto f = fabrics.getAs<StringAttr>("pp"))
        fabric = f.getValue();
    if (fabric.empty()) {
      module.emitError("strata-stage: no fabric recorded for the pp axis in "
                       "strata.parallel.axis_fabrics");
      return signalPassFailure();
    }
    // The forward loop receives its input; in training the backward loop
    // (the second layer loop) sends its input gradient back.
    if (failed(
            insertBoundary(module, loops.front(), /*send=*/false, pp, fabric)))
      return signalPassFailure();
    if (loops.size() > 1 &&
        failed(insertBoundary(module, loops[1], /*send=*/true, pp, fabric)))
      return signalPassFailure();
    entry->setAttr(
        "strata.stage",
        Builder(module.getContext())
            .getDictionaryAttr(
                {NamedAttribute(
                     StringAttr::get(module.getContext(), "stage"),
                     IntegerAttr::get(IntegerType::get(module.getContext(), 64),
                                      pp - 1)),
                 NamedAttribute(
                     StringAttr::get(module.getContext(), "layers"),
                     IntegerAttr::get(IntegerType::get(module.getContext(), 64),
                                      perStage))}));
  }

  func::FuncOp findEntry(ModuleOp module) {
    func::FuncOp found;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!entry.empty()) {
        if (func.getSymName() == entry)
          return func;
        continue;
      }
      if (func.isPublic() && !func.isExternal()) {
        if (found) {
          module.emitError("strata-stage: several public functions; name the "
                           "entry with entry=");
          return {};
        }
        found = func;
      }
    }
    if (!found)
      module.emitError("strata-stage: no entry function")
          << (entry.empty() ? std::string()
                            : " named '" + std::string(entry) + "'");
    return found;
  }

  /// The loop runs this stage's layers; every stack it slices by the
  /// induction variable holds this stage's layers only.
  LogicalResult shortenLoop(scf::ForOp loop, int64_t layers, int64_t perStage,
                            strata::PlumbingRetyper &retyper) {
    OpBuilder b(loop);
    loop.setUpperBound(
        arith::ConstantIndexOp::create(b, loop.getLoc(), perStage));
    Value iv = loop.getInductionVar();
    auto usesIv = [&](Operation *op) {
      return llvm::any_of(op->getOperands(), [&](Value v) {
        if (v == iv)
          return true;
        Operation *def = v.getDefiningOp();
        return def && def->getBlock() == loop.getBody() &&
               llvm::is_contained(def->getOperands(), iv);
      });
    };
    SmallVector<std::pair<Value, RankedTensorType>> stacks;
    auto stacked = [&](RankedTensorType type) {
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = perStage;
      return RankedTensorType::get(shape, type.getElementType(),
                                   type.getEncoding());
    };
    for (Operation &op : loop.getBody()->getOperations()) {
      if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
        if (slice.getSourceType().getRank() > 0 &&
            slice.getSourceType().getDimSize(0) == layers && usesIv(&op))
          stacks.push_back({slice.getSource(), stacked(slice.getSourceType())});
      } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
        if (insert.getDestType().getRank() > 0 &&
            insert.getDestType().getDimSize(0) == layers && usesIv(&op))
          stacks.push_back({insert.getDest(), stacked(insert.getDestType())});
      }
    }
    for (auto &[value, type] : stacks)
      if (failed(retyper.retypeDef(value, type, loop)))
        return failure();
    // A backward loop walks the layers last to first as `layers-1 - iv`.
    for (auto sub : loop.getBody()->getOps<arith::SubIOp>()) {
      auto last = sub.getLhs().getDefiningOp<arith::ConstantIndexOp>();
      if (sub.getRhs() == iv && last && last.value() == layers - 1) {
        OpBuilder at(sub);
        sub.getLhsMutable().assign(
            arith::ConstantIndexOp::create(at, sub.getLoc(), perStage - 1));
      }
    }
    return success();
  }

  /// tile.recv before `loop` of what it carries in (forward), or tile.send
  /// after it of what it carries out (backward), to stage pp-2.
  LogicalResult insertBoundary(ModuleOp module, scf::ForOp loop, bool send,
                               int64_t pp, StringRef fabric) {
    if (loop.getNumResults() == 0)
      return loop.emitError("strata-stage: the layer loop carries no "
                            "activation across the stage boundary");
    auto type = dyn_cast<RankedTensorType>(loop.getResult(0).getType());
    if (!type || !type.hasStaticShape())
      return loop.emitError("strata-stage: the activation crossing the "
                            "stage boundary must be a static tensor");
    // Megatron's scatter/gather: each tp rank sends 1/tp of the replicated
    // activation; the receiver all-gathers over tp on the fast fabric.
    shard::GridOp grid;
    int16_t tpAxis = -1;
    int64_t tp = 1;
    for (auto g : module.getOps<shard::GridOp>()) {
      if (auto names = g->getAttrOfType<ArrayAttr>("strata.axis_names"))
        for (auto [i, name] : llvm::enumerate(names))
          if (cast<StringAttr>(name).getValue() == "tp") {
            grid = g;
            tpAxis = int16_t(i);
            tp = g.getShape()[i];
          }
    }
    int64_t splitDim = -1;
    if (tp > 1)
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.getDimSize(d) % tp == 0) {
          splitDim = d;
          break;
        }
    SmallVector<int64_t> partShape(type.getShape());
    if (splitDim >= 0)
      partShape[splitDim] /= tp;
    auto partType = RankedTensorType::get(partShape, type.getElementType());
    int64_t bytes = tensorBytes(partType);
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    if (!send) {
      Value received =
          strata::tile::RecvOp::create(b, loc, partType, pp - 2, fabric, bytes);
      if (splitDim >= 0)
        shard::AllGatherOp::create(b, loc, type, grid.getSymName(),
                                   ArrayRef<int16_t>{tpAxis}, received,
                                   APInt(64, splitDim));
      return success();
    }
    b.setInsertionPointAfter(loop);
    Value payload = loop.getResult(0);
    if (splitDim >= 0) {
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes,
          strides(type.getRank(), b.getIndexAttr(1));
      for (int64_t s : partShape)
        sizes.push_back(b.getIndexAttr(s));
      payload = tensor::ExtractSliceOp::create(b, loc, partType, payload,
                                               offsets, sizes, strides);
    }
    strata::tile::SendOp::create(b, loc, payload, pp - 2, fabric, bytes);
    return success();
  }
};

} // namespace
