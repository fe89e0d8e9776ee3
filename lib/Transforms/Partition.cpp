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

    OpPassManager partition(func::FuncOp::getOperationName());
    partition.addPass(shard::createShardingPropagation());
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
