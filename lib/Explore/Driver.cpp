//===- Driver.cpp - One design-space sweep, end to end --------------------===//

#include "strata/Explore/Driver.h"
#include "strata/Explore/Checkpoint.h"
#include "strata/Explore/Comm.h"
#include "strata/Explore/Engine.h"
#include "strata/Explore/Report.h"
#include "strata/Explore/Results.h"
#include "strata/Hardware/Json.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

using namespace mlir;

namespace strata::explore {

namespace {

using Clock = std::chrono::steady_clock;

double cpuSeconds() {
  llvm::sys::TimePoint<> elapsed;
  std::chrono::nanoseconds user, system;
  llvm::sys::Process::GetTimeUsage(elapsed, user, system);
  return std::chrono::duration<double>(user + system).count();
}

/// A one-line bar on stderr, redrawn at most ten times a second, from the
/// first second of a sweep on; nothing when stderr is not a terminal.
class Progress {
public:
  Progress(uint64_t total, bool enabled)
      : total(total), start(Clock::now()),
        enabled(enabled && llvm::sys::Process::StandardErrIsDisplayed()) {}
  void update(uint64_t done) {
    if (!enabled)
      return;
    Clock::time_point now = Clock::now();
    double t = std::chrono::duration<double>(now - start).count();
    // The last update always draws (once the bar is up), so it ends at
    // 100 %.
    if (t < 1.0 || (now - last < std::chrono::milliseconds(100) &&
                    !(shown && done == total)))
      return;
    last = now;
    shown = true;
    double rate = done / t;
    double eta = rate > 0 ? (total - done) / rate : 0;
    constexpr int width = 30;
    int filled = total ? int(width * double(done) / double(total)) : width;
    llvm::errs() << "\r[" << std::string(filled, '#')
                 << std::string(width - filled, '.') << "] "
                 << llvm::formatv("{0,5:f1}% {1}/{2} {3:f0} points/s ETA "
                                  "{4:f0} s  ",
                                  total ? 100.0 * done / total : 100.0, done,
                                  total, rate, eta);
  }
  ~Progress() {
    if (shown)
      llvm::errs() << "\n";
  }

private:
  uint64_t total;
  Clock::time_point start, last;
  bool enabled, shown = false;
};

/// f(0) ... f(n - 1) on `jobs` threads (contiguous slices).
template <typename F> void parallelFor(uint64_t n, unsigned jobs, F f) {
  if (jobs <= 1 || n < 2 * jobs) {
    for (uint64_t i = 0; i < n; ++i)
      f(i);
    return;
  }
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < jobs; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = n * t / jobs, e = n * (t + 1) / jobs; i < e; ++i)
        f(i);
    });
  for (std::thread &t : threads)
    t.join();
}

llvm::Error emitPoint(llvm::StringRef dir, uint64_t index,
                      const hw::System &sys, const Plan *plan,
                      llvm::StringRef pipelineOptions) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "point-" + std::to_string(index) + ".json");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '" + path + "'");
  os << llvm::formatv("{0:2}", hw::toJSON(sys)) << "\n";
  // The strata-pipeline options that reproduce the point with this system.
  llvm::SmallString<256> opts(dir);
  llvm::sys::path::append(opts, "point-" + std::to_string(index) + ".options");
  llvm::raw_fd_ostream o(opts, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '" + opts + "'");
  std::string text = pipelineOptions.str();
  if (plan)
    text += (text.empty() ? "" : " ") + plan->pipelineOptions();
  o << text << "\n";
  return llvm::Error::success();
}

} // namespace

