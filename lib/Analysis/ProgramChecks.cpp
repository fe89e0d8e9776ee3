//===- ProgramChecks.cpp - What a program must be to be priced ------------===//

#include "strata/Analysis/ProgramChecks.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>

using namespace mlir;

namespace strata::analysis {

namespace {
/// Functions reachable from `entry` (itself included), in discovery order.
SmallVector<FunctionOpInterface> reachable(FunctionOpInterface entry) {
  SymbolTableCollection tables;
  SmallVector<FunctionOpInterface> order = {entry};
  llvm::DenseSet<Operation *> seen = {entry};
  for (size_t i = 0; i < order.size(); ++i)
    order[i].getFunctionBody().walk([&](CallOpInterface call) {
      auto callee = dyn_cast_if_present<FunctionOpInterface>(
          call.resolveCallableInTable(&tables));
      if (callee && !callee.isExternal() && seen.insert(callee).second)
        order.push_back(callee);
    });
  return order;
}

/// The first dynamic dimension among `op`'s shaped operands and results.
LogicalResult verifyStaticShapes(linalg::LinalgOp op) {
  auto check = [&](Type type, StringRef what, unsigned index) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank() || shaped.hasStaticShape())
      return success();
    for (auto [dim, size] : llvm::enumerate(shaped.getShape()))
      if (ShapedType::isDynamic(size))
        return op->emitOpError()
               << what << " #" << index << " (" << type
               << ") has a dynamic dimension " << dim
               << ": Strata prices static shapes only (give the dimension "
                  "a size)";
    return success();
  };
  for (auto [i, t] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(t, "operand", i)))
      return failure();
  for (auto [i, t] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(t, "result", i)))
      return failure();
  return success();
}

/// A contraction computes in one arithmetic: integer or floating point.
LogicalResult verifyContractionTypes(linalg::LinalgOp op) {
  if (!linalg::isaContractionOpInterface(op) || op.getNumDpsInits() != 1)
    return success();
  Type result = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  for (OpOperand *input : op.getDpsInputOperands()) {
    Type element = getElementTypeOrSelf(input->get().getType());
    if (isa<IntegerType>(element) != isa<IntegerType>(result) ||
        isa<FloatType>(element) != isa<FloatType>(result))
      return op->emitOpError()
             << "contracts " << element << " operands into a " << result
             << " result: a contraction's operands and result must be all "
                "integer or all floating point (convert the operands first)";
  }
  return success();
}
} // namespace

LogicalResult verifyAcyclicCalls(FunctionOpInterface entry) {
  SymbolTableCollection tables;
  // Depth-first over the call graph; `path` holds the functions being
  // walked, `done` those whose callees are all known to be acyclic.
  SmallVector<FunctionOpInterface> path;
  llvm::DenseSet<Operation *> onPath, done;
  std::function<LogicalResult(FunctionOpInterface)> visit =
      [&](FunctionOpInterface fn) -> LogicalResult {
    path.push_back(fn);
    onPath.insert(fn);
    WalkResult walk = fn.getFunctionBody().walk([&](CallOpInterface call) {
      auto callee = dyn_cast_if_present<FunctionOpInterface>(
          call.resolveCallableInTable(&tables));
      if (!callee || callee.isExternal() || done.contains(callee))
        return WalkResult::advance();
      if (onPath.contains(callee)) {
        InFlightDiagnostic diag = call->emitError()
                                  << "recursive call graph: @"
                                  << callee.getName() << " reaches itself (";
        for (auto it = llvm::find(path, callee); it != path.end(); ++it)
          diag << "@" << it->getName() << " -> ";
        diag << "@" << callee.getName()
             << "); Strata prices only acyclic call graphs";
        return WalkResult::interrupt();
      }
      return failed(visit(callee)) ? WalkResult::interrupt()
                                   : WalkResult::advance();
    });
    path.pop_back();
    onPath.erase(fn);
    if (walk.wasInterrupted())
      return failure();
    done.insert(fn);
    return success();
  };
  return visit(entry);
}

LogicalResult verifyPriceable(FunctionOpInterface entry) {
  if (failed(verifyAcyclicCalls(entry)))
    return failure();
  for (FunctionOpInterface fn : reachable(entry)) {
    WalkResult walk = fn.getFunctionBody().walk([&](linalg::LinalgOp op) {
      if (failed(verifyStaticShapes(op)) || failed(verifyContractionTypes(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  return success();
}

} // namespace strata::analysis
