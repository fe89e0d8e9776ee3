//===- TileAttrs.h - Tile dialect attributes --------------------*- C++ -*-===//
//
// The enums of the tile dialect (map, reduce and collective kinds, NoC
// modes, collective algorithms) and their attributes.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_TILE_IR_TILEATTRS_H
#define STRATA_DIALECT_TILE_IR_TILEATTRS_H

#include "strata/Dialect/Tile/IR/TileDialect.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "strata/Dialect/Tile/IR/TileEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "strata/Dialect/Tile/IR/TileAttrs.h.inc"

namespace strata::tile {

/// Inputs a `tile.map` of this kind takes (1, 2 or 3; 0 for `expr`, which
/// takes any number).
unsigned getArity(MapKind kind);

/// FLOP per output element of a `tile.map` of this kind when the op gives no
/// `flops(n)`: 1 for simple arithmetic and single transcendentals, more for
/// composites (sigmoid 3, silu 4, gelu 8, fma 2). Documented in
/// docs/tile-dialect.md.
int64_t getDefaultFlopsPerElement(MapKind kind);

} // namespace strata::tile

#endif // STRATA_DIALECT_TILE_IR_TILEATTRS_H
