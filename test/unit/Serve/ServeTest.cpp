//===- ServeTest.cpp - The serving simulator's core -----------------------===//
//
// The formulas (speculative tokens per step, KV bytes), the trace reader
// and generator, the interpolation, and the schedulers on a synthetic step
// cost (a fixed launch floor, a per-token and a per-context-token term), so
// each scheduling property is checked apart from the compiler; the last
// tests check the compiled step cost against the pipeline's footprint.
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"
#include "strata/Serve/Simulator.h"
#include "strata/Serve/StepCost.h"
#include "strata/Serve/Trace.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace strata;
using namespace strata::serve;

namespace {

/// A step costs 5 ms, plus 20 us per token, plus 20 ns per cached token a
/// decode reads: the shape of a weight-streaming decode that batching
/// amortises.
class SyntheticPricer : public StepPricer {
public:
  double price(const StepShape &s) const override {
    double t = 5e-3 + 20e-6 * double(s.tokens());
    t += 20e-9 * double(s.decodes) * s.meanContext;
    for (const auto &[n, c] : s.chunks)
      t += 20e-9 * double(n) * double(c + n);
    return t;
  }
};

std::vector<Request> fixedTrace(int64_t n, double rate, int64_t prompt,
                                int64_t output, uint64_t seed = 1) {
  GeneratorOptions g;
  g.requests = n;
  g.rate = rate;
  g.seed = seed;
  g.prompt = *parseLengthDistribution("fixed:" + std::to_string(prompt));
  g.output = *parseLengthDistribution("fixed:" + std::to_string(output));
  return generateTrace(g);
}

SchedulerConfig config(SchedulerKind k, int64_t blocks = 100000) {
  SchedulerConfig c;
  c.kind = k;
  c.maxBatch = 64;
  c.maxTokens = 4096;
  c.blockSize = 16;
  c.kvBlocks = blocks;
  return c;
}

TEST(ServeTest, SpeculativeTokensPerStep) {
  // (1 - a^(k+1)) / (1 - a): the geometric series 1 + a + ... + a^k.
  EXPECT_DOUBLE_EQ(expectedSpeculativeTokens(0.0, 4), 1.0);
  EXPECT_DOUBLE_EQ(expectedSpeculativeTokens(1.0, 4), 5.0);
  EXPECT_NEAR(expectedSpeculativeTokens(0.5, 3), 1 + 0.5 + 0.25 + 0.125, 1e-15);
  EXPECT_NEAR(expectedSpeculativeTokens(0.8, 4), (1 - std::pow(0.8, 5)) / 0.2,
              1e-12);
}

TEST(ServeTest, SimulatedSpeculationYieldsTheExpectedTokens) {
  SchedulerConfig c = config(SchedulerKind::Continuous);
  c.speculativeTokens = 4;
  c.acceptance = 0.7;
  SyntheticPricer p;
  llvm::Expected<SimulationResult> r =
      simulate(fixedTrace(200, 50, 64, 2000), c, p, 1);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // The sample mean over ~10^5 decodes is within 1 % of
  // (1 - 0.7^5) / 0.3 = 2.7731 (the last decode of each request is cut
  // short by its output length, a bias of under 0.1 %).
  EXPECT_NEAR(r->tokensPerDecode, expectedSpeculativeTokens(0.7, 4), 0.03);
}

TEST(ServeTest, KvBytesOfTheCache) {
  // Llama-3-70B: 80 layers, 8 KV heads of 128, bf16: 320 KiB per token.
  workload::ModelConfig m;
  m.layers = 80;
  m.kvHeads = 8;
  m.headDim = 128;
  EXPECT_DOUBLE_EQ(kvCacheBytes(m, 1, 2), 327680.0);
  // A 2048-token prompt moved from a prefill to a decode instance: 640 MiB.
  EXPECT_DOUBLE_EQ(kvCacheBytes(m, 2048, 2), 640.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(kvCacheBytes(m, 2048, 1), 320.0 * 1024 * 1024);
}

TEST(ServeTest, Percentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i)
    v.push_back(i);
  Percentiles p = percentiles(v);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
}

TEST(ServeTest, Interpolation) {
  std::vector<double> xs = {1, 2, 4}, ys = {10, 20, 40};
  EXPECT_DOUBLE_EQ(interpolate(xs, ys, 3), 30);
  EXPECT_DOUBLE_EQ(interpolate(xs, ys, 8), 80); // extrapolated linearly
  // f(x, y) = x + 10 y on a 2 x 2 grid is bilinear, so exact.
  std::vector<double> v = {1 + 0, 1 + 100, 3 + 0, 3 + 100};
  EXPECT_DOUBLE_EQ(interpolate2({1, 3}, {0, 10}, v, 2, 5), 2 + 50);
}

TEST(ServeTest, GeneratorIsDeterministicAndScalesWithTheRate) {
  GeneratorOptions g;
  g.requests = 50;
  g.rate = 2;
  g.seed = 7;
  g.prompt = *parseLengthDistribution("lognormal:512,0.8");
  g.output = *parseLengthDistribution("uniform:16,256");
  std::vector<Request> a = generateTrace(g), b = generateTrace(g);
  g.rate = 4;
  std::vector<Request> c = generateTrace(g);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival, b[i].arrival);
    EXPECT_EQ(a[i].promptTokens, c[i].promptTokens);
    EXPECT_EQ(a[i].outputTokens, c[i].outputTokens);
    EXPECT_NEAR(a[i].arrival, 2 * c[i].arrival, 1e-9);
    EXPECT_GE(a[i].outputTokens, 16);
    EXPECT_LE(a[i].outputTokens, 256);
  }
  // Poisson: the mean gap of many arrivals is 1 / rate.
  g.requests = 20000;
  g.rate = 5;
  std::vector<Request> many = generateTrace(g);
  EXPECT_NEAR(many.back().arrival / double(many.size() - 1), 0.2, 0.005);
}

