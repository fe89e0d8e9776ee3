//===- Trace.cpp - The cost report as a Chrome / Perfetto trace -----------===//
//
// The Trace Event Format (docs/cost-report.md, "Chrome trace"):
//
//  * process 1, "device program": one run of the entry on one device (every
//    device of an SPMD plan runs the same program). Thread 1 is its compute:
//    blocks (begin/end events, nested by their dotted names, a new instance
//    each time a block's ops repeat: one per layer) around op executions
//    (complete events). Collectives go on one thread per fabric, stage
//    transfers on a p2p thread, at the times the program spends on them.
//  * process 2, "pipeline schedule" (with a parallel plan): one thread per
//    stage, its forward and backward slot of every microbatch in the
//    schedule's order (GPipe or 1F1B), the idle time between them as
//    "bubble" slices, stage transfers on a p2p thread per stage, then the
//    exposed gradient sync (dp thread) and the optimizer.
//
// Timestamps are microseconds at nanosecond resolution (integral ns / 1000),
// so nesting is exact. At most kMaxTraceEvents op executions and as many
// schedule slots; `otherData.truncated` says when either was cut.
//
//===----------------------------------------------------------------------===//

#include "strata/Report/CostReport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace strata::report {

namespace {

int64_t ns(double seconds) { return std::llround(seconds * 1e9); }
double us(int64_t ns) { return double(ns) / 1000.0; }

constexpr int kProgramPid = 1, kSchedulePid = 2;
constexpr int kComputeTid = 1, kP2PTid = 2, kFirstFabricTid = 3;

class TraceWriter {
public:
  TraceWriter(llvm::json::OStream &j) : j(j) {}

  void meta(llvm::StringRef what, int pid, int tid, llvm::StringRef name,
            int sortIndex) {
    j.object([&] {
      j.attribute("name", what);
      j.attribute("ph", "M");
      j.attribute("pid", pid);
      if (tid >= 0)
        j.attribute("tid", tid);
      j.attributeObject("args", [&] {
        if (what.ends_with("sort_index"))
          j.attribute("sort_index", sortIndex);
        else
          j.attribute("name", name);
      });
    });
  }

  /// A complete event; `args` adds attributes to its "args" object.
  void complete(llvm::StringRef name, llvm::StringRef cat, int pid, int tid,
                int64_t startNs, int64_t endNs,
                llvm::function_ref<void()> args = nullptr) {
    j.object([&] {
      j.attribute("name", name);
      j.attribute("cat", cat);
      j.attribute("ph", "X");
      j.attribute("pid", pid);
      j.attribute("tid", tid);
      j.attribute("ts", us(startNs));
      j.attribute("dur", us(endNs - startNs));
      if (args)
        j.attributeObject("args", args);
    });
  }

  void edge(bool begin, llvm::StringRef name, llvm::StringRef cat, int pid,
            int tid, int64_t atNs) {
    j.object([&] {
      j.attribute("name", name);
      j.attribute("cat", cat);
      j.attribute("ph", begin ? "B" : "E");
      j.attribute("pid", pid);
      j.attribute("tid", tid);
      j.attribute("ts", us(atNs));
    });
  }

  /// The args of an op execution.
  void op(const TraceEvent &e) {
    j.attribute("op", e.op);
    if (!e.fabric.empty())
      j.attribute("fabric", e.fabric);
  }

