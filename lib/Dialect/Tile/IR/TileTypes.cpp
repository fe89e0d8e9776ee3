//===- TileTypes.cpp - Tile dialect types ---------------------------------===//

#include "strata/Dialect/Tile/IR/TileTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace strata::tile;

#define GET_TYPEDEF_CLASSES
#include "strata/Dialect/Tile/IR/TileTypes.cpp.inc"

void TileDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "strata/Dialect/Tile/IR/TileTypes.cpp.inc"
      >();
}

int64_t strata::tile::getSizeInBytes(int64_t numElements, Type elementType) {
  int64_t bits = elementType.getIntOrFloatBitWidth();
  return (numElements * bits + 7) / 8;
}

int64_t strata::tile::getSizeInBytes(ShapedType type) {
  return getSizeInBytes(type.getNumElements(), type.getElementType());
}

//===----------------------------------------------------------------------===//
// BufType
//===----------------------------------------------------------------------===//

// `<` 128x64xbf16 `,` "smem" `>`: the shape reads like a tensor's so a
// buffer and the tensor it holds a tile of look alike.
Type BufType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  std::string level;
  llvm::SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseComma() ||
      parser.parseString(&level) || parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    shape, elementType, level);
}

void BufType::print(AsmPrinter &printer) const {
  printer << '<';
  for (int64_t dim : getShape())
    printer << dim << 'x';
  printer << getElementType() << ", \"" << getLevel() << "\">";
}

LogicalResult BufType::verify(function_ref<InFlightDiagnostic()> emitError,
                              ArrayRef<int64_t> shape, Type elementType,
                              StringRef level) {
  if (shape.empty())
    return emitError() << "a tile buffer needs at least one dimension";
  if (llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "tile buffer dimensions must be static and "
                          "positive";
  if (!elementType.isIntOrFloat())
    return emitError() << "tile buffer elements must be integers or floats, "
                          "got "
                       << elementType;
  if (level.empty())
    return emitError() << "tile buffer needs a memory level name";
  return success();
}

ShapedType BufType::cloneWith(std::optional<ArrayRef<int64_t>> shape,
                              Type elementType) const {
  return BufType::get(getContext(), shape ? *shape : getShape(), elementType,
                      getLevel());
}

int64_t BufType::getSizeInBytes() const {
  return strata::tile::getSizeInBytes(ShapedType::getNumElements(getShape()),
                                      getElementType());
}
