//===- Timeline.h - The simulation as a Perfetto timeline -------*- C++ -*-===//
//
// strata-serve --timeline FILE: the simulated server in the Chrome Trace
// Event Format that Perfetto (ui.perfetto.dev) and chrome://tracing open.
// One process per engine (replica) with its steps and its batch and KV-pool
// counters, and one process holding every request's two phases (waiting for
// its first token, then decoding) as async slices. And the per-request CSV
// (--report csv). docs/serving.md, "Timeline and CSV".
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_SERVE_TIMELINE_H
#define STRATA_SERVE_TIMELINE_H

#include "strata/Serve/Report.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>

namespace strata::serve {

/// At most this many steps and as many requests go into a timeline;
/// `otherData.truncated` says when either was cut (the report's figures
/// cover everything).
constexpr size_t kMaxTimelineEvents = 200000;

/// The trace of `r`, whose result was simulated with
/// SchedulerConfig::recordSteps (without, it holds the requests only).
llvm::json::Value toTimeline(const ServeReport &r);

/// One row per request, in id order: id, arrival_s, prompt_tokens,
/// output_tokens, first_token_s, finish_s, ttft_s, tpot_s, e2e_s,
/// preemptions.
void writeRequestsCsv(const ServeReport &r, llvm::raw_ostream &os);

} // namespace strata::serve

#endif // STRATA_SERVE_TIMELINE_H