  llvm::json::OStream &j;
};

/// The dotted prefixes of a block kind: "layers.attn" -> layers,
/// layers.attn.
/// Ops without a structured name (block "(unnamed)") are not nested.
std::vector<std::string> blockPath(llvm::StringRef block) {
  std::vector<std::string> path;
  if (block.empty() || block == "(unnamed)")
    return path;
  for (size_t i = block.find('.'); i != llvm::StringRef::npos;
       i = block.find('.', i + 1))
    path.push_back(block.substr(0, i).str());
  path.push_back(block.str());
  return path;
}

/// Process 1: the program's op executions, blocks nested on the compute
/// thread, collectives and p2p on their own.
void writeProgram(const CostReport &r, TraceWriter &w) {
  // One thread per fabric the collectives use, in first-use order.
  std::map<std::string, int> fabricTid;
  std::vector<std::string> fabrics;
  for (const TraceEvent &e : r.timeline)
    if (e.track == TraceTrack::Collective &&
        fabricTid.emplace(e.fabric, kFirstFabricTid + int(fabrics.size()))
            .second)
      fabrics.push_back(e.fabric);
  w.meta("thread_name", kProgramPid, kComputeTid, "compute", 0);
  w.meta("thread_sort_index", kProgramPid, kComputeTid, "", 0);
  w.meta("thread_name", kProgramPid, kP2PTid, "p2p (stage transfers)", 0);
  w.meta("thread_sort_index", kProgramPid, kP2PTid, "", 2 + int(fabrics.size()));
  for (const std::string &f : fabrics) {
    w.meta("thread_name", kProgramPid, fabricTid[f], "collectives on " + f, 0);
    w.meta("thread_sort_index", kProgramPid, fabricTid[f], "",
           fabricTid[f] - kFirstFabricTid + 1);
  }

  struct Open {
    std::string key;
    llvm::StringSet<> seen; ///< ops executed inside this instance
  };
  std::vector<Open> open;
  int64_t lastEnd = 0;
  auto closeTo = [&](size_t depth) {
    while (open.size() > depth) {
      w.edge(false, open.back().key, "block", kProgramPid, kComputeTid,
             lastEnd);
      open.pop_back();
    }
  };
  for (const TraceEvent &e : r.timeline) {
    int64_t start = ns(e.start), end = ns(e.start + e.duration);
    if (e.track != TraceTrack::Compute) {
      int tid = e.track == TraceTrack::P2P ? kP2PTid : fabricTid[e.fabric];
      w.complete(e.name, e.category, kProgramPid, tid, start, end, [&] {
        w.op(e);
      });
      continue;
    }
    std::vector<std::string> path = blockPath(e.category);
    // Keep the open blocks this op is inside of.
    size_t keep = 0;
    while (keep < open.size() && keep < path.size() &&
           open[keep].key == path[keep])
      ++keep;
    // An op that already ran in an open block starts its next instance
    // (the next layer of a loop).
    for (size_t d = 0; d < keep; ++d)
      if (open[d].seen.contains(e.name)) {
        keep = d;
        break;
      }
    closeTo(keep);
    for (size_t d = keep; d < path.size(); ++d) {
      w.edge(true, path[d], "block", kProgramPid, kComputeTid, start);
      open.push_back({path[d], {}});
    }
    for (Open &o : open)
      o.seen.insert(e.name);
    w.complete(e.name, e.category, kProgramPid, kComputeTid, start, end,
               [&] { w.op(e); });
    lastEnd = std::max(lastEnd, end);
  }
  closeTo(0);
}

double scheduleSlots(const StepRow &st) {
  return 2.0 * double(std::max<int64_t>(st.stages, 1)) *
         double(std::max<int64_t>(st.microbatches, 1));
}

/// One slot of the schedule: a microbatch's forward or backward on a stage.
struct Slot {
  bool forward;
  int64_t microbatch;
  int64_t start = 0, end = 0; ///< ns; end includes the slot's transfer
};

/// The per-stage slot order of a GPipe or 1F1B schedule and its list
/// schedule: a forward waits for the previous stage's forward of the same
/// microbatch, a backward for the next stage's backward (the last stage's
/// for its own forward), each slot for the one before it on its stage. The
/// cost core prices the same slots (forward + transfer, backward +
/// transfer; estimatePipeline), so the last slot ends at the step's
/// pipeline time.
std::vector<std::vector<Slot>> schedule(const StepRow &st) {
  const int64_t p = st.stages, m = st.microbatches;
  const int64_t c = p > 1 ? ns(st.p2pPerCrossing) : 0;
  const int64_t f = ns(st.forwardTime) + c, b = ns(st.backwardTime) + c;
  std::vector<std::vector<Slot>> order(p);
  for (int64_t s = 0; s < p; ++s) {
    int64_t warm = st.schedule == "gpipe" ? m : std::min(p - s - 1, m);
    for (int64_t i = 0; i < warm; ++i)
      order[s].push_back({true, i});
    for (int64_t i = 0; i < m - warm; ++i) {
      order[s].push_back({true, warm + i});
      order[s].push_back({false, i});
    }
    for (int64_t i = m - warm; i < m; ++i)
      order[s].push_back({false, i});
  }
  // done[s][fwd][i]: end of that slot, -1 while unscheduled.
  std::vector<std::vector<int64_t>> fwdEnd(p, std::vector<int64_t>(m, -1)),
      bwdEnd = fwdEnd;
  std::vector<size_t> next(p, 0);
  std::vector<int64_t> free(p, 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int64_t s = 0; s < p; ++s)
      while (next[s] < order[s].size()) {
        Slot &slot = order[s][next[s]];
        int64_t dep = 0;
        if (slot.forward && s > 0)
          dep = fwdEnd[s - 1][slot.microbatch];
        else if (!slot.forward)
          dep = s + 1 < p ? bwdEnd[s + 1][slot.microbatch]
                          : fwdEnd[s][slot.microbatch];
        if (dep < 0)
          break;
        slot.start = std::max(free[s], dep);
        slot.end = slot.start + (slot.forward ? f : b);
        (slot.forward ? fwdEnd : bwdEnd)[s][slot.microbatch] = slot.end;
        free[s] = slot.end;
        ++next[s];
        progress = true;
      }
  }
  return order;
}

