//===- TileDialect.h - Tiles, placement, transfers --------------*- C++ -*-===//

#ifndef STRATA_DIALECT_TILE_IR_TILEDIALECT_H
#define STRATA_DIALECT_TILE_IR_TILEDIALECT_H

#include "mlir/IR/Dialect.h"

#include "strata/Dialect/Tile/IR/TileDialect.h.inc"

#endif // STRATA_DIALECT_TILE_IR_TILEDIALECT_H
