//===- Parallelism.cpp - Cost formulas of multi-chip training -------------===//
//
// Formulas and sources: docs/cost-model.md, "Parallel training: schedules,
// ZeRO, recompute".
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/Parallelism.h"
#include "strata/Hardware/Units.h"

#include "AmountChecks.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

namespace strata::cost {

using detail::checkAmount;
using detail::invalid;

//===----------------------------------------------------------------------===//
// Pipeline schedules
//===----------------------------------------------------------------------===//

std::string_view toString(PipelineSchedule s) {
  switch (s) {
  case PipelineSchedule::GPipe:
    return "gpipe";
  case PipelineSchedule::OneFOneB:
    return "1f1b";
  case PipelineSchedule::Interleaved1F1B:
    return "interleaved-1f1b";
  }
  return "?";
}

llvm::Expected<PipelineEstimate> estimatePipeline(const PipelineWork &w) {
  const int64_t p = w.stages, m = w.microbatches, v = w.virtualStages;
  std::string_view name = toString(w.schedule);
  if (p < 1)
    return invalid(llvm::formatv("{0}: stages must be >= 1, got {1}", name, p));
  if (m < 1)
    return invalid(
        llvm::formatv("{0}: microbatches must be >= 1, got {1}", name, m));
  if (v < 1)
    return invalid(
        llvm::formatv("{0}: virtual stages must be >= 1, got {1}", name, v));
  if (w.schedule != PipelineSchedule::Interleaved1F1B && v != 1)
    return invalid(llvm::formatv(
        "{0}: virtual stages ({1}) need the interleaved schedule", name, v));
  // Megatron-LM's interleaved schedule walks the microbatches in groups of p
  // per model chunk; it refuses a count that is not a multiple of p.
  if (w.schedule == PipelineSchedule::Interleaved1F1B && m % p != 0)
    return invalid(llvm::formatv(
        "{0}: microbatches ({1}) must be a multiple of stages ({2})", name, m,
        p));
  if (w.stageLayers < 0 || (w.stageLayers > 0 && w.stageLayers < v))
    return invalid(llvm::formatv(
        "{0}: {1} layers per stage cannot fill {2} virtual stages", name,
        w.stageLayers, v));
  if (llvm::Error e = checkAmount(w.forward, "forward time"))
    return std::move(e);
  if (llvm::Error e = checkAmount(w.backward, "backward time"))
    return std::move(e);
  if (llvm::Error e = checkAmount(w.p2p, "p2p time"))
    return std::move(e);

  PipelineEstimate r;
  // A single stage has no boundary to cross.
  const double c = p > 1 ? w.p2p : 0;
  // Megatron-LM's p2p is blocking by default: each forward slot ends with
  // its send/receive and each backward slot too, so a transfer lengthens
  // the slot rather than hiding under the next one. The bubble's slots are
  // the same lengthened slots (the fill waits on the transfers too).
  const double slot = w.forward + w.backward + 2 * c;
  const double chunks = double(v) * double(m);
  r.idealTime = chunks * slot;
  // The fill and drain wait on the deepest chunk: with L layers in v chunks
  // it holds ceil(L/v) where the mean chunk holds L/v.
  double deepest = 1;
  if (w.stageLayers > 0)
    deepest =
        double((w.stageLayers + v - 1) / v) * double(v) / double(w.stageLayers);
  const double deepSlot = (w.forward + w.backward) * deepest + 2 * c;
  r.bubbleTime = double(p - 1) * deepSlot;
  r.stepTime = r.idealTime + r.bubbleTime;
  r.bubbleFraction =
      double(p - 1) / chunks * (slot > 0 && deepest != 1 ? deepSlot / slot : 1);
  r.p2pTime = (chunks + double(p - 1)) * 2 * c;
  r.p2pTransfers = p > 1 ? 2 * v * m : 0;

  // Peak activations stashed by the first stage (it holds the most).
  switch (w.schedule) {
  case PipelineSchedule::GPipe:
    // Every forward finishes before the first backward starts.
    r.inFlightChunks = m;
    break;
  case PipelineSchedule::OneFOneB:
    // p − 1 warm-up forwards, then one more before the first backward.
    r.inFlightChunks = std::min(p, m);
    break;
  case PipelineSchedule::Interleaved1F1B:
    // Megatron-LM schedules.py: rank 0 runs 2(p − 1) + (v − 1)p warm-up
    // chunk forwards and one more in the steady state, all of them if there
    // are only v·m; equals p·(1 + (p − 1)/(p·v)) microbatches when m > p.
    r.inFlightChunks = std::min(v * p + p - 1, v * m);
    break;
  }
  r.inFlightMicrobatches = double(r.inFlightChunks) / double(v);
  return r;
}

//===----------------------------------------------------------------------===//
// Per-device memory footprint
//===----------------------------------------------------------------------===//

DeviceFootprint &DeviceFootprint::operator+=(const DeviceFootprint &o) {
  weights += o.weights;
  gradients += o.gradients;
  optimizer += o.optimizer;
  activations += o.activations;
  kvCache += o.kvCache;
  other += o.other;
  return *this;
}

std::string formatFootprint(const DeviceFootprint &f) {
  auto b = [](double x) { return hw::formatBinaryBytesApprox(x); };
  return llvm::formatv("weights {0}, gradients {1}, optimizer {2}, "
                       "activations {3}, kv_cache {4}, other {5}, total {6}",
                       b(f.weights), b(f.gradients), b(f.optimizer),
                       b(f.activations), b(f.kvCache), b(f.other), b(f.total()))
      .str();
}

llvm::Error checkFootprint(const DeviceFootprint &f, double capacity,
                           llvm::StringRef where) {
  const double total = f.total();
  // NaN compares false both ways: test for "fits" so NaN does not.
  if (total <= capacity)
    return llvm::Error::success();
  return invalid(llvm::formatv(
      "per-device footprint {0} does not fit the {1} of {2} (over by {3}): "
      "{4}",
      hw::formatBinaryBytesApprox(total), hw::formatBinaryBytesApprox(capacity),
      where, hw::formatBinaryBytesApprox(total - capacity),
      formatFootprint(f)));
}

//===----------------------------------------------------------------------===//
// ZeRO data parallelism
//===----------------------------------------------------------------------===//

namespace {

llvm::Error checkZero(const ZeroConfig &c) {
  if (c.stage < 0 || c.stage > 3)
    return invalid(
        llvm::formatv("ZeRO stage must be 0, 1, 2 or 3, got {0}", c.stage));
  if (c.dataParallel < 1)
    return invalid(llvm::formatv(
        "ZeRO: data-parallel degree must be >= 1, got {0}", c.dataParallel));
  if (c.accumulationSteps < 1)
    return invalid(llvm::formatv(
        "ZeRO: accumulation steps must be >= 1, got {0}", c.accumulationSteps));
  if (llvm::Error e = checkAmount(c.parameters, "ZeRO: parameters"))
    return e;
  if (llvm::Error e = checkAmount(c.weightBytes, "ZeRO: weight bytes"))
    return e;
  if (llvm::Error e = checkAmount(c.gradientBytes, "ZeRO: gradient bytes"))
    return e;
  if (llvm::Error e = checkAmount(c.optimizerBytes, "ZeRO: optimizer bytes"))
    return e;
  return llvm::Error::success();
}

} // namespace

llvm::Expected<DeviceFootprint> zeroModelStates(const ZeroConfig &c) {
  if (llvm::Error e = checkZero(c))
    return std::move(e);
  const double nd = double(c.dataParallel);
  DeviceFootprint f;
  f.weights = c.weightBytes * c.parameters;
  f.gradients = c.gradientBytes * c.parameters;
  f.optimizer = c.optimizerBytes * c.parameters;
  // Each stage partitions one more kind of model state over the Nd
  // data-parallel devices (ZeRO Sec. 5.1-5.3).
  if (c.stage >= 1)
    f.optimizer /= nd;
  if (c.stage >= 2)
    f.gradients /= nd;
  if (c.stage >= 3)
    f.weights /= nd;
  return f;
}

std::string_view toString(TrainingPhase p) {
  switch (p) {
  case TrainingPhase::Forward:
    return "forward";
  case TrainingPhase::Backward:
    return "backward";
  case TrainingPhase::Optimizer:
    return "optimizer";
  }
  return "?";
}

llvm::Expected<ZeroCommunication> zeroCommunication(const ZeroConfig &c) {
  if (llvm::Error e = checkZero(c))
    return std::move(e);
  ZeroCommunication r;
  if (c.dataParallel < 2)
    return r; // nothing to synchronise
  const double grads = c.gradientBytes * c.parameters;
  const double params = c.weightBytes * c.parameters;
  auto add = [&](CollectiveKind kind, double bytes, int64_t times,
                 TrainingPhase phase, const char *what) {
    ZeroCollective z;
    z.work.kind = kind;
    z.work.bytes = bytes;
    z.work.groupSize = c.dataParallel;
    z.times = times;
    z.phase = phase;
    z.what = what;
    r.collectives.push_back(std::move(z));
    // The paper counts an all-reduce as reduce-scatter + all-gather (2n)
    // and drops the (Nd − 1)/Nd factor.
    r.volumeBytes +=
        (kind == CollectiveKind::AllReduce ? 2 : 1) * bytes * double(times);
  };
  const int64_t a = c.accumulationSteps;
  switch (c.stage) {
  case 0:
    add(CollectiveKind::AllReduce, grads, 1, TrainingPhase::Backward,
        "gradients");
    break;
  case 1:
  case 2:
    // Each device updates only its optimizer partition, so it needs only
    // its slice of the reduced gradients, then everyone needs everyone's
    // updated weights. Stage 1 keeps full gradients and accumulates them
    // locally; stage 2 keeps only its slice, so every microbatch reduces.
    add(CollectiveKind::ReduceScatter, grads, c.stage == 2 ? a : 1,
        TrainingPhase::Backward, "gradients");
    add(CollectiveKind::AllGather, params, 1, TrainingPhase::Optimizer,
        "parameters");
    break;
  case 3:
    // The weights exist only as slices: gathered for each layer's forward,
    // freed, gathered again for its backward (ZeRO Sec. 7.2.2).
    add(CollectiveKind::AllGather, params, a, TrainingPhase::Forward,
        "parameters");
    add(CollectiveKind::AllGather, params, a, TrainingPhase::Backward,
        "parameters");
    add(CollectiveKind::ReduceScatter, grads, a, TrainingPhase::Backward,
        "gradients");
    break;
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Overlap of gradient reduction with the backward pass
//===----------------------------------------------------------------------===//

llvm::Expected<OverlapEstimate> overlapGradientSync(const OverlapWork &w) {
  if (w.buckets < 1)
    return invalid(
        llvm::formatv("overlap: buckets must be >= 1, got {0}", w.buckets));
  if (llvm::Error e = checkAmount(w.compute, "overlap: compute time"))
    return std::move(e);
  if (llvm::Error e = checkAmount(w.bucketTime, "overlap: bucket time"))
    return std::move(e);
  const double b = double(w.buckets);
  OverlapEstimate r;
  r.commTime = b * w.bucketTime;
  // Bucket i (1-based) is full at i·T/B; with one stream the last bucket
  // ends at max over i of i·T/B + (B − i + 1)·s. That is linear in i, so
  // the maximum is at i = 1 (communication-bound from the first bucket) or
  // i = B (compute-bound: only the last bucket sticks out).
  r.exposed = std::max(w.bucketTime, r.commTime - w.compute * (b - 1) / b);
  r.overlapped = r.commTime - r.exposed;
  r.total = w.compute + r.exposed;
  r.hiddenFraction = r.commTime > 0 ? r.overlapped / r.commTime : 1;
  return r;
}

//===----------------------------------------------------------------------===//
// Activation recomputation
//===----------------------------------------------------------------------===//

std::string_view toString(Recompute r) {
  switch (r) {
  case Recompute::None:
    return "none";
  case Recompute::Selective:
    return "selective";
  case Recompute::Full:
    return "full";
  }
  return "?";
}

llvm::Expected<RecomputeCost> recomputeCost(Recompute r, const LayerFlops &f,
                                            const LayerActivations &a) {
  for (auto [v, what] :
       {std::pair{f.forward, "recompute: forward FLOPs"},
        std::pair{f.attentionCore, "recompute: attention-core FLOPs"},
        std::pair{a.total, "recompute: activation bytes"},
        std::pair{a.layerInput, "recompute: layer-input bytes"},
        std::pair{a.attentionCore, "recompute: attention-core bytes"}})
    if (llvm::Error e = checkAmount(v, what))
      return std::move(e);
  if (f.attentionCore > f.forward)
    return invalid(llvm::formatv(
        "recompute: attention-core FLOPs ({0}) exceed the forward's ({1})",
        hw::formatShortest(f.attentionCore), hw::formatShortest(f.forward)));
  if (a.layerInput + a.attentionCore > a.total)
    return invalid(llvm::formatv(
        "recompute: layer input ({0}) + attention core ({1}) exceed the "
        "activations the backward reads ({2})",
        hw::formatBinaryBytesApprox(a.layerInput),
        hw::formatBinaryBytesApprox(a.attentionCore),
        hw::formatBinaryBytesApprox(a.total)));
  RecomputeCost c;
  switch (r) {
  case Recompute::None:
    c.storedBytes = a.total;
    break;
  case Recompute::Selective:
    c.extraFlops = f.attentionCore;
    c.storedBytes = a.total - a.attentionCore;
    c.transientBytes = a.attentionCore;
    break;
  case Recompute::Full:
    c.extraFlops = f.forward;
    c.storedBytes = a.layerInput;
    c.transientBytes = a.total - a.layerInput;
    break;
  }
  return c;
}

} // namespace strata::cost
