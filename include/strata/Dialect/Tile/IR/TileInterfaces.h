//===- TileInterfaces.h - Tile dialect interfaces ---------------*- C++ -*-===//
//
// TileCostOpInterface: what one execution of a tile op costs (FLOP on a
// unit, bytes between levels, over the NoC or a fabric) and how many times
// it executes, so the cost model walks a schedule without per-op switches.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_TILE_IR_TILEINTERFACES_H
#define STRATA_DIALECT_TILE_IR_TILEINTERFACES_H

#include "mlir/IR/OpDefinition.h"

#include <utility>

namespace strata::tile {

/// The hardware resource a tile op occupies while it executes.
enum class CostKind {
  Compute, ///< a compute unit (getComputeUnit names it)
  Dma,     ///< the memory system, between two levels (getTransferLevels)
  Noc,     ///< the chip's on-chip network, core to core
  Fabric,  ///< a multi-chip fabric (getFabric names it)
};

/// Times `op` executes in its schedule: the product of the trip counts of
/// every enclosing `tile.loop` and `tile.spread` (1 outside any).
int64_t getStaticExecutionCount(mlir::Operation *op);

} // namespace strata::tile

#include "strata/Dialect/Tile/IR/TileInterfaces.h.inc"

#endif // STRATA_DIALECT_TILE_IR_TILEINTERFACES_H
