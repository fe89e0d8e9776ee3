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
};

/// The group whose P·V is `pv`, walking back from P through linalg ops and
/// reshapes to the one contraction Q·Kᵀ; nullopt when `pv` is not one.
std::optional<AttentionGroup> matchAttentionGroup(mlir::linalg::LinalgOp pv);

/// Rewrites every group strata-fuse marked (strata.fused_attention) into
/// one tile.kernel holding the flash schedule CostModel::planAttention
/// priced; a group whose operands it cannot tile stays as it is (remark).
void lowerFusedAttention(mlir::ModuleOp module, const cost::CostModel &model,
                         const hw::System &sys);

} // namespace strata

#endif // STRATA_TRANSFORMS_ATTENTIONGROUP_H
