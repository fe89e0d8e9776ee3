//===- Report.cpp - What strata-serve prints ------------------------------===//

#include "strata/Serve/Report.h"

#include "llvm/Support/FormatVariadic.h"

namespace strata::serve {

namespace {

struct Totals {
  double requestsPerSecond = 0, outputTokensPerSecond = 0,
         totalTokensPerSecond = 0;
  int64_t promptTokens = 0, outputTokens = 0;
  Percentiles ttft, tpot, e2e;
};

Totals totalsOf(const SimulationResult &r) {
  Totals t;
  std::vector<double> ttft, tpot, e2e;
  for (const RequestResult &q : r.requests) {
    t.promptTokens += q.request.promptTokens;
    t.outputTokens += q.request.outputTokens;
    ttft.push_back(q.ttft());
    e2e.push_back(q.e2e());
    if (q.request.outputTokens > 1)
      tpot.push_back(q.tpot());
  }
  if (r.duration > 0) {
    t.requestsPerSecond = double(r.requests.size()) / r.duration;
    t.outputTokensPerSecond = double(t.outputTokens) / r.duration;
    t.totalTokensPerSecond =
        double(t.promptTokens + t.outputTokens) / r.duration;
  }
  t.ttft = percentiles(ttft);
  t.tpot = percentiles(tpot);
  t.e2e = percentiles(e2e);
  return t;
}

std::string ms(double s) { return llvm::formatv("{0:f1} ms", s * 1e3).str(); }

std::string gib(double b) {
  return llvm::formatv("{0:f2} GiB", b / double(1ull << 30)).str();
}

llvm::json::Object toJSON(const Percentiles &p) {
  return llvm::json::Object{{"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90},
                            {"p99", p.p99},   {"max", p.max}};
}

} // namespace

void writeText(const ServeReport &r, llvm::raw_ostream &os) {
  const ServeSetup &s = r.setup;
  const SimulationResult &res = r.result;
  Totals t = totalsOf(res);
  os << "Serving report: " << s.model << " on " << s.system << " (tp=" << s.tp
     << ", ";
  if (s.prefillReplicas > 0)
    os << s.prefillReplicas << " prefill + " << s.replicas << " decode engines";
  else
    os << s.replicas << " replica" << (s.replicas == 1 ? "" : "s");
  os << "), " << s.scheduler << " batching\n\n";
  os << "Workload\n";
  os << llvm::formatv("  requests     {0}", res.requests.size());
  if (s.trace.empty())
    os << llvm::formatv(" (Poisson, {0:f3} req/s, seed {1})", s.rate, s.seed);
  else
    os << " (trace " << s.trace << ")";
  os << "\n";
  os << llvm::formatv("  tokens       {0} prompt, {1} output\n", t.promptTokens,
                      t.outputTokens);
  os << llvm::formatv("  limits       {0} sequences, {1} tokens per step\n",
                      s.maxBatch, s.maxTokens);
  if (s.launch == "graph")
    os << "  launch       decode steps replay a CUDA graph, prefill eager\n";
  if (s.speculativeTokens > 0)
    os << llvm::formatv("  speculative  k={0}, acceptance {1:f2}, draft {2}, "
                        "{3:f2} tokens per decode ({4:f2} expected)\n",
                        s.speculativeTokens, s.acceptance, s.draft,
                        res.tokensPerDecode,
                        expectedSpeculativeTokens(s.acceptance,
                                                  s.speculativeTokens));
  os << "\nKV cache (per device)\n";
  os << llvm::formatv("  capacity     {0}: weights {1}, activations {2}, KV "
                      "pool {3}\n",
                      gib(s.capacityBytes), gib(s.weightBytes),
                      gib(s.activationBytes), gib(s.kvPoolBytes));
  os << llvm::formatv("  blocks       {0} of {1} tokens ({2} KiB per token)\n",
                      s.kvBlocks, s.blockSize, s.kvBytesPerToken / 1024.0);
  os << llvm::formatv("  utilisation  {0:f1} % mean, {1:f1} % peak\n",
                      res.meanKvUtilization * 100, res.peakKvUtilization * 100);
  os << llvm::formatv("  preemptions  {0} (recompute)\n", res.preemptions);
  if (s.prefillReplicas > 0)
    os << llvm::formatv("  transfers    {0} prompts' caches over {1}, {2:f3} ms "
                        "mean\n",
                        res.kvTransfers, s.kvFabric,
                        res.kvTransfers ? res.kvTransferTime /
                                              double(res.kvTransfers) * 1e3
                                        : 0.0);
  os << "\nThroughput\n";
  os << llvm::formatv("  duration     {0:f3} s\n", res.duration);
  os << llvm::formatv("  requests     {0:f3} req/s\n", t.requestsPerSecond);
  os << llvm::formatv("  tokens       {0:f1} output tok/s, {1:f1} total tok/s\n",
                      t.outputTokensPerSecond, t.totalTokensPerSecond);
  os << llvm::formatv("  steps        {0} ({1} prefill, {2} decode, {3} mixed)\n",
                      res.steps, res.prefillSteps, res.decodeSteps,
                      res.mixedSteps);
  os << llvm::formatv("  batch        {0:f1} mean, {1} peak sequences per step\n",
                      res.meanBatch, res.peakBatch);
  os << "\nLatency        mean       p50       p90       p99\n";
  auto row = [&](llvm::StringRef name, const Percentiles &p) {
    os << llvm::formatv("  {0,-6} {1,10} {2,9} {3,9} {4,9}\n", name, ms(p.mean),
                        ms(p.p50), ms(p.p90), ms(p.p99));
  };
  row("TTFT", t.ttft);
  row("TPOT", t.tpot);
  row("E2E", t.e2e);
  os << "\nSLO";
  if (r.slo.ttft > 0)
    os << " TTFT <= " << ms(r.slo.ttft);
  if (r.slo.tpot > 0)
    os << (r.slo.ttft > 0 ? "," : "") << " TPOT <= " << ms(r.slo.tpot);
  if (r.slo.ttft <= 0 && r.slo.tpot <= 0)
    os << " (none given)";
  os << "\n";
  os << llvm::formatv("  attainment   {0:f1} % ({1} of {2} requests)\n",
                      r.slo.attainment * 100, r.slo.met, res.requests.size());
  os << llvm::formatv("  goodput      {0:f3} req/s\n", r.slo.goodput);
  if (r.maxRate)
    os << llvm::formatv("  max rate     {0:f3} req/s meets the SLO for {1:f1} "
                        "% of requests (asked {2:f0} %, {3} simulations)\n",
                        r.maxRate->rate, r.maxRate->attainment * 100,
                        r.maxRate->required * 100, r.maxRate->iterations);
  os << llvm::formatv("\nStep cost: {0} programs compiled once{1}", s.programs,
                      s.fromCache ? " (read from the cache)" : "");
  if (s.timings)
    os << llvm::formatv(" in {0:f2} s; simulated in {1:f3} s\n  grid: {2}",
                        s.compileSeconds, s.simulateSeconds, s.grid);
  os << "\n";
}

llvm::json::Value toJSON(const ServeReport &r) {
  const ServeSetup &s = r.setup;
  const SimulationResult &res = r.result;
  Totals t = totalsOf(res);
  llvm::json::Object setup{
      {"model", s.model},
      {"system", s.system},
      {"tp", s.tp},
      {"replicas", s.replicas},
      {"scheduler", s.scheduler},
      {"dtype", s.dtype},
      {"launch", s.launch},
      {"max_batch", s.maxBatch},
      {"max_tokens", s.maxTokens},
      {"block_size", s.blockSize},
      {"seed", int64_t(s.seed)},
  };
  if (s.trace.empty())
    setup["rate"] = s.rate;
  else
    setup["trace"] = s.trace;
  if (s.prefillReplicas > 0)
    setup["disaggregated"] = llvm::json::Object{
        {"prefill_replicas", s.prefillReplicas},
        {"decode_replicas", s.replicas},
        {"kv_fabric", s.kvFabric},
        {"kv_bytes_per_element", s.kvBytesPerElement},
        {"transfers", res.kvTransfers},
        {"mean_transfer_s",
         res.kvTransfers ? res.kvTransferTime / double(res.kvTransfers) : 0.0}};
  if (s.speculativeTokens > 0)
    setup["speculative"] = llvm::json::Object{
        {"k", s.speculativeTokens},
        {"acceptance", s.acceptance},
        {"draft", s.draft},
        {"tokens_per_decode", res.tokensPerDecode},
        {"expected_tokens_per_decode",
         expectedSpeculativeTokens(s.acceptance, s.speculativeTokens)}};
  llvm::json::Object kv{
      {"capacity_bytes", s.capacityBytes},
      {"weight_bytes", s.weightBytes},
      {"activation_bytes", s.activationBytes},
      {"pool_bytes", s.kvPoolBytes},
      {"bytes_per_token", s.kvBytesPerToken},
      {"blocks", s.kvBlocks},
      {"mean_utilization", res.meanKvUtilization},
      {"peak_utilization", res.peakKvUtilization},
      {"preemptions", res.preemptions},
  };
  llvm::json::Object throughput{
      {"duration_s", res.duration},
      {"requests_per_s", t.requestsPerSecond},
      {"output_tokens_per_s", t.outputTokensPerSecond},
      {"total_tokens_per_s", t.totalTokensPerSecond},
      {"prompt_tokens", t.promptTokens},
      {"output_tokens", t.outputTokens},
      {"steps", res.steps},
      {"prefill_steps", res.prefillSteps},
      {"decode_steps", res.decodeSteps},
      {"mixed_steps", res.mixedSteps},
      {"mean_batch", res.meanBatch},
      {"peak_batch", res.peakBatch},
  };
  llvm::json::Object slo{{"ttft_s", r.slo.ttft},
                         {"tpot_s", r.slo.tpot},
                         {"met", r.slo.met},
                         {"attainment", r.slo.attainment},
                         {"goodput_requests_per_s", r.slo.goodput}};
  if (r.maxRate)
    slo["max_rate"] = llvm::json::Object{
        {"requests_per_s", r.maxRate->rate},
        {"attainment", r.maxRate->attainment},
        {"required_attainment", r.maxRate->required},
        {"simulations", r.maxRate->iterations}};
  llvm::json::Object cost{{"programs", int64_t(s.programs)}};
  if (s.timings) {
    cost["compile_s"] = s.compileSeconds;
    cost["simulate_s"] = s.simulateSeconds;
  }
  return llvm::json::Object{
      {"schema", "strata.serve-report"},
      {"version", kServeReportVersion},
      {"setup", std::move(setup)},
      {"requests", int64_t(res.requests.size())},
      {"kv_cache", std::move(kv)},
      {"throughput", std::move(throughput)},
      {"latency_s", llvm::json::Object{{"ttft", toJSON(t.ttft)},
                                       {"tpot", toJSON(t.tpot)},
                                       {"e2e", toJSON(t.e2e)}}},
      {"slo", std::move(slo)},
      {"step_cost", std::move(cost)},
  };
}

} // namespace strata::serve