WorkloadBuilder modelWorkload(MLIRContext &ctx,
                              const workload::ModelConfig &config,
                              const workload::WorkloadOptions &options) {
  auto built = std::make_shared<
      std::map<std::pair<int64_t, std::string>, OwningOpRef<ModuleOp>>>();
  return [&ctx, config, options, built](const Plan *plan,
                                        std::string &error)
             -> OwningOpRef<ModuleOp> {
    int64_t batch = plan && plan->batch > 0 ? plan->batch : options.batch;
    int64_t m = plan ? plan->microbatches : 1;
    if (batch % m != 0) {
      error = llvm::formatv("the batch of {0} is not a whole number of {1} "
                            "microbatches",
                            batch, m)
                  .str();
      return nullptr;
    }
    std::string precision = plan ? plan->precision : "";
    auto key = std::make_pair(batch / m, precision);
    auto it = built->find(key);
    if (it == built->end()) {
      workload::WorkloadOptions o = options;
      o.batch = batch / m;
      if (!precision.empty())
        o.dtype = *workload::parseWorkloadDType(precision);
      OwningOpRef<ModuleOp> mod =
          workload::buildTransformerModule(config, o, &ctx);
      if (!mod) {
        error = "the workload generator failed";
        return nullptr;
      }
      it = built->emplace(key, std::move(mod)).first;
    }
    return OwningOpRef<ModuleOp>(cast<ModuleOp>(it->second->clone()));
  };
}

WorkloadBuilder moduleWorkload(ModuleOp module) {
  return [module](const Plan *, std::string &) {
    return OwningOpRef<ModuleOp>(cast<ModuleOp>(module->clone()));
  };
}

namespace {

/// Consecutive hardware points [first, first + count) of one plan: the unit
/// of checkpointing and of the split between processes.
struct Chunk {
  uint64_t plan = 0, first = 0, count = 0;
};

/// A plan's workload lowered on the base system (or why it was rejected).
struct PlanEngine {
  uint64_t plan = ~uint64_t(0);
  std::unique_ptr<Engine> engine;
  std::string problem;
};

/// Per plan: the first hardware index of every lowering key met so far.
using OriginTable = std::map<std::vector<double>, uint64_t>;

class SweepRun {
public:
  SweepRun(MLIRContext &ctx, const SweepSpec &spec, const hw::System &base,
           const WorkloadBuilder &build, const DriverOptions &options)
      : ctx(ctx), spec(spec), base(base), build(build), options(options),
        comm(Comm::world()) {}
  llvm::Expected<DriverStats> run();

private:
  const Plan *planAt(uint64_t pi) const {
    return plans.empty() ? nullptr : &plans[pi];
  }
  PlanEngine openPlan(uint64_t pi);
  llvm::Expected<hw::System> systemOf(uint64_t pi, uint64_t h) const;
  llvm::Error prepareCheckpoint();
  llvm::Error exchangeKeys(const std::vector<uint64_t> &mine,
                           std::map<uint64_t, PlanEngine> &kept);
  llvm::Expected<ChunkResult> priceChunk(uint64_t c, PlanEngine &pe);
  llvm::Error assemble(PlanEngine *firstEngine);

