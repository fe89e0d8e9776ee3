//===- Partition.cpp - Upstream shard partitioning, one function at a time ===//
//
// Upstream `shard-partition` turns an annotated function into its per-device
// (SPMD) form, but it works on one function and has no call-graph support.
// Strata's workloads are a layer function called from an `scf.for` (so IR
// size does not grow with depth), and upstream cannot partition `scf.for`,
// `func.call` or `tensor.extract_slice`. So this pass runs the upstream
// passes only on the functions that carry annotations and then carries the
// per-device signatures through the plumbing of their callers. It never
// partitions an op itself: a plumbing op it cannot re-type is an error.
//
//===----------------------------------------------------------------------===//

#include "PlumbingRetyper.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace strata {
#define GEN_PASS_DEF_STRATAPARTITIONPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Results that return one of the function's own arguments unchanged (the
/// generator's forward layer hands its input back to be saved for the
/// backward pass) are dropped, and callers use the argument they passed.
/// Upstream shard-partition in MLIR 22 crashes on a function that returns
/// an annotated argument; the caller already holds the value anyway.
LogicalResult forwardReturnedArguments(func::FuncOp func, ModuleOp module) {
  if (func.isExternal() || func.isPublic())
    return success();
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  llvm::BitVector drop(ret.getNumOperands());
  SmallVector<int> argOf(ret.getNumOperands(), -1);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    // Look through the sharding annotations strata-parallelize wrote.
    Value root = v;
    while (auto shard = root.getDefiningOp<shard::ShardOp>())
      root = shard.getSrc();
    if (auto arg = dyn_cast<BlockArgument>(root);
        arg && arg.getOwner() == &func.getBody().front()) {
      drop.set(i);
      argOf[i] = int(arg.getArgNumber());
    }
  }
  if (drop.none())
    return success();
  std::optional<SymbolTable::UseRange> uses = func.getSymbolUses(module);
  if (!uses)
    return success();
  SmallVector<func::CallOp> calls;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto call = dyn_cast<func::CallOp>(use.getUser());
    if (!call)
      return success(); // referenced otherwise: leave the signature alone
    calls.push_back(call);
  }
  for (func::CallOp call : calls) {
    OpBuilder b(call);
    SmallVector<Type> kept;
    for (unsigned i = 0; i < call.getNumResults(); ++i)
      if (!drop.test(i))
        kept.push_back(call.getResult(i).getType());
    auto newCall = func::CallOp::create(b, call.getLoc(), call.getCalleeAttr(),
                                        kept, call.getOperands());
    newCall->setAttrs(call->getAttrs());
    unsigned next = 0;
    for (unsigned i = 0; i < call.getNumResults(); ++i)
      call.getResult(i).replaceAllUsesWith(
          drop.test(i) ? call.getOperand(argOf[i])
                       : newCall.getResult(next++));
    call.erase();
  }
  if (failed(func.eraseResults(drop)))
    return failure();
  ret->eraseOperands(drop);
  return success();
}

/// The layout the annotated function `callee` wants for its argument `idx`:
/// the sharding of the annotation strata-parallelize put on the argument or,
/// after propagation, the one its users read it in.
shard::ShardingOp argumentLayout(func::FuncOp callee, unsigned idx) {
  // The argument's own annotation, else (after propagation) the layout
  // its users read it in.
  shard::ShardingOp forUsers;
  for (Operation *user : callee.getArgument(idx).getUsers())
    if (auto shardOp = dyn_cast<shard::ShardOp>(user)) {
      auto layout = shardOp.getSharding().getDefiningOp<shard::ShardingOp>();
      if (!shardOp.getAnnotateForUsers())
        return layout;
      if (!forUsers)
        forUsers = layout;
    }
  return forUsers;
}

/// Where `v` ends up as an argument of an annotated function, through loop
/// iteration arguments: that argument's layout, or null.
shard::ShardingOp consumerLayout(Value v, SymbolTableCollection &symbols,
                                 const llvm::DenseSet<Operation *> &annotated,
                                 int depth = 0) {
  if (depth > 4)
    return {};
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (auto call = dyn_cast<func::CallOp>(user)) {
      auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (callee && annotated.contains(callee))
        if (shard::ShardingOp layout =
                argumentLayout(callee, use.getOperandNumber()))
          return layout;
    }
    if (auto loop = dyn_cast<scf::ForOp>(user)) {
      unsigned first = loop.getNumControlOperands();
      if (use.getOperandNumber() >= first)
        if (shard::ShardingOp layout = consumerLayout(
                loop.getRegionIterArgs()[use.getOperandNumber() - first],
                symbols, annotated, depth + 1))
          return layout;
    }
  }
  return {};
}

