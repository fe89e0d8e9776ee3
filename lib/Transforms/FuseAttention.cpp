//===- FuseAttention.cpp - Flash-style attention fusion -------------------===//
//
// Finds Q·Kᵀ -> softmax chain -> P·V in linalg and, when the cost model
// prices the fused schedule below the unfused ops, marks the group so the
// estimate prices one flash-style kernel (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Transforms/AttentionGroup.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"

namespace strata {
#define GEN_PASS_DEF_STRATAFUSEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

bool bodyHas(linalg::LinalgOp op, llvm::function_ref<bool(Operation &)> f) {
  for (Operation &inner : op.getBlock()->getOperations())
    if (f(inner))
      return true;
  return false;
}

bool isContraction(Operation *op) {
  auto l = dyn_cast<linalg::LinalgOp>(op);
  return l && linalg::isaContractionOpInterface(l);
}

} // namespace

/// Walks back from P·V's P operand to the Q·Kᵀ contraction.
std::optional<AttentionGroup> strata::matchAttentionGroup(linalg::LinalgOp pv) {
  if (!isContraction(pv) || pv.getNumDpsInputs() != 2)
    return std::nullopt;
  AttentionGroup g;
  g.output = pv;
  SmallVector<Value> worklist = {pv.getDpsInputs()[0]};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (!def || g.chain.contains(def) || def == g.scores)
      continue;
    if (isContraction(def)) {
      if (g.scores && g.scores != def)
        return std::nullopt; // two contractions feed the softmax
      g.scores = cast<linalg::LinalgOp>(def);
      continue;
    }
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      g.chain.insert(def);
      worklist.push_back(def->getOperand(0));
      continue;
    }
    auto l = dyn_cast<linalg::LinalgOp>(def);
    if (!l)
      continue; // a mask or scale from outside: an input of the kernel
    if (g.chain.size() > 24)
      return std::nullopt;
    g.chain.insert(def);
    for (Value in : l.getDpsInputs())
      worklist.push_back(in);
    // Reduction inits (fills) belong to the group too.
    for (Value init : l.getDpsInits())
      if (auto fill = init.getDefiningOp<linalg::FillOp>())
        g.chain.insert(fill);
  }
  if (!g.scores)
    return std::nullopt;
  // The accumulator fills of both contractions go with them.
  for (linalg::LinalgOp c : {g.scores, pv})
    for (Value init : c.getDpsInits())
      if (auto fill = init.getDefiningOp<linalg::FillOp>())
        g.chain.insert(fill);
  bool hasExp = llvm::any_of(g.chain, [](Operation *op) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && bodyHas(l, [](Operation &o) { return isa<math::ExpOp>(o); });
  });
  if (!hasExp)
    return std::nullopt;
  // Fusion drops the intermediates: nothing outside may use them.
  llvm::SmallPtrSet<Operation *, 32> members(g.chain.begin(), g.chain.end());
  members.insert(g.scores);
  members.insert(pv);
  for (Operation *op : members) {
    if (op == pv.getOperation())
      continue;
    for (Operation *user : op->getUsers())
      if (!members.contains(user))
        return std::nullopt;
  }

  // Shape: Q·Kᵀ's batch dims are (batch x KV heads); its M dims are the
  // grouped query heads and the query positions (last); N the keys, K the
  // head dim.
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(g.scores);
  SmallVector<int64_t> ranges = g.scores.getStaticLoopRanges();
  if (failed(dims) || dims->k.empty() || dims->m.empty() ||
      dims->n.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  auto product = [&](ArrayRef<unsigned> loops) {
    int64_t p = 1;
    for (unsigned l : loops)
      p *= ranges[l];
    return p;
  };
  // The query-position dim: the M dim that comes last in the scores' map.
  AffineMap outMap = g.scores.getIndexingMapsArray().back();
  unsigned posDim = dims->m.back();
  for (AffineExpr e : outMap.getResults())
    if (auto d = dyn_cast<AffineDimExpr>(e))
      if (llvm::is_contained(dims->m, d.getPosition()))
        posDim = d.getPosition();
  g.positionDim = posDim;
  int64_t qLen = ranges[posDim];
  int64_t groupHeads = product(dims->m) / qLen;
  int64_t kvGroups = product(dims->batch);
  std::optional<analysis::OpCounts> counts = analysis::countOp(g.scores);
  if (!counts)
    return std::nullopt;
  bool masked = llvm::any_of(g.chain, [](Operation *op) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && bodyHas(l, [](Operation &o) {
             return isa<linalg::IndexOp>(o);
           });
  });
  cost::AttentionWork &w = g.work;
  w.batch = 1;
  w.kvHeads = kvGroups;
  w.headDim = product(dims->k);
  w.kvLen = product(dims->n);
  w.dtype = counts->dtype;
  if (qLen == 1) {
    // Decode: the grouped heads' single queries share K/V: one block.
    w.heads = kvGroups;
    w.qLen = groupHeads;
    w.causal = false;
  } else {
    w.heads = kvGroups * groupHeads;
    w.qLen = qLen;
    w.causal = masked;
  }
  return g;
}

namespace {

struct FusePass : strata::impl::StrataFusePassBase<FusePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    Builder b(module.getContext());

