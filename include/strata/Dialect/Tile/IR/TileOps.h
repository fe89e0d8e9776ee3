//===- TileOps.h - Tile dialect operations ----------------------*- C++ -*-===//
//
// The ops of the tile dialect: structure (kernel, spread, loop, yield),
// buffers and transfers (alloc, copy, wait, noc_copy), compute (mma, map,
// reduce) and interconnect (collective, send, recv). Include this header to
// use the dialect; it pulls in the types, attributes and interfaces.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_TILE_IR_TILEOPS_H
#define STRATA_DIALECT_TILE_IR_TILEOPS_H

#include "strata/Dialect/Tile/IR/TileAttrs.h"
#include "strata/Dialect/Tile/IR/TileDialect.h"
#include "strata/Dialect/Tile/IR/TileInterfaces.h"
#include "strata/Dialect/Tile/IR/TileTypes.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "strata/Dialect/Tile/IR/TileOps.h.inc"

#endif // STRATA_DIALECT_TILE_IR_TILEOPS_H
