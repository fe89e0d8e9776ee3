//===- TileTypes.h - Tile dialect types -------------------------*- C++ -*-===//
//
// `!tile.buf<shape x elt, "level">` (a tile placed in a memory level) and
// `!tile.token` (completion of an async transfer).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_TILE_IR_TILETYPES_H
#define STRATA_DIALECT_TILE_IR_TILETYPES_H

#include "strata/Dialect/Tile/IR/TileDialect.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "strata/Dialect/Tile/IR/TileTypes.h.inc"

namespace strata::tile {

/// Bytes of `numElements` elements of `elementType`, sub-byte types packed
/// and rounded up to a whole byte.
int64_t getSizeInBytes(int64_t numElements, mlir::Type elementType);

/// Bytes of a statically shaped tensor or buffer.
int64_t getSizeInBytes(mlir::ShapedType type);

} // namespace strata::tile

#endif // STRATA_DIALECT_TILE_IR_TILETYPES_H