    SmallVector<linalg::LinalgOp> roots;
    module.walk([&](linalg::LinalgOp op) { roots.push_back(op); });
    if (attention)
      fuseAttention(roots, model, b);
    if (epilogues)
      fuseEpilogues(roots, model, b);
  }

  /// Elementwise consumers folded into the contraction that feeds them.
  void fuseEpilogues(ArrayRef<linalg::LinalgOp> ops,
                     const cost::CostModel &model, Builder &b) {
    auto price = [&](Operation *op) -> std::optional<cost::Estimate> {
      std::optional<analysis::OpCounts> c = analysis::countOp(op);
      return c ? analysis::estimateOp(op, *c, model) : std::nullopt;
    };
    for (linalg::LinalgOp producer : ops) {
      if (!isContraction(producer) || producer->getNumResults() != 1 ||
          producer->hasAttr(analysis::kFusedIntoAttrName) ||
          producer->hasAttr(analysis::kFusedAttentionAttrName) ||
          producer->hasAttr(analysis::kEpilogueAttrName) ||
          !producer->getResult(0).hasOneUse())
        continue;
      auto consumer =
          dyn_cast<linalg::LinalgOp>(*producer->getResult(0).user_begin());
      if (!consumer || isContraction(consumer) ||
          consumer.getNumReductionLoops() != 0 ||
          consumer->getNumResults() != 1 ||
          consumer->hasAttr(analysis::kFusedIntoAttrName) ||
          consumer->getResult(0).getType() != producer->getResult(0).getType())
        continue;
      std::optional<analysis::OpCounts> pc = analysis::countOp(producer);
      std::optional<analysis::OpCounts> cc = analysis::countOp(consumer);
      std::optional<cost::Estimate> pe = price(producer), ce = price(consumer);
      if (!pc || !cc || !pe || !ce)
        continue;
      // The intermediate no longer goes to home and back.
      cost::VectorWork extra;
      extra.flops = cc->flops;
      extra.transcendentals = cc->transcendentals;
      extra.dtype = cc->dtype;
      extra.bytesRead = std::max(0.0, cc->bytesRead - pc->bytesWritten);
      extra.bytesWritten = std::max(0.0, cc->bytesWritten - pc->bytesWritten);
      cost::Estimate fused = model.withEpilogue(*pe, extra);
      if (fused.time >= pe->time + ce->time)
        continue;
      producer->setAttr(
          analysis::kEpilogueAttrName,
          b.getDictionaryAttr({
              b.getNamedAttr("bytes_read", b.getI64IntegerAttr(
                                               int64_t(extra.bytesRead))),
              b.getNamedAttr("bytes_written", b.getI64IntegerAttr(int64_t(
                                                  extra.bytesWritten))),
              b.getNamedAttr("flops",
                             b.getI64IntegerAttr(int64_t(extra.flops))),
              b.getNamedAttr("transcendentals",
                             b.getI64IntegerAttr(
                                 int64_t(extra.transcendentals))),
          }));
      consumer->setAttr(analysis::kFusedIntoAttrName,
                        b.getStringAttr(analysis::reportName(producer)));
    }
  }

  /// Q·Kᵀ -> softmax -> P·V groups priced as one flash-style kernel.
  void fuseAttention(ArrayRef<linalg::LinalgOp> roots,
                     const cost::CostModel &model, Builder &b) {
    for (linalg::LinalgOp pv : roots) {
      if (pv->hasAttr(analysis::kFusedIntoAttrName))
        continue;
      std::optional<AttentionGroup> g = matchAttentionGroup(pv);
      if (!g)
        continue;
      // f32 scores at TF32 where the module allows it (f32-matmul=tf32).
      if (std::optional<analysis::OpCounts> c = analysis::countOp(g->scores))
        g->work.dtype = analysis::pricedDType(g->scores, *c, model.system());
      // Ask the cost model: fused flash-style kernel vs the ops as they are.
      cost::Estimate fused = model.attention(g->work);
      double unfused = 0;
      auto add = [&](Operation *op) {
        if (std::optional<analysis::OpCounts> c = analysis::countOp(op))
          if (std::optional<cost::Estimate> e =
                  analysis::estimateOp(op, *c, model))
            unfused += e->time;
      };
      add(g->scores);
      for (Operation *op : g->chain)
        add(op);
      add(pv);
      if (fused.time <= 0 || fused.time >= unfused) {
        pv->emitRemark() << "attention left unfused: fused "
                         << fused.time * 1e6 << " us vs unfused "
                         << unfused * 1e6 << " us";
        continue;
      }
      const cost::AttentionWork &w = g->work;
      pv->setAttr(analysis::kFusedAttentionAttrName,
                  b.getDictionaryAttr({
                      b.getNamedAttr("batch", b.getI64IntegerAttr(w.batch)),
                      b.getNamedAttr("causal", b.getBoolAttr(w.causal)),
                      b.getNamedAttr("head_dim",
                                     b.getI64IntegerAttr(w.headDim)),
                      b.getNamedAttr("heads", b.getI64IntegerAttr(w.heads)),
                      b.getNamedAttr("kv_heads",
                                     b.getI64IntegerAttr(w.kvHeads)),
                      b.getNamedAttr("kv_len", b.getI64IntegerAttr(w.kvLen)),
                      b.getNamedAttr("q_len", b.getI64IntegerAttr(w.qLen)),
                  }));
      StringAttr root = b.getStringAttr(analysis::reportName(pv));
      g->scores->setAttr(analysis::kFusedIntoAttrName, root);
      for (Operation *op : g->chain)
        op->setAttr(analysis::kFusedIntoAttrName, root);
    }
  }
};

} // namespace