/// Process 2: the step's schedule, one thread per stage (and one for its
/// transfers), then the exposed gradient sync and the optimizer.
void writeSchedule(const CostReport &r, TraceWriter &w) {
  const StepRow &st = *r.step;
  const int64_t p = std::max<int64_t>(st.stages, 1);
  const int64_t c = p > 1 ? ns(st.p2pPerCrossing) : 0;
  auto stageTid = [](int64_t s) { return int(2 * s + 1); };
  auto p2pTid = [](int64_t s) { return int(2 * s + 2); };
  const int dpTid = int(2 * p + 1);
  for (int64_t s = 0; s < p; ++s) {
    w.meta("thread_name", kSchedulePid, stageTid(s),
           "stage " + std::to_string(s), 0);
    w.meta("thread_sort_index", kSchedulePid, stageTid(s), "", stageTid(s));
    if (p > 1) {
      w.meta("thread_name", kSchedulePid, p2pTid(s),
             "stage " + std::to_string(s) + " p2p", 0);
      w.meta("thread_sort_index", kSchedulePid, p2pTid(s), "", p2pTid(s));
    }
  }
  w.meta("thread_name", kSchedulePid, dpTid, "data-parallel grad sync", 0);
  w.meta("thread_sort_index", kSchedulePid, dpTid, "", dpTid);

  int64_t pipelineEnd = ns(st.pipelineTime);
  if (st.virtualStages > 1 || scheduleSlots(st) > kMaxTraceEvents) {
    // Interleaved schedules (and schedules past the cap) are drawn as one
    // slice per stage of the cost core's pipeline time.
    for (int64_t s = 0; s < p; ++s)
      w.complete("pipeline (" + st.schedule + ", not drawn per microbatch)",
                 "pipeline", kSchedulePid, stageTid(s), 0, pipelineEnd);
  } else {
    std::vector<std::vector<Slot>> order = schedule(st);
    for (int64_t s = 0; s < p; ++s) {
      int64_t idle = 0;
      auto bubble = [&](int64_t from, int64_t to) {
        if (to > from)
          w.complete("bubble", "bubble", kSchedulePid, stageTid(s), from, to);
      };
      for (const Slot &slot : order[s]) {
        bubble(idle, slot.start);
        // The cost core charges one blocking transfer to every slot: a
        // stage sends its forward's activations on (the last stage
        // receives them instead) and its backward's gradients back (the
        // first stage receives them). A receive comes first in its slot.
        bool recvFirst = slot.forward ? s + 1 == p : s == 0;
        int64_t workStart = slot.start, workEnd = slot.end;
        if (c > 0) {
          int64_t from = recvFirst ? slot.start : slot.end - c;
          (recvFirst ? workStart : workEnd) = recvFirst ? slot.start + c
                                                        : slot.end - c;
          w.complete(std::string(recvFirst ? "recv " : "send ") +
                         (slot.forward ? "activations" : "gradients"),
                     "p2p", kSchedulePid, p2pTid(s), from, from + c);
        }
        std::string name = (slot.forward ? "F" : "B") +
                           std::to_string(slot.microbatch);
        w.complete(name, slot.forward ? "forward" : "backward", kSchedulePid,
                   stageTid(s), workStart, workEnd, [&] {
                     w.j.attribute("microbatch", slot.microbatch);
                     w.j.attribute("stage", s);
                   });
        idle = slot.end;
      }
      bubble(idle, pipelineEnd);
    }
  }
  // The gradient sync runs under the backward but for its exposed part;
  // the optimizer follows it.
  int64_t syncEnd = pipelineEnd + ns(st.gradSyncExposed);
  if (st.gradSyncTime > 0)
    w.complete("grad sync", "grad_sync", kSchedulePid, dpTid,
               std::max<int64_t>(0, syncEnd - ns(st.gradSyncTime)), syncEnd);
  if (st.optimizerTime > 0)
    for (int64_t s = 0; s < p; ++s)
      w.complete("optimizer", "optimizer", kSchedulePid, stageTid(s), syncEnd,
                 syncEnd + ns(st.optimizerTime));
}

} // namespace

bool traceTruncated(const CostReport &r) {
  return r.timelineTruncated ||
         (r.step && r.step->virtualStages == 1 &&
          scheduleSlots(*r.step) > kMaxTraceEvents);
}

void writeTrace(const CostReport &r, llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 1);
  TraceWriter w(j);
  j.object([&] {
    j.attribute("displayTimeUnit", "ns");
    j.attributeArray("traceEvents", [&] {
      std::string devices = r.devices > 1
                                ? " (one of " + std::to_string(r.devices) +
                                      " devices, SPMD)"
                                : "";
      w.meta("process_name", kProgramPid, -1,
             "device program: " + r.system + " @" + r.entry + devices, 0);
      w.meta("process_sort_index", kProgramPid, -1, "", 2);
      writeProgram(r, w);
      if (r.step) {
        w.meta("process_name", kSchedulePid, -1,
               "pipeline schedule: " + r.step->schedule + ", pp=" +
                   std::to_string(r.step->stages) + ", microbatches=" +
                   std::to_string(r.step->microbatches),
               0);
        w.meta("process_sort_index", kSchedulePid, -1, "", 1);
        writeSchedule(r, w);
      }
    });
    j.attributeObject("otherData", [&] {
      j.attribute("schema", "strata.trace");
      j.attribute("version", CostReport::kSchemaVersion);
      j.attribute("system", r.system);
      j.attribute("entry", r.entry);
      j.attribute("max_events", int64_t(kMaxTraceEvents));
      j.attribute("truncated", traceTruncated(r));
    });
  });
  os << "\n";
}

} // namespace strata::report
