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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
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
          drop.test(i) ? call.getOperand(argOf[i]) : newCall.getResult(next++));
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

/// Whether `func` reads tensors at data-dependent positions, which upstream
/// shard-partition cannot split because it only remaps operands: a linalg
/// body reading a tensor it does not take as an operand (the embedding's
/// gather), or a `tensor.extract` / `tensor.extract_slice` at an index read
/// from a tensor (the embedding gradient's scatter over token ids).
bool readsWholeTensors(func::FuncOp func) {
  bool captures = false;
  func.walk([&](linalg::LinalgOp op) {
    op->walk([&](Operation *inner) {
      if (inner != op.getOperation())
        for (Value v : inner->getOperands())
          if (isa<TensorType>(v.getType()) &&
              !op->isProperAncestor(v.getParentRegion()->getParentOp()) &&
              v.getParentRegion()->getParentOp() != op.getOperation())
            captures = true;
    });
  });
  func.walk([&](Operation *op) {
    if (!isa<tensor::ExtractSliceOp, tensor::InsertSliceOp>(op))
      return;
    for (Value v : op->getOperands())
      if (isa<IndexType>(v.getType()))
        if (Operation *def = v.getDefiningOp();
            def && isa<arith::IndexCastOp>(def) &&
            def->getOperand(0).getDefiningOp<tensor::ExtractOp>())
          captures = true;
  });
  return captures;
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
    if (readsWholeTensors(callee)) {
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
      auto annotation =
          shard::ShardOp::create(b, ret.getLoc(), ret.getOperand(i), sharding);
      ret.setOperand(i, annotation);
      changed = true;
    }
    if (changed && isAnnotated.insert(callee).second)
      added.push_back(callee);
  });
  annotated.append(added.begin(), added.end());
}

/// The layout an annotated function hands `v` over in: its return
/// annotation when `v` is the result of a call, looking through the stacks
/// a layer loop saves per-layer results in (`tensor.insert_slice` into a
/// loop-carried stack, the loop's result, `tensor.extract_slice` of one
/// layer back out).
std::optional<SmallVector<shard::GridAxesAttr>>
producerLayout(Value v, SymbolTableCollection &symbols,
               const llvm::DenseSet<Operation *> &annotated,
               FlatSymbolRefAttr &grid, int depth = 0) {
  if (depth > 8)
    return std::nullopt;
  MLIRContext *ctx = v.getContext();
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return std::nullopt;
  Operation *def = result.getOwner();
  if (auto call = dyn_cast<func::CallOp>(def)) {
    auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (!callee || !annotated.contains(callee))
      return std::nullopt;
    auto ret = cast<func::ReturnOp>(callee.getBody().back().getTerminator());
    auto shardOp = ret.getOperand(result.getResultNumber())
                       .getDefiningOp<shard::ShardOp>();
    auto layout = shardOp
                      ? shardOp.getSharding().getDefiningOp<shard::ShardingOp>()
                      : shard::ShardingOp();
    if (!layout)
      return std::nullopt;
    grid = layout.getGridAttr();
    return SmallVector<shard::GridAxesAttr>(layout.getSplitAxes().getAxes());
  }
  if (auto loop = dyn_cast<scf::ForOp>(def))
    return producerLayout(
        loop.getBody()->getTerminator()->getOperand(result.getResultNumber()),
        symbols, annotated, grid, depth + 1);
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(def)) {
    if (insert.getSourceType().getRank() + 1 != insert.getDestType().getRank())
      return std::nullopt;
    auto inner =
        producerLayout(insert.getSource(), symbols, annotated, grid, depth + 1);
    if (inner && !inner->empty())
      inner->insert(inner->begin(), DenseI16ArrayAttr::get(ctx, {}));
    return inner;
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def)) {
    if (slice.getResultType().getRank() + 1 != slice.getSourceType().getRank())
      return std::nullopt;
    auto outer =
        producerLayout(slice.getSource(), symbols, annotated, grid, depth + 1);
    if (!outer)
      return std::nullopt;
    // Trailing unsplit dimensions are implicit in a sharding.
    if (outer->empty())
      return outer;
    if (!outer->front().empty())
      return std::nullopt; // split across layers: not a per-layer layout
    outer->erase(outer->begin());
    return outer;
  }
  return std::nullopt;
}

