//===- Parallelism.h - Cost formulas of multi-chip training -----*- C++ -*-===//
//
// The closed-form pieces a multi-chip planner combines with the cost core:
// pipeline schedules (GPipe, 1F1B, interleaved 1F1B), ZeRO data-parallel
// memory and gradient-sync collectives, the overlap of bucketed gradient
// reduction with the backward pass, activation recomputation, and the
// per-device memory footprint with its capacity check.
//
// These are formulas over numbers the caller passes in (times it priced with
// CostModel, FLOPs and activation bytes it measured from the IR); nothing
// here knows a model's shapes or MLIR. Each formula, its source and its
// assumptions are in docs/cost-model.md ("Parallel training: schedules,
// ZeRO, recompute"). Invalid inputs are reported as llvm::Error with a
// message naming the field, never asserted: the planner explores plans and
// must be able to reject one and go on.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COST_PARALLELISM_H
#define STRATA_COST_PARALLELISM_H

#include "strata/Cost/CostModel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::cost {

//===----------------------------------------------------------------------===//
// Pipeline schedules
//===----------------------------------------------------------------------===//

enum class PipelineSchedule {
  GPipe,           ///< all forwards, then all backwards (Huang et al. 2019)
  OneFOneB,        ///< PipeDream-Flush: one forward, one backward
  Interleaved1F1B, ///< 1F1B over v model chunks per device (Megatron-LM)
};
std::string_view toString(PipelineSchedule s);

/// One training step of a pipeline of `stages` devices over `microbatches`
/// microbatches. `forward`/`backward` are the seconds one microbatch spends
/// in one stage; for the interleaved schedule, in one of the `virtualStages`
/// model chunks a device holds (a chunk is 1/v of the device's layers).
/// `p2p` is the seconds one microbatch's activation (or, going back, its
/// gradient) takes across one stage boundary, e.g. a SendRecv priced with
/// CostModel::collective.
struct PipelineWork {
  PipelineSchedule schedule = PipelineSchedule::OneFOneB;
  int64_t stages = 1;        ///< p
  int64_t microbatches = 1;  ///< m
  int64_t virtualStages = 1; ///< v; must be 1 unless interleaved
  double forward = 0;        ///< tf, seconds
  double backward = 0;       ///< tb, seconds
  double p2p = 0;            ///< seconds per boundary crossing
  /// Layers the device holds, when its v chunks may differ in depth (126
  /// layers on 16 stages of v = 4 chunks: 8 per stage, 2 per chunk; the
  /// first and last stage's 7 as 2, 2, 2, 1). `forward`/`backward` are then
  /// the mean chunk's (1/v of the stage) and the bubble's slots the deepest
  /// chunk's, ceil(layers/v) layers. 0: the chunks are equal.
  int64_t stageLayers = 0;
};

struct PipelineEstimate {
  /// Seconds per step: (v·m + p − 1) · (tf + tb + 2·p2p).
  double stepTime = 0;
  /// The step without a bubble: v·m · (tf + tb + 2·p2p).
  double idealTime = 0;
  /// Idle time of a device per step: (p − 1) · (tf + tb + 2·p2p), the
  /// compute part scaled to the deepest chunk (stageLayers).
  double bubbleTime = 0;
  /// bubbleTime / idealTime = (p − 1) / (v·m), the papers' figure.
  double bubbleFraction = 0;
  /// Seconds of the step spent in point-to-point transfers (on the critical
  /// path: Megatron-LM's default p2p is blocking).
  double p2pTime = 0;
  /// Boundary crossings per device per step: 2·v·m (an activation out and a
  /// gradient back per microbatch and chunk) — v times 1F1B's.
  int64_t p2pTransfers = 0;
  /// Peak microbatches whose activations the first stage holds, in units of
  /// one microbatch through all of the device's layers: the activation
  /// memory multiplier. GPipe m; 1F1B min(p, m); interleaved
  /// min(v·p + p − 1, v·m) / v, i.e. p·(1 + (p − 1)/(p·v)) when m > p.
  double inFlightMicrobatches = 0;
  /// The same peak counted in forward passes of one chunk (v per
  /// microbatch through the device's layers): an integer.
  int64_t inFlightChunks = 0;
};