TEST(ServeTest, BurstyArrivals) {
  // Gamma gaps with cv 3 (shape 1/9): the mean gap is still 1 / rate, the
  // gaps' coefficient of variation is 3; cv 1 is the Poisson stream itself.
  GeneratorOptions g;
  g.requests = 100000;
  g.rate = 4;
  g.seed = 9;
  g.prompt = g.output = *parseLengthDistribution("fixed:8");
  for (double cv : {0.5, 3.0}) {
    g.burstiness = cv;
    std::vector<Request> t = generateTrace(g);
    double sum = 0, sq = 0;
    for (size_t i = 1; i < t.size(); ++i) {
      double gap = t[i].arrival - t[i - 1].arrival;
      sum += gap;
      sq += gap * gap;
    }
    double n = double(t.size() - 1), mean = sum / n;
    double sd = std::sqrt(sq / n - mean * mean);
    EXPECT_NEAR(mean, 0.25, 0.25 * 0.03) << cv;
    EXPECT_NEAR(sd / mean, cv, cv * 0.05) << cv;
  }
}

TEST(ServeTest, LengthDistributionErrors) {
  for (const char *bad : {"fixed:0", "uniform:5", "uniform:9,3", "normal:3",
                          "lognormal:-1,1", "fixed:x"}) {
    llvm::Expected<LengthDistribution> d = parseLengthDistribution(bad);
    EXPECT_FALSE(bool(d)) << bad;
    llvm::consumeError(d.takeError());
  }
}

