//===- CostReport.h - What the estimate pass reports -------------*- C++ -*-===//
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

#include <string>
#include <utility>
#include <vector>

namespace strata::report {

/// One op of the program, summed over all its executions (a layer op in a
/// loop of 32 layers has count 32).
struct OpRow {
  std::string name;  ///< the op's location name ("layers.attn.qk_matmul")
  std::string op;    ///< the operation ("linalg.matmul")
  std::string block; ///< block kind it rolls up to ("layers.attn")
  std::string opClass; ///< contraction, elementwise, reduction, ...
  std::string dtype;  ///< element type the op computes in (bf16, fp8, ...)
  double count = 0;
  double flops = 0;
  double transcendentals = 0;
  std::vector<double> bytes; ///< per level, in CostReport::levels order
  double time = 0;           ///< seconds, all executions
  std::string boundBy;       ///< unit, level, "latency" or "launch"
  double utilization = 0;    ///< of the unit it runs on
  double energy = 0;         ///< joules
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

/// One slice of the timeline (one op execution).
struct TraceEvent {
  std::string name;
  std::string category; ///< block kind
  double start = 0;     ///< seconds
  double duration = 0;
};

struct CostReport {
  static constexpr int kSchemaVersion = 1;

  std::string system; ///< system name
  std::string chip;
  int64_t devices = 1;
  std::string entry; ///< entry function
  std::string model; ///< model name (strata.model), may be empty
  std::string mode;  ///< prefill / decode / train, may be empty
  double tokens = 0; ///< tokens processed by one run of the entry

  // Summary.
  double latency = 0; ///< seconds
  double flops = 0;
  double tokensPerSecond = 0;
  double mfu = 0;        ///< flops / (latency × peak of peakDType)
  double peakFlops = 0;  ///< the peak MFU is measured against
  std::string peakDType; ///< dtype of that peak
  double energy = 0;     ///< joules
  double energyPerToken = 0;
  std::string boundBy;   ///< resource bounding most of the time

  std::vector<std::string> levels; ///< memory levels, innermost first
  std::vector<OpRow> ops;          ///< program order of first execution
  std::vector<GroupRow> blocks;    ///< by block kind, first-seen order
  std::vector<FootprintRow> footprint;
  std::string capacityLevel; ///< level the footprint is checked against
  double capacity = 0;       ///< its capacity per device, bytes
  std::vector<std::pair<std::string, double>> unmodelled; ///< op, count
  std::vector<TraceEvent> timeline; ///< capped, see `timelineTruncated`
  bool timelineTruncated = false;

  double footprintTotal() const;
};

void writeText(const CostReport &r, llvm::raw_ostream &os);
void writeJson(const CostReport &r, llvm::raw_ostream &os);
void writeCsv(const CostReport &r, llvm::raw_ostream &os);
void writeTrace(const CostReport &r, llvm::raw_ostream &os);

} // namespace strata::report

#endif // STRATA_REPORT_COSTREPORT_H
