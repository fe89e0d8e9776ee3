//===- Simulator.h - Discrete-event simulation of a server ------*- C++ -*-===//
//
// One engine per replica runs iterations back to back; each iteration's
// batch is formed by the scheduler, priced by a StepPricer (the compiled
// step cost) and advances the clock by that time. Requests go to the
// replicas round-robin in arrival order. The KV cache is paged: a sequence
// holds ceil(cached tokens / block size) blocks of a fixed pool, and a
// decode that needs a block when none is free preempts the most recently
// admitted sequence, which is recomputed (its prompt and output so far
// prefilled again) when it is readmitted. Disaggregated, prefill engines
// hand each request's KV cache over a priced transfer to decode engines.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_SERVE_SIMULATOR_H
#define STRATA_SERVE_SIMULATOR_H

#include "strata/Serve/StepCost.h"
#include "strata/Serve/Trace.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace strata::serve {

enum class SchedulerKind {
  /// A batch is formed when the engine is idle and runs, padded to its
  /// size, until its longest request finishes (FasterTransformer).
  Static,
  /// Iteration-level: requests join and leave at every step; a step is
  /// either the prefill of newly admitted requests or a decode of all
  /// running ones, prefills first (Orca, vLLM).
  Continuous,
  /// Decodes and prefill chunks share each step under a token budget
  /// (Sarathi-Serve).
  Chunked,
};

llvm::StringRef stringifyScheduler(SchedulerKind k);
std::optional<SchedulerKind> parseScheduler(llvm::StringRef s);

/// Expected tokens a decode step yields when a draft proposes k tokens and
/// each is accepted with probability alpha, independently, until the first
/// rejection (plus the target's own token): (1 - alpha^(k+1)) / (1 - alpha).
double expectedSpeculativeTokens(double alpha, int64_t k);

struct SchedulerConfig {
  SchedulerKind kind = SchedulerKind::Continuous;
  /// Sequences running at once (vLLM max_num_seqs).
  int64_t maxBatch = 256;
  /// Tokens one step may process (vLLM max_num_batched_tokens; Sarathi's
  /// token budget for the chunked scheduler).
  int64_t maxTokens = 8192;
  int64_t blockSize = 16;
  /// KV blocks in one replica's pool.
  int64_t kvBlocks = 0;
  /// Speculative decoding: draft tokens per step (0: off), acceptance
  /// probability per token, and the draft's step pricer.
  int64_t speculativeTokens = 0;
  double acceptance = 0;
  const StepPricer *draft = nullptr;
  uint64_t seed = 1;
  /// Prefill/decode disaggregation (DistServe, Splitwise): engines that
  /// only prefill (0: every engine does both), and the seconds a prompt's
  /// KV cache takes from a prefill engine to a decode engine. The
  /// `replicas` of simulate() are then the decode engines.
  int64_t prefillReplicas = 0;
  std::function<double(int64_t promptTokens)> kvTransfer;
  /// Keep every step in SimulationResult::stepLog (for the timeline).
  bool recordSteps = false;
};

/// One step of one engine, kept when SchedulerConfig::recordSteps is set
/// (the timeline, docs/serving.md).
struct StepRecord {
  /// The engine's index: 0.. in the order engines run (prefill engines
  /// first when disaggregated), and what it does.
  int64_t engine = 0;
  enum class Role { Colocated, Prefill, Decode } role = Role::Colocated;
  double start = 0, end = 0; ///< seconds on the engine's clock
  int64_t sequences = 0;     ///< sequences in the step (padding included)
  int64_t decodes = 0;       ///< of them decoding
  int64_t prefillTokens = 0; ///< prompt tokens prefilled in the step
  double kvUtilization = 0;  ///< the KV pool's share in use during the step
};

struct RequestResult {
  Request request;
  double firstToken = 0, finish = 0;
  int64_t preemptions = 0;
  double ttft() const { return firstToken - request.arrival; }
  double e2e() const { return finish - request.arrival; }
  /// Time per output token after the first (0 for one-token outputs).
  double tpot() const;
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
/// Nearest-rank percentiles.
Percentiles percentiles(std::vector<double> values);

struct SimulationResult {
  std::vector<RequestResult> requests; ///< in id order
  double duration = 0; ///< first arrival to last finish, seconds
  int64_t steps = 0, prefillSteps = 0, decodeSteps = 0, mixedSteps = 0;
  int64_t preemptions = 0;
  /// Time-weighted over the busy time of every replica.
  double meanKvUtilization = 0, peakKvUtilization = 0;
  double meanBatch = 0;
  int64_t peakBatch = 0;
  double busyTime = 0;
  /// Decodes of a sequence run, the tokens they yielded, and the ratio
  /// (1 without speculative decoding).
  int64_t decodeSlots = 0, decodedTokens = 0;
  double tokensPerDecode = 1;
  /// Disaggregated: KV caches moved from prefill to decode engines and the
  /// seconds they took in all.
  int64_t kvTransfers = 0;
  double kvTransferTime = 0;
  /// Every step of every engine, in engine then time order, when
  /// SchedulerConfig::recordSteps is set.
  std::vector<StepRecord> stepLog;
};

/// Simulates `requests` (sorted by arrival) on `replicas` engines.
/// Fails when a request can never fit the KV pool on its own.
llvm::Expected<SimulationResult> simulate(const std::vector<Request> &requests,
                                          const SchedulerConfig &config,
                                          const StepPricer &pricer,
                                          int64_t replicas);

struct SloSummary {
  double ttft = 0, tpot = 0; ///< limits, seconds (0: none)
  int64_t met = 0;
  double attainment = 0; ///< fraction of requests meeting both
  double goodput = 0;    ///< requests/s meeting both
};
SloSummary summarizeSlo(const SimulationResult &r, double sloTtft,
                        double sloTpot);

} // namespace strata::serve

#endif // STRATA_SERVE_SIMULATOR_H
