//===- RetileContractions.h - Re-plan contraction kernels for residency ---===//
//
// strata-tile chooses a contraction's tiles as if every operand crossed
// home; once strata-residency keeps some of them in the grid's SRAM, the
// cheapest tiling is another one (the bound moves from home traffic to the
// cores). This step re-plans such kernels with the cost model, knowing
// which operands are resident and how much SRAM per core they leave free.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TRANSFORMS_RETILECONTRACTIONS_H
#define STRATA_TRANSFORMS_RETILECONTRACTIONS_H

#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Tile/IR/TileOps.h"

namespace strata {

/// Re-plans the contraction schedule strata-tile wrote into `kernel`
/// (spread { acc, A and B buffers, fill, K loop { copy A, copy B, wait,
/// mma }, cast, store }) with its `resident` operands on chip and at most
/// `stagingBudget` bytes per core of the staging level, and rewrites the
/// schedule's tile shapes, grid rectangle, multicasts and buffering when
/// the estimate of the new schedule is lower. Returns the kernel now in
/// the IR (a new op when retiled); a kernel of any other shape is returned
/// unchanged.
tile::KernelOp retileResidentContraction(tile::KernelOp kernel,
                                         const cost::CostModel &model,
                                         double stagingBudget);

} // namespace strata

#endif // STRATA_TRANSFORMS_RETILECONTRACTIONS_H
