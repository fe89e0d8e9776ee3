//===- TileVectorOps.h - Elementwise and reduction ops to tile IR -*- C++
//-*-===//
//
// The strata-tile step that lowers the linalg ops contractions leave behind
// (elementwise maps, last-dim reductions, copies and transposes, fills) to
// tile.kernels whose blocking the cost model chose.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TRANSFORMS_TILEVECTOROPS_H
#define STRATA_TRANSFORMS_TILEVECTOROPS_H

#include "strata/Cost/CostModel.h"

#include "mlir/IR/BuiltinOps.h"

namespace strata {

/// Rewrites every elementwise, reduction, copy and fill linalg op of
/// `module` that no other pass owns (not in a tile.kernel, not marked by
/// strata-fuse) into a tile.kernel: parallel loops spread over the cores,
/// row blocks streamed through the staging level by a pipelined tile.loop,
/// tile.map / tile.reduce on the vector unit. The blocking is the candidate
/// CostModel::kernel prices cheapest. Ops it cannot express stay linalg
/// with a remark saying why.
void tileVectorOps(mlir::ModuleOp module, const cost::CostModel &model,
                   const hw::System &sys);

} // namespace strata

#endif // STRATA_TRANSFORMS_TILEVECTOROPS_H
