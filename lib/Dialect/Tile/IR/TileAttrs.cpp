//===- TileAttrs.cpp - Tile dialect attributes ----------------------------===//

#include "strata/Dialect/Tile/IR/TileAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace strata::tile;

#include "strata/Dialect/Tile/IR/TileEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "strata/Dialect/Tile/IR/TileAttrs.cpp.inc"

void TileDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "strata/Dialect/Tile/IR/TileAttrs.cpp.inc"
      >();
}

unsigned strata::tile::getArity(MapKind kind) {
  switch (kind) {
  case MapKind::Add:
  case MapKind::Sub:
  case MapKind::Mul:
  case MapKind::Div:
  case MapKind::Max:
  case MapKind::Min:
    return 2;
  case MapKind::Fma:
    return 3;
  case MapKind::Expr:
    return 0; // variadic
  default:
    return 1;
  }
}

int64_t strata::tile::getDefaultFlopsPerElement(MapKind kind) {
  switch (kind) {
  // exp(-x), add, divide.
  case MapKind::Sigmoid:
    return 3;
  // sigmoid, then multiply by x.
  case MapKind::Silu:
    return 4;
  // tanh approximation: x^3, two multiply-adds, tanh, add, two multiplies.
  case MapKind::Gelu:
    return 8;
  // A multiply and an add, counted as two FLOP like a matmul's MAC.
  case MapKind::Fma:
    return 2;
  default:
    return 1;
  }
}