/// Where `v`, or a layer's slice of it when `v` is a stack of per-layer
/// tensors (`tensor.extract_slice` dropping the leading layer dimension),
/// ends up as an argument of an annotated function: that argument's layout
/// with one unsplit dimension in front per stack level, or none.
std::optional<SmallVector<shard::GridAxesAttr>>
stackedConsumerLayout(Value v, SymbolTableCollection &symbols,
                      const llvm::DenseSet<Operation *> &annotated,
                      FlatSymbolRefAttr &grid) {
  if (shard::ShardingOp layout = consumerLayout(v, symbols, annotated)) {
    grid = layout.getGridAttr();
    return SmallVector<shard::GridAxesAttr>(layout.getSplitAxes().getAxes());
  }
  for (Operation *user : v.getUsers()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    if (!slice || slice.getSource() != v ||
        slice.getResultType().getRank() + 1 != slice.getSourceType().getRank())
      continue;
    if (auto inner = stackedConsumerLayout(slice.getResult(), symbols,
                                           annotated, grid)) {
      inner->insert(inner->begin(), DenseI16ArrayAttr::get(v.getContext(), {}));
      return inner;
    }
  }
  return std::nullopt;
}

/// Gives `arg` the layout `split` on `grid`: a definition-side annotation
/// at the top of its block, which every other use then reads.
void annotateArgument(BlockArgument arg, FlatSymbolRefAttr grid,
                      ArrayRef<shard::GridAxesAttr> split) {
  OpBuilder b = OpBuilder::atBlockBegin(arg.getOwner());
  Location loc = arg.getOwner()->getParentOp()->getLoc();
  Value sharding = shard::ShardingOp::create(b, loc, grid, split);
  auto annotation = shard::ShardOp::create(b, loc, arg, sharding);
  arg.replaceAllUsesExcept(annotation, annotation);
}

/// Calls `fn(operand, argument)` for every ranked-tensor operand of every
/// `func.call` of `callee` (of the first call only with `firstCallOnly`).
void forEachCallOperand(func::FuncOp callee, ModuleOp module,
                        function_ref<void(Value, BlockArgument)> fn,
                        bool firstCallOnly = false) {
  // The calls in program order, as getSymbolUses(callee, module) lists
  // them, from a walk of the ops rather than of every op's attributes (that
  // walk per function was a sixth of a GPT-3 plan's lowering); the calls
  // of a nested symbol table name its own symbols.
  SmallVector<func::CallOp> calls;
  StringAttr name = callee.getSymNameAttr();
  module.walk<WalkOrder::PreOrder>([&](func::CallOp call) {
    if (call.getCalleeAttr().getAttr() == name &&
        call->getParentWithTrait<OpTrait::SymbolTable>() ==
            module.getOperation())
      calls.push_back(call);
  });
  for (func::CallOp call : calls) {
    for (auto [i, operand] : llvm::enumerate(call.getOperands()))
      if (isa<RankedTensorType>(callee.getArgument(i).getType()))
        fn(operand, callee.getArgument(i));
    if (firstCallOnly)
      return;
  }
}

