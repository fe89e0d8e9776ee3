//===- Driver.cpp - One design-space sweep, end to end --------------------===//

#include "strata/Explore/Driver.h"
#include "strata/Explore/Engine.h"
#include "strata/Explore/Report.h"
#include "strata/Explore/Results.h"
#include "strata/Hardware/Json.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
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
    if (t < 1.0 || now - last < std::chrono::milliseconds(100))
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

llvm::Expected<DriverStats> runSweep(MLIRContext &ctx, const SweepSpec &spec,
                                     const hw::System &base,
                                     const WorkloadBuilder &build,
                                     const DriverOptions &options) {
  DriverStats stats;
  Clock::time_point start = Clock::now();
  double cpuStart = cpuSeconds();

  std::vector<Plan> plans;
  if (spec.plan.given) {
    plans = spec.plan.enumerate(base.devices, options.batch);
    if (plans.empty())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("plan: no plan of the axes divides the {0} devices "
                        "of '{1}' and the batch",
                        base.devices, base.name));
  }
  const uint64_t hwPoints = spec.numPoints();
  const uint64_t numPlans = plans.empty() ? 1 : plans.size();
  const uint64_t total = numPlans * hwPoints;
  stats.points = total;
  stats.plans = numPlans;

  if (!options.emitSystems.empty())
    if (std::error_code ec =
            llvm::sys::fs::create_directories(options.emitSystems))
      return llvm::createStringError(ec, "cannot create '" +
                                             options.emitSystems + "'");
  llvm::Expected<std::unique_ptr<ResultWriter>> writer =
      ResultWriter::create(options.outDir, spec);
  if (!writer)
    return writer.takeError();

  // The points --verify re-lowers: evenly spaced over the whole sweep.
  std::set<uint64_t> checks;
  if (options.verify > 0 && !options.exact) {
    uint64_t n = std::min<uint64_t>(options.verify, total);
    for (uint64_t c = 0; c < n; ++c)
      checks.insert(n == 1 ? 0 : c * (total - 1) / (n - 1));
  }

  std::vector<Sensitivity> sens;
  bool sensDone = false;
  // What report.html draws: every stride-th feasible point (at most about
  // 2000) and the front.
  ReportData report;
  const uint64_t stride = std::max<uint64_t>(1, total / 2000);
  Progress progress(total, options.progress);
  for (uint64_t pi = 0; pi < numPlans; ++pi) {
    const Plan *plan = plans.empty() ? nullptr : &plans[pi];
    std::string problem;
    OwningOpRef<ModuleOp> module = build(plan, problem);
    std::unique_ptr<Engine> engine;
    if (module) {
      std::string opts = options.pipelineOptions;
      if (plan)
        opts += (opts.empty() ? "" : " ") + plan->pipelineOptions();
      engine = std::make_unique<Engine>(ctx, std::move(module), options.entry,
                                        opts);
      engine->setExact(options.exact);
      Clock::time_point c0 = Clock::now();
      if (llvm::Error e = engine->compile(base)) {
        problem = llvm::toString(std::move(e));
        engine.reset();
      }
      stats.compileSeconds +=
          std::chrono::duration<double>(Clock::now() - c0).count();
    }
    if (!engine) {
      // The plan is rejected (by the pipeline's validation or the
      // workload): every hardware point of it says why.
      ++stats.plansRejected;
      for (uint64_t h = 0; h < hwPoints; ++h) {
        SweepPoint p;
        p.index = pi * hwPoints + h;
        p.plan = plan;
        p.values = spec.point(h);
        p.result.valid = false;
        p.result.problem = problem;
        assess(spec, p);
        ++stats.invalid;
        (*writer)->add(p);
      }
      progress.update((pi + 1) * hwPoints);
      continue;
    }
    // Chunks of points: their systems built in order, keys and prices on
    // `jobs` threads, the new lowerings made on this one in point order,
    // the rows written in order.
    const uint64_t chunk = 1024;
    std::vector<hw::System> systems;
    std::vector<Engine::Prepared> prepared;
    std::vector<SweepPoint> points;
    for (uint64_t h0 = 0; h0 < hwPoints; h0 += chunk) {
      uint64_t n = std::min(chunk, hwPoints - h0);
      systems.assign(n, base);
      points.assign(n, SweepPoint());
      prepared.clear();
      prepared.resize(n);
      for (uint64_t k = 0; k < n; ++k) {
        SweepPoint &p = points[k];
        p.index = pi * hwPoints + h0 + k;
        p.plan = plan;
        p.values = spec.point(h0 + k);
        hw::System &sys = systems[k];
        sys.name = base.name + "@" + std::to_string(p.index);
        for (size_t a = 0; a < spec.axes.size(); ++a)
          if (llvm::Error e = writeAxis(sys, spec.axes[a].path, p.values[a]))
            return std::move(e);
        if (!options.emitSystems.empty())
          if (llvm::Error e = emitPoint(options.emitSystems, p.index, sys,
                                        plan, options.pipelineOptions))
            return std::move(e);
      }
      parallelFor(n, options.jobs, [&](uint64_t k) {
        prepared[k] = engine->prepare(systems[k]);
      });
      for (uint64_t k = 0; k < n; ++k)
        engine->lowerIfNew(prepared[k], systems[k]);
      parallelFor(n, options.jobs, [&](uint64_t k) {
        points[k].result = engine->finish(prepared[k], systems[k]);
        assess(spec, points[k]);
      });
      for (uint64_t k = 0; k < n; ++k) {
        SweepPoint &p = points[k];
        if (!p.result.valid) {
          ++stats.invalid;
          llvm::errs() << "strata-explore: point " << p.index
                       << " is impossible hardware, skipped: "
                       << p.result.problem << "\n";
        }
        if (p.result.relowered) {
          ++stats.relowered;
          ++stats.reasons[p.result.why];
        }
        if (p.result.valid && !p.infeasible.empty())
          ++stats.infeasible;
        if (checks.count(p.index) && p.result.valid) {
          ++stats.verified;
          llvm::Expected<Metrics> m = engine->lowerAndPrice(systems[k]);
          if (!m)
            return m.takeError();
          if (m->latency != p.result.metrics.latency ||
              m->energy != p.result.metrics.energy) {
            ++stats.mismatches;
            llvm::errs() << llvm::formatv(
                "strata-explore: point {0}: re-priced latency {1:e16} s "
                "differs from the re-lowered pipeline's {2:e16} s (a mapping "
                "decision the check does not see)\n",
                p.index, p.result.metrics.latency, m->latency);
          }
        }
        if (p.result.valid && p.infeasible.empty() && p.index % stride == 0)
          report.scatter.push_back(
              {p.index, objectiveValue(p, spec.objectives[0]),
               objectiveValue(p, spec.objectives[1]), false});
        (*writer)->add(p);
      }
      progress.update(pi * hwPoints + h0 + n);
    }
    // Elasticities of latency at the base system, by central differences
    // of ±1 %, on the first plan that compiles.
    if (!sensDone) {
      sensDone = true;
      const report::CostReport &r = engine->baseReport();
      double bandwidth = 0;
      for (const hw::MemoryLevel &l : base.chip.memory)
        if (l.name == r.capacityLevel)
          bandwidth = hw::SystemQuery(base).aggregateReadBandwidth(l);
      addRoofline(report, r, bandwidth);
      report.title = (r.model.empty() ? std::string("workload") : r.model) +
                     (r.mode.empty() ? "" : " " + r.mode) + " on " +
                     base.name + ": design-space sweep";
      PointResult baseResult = engine->evaluate(base);
      for (const Axis &a : spec.axes) {
        Sensitivity s;
        s.path = a.path;
        s.base = *readAxis(base, a.path);
        s.boundBy = baseResult.metrics.boundBy;
        hw::System up = base, down = base;
        if (llvm::Error e = writeAxis(up, a.path, s.base * 1.01))
          return std::move(e);
        if (llvm::Error e = writeAxis(down, a.path, s.base * 0.99))
          return std::move(e);
        double xu = *readAxis(up, a.path);
        double xd = *readAxis(down, a.path);
        if (xu == xd || s.base <= 0) {
          s.elasticity = NAN; // an integer too small to move by 1 %
        } else {
          PointResult ru = engine->evaluate(up);
          PointResult rd = engine->evaluate(down);
          s.relowered = ru.relowered || rd.relowered;
          s.elasticity = ru.valid && rd.valid
                             ? elasticity(ru.metrics.latency,
                                          rd.metrics.latency, xu, xd)
                             : NAN;
        }
        sens.push_back(s);
      }
    }
    stats.lowerings += engine->numLowerings();
  }
  progress.update(total);
  if (llvm::Error e = (*writer)->finish())
    return std::move(e);
  if (llvm::Error e = writeSensitivity(options.outDir, sens))
    return std::move(e);
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
    return std::move(e);
  stats.sweepSeconds = std::chrono::duration<double>(Clock::now() - start)
                           .count();
  stats.cpuSeconds = cpuSeconds() - cpuStart;
  return stats;
}

} // namespace strata::explore