TEST(ServeTest, TraceErrorsAreLocated) {
  auto error = [](llvm::StringRef text) {
    llvm::Expected<std::vector<Request>> t = parseTrace(text, "t");
    return t ? std::string("ok") : llvm::toString(t.takeError());
  };
  EXPECT_EQ(error("arrival,prompt_tokens,output_tokens\n0,10,5\n1,x,5\n"),
            "t:3: prompt_tokens 'x' is not an integer");
  EXPECT_EQ(error("arrival,prompt_tokens,output_tokens\n2,10,5\n1,10,5\n"),
            "t:3: arrivals must not decrease");
  EXPECT_EQ(error("a,b\n"),
            "t:1: expected the header 'arrival,prompt_tokens,output_tokens'");
  EXPECT_EQ(error("[\n {\"arrival\": 0, \"prompt_tokens\": 4, "
                  "\"output_tokens\": 2},\n {\"arrival\": 1, "
                  "\"prompt_tokens\": 0, \"output_tokens\": 2}\n]"),
            "t:3: prompt_tokens must be >= 1");
  EXPECT_EQ(error("{\"requests\": [{\"arrival\": 0, \"prompt\": 4}]}"),
            "t:1: unknown field 'prompt' (expected arrival, prompt_tokens, "
            "output_tokens)");
  EXPECT_EQ(error("{\"requests\": [{\"arrival\": 0.5, \"prompt_tokens\": 4, "
                  "\"output_tokens\": 3}]}"),
            "ok");
}

TEST(ServeTest, ContinuousBeatsStatic) {
  // Outputs of very different lengths: static batching holds every batch
  // until its longest member finishes.
  GeneratorOptions g;
  g.requests = 400;
  g.rate = 40;
  g.seed = 3;
  g.prompt = *parseLengthDistribution("uniform:64,512");
  g.output = *parseLengthDistribution("uniform:8,512");
  std::vector<Request> trace = generateTrace(g);
  SyntheticPricer p;
  llvm::Expected<SimulationResult> s =
      simulate(trace, config(SchedulerKind::Static), p, 1);
  llvm::Expected<SimulationResult> c =
      simulate(trace, config(SchedulerKind::Continuous), p, 1);
  ASSERT_TRUE(s && c);
  EXPECT_LT(c->duration, s->duration);
  EXPECT_LT(percentiles([&] {
              std::vector<double> v;
              for (auto &r : c->requests)
                v.push_back(r.e2e());
              return v;
            }())
                .p50,
            percentiles([&] {
              std::vector<double> v;
              for (auto &r : s->requests)
                v.push_back(r.e2e());
              return v;
            }())
                .p50);
}

TEST(ServeTest, PreemptionWhenThePoolIsFull) {
  // 32 requests of 100 + 400 tokens need 32 blocks each at the end; a pool
  // of 200 blocks admits ~25 prompts of 7 blocks, then runs dry decoding.
  std::vector<Request> trace = fixedTrace(32, 1000, 100, 400);
  SyntheticPricer p;
  for (SchedulerKind k : {SchedulerKind::Continuous, SchedulerKind::Chunked}) {
    llvm::Expected<SimulationResult> r = simulate(trace, config(k, 200), p, 1);
    ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
    EXPECT_GT(r->preemptions, 0);
    EXPECT_LE(r->peakKvUtilization, 1.0);
    for (const RequestResult &q : r->requests) {
      EXPECT_GT(q.finish, q.firstToken);
      EXPECT_GE(q.firstToken, q.request.arrival);
    }
    // With room for everyone, nobody is preempted.
    llvm::Expected<SimulationResult> roomy =
        simulate(trace, config(k, 100000), p, 1);
    ASSERT_TRUE(bool(roomy));
    EXPECT_EQ(roomy->preemptions, 0);
  }
}

TEST(ServeTest, RequestLargerThanThePoolIsAnError) {
  SyntheticPricer p;
  llvm::Expected<SimulationResult> r = simulate(
      fixedTrace(2, 1, 1000, 10), config(SchedulerKind::Continuous, 10), p, 1);
  ASSERT_FALSE(bool(r));
  EXPECT_EQ(llvm::toString(r.takeError()),
            "request 0 needs 63 KV blocks of 16 tokens for 1001 tokens, more "
            "than the pool's 10");
}

