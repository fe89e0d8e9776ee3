//===- InitAll.h - Everything Strata's tools register -----------*- C++ -*-===//
//
// One registration function shared by every tool (strata-opt,
// strata-translate): Strata's dialects and passes plus only the upstream
// dialects, interfaces and passes Strata uses.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_INITALL_H
#define STRATA_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace strata {

/// Strata's dialects and the upstream ones its inputs and lowering use (func,
/// linalg, tensor, arith, math, memref, scf, bufferization, shard, tosa),
/// with the upstream sharding-interface models for them, plus the dialects
/// third-party exports carry beside them (affine, cf, complex, index, llvm,
/// ml_program, sparse_tensor, ub, vector; docs/inputs.md).
void registerAllDialects(mlir::DialectRegistry &registry);

/// Strata's passes and pipelines, plus the upstream passes it relies on
/// (canonicalize, cse, inline, sharding-propagation, shard-partition,
/// tosa-to-linalg(-named), tosa-to-arith, tosa-to-tensor, linalg passes).
void registerAllPasses();

} // namespace strata

#endif // STRATA_INITALL_H
