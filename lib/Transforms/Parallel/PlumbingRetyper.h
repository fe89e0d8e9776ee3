//===- PlumbingRetyper.h - Carry new types through calls and loops -*- C++
//-*-===//
//
// Shared by strata-partition (per-device signatures after upstream
// partitioning) and strata-stage (a pipeline stage's share of the stacked
// layer weights). Internal to lib/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_TRANSFORMS_PLUMBINGRETYPER_H
#define STRATA_LIB_TRANSFORMS_PLUMBINGRETYPER_H

#include "strata/Analysis/OpCounts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace strata {
using namespace mlir;

/// Carries new types through calls, loops, returns and stacked-weight slices.
/// Each `retype*` call makes one value take a type and then keeps every
/// related value consistent with it; failure has already been diagnosed.
class PlumbingRetyper {
public:
  PlumbingRetyper(ModuleOp module, SymbolTableCollection &symbols,
                  const llvm::DenseSet<Operation *> &partitioned)
      : module(module), symbols(symbols), partitioned(partitioned) {}

  /// Makes `call`'s operands and results match its callee's signature.
  LogicalResult fixCall(func::CallOp call) {
    auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (!callee)
      return mlir::emitError(call.getLoc(), "callee not found");
    FunctionType type = callee.getFunctionType();
    if (type.getNumInputs() != call.getNumOperands() ||
        type.getNumResults() != call.getNumResults())
      return mlir::emitError(call.getLoc(),
                             "call does not match the arity of @")
             << callee.getSymName();
    for (auto [operand, want] :
         llvm::zip(call->getOpOperands(), type.getInputs()))
      if (failed(retypeDef(operand.get(), want, call)))
        return failure();
    for (auto [result, want] : llvm::zip(call->getResults(), type.getResults()))
      if (failed(retypeValue(result, want)))
        return failure();
    return success();
  }

  /// Callees that keep their whole-tensor signature: a per-device value
  /// reaching one of their calls is recorded in `boundaryUses` rather than
  /// carried into the callee, for the caller to reassemble.
  llvm::DenseSet<Operation *> opaque;
  SmallVector<OpOperand *> boundaryUses;

  /// Every slice whose stack was re-typed must read whole per-device layers
  /// of it once all calls are fixed; otherwise a consumer that was not
  /// partitioned (and so was not re-typed) reads a partitioned stack.
  LogicalResult verifySlices() {
    for (tensor::ExtractSliceOp slice : pendingSlices) {
      RankedTensorType stack = slice.getSourceType();
      llvm::SmallBitVector dropped = slice.getDroppedDims();
      auto kept = partialDims.find(slice);
      for (unsigned d = 0; d < stack.getRank(); ++d)
        if (!dropped.test(d) &&
            !(kept != partialDims.end() && d < kept->second.size() &&
              kept->second.test(d)) &&
            slice.getStaticSizes()[d] != stack.getDimSize(d))
          return mlir::emitError(slice.getLoc(),
                                 "the stack it reads now holds per-device "
                                 "layers of type ")
                 << stack << ", but this slice's consumer still expects "
                 << slice.getType()
                 << " (a function upstream did not partition reads it)";
    }
    return success();
  }

  /// Whether every type in `types` is a ranked tensor of `before`'s shape
  /// or already of `after`'s (element types may differ).
  static bool sameShapes(TypeRange types, Type before, Type after) {
    auto from = dyn_cast<RankedTensorType>(before);
    auto to = dyn_cast<RankedTensorType>(after);
    return from && to && llvm::all_of(types, [&](Type t) {
             auto tensor = dyn_cast<RankedTensorType>(t);
             return tensor && (tensor.getShape() == from.getShape() ||
                               tensor.getShape() == to.getShape());
           });
  }

  static bool isElementwise(linalg::GenericOp op) {
    return op.getNumLoops() == op.getNumParallelLoops() &&
           llvm::all_of(op.getIndexingMapsArray(),
                        [](AffineMap m) { return m.isIdentity(); });
  }

