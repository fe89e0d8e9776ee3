//===- ProjectionMatch.h - What strata-parallelize recognises ---*- C++ -*-===//
//
// The pieces of the program strata-parallelize reasons about, apart from how
// it annotates them: the model dimensions a plan must respect, projections
// (a contraction reading a weight argument) and their expert loops, and why
// upstream shard-partition could not partition an op.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_TRANSFORMS_PARALLEL_PROJECTIONMATCH_H
#define STRATA_LIB_TRANSFORMS_PARALLEL_PROJECTIONMATCH_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <optional>
#include <string>

namespace strata::parallel {

inline constexpr llvm::StringLiteral kModelAttr = "strata.model";
inline constexpr llvm::StringLiteral kRoleAttr = "strata.role";

/// The model dimensions the plan must respect, from `strata.model`.
struct ModelDims {
  std::optional<int64_t> heads, kvHeads, layers, experts;
  /// `weight_dtype`: the stored weights' format (bf16, int4-g128, mxfp4...).
  std::string weightFormat;
  /// Whether weights are stored with scales and dequantised in their
  /// projections (three-input contractions: activation, weight, scales).
  bool dequantisingWeights() const;
};

ModelDims readModelDims(mlir::ModuleOp module);

/// A contraction whose second input is a weight: `act x weight -> out`.
struct Projection {
  mlir::linalg::LinalgOp op;
  unsigned weightInput = 1;
  bool rowParallel = false;
  /// The weight dimension tp splits when an earlier projection on the same
  /// weight fixed it.
  std::optional<unsigned> splitWeightDim;
  /// Whole on every tp rank (analysis::kTpReplicatedAttrName, or a weight
  /// an earlier such projection read): its output is not tp-split.
  bool replicated = false;
  /// Per head: its tp-split input's head loop also indexes the weight and
  /// the output (MLA's weight-absorbed K and V up-projections, [.., heads,
  /// ..] x [latent, heads, ..]); tp splits that loop, the output stays
  /// split and nothing is reduced.
  bool headParallel = false;
};

/// Whether `proj` runs per expert: a parallel loop indexing its activation,
/// its weight and its result (the MoE experts' batch matmuls over
/// [experts, capacity, ...]). Their operands are the dispatched tokens, not
/// the residual stream, so sequence parallelism does not split them.
bool hasExpertLoop(const Projection &proj);

/// The weight input of `op`, if it has one: a two-input linalg contraction
/// (at least one reduction loop) one of whose inputs is an argument of the
/// enclosing function marked `strata.role = "weight"`; in functions whose
/// arguments carry no role, the second input when it is an argument.
std::optional<unsigned> findWeightInput(mlir::linalg::LinalgOp op,
                                        mlir::FunctionOpInterface fn,
                                        bool fnHasRoles);

/// The value `v` annotations were put on, looking through them.
mlir::Value unannotated(mlir::Value v);

/// Why upstream shard-partition cannot partition `op`, or empty if it can.
std::string unpartitionableReason(mlir::Operation *op);

} // namespace strata::parallel

#endif // STRATA_LIB_TRANSFORMS_PARALLEL_PROJECTIONMATCH_H