/// A function without annotations that reads values the annotated
/// functions also read (the optimizer updating the weights in place of
/// the layers) takes those values in the same layout, so that upstream
/// partitions it too: each device updates its own shard.
void inheritArgumentLayouts(ModuleOp module,
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
        isAnnotated.contains(call->getParentOfType<func::FuncOp>()) ||
        readsWholeTensors(callee))
      return;
    bool changed = false;
    for (auto [i, operand] : llvm::enumerate(call.getOperands())) {
      // The layout the annotated functions read it in (a weight) or, else,
      // the one it is produced in (a gradient the backward returns).
      FlatSymbolRefAttr grid;
      auto split = stackedConsumerLayout(operand, symbols, isAnnotated, grid);
      if (!split)
        split = producerLayout(operand, symbols, isAnnotated, grid);
      if (!split)
        continue;
      BlockArgument arg = callee.getArgument(i);
      if (llvm::any_of(arg.getUsers(), llvm::IsaPred<shard::ShardOp>))
        continue;
      while (split->size() > 1 && split->back().empty())
        split->pop_back();
      annotateArgument(arg, grid, *split);
      changed = true;
    }
    // Upstream propagation gives an argument it reaches only through an
    // elementwise op a replicated layout of its own (and then slices it):
    // the optimizer's moments would be stored whole on every device. They
    // take the layout of the weight they are updated with instead.
    if (changed)
      callee.walk([&](linalg::GenericOp op) {
        if (!strata::PlumbingRetyper::isElementwise(op))
          return;
        shard::ShardOp known;
        for (Value v : op->getOperands())
          if (auto shardOp = v.getDefiningOp<shard::ShardOp>();
              shardOp && isa<BlockArgument>(shardOp.getSrc()))
            known = shardOp;
        if (!known)
          return;
        for (OpOperand &operand : op->getOpOperands()) {
          auto arg = dyn_cast<BlockArgument>(operand.get());
          auto type = dyn_cast<RankedTensorType>(operand.get().getType());
          if (!arg || !type || arg.getOwner() != &callee.getBody().front() ||
              type.getShape() != known.getType().getShape())
            continue;
          auto layout = known.getSharding().getDefiningOp<shard::ShardingOp>();
          annotateArgument(arg, layout.getGridAttr(),
                           SmallVector<shard::GridAxesAttr>(
                               layout.getSplitAxes().getAxes()));
        }
      });
    if (changed && isAnnotated.insert(callee).second)
      added.push_back(callee);
  });
  annotated.append(added.begin(), added.end());
}

/// An annotated function whose argument carries no layout of its own (the
/// backward layer reading the activations the forward layer saved) takes
/// it in the layout its producer hands the value over in, instead of
/// replicated: the saved activations stay split the way they were
/// computed, and upstream reshards inside the function if it must.
void inheritProducerLayouts(func::FuncOp callee, ModuleOp module,
                            const llvm::DenseSet<Operation *> &annotated) {
  SymbolTableCollection symbols;
  forEachCallOperand(callee, module, [&](Value operand, BlockArgument arg) {
    if (llvm::any_of(arg.getUsers(), [](Operation *user) {
          auto shardOp = dyn_cast<shard::ShardOp>(user);
          return shardOp && !shardOp.getAnnotateForUsers();
        }))
      return;
    FlatSymbolRefAttr grid;
    auto split = producerLayout(operand, symbols, annotated, grid);
    if (split && !split->empty())
      annotateArgument(arg, grid, *split);
  });
}

/// An argument of an annotated function that nothing gave a layout (a bias
/// the backward layer takes but does not read) takes the layout the other
/// annotated functions read the same value in, so that one stack of layer
/// weights has one per-device shape.
void adoptSiblingLayouts(func::FuncOp callee, ModuleOp module,
                         const llvm::DenseSet<Operation *> &annotated) {
  SymbolTableCollection symbols;
  forEachCallOperand(
      callee, module,
      [&](Value operand, BlockArgument arg) {
        if (llvm::any_of(arg.getUsers(), llvm::IsaPred<shard::ShardOp>))
          return;
        Value source = operand;
        // Look through the layer slice to the stack the siblings slice too.
        if (auto slice = operand.getDefiningOp<tensor::ExtractSliceOp>())
          source = slice.getSource();
        FlatSymbolRefAttr grid;
        auto split = stackedConsumerLayout(source, symbols, annotated, grid);
        if (!split)
          return;
        if (source != operand) {
          if (split->empty() || !split->front().empty())
            return;
          split->erase(split->begin());
        }
        if (!split->empty())
          annotateArgument(arg, grid, *split);
      },
      /*firstCallOnly=*/true); // the layouts are per value
}