  /// A collective within each layer of a stack (gathering or slicing a
  /// dimension other than the leading layer one) carries a new layer count
  /// through: `t` with `want`'s leading dimension, or null.
  static Type withLayersOf(Type t, Type want, Operation *collective) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    auto target = dyn_cast<RankedTensorType>(want);
    if (!tensor || !target || tensor.getRank() != target.getRank() ||
        tensor.getRank() < 2)
      return {};
    int64_t axis = -1;
    if (auto slice = dyn_cast<shard::AllSliceOp>(collective))
      axis = slice.getSliceAxis().getSExtValue();
    else if (auto gather = dyn_cast<shard::AllGatherOp>(collective))
      axis = gather.getGatherAxis().getSExtValue();
    else if (!isa<shard::AllReduceOp>(collective))
      return {};
    if (axis == 0)
      return {};
    SmallVector<int64_t> shape(tensor.getShape());
    shape[0] = target.getDimSize(0);
    return RankedTensorType::get(shape, tensor.getElementType());
  }

  /// Sets `v`'s type and re-types what depends on it downstream. A value
  /// asked to take two different new types is an error (two partitioned
  /// callees disagree on a layout), never a silent last-one-wins.
  LogicalResult retypeValue(Value v, Type want) {
    if (v.getType() == want)
      return success();
    auto [it, inserted] = fixed.try_emplace(v, want);
    if (!inserted && it->second != want) {
      if (Operation *def = v.getDefiningOp())
        return mlir::emitError(def->getLoc(),
                               "conflicting per-device types for this value: ")
               << it->second << " and " << want;
      return mlir::emitError(module.getLoc(),
                             "conflicting per-device types for an argument: ")
             << it->second << " and " << want;
    }
    Type old = v.getType();
    v.setType(want);
    for (OpOperand &use : llvm::make_early_inc_range(v.getUses()))
      if (failed(retypeUse(use, want, old)))
        return failure();
    return success();
  }

  /// What a slice (extract or insert) read or wrote of its stack before
  /// the stack was re-typed under it: the dimensions it took whole, and the
  /// stack's shape then.
  struct SliceBefore {
    llvm::SmallBitVector whole;
    SmallVector<int64_t> shape;
  };
  static SliceBefore sliceBefore(ArrayRef<int64_t> offsets,
                                 ArrayRef<int64_t> sizes,
                                 const llvm::SmallBitVector &dropped,
                                 RankedTensorType stack) {
    SliceBefore before{llvm::SmallBitVector(stack.getRank()),
                       SmallVector<int64_t>(stack.getShape())};
    for (unsigned d = 0; d < stack.getRank(); ++d)
      if (!dropped.test(d) && sizes[d] == stack.getDimSize(d) &&
          (ShapedType::isDynamic(offsets[d]) || offsets[d] == 0))
        before.whole.set(d);
    return before;
  }

  /// A value whose type changed is used here: make the user agree.
  LogicalResult retypeUse(OpOperand &use, Type want, Type oldType) {
    Operation *user = use.getOwner();
    unsigned idx = use.getOperandNumber();
    if (auto call = dyn_cast<func::CallOp>(user)) {
      auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (callee && callee.getFunctionType().getInput(idx) == want)
        return success();
      // A callee that must see whole tensors: the caller reassembles them.
      if (callee && opaque.contains(callee)) {
        boundaryUses.push_back(&use);
        return success();
      }
      if (callee && !callee.isExternal() && !partitioned.contains(callee))
        return retypeFuncArg(callee, idx, want);
      return mlir::emitError(call.getLoc(), "cannot carry the per-device type ")
             << want << " into this call";
    }
    // A slice's source may change type; its result is re-typed by whoever
    // consumes the slice (retypeStackedSlice).
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
        slice && idx == 0) {
      // Its consumer re-types the result; checked once all calls are done.
      // Whether it read whole layers is decided on the type it was written
      // for, before the stack changed under it.
      pendingSlices.push_back(slice);
      if (auto old = dyn_cast<RankedTensorType>(oldType))
        slicesBefore.try_emplace(slice,
                              sliceBefore(slice.getStaticOffsets(),
                                          slice.getStaticSizes(),
                                          slice.getDroppedDims(), old));
      return success();
    }
    // One layer's value stored into a stack (saved activations, weight
    // gradients): the stack takes the per-device shape of its slices.
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(user)) {
      if (idx == 0) {
        FailureOr<RankedTensorType> stack =
            stackedType(insert, insert.getDestType(), insert.getStaticOffsets(),
                        insert.getStaticSizes(), insert.getStaticStrides(),
                        insert.getDroppedDims(), want);
        if (failed(stack))
          return failure();
        if (failed(retypeDef(insert.getDest(), *stack, insert)))
          return failure();
        insert.setStaticSizes(stackedSizes(insert.getDroppedDims(),
                                           insert.getStaticSizes(), want));
        return retypeValue(insert.getResult(), *stack);
      }
      if (idx == 1) {
        // The stack changed under this store (an earlier store of the same
        // layer re-typed it): remember what it wrote whole before.
        if (auto old = dyn_cast<RankedTensorType>(oldType))
          slicesBefore.try_emplace(insert,
                                sliceBefore(insert.getStaticOffsets(),
                                            insert.getStaticSizes(),
                                            insert.getDroppedDims(), old));
        return retypeValue(insert.getResult(), want);
      }
    }
    if (auto yield = dyn_cast<scf::YieldOp>(user)) {
      auto loop = dyn_cast<scf::ForOp>(yield->getParentOp());
      if (!loop)
        return mlir::emitError(yield.getLoc(),
                               "cannot carry the per-device type through '")
               << yield->getParentOp()->getName() << "'";
      return retypeLoopCarried(loop, idx, want);
    }
    if (auto loop = dyn_cast<scf::ForOp>(user)) {
      unsigned firstInit = loop.getNumControlOperands();
      if (idx < firstInit)
        return mlir::emitError(loop.getLoc(),
                               "a loop bound cannot change type");
      return retypeLoopCarried(loop, idx - firstInit, want);
    }
    if (auto ret = dyn_cast<func::ReturnOp>(user)) {
      auto func = cast<func::FuncOp>(ret->getParentOp());
      FunctionType type = func.getFunctionType();
      SmallVector<Type> results(type.getResults());
      if (results[idx] == want)
        return success();
      results[idx] = want;
      func.setType(
          FunctionType::get(func.getContext(), type.getInputs(), results));
      return forEachCall(func, [&](func::CallOp call) {
        return retypeValue(call.getResult(idx), want);
      });
    }
    if (user->getNumOperands() == 1 && user->getNumResults() == 1)
      if (Type result = withLayersOf(user->getResult(0).getType(), want, user))
        return retypeValue(user->getResult(0), result);
    // An elementwise op (the optimizer's update of a stack of layer
    // weights with its gradients and moments) computes each element from
    // the same element of every operand, so it works on any share of
    // them: all its operands and results take the new type together.
    if (auto generic = dyn_cast<linalg::GenericOp>(user);
        generic && isElementwise(generic) &&
        sameShapes(generic->getOperandTypes(), oldType, want)) {
      auto withShape = [&](Type t) -> Type {
        return RankedTensorType::get(cast<ShapedType>(want).getShape(),
                                     cast<ShapedType>(t).getElementType());
      };
      for (OpOperand &operand : generic->getOpOperands())
        if (failed(retypeDef(operand.get(), withShape(operand.get().getType()),
                             generic)))
          return failure();
      for (Value result : generic->getResults())
        if (failed(retypeValue(result, withShape(result.getType()))))
          return failure();
      return success();
    }
    return mlir::emitError(user->getLoc(), "cannot carry the per-device type ")
           << want << " through '" << user->getName()
           << "': only calls, scf.for, scf.yield, func.return, elementwise ops "
              "and stacked weight slices are re-typed after partitioning";
  }

  /// `v` must have type `want` because `user` needs it: re-type its
  /// definition (upstream), then everything else that uses it.
  LogicalResult retypeDef(Value v, Type want, Operation *user) {
    if (v.getType() == want)
      return success();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      Operation *owner = arg.getOwner()->getParentOp();
      if (auto func = dyn_cast<func::FuncOp>(owner))
        return retypeFuncArg(func, arg.getArgNumber(), want);
      if (auto loop = dyn_cast<scf::ForOp>(owner)) {
        if (arg.getArgNumber() == 0)
          return mlir::emitError(loop.getLoc(),
                                 "the induction variable cannot change type");
        return retypeLoopCarried(loop, arg.getArgNumber() - 1, want);
      }
      return mlir::emitError(user->getLoc(), "cannot re-type an argument of '")
             << owner->getName() << "'";
    }
    Operation *def = v.getDefiningOp();
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def))
      return retypeStackedSlice(slice, want);
    // A fresh stack (saved activations, gradients) has no data to carry.
    if (auto empty = dyn_cast<tensor::EmptyOp>(def);
        empty && empty.getDynamicSizes().empty() &&
        cast<RankedTensorType>(want).hasStaticShape())
      return retypeValue(v, want);
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(def)) {
      if (failed(retypeDef(insert.getDest(), want, insert)))
        return failure();
      return retypeValue(v, want);
    }
    if (auto loop = dyn_cast<scf::ForOp>(def))
      return retypeLoopCarried(loop, cast<OpResult>(v).getResultNumber(), want);
    if (def->getNumOperands() == 1)
      if (Type operand =
              withLayersOf(def->getOperand(0).getType(), want, def)) {
        if (failed(retypeDef(def->getOperand(0), operand, def)))
          return failure();
        return retypeValue(v, want);
      }
    if (auto call = dyn_cast<func::CallOp>(def)) {
      auto callee = symbols.lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      unsigned idx = cast<OpResult>(v).getResultNumber();
      if (callee && callee.getFunctionType().getResult(idx) == want)
        return retypeValue(v, want);
    }
    return mlir::emitError(user->getLoc(), "operand defined by '")
           << def->getName() << "' has type " << v.getType()
           << " but the partitioned callee expects " << want
           << "; only stacked weight slices, loop-carried values, calls and "
              "function arguments are re-typed after partitioning";
  }

  LogicalResult retypeFuncArg(func::FuncOp func, unsigned idx, Type want) {
    FunctionType type = func.getFunctionType();
    if (type.getInput(idx) == want)
      return success();
    SmallVector<Type> inputs(type.getInputs());
    inputs[idx] = want;
    func.setType(
        FunctionType::get(func.getContext(), inputs, type.getResults()));
    if (!func.isExternal() && failed(retypeValue(func.getArgument(idx), want)))
      return failure();
    return forEachCall(func, [&](func::CallOp call) {
      return retypeDef(call.getOperand(idx), want, call);
    });
  }

  /// Loop-carried value `k` of `loop`: init, region argument, yield and
  /// result all take the type.
  LogicalResult retypeLoopCarried(scf::ForOp loop, unsigned k, Type want) {
    if (loop.getRegionIterArgs()[k].getType() == want &&
        loop.getResult(k).getType() == want &&
        loop.getInitArgs()[k].getType() == want)
      return success();
    Type oldIter = loop.getRegionIterArgs()[k].getType();
    loop.getRegionIterArgs()[k].setType(want);
    if (failed(retypeDef(loop.getInitArgs()[k], want, loop)))
      return failure();
    for (OpOperand &use :
         llvm::make_early_inc_range(loop.getRegionIterArgs()[k].getUses()))
      if (failed(retypeUse(use, want, oldIter)))
        return failure();
    Value yielded = loop.getBody()->getTerminator()->getOperand(k);
    if (failed(retypeDef(yielded, want, loop.getBody()->getTerminator())))
      return failure();
    return retypeValue(loop.getResult(k), want);
  }

  /// The stack type whose non-dropped dimensions are `slice`'s: a whole
  /// layer (all offsets 0 outside the dropped dims, unit strides, full
  /// sizes) or an error.
  FailureOr<RankedTensorType>
  stackedType(Operation *op, RankedTensorType stack, ArrayRef<int64_t> offsets,
              ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides,
              const llvm::SmallBitVector &dropped, Type slice) {
    auto sliceTensor = dyn_cast<RankedTensorType>(slice);
    if (!sliceTensor ||
        !llvm::all_of(strides, [](int64_t s) { return s == 1; }))
      return mlir::emitError(op->getLoc(), "cannot re-type this slice to ")
             << slice;
    SmallVector<int64_t> shape(stack.getShape());
    unsigned r = 0;
    for (unsigned d = 0; d < stack.getRank(); ++d) {
      if (dropped.test(d))
        continue;
      // Only whole dimensions are sliced per layer; a partial slice would
      // need upstream's per-device offsets. Whether a dimension is read
      // whole is decided on the stack the slice was written for: another
      // consumer may have re-typed the stack under it already (a MoE
      // layer's partial expert slice meets the tp-split stack).
      auto before = slicesBefore.find(op);
      bool whole =
          before != slicesBefore.end()
              ? before->second.whole.test(d)
              : sizes[d] == stack.getDimSize(d) &&
                    (ShapedType::isDynamic(offsets[d]) || offsets[d] == 0);
      if (r >= sliceTensor.getRank())
        return mlir::emitError(op->getLoc(), "cannot re-type this slice to ")
               << slice;
      // A partial slice of a dimension the device does not split (the MoE
      // layer's weights cut to the experts that receive tokens) keeps its
      // offsets and sizes: the stack keeps that dimension whole.
      if (!whole && !ShapedType::isDynamic(sizes[d]) &&
          sizes[d] == sliceTensor.getDimSize(r)) {
        llvm::SmallBitVector &kept = partialDims[op];
        kept.resize(stack.getRank());
        kept.set(d);
        ++r;
        continue;
      }
      // The experts that receive tokens (strata.expert_subset) split over
      // the devices by expert parallelism: each device takes as many of its
      // own experts as it receives, from offset 0 of its share, and the
      // stack splits that dimension by the same factor. Any other partial
      // slice would need per-device offsets.
      int64_t part = sliceTensor.getDimSize(r);
      int64_t full = before != slicesBefore.end() ? before->second.shape[d]
                                               : stack.getDimSize(d);
      if (!whole && op->hasAttr(analysis::kExpertSubsetAttrName) &&
          !ShapedType::isDynamic(sizes[d]) &&
          !ShapedType::isDynamic(part) && part > 0 && part < sizes[d] &&
          sizes[d] % part == 0 && !ShapedType::isDynamic(full) &&
          full % (sizes[d] / part) == 0 &&
          (ShapedType::isDynamic(offsets[d]) || offsets[d] == 0)) {
        llvm::SmallBitVector &kept = partialDims[op];
        kept.resize(stack.getRank());
        kept.set(d);
        shape[d] = full / (sizes[d] / part);
        ++r;
        continue;
      }
      if (!whole)
        return mlir::emitError(op->getLoc(),
                               "cannot re-type a partial slice of dimension ")
               << d << " (" << sizes[d] << " of " << stack.getDimSize(d)
               << ") to " << slice
               << ": the per-device slice would need per-device offsets";
      shape[d] = sliceTensor.getDimSize(r++);
    }
    if (r != sliceTensor.getRank())
      return mlir::emitError(op->getLoc(), "cannot re-type this slice to ")
             << slice;
    return RankedTensorType::get(shape, stack.getElementType(),
                                 stack.getEncoding());
  }

  static SmallVector<int64_t> stackedSizes(const llvm::SmallBitVector &dropped,
                                           ArrayRef<int64_t> sizes,
                                           Type slice) {
    SmallVector<int64_t> result(sizes);
    auto shape = cast<RankedTensorType>(slice).getShape();
    unsigned r = 0;
    for (unsigned d = 0; d < result.size(); ++d)
      if (!dropped.test(d))
        result[d] = shape[r++];
    return result;
  }

  /// `%w = tensor.extract_slice %stack[%l, 0, ..] [1, d0, ..]` selects layer
  /// %l of a stacked weight; the per-device slice keeps the stacked
  /// dimensions and takes the shard's shape in the others.
  LogicalResult retypeStackedSlice(tensor::ExtractSliceOp slice, Type want) {
    FailureOr<RankedTensorType> stack =
        stackedType(slice, slice.getSourceType(), slice.getStaticOffsets(),
                    slice.getStaticSizes(), slice.getStaticStrides(),
                    slice.getDroppedDims(), want);
    if (failed(stack))
      return failure();
    if (failed(retypeDef(slice.getSource(), *stack, slice)))
      return failure();
    slice.setStaticSizes(
        stackedSizes(slice.getDroppedDims(), slice.getStaticSizes(), want));
    return retypeValue(slice.getResult(), want);
  }

  /// `fn` on every use of `func` in the module, in the order
  /// SymbolTable::getSymbolUses(func, module) gives them (a user that is no
  /// call is an error).
  LogicalResult forEachCall(func::FuncOp func,
                            function_ref<LogicalResult(func::CallOp)> fn) {
    const SmallVector<Operation *> *users = usersOf(func);
    SmallVector<Operation *> uncached;
    if (!users) {
      std::optional<SymbolTable::UseRange> uses = func.getSymbolUses(module);
      if (!uses)
        return success();
      for (const SymbolTable::SymbolUse &use : *uses)
        uncached.push_back(use.getUser());
      users = &uncached;
    }
    for (Operation *user : *users) {
      auto call = dyn_cast<func::CallOp>(user);
      if (!call)
        return user->emitError("@")
               << func.getSymName()
               << " is used by something other than a call; its partitioned "
                  "signature cannot be carried there";
      if (failed(fn(call)))
        return failure();
    }
    return success();
  }

