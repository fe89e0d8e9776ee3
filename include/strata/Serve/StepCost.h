//===- StepCost.h - A serving step's time from compiled programs -*- C++ -*-===//
//
// The serving simulator asks what one engine iteration costs: a batch of
// decodes (each feeding q tokens against its KV cache) mixed with prefill
// chunks. Nothing here prices an op: every figure comes from a generated
// program lowered by strata-pipeline and priced by the cost core
// (analysis::estimateProgram), compiled once per grid point:
//
//   linear(N)        the step's token-parallel work (projections, MLP, norms,
//                    LM head, tp collectives) at N tokens: the program
//                    minus its attention core, decode batch N, q = 1;
//   decodeAttn(B, C) the attention core of B decodes of q tokens on a
//                    context of C tokens each;
//   chunkAttn(P, c)  the attention core of one P-token prefill chunk after
//                    c cached tokens.
//
// A step is linear(all its tokens) + decodeAttn(decodes, mean context) +
// the chunks' chunkAttn, each interpolated piecewise-linearly between grid
// points (bilinear in two axes). docs/serving.md gives the assumptions.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_SERVE_STEPCOST_H
#define STRATA_SERVE_STEPCOST_H

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/System.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::serve {

/// One engine iteration as the scheduler formed it.
struct StepShape {
  /// Sequences decoding this step, each feeding `decodeTokens` tokens.
  int64_t decodes = 0;
  /// Their mean context (tokens already cached).
  double meanContext = 0;
  /// Tokens each decode feeds: 1, or k + 1 when a draft proposes k.
  int64_t decodeTokens = 1;
  /// Prefill chunks: (new tokens, tokens already cached before the chunk).
  std::vector<std::pair<int64_t, int64_t>> chunks;

  int64_t tokens() const;
};

/// What prices a step: the compiled model, or a formula in unit tests.
class StepPricer {
public:
  virtual ~StepPricer();
  virtual double price(const StepShape &step) const = 0;
};

/// A piecewise-linear function on a sorted grid, clamped-extrapolated
/// linearly beyond its ends.
double interpolate(const std::vector<double> &xs, const std::vector<double> &ys,
                   double x);
/// Bilinear on the grid xs × ys (values row-major, xs outer).
double interpolate2(const std::vector<double> &xs, const std::vector<double> &ys,
                    const std::vector<double> &values, double x, double y);
/// 1, 2, 4, ... up to and including the first power of two ≥ max, starting
/// at `first` (a power of two).
std::vector<int64_t> powersOfTwo(int64_t first, int64_t max);

/// Bytes of the KV cache of `tokens` tokens across all devices:
/// layers × 2 (K and V) × kv_heads × head_dim × tokens × bytes per element.
double kvCacheBytes(const workload::ModelConfig &config, double tokens,
                    double bytesPerElement);

struct StepCostOptions {
  workload::WorkloadDType dtype = workload::WorkloadDType::bf16;
  int64_t tp = 1;
  /// The largest decode batch, context and step token count the grid must
  /// cover (beyond them the interpolation extrapolates).
  int64_t maxBatch = 256;
  int64_t maxContext = 8192;
  int64_t maxTokens = 8192;
  /// Tokens a decode feeds per step (k + 1 under speculative decoding).
  int64_t decodeTokens = 1;
  /// Extra strata-pipeline options.
  std::string pipelineOptions;
  /// How a step's kernels are issued. Graph: a step of decodes only
  /// replays a captured CUDA graph (vLLM's and TensorRT-LLM's default);
  /// a step with a prefill chunk is launched eagerly (engines capture
  /// decode batches only).
  cost::LaunchMode launch = cost::LaunchMode::Eager;
};

/// The compiled step cost of one model on one system and plan.
class StepCostModel : public StepPricer {
public:
  /// Compiles every grid point through strata-pipeline. Grid points whose
  /// KV cache would not fit device memory are compiled on a copy of the
  /// system with that level's capacity raised (capacity is checked, not
  /// priced); the real capacity is kept for kvPoolBytes().
  static llvm::Expected<StepCostModel>
  compile(mlir::MLIRContext &ctx, const workload::ModelConfig &config,
          const hw::System &system, const StepCostOptions &options);

  /// The compiled grid, to be read back by fromJSON (--step-cost-cache):
  /// with what it was compiled for, so that another model, system, plan or
  /// grid limits do not use it.
  llvm::json::Value toJSON() const;
  /// The grid `toJSON` wrote, if it was compiled for these inputs.
  static std::optional<StepCostModel>
  fromJSON(const llvm::json::Value &v, mlir::MLIRContext &ctx,
           const workload::ModelConfig &config, const hw::System &system,
           const StepCostOptions &options);
  /// Read from a cache rather than compiled in this run.
  bool fromCache() const { return loaded; }

  double price(const StepShape &step) const override;
  double linear(double tokens) const;
  double decodeAttention(double batch, double context) const;
  double chunkAttention(double tokens, double context) const;

  /// The step strata-pipeline prices directly for `batch` sequences of
  /// `tokensPerSeq` new tokens after `context` cached ones (the check of the
  /// interpolation; needs the context the model was compiled with).
  llvm::Expected<double> direct(int64_t batch, int64_t tokensPerSeq,
                                int64_t context) const;

  /// KV bytes one token takes on one device (from the compiled footprint).
  double kvBytesPerToken() const { return kvPerToken; }
  /// What replaying a decode step's kernels from a captured graph saves
  /// over launching them one by one (seconds; the same at every batch and
  /// context: the step runs the same kernels).
  double graphSaving() const { return graphSavingTime; }
  /// Device memory, weights and activations per device (footprint rows).
  double capacityBytes() const { return capacity; }
  double weightBytes() const { return weights; }
  double activationBytes() const { return activations; }
  std::string capacityLevel() const { return level; }
  size_t programsCompiled() const { return compiled; }
  const StepCostOptions &options() const { return opts; }
  const std::vector<double> &batchGrid() const { return batchAxis; }
  const std::vector<double> &contextGrid() const { return contextAxis; }
  const std::vector<double> &tokenGrid() const { return tokenAxis; }
  const std::vector<double> &chunkGrid() const { return chunkAxis; }
  const std::vector<double> &chunkContextGrid() const {
    return chunkContextAxis;
  }

private:
  StepCostModel() = default;
  mlir::MLIRContext *ctx = nullptr;
  workload::ModelConfig config;
  hw::System system;
  StepCostOptions opts;
  std::vector<double> tokenAxis, linearTime;
  std::vector<double> batchAxis, contextAxis, decodeAttn;
  std::vector<double> chunkAxis, chunkContextAxis, chunkAttn;
  double kvPerToken = 0, capacity = 0, weights = 0, activations = 0;
  double graphSavingTime = 0;
  std::string level;
  size_t compiled = 0;
  bool loaded = false;
};

} // namespace strata::serve

#endif // STRATA_SERVE_STEPCOST_H
