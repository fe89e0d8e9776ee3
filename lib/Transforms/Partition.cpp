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
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace strata {
#define GEN_PASS_DEF_STRATAPARTITIONPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

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
