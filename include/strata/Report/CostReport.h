//===- CostReport.h - What the estimate pass reports -------------*- C++
//-*-===//
//
// The plain data of a cost report and its four renderings: aligned text for
// people, JSON (schema "strata.cost-report", versioned, see
// docs/cost-report.md) and CSV for tools, and a Chrome-trace timeline that
// Perfetto opens. MLIR-free; the estimate pass fills it. Every writer is
// deterministic: same report, same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_REPORT_COSTREPORT_H
#define STRATA_REPORT_COSTREPORT_H

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::report {

/// One op of the program, summed over all its executions (a layer op in a
/// loop of 32 layers has count 32).
struct OpRow {
  std::string name;    ///< the op's location name ("layers.attn.qk_matmul")
  std::string op;      ///< the operation ("linalg.matmul")
  std::string block;   ///< block kind it rolls up to ("layers.attn")
  std::string opClass; ///< contraction, elementwise, reduction, ...
  std::string dtype;   ///< element type the op computes in (bf16, fp8, ...)
  double count = 0;
  double flops = 0;
  double transcendentals = 0;
  std::vector<double> bytes; ///< per level, in CostReport::levels order
  double time = 0;           ///< seconds, all executions
  std::string boundBy;       ///< unit, level, "latency" or "launch"
  double utilization = 0;    ///< of the unit it runs on
  double energy = 0;         ///< joules
  /// The roofline floor of all executions: useful FLOPs at the peak of
  /// the unit kind the op needs, compulsory bytes (operands read and
  /// results written once) at the home level's bandwidth, whichever is
  /// larger. time / bound says how far the mapping is from the chip.
  double bound = 0;
};

/// A roll-up of ops (per block kind, per top-level part).
struct GroupRow {
  std::string name;
  double ops = 0; ///< executed op instances
  double flops = 0;
  double time = 0;
  double energy = 0;
  std::string boundBy; ///< the resource bounding most of its time
};

struct FootprintRow {
  std::string what; ///< weights, kv_cache, activations, ...
  double bytes = 0;
};

/// Which track of the trace an op execution goes on.
enum class TraceTrack {
  Compute,    ///< the device's compute (nested under its blocks)
  Collective, ///< a collective on a fabric (tp/sp/ep/dp groups)
  P2P,        ///< a pipeline-stage send or receive
};

/// One slice of the timeline (one op execution).
struct TraceEvent {
  std::string name;
  std::string category; ///< block kind
  double start = 0;     ///< seconds
  double duration = 0;
  std::string op;       ///< the operation ("linalg.matmul")
  TraceTrack track = TraceTrack::Compute;
  std::string fabric;   ///< for collectives and p2p: the fabric it uses
};

/// Ops of the program Strata does not price, once per op name: what the
/// estimate leaves out (docs/inputs.md).
struct UnpricedRow {
  std::string op;       ///< op name ("vector.transfer_read", "recursive call")
  double count = 0;     ///< executions
  std::string location; ///< the first in program order ("file:line:col")
};

/// The most op executions the trace lists (and the most slots of a drawn
/// pipeline schedule); ProgramCostOptions::maxTraceEvents defaults to it.
/// A longer program is cut there and the trace and a warning say so.
constexpr size_t kMaxTraceEvents = 100000;

/// One training (or pipelined inference) step of a parallel plan: the
/// per-device program priced once per microbatch, composed by the plan's
/// schedule with the once-per-step work (data-parallel gradient sync,
/// optimizer). Present when the module carries a `strata.parallel` plan.
struct StepRow {
  std::string schedule;      ///< gpipe, 1f1b or interleaved-1f1b
  int64_t stages = 1;        ///< pp
  int64_t microbatches = 1;  ///< m
  int64_t virtualStages = 1; ///< v
  int64_t dataParallel = 1;  ///< dp
  int zero = 0;              ///< ZeRO stage
  double microbatchTime = 0; ///< one microbatch's compute + tp/ep collectives
  /// One microbatch's forward and backward on one stage (one model chunk of
  /// it with interleave > 1), without the stage transfers: the slots the
  /// schedule is made of (the trace draws them).
  double forwardTime = 0, backwardTime = 0;
  double recomputeTime = 0;  ///< of which activation recomputation
  double p2pPerCrossing = 0; ///< one stage-boundary transfer
  double pipelineTime = 0;   ///< the schedule: m microbatches + bubble + p2p
  double bubbleTime = 0;
  double bubbleFraction = 0;
  double p2pTime = 0;
  double gradSyncTime = 0;    ///< data-parallel gradient (and ZeRO) sync
  double gradSyncExposed = 0; ///< the part the backward does not hide
  double optimizerTime = 0;
  double stepTime = 0;
  double tokensPerStep = 0;
  /// Sequences one step processes (the global batch: the generated batch ×
  /// microbatches) and those one device holds per microbatch (batch / dp);
  /// 0 when the program does not say its batch.
  int64_t sequencesPerStep = 0, sequencesPerDevice = 0;
  /// Microbatches whose activations the first stage holds at its peak
  /// (GPipe m, 1F1B min(p, m), interleaved more): the activation memory
  /// multiplier of the footprint.
  double inFlightMicrobatches = 1;
};

/// One plan a `plan=auto` search tried (strata-plan-search), best first.
struct PlanRow {
  int64_t tp = 1, pp = 1, dp = 1, ep = 1;
  std::string status; ///< "ok" or why the plan was rejected
  bool fits = false;
  double latency = 0, tokensPerSecond = 0, mfu = 0, footprint = 0;
};

struct CostReport {
  static constexpr int kSchemaVersion = 3;

  std::string system; ///< system name
  std::string chip;
  int64_t devices = 1;
  std::string entry; ///< entry function
  std::string model; ///< model name (strata.model), may be empty
  std::string mode;  ///< prefill / decode / train, may be empty
  /// How the kernels were issued: "eager" or "graph" (cost::LaunchMode),
  /// and what each kernel paid to start under it (seconds).
  std::string launch = "eager";
  double launchCost = 0;
  /// The config's vocabulary and the one built (strata.model.vocab and
  /// padded_vocab: Megatron pads to a multiple of 128 x tp); 0 when unknown.
  int64_t vocab = 0, paddedVocab = 0;
  /// The model's parameters as its config defines them, and those one token
  /// reads (top_k experts of a MoE); 0 when the program does not say.
  int64_t parameters = 0, activeParameters = 0;
  double tokens = 0; ///< tokens processed by one run of the entry
  /// The batch the generator built (strata.model): sequences per run of the
  /// entry (one microbatch, over all dp ranks with a plan), the tokens of
  /// each (1 in decode) and the cached context a decode attends to; 0 when
  /// the program does not say.
  int64_t batch = 0, seq = 0, context = 0;

  // Summary.
  /// Whether the program was lowered to tile IR (strata-pipeline, or
  /// strata-tile) before it was priced; false: priced as given, unfused and
  /// untiled (each op by its formula).
  bool lowered = false;
  double latency = 0;     ///< seconds (one step when `step` is set)
  double programTime = 0; ///< one run of the entry, the sum of its ops
  double flops = 0;
  double tokensPerSecond = 0;
  /// FLOPs executed again by activation recomputation (in `flops`).
  double recomputeFlops = 0;
  /// Model FLOPs utilisation: (flops − recomputeFlops) / (latency × peak of
  /// peakDType); hfu counts the recomputation too.
  double mfu = 0, hfu = 0;
  double peakFlops = 0;  ///< the peak MFU is measured against
  std::string peakDType; ///< dtype of that peak
  double energy = 0;     ///< joules
  double energyPerToken = 0;
  std::string boundBy; ///< resource bounding most of the time

  std::vector<std::string> levels; ///< memory levels, innermost first
  std::vector<OpRow> ops;          ///< program order of first execution
  std::vector<GroupRow> blocks;    ///< by block kind, first-seen order
  std::vector<FootprintRow> footprint;
  std::string capacityLevel; ///< level the footprint is checked against
  double capacity = 0;       ///< its capacity per device, bytes
  std::vector<UnpricedRow> unpriced; ///< ops not costed, first seen first
  std::optional<StepRow> step;      ///< with a parallel plan; see StepRow
  std::vector<PlanRow> plans;       ///< a plan=auto search's ranking
  size_t plansShown = 5;            ///< rows of `plans` the text report prints
  std::vector<TraceEvent> timeline; ///< capped, see `timelineTruncated`
  bool timelineTruncated = false;

  double footprintTotal() const;
};

void writeText(const CostReport &r, llvm::raw_ostream &os);
void writeJson(const CostReport &r, llvm::raw_ostream &os);
void writeCsv(const CostReport &r, llvm::raw_ostream &os);
void writeTrace(const CostReport &r, llvm::raw_ostream &os);
/// Whether writeTrace's output is cut at kMaxTraceEvents (op executions or
/// pipeline slots).
bool traceTruncated(const CostReport &r);

} // namespace strata::report

#endif // STRATA_REPORT_COSTREPORT_H
