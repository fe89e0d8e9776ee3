//===- OpCounts.h - FLOPs and bytes of linalg programs ----------*- C++ -*-===//
//
// The one place Strata counts work: arithmetic operations, transcendental
// operations and ideal (each operand touched once) bytes of structured ops,
// rolled up over a program by following func.call and scf.for with static
// trip counts. The workload tests (parameter/FLOP checks), the cost model and
// the reports all use these counts; nobody re-derives them.
//
// Counting convention: one multiply-accumulate is 2 FLOPs; each arith op in a
// linalg body (addf, mulf, subf, divf, maximumf, cmpf, select, ...) is one
// FLOP per iteration; math ops (exp, log, tanh, rsqrt, sqrt, erf, ...) are
// counted as transcendentals, not FLOPs. Type conversions (extf, truncf) are
// free.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_ANALYSIS_OPCOUNTS_H
#define STRATA_ANALYSIS_OPCOUNTS_H

#include "strata/Hardware/System.h"

#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <vector>
#include <optional>
#include <string>

namespace strata::analysis {

/// What kind of work a structured op is, as the cost model sees it.
enum class OpClass {
  /// Has reduction loops and a multiply-accumulate body: runs on a matrix
  /// unit (matmul, batch_matmul, transposed-map contractions, generic).
  Contraction,
  /// Only parallel loops: a vector-unit map (add, silu, cast, ...); also a
  /// contraction whose reduction covers at most kMaxElementwiseReduction
  /// elements (RoPE's 2x2 rotation of each pair).
  Elementwise,
  /// Has reduction loops but no multiply-accumulate: a vector-unit reduction
  /// (sum, max, norms' mean of squares).
  Reduction,
  /// Moves or reshapes data without arithmetic (copy, transpose, gather,
  /// fill, extract/insert_slice): costs bytes, not FLOPs.
  DataMovement,
  /// A lowered schedule (tile.kernel): priced from its tile IR.
  Kernel,
  /// Communication between devices (upstream shard collectives after
  /// shard-partition): priced on the topology's fabrics.
  Collective,
};

llvm::StringRef stringifyOpClass(OpClass cls);

/// Contractions reducing over at most this many elements are Elementwise:
/// a matrix unit would spend a whole K-step on them.
inline constexpr int64_t kMaxElementwiseReduction = 4;

/// Counts for one execution of one op.
struct OpCounts {
  OpClass cls = OpClass::Elementwise;
  /// Arithmetic operations (a MAC counts 2).
  double flops = 0;
  /// Transcendental operations (exp, log, tanh, rsqrt, erf, ...).
  double transcendentals = 0;
  /// Ideal bytes: every input read once, every output written once.
  double bytesRead = 0;
  double bytesWritten = 0;
  /// Bytes of each input operand, in operand order (structured ops only).
  llvm::SmallVector<double, 3> inputBytes;
  /// Element type of the computation (the widest input's for contractions).
  hw::DType dtype = hw::DType::bf16;
  /// For contractions: products of the loop ranges by role. C[b,m,n] +=
  /// A[b,m,k] * B[b,k,n]; batch/m/n/k are products over all loops of that
  /// role (m: parallel loops in A and C only; n: in B and C only; batch: in
  /// all three; k: reduction loops).
  int64_t batch = 1, m = 1, n = 1, k = 1;
  /// Iteration-space size (product of all loop ranges).
  double iterations = 0;
  /// A contraction that dequantises its weight as it reads it (a quantised
  /// weight and its scales, Workload's --weight-dtype): the dequantising
  /// FLOPs (once per weight element, as a kernel converts a loaded weight
  /// tile once for all its rows) and the stored elements' dtype. The
  /// weight's inputBytes include its scales'.
  double dequantFlops = 0;
  std::optional<hw::DType> storedWeightDType;
};

/// Storage bytes of one element of type `t` (sub-byte types fractional,
/// complex twice its part, index 8); 0 for types without a size.
double elementBytes(mlir::Type t);
/// The hardware dtype whose rates apply to an element type (integers at f32
/// vector rates, i4/i8 at int8, complex at its parts').
hw::DType toDType(mlir::Type t);

/// Counts one op, or std::nullopt if it is not something Strata models
/// (an op with dynamic shapes, or an unknown op with tensor results).
/// Ops with no tensor operands or results (constants, func.return, ...) are
/// modelled and count as zero.
std::optional<OpCounts> countOp(mlir::Operation *op);

/// One distinct op of a program and how many times it executes in total.
struct ProfileEntry {
  mlir::Operation *op;
  OpCounts counts;
  double times = 0;
};

/// A program as the cost model sees it: the distinct ops it executes with
/// their total execution counts, found by following func.call into callees
/// and multiplying by the static trip counts of scf.for loops. Summaries are
/// memoised per function, so 80 calls of one layer are one walk of it.
class ProgramProfile {
public:
  explicit ProgramProfile(mlir::FunctionOpInterface entry);
  ~ProgramProfile();