/// Step time, bubble and activation multiplier of `w`. Errors: p, m or v
/// below 1, v ≠ 1 for a non-interleaved schedule, m not a multiple of p for
/// the interleaved one (Megatron-LM requires it), a negative or non-finite
/// time, stageLayers negative or below v (a chunk without a layer).
llvm::Expected<PipelineEstimate> estimatePipeline(const PipelineWork &w);

//===----------------------------------------------------------------------===//
// Per-device memory footprint
//===----------------------------------------------------------------------===//

/// Bytes one device holds, by what they are.
struct DeviceFootprint {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;
  double kvCache = 0;
  double other = 0; ///< workspaces, communication buffers, runtime

  double total() const {
    return weights + gradients + optimizer + activations + kvCache + other;
  }
  DeviceFootprint &operator+=(const DeviceFootprint &o);
};

/// "weights 14 GiB, gradients 14 GiB, ..., total 30 GiB" (binary units, 4
/// significant digits); every field is listed, zeros included, so two
/// plans' lines line up.
std::string formatFootprint(const DeviceFootprint &f);

/// Success if `f.total() <= capacity` bytes; otherwise an error naming
/// `where` (e.g. "hbm of h100-sxm"), the overshoot and the breakdown.
llvm::Error checkFootprint(const DeviceFootprint &f, double capacity,
                           llvm::StringRef where = "device memory");

//===----------------------------------------------------------------------===//
// ZeRO data parallelism
//===----------------------------------------------------------------------===//

/// Model states of `parameters` (Ψ) parameters trained data-parallel over
/// `dataParallel` (Nd) devices with ZeRO stage `stage` (0 = plain data
/// parallelism, 1 = optimizer states partitioned, 2 = + gradients, 3 = +
/// parameters). Bytes per parameter default to mixed-precision Adam: 16-bit
/// weights and gradients, K = 12 bytes of fp32 master weights, momentum
/// and variance (Rajbhandari et al. 2020, Sec. 3.1).
struct ZeroConfig {
  int stage = 0;
  double parameters = 0;      ///< Ψ
  int64_t dataParallel = 1;   ///< Nd
  double weightBytes = 2;     ///< per parameter
  double gradientBytes = 2;   ///< per parameter
  double optimizerBytes = 12; ///< K, per parameter
  /// Microbatches whose gradients are accumulated before the optimizer
  /// step: stage 2 and 3 keep no full gradient, so they reduce every
  /// microbatch; stage 0 and 1 accumulate locally and reduce once.
  int64_t accumulationSteps = 1;
};

/// Weights, gradients and optimizer state per device; the other fields are
/// 0 for the caller to fill. Stage 0: (2 + 2 + K)Ψ; 1: 2Ψ + 2Ψ + KΨ/Nd;
/// 2: 2Ψ + (2 + K)Ψ/Nd; 3: (2 + 2 + K)Ψ/Nd.
llvm::Expected<DeviceFootprint> zeroModelStates(const ZeroConfig &c);

/// When in the step a collective is issued, which decides what it can
/// overlap: gradient reductions run under the backward, parameter gathers of
/// stage 3 under the forward and backward, stage 1/2's gather of updated
/// weights after the optimizer step.
enum class TrainingPhase { Forward, Backward, Optimizer };
std::string_view toString(TrainingPhase p);

struct ZeroCollective {
  /// kind, bytes (the whole model's buffer, CostModel::collective's
  /// convention: the full reduced or gathered tensor) and groupSize = Nd;
  /// `fabric` is left 0 for the caller, who knows the device mapping.
  CollectiveWork work;
  int64_t times = 1; ///< issued this many times per step
  TrainingPhase phase = TrainingPhase::Backward;
  std::string what; ///< "gradients" or "parameters"
};

