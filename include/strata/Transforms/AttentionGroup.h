//===- AttentionGroup.h - Attention groups and their tile lowering -*- C++
//-*-===//
//
// The attention group strata-fuse recognises (Q·Kᵀ -> softmax chain -> P·V)
// and the strata-tile step that lowers a fused group to one tile.kernel.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TRANSFORMS_ATTENTIONGROUP_H
#define STRATA_TRANSFORMS_ATTENTIONGROUP_H

#include "strata/Cost/CostModel.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"

#include <optional>

namespace strata {

/// One Q·Kᵀ -> mask/softmax -> P·V group and the attention it computes.
struct AttentionGroup {
  mlir::linalg::LinalgOp scores;            ///< Q·Kᵀ
  mlir::linalg::LinalgOp output;            ///< P·V
  llvm::SetVector<mlir::Operation *> chain; ///< everything in between
  cost::AttentionWork work;
  /// Q·Kᵀ's loop that walks query positions (an M dim).
  unsigned positionDim = 0;
  /// A decode step (one query position) whose grouped query heads share
  /// each K/V head as the rows of one block (`work.qLen` = the group size).
  bool decodeGroup = false;
};

/// The group whose P·V is `pv`, walking back from P through linalg ops and
/// reshapes to the one contraction Q·Kᵀ; nullopt when `pv` is not one.
/// With `allowSaved`, intermediates may also leave the group through the
/// function's return (a training forward saving P for the backward); they
/// are listed in `saved`.
std::optional<AttentionGroup> matchAttentionGroup(mlir::linalg::LinalgOp pv,
                                                  bool allowSaved = false);
/// The intermediates of the group a `allowSaved` match let leave it.
llvm::SmallVector<mlir::Value>
savedIntermediates(const AttentionGroup &g);

/// One attention backward group, FlashAttention-2 style: from Q, K, V, dO
/// and the forward's P to dQ, dK, dV, with
///   dP = dO·Vᵀ,  dS = P∘(dP − rowsum(dP∘P)) (rowsum(dO∘O) is the same
///   row vector) scaled and masked,  dQ = dS·K,  dK = dSᵀ·Q,  dV = Pᵀ·dO.
/// Fused, S and P are recomputed per tile from Q, K and the row statistics,
/// dP and dS never leave the core, and dK/dV accumulate per K/V block.
struct AttentionBackwardGroup {
  mlir::linalg::LinalgOp dq;                ///< dS·K (the root)
  mlir::linalg::LinalgOp dk;                ///< dSᵀ·Q
  mlir::linalg::LinalgOp dv;                ///< Pᵀ·dO
  mlir::linalg::LinalgOp dp;                ///< dO·Vᵀ
  mlir::Value probs;                        ///< P as the forward saved it
  llvm::SetVector<mlir::Operation *> chain; ///< dP -> dS, fills
  cost::AttentionWork work;                 ///< backward = true
};

/// The backward group whose dQ contraction is `dq`; nullopt when it is not
/// one.
std::optional<AttentionBackwardGroup>
matchAttentionBackward(mlir::linalg::LinalgOp dq);

/// Rewrites every group strata-fuse marked (strata.fused_attention) into
/// one tile.kernel holding the flash schedule CostModel::planAttention
/// priced; a group whose operands it cannot tile stays as it is (remark).
void lowerFusedAttention(mlir::ModuleOp module, const cost::CostModel &model,
                         const hw::System &sys);

} // namespace strata

#endif // STRATA_TRANSFORMS_ATTENTIONGROUP_H