/// Brings a propagated function to the fully annotated form upstream
/// shard-partition requires: every tensor block argument and op result has
/// exactly one use, a `shard.shard` giving its layout, and every tensor
/// operand comes from a `shard.shard ... annotate_for_users`. Propagation
/// leaves gaps where no layout reached a value (a weight gradient whose
/// inputs are unannotated arguments, say), and MLIR 22's shard-partition
/// dereferences the missing annotation and crashes. A value no layout
/// reached is replicated: the meaning upstream gives an unannotated tensor.
void completeAnnotations(func::FuncOp func) {
  FlatSymbolRefAttr grid;
  func.walk([&](shard::ShardingOp sharding) {
    grid = sharding.getGridAttr();
    return WalkResult::interrupt();
  });
  if (!grid || func.isExternal())
    return;
  auto needsLayout = [](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && type.getRank() > 0;
  };
  auto replicated = [&](OpBuilder &b, Location loc) -> Value {
    return shard::ShardingOp::create(
        b, loc, grid,
        ArrayRef<shard::GridAxesAttr>{
            DenseI16ArrayAttr::get(b.getContext(), {})});
  };
  // One definition-side annotation per value; every other use reads it.
  auto giveLayout = [&](Value v, OpBuilder &b, Location loc) {
    shard::ShardOp def, anyUser;
    for (Operation *user : v.getUsers())
      if (auto shardOp = dyn_cast<shard::ShardOp>(user)) {
        if (!shardOp.getAnnotateForUsers() && !def)
          def = shardOp;
        if (!anyUser)
          anyUser = shardOp;
      }
    if (def && v.hasOneUse())
      return;
    if (!def) {
      // A block argument read in one layout takes that layout; anything
      // else no layout reached is replicated.
      Value sharding =
          isa<BlockArgument>(v) && anyUser
              ? Value(b.clone(*anyUser.getSharding().getDefiningOp())
                          ->getResult(0))
              : replicated(b, loc);
      if (isa<BlockArgument>(v) && anyUser && v.hasOneUse())
        return; // the single use-side annotation is the argument's layout
      def = shard::ShardOp::create(b, loc, v, sharding);
    }
    v.replaceAllUsesExcept(def, def);
  };

  Block &entry = func.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  for (BlockArgument arg : entry.getArguments())
    if (needsLayout(arg))
      giveLayout(arg, b, arg.getLoc());

  SmallVector<Operation *> ops;
  for (Operation &op : entry)
    if (!isa<shard::ShardOp, shard::ShardingOp>(op))
      ops.push_back(&op);
  for (Operation *op : ops) {
    if (op->hasTrait<OpTrait::ConstantLike>())
      continue;
    for (Value result : op->getResults())
      if (needsLayout(result)) {
        b.setInsertionPointAfter(op);
        giveLayout(result, b, op->getLoc());
      }
  }
  for (Operation *op : ops) {
    if (op->hasTrait<OpTrait::ConstantLike>())
      continue;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!needsLayout(operand.get()))
        continue;
      auto shardOp = operand.get().getDefiningOp<shard::ShardOp>();
      if (shardOp && shardOp.getAnnotateForUsers())
        continue;
      b.setInsertionPoint(op);
      Value sharding =
          shardOp ? shardOp.getSharding() : replicated(b, op->getLoc());
      operand.set(shard::ShardOp::create(b, op->getLoc(), operand.get(),
                                         sharding,
                                         /*annotate_for_users=*/true));
    }
  }
}

/// A value's per-device layout where it enters a function upstream cannot
/// partition.
struct BoundaryLayout {
  FlatSymbolRefAttr grid;
  SmallVector<shard::GridAxesAttr> split;
};

/// For every operand of a call into a function that reads whole tensors
/// (`readsWholeTensors`), the layout its producer hands it over in.
llvm::DenseMap<Value, BoundaryLayout>
layoutsIntoWholeTensorCallees(ModuleOp module,
                              ArrayRef<func::FuncOp> annotated) {
  SymbolTableCollection symbols;
  llvm::DenseSet<Operation *> isAnnotated(annotated.begin(), annotated.end());
  llvm::DenseMap<Value, BoundaryLayout> layouts;
  module.walk([&](func::CallOp call) {
    auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (!callee || callee.isExternal() || isAnnotated.contains(callee) ||
        !readsWholeTensors(callee))
      return;
    for (Value operand : call.getOperands()) {
      // The layout it is produced in or, for a value the program takes in
      // (a tied embedding table), the one an annotated consumer reads it in.
      BoundaryLayout layout;
      auto split = producerLayout(operand, symbols, isAnnotated, layout.grid);
      if (!split)
        split =
            stackedConsumerLayout(operand, symbols, isAnnotated, layout.grid);
      if (split) {
        layout.split = std::move(*split);
        layouts[operand] = std::move(layout);
      }
    }
  });
  return layouts;
}

