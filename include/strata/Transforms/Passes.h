//===- Passes.h - Strata passes ---------------------------------*- C++ -*-===//

#ifndef STRATA_TRANSFORMS_PASSES_H
#define STRATA_TRANSFORMS_PASSES_H

#include "strata/Dialect/Arch/IR/ArchDialect.h"
#include "strata/Dialect/Tile/IR/TileDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace strata {

#define GEN_PASS_DECL
#include "strata/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "strata/Transforms/Passes.h.inc"

/// Registers `strata-pipeline`, the end-to-end pipeline (Pipeline.cpp).
void registerStrataPipeline();

} // namespace strata

#endif // STRATA_TRANSFORMS_PASSES_H