  /// Distinct executed ops, in program order of first appearance.
  const std::vector<ProfileEntry> &entries() const { return ops; }
  /// Ops Strata cannot model (and loops/calls it cannot follow), by name.
  const llvm::MapVector<llvm::StringRef, double> &unmodelled() const {
    return unknown;
  }
  /// The first op of the program (in program order) counted under an
  /// unmodelled() name: the op itself, the loop or call Strata could not
  /// follow, or the recursive call.
  mlir::Operation *firstUnmodelled(llvm::StringRef name) const;
  /// Executions in program order (loops and calls expanded), as indices
  /// into entries(); at most `cap`, `truncated` set when cut short.
  std::vector<unsigned> sequence(size_t cap, bool &truncated);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
  mlir::FunctionOpInterface entry;
  std::vector<ProfileEntry> ops;
  llvm::MapVector<llvm::StringRef, double> unknown;
};

/// Roll-up of a program.
struct ProgramCounts {
  double flops = 0;
  double transcendentals = 0;
  double bytesRead = 0;
  double bytesWritten = 0;
  /// Executed op instances (after multiplying by calls and trip counts).
  double modelledOps = 0;
  /// Ops Strata cannot model, by op name, with their executed counts.
  llvm::MapVector<llvm::StringRef, double> unmodelled;
  /// Elements in the entry function's arguments tagged
  /// `strata.role = "weight"` (the parameter count).
  double parameters = 0;
};

/// Counts the program rooted at `entry`: every op in its body, following
/// func.call into callees (resolved through the nearest symbol table) and
/// multiplying ops inside scf.for loops by their static trip counts.
ProgramCounts countProgram(mlir::FunctionOpInterface entry);

/// Discardable attribute on a tile.kernel: the useful FLOPs of the op it
/// lowers (reports count these; the schedule's padded work is in its time).
inline constexpr llvm::StringLiteral kUsefulFlopsAttrName =
    "strata.useful_flops";
/// Likewise its transcendentals, which a vector kernel's maps fold into
/// their FLOP counts (flops(n)) and reports still count apart.
inline constexpr llvm::StringLiteral kUsefulTranscendentalsAttrName =
    "strata.useful_transcendentals";

/// Fusion marks (strata-fuse): the root of a fused attention group carries
/// its shape; the other members name the root they were fused into.
inline constexpr llvm::StringLiteral kFusedAttentionAttrName =
    "strata.fused_attention";
inline constexpr llvm::StringLiteral kFusedIntoAttrName = "strata.fused_into";
/// On a backward function's argument holding a saved tensor a fused
/// attention backward recomputes per tile (its P): the root's name. The
/// footprint keeps no stack only such arguments read.
inline constexpr llvm::StringLiteral kRecomputedByAttrName =
    "strata.recomputed_by";
/// On a producer with fused elementwise epilogues: their extra work
/// {flops, transcendentals, bytes_read, bytes_written} (strata-fuse).
inline constexpr llvm::StringLiteral kEpilogueAttrName = "strata.epilogue";
/// On an elementwise op (and the tile.kernel it becomes): the work of the
/// row statistics it applies (a norm's mean, variance and rstd, members
/// marked kFusedIntoAttrName), computed in the same pass over whole rows.
/// Same fields as kEpilogueAttrName, priced the same way.
inline constexpr llvm::StringLiteral kPrologueAttrName = "strata.prologue";

/// On the slice of a MoE layer's stacked expert weights that takes the
/// experts receiving tokens: it stands for a number of experts, not for
/// particular ones, so expert parallelism may take each device's share of it
/// from the device's own experts (strata-partition).
inline constexpr llvm::StringLiteral kExpertSubsetAttrName =
    "strata.expert_subset";

/// On a projection whose output every attention head shares (MLA's down
/// projections to the query and KV latents and its shared RoPE key): tensor
/// parallelism keeps it whole on every rank, as Megatron-LM's
/// MultiLatentAttention builds its linear_q_down_proj and
/// linear_kv_down_proj duplicated, and the heads split after the latent
/// (strata-parallelize).
inline constexpr llvm::StringLiteral kTpReplicatedAttrName =
    "strata.tp_replicated";

/// On a contraction that runs per attention head against a per-head slice
/// of its weight (MLA's weight-absorbed K and V up-projections, [.., heads,
/// ..] x [latent, heads, ..]): tensor parallelism splits the heads, with
/// nothing to reduce (strata-parallelize).
inline constexpr llvm::StringLiteral kHeadParallelAttrName =
    "strata.head_parallel";

/// The argument attribute naming what a function argument holds; values:
/// "weight", "input", "kv_cache", "grad", "optimizer_state".
inline constexpr llvm::StringLiteral kRoleAttrName = "strata.role";

} // namespace strata::analysis

#endif // STRATA_ANALYSIS_OPCOUNTS_H