/// A call into a function marked `strata.token_parallel` (its results are
/// sums over the leading, token dimension of its arguments: the embedding
/// gradient's scatter-add) whose per-device operands are split on that
/// dimension alone runs on each device's own tokens instead: a clone of the
/// callee for the per-device shapes, the token operands still whole sliced
/// to the device's share, and the partial results summed over the data axes
/// (`shard.all_reduce`, which the step prices as gradient sync). Returns
/// false when the call is not of that kind.
FailureOr<bool>
runOnLocalTokens(func::CallOp call, ArrayRef<OpOperand *> uses,
                 const llvm::DenseMap<Value, BoundaryLayout> &layouts,
                 ModuleOp module) {
  SymbolTableCollection symbols;
  auto callee =
      symbols.lookupNearestSymbolFrom<func::FuncOp>(call, call.getCalleeAttr());
  if (!callee || !callee->hasAttr("strata.token_parallel"))
    return false;
  // The data split: the same grid axes on dimension 0 of every per-device
  // operand, and under context parallelism on dimension 1 (the sequence of
  // [batch, seq, ...] tokens), nothing else split.
  FlatSymbolRefAttr gridRef;
  std::optional<SmallVector<SmallVector<int16_t>, 2>> dimAxes;
  for (OpOperand *use : uses) {
    auto it = layouts.find(use->get());
    if (it == layouts.end() || it->second.split.empty())
      return false;
    SmallVector<SmallVector<int16_t>, 2> mine(2);
    for (auto [dim, a] : llvm::enumerate(it->second.split)) {
      if (dim > 1 && !a.empty())
        return false;
      if (dim <= 1)
        mine[dim].assign(a.asArrayRef().begin(), a.asArrayRef().end());
    }
    if (mine[0].empty() || (dimAxes && *dimAxes != mine))
      return false;
    dimAxes = mine;
    gridRef = it->second.grid;
  }
  auto grid = symbols.lookupNearestSymbolFrom<shard::GridOp>(call, gridRef);
  if (!dimAxes || !grid)
    return false;
  // Only context parallelism's cp axis may split the sequence here (a
  // sequence split over tp, Megatron-SP's, would sum the partial tables
  // over tp every microbatch: those values are gathered instead).
  if (!(*dimAxes)[1].empty()) {
    auto names = grid->getAttrOfType<ArrayAttr>("strata.axis_names");
    for (int16_t a : (*dimAxes)[1]) {
      auto name = names && a < int16_t(names.size())
                      ? dyn_cast<StringAttr>(names[a])
                      : StringAttr();
      if (!name || name.getValue() != "cp")
        return false;
    }
  }
  SmallVector<int64_t, 2> parts = {1, 1};
  SmallVector<int16_t> axes;
  for (unsigned d = 0; d < 2; ++d)
    for (int16_t a : (*dimAxes)[d]) {
      parts[d] *= grid.getShape()[a];
      axes.push_back(a);
    }
  llvm::sort(axes);

  // Operands: per-device ones as they are, whole token tensors sliced.
  OpBuilder b(call);
  SmallVector<Value> operands;
  SmallVector<Operation *> slices;
  auto undo = [&]() {
    for (Operation *slice : llvm::reverse(slices))
      slice->erase();
    return false;
  };
  for (OpOperand &operand : call->getOpOperands()) {
    Value v = operand.get();
    Type want = callee.getFunctionType().getInput(operand.getOperandNumber());
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (type && v.getType() == want) {
      for (unsigned d = 0; d < 2; ++d) {
        if (parts[d] == 1)
          continue;
        auto t = cast<RankedTensorType>(v.getType());
        if (t.getRank() <= int64_t(d) || t.getDimSize(d) % parts[d] != 0)
          return undo();
        SmallVector<int64_t> shape(t.getShape());
        shape[d] /= parts[d];
        v = shard::AllSliceOp::create(
            b, call.getLoc(), RankedTensorType::get(shape, t.getElementType()),
            gridRef.getValue(), (*dimAxes)[d], v, APInt(64, d));
        slices.push_back(v.getDefiningOp());
      }
    }
    operands.push_back(v);
  }

  // The callee at the per-device shapes: its views follow their sources and
  // the token loop's bound (a tensor.dim of the tokens) folds.
  func::FuncOp local = callee.clone();
  local.setSymName((callee.getSymName() + "_local").str());
  local->removeAttr("strata.token_parallel");
  SymbolTable(module).insert(local);
  Block &entry = local.getBody().front();
  for (auto [arg, v] : llvm::zip(entry.getArguments(), operands))
    arg.setType(v.getType());
  local.setType(FunctionType::get(call.getContext(),
                                  ValueRange(operands).getTypes(),
                                  callee.getFunctionType().getResults()));
  WalkResult walk = local.walk([&](Operation *op) {
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      collapse.getResult().setType(tensor::CollapseShapeOp::inferCollapsedType(
          collapse.getSrcType(), collapse.getReassociationIndices()));
    } else if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      auto type = dyn_cast<RankedTensorType>(dim.getSource().getType());
      std::optional<int64_t> i = dim.getConstantIndex();
      if (!type || !i || type.isDynamicDim(*i))
        return WalkResult::interrupt();
      OpBuilder at(dim);
      dim.replaceAllUsesWith(
          arith::ConstantIndexOp::create(at, dim.getLoc(), type.getDimSize(*i))
              .getResult());
      dim.erase();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || failed(verify(local))) {
    local.erase();
    return undo();
  }

  auto localCall = func::CallOp::create(b, call.getLoc(), local, operands);
  localCall->setAttrs(call->getAttrs());
  localCall.setCallee(local.getSymName());
  for (auto [old, partial] :
       llvm::zip(call.getResults(), localCall.getResults())) {
    Value sum = shard::AllReduceOp::create(b, call.getLoc(), partial.getType(),
                                           gridRef.getValue(), axes, partial);
    old.replaceAllUsesWith(sum);
  }
  call.erase();
  if (SymbolTable::symbolKnownUseEmpty(callee, module))
    callee.erase();
  return true;
}