TEST(ServeTest, ChunkedPrefillAvoidsGenerationStalls) {
  // Long prompts arriving while others decode: a continuous scheduler runs
  // each prompt's whole prefill as one step that every decode waits for;
  // chunks under a 256-token budget ride along with the decodes
  // (Sarathi-Serve), so the worst time between two tokens falls.
  std::vector<Request> trace = fixedTrace(50, 20, 2000, 64);
  SyntheticPricer p;
  SchedulerConfig chunked = config(SchedulerKind::Chunked);
  chunked.maxTokens = 256;
  llvm::Expected<SimulationResult> c = simulate(trace, chunked, p, 1);
  llvm::Expected<SimulationResult> v =
      simulate(trace, config(SchedulerKind::Continuous), p, 1);
  ASSERT_TRUE(c && v);
  EXPECT_GT(c->mixedSteps, 0);
  EXPECT_EQ(v->mixedSteps, 0);
  auto worstTpot = [](const SimulationResult &r) {
    std::vector<double> t;
    for (const RequestResult &q : r.requests)
      t.push_back(q.tpot());
    return percentiles(t).max;
  };
  EXPECT_LT(worstTpot(*c), worstTpot(*v));
}

TEST(ServeTest, DeterministicAndReplicasSplitTheLoad) {
  std::vector<Request> trace = fixedTrace(300, 30, 256, 128, 11);
  SyntheticPricer p;
  llvm::Expected<SimulationResult> a =
      simulate(trace, config(SchedulerKind::Continuous), p, 1);
  llvm::Expected<SimulationResult> b =
      simulate(trace, config(SchedulerKind::Continuous), p, 1);
  llvm::Expected<SimulationResult> two =
      simulate(trace, config(SchedulerKind::Continuous), p, 2);
  ASSERT_TRUE(a && b && two);
  for (size_t i = 0; i < trace.size(); ++i)
    EXPECT_EQ(a->requests[i].finish, b->requests[i].finish);
  EXPECT_LT(two->meanBatch, a->meanBatch);
}

TEST(ServeTest, DisaggregatedPrefillHandsTheCacheOver) {
  // One prefill and one decode engine; a prompt's cache takes 50 ms to
  // move. Every request with more than one output token is moved once, its
  // prompt length is what the transfer is priced on, and its second token
  // comes at least 50 ms after its first.
  std::vector<Request> trace = fixedTrace(40, 20, 300, 32);
  trace[5].outputTokens = 1; // finishes at its prefill
  SchedulerConfig c = config(SchedulerKind::Continuous);
  c.prefillReplicas = 1;
  std::vector<int64_t> prompts;
  c.kvTransfer = [&](int64_t prompt) {
    prompts.push_back(prompt);
    return 0.05;
  };
  SyntheticPricer p;
  llvm::Expected<SimulationResult> r = simulate(trace, c, p, 1);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ(r->kvTransfers, 39);
  EXPECT_DOUBLE_EQ(r->kvTransferTime, 39 * 0.05);
  EXPECT_EQ(prompts, std::vector<int64_t>(39, 300));
  for (const RequestResult &q : r->requests) {
    if (q.request.outputTokens == 1) {
      EXPECT_EQ(q.finish, q.firstToken);
      continue;
    }
    EXPECT_GE(q.finish - q.firstToken, 0.05);
  }
  // No decode ever waits behind a prefill: the decode engine's steps are
  // decodes only, the prefill engine's prefills only.
  EXPECT_EQ(r->mixedSteps, 0);
  EXPECT_EQ(r->prefillSteps + r->decodeSteps, r->steps);
}

TEST(ServeTest, DisaggregatedDecodePoolRunsFull) {
  // Decode engines whose pool cannot hold every transferred cache: a cache
  // waits for blocks (it is not prefilled again), decodes that run dry
  // preempt, and every request still completes.
  std::vector<Request> trace = fixedTrace(30, 1000, 300, 200);
  SchedulerConfig c = config(SchedulerKind::Continuous, 120);
  c.prefillReplicas = 1;
  c.kvTransfer = [](int64_t) { return 0.001; };
  SyntheticPricer p;
  llvm::Expected<SimulationResult> r = simulate(trace, c, p, 1);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_GT(r->preemptions, 0);
  EXPECT_EQ(r->kvTransfers, 30);
  for (const RequestResult &q : r->requests)
    EXPECT_GT(q.finish, q.firstToken);
  // Prefill steps: at most one per prompt on the prefill engine (the pool
  // of 120 blocks holds six 19-block prompts) and one per recomputation of
  // a preempted sequence on the decode engine, never more.
  EXPECT_LE(r->prefillSteps, 30 + r->preemptions);
}

