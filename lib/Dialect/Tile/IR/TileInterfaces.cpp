//===- TileInterfaces.cpp - Tile dialect interfaces -----------------------===//
//
// The generated interface definitions. getStaticExecutionCount, which the
// interface's default getExecutionCount calls, lives in TileOps.cpp beside
// the loop and spread ops it reads.
//
//===----------------------------------------------------------------------===//

#include "strata/Dialect/Tile/IR/TileInterfaces.h"

#include "strata/Dialect/Tile/IR/TileInterfaces.cpp.inc"
