//===- TileOpsDetail.h - Verifier helpers shared by the tile op files -----===//
//
// The checks TileOps.cpp and TileNetworkOps.cpp (the ops that move data
// between cores) both make. Private to the dialect library.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_DIALECT_TILE_IR_TILEOPSDETAIL_H
#define STRATA_LIB_DIALECT_TILE_IR_TILEOPSDETAIL_H

#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Tile/IR/TileTypes.h"

#include "mlir/IR/Operation.h"

#include <string>

namespace strata::tile::detail {

/// "128x64": a shape as written in types, for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// The chip of the module's `arch.system`, or null when none is attached
/// (system checks are then skipped).
arch::ChipAttr getTargetChip(mlir::Operation *op);
/// The memory level of `chip` named `name`, or null.
arch::LevelAttr findLevel(arch::ChipAttr chip, llvm::StringRef name);
/// Every buffer the op touches is placed in a level of the target chip.
mlir::LogicalResult verifyBufferLevels(mlir::Operation *op);
/// A payload `bytes` attribute against the bytes the types imply.
mlir::LogicalResult verifyPayload(mlir::Operation *op, int64_t bytes,
                                  mlir::ShapedType payload);
/// The two sides of a tile transfer agree (element type, ranks, indices).
mlir::LogicalResult verifyTileTransfer(mlir::Operation *op, BufType source,
                                       size_t numSourceIndices, BufType dest,
                                       size_t numDestIndices);

} // namespace strata::tile::detail

#endif // STRATA_LIB_DIALECT_TILE_IR_TILEOPSDETAIL_H
