//===- Simulator.cpp - Discrete-event simulation of a server --------------===//

#include "strata/Serve/Simulator.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace strata::serve {

llvm::StringRef stringifyScheduler(SchedulerKind k) {
  switch (k) {
  case SchedulerKind::Static:
    return "static";
  case SchedulerKind::Continuous:
    return "continuous";
  case SchedulerKind::Chunked:
    return "chunked";
  }
  return "continuous";
}

std::optional<SchedulerKind> parseScheduler(llvm::StringRef s) {
  return llvm::StringSwitch<std::optional<SchedulerKind>>(s)
      .Case("static", SchedulerKind::Static)
      .Case("continuous", SchedulerKind::Continuous)
      .Case("chunked", SchedulerKind::Chunked)
      .Default(std::nullopt);
}

double expectedSpeculativeTokens(double alpha, int64_t k) {
  if (alpha >= 1.0)
    return double(k + 1);
  return (1.0 - std::pow(alpha, double(k + 1))) / (1.0 - alpha);
}

double RequestResult::tpot() const {
  if (request.outputTokens <= 1)
    return 0;
  return (finish - firstToken) / double(request.outputTokens - 1);
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty())
    return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    size_t i = size_t(std::ceil(q * double(v.size())));
    return v[std::clamp<size_t>(i, 1, v.size()) - 1];
  };
  double sum = 0;
  for (double x : v)
    sum += x;
  p.mean = sum / double(v.size());
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.max = v.back();
  return p;
}

namespace {

struct Seq {
  size_t result = 0; ///< index into the results
  Request request;
  int64_t cached = 0;    ///< tokens whose KV is in the cache
  int64_t generated = 0; ///< output tokens produced
  int64_t target = 0;    ///< tokens the (re)prefill must cache
  int64_t blocks = 0;
  bool done = false;
  bool prefilled() const { return cached >= target; }
};

/// One replica's engine.
class Engine {
public:
  Engine(const SchedulerConfig &c, const StepPricer &pricer,
         std::vector<RequestResult> &results, SimulationResult &stats,
         uint64_t seed, int64_t index)
      : c(c), pricer(pricer), results(results), stats(stats), rng(seed),
        freeBlocks(c.kvBlocks), index(index) {}

  /// What an engine of a disaggregated server does.
  enum class Role {
    Both,    ///< prefill and decode (colocated)
    Prefill, ///< prefill only; a request leaves after its first token
    Decode,  ///< decode only; requests arrive with their prompt's KV cache
  };
  /// Runs the requests `mine` (result index, arrival at this engine).
  /// A prefill engine records when each request leaves in `handoff`.
  llvm::Error run(const std::vector<std::pair<size_t, double>> &mine,
                  Role role, std::vector<double> *handoff = nullptr);

private:
  int64_t blocksFor(int64_t tokens) const {
    return (tokens + c.blockSize - 1) / c.blockSize;
  }
  int64_t decodeTokens() const { return c.speculativeTokens + 1; }
  /// Grows `s` to hold `tokens` cached tokens; false when the pool is dry.
  bool grow(Seq &s, int64_t tokens) {
    int64_t need = blocksFor(tokens) - s.blocks;
    if (need <= 0)
      return true;
    if (need > freeBlocks)
      return false;
    freeBlocks -= need;
    s.blocks += need;
    return true;
  }
  void release(Seq &s) {
    freeBlocks += s.blocks;
    s.blocks = 0;
  }
  /// Preempts the most recently admitted running sequence (recompute).
  void preemptLast() {
    Seq s = running.back();
    running.pop_back();
    release(s);
    s.cached = 0;
    s.target = s.request.promptTokens + s.generated;
    ++results[s.result].preemptions;
    ++stats.preemptions;
    waiting.push_front(s);
  }
  /// Admission control: may `s` start a prefill of `tokens` tokens?
  bool admit(Seq &s, int64_t tokens) {
    if (!grow(s, tokens))
      return false;
    running.push_back(s);
    return true;
  }
  llvm::Error neverFits(const Seq &s, int64_t tokens) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("request {0} needs {1} KV blocks of {2} tokens for {3} "
                      "tokens, more than the pool's {4}",
                      s.request.id, blocksFor(tokens), c.blockSize, tokens,
                      c.kvBlocks)
            .str());
  }

  /// The step's members: (index into running, new tokens, is a decode).
  struct Member {
    size_t seq;
    int64_t tokens;
    bool decode;
  };
  llvm::Error formStatic(std::vector<Member> &step);
  llvm::Error formContinuous(std::vector<Member> &step);
  llvm::Error formChunked(std::vector<Member> &step);
  /// Admits the waiting sequences whose KV cache arrived from a prefill
  /// engine (no prefill step: their blocks are allocated and they decode),
  /// in order, while blocks are free.
  void admitTransferred() {
    while (!waiting.empty() && waiting.front().prefilled() &&
           int64_t(running.size()) < c.maxBatch) {
      Seq &s = waiting.front();
      if (!admit(s, s.cached + 1))
        break;
      waiting.pop_front();
    }
  }
  /// Makes room for every running decode's next tokens, preempting the
  /// latest admitted when the pool is dry. Returns the decodes that fit.
  size_t reserveDecodes();

  const SchedulerConfig &c;
  const StepPricer &pricer;
  std::vector<RequestResult> &results;
  SimulationResult &stats;
  Random rng;
  int64_t freeBlocks;
  int64_t index = 0; ///< among all engines (StepRecord::engine)
  std::deque<Seq> waiting;
  std::vector<Seq> running;
  int64_t staticBatch = 0;
};

