//===- TraceTest.cpp - The trace's pipeline schedule against the cost core ===//
//
// The schedule writeTrace draws (a list schedule of GPipe / 1F1B slots) must
// agree with the cost core's closed form (cost::estimatePipeline): on every
// stage the bubbles add up to its bubble time and the last slot ends at its
// step time; every stage runs each microbatch's forward before its backward.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/Parallelism.h"
#include "strata/Report/CostReport.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace strata;

namespace {

struct Drawn {
  double end = 0;                   ///< seconds, last slot of the schedule
  std::map<int64_t, double> bubble; ///< seconds, by stage thread
  int64_t forwards = 0, backwards = 0;
  bool forwardFirst = true; ///< each stage's F<i> before its B<i>
};

Drawn drawSchedule(const report::StepRow &st) {
  report::CostReport r;
  r.system = "test";
  r.entry = "train_step";
  r.step = st;
  std::string text;
  llvm::raw_string_ostream os(text);
  report::writeTrace(r, os);
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
  EXPECT_TRUE(bool(v)) << (v ? "" : llvm::toString(v.takeError()));
  Drawn d;
  if (!v)
    return d;
  std::map<std::pair<int64_t, std::string>, bool> forwardSeen;
  for (const llvm::json::Value &ev :
       *v->getAsObject()->getArray("traceEvents")) {
    const llvm::json::Object &e = *ev.getAsObject();
    if (*e.getString("ph") != "X" || *e.getInteger("pid") != 2)
      continue;
    double start = *e.getNumber("ts") * 1e-6;
    double end = start + *e.getNumber("dur") * 1e-6;
    std::string cat = e.getString("cat")->str();
    int64_t tid = *e.getInteger("tid");
    if (cat == "bubble")
      d.bubble[tid] += end - start;
    if (cat == "forward" || cat == "backward" || cat == "p2p")
      d.end = std::max(d.end, end);
    std::string name = e.getString("name")->str();
    if (cat == "forward") {
      ++d.forwards;
      forwardSeen[{tid, name.substr(1)}] = true;
    }
    if (cat == "backward") {
      ++d.backwards;
      d.forwardFirst &= forwardSeen[{tid, name.substr(1)}];
    }
  }
  return d;
}

TEST(TraceSchedule, MatchesTheCostCore) {
  for (cost::PipelineSchedule schedule :
       {cost::PipelineSchedule::GPipe, cost::PipelineSchedule::OneFOneB})
    for (int64_t p : {1, 2, 3, 4, 8})
      for (int64_t m : {1, 2, 5, 8, 16})
        for (double c : {0.0, 1.5e-4}) {
          cost::PipelineWork w;
          w.schedule = schedule;
          w.stages = p;
          w.microbatches = m;
          w.forward = 3.25e-3;
          w.backward = 6.5e-3;
          w.p2p = c;
          llvm::Expected<cost::PipelineEstimate> pe =
              cost::estimatePipeline(w);
          ASSERT_TRUE(bool(pe));
          report::StepRow st;
          st.schedule = std::string(cost::toString(schedule));
          st.stages = p;
          st.microbatches = m;
          st.forwardTime = w.forward;
          st.backwardTime = w.backward;
          st.p2pPerCrossing = p > 1 ? c : 0;
          st.pipelineTime = pe->stepTime;
          st.bubbleTime = pe->bubbleTime;
          Drawn d = drawSchedule(st);
          SCOPED_TRACE(st.schedule + " p=" + std::to_string(p) +
                       " m=" + std::to_string(m) + " c=" + std::to_string(c));
          // Slots are drawn at nanosecond resolution.
          double tol = 1e-9 * double(4 * p * m + 1);
          EXPECT_NEAR(d.end, pe->stepTime, tol);
          EXPECT_EQ(d.forwards, p * m);
          EXPECT_EQ(d.backwards, p * m);
          EXPECT_TRUE(d.forwardFirst);
          for (int64_t s = 0; s < p; ++s)
            EXPECT_NEAR(d.bubble[2 * s + 1], pe->bubbleTime, tol);
        }
}

TEST(TraceSchedule, InterleavedIsOneSlicePerStage) {
  report::StepRow st;
  st.schedule = "interleaved-1f1b";
  st.stages = 4;
  st.microbatches = 8;
  st.virtualStages = 2;
  st.forwardTime = 1e-3;
  st.backwardTime = 2e-3;
  st.pipelineTime = 0.1;
  Drawn d = drawSchedule(st);
  EXPECT_EQ(d.forwards, 0);
  EXPECT_TRUE(d.bubble.empty());
}

TEST(TraceSchedule, CapsSlots) {
  report::CostReport r;
  r.step.emplace();
  r.step->stages = 1000;
  r.step->microbatches = 100;
  EXPECT_TRUE(report::traceTruncated(r));
  r.step->microbatches = 10;
  EXPECT_FALSE(report::traceTruncated(r));
}

} // namespace