/// A per-device value reaching a function that reads whole tensors (the
/// embedding gradient scatters by token id) is all-gathered back to the
/// callee's type in front of the call, in the layout it was handed over
/// in. The callee then runs replicated, on every device's tokens.
LogicalResult
gatherAtBoundaries(ArrayRef<OpOperand *> allUses,
                   const llvm::DenseMap<Value, BoundaryLayout> &layouts,
                   ModuleOp module) {
  // Calls that can run on each device's own tokens do; the rest gather.
  llvm::MapVector<Operation *, SmallVector<OpOperand *>> byCall;
  for (OpOperand *use : allUses)
    byCall[use->getOwner()].push_back(use);
  SmallVector<OpOperand *> uses;
  for (auto &[op, callUses] : byCall) {
    FailureOr<bool> local =
        runOnLocalTokens(cast<func::CallOp>(op), callUses, layouts, module);
    if (failed(local))
      return failure();
    if (!*local)
      uses.append(callUses.begin(), callUses.end());
  }
  SymbolTableCollection symbols;
  for (OpOperand *use : uses) {
    auto call = cast<func::CallOp>(use->getOwner());
    auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    Type want = callee.getFunctionType().getInput(use->getOperandNumber());
    Value v = use->get();
    auto it = layouts.find(v);
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (it == layouts.end() || !type)
      return mlir::emitError(call.getLoc(), "cannot carry the per-device type ")
             << v.getType() << " into @" << callee.getSymName()
             << ", which upstream cannot partition (it reads tensors at "
                "data-dependent positions), and no layout is known to "
                "gather it back to "
             << want;
    auto grid =
        symbols.lookupNearestSymbolFrom<shard::GridOp>(call, it->second.grid);
    OpBuilder b(call);
    SmallVector<int64_t> shape(type.getShape());
    for (auto [dim, axes] : llvm::enumerate(it->second.split)) {
      ArrayRef<int16_t> gridAxes = axes.asArrayRef();
      if (gridAxes.empty() || !grid || dim >= shape.size())
        continue;
      int64_t parts = 1;
      for (int16_t a : gridAxes)
        parts *= grid.getShape()[a];
      shape[dim] *= parts;
      v = shard::AllGatherOp::create(
          b, call.getLoc(), RankedTensorType::get(shape, type.getElementType()),
          it->second.grid.getValue(), gridAxes, v, APInt(64, dim));
    }
    if (v.getType() != want)
      return mlir::emitError(call.getLoc(), "gathering the per-device operand ")
             << use->getOperandNumber() << " gives " << v.getType() << " but @"
             << callee.getSymName() << " expects " << want;
    use->set(v);
  }
  return success();
}