llvm::Error Engine::formStatic(std::vector<Member> &step) {
  if (running.empty()) {
    while (!waiting.empty() && int64_t(running.size()) < c.maxBatch) {
      Seq &s = waiting.front();
      int64_t full = s.request.promptTokens + s.request.outputTokens;
      if (blocksFor(full) > c.kvBlocks)
        return neverFits(s, full);
      // The whole sequence is reserved up front.
      if (!admit(s, full))
        break;
      waiting.pop_front();
    }
    staticBatch = int64_t(running.size());
  }
  int64_t budget = c.maxTokens;
  for (size_t i = 0; i < running.size(); ++i) {
    Seq &s = running[i];
    if (s.prefilled())
      continue;
    int64_t n = std::min(s.target - s.cached, budget);
    if (n <= 0)
      break;
    step.push_back({i, n, false});
    budget -= n;
  }
  if (!step.empty())
    return llvm::Error::success();
  // Decode the whole batch, finished members included as padding.
  for (size_t i = 0; i < running.size(); ++i)
    step.push_back({i, 1, true});
  return llvm::Error::success();
}

size_t Engine::reserveDecodes() {
  size_t i = 0;
  while (i < running.size()) {
    Seq &s = running[i];
    if (!s.prefilled()) {
      ++i;
      continue;
    }
    if (grow(s, s.cached + decodeTokens())) {
      ++i;
      continue;
    }
    // No block for s: preempt the latest admitted (s itself if it is).
    preemptLast();
  }
  return running.size();
}

llvm::Error Engine::formContinuous(std::vector<Member> &step) {
  admitTransferred();
  // Prefills of newly admitted requests first, within the token budget.
  int64_t tokens = 0;
  while (!waiting.empty() && int64_t(running.size()) < c.maxBatch) {
    Seq &s = waiting.front();
    if (s.prefilled())
      break; // a transferred cache waiting for blocks
    int64_t n = s.target;
    if (tokens > 0 && tokens + n > c.maxTokens)
      break;
    if (blocksFor(n + 1) > c.kvBlocks)
      return neverFits(s, n + 1);
    if (!admit(s, n))
      break;
    waiting.pop_front();
    step.push_back({running.size() - 1, n, false});
    tokens += n;
  }
  if (!step.empty())
    return llvm::Error::success();
  reserveDecodes();
  for (size_t i = 0; i < running.size(); ++i)
    step.push_back({i, decodeTokens(), true});
  return llvm::Error::success();
}

llvm::Error Engine::formChunked(std::vector<Member> &step) {
  admitTransferred();
  reserveDecodes();
  int64_t budget = c.maxTokens;
  for (size_t i = 0; i < running.size(); ++i)
    if (running[i].prefilled()) {
      step.push_back({i, decodeTokens(), true});
      budget -= decodeTokens();
    }
  // Chunks of the prefills under way, then of new requests.
  for (size_t i = 0; i < running.size() && budget > 0; ++i) {
    Seq &s = running[i];
    if (s.prefilled())
      continue;
    int64_t n = std::min(s.target - s.cached, budget);
    if (!grow(s, s.cached + n))
      break;
    step.push_back({i, n, false});
    budget -= n;
  }
  while (budget > 0 && !waiting.empty() &&
         int64_t(running.size()) < c.maxBatch) {
    Seq &s = waiting.front();
    if (s.prefilled())
      break; // a transferred cache waiting for blocks
    if (blocksFor(s.target + 1) > c.kvBlocks)
      return neverFits(s, s.target + 1);
    int64_t n = std::min(s.target, budget);
    if (!admit(s, n))
      break;
    waiting.pop_front();
    step.push_back({running.size() - 1, n, false});
    budget -= n;
  }
  return llvm::Error::success();
}

