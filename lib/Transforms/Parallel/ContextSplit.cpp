//===- ContextSplit.cpp - Context parallelism in strata-parallelize -------===//

#include "ContextSplit.h"
#include "ProjectionMatch.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

#include <algorithm>

using namespace mlir;

namespace strata::parallel {

std::optional<AttentionLoops>
matchAttentionContraction(linalg::LinalgOp op, int64_t seq) {
  // Projections and weight gradients (strata.projection) are token-local.
  if (seq <= 1 || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op->hasAttr("strata.projection"))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    unsigned n = map.getNumResults();
    if (n < 2)
      continue;
    auto q = dyn_cast<AffineDimExpr>(map.getResult(n - 2));
    auto k = dyn_cast<AffineDimExpr>(map.getResult(n - 1));
    if (!q || !k || q.getPosition() == k.getPosition() ||
        ranges[q.getPosition()] != seq || ranges[k.getPosition()] != seq)
      continue;
    return AttentionLoops{q.getPosition(), k.getPosition()};
  }
  return std::nullopt;
}

unsigned annotateAttention(FunctionOpInterface fn, int64_t seq,
                           const ContextSplitAxes &axes) {
  MLIRContext *ctx = fn->getContext();
  unsigned annotated = 0;
  SmallVector<linalg::LinalgOp> ops;
  fn.getFunctionBody().walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  // One operand's layout: the batch (dimension 0) over the data axes, the
  // KV heads over tp (a [batch, kv_heads, group, q, k] score: dimension 1;
  // a [batch, seq, kv_heads, ...] activation: dimension 2; with a single KV
  // head the query group dimension after it, K and V replicated), and
  // `seqDim` over cp when >= 0.
  auto layout = [&](RankedTensorType type, bool score, int64_t seqDim) {
    SmallVector<SmallVector<int16_t>> dims(type.getRank());
    dims[0].append(axes.dataAxes.begin(), axes.dataAxes.end());
    unsigned head = score ? 1 : 2;
    if (!axes.tpAxes.empty() && head < type.getRank()) {
      if (axes.kvHeads > 1 && type.getDimSize(head) == axes.kvHeads &&
          axes.kvHeads % axes.tp == 0)
        dims[head].append(axes.tpAxes.begin(), axes.tpAxes.end());
      else if (axes.kvHeads == 1 && head + 1 < type.getRank() &&
               type.getDimSize(head) == 1 &&
               type.getDimSize(head + 1) == axes.heads)
        dims[head + 1].append(axes.tpAxes.begin(), axes.tpAxes.end());
    }
    if (seqDim >= 0)
      dims[seqDim].append(axes.cpAxes.begin(), axes.cpAxes.end());
    SmallVector<shard::GridAxesAttr> split;
    for (auto &d : dims) {
      llvm::sort(d);
      split.push_back(DenseI16ArrayAttr::get(ctx, d));
    }
    while (split.size() > 1 && split.back().empty())
      split.pop_back();
    return split;
  };
  for (linalg::LinalgOp op : ops) {
    std::optional<AttentionLoops> loops = matchAttentionContraction(op, seq);
    if (!loops)
      continue;
    // Where the query and key loops index an operand, by tensor dimension.
    auto dimOf = [&](AffineMap map, unsigned loop) -> int64_t {
      for (auto [i, e] : llvm::enumerate(map.getResults()))
        if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == loop)
          return int64_t(i);
      return -1;
    };
    auto layoutOf = [&](OpOperand &operand)
        -> std::optional<SmallVector<shard::GridAxesAttr>> {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || type.getRank() < 3)
        return std::nullopt;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      int64_t q = dimOf(map, loops->query), k = dimOf(map, loops->key);
      // Queries, scores and outputs keep their sequence split over cp; K
      // and V (indexed by the key loop alone) are read whole: gathered.
      // A [batch, seq, kv_heads, ...] activation has its sequence at
      // dimension 1; scores and their row statistics ([batch, kv_heads,
      // group, q(, k)]) have the heads there.
      int64_t first = q >= 0 && k >= 0 ? std::min(q, k) : std::max(q, k);
      return layout(type, first != 1, q);
    };
    OpBuilder b(op);
    Location loc = op.getLoc();
    for (OpOperand *input : op.getDpsInputOperands()) {
      std::optional<SmallVector<shard::GridAxesAttr>> split = layoutOf(*input);
      if (!split)
        continue;
      Value s = shard::ShardingOp::create(b, loc, axes.grid, *split);
      input->set(shard::ShardOp::create(b, loc, input->get(), s,
                                        /*annotate_for_users=*/true));
      ++annotated;
    }
    // The result in the op's own layout: split over cp where it is indexed
    // by the queries, whole (reduced over cp) where only by the keys (dK,
    // dV: the queries are their reduction).
    std::optional<SmallVector<shard::GridAxesAttr>> split =
        layoutOf(*op.getDpsInitOperand(0));
    if (!split)
      continue;
    b.setInsertionPointAfter(op);
    Value result = op->getResult(0);
    Value s = shard::ShardingOp::create(b, loc, axes.grid, *split);
    auto annotation = shard::ShardOp::create(b, loc, result, s);
    result.replaceAllUsesExcept(annotation, annotation);
  }
  return annotated;
}

} // namespace strata::parallel
