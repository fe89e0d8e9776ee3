//===- Timeline.cpp - The simulation as a Perfetto timeline ---------------===//
//
// Trace Event Format, as lib/Report/Trace.cpp writes the cost report's:
// timestamps in microseconds at nanosecond resolution (integral ns / 1000),
//  * pid 1.. : one process per engine, "engine N (colocated | prefill |
//    decode)"; thread 1 holds its steps as complete events named after what
//    the step does (prefill, decode, mixed), with the sequences, decodes,
//    prompt tokens and KV-pool share as args; counters "batch" (sequences)
//    and "kv pool" (share in use) change at each step's start and fall to 0
//    when the engine idles;
//  * pid 0, "requests": each request's time to its first token and its
//    decode as two async slices with the request's id (Perfetto draws them
//    on one track per request).
//
//===----------------------------------------------------------------------===//

#include "strata/Serve/Timeline.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>

namespace strata::serve {

namespace {

/// Seconds to trace microseconds, rounded to whole nanoseconds.
double micros(double seconds) { return std::round(seconds * 1e9) / 1e3; }

llvm::StringRef roleName(StepRecord::Role r) {
  switch (r) {
  case StepRecord::Role::Colocated:
    return "colocated";
  case StepRecord::Role::Prefill:
    return "prefill";
  case StepRecord::Role::Decode:
    return "decode";
  }
  return "colocated";
}

/// (A json::Value made from a StringRef keeps the reference: the name is
/// taken as a std::string so that a formatted one is copied.)
llvm::json::Object metadata(llvm::StringRef what, int64_t pid, int64_t tid,
                            std::string name) {
  return llvm::json::Object{{"ph", "M"},
                            {"name", what},
                            {"pid", pid},
                            {"tid", tid},
                            {"args", llvm::json::Object{{"name", std::move(name)}}}};
}

} // namespace

llvm::json::Value toTimeline(const ServeReport &r) {
  llvm::json::Array events;
  const SimulationResult &res = r.result;
  bool truncated = false;

  events.push_back(metadata("process_name", 0, 0, "requests"));
  size_t requests = 0;
  for (const RequestResult &q : res.requests) {
    if (requests == kMaxTimelineEvents) {
      truncated = true;
      break;
    }
    ++requests;
    llvm::json::Object args{{"prompt_tokens", q.request.promptTokens},
                            {"output_tokens", q.request.outputTokens},
                            {"ttft_s", q.ttft()},
                            {"tpot_s", q.tpot()},
                            {"preemptions", q.preemptions}};
    auto phase = [&](llvm::StringRef name, double from, double to) {
      std::string id = llvm::formatv("{0}", q.request.id).str();
      events.push_back(llvm::json::Object{{"ph", "b"},
                                          {"cat", "request"},
                                          {"name", name},
                                          {"id", id},
                                          {"pid", 0},
                                          {"tid", 0},
                                          {"ts", micros(from)},
                                          {"args", llvm::json::Object(args)}});
      events.push_back(llvm::json::Object{{"ph", "e"},
                                          {"cat", "request"},
                                          {"name", name},
                                          {"id", id},
                                          {"pid", 0},
                                          {"tid", 0},
                                          {"ts", micros(to)}});
    };
    phase("to first token", q.request.arrival, q.firstToken);
    if (q.finish > q.firstToken)
      phase("decode", q.firstToken, q.finish);
  }

  std::map<int64_t, StepRecord::Role> engines;
  for (const StepRecord &s : res.stepLog)
    engines.emplace(s.engine, s.role);
  for (const auto &[engine, role] : engines) {
    int64_t pid = engine + 1;
    events.push_back(metadata(
        "process_name", pid, 0,
        llvm::formatv("engine {0} ({1})", engine, roleName(role)).str()));
    events.push_back(metadata("thread_name", pid, 1, "steps"));
  }
  auto counter = [&](llvm::StringRef name, int64_t pid, double ts,
                     llvm::StringRef key, llvm::json::Value v) {
    events.push_back(
        llvm::json::Object{{"ph", "C"},
                           {"name", name},
                           {"pid", pid},
                           {"ts", micros(ts)},
                           {"args", llvm::json::Object{{key, std::move(v)}}}});
  };
  size_t steps = 0;
  for (size_t i = 0; i < res.stepLog.size(); ++i) {
    if (steps == kMaxTimelineEvents) {
      truncated = true;
      break;
    }
    ++steps;
    const StepRecord &s = res.stepLog[i];
    int64_t pid = s.engine + 1;
    llvm::StringRef kind = s.prefillTokens > 0 && s.decodes > 0 ? "mixed"
                           : s.prefillTokens > 0               ? "prefill"
                                                               : "decode";
    events.push_back(llvm::json::Object{
        {"ph", "X"},
        {"cat", "step"},
        {"name", kind},
        {"pid", pid},
        {"tid", 1},
        {"ts", micros(s.start)},
        {"dur", micros(s.end) - micros(s.start)},
        {"args", llvm::json::Object{{"sequences", s.sequences},
                                    {"decodes", s.decodes},
                                    {"prefill_tokens", s.prefillTokens},
                                    {"kv_utilization", s.kvUtilization}}}});
    counter("batch", pid, s.start, "sequences", s.sequences);
    counter("kv pool", pid, s.start, "utilization", s.kvUtilization);
    // The engine idles after this step unless its next one starts at once.
    bool idles = i + 1 == res.stepLog.size() ||
                 res.stepLog[i + 1].engine != s.engine ||
                 micros(res.stepLog[i + 1].start) > micros(s.end);
    if (idles) {
      counter("batch", pid, s.end, "sequences", int64_t(0));
      counter("kv pool", pid, s.end, "utilization", 0.0);
    }
  }

  llvm::json::Object other{{"model", r.setup.model},
                           {"system", r.setup.system},
                           {"scheduler", r.setup.scheduler},
                           {"replicas", r.setup.replicas},
                           {"requests", int64_t(res.requests.size())},
                           {"steps", int64_t(res.stepLog.size())},
                           {"truncated", truncated}};
  return llvm::json::Object{{"traceEvents", std::move(events)},
                            {"displayTimeUnit", "ms"},
                            {"otherData", std::move(other)}};
}

void writeRequestsCsv(const ServeReport &r, llvm::raw_ostream &os) {
  os << "id,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,"
        "ttft_s,tpot_s,e2e_s,preemptions\n";
  for (const RequestResult &q : r.result.requests)
    os << llvm::formatv("{0},{1:e15},{2},{3},{4:e15},{5:e15},{6:e15},{7:e15},"
                        "{8:e15},{9}\n",
                        q.request.id, q.request.arrival, q.request.promptTokens,
                        q.request.outputTokens, q.firstToken, q.finish,
                        q.ttft(), q.tpot(), q.e2e(), q.preemptions);
}

} // namespace strata::serve
