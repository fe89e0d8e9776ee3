//===- BindDims.cpp - Static sizes for an export's dynamic dims -----------===//
//
// `strata-bind-dims sizes=...` replaces the `?`s of the entry function's
// argument types, in order, by the sizes given, and lets upstream
// canonicalization carry them through the body (docs/inputs.md).
//
//===----------------------------------------------------------------------===//

#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_STRATABINDDIMSPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// "%arg0 dim 0, %arg1 dim 2": the dynamic dims of `fn`'s arguments.
std::string describeDynamicDims(FunctionOpInterface fn, unsigned &count) {
  std::string s;
  llvm::raw_string_ostream os(s);
  count = 0;
  for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i) {
    auto ranked = dyn_cast<RankedTensorType>(fn.getArgument(i).getType());
    if (!ranked)
      continue;
    for (int64_t d = 0; d < ranked.getRank(); ++d)
      if (ranked.isDynamicDim(d))
        os << (count++ ? ", " : "") << "%arg" << i << " dim " << d;
  }
  return s;
}

struct BindDimsPass : strata::impl::StrataBindDimsPassBase<BindDimsPass> {
  using Base::Base;

  FailureOr<FunctionOpInterface> findEntry(ModuleOp module) {
    if (!entry.empty()) {
      auto fn = dyn_cast_if_present<FunctionOpInterface>(
          SymbolTable::lookupSymbolIn(module, entry));
      if (!fn || fn.isExternal())
        return module.emitError() << "strata-bind-dims: entry function '"
                                  << entry << "' is not defined in the module";
      return fn;
    }
    SmallVector<FunctionOpInterface> publics;
    for (auto fn : module.getOps<FunctionOpInterface>())
      if (!fn.isExternal() && fn.isPublic())
        publics.push_back(fn);
    if (publics.size() == 1)
      return publics.front();
    InFlightDiagnostic diag = module.emitError();
    diag << "strata-bind-dims: ";
    if (publics.empty())
      diag << "no public function with a body to bind";
    else {
      diag << "several public functions (";
      llvm::interleaveComma(publics, diag, [&](FunctionOpInterface f) {
        diag << f.getName();
      });
      diag << "); choose the one to bind with entry=";
    }
    return failure();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<FunctionOpInterface> found = findEntry(module);
    if (failed(found))
      return signalPassFailure();
    FunctionOpInterface fn = *found;
    unsigned dynamic = 0;
    std::string dims = describeDynamicDims(fn, dynamic);
    if (dynamic != sizes.size()) {
      InFlightDiagnostic diag = fn.emitError();
      diag << "strata-bind-dims: @" << fn.getName() << " has " << dynamic
           << " dynamic dim" << (dynamic == 1 ? "" : "s");
      if (dynamic)
        diag << " (" << dims << ")";
      diag << " but sizes lists " << sizes.size();
      return signalPassFailure();
    }
    for (auto [i, size] : llvm::enumerate(sizes))
      if (size < 1) {
        fn.emitError() << "strata-bind-dims: size #" << i << " is " << size
                       << "; a dim is at least 1";
        return signalPassFailure();
      }
    if (dynamic == 0)
      return;

    // The static signature; each rebound argument is cast back to its old
    // type for its uses, which canonicalization then folds away.
    OpBuilder b(fn.getFunctionBody());
    Block &body = fn.getFunctionBody().front();
    b.setInsertionPointToStart(&body);
    SmallVector<Type> argTypes(fn.getArgumentTypes());
    unsigned next = 0;
    for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i) {
      auto ranked = dyn_cast<RankedTensorType>(argTypes[i]);
      if (!ranked || ranked.hasStaticShape())
        continue;
      SmallVector<int64_t> shape(ranked.getShape());
      for (int64_t &d : shape)
        if (ShapedType::isDynamic(d))
          d = sizes[next++];
      auto bound = RankedTensorType::get(shape, ranked.getElementType(),
                                         ranked.getEncoding());
      BlockArgument arg = body.getArgument(i);
      arg.setType(bound);
      auto cast = tensor::CastOp::create(b, arg.getLoc(), ranked, arg);
      arg.replaceAllUsesExcept(cast, cast);
      argTypes[i] = bound;
    }
    fn.setType(FunctionType::get(&getContext(), argTypes, fn.getResultTypes()));

    // Upstream canonicalization carries the static sizes through the body.
    RewritePatternSet patterns(&getContext());
    for (Dialect *dialect : getContext().getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : getContext().getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(fn, std::move(patterns))))
      fn.emitWarning() << "strata-bind-dims: shape refinement did not "
                          "converge; some dims may stay dynamic";

    // An entry nobody calls returns its values with their static types
    // (a single-block body's return; other signatures stay as they are).
    if (!llvm::hasSingleElement(fn.getFunctionBody()) ||
        !SymbolTable::symbolKnownUseEmpty(fn, module))
      return;
    Operation *ret = fn.getFunctionBody().front().getTerminator();
    if (!ret || !ret->hasTrait<OpTrait::ReturnLike>() ||
        ret->getNumOperands() != fn.getNumResults())
      return;
    for (OpOperand &o : ret->getOpOperands())
      if (auto cast = o.get().getDefiningOp<tensor::CastOp>())
        if (tensor::preservesStaticInformation(cast.getType(),
                                               cast.getSource().getType()))
        {
          o.set(cast.getSource());
          if (cast->use_empty())
            cast->erase();
        }
    fn.setType(FunctionType::get(&getContext(), fn.getArgumentTypes(),
                                 ret->getOperandTypes()));
  }
};

} // namespace