llvm::Error Engine::run(const std::vector<std::pair<size_t, double>> &mine,
                        Role role, std::vector<double> *handoff) {
  size_t next = 0;
  double t = 0;
  while (next < mine.size() || !waiting.empty() || !running.empty()) {
    while (next < mine.size() && mine[next].second <= t) {
      Seq s;
      s.result = mine[next].first;
      s.request = results[s.result].request;
      s.target = s.request.promptTokens;
      if (role == Role::Decode) {
        // The prompt's KV cache came over the fabric with the first token.
        s.cached = s.target;
        s.generated = 1;
      }
      waiting.push_back(s);
      ++next;
    }
    if (waiting.empty() && running.empty()) {
      t = mine[next].second;
      continue;
    }
    std::vector<Member> step;
    llvm::Error e = llvm::Error::success();
    switch (c.kind) {
    case SchedulerKind::Static:
      e = formStatic(step);
      break;
    case SchedulerKind::Continuous:
      e = formContinuous(step);
      break;
    case SchedulerKind::Chunked:
      e = formChunked(step);
      break;
    }
    if (e)
      return e;
    if (step.empty()) {
      // Nothing could be scheduled: a prefill under way starved of blocks
      // with no decode to finish. Recompute the latest admitted.
      if (running.empty())
        return neverFits(waiting.front(), waiting.front().target);
      preemptLast();
      continue;
    }

    StepShape shape;
    shape.decodeTokens = c.kind == SchedulerKind::Static ? 1 : decodeTokens();
    double context = 0;
    bool hasPrefill = false;
    for (const Member &m : step) {
      const Seq &s = running[m.seq];
      if (m.decode) {
        ++shape.decodes;
        context += double(s.cached);
      } else {
        shape.chunks.push_back({m.tokens, s.cached});
        hasPrefill = true;
      }
    }
    if (shape.decodes > 0)
      shape.meanContext = context / double(shape.decodes);
    double dt = pricer.price(shape);
    bool speculative = c.speculativeTokens > 0 && shape.decodes > 0 &&
                       c.kind != SchedulerKind::Static;
    if (speculative && c.draft) {
      StepShape draft;
      draft.decodes = shape.decodes;
      draft.meanContext = shape.meanContext;
      dt += double(c.speculativeTokens) * c.draft->price(draft);
    }
    int64_t used = c.kvBlocks - freeBlocks;
    double util = c.kvBlocks > 0 ? double(used) / double(c.kvBlocks) : 0;
    if (c.recordSteps) {
      StepRecord rec;
      rec.engine = index;
      rec.role = role == Role::Prefill  ? StepRecord::Role::Prefill
                 : role == Role::Decode ? StepRecord::Role::Decode
                                        : StepRecord::Role::Colocated;
      rec.start = t;
      rec.end = t + dt;
      rec.sequences = int64_t(step.size());
      rec.decodes = shape.decodes;
      for (const auto &[tokens, cached] : shape.chunks)
        rec.prefillTokens += tokens;
      rec.kvUtilization = util;
      stats.stepLog.push_back(rec);
    }
    stats.meanKvUtilization += util * dt;
    stats.peakKvUtilization = std::max(stats.peakKvUtilization, util);
    stats.meanBatch += double(step.size()) * dt;
    stats.peakBatch = std::max<int64_t>(stats.peakBatch, step.size());
    stats.busyTime += dt;
    ++stats.steps;
    if (hasPrefill && shape.decodes > 0)
      ++stats.mixedSteps;
    else if (hasPrefill)
      ++stats.prefillSteps;
    else
      ++stats.decodeSteps;
    t += dt;

    for (const Member &m : step) {
      Seq &s = running[m.seq];
      if (s.done)
        continue; // static padding
      RequestResult &r = results[s.result];
      int64_t produced = 0;
      if (m.decode) {
        produced = 1;
        if (speculative) {
          int64_t accepted = 0;
          while (accepted < c.speculativeTokens && rng.uniform() < c.acceptance)
            ++accepted;
          produced = accepted + 1;
        }
        produced = std::min(produced, s.request.outputTokens - s.generated);
        s.cached += produced;
        ++stats.decodeSlots;
        stats.decodedTokens += produced;
      } else {
        s.cached += m.tokens;
        if (s.prefilled()) {
          produced = 1;
          if (s.generated == 0)
            r.firstToken = t;
        }
      }
      s.generated += produced;
      if (s.generated >= s.request.outputTokens) {
        s.done = true;
        r.finish = t;
      } else if (role == Role::Prefill && s.prefilled()) {
        s.done = true; // on to a decode engine
        (*handoff)[s.result] = t;
      }
    }
    if (c.kind == SchedulerKind::Static) {
      if (llvm::all_of(running, [](const Seq &s) { return s.done; })) {
        for (Seq &s : running)
          release(s);
        running.clear();
      }
    } else {
      std::vector<Seq> kept;
      for (Seq &s : running) {
        if (s.done)
          release(s);
        else
          kept.push_back(s);
      }
      running = std::move(kept);
    }
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<SimulationResult> simulate(const std::vector<Request> &requests,
                                          const SchedulerConfig &config,
                                          const StepPricer &pricer,
                                          int64_t replicas) {
  SimulationResult out;
  out.requests.resize(requests.size());
  for (size_t i = 0; i < requests.size(); ++i)
    out.requests[i].request = requests[i];
  auto split = [&](int64_t engines, const std::vector<double> &arrival) {
    std::vector<std::vector<std::pair<size_t, double>>> assigned(
        std::max<int64_t>(engines, 1));
    size_t k = 0;
    for (size_t i = 0; i < requests.size(); ++i)
      if (arrival[i] >= 0)
        assigned[k++ % assigned.size()].push_back({i, arrival[i]});
    for (auto &a : assigned)
      std::stable_sort(a.begin(), a.end(), [](const auto &x, const auto &y) {
        return x.second < y.second;
      });
    return assigned;
  };
  std::vector<double> arrival;
  for (const Request &r : requests)
    arrival.push_back(r.arrival);
  uint64_t engineSeed = config.seed * 7919;
  int64_t engineIndex = 0;
  if (config.prefillReplicas <= 0) {
    for (auto &mine : split(replicas, arrival)) {
      Engine e(config, pricer, out.requests, out, engineSeed++, engineIndex++);
      if (llvm::Error err = e.run(mine, Engine::Role::Both))
        return std::move(err);
    }
  } else {
    // Disaggregated: prefill engines first (they do not wait on the decode
    // pool), then each request's KV cache crosses the fabric and it joins
    // a decode engine.
    std::vector<double> handoff(requests.size(), -1.0);
    for (auto &mine : split(config.prefillReplicas, arrival)) {
      Engine e(config, pricer, out.requests, out, engineSeed++, engineIndex++);
      if (llvm::Error err = e.run(mine, Engine::Role::Prefill, &handoff))
        return std::move(err);
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      if (handoff[i] < 0)
        continue; // a one-token output finished at its prefill
      double moved = config.kvTransfer
                         ? config.kvTransfer(requests[i].promptTokens)
                         : 0.0;
      ++out.kvTransfers;
      out.kvTransferTime += moved;
      handoff[i] += moved;
    }
    for (auto &mine : split(replicas, handoff)) {
      Engine e(config, pricer, out.requests, out, engineSeed++, engineIndex++);
      if (llvm::Error err = e.run(mine, Engine::Role::Decode))
        return std::move(err);
    }
  }
  if (out.busyTime > 0) {
    out.meanKvUtilization /= out.busyTime;
    out.meanBatch /= out.busyTime;
  }
  out.tokensPerDecode =
      out.decodeSlots > 0 ? double(out.decodedTokens) / double(out.decodeSlots)
                          : 1.0;
  if (requests.empty())
    return out;
  double first = requests.front().arrival, last = 0;
  for (const RequestResult &r : out.requests)
    last = std::max(last, r.finish);
  out.duration = last - first;
  return out;
}

SloSummary summarizeSlo(const SimulationResult &r, double sloTtft,
                        double sloTpot) {
  SloSummary s;
  s.ttft = sloTtft;
  s.tpot = sloTpot;
  for (const RequestResult &q : r.requests)
    if ((sloTtft <= 0 || q.ttft() <= sloTtft) &&
        (sloTpot <= 0 || q.tpot() <= sloTpot))
      ++s.met;
  if (!r.requests.empty())
    s.attainment = double(s.met) / double(r.requests.size());
  if (r.duration > 0)
    s.goodput = double(s.met) / r.duration;
  return s;
}

} // namespace strata::serve