struct ZeroCommunication {
  std::vector<ZeroCollective> collectives;
  /// Bytes each device sends per step in the paper's accounting (all-reduce
  /// 2n, reduce-scatter and all-gather n; the (Nd − 1)/Nd factor dropped):
  /// 2Ψ·b for stages 0–2, 3Ψ·b for stage 3 with one accumulation step.
  double volumeBytes = 0;
};

/// The data-parallel collectives of one step. Stage 0: all-reduce of the
/// gradients; 1 and 2: reduce-scatter of the gradients and all-gather of the
/// updated weights (the same 2Ψ; DeepSpeed and Megatron's distributed
/// optimizer issue this pair); 3: all-gather of the weights in the forward
/// and again in the backward, reduce-scatter of the gradients (3Ψ, 1.5×).
llvm::Expected<ZeroCommunication> zeroCommunication(const ZeroConfig &c);

//===----------------------------------------------------------------------===//
// Overlap of gradient reduction with the backward pass
//===----------------------------------------------------------------------===//

/// Bucketed gradient reduction under the backward (PyTorch DDP, Li et al.
/// 2020): the backward takes `compute` seconds and produces the gradients
/// at an even rate, in `buckets` equal buckets; each bucket's collective,
/// `bucketTime` seconds (priced by the caller at bytes / buckets), starts
/// once its bucket is full and the previous one is done (one communication
/// stream).
struct OverlapWork {
  double compute = 0;
  double bucketTime = 0;
  int64_t buckets = 1;
};

struct OverlapEstimate {
  double commTime = 0;       ///< buckets · bucketTime
  double exposed = 0;        ///< communication after the backward ends
  double overlapped = 0;     ///< commTime − exposed
  double total = 0;          ///< compute + exposed
  double hiddenFraction = 0; ///< overlapped / commTime (1 with no comm)
};

/// exposed = max(bucketTime, buckets·bucketTime − compute·(buckets − 1)/
/// buckets): the last bucket never overlaps; when communication outpaces
/// the backward, everything after the first bucket's fill is exposed.
llvm::Expected<OverlapEstimate> overlapGradientSync(const OverlapWork &w);

//===----------------------------------------------------------------------===//
// Activation recomputation
//===----------------------------------------------------------------------===//

enum class Recompute {
  None,      ///< keep everything the backward reads
  Selective, ///< drop and recompute the attention core (QKᵀ, softmax, ·V)
  Full,      ///< keep each layer's input, recompute the layer's forward
};
std::string_view toString(Recompute r);

/// One layer, one microbatch: forward FLOPs, and the part of them in the
/// attention core (QKᵀ, softmax, dropout, ·V).
struct LayerFlops {
  double forward = 0;
  double attentionCore = 0;
};

/// One layer, one microbatch: bytes of activations the backward reads
/// (`total`), of which the layer's input and the attention-core
/// intermediates (scores, probabilities, dropout mask) are disjoint parts.
struct LayerActivations {
  double total = 0;
  double layerInput = 0;
  double attentionCore = 0;
};

struct RecomputeCost {
  /// FLOPs added to the step per layer and microbatch: 0, the attention
  /// core's forward, or the whole forward.
  double extraFlops = 0;
  /// Bytes kept per layer and microbatch until its backward: total,
  /// total − attentionCore, or layerInput.
  double storedBytes = 0;
  /// Bytes live only while one layer is being recomputed in the backward
  /// (one layer at a time): 0, attentionCore, or total − layerInput.
  double transientBytes = 0;
};

/// Errors: a negative or non-finite number, an attention core larger than
/// the forward, layerInput + attentionCore above total.
llvm::Expected<RecomputeCost> recomputeCost(Recompute r, const LayerFlops &f,
                                            const LayerActivations &a);

} // namespace strata::cost

#endif // STRATA_COST_PARALLELISM_H
