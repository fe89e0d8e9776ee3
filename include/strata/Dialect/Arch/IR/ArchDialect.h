//===- ArchDialect.h - Hardware description dialect -------------*- C++ -*-===//

#ifndef STRATA_DIALECT_ARCH_IR_ARCHDIALECT_H
#define STRATA_DIALECT_ARCH_IR_ARCHDIALECT_H

#include "mlir/IR/Dialect.h"

#include "strata/Dialect/Arch/IR/ArchDialect.h.inc"

#endif // STRATA_DIALECT_ARCH_IR_ARCHDIALECT_H