/// Rejects, before upstream sees it, a structured op upstream shard-partition
/// (MLIR 22) crashes on: a loop marked `reduction` that indexes an output
/// (the loop does not reduce; upstream's sharded-reduction path aborts on
/// it when that loop is split).
LogicalResult verifyPartitionable(func::FuncOp func) {
  WalkResult walk = func.walk([&](linalg::LinalgOp op) {
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    for (OpOperand &init : op.getDpsInitsMutable()) {
      AffineMap map = op.getMatchingIndexingMap(&init);
      for (unsigned d = 0; d < iterators.size(); ++d)
        if (iterators[d] == utils::IteratorType::reduction &&
            map.isFunctionOfDim(d)) {
          op->emitError()
              << "strata-partition: reduction loop d" << d
              << " indexes output #" << init.getOperandNumber() - op.getNumDpsInputs()
              << " of @" << func.getSymName()
              << "; upstream shard-partition cannot partition such an op "
                 "(mark the loop parallel or reduce over it)";
          return WalkResult::interrupt();
        }
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
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
    llvm::DenseSet<Operation *> isAnnotated(annotated.begin(), annotated.end());
    for (func::FuncOp func : annotated) {
      inheritProducerLayouts(func, module, isAnnotated);
      if (failed(runPipeline(propagate, func)))
        return signalPassFailure();
    }
    // Then functions without annotations next to them take the layouts
    // propagation settled: producers (the embedding) those their results
    // are read in, consumers (the optimizer) those their operands have.
    size_t before = annotated.size();
    inheritArgumentLayouts(module, annotated);
    inheritResultLayouts(module, annotated);
    isAnnotated.insert(annotated.begin(), annotated.end());
    for (func::FuncOp func : llvm::drop_begin(annotated, before)) {
      inheritProducerLayouts(func, module, isAnnotated);
      if (failed(forwardReturnedArguments(func, module)) ||
          failed(runPipeline(propagate, func)))
        return signalPassFailure();
    }

    for (func::FuncOp func : annotated)
      adoptSiblingLayouts(func, module, isAnnotated);
    for (func::FuncOp func : annotated)
      completeAnnotations(func);

    // The layouts values cross into functions upstream cannot partition,
    // known only before partitioning rewrites the annotations away.
    llvm::DenseMap<Value, BoundaryLayout> boundaryLayouts =
        layoutsIntoWholeTensorCallees(module, annotated);

    for (func::FuncOp func : annotated)
      if (failed(verifyPartitionable(func)))
        return signalPassFailure();
    OpPassManager partition(func::FuncOp::getOperationName());
    partition.addPass(shard::createPartition());
    partition.addPass(createCSEPass());
    llvm::DenseSet<Operation *> partitioned;
    for (func::FuncOp func : annotated) {
      if (failed(runPipeline(partition, func))) {
        // The verifier has said what is wrong with upstream's output; say
        // where it came from.
        mlir::emitError(func.getLoc(),
                        "strata-partition: upstream shard-partition (MLIR "
                        "22) produced invalid IR for @")
            << func.getSymName()
            << " under this plan (the error above); the plan cannot be "
               "partitioned";
        return signalPassFailure();
      }
      partitioned.insert(func);
    }

    // Calls into a partitioned function from functions upstream left alone.
    SymbolTableCollection symbols;
    strata::PlumbingRetyper retyper(module, symbols, partitioned);
    for (auto func : module.getOps<func::FuncOp>())
      if (!partitioned.contains(func) && !func.isExternal() &&
          readsWholeTensors(func))
        retyper.opaque.insert(func);
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
    if (failed(gatherAtBoundaries(retyper.boundaryUses, boundaryLayouts,
                                  module)) ||
        failed(retyper.verifySlices()))
      return signalPassFailure();
  }
};

} // namespace
