//===- ContextParallelCost.h - Attention under context parallelism -*- C++ -*-===//
//
// How the estimate prices a fused attention group of a context-parallel
// plan (strata.parallel cp > 1): the rank's seq/cp queries against the whole
// sequence's keys under the causal zigzag split, and, with cp_comm = p2p,
// the ring's point-to-point K/V hops overlapped with it — the cost core's
// estimateRingAttention (lib/Cost/ContextParallel.cpp) over one unmasked
// block priced by CostModel::attention and one hop priced by
// CostModel::collective (SendRecv on the cp fabric).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_ANALYSIS_CONTEXTPARALLELCOST_H
#define STRATA_LIB_ANALYSIS_CONTEXTPARALLELCOST_H

#include "strata/Cost/CostModel.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace strata::analysis {

/// The cp plan of `op`'s module: degree, whether the K/V travel by ring
/// (p2p) and the topology index of the cp axis's fabric.
struct ContextPlan {
  int64_t cp = 1;
  bool ring = true;
  int fabric = 0;
};
std::optional<ContextPlan> contextPlanOf(mlir::Operation *op,
                                         const hw::System &sys);

/// The estimate of fused attention `w` (q_len = seq/cp, kv_len = seq) under
/// `plan`, or nullopt when `w` is not a context-parallel attention.
std::optional<cost::Estimate>
estimateContextParallelAttention(const cost::AttentionWork &w,
                                 const ContextPlan &plan,
                                 const cost::CostModel &model);

/// Whether `op` is one of the ring's K/V (or dK/dV) exchanges, which the
/// attention it feeds prices (strata.cp_ring on a routed collective).
bool isContextRingExchange(mlir::Operation *op);

} // namespace strata::analysis

#endif // STRATA_LIB_ANALYSIS_CONTEXTPARALLELCOST_H