  MLIRContext &ctx;
  const SweepSpec &spec;
  const hw::System &base;
  const WorkloadBuilder &build;
  const DriverOptions &options;
  const Comm &comm;
  DriverStats stats;
  std::vector<Plan> plans;
  uint64_t hwPoints = 0, total = 0;
  std::vector<Chunk> chunks;
  std::string ckDir;
  std::set<uint64_t> checks;
  std::map<uint64_t, OriginTable> origins;
  PlanEngine firstEngine;
};

PlanEngine SweepRun::openPlan(uint64_t pi) {
  PlanEngine pe;
  pe.plan = pi;
  const Plan *plan = planAt(pi);
  OwningOpRef<ModuleOp> module = build(plan, pe.problem);
  if (!module)
    return pe;
  std::string opts = options.pipelineOptions;
  if (plan)
    opts += (opts.empty() ? "" : " ") + plan->pipelineOptions();
  pe.engine =
      std::make_unique<Engine>(ctx, std::move(module), options.entry, opts);
  pe.engine->setExact(options.exact);
  pe.engine->setEarlyFitCheck(options.earlyFitCheck);
  Clock::time_point c0 = Clock::now();
  if (llvm::Error e = pe.engine->compile(base)) {
    pe.problem = llvm::toString(std::move(e));
    pe.engine.reset();
  }
  stats.compileSeconds +=
      std::chrono::duration<double>(Clock::now() - c0).count();
  return pe;
}

llvm::Expected<hw::System> SweepRun::systemOf(uint64_t pi, uint64_t h) const {
  hw::System sys = base;
  sys.name = base.name + "@" + std::to_string(pi * hwPoints + h);
  std::vector<double> values = spec.point(h);
  for (size_t a = 0; a < spec.axes.size(); ++a)
    if (llvm::Error e = writeAxis(sys, spec.axes[a].path, values[a]))
      return std::move(e);
  return sys;
}

/// Rank 0 clears the checkpoint (or, with --resume, checks that it is this
/// sweep's) before any process looks at it.
llvm::Error SweepRun::prepareCheckpoint() {
  ckDir = checkpointDir(options.outDir);
  llvm::SmallString<256> idPath(ckDir);
  llvm::sys::path::append(idPath, "sweep.txt");
  std::string identity =
      llvm::formatv("{0}\nplans {1}\nhardware points {2}\nchunk points {3}\n",
                    options.identity, plans.size(), hwPoints,
                    options.chunkPoints)
          .str();
  if (comm.rank() != 0)
    return llvm::Error::success();
  bool keep = false;
  if (options.resume) {
    if (auto buf = llvm::MemoryBuffer::getFile(idPath)) {
      if ((*buf)->getBuffer() != identity)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "--resume: the checkpoint in '" + ckDir +
                "' is of another sweep (the spec, system, workload or "
                "options differ); run without --resume to start over");
      keep = true;
    }
  }
  if (!keep) {
    if (std::error_code ec = llvm::sys::fs::remove_directories(ckDir))
      return llvm::createStringError(ec, "cannot clear '" + ckDir + "'");
    if (std::error_code ec = llvm::sys::fs::create_directories(ckDir))
      return llvm::createStringError(ec, "cannot create '" + ckDir + "'");
    std::error_code ec;
    llvm::raw_fd_ostream os(idPath, ec);
    if (ec)
      return llvm::createStringError(ec, "cannot write '" + idPath + "'");
    os << identity;
  }
  return llvm::Error::success();
}

