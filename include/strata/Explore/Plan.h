//===- Plan.h - Plan axes of a design-space sweep ---------------*- C++ -*-===//
//
// The plan half of a sweep: how the workload is parallelised and trained
// (tp, pp, dp, ep, sp, microbatches, interleave, ZeRO, recomputation) and
// which workload is built (precision, global batch). Each axis is a list
// or `auto`; the plans are the valid combinations, each compiled once
// (strata-pipeline's explicit-plan options), and the hardware axes are
// re-priced on every one of them.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_PLAN_H
#define STRATA_EXPLORE_PLAN_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::explore {

/// One parallel plan and workload variant.
struct Plan {
  int64_t tp = 1, pp = 1, dp = 1, ep = 1, cp = 1;
  bool sp = false;
  int64_t microbatches = 1, interleave = 1, zero = 0;
  std::string recompute = "none";
  /// Workload dtype (bf16, fp16, fp8, f32); empty: the --model default.
  std::string precision;
  /// Sequences per step (the global batch); 0: the workload's --batch.
  int64_t batch = 0;

  /// Chips the plan occupies.
  int64_t chips() const { return tp * pp * dp * ep * cp; }
  /// strata-pipeline options for it ("tp=2 pp=1 dp=4 ...").
  std::string pipelineOptions() const;
};

/// The plan axes of a spec: each a list or `auto` (an empty list).
struct PlanSpec {
  bool given = false; ///< the spec has a "plan" object
  std::vector<int64_t> tp, pp, dp, ep, microbatches, interleave, zero;
  std::vector<bool> sp;
  std::vector<std::string> recompute, precision;
  std::vector<int64_t> batch;
  bool tpAuto = false, ppAuto = false, dpAuto = true, epAuto = false,
       mbAuto = false, interleaveAuto = false, zeroAuto = false,
       spAuto = false, recomputeAuto = false;

  /// The plans over `devices` chips for a global batch `batch` (when the
  /// spec gives none), in a fixed order (batch, precision, tp, pp, dp, ep,
  /// sp, microbatches, interleave, zero, recompute; the last varies
  /// fastest). Combinations whose chips do not divide `devices`, or whose
  /// batch is not a whole number of microbatches per data-parallel rank,
  /// are left out; the rest the pipeline validates.
  std::vector<Plan> enumerate(int64_t devices, int64_t batch) const;
};

/// Parses the "plan" object; errors are "plan.<axis>...: message".
/// `fromModel`: the workload is generated (--model), so batch and
/// precision may be swept.
llvm::Expected<PlanSpec> parsePlanSpec(const llvm::json::Value &v,
                                       bool fromModel);

} // namespace strata::explore

#endif // STRATA_EXPLORE_PLAN_H