private:
  /// The users of every symbol the module defines at its top level, from
  /// one walk of the module (getSymbolUses per function walks the whole
  /// module each time: quadratic in the calls re-typed, most of
  /// strata-partition's and strata-stage's time on a 96-layer model). The
  /// retyper changes types and slice sizes, never which ops reference a
  /// symbol, and its owners add no symbol references while it lives, so
  /// the table stays true. Null where the per-function query must answer
  /// (`func` not at the module's top level, or an unwalkable symbol
  /// table).
  const SmallVector<Operation *> *usersOf(func::FuncOp func) {
    if (func->getParentOp() != module.getOperation())
      return nullptr;
    if (!usersBuilt) {
      usersBuilt = true;
      std::optional<SymbolTable::UseRange> all =
          SymbolTable::getSymbolUses(&module.getBodyRegion());
      usersWalkable = all.has_value();
      if (all)
        for (const SymbolTable::SymbolUse &use : *all)
          users[use.getSymbolRef().getRootReference()].push_back(
              use.getUser());
    }
    if (!usersWalkable)
      return nullptr;
    auto it = users.find(func.getSymNameAttr());
    return it == users.end() ? &noUsers : &it->second;
  }

  ModuleOp module;
  SymbolTableCollection &symbols;
  bool usersBuilt = false, usersWalkable = false;
  llvm::DenseMap<StringAttr, SmallVector<Operation *>> users;
  const SmallVector<Operation *> noUsers;
  /// Values already given a new type, and which.
  llvm::DenseMap<Value, Type> fixed;
  SmallVector<tensor::ExtractSliceOp> pendingSlices;
  /// Per slice (extract or insert) whose stack was re-typed under it: the
  /// dimensions it read or wrote whole of the stack's type before.
  llvm::DenseMap<Operation *, SliceBefore> slicesBefore;
  /// Dimensions a slice takes part of, unsplit per device (the experts that
  /// receive tokens): kept as they are.
  llvm::DenseMap<Operation *, llvm::SmallBitVector> partialDims;
  /// Functions upstream partitioned: their signatures are the truth.
  const llvm::DenseSet<Operation *> &partitioned;
};

} // namespace strata

#endif // STRATA_LIB_TRANSFORMS_PLUMBINGRETYPER_H
