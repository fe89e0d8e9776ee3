//===- Report.h - What strata-serve prints ----------------------*- C++ -*-===//
//
// The serving report: the setup, the KV pool, throughput, TTFT/TPOT/E2E
// percentiles, goodput under the SLO, KV utilisation, batch size and
// preemptions; as text or JSON (docs/serving.md lists the fields).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_SERVE_REPORT_H
#define STRATA_SERVE_REPORT_H

#include "strata/Serve/Simulator.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace strata::serve {

struct ServeSetup {
  std::string model, system, scheduler, dtype;
  std::string launch = "eager"; ///< --launch: eager or graph (decode steps)
  int64_t tp = 1, replicas = 1, devicesPerReplica = 1;
  std::string trace; ///< file, or "" when generated
  double rate = 0;   ///< generator's requests/s (0 for a trace)
  uint64_t seed = 0;
  int64_t maxBatch = 0, maxTokens = 0, blockSize = 0;
  int64_t speculativeTokens = 0;
  /// Disaggregation: prefill engines (0: off), the fabric KV caches cross
  /// and the cache's bytes per element.
  int64_t prefillReplicas = 0;
  std::string kvFabric;
  double kvBytesPerElement = 0;
  double acceptance = 0;
  std::string draft;
  // The KV pool of one replica (per device figures).
  double capacityBytes = 0, weightBytes = 0, activationBytes = 0;
  double kvPoolBytes = 0, kvBytesPerToken = 0;
  int64_t kvBlocks = 0;
  // The compiled step cost.
  size_t programs = 0;
  bool fromCache = false;
  std::string grid; ///< the grid's sizes, for --print-stats
  /// Wall-clock times, reported only when asked (--print-stats): the rest
  /// of the report is a function of the inputs.
  bool timings = false;
  double compileSeconds = 0, simulateSeconds = 0;
};

struct MaxRate {
  double rate = 0;       ///< highest rate found meeting the SLO
  double attainment = 0; ///< at that rate
  double required = 0;   ///< the attainment asked for
  int iterations = 0;
};

struct ServeReport {
  ServeSetup setup;
  SimulationResult result;
  SloSummary slo;
  std::optional<MaxRate> maxRate;
};

/// The JSON report's "version" (docs/serve-report.schema.json).
constexpr int64_t kServeReportVersion = 1;

void writeText(const ServeReport &r, llvm::raw_ostream &os);
llvm::json::Value toJSON(const ServeReport &r);

} // namespace strata::serve

#endif // STRATA_SERVE_REPORT_H
