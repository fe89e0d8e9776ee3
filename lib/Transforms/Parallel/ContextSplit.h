//===- ContextSplit.h - Context parallelism in strata-parallelize -*- C++ -*-===//
//
// What strata-parallelize adds for a context-parallel plan (cp > 1) apart
// from the sequence split of the projections: the attention contractions
// read the keys and values of the whole sequence, so their K/V operands are
// annotated gathered over the cp axis (upstream partitions that as
// `shard.all_gather`; strata-route binds it as Llama 3's all-gather or turns
// it into Transformer Engine's ring of point-to-point hops), while the
// queries, scores and outputs keep their sequence split. docs/parallelism.md
// ("Context parallelism").
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_TRANSFORMS_PARALLEL_CONTEXTSPLIT_H
#define STRATA_LIB_TRANSFORMS_PARALLEL_CONTEXTSPLIT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <optional>

namespace strata::parallel {

/// The loops of an attention contraction: one of its operands is a score
/// tensor [..., q, k] whose last two dimensions are two distinct loops of
/// `seq` iterations (queries, keys).
struct AttentionLoops {
  unsigned query = 0, key = 0;
};

/// The query and key loops of `op` when it is an attention contraction
/// (QKᵀ, P·V, and the backward's dP, dS·K, dSᵀ·Q, Pᵀ·dO) over `seq` tokens.
std::optional<AttentionLoops> matchAttentionContraction(mlir::linalg::LinalgOp op,
                                                        int64_t seq);

struct ContextSplitAxes {
  mlir::FlatSymbolRefAttr grid;
  llvm::ArrayRef<int16_t> dataAxes, tpAxes, cpAxes;
  int64_t heads = 0, kvHeads = 0, tp = 1;
};

/// Annotates every attention contraction of `fn` (operands and result): the
/// operands indexed by the query loop (Q, dO, the scores) split over cp on
/// that dimension, those indexed by the key loop alone (K, V and their
/// saved copies in the backward) read whole over the sequence, so upstream
/// all-gathers them over cp, and the backward's dK and dV, reduced over the
/// queries, come out whole (upstream: all_reduce over cp, then the slice
/// the K/V projections read: a reduce-scatter). The batch is split over the
/// data axes and the KV heads over tp as the projections split them.
/// Returns the number of operands annotated.
unsigned annotateAttention(mlir::FunctionOpInterface fn, int64_t seq,
                           const ContextSplitAxes &axes);

} // namespace strata::parallel

#endif // STRATA_LIB_TRANSFORMS_PARALLEL_CONTEXTSPLIT_H