/// The compiled step cost's KV figure is the pipeline's footprint, which
/// is the formula over the tensor-parallel devices.
TEST(ServeTest, CompiledKvBytesMatchTheFormula) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  workload::registerWorkloadDialects(registry);
  registerAllPasses();
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.disableMultithreading();
  mlir::FailureOr<workload::ModelConfig> m =
      workload::loadModelConfig("llama-3-70b", STRATA_MODELS_DIR, &ctx);
  ASSERT_TRUE(succeeded(m));
  StepCostOptions o;
  o.tp = 8;
  o.maxBatch = 2;
  o.maxContext = 64;
  o.maxTokens = 2;
  llvm::Expected<StepCostModel> s =
      StepCostModel::compile(ctx, *m, *hw::getPreset("dgx-h100"), o);
  ASSERT_TRUE(bool(s)) << llvm::toString(s.takeError());
  EXPECT_DOUBLE_EQ(s->kvBytesPerToken() * 8, kvCacheBytes(*m, 1, 2));
  EXPECT_EQ(s->capacityBytes(), 80.0 * (1ull << 30));
  // A grid point priced by the model is the pipeline's number exactly.
  StepShape d;
  d.decodes = 2;
  d.meanContext = 64;
  llvm::Expected<double> direct = s->direct(2, 1, 64);
  ASSERT_TRUE(bool(direct));
  EXPECT_NEAR(s->price(d), *direct, *direct * 1e-12);
}

} // namespace

TEST(ServeTest, StepLogAccountsForEveryStep) {
  // The timeline's steps (SchedulerConfig::recordSteps) are the simulation's:
  // as many as it counts, each engine's in time order without overlap, their
  // durations summing to the busy time and their batch to the time-weighted
  // mean; recording changes no result.
  std::vector<Request> trace = fixedTrace(300, 30, 256, 128, 11);
  SyntheticPricer p;
  SchedulerConfig c = config(SchedulerKind::Chunked);
  llvm::Expected<SimulationResult> plain = simulate(trace, c, p, 2);
  c.recordSteps = true;
  llvm::Expected<SimulationResult> logged = simulate(trace, c, p, 2);
  ASSERT_TRUE(plain && logged);
  EXPECT_TRUE(plain->stepLog.empty());
  ASSERT_EQ(int64_t(logged->stepLog.size()), logged->steps);
  for (size_t i = 0; i < trace.size(); ++i)
    EXPECT_EQ(plain->requests[i].finish, logged->requests[i].finish);
  double busy = 0, batch = 0;
  int64_t mixed = 0;
  std::set<int64_t> engines;
  for (size_t i = 0; i < logged->stepLog.size(); ++i) {
    const StepRecord &s = logged->stepLog[i];
    engines.insert(s.engine);
    EXPECT_GT(s.end, s.start);
    if (i > 0 && logged->stepLog[i - 1].engine == s.engine) {
      EXPECT_GE(s.start, logged->stepLog[i - 1].end);
    }
    busy += s.end - s.start;
    batch += double(s.sequences) * (s.end - s.start);
    mixed += s.decodes > 0 && s.prefillTokens > 0;
  }
  EXPECT_EQ(engines, (std::set<int64_t>{0, 1}));
  EXPECT_NEAR(busy, logged->busyTime, 1e-9 * logged->busyTime);
  EXPECT_NEAR(batch / busy, logged->meanBatch, 1e-9 * logged->meanBatch);
  EXPECT_EQ(mixed, logged->mixedSteps);
}