/// A function upstream would not partition (no annotations: the embedding,
/// say) whose results feed annotated functions returns them in the layout
/// those functions expect, so upstream partitions it too (the embedding's
/// tokens split over the data axes) instead of leaving a global-shaped
/// producer in front of per-device consumers.
void inheritResultLayouts(ModuleOp module,
                          SmallVectorImpl<func::FuncOp> &annotated) {
  SymbolTableCollection symbols;
  llvm::DenseSet<Operation *> isAnnotated;
  for (func::FuncOp f : annotated)
    isAnnotated.insert(f);
  SmallVector<func::FuncOp> added;
  module.walk([&](func::CallOp call) {
    auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (!callee || callee.isExternal() || isAnnotated.contains(callee) ||
        isAnnotated.contains(call->getParentOfType<func::FuncOp>()))
      return;
    // A linalg body reading a tensor it does not take as an operand (the
    // embedding's gather reads its table this way) is beyond upstream's
    // partitioning, which only remaps operands: such a producer runs
    // replicated, and each device slices its share of the result.
    bool captures = false;
    callee.walk([&](linalg::LinalgOp op) {
      op->walk([&](Operation *inner) {
        if (inner != op.getOperation())
          for (Value v : inner->getOperands())
            if (isa<TensorType>(v.getType()) &&
                !op->isProperAncestor(v.getParentRegion()->getParentOp()) &&
                v.getParentRegion()->getParentOp() != op.getOperation())
              captures = true;
      });
    });
    if (captures) {
      for (Value result : call.getResults()) {
        shard::ShardingOp layout = consumerLayout(result, symbols, isAnnotated);
        auto type = dyn_cast<RankedTensorType>(result.getType());
        if (!layout || !type)
          continue;
        OpBuilder b(call->getContext());
        b.setInsertionPointAfter(call);
        Value sliced = result;
        Operation *firstSlice = nullptr;
        SmallVector<int64_t> shape(type.getShape());
        auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
            call, layout.getGridAttr());
        for (auto [dim, axes] :
             llvm::enumerate(layout.getSplitAxes().getAxes())) {
          ArrayRef<int16_t> gridAxes = axes.asArrayRef();
          if (gridAxes.empty() || !grid)
            continue;
          int64_t parts = 1;
          for (int16_t a : gridAxes)
            parts *= grid.getShape()[a];
          if (parts <= 1 || shape[dim] % parts != 0)
            continue;
          shape[dim] /= parts;
          sliced = shard::AllSliceOp::create(
              b, call.getLoc(),
              RankedTensorType::get(shape, type.getElementType()),
              layout.getGrid(), gridAxes, sliced, APInt(64, dim));
          if (!firstSlice)
            firstSlice = sliced.getDefiningOp();
        }
        if (sliced == result)
          continue;
        result.replaceAllUsesExcept(sliced, firstSlice);
        mlir::emitRemark(call.getLoc())
            << "upstream shard-partition cannot partition @"
            << callee.getSymName()
            << " (a linalg body reads a tensor it does not take as an "
               "operand): it runs replicated and each device keeps its "
               "slice (shard.all_slice)";
      }
      return;
    }
    auto ret = cast<func::ReturnOp>(callee.getBody().back().getTerminator());
    bool changed = false;
    for (auto [i, result] : llvm::enumerate(call.getResults())) {
      shard::ShardingOp layout = consumerLayout(result, symbols, isAnnotated);
      if (!layout)
        continue;
      OpBuilder b(ret);
      auto sharding = cast<shard::ShardingOp>(b.clone(*layout));
      auto annotation = shard::ShardOp::create(b, ret.getLoc(),
                                               ret.getOperand(i), sharding);
      ret.setOperand(i, annotation);
      changed = true;
    }
    if (changed && isAnnotated.insert(callee).second)
      added.push_back(callee);
  });
  annotated.append(added.begin(), added.end());
}

struct PartitionPass : strata::impl::StrataPartitionPassBase<PartitionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> annotated;
    for (auto func : module.getOps<func::FuncOp>()) {
      bool hasAnnotation = false;
      func.walk([&](shard::ShardOp) {
        hasAnnotation = true;
        return WalkResult::interrupt();
      });
      if (hasAnnotation)
        annotated.push_back(func);
    }
    if (annotated.empty())
      return;
    for (func::FuncOp func : annotated)
      if (failed(forwardReturnedArguments(func, module)))
        return signalPassFailure();

    // Propagate first, so every argument of an annotated function has the
    // layout upstream chose for it; producers without annotations (the
    // embedding) then inherit those layouts and are propagated in turn.
    OpPassManager propagate(func::FuncOp::getOperationName());
    propagate.addPass(shard::createShardingPropagation());
    for (func::FuncOp func : annotated)
      if (failed(runPipeline(propagate, func)))
        return signalPassFailure();
    size_t before = annotated.size();
    inheritResultLayouts(module, annotated);
    for (func::FuncOp func : llvm::drop_begin(annotated, before))
      if (failed(forwardReturnedArguments(func, module)) ||
          failed(runPipeline(propagate, func)))
        return signalPassFailure();

    OpPassManager partition(func::FuncOp::getOperationName());
    partition.addPass(shard::createPartition());
    partition.addPass(createCSEPass());
    llvm::DenseSet<Operation *> partitioned;
    for (func::FuncOp func : annotated) {
      if (failed(runPipeline(partition, func)))
        return signalPassFailure();
      partitioned.insert(func);
    }

    // Calls into a partitioned function from functions upstream left alone.
    SymbolTableCollection symbols;
    strata::PlumbingRetyper retyper(module, symbols, partitioned);
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      auto caller = call->getParentOfType<func::FuncOp>();
      auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (callee && partitioned.contains(callee) &&
          !partitioned.contains(caller))
        calls.push_back(call);
    });
    for (func::CallOp call : calls)
      if (failed(retyper.fixCall(call)))
        return signalPassFailure();
    if (failed(retyper.verifySlices()))
      return signalPassFailure();
  }
};

} // namespace