/// For the plans whose remaining chunks several processes share: each
/// computes the lowering keys of its points of them, and all learn the
/// first point of every key, so each makes a key's lowering for the same
/// system one process would have made it for.
llvm::Error SweepRun::exchangeKeys(const std::vector<uint64_t> &mine,
                                   std::map<uint64_t, PlanEngine> &kept) {
  ByteWriter w;
  std::vector<std::pair<uint64_t, KeyOrigin>> found;
  for (uint64_t c : mine) {
    const Chunk &ch = chunks[c];
    if (!kept.count(ch.plan))
      continue;
    PlanEngine &pe = kept[ch.plan];
    if (pe.plan != ch.plan)
      pe = openPlan(ch.plan);
    if (!pe.engine || options.exact)
      continue;
    std::vector<hw::System> systems;
    for (uint64_t k = 0; k < ch.count; ++k) {
      llvm::Expected<hw::System> sys = systemOf(ch.plan, ch.first + k);
      if (!sys)
        return sys.takeError();
      systems.push_back(std::move(*sys));
    }
    std::vector<std::vector<double>> keys(ch.count);
    parallelFor(ch.count, options.jobs, [&](uint64_t k) {
      Engine::Prepared p = pe.engine->prepare(systems[k]);
      if (!p.done)
        keys[k] = std::move(p.key);
    });
    OriginTable &table = origins[ch.plan];
    for (uint64_t k = 0; k < ch.count; ++k)
      if (!keys[k].empty() &&
          table.emplace(keys[k], ch.first + k).second)
        found.push_back({ch.plan, {keys[k], ch.first + k}});
  }
  w.u64(found.size());
  for (auto &[plan, key] : found) {
    w.u64(plan);
    w.u64(key.second);
    w.f64s(key.first);
  }
  for (const std::string &bytes : comm.allgather(w.bytes())) {
    ByteReader r(bytes);
    uint64_t n = r.u64();
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      uint64_t plan = r.u64();
      uint64_t origin = r.u64();
      std::vector<double> key = r.f64s();
      auto [it, added] = origins[plan].emplace(std::move(key), origin);
      if (!added)
        it->second = std::min(it->second, origin);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<ChunkResult> SweepRun::priceChunk(uint64_t c, PlanEngine &pe) {
  const Chunk &ch = chunks[c];
  const Plan *plan = planAt(ch.plan);
  ChunkResult res;
  res.chunk = c;
  res.plan = ch.plan;
  res.firstPoint = ch.first;
  res.compiled = pe.engine != nullptr;
  res.points.resize(ch.count);
  if (!pe.engine) {
    // The plan is rejected (by the pipeline's validation or the workload):
    // every hardware point of it says why.
    for (ChunkPoint &p : res.points) {
      p.result.valid = false;
      p.result.problem = pe.problem;
    }
    return res;
  }
  Engine &engine = *pe.engine;
  // The systems built in order, keys and prices on `jobs` threads, the new
  // lowerings made on this one in point order.
  std::vector<hw::System> systems;
  systems.reserve(ch.count);
  for (uint64_t k = 0; k < ch.count; ++k) {
    llvm::Expected<hw::System> sys = systemOf(ch.plan, ch.first + k);
    if (!sys)
      return sys.takeError();
    if (!options.emitSystems.empty())
      if (llvm::Error e =
              emitPoint(options.emitSystems, ch.plan * hwPoints + ch.first + k,
                        *sys, plan, options.pipelineOptions))
        return std::move(e);
    systems.push_back(std::move(*sys));
  }
  std::vector<Engine::Prepared> prepared(ch.count);
  parallelFor(ch.count, options.jobs, [&](uint64_t k) {
    prepared[k] = engine.prepare(systems[k]);
  });
  OriginTable &table = origins[ch.plan];
  for (uint64_t k = 0; k < ch.count; ++k) {
    Engine::Prepared &p = prepared[k];
    uint64_t h = ch.first + k;
    if (p.done || options.exact || engine.hasLowering(p.key)) {
      engine.lowerIfNew(p, systems[k]);
      continue;
    }
    // The lowering of a key is made for the first point of the plan that
    // has it, whichever process prices it and whenever.
    auto [it, added] = table.emplace(p.key, h);
    if (added || it->second >= h) {
      engine.lowerIfNew(p, systems[k]);
      continue;
    }
    llvm::Expected<hw::System> origin = systemOf(ch.plan, it->second);
    if (!origin)
      return origin.takeError();
    engine.lowerIfNew(p, systems[k], &*origin);
  }
  parallelFor(ch.count, options.jobs, [&](uint64_t k) {
    res.points[k].result = engine.finish(prepared[k], systems[k]);
  });
  for (uint64_t k = 0; k < ch.count; ++k) {
    ChunkPoint &p = res.points[k];
    uint64_t index = ch.plan * hwPoints + ch.first + k;
    if (!checks.count(index) || !p.result.valid)
      continue;
    llvm::Expected<Metrics> m = engine.lowerAndPrice(systems[k]);
    if (!m)
      return m.takeError();
    p.verified = true;
    p.verifiedLatency = m->latency;
    p.mismatch = m->latency != p.result.metrics.latency ||
                 m->energy != p.result.metrics.energy;
  }
  return res;
}

llvm::Expected<DriverStats> SweepRun::run() {
  Clock::time_point start = Clock::now();
  double cpuStart = cpuSeconds();
  stats.rank = comm.rank();
  stats.ranks = comm.size();

  if (spec.plan.given) {
    plans = spec.plan.enumerate(base.devices, options.batch);
    if (plans.empty())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("plan: no plan of the axes divides the {0} devices "
                        "of '{1}' and the batch",
                        base.devices, base.name));
  }
  hwPoints = spec.numPoints();
  const uint64_t numPlans = plans.empty() ? 1 : plans.size();
  total = numPlans * hwPoints;
  stats.points = total;
  stats.plans = numPlans;
  const uint64_t chunkSize = std::max<uint64_t>(1, options.chunkPoints);
  for (uint64_t pi = 0; pi < numPlans; ++pi)
    for (uint64_t h = 0; h < hwPoints; h += chunkSize)
      chunks.push_back({pi, h, std::min(chunkSize, hwPoints - h)});

  if (!options.emitSystems.empty())
    if (std::error_code ec =
            llvm::sys::fs::create_directories(options.emitSystems))
      return llvm::createStringError(ec, "cannot create '" +
                                             options.emitSystems + "'");
  if (llvm::Error e = prepareCheckpoint())
    return std::move(e);
  comm.barrier();

  // The points --verify re-lowers: evenly spaced over the whole sweep.
  if (options.verify > 0 && !options.exact) {
    uint64_t n = std::min<uint64_t>(options.verify, total);
    for (uint64_t c = 0; c < n; ++c)
      checks.insert(n == 1 ? 0 : c * (total - 1) / (n - 1));
  }

  // The chunks left (all, unless resumed), split in contiguous runs over
  // the processes.
  std::vector<uint64_t> remaining;
  for (uint64_t c = 0; c < chunks.size(); ++c) {
    if (llvm::sys::fs::exists(chunkPath(ckDir, c)))
      stats.resumedPoints += chunks[c].count;
    else
      remaining.push_back(c);
  }
  const uint64_t R = remaining.size(), N = comm.size(), me = comm.rank();
  std::vector<uint64_t> mine(remaining.begin() + R * me / N,
                             remaining.begin() + R * (me + 1) / N);
  std::map<uint64_t, std::set<uint64_t>> owners; // plan -> ranks
  for (uint64_t r = 0; r < N; ++r)
    for (uint64_t i = R * r / N; i < R * (r + 1) / N; ++i)
      owners[chunks[remaining[i]].plan].insert(r);

  // The keys met in the chunks an earlier run finished, for the plans this
  // process continues.
  std::set<uint64_t> myPlans;
  for (uint64_t c : mine)
    myPlans.insert(chunks[c].plan);
  for (uint64_t c = 0; c < chunks.size(); ++c) {
    if (!myPlans.count(chunks[c].plan) ||
        !llvm::sys::fs::exists(chunkPath(ckDir, c)))
      continue;
    llvm::Expected<std::vector<KeyOrigin>> keys = readKeys(ckDir, c);
    if (!keys)
      return keys.takeError();
    for (KeyOrigin &k : *keys)
      origins[chunks[c].plan].emplace(std::move(k.first), k.second);
  }

  std::map<uint64_t, PlanEngine> kept; // the shared plans' engines
  if (N > 1) {
    for (uint64_t pi : myPlans)
      if (owners[pi].size() > 1)
        kept[pi] = PlanEngine();
    if (llvm::Error e = exchangeKeys(mine, kept))
      return std::move(e);
  }

  uint64_t myPoints = 0, priced = 0;
  for (uint64_t c : mine)
    myPoints += chunks[c].count;
  {
    Progress progress(myPoints, options.progress && me == 0);
    PlanEngine current;
    for (uint64_t c : mine) {
      const Chunk &ch = chunks[c];
      if (current.plan != ch.plan) {
        // Rank 0 keeps its first compiled plan's engine for the
        // sensitivities (if that is the sweep's first compiled plan).
        if (me == 0 && current.engine && !firstEngine.engine)
          firstEngine = std::move(current);
        auto it = kept.find(ch.plan);
        if (it != kept.end()) {
          current = std::move(it->second);
          kept.erase(it);
        } else {
          current = openPlan(ch.plan);
        }
      }
      llvm::Expected<ChunkResult> res = priceChunk(c, current);
      if (!res)
        return res.takeError();
      std::vector<KeyOrigin> newKeys;
      for (auto &[key, origin] : origins[ch.plan])
        if (origin >= ch.first && origin < ch.first + ch.count)
          newKeys.push_back({key, origin});
      if (llvm::Error e = writeChunk(ckDir, *res, newKeys))
        return std::move(e);
      priced += ch.count;
      progress.update(priced);
      if (options.stopAfter && priced >= options.stopAfter)
        break;
    }
    if (me == 0 && current.engine && !firstEngine.engine)
      firstEngine = std::move(current);
  }
  stats.pricedPoints = priced;
  comm.barrier();
  if (me == 0)
    if (llvm::Error e = assemble(firstEngine.engine ? &firstEngine : nullptr))
      return std::move(e);
  stats.sweepSeconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  stats.cpuSeconds = cpuSeconds() - cpuStart;
  return stats;
}

/// Rank 0: the result files from the chunks, in order (nothing when a chunk
/// is missing: a run stopped early, to be resumed).
llvm::Error SweepRun::assemble(PlanEngine *firstEngine) {
  for (uint64_t c = 0; c < chunks.size(); ++c)
    if (!llvm::sys::fs::exists(chunkPath(ckDir, c))) {
      stats.stopped = true;
      return llvm::Error::success();
    }
  llvm::Expected<std::unique_ptr<ResultWriter>> writer =
      ResultWriter::create(options.outDir, spec);
  if (!writer)
    return writer.takeError();
  // What report.html draws: every stride-th feasible point (at most about
  // 2000) and the front.
  ReportData report;
  const uint64_t stride = std::max<uint64_t>(1, total / 2000);
  std::optional<uint64_t> firstCompiled;
  for (uint64_t c = 0; c < chunks.size(); ++c) {
    llvm::Expected<ChunkResult> res = readChunk(ckDir, c);
    if (!res)
      return res.takeError();
    const Chunk &ch = chunks[c];
    if (res->plan != ch.plan || res->firstPoint != ch.first ||
        res->points.size() != ch.count)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "'" + chunkPath(ckDir, c) +
                                         "' does not match this sweep");
    if (ch.first == 0) {
      if (res->compiled)
        ++stats.lowerings;
      else
        ++stats.plansRejected;
    }
    if (res->compiled && !firstCompiled)
      firstCompiled = ch.plan;
    for (uint64_t k = 0; k < ch.count; ++k) {
      ChunkPoint &cp = res->points[k];
      SweepPoint p;
      p.index = ch.plan * hwPoints + ch.first + k;
      p.plan = planAt(ch.plan);
      p.values = spec.point(ch.first + k);
      p.result = std::move(cp.result);
      assess(spec, p);
      if (!p.result.valid) {
        ++stats.invalid;
        if (res->compiled)
          llvm::errs() << "strata-explore: point " << p.index
                       << " is impossible hardware, skipped: "
                       << p.result.problem << "\n";
      }
      if (p.result.lowered)
        ++stats.lowerings;
      if (p.result.relowered) {
        ++stats.relowered;
        ++stats.reasons[p.result.why];
      }
      if (p.result.valid && !p.infeasible.empty())
        ++stats.infeasible;
      if (cp.verified) {
        ++stats.verified;
        if (cp.mismatch) {
          ++stats.mismatches;
          llvm::errs() << llvm::formatv(
              "strata-explore: point {0}: re-priced latency {1:e16} s "
              "differs from the re-lowered pipeline's {2:e16} s (a mapping "
              "decision the check does not see)\n",
              p.index, p.result.metrics.latency, cp.verifiedLatency);
        }
      }
      if (p.result.valid && p.infeasible.empty() && p.index % stride == 0)
        report.scatter.push_back({p.index,
                                  objectiveValue(p, spec.objectives[0]),
                                  objectiveValue(p, spec.objectives[1]),
                                  false});
      (*writer)->add(p);
    }
  }

  // Elasticities of latency at the base system, by central differences of
  // ±1 %, on the first plan that compiles (probes: they do not depend on
  // what the engine priced before).
  std::vector<Sensitivity> sens;
  if (firstCompiled) {
    PlanEngine fresh;
    PlanEngine *pe = firstEngine;
    if (!pe || pe->plan != *firstCompiled) {
      fresh = openPlan(*firstCompiled);
      pe = &fresh;
    }
    if (!pe->engine)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "plan " + std::to_string(*firstCompiled) +
                                         " compiled once but not again: " +
                                         pe->problem);
    Engine &engine = *pe->engine;
    const report::CostReport &r = engine.baseReport();
    double bandwidth = 0;
    for (const hw::MemoryLevel &l : base.chip.memory)
      if (l.name == r.capacityLevel)
        bandwidth = hw::SystemQuery(base).aggregateReadBandwidth(l);
    addRoofline(report, r, bandwidth);
    report.title = (r.model.empty() ? std::string("workload") : r.model) +
                   (r.mode.empty() ? "" : " " + r.mode) + " on " + base.name +
                   ": design-space sweep";
    PointResult baseResult = engine.probe(base);
    for (const Axis &a : spec.axes) {
      Sensitivity s;
      s.path = a.path;
      s.base = *readAxis(base, a.path);
      s.boundBy = baseResult.metrics.boundBy;
      hw::System up = base, down = base;
      if (llvm::Error e = writeAxis(up, a.path, s.base * 1.01))
        return e;
      if (llvm::Error e = writeAxis(down, a.path, s.base * 0.99))
        return e;
      double xu = *readAxis(up, a.path);
      double xd = *readAxis(down, a.path);
      if (xu == xd || s.base <= 0) {
        s.elasticity = NAN; // an integer too small to move by 1 %
      } else {
        PointResult ru = engine.probe(up);
        PointResult rd = engine.probe(down);
        s.relowered = ru.relowered || rd.relowered;
        s.elasticity = ru.valid && rd.valid
                           ? elasticity(ru.metrics.latency, rd.metrics.latency,
                                        xu, xd)
                           : NAN;
      }
      sens.push_back(s);
    }
  }
  if (llvm::Error e = (*writer)->finish())
    return e;
  if (llvm::Error e = writeSensitivity(options.outDir, sens))
    return e;
  report.objectives[0] = spec.objectives[0];
  report.objectives[1] = spec.objectives[1];
  report.points = total;
  report.sensitivities = sens;
  std::vector<const SweepPoint *> front = (*writer)->front();
  for (const SweepPoint *p : front) {
    llvm::erase_if(report.scatter,
                   [&](const ScatterPoint &s) { return s.index == p->index; });
    report.scatter.push_back({p->index, objectiveValue(*p, spec.objectives[0]),
                              objectiveValue(*p, spec.objectives[1]), true});
  }
  report.sampled = report.scatter.size();
  // Up to 8 front points, evenly spaced along it.
  for (size_t k = 0, n = std::min<size_t>(8, front.size()); k < n; ++k)
    report.selected.push_back(
        front[n == 1 ? 0 : k * (front.size() - 1) / (n - 1)]);
  if (llvm::Error e = writeReportHtml(options.outDir, report))
    return e;
  // The results are whole: the checkpoint has done its job.
  if (std::error_code ec = llvm::sys::fs::remove_directories(ckDir))
    return llvm::createStringError(ec, "cannot remove '" + ckDir + "'");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<DriverStats> runSweep(MLIRContext &ctx, const SweepSpec &spec,
                                     const hw::System &base,
                                     const WorkloadBuilder &build,
                                     const DriverOptions &options) {
  return SweepRun(ctx, spec, base, build, options).run();
}

} // namespace strata::explore
