//===- TileDialect.cpp - Tiles, placement, transfers ----------------------===//

#include "strata/Dialect/Tile/IR/TileDialect.h"
#include "strata/Dialect/Tile/IR/TileOps.h"

using namespace mlir;
using namespace strata::tile;

#include "strata/Dialect/Tile/IR/TileDialect.cpp.inc"

void TileDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "strata/Dialect/Tile/IR/TileOps.cpp.inc"
      >();
}
