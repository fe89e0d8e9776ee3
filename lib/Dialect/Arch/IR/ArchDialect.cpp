//===- ArchDialect.cpp - Hardware description dialect ---------------------===//

#include "strata/Dialect/Arch/IR/ArchDialect.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace strata::arch;

#include "strata/Dialect/Arch/IR/ArchDialect.cpp.inc"

void ArchDialect::initialize() { registerAttributes(); }

LogicalResult ArchDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() != kSystemAttrName)
    return op->emitError() << "unknown arch dialect attribute '"
                           << attr.getName().getValue() << "'";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'" << kSystemAttrName
                           << "' may only be attached to a module";
  if (!isa<SystemAttr>(attr.getValue()))
    return op->emitError() << "'" << kSystemAttrName
                           << "' must be an #arch.system attribute";
  return success();
}
