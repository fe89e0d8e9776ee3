//===- ProgramCost.h - A program through the cost model ---------*- C++ -*-===//
//
// Walks a program (an entry function, following calls and static loops) and
// asks the cost core for every op it executes: OpCounts describes the work,
// the cost core prices it, and the result is a report::CostReport. This is
// the only bridge between IR and the cost core; passes that need costs
// (the estimate pass, later tiling and fusion) go through it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_ANALYSIS_PROGRAMCOST_H
#define STRATA_ANALYSIS_PROGRAMCOST_H

#include "strata/Analysis/OpCounts.h"
#include "strata/Cost/CostModel.h"
#include "strata/Report/CostReport.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include <string>

namespace strata::analysis {

/// Prices one execution of an op with known counts. std::nullopt for ops
/// that cost nothing (views, constants, terminators).
std::optional<cost::Estimate> estimateOp(const OpCounts &counts,
                                         const cost::CostModel &model);
/// The same, for an op whose pricing needs its IR (a tile.kernel's
/// schedule); other ops as above.
/// The attention work an op's strata.fused_attention record states, in
/// the dtype the estimate prices it with; nullopt without a record. The
/// one reader of the record (the estimate and strata-explore's lowering
/// key both use it).
std::optional<cost::AttentionWork>
fusedAttentionWork(mlir::Operation *op, const OpCounts &counts,
                   const hw::System &sys);

std::optional<cost::Estimate> estimateOp(mlir::Operation *op,
                                         const OpCounts &counts,
                                         const cost::CostModel &model);

/// The dtype the cost core prices an op's work in: its counted dtype,
/// except that an f32 contraction (or fused attention) runs at TF32 when
/// the module allows it (`strata.f32_matmul = "tf32"`, set by
/// strata-set-system's f32-matmul) and a matrix unit of `sys` has a TF32
/// rate.
hw::DType pricedDType(mlir::Operation *op, const OpCounts &counts,
                      const hw::System &sys);

/// The readable name of an op for reports: its NameLoc ("layers.attn.qk"),
/// else "file:line:col", else the op name.
std::string reportName(mlir::Operation *op);
/// Where an op is in the source: the first file:line:col inside its
/// location (fused and call-site locations included), else reportName.
std::string sourceLocation(mlir::Operation *op);
/// The block kind a report name rolls up to: its first two dotted
/// components when it has three or more ("layers.attn.qk" -> "layers.attn"),
/// else its first component ("lm_head").
std::string blockOf(llvm::StringRef name);

struct ProgramCostOptions {
  /// Timeline events kept for the Chrome trace (one per op execution).
  size_t maxTraceEvents = report::kMaxTraceEvents;
  /// Called once per distinct op with its single-execution estimate.
  llvm::function_ref<void(mlir::Operation *, const cost::Estimate &)> onOp;
  /// Above 0: a remark on every distinct op with arithmetic whose estimate
  /// exceeds this multiple of its roofline floor, naming the op, the ratio
  /// and why (cost::CostModel::explainAboveFloor).
  double remarkAboveFloor = 0;
};

/// The headline numbers of a program on a system, without a report: what a
/// design-space sweep re-evaluates per hardware point.
struct ProgramTotals {
  double latency = 0; ///< seconds
  double flops = 0;
  double energy = 0; ///< joules
};

/// Prices an already profiled program (see ProgramProfile) on `model`'s
/// system. The profile is hardware-independent, so a sweep profiles once
/// and calls this per design point.
ProgramTotals priceProgram(const ProgramProfile &profile,
                           const cost::CostModel &model);

/// Estimates the program rooted at `entry` on `model`'s system.
report::CostReport estimateProgram(mlir::FunctionOpInterface entry,
                                   const cost::CostModel &model,
                                   const ProgramCostOptions &options = {});

} // namespace strata::analysis

#endif // STRATA_ANALYSIS_PROGRAMCOST_H
