//===- OptionChecks.h - Values a pipeline option can take -------*- C++ -*-===//
//
// The system-independent checks of the training-step options, shared by
// strata-pipeline (before any pass runs) and strata-plan-search (before it
// compiles a candidate); strata-parallelize checks the same values, and the
// degrees against the system, when it runs.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TRANSFORMS_OPTIONCHECKS_H
#define STRATA_TRANSFORMS_OPTIONCHECKS_H

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace strata {

/// A rejected option: its name and why.
struct OptionProblem {
  std::string option;
  std::string message;
};

inline std::optional<OptionProblem>
checkTrainingOptions(int64_t microbatches, int64_t interleave,
                     llvm::StringRef schedule, int64_t zero,
                     llvm::StringRef recompute) {
  if (microbatches < 1)
    return OptionProblem{"microbatches",
                         "microbatches=" + std::to_string(microbatches) +
                             " must be at least 1"};
  if (interleave < 1)
    return OptionProblem{"interleave", "interleave=" +
                                           std::to_string(interleave) +
                                           " must be at least 1"};
  if (!llvm::is_contained({"gpipe", "1f1b"}, schedule))
    return OptionProblem{"schedule", "schedule='" + schedule.str() +
                                         "' must be gpipe or 1f1b"};
  if (zero < 0 || zero > 3)
    return OptionProblem{"zero", "zero=" + std::to_string(zero) +
                                     " must be 0, 1, 2 or 3 (the ZeRO stage)"};
  if (!llvm::is_contained({"none", "selective", "full"}, recompute))
    return OptionProblem{"recompute",
                         "recompute='" + recompute.str() +
                             "' must be none, selective or full"};
  return std::nullopt;
}

} // namespace strata

#endif // STRATA_TRANSFORMS_OPTIONCHECKS_H
