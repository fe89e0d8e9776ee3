//===- NeMoRecipes.h - NeMo performance-recipe defaults ---------*- C++ -*-===//
//
// NeMo's performance summary (the NEMO_* sources of training.json) names
// each run by model and gives tp/pp/cp/vp, the microbatch and the global
// batch, but not the architecture nor the recipe settings. These are the
// NeMo Framework Launcher's published configs for the same model names
// (launcher_scripts/conf/training/<family>/<model>.yaml), which the
// performance runs use; each entry names its file. The table holds what the
// configs state, nothing fitted.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_CALIBRATION_NEMORECIPES_H
#define STRATA_LIB_CALIBRATION_NEMORECIPES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace strata::calibration {

/// One published NeMo recipe: architecture and the settings the summary
/// leaves out.
struct NeMoRecipe {
  llvm::StringLiteral name;   ///< the model name as the summary prints it
  llvm::StringLiteral family; ///< gpt3, llama or nemotron
  int64_t layers, hidden, ffn, heads, kvHeads, vocab;
  /// Megatron sequence parallelism (`sequence_parallel`).
  bool sequenceParallel;
  /// `activations_checkpoint_granularity`: none or selective (the attention
  /// core, which a fused attention does not store anyway).
  llvm::StringLiteral recompute;
  /// The config file, relative to NVIDIA/NeMo-Framework-Launcher.
  llvm::StringLiteral source;
};

/// The recipe for `name` (case-insensitive), or null.
const NeMoRecipe *findNeMoRecipe(llvm::StringRef name);

/// The commit of NVIDIA/NeMo-Framework-Launcher the table was read at.
llvm::StringRef nemoLauncherCommit();

} // namespace strata::calibration

#endif // STRATA_LIB_CALIBRATION_NEMORECIPES_H
