//===- StepCost.cpp - A serving step's time from compiled programs --------===//

#include "strata/Serve/StepCost.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Json.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>

using namespace mlir;

namespace strata::serve {

int64_t StepShape::tokens() const {
  int64_t n = decodes * decodeTokens;
  for (const auto &c : chunks)
    n += c.first;
  return n;
}

StepPricer::~StepPricer() = default;

double interpolate(const std::vector<double> &xs, const std::vector<double> &ys,
                   double x) {
  if (xs.size() == 1)
    return ys[0];
  size_t hi = std::upper_bound(xs.begin(), xs.end(), x) - xs.begin();
  hi = std::clamp<size_t>(hi, 1, xs.size() - 1);
  size_t lo = hi - 1;
  double f = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

double interpolate2(const std::vector<double> &xs, const std::vector<double> &ys,
                    const std::vector<double> &values, double x, double y) {
  // Interpolate along y in every row, then along x.
  std::vector<double> column(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<double> row(values.begin() + i * ys.size(),
                            values.begin() + (i + 1) * ys.size());
    column[i] = interpolate(ys, row, y);
  }
  return interpolate(xs, column, x);
}

std::vector<int64_t> powersOfTwo(int64_t first, int64_t max) {
  std::vector<int64_t> v;
  int64_t x = first;
  v.push_back(x);
  while (x < max) {
    x *= 2;
    v.push_back(x);
  }
  return v;
}

double kvCacheBytes(const workload::ModelConfig &config, double tokens,
                    double bytesPerElement) {
  return double(config.layers) * 2.0 * double(config.kvHeads) *
         double(config.headDim) * tokens * bytesPerElement;
}

namespace {

/// Refinement: the share of the step time a grid may miss at a midpoint,
/// and the bisections allowed (enough to bring an edge 2^16 tokens wide
/// down to adjacent points).
constexpr double kRefineTolerance = 0.015;
constexpr int kRefineRounds = 16;
/// Bumped when the grid or what it holds changes.
constexpr int64_t kCacheVersion = 3;

/// The ops of the attention core: what depends on the context rather than
/// on the token count alone (the generator's names, docs/workloads.md).
bool isAttentionCore(llvm::StringRef name) {
  if (!name.consume_front("layers.attn."))
    return false;
  llvm::StringRef op = name.split('.').first; // softmax.max, softmax.exp, ...
  return llvm::is_contained({"qk_matmul", "mask", "softmax", "av_matmul",
                             "kv_append"},
                            op);
}

/// One compiled grid point: the step's time and its attention core's part.
struct PointCost {
  double total = 0, attention = 0;
  /// The same program with its kernels replayed from a captured graph.
  double graphTotal = 0;
  report::CostReport report;
};

/// Lowers and prices generated programs for one model and plan.
class ProgramCompiler {
public:
  ProgramCompiler(MLIRContext &ctx, const workload::ModelConfig &config,
                  const StepCostOptions &opts)
      : ctx(ctx), config(config), opts(opts) {}
  ~ProgramCompiler() {
    for (const std::string &p : paths)
      llvm::sys::fs::remove(p);
  }

  llvm::Expected<std::string> systemFile(const hw::System &sys) {
    llvm::SmallString<128> path;
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "strata-serve-system", "json", fd, path))
      return llvm::createStringError(ec, "cannot write a temporary system");
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << llvm::formatv("{0:2}", hw::toJSON(sys));
    paths.push_back(path.str().str());
    return paths.back();
  }

  /// Decode-mode program: `batch` sequences of `seq` new tokens after
  /// `context` cached ones, lowered for the system in `systemPath`.
  llvm::Expected<PointCost> run(const std::string &systemPath,
                                const hw::System &sys, int64_t batch,
                                int64_t seq, int64_t context) {
    // The grids share points (a decode batch of b after an empty cache is
    // the token grid's b-token step; a one-token chunk is a one-sequence
    // decode): each program is compiled once per system.
    auto key = std::make_tuple(systemPath, batch, seq, context);
    auto hit = compiled.find(key);
    if (hit != compiled.end())
      return hit->second;
    workload::WorkloadOptions o;
    o.mode = workload::WorkloadMode::Decode;
    o.batch = batch;
    o.seq = seq;
    o.kvLen = context;
    o.dtype = opts.dtype;
    std::string errors;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        errors += (errors.empty() ? "" : "; ") + d.str();
      return success();
    });
    auto fail = [&](llvm::StringRef what) {
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("{0} for decode batch {1}, {2} new tokens, context "
                        "{3} on '{4}': {5}",
                        what, batch, seq, context, sys.name,
                        errors.empty() ? "(no diagnostic)" : errors)
              .str());
    };
    OwningOpRef<ModuleOp> m = workload::buildTransformerModule(config, o, &ctx);
    if (!m)
      return fail("the generator failed");
    std::string entry =
        workload::entryFunctionName(workload::WorkloadMode::Decode).str();
    PassManager pm(&ctx, ModuleOp::getOperationName());
    std::string spec = "strata-pipeline{system=" + systemPath +
                       " entry=" + entry + " report=json report-file=" +
                       (llvm::sys::fs::exists("/dev/null") ? "/dev/null" : "-");
    if (opts.tp > 1)
      spec += " tp=" + std::to_string(opts.tp);
    if (!opts.pipelineOptions.empty())
      spec += " " + opts.pipelineOptions;
    spec += "}";
    if (failed(parsePassPipeline(spec, pm, llvm::errs())) ||
        failed(pm.run(*m)))
      return fail("strata-pipeline failed");
    ++count;
    auto fn = dyn_cast_if_present<FunctionOpInterface>(
        SymbolTable::lookupSymbolIn(*m, entry));
    if (!fn)
      return fail("no entry function");
    cost::CostModel model(sys);
    analysis::ProgramCostOptions po;
    po.maxTraceEvents = 0;
    PointCost p;
    p.report = analysis::estimateProgram(fn, model, po);
    p.total = p.report.latency;
    cost::CostModel graphModel(sys, cost::LaunchMode::Graph);
    p.graphTotal = analysis::estimateProgram(fn, graphModel, po).latency;
    for (const report::OpRow &r : p.report.ops)
      if (isAttentionCore(r.name))
        p.attention += r.time;
    compiled.emplace(key, p);
    return p;
  }

  size_t count = 0;

private:
  MLIRContext &ctx;
  const workload::ModelConfig &config;
  const StepCostOptions &opts;
  std::vector<std::string> paths;
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t>, PointCost>
      compiled;
};

/// A compiled quantity and the step time it is part of.
struct Sample {
  double value = 0, total = 0;
};
using Sampler = std::function<llvm::Expected<Sample>(int64_t, int64_t)>;

/// A tensor grid xs × ys of a compiled quantity, refined where the
/// interpolation between neighbours misses the compiled value at their
/// midpoint by more than a tolerance of the step time: a mapping decision
/// that changes between them (a tiling that stops dividing, a split of the
/// KV sequence) is bisected until its edge lies between adjacent grid
/// points or the rounds run out.
class AdaptiveGrid {
public:
  AdaptiveGrid(std::vector<int64_t> x, std::vector<int64_t> y, Sampler f)
      : xs(std::move(x)), ys(std::move(y)), f(std::move(f)) {
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  }

  llvm::Expected<Sample> at(int64_t x, int64_t y) {
    auto it = cache.find({x, y});
    if (it != cache.end())
      return it->second;
    llvm::Expected<Sample> s = f(x, y);
    if (!s)
      return s.takeError();
    cache[{x, y}] = *s;
    return *s;
  }

  llvm::Error refine(double tol, int rounds) {
    std::vector<std::pair<int64_t, int64_t>> px = pairs(xs), py = pairs(ys);
    for (int r = 0; r < rounds && (!px.empty() || !py.empty()); ++r) {
      std::vector<int64_t> nx, ny;
      if (llvm::Error e = probe(px, probes(ys), /*alongX=*/true, tol, nx))
        return e;
      if (llvm::Error e = probe(py, probes(xs), /*alongX=*/false, tol, ny))
        return e;
      px = split(nx, xs);
      py = split(ny, ys);
    }
    return llvm::Error::success();
  }

  llvm::Expected<std::vector<double>> values() {
    std::vector<double> v;
    for (int64_t x : xs)
      for (int64_t y : ys) {
        llvm::Expected<Sample> s = at(x, y);
        if (!s)
          return s.takeError();
        v.push_back(s->value);
      }
    return v;
  }

  std::vector<int64_t> xs, ys;

private:
  static std::vector<std::pair<int64_t, int64_t>>
  pairs(const std::vector<int64_t> &v) {
    std::vector<std::pair<int64_t, int64_t>> p;
    for (size_t i = 0; i + 1 < v.size(); ++i)
      p.push_back({v[i], v[i + 1]});
    return p;
  }
  /// The row (column) a pair is probed on: the last, where the attention
  /// core (the largest batch or context) is the largest share of the step
  /// and a mapping change costs the most.
  static std::vector<int64_t> probes(const std::vector<int64_t> &v) {
    return {v.back()};
  }
  static int64_t midpoint(int64_t lo, int64_t hi) {
    int64_t m = lo > 0 ? int64_t(std::llround(std::sqrt(double(lo) * hi)))
                       : hi / 2;
    return std::clamp(m, lo + 1, hi - 1);
  }
  /// Inserts the new points and returns the intervals they made.
  static std::vector<std::pair<int64_t, int64_t>>
  split(const std::vector<int64_t> &added, std::vector<int64_t> &axis) {
    std::vector<std::pair<int64_t, int64_t>> p;
    for (int64_t m : added) {
      auto it = std::lower_bound(axis.begin(), axis.end(), m);
      p.push_back({*(it - 1), m});
      p.push_back({m, *it});
      axis.insert(it, m);
    }
    return p;
  }
  llvm::Error probe(const std::vector<std::pair<int64_t, int64_t>> &ps,
                    const std::vector<int64_t> &across, bool alongX,
                    double tol, std::vector<int64_t> &added) {
    for (auto [lo, hi] : ps) {
      if (hi - lo < 2)
        continue;
      int64_t m = midpoint(lo, hi);
      for (int64_t o : across) {
        auto get = [&](int64_t v) { return alongX ? at(v, o) : at(o, v); };
        llvm::Expected<Sample> a = get(lo), b = get(hi), s = get(m);
        if (!a || !b || !s) {
          llvm::Error e = llvm::joinErrors(
              a ? llvm::Error::success() : a.takeError(),
              llvm::joinErrors(b ? llvm::Error::success() : b.takeError(),
                               s ? llvm::Error::success() : s.takeError()));
          return e;
        }
        double f = double(m - lo) / double(hi - lo);
        double lin = a->value + f * (b->value - a->value);
        if (std::fabs(s->value - lin) > tol * s->total) {
          added.push_back(m);
          break;
        }
      }
    }
    return llvm::Error::success();
  }

  Sampler f;
  std::map<std::pair<int64_t, int64_t>, Sample> cache;
};

double footprintRow(const report::CostReport &r, llvm::StringRef what) {
  for (const report::FootprintRow &f : r.footprint)
    if (f.what == what)
      return f.bytes;
  return 0;
}

std::vector<double> toDouble(const std::vector<int64_t> &v) {
  return std::vector<double>(v.begin(), v.end());
}

} // namespace

llvm::Expected<StepCostModel>
StepCostModel::compile(MLIRContext &ctx, const workload::ModelConfig &config,
                       const hw::System &system, const StepCostOptions &opts) {
  StepCostModel s;
  s.ctx = &ctx;
  s.config = config;
  s.system = system;
  s.opts = opts;
  ProgramCompiler pc(ctx, s.config, s.opts);
  llvm::Expected<std::string> realPath = pc.systemFile(system);
  if (!realPath)
    return realPath.takeError();

  // The smallest step on the real system: its footprint gives the weights,
  // the level the footprint is checked against and its capacity.
  const int64_t q = opts.decodeTokens;
  llvm::Expected<PointCost> first = pc.run(*realPath, system, 1, 1, 16);
  if (!first)
    return first.takeError();
  s.level = first->report.capacityLevel;
  s.capacity = first->report.capacity;
  s.weights = footprintRow(first->report, "weights");
  double kv = footprintRow(first->report, "kv_cache");
  s.kvPerToken = kv / double(16 + 1);
  s.graphSavingTime = std::max(0.0, first->total - first->graphTotal);

  // The other points may hold more KV cache than fits: compile them with
  // that level's capacity raised.
  hw::System roomy = system;
  for (hw::MemoryLevel &l : roomy.chip.memory)
    if (l.name == s.level)
      l.capacity = std::max<uint64_t>(l.capacity, 1) << 24;
  roomy.name = system.name;
  llvm::Expected<std::string> roomyPath = pc.systemFile(roomy);
  if (!roomyPath)
    return roomyPath.takeError();

  // Seeds: the token counts around each power of two (a tiling that
  // divides evenly there is cheaper than one token more), decode batches
  // at powers of two, contexts at 0, 64, 128, ... (the attention core is
  // near linear in each between them). Refinement adds what they miss.
  auto seeds = [](int64_t max) {
    std::vector<int64_t> v;
    for (int64_t p : powersOfTwo(1, max)) {
      v.push_back(p);
      if (p > 1 && p < max)
        v.push_back(p + 1);
    }
    return v;
  };
  // The last context is the largest asked for, not the next power of two
  // (a model with learned positions has none beyond it).
  // Both attention cores are near linear in the context (the KV tokens
  // read) between the mapping changes refinement finds: seeded at every
  // fourth power of two.
  std::vector<int64_t> contexts = {0};
  for (int64_t c = 256; c < opts.maxContext; c *= 4)
    contexts.push_back(c);
  contexts.push_back(std::max<int64_t>(opts.maxContext, 1));
  const double tol = kRefineTolerance;
  PointCost last;
  AdaptiveGrid lin(seeds(std::max<int64_t>(opts.maxTokens, 2)), {0},
                   [&](int64_t n, int64_t) -> llvm::Expected<Sample> {
                     llvm::Expected<PointCost> p =
                         pc.run(*roomyPath, roomy, n, 1, 0);
                     if (!p)
                       return p.takeError();
                     if (n >= opts.maxTokens && n > last.report.tokens)
                       last = *p;
                     return Sample{p->total - p->attention, p->total};
                   });
  AdaptiveGrid dec(powersOfTwo(1, std::max<int64_t>(opts.maxBatch, 2)),
                   contexts,
                   [&](int64_t b, int64_t c) -> llvm::Expected<Sample> {
                     llvm::Expected<PointCost> p =
                         pc.run(*roomyPath, roomy, b, q, c);
                     if (!p)
                       return p.takeError();
                     return Sample{p->attention, p->total};
                   });
  // A chunk's attention core has no tiling step at one token past a power
  // of two worth seeding (refinement adds those that matter).
  AdaptiveGrid chunk(powersOfTwo(1, std::max<int64_t>(opts.maxTokens, 2)),
                     contexts,
                     [&](int64_t n, int64_t c) -> llvm::Expected<Sample> {
                       llvm::Expected<PointCost> p =
                           pc.run(*roomyPath, roomy, 1, n, c);
                       if (!p)
                         return p.takeError();
                       return Sample{p->attention, p->total};
                     });
  for (AdaptiveGrid *g : {&lin, &dec, &chunk})
    if (llvm::Error e = g->refine(tol, kRefineRounds))
      return std::move(e);
  llvm::Expected<std::vector<double>> linValues = lin.values();
  llvm::Expected<std::vector<double>> decValues = dec.values();
  llvm::Expected<std::vector<double>> chunkValues = chunk.values();
  if (!linValues)
    return linValues.takeError();
  if (!decValues)
    return decValues.takeError();
  if (!chunkValues)
    return chunkValues.takeError();
  s.tokenAxis = toDouble(lin.xs);
  s.linearTime = std::move(*linValues);
  s.batchAxis = toDouble(dec.xs);
  s.contextAxis = toDouble(dec.ys);
  s.decodeAttn = std::move(*decValues);
  s.chunkAxis = toDouble(chunk.xs);
  s.chunkContextAxis = toDouble(chunk.ys);
  s.chunkAttn = std::move(*chunkValues);
  s.activations = footprintRow(last.report, "activations");
  s.compiled = pc.count;
  return s;
}

double StepCostModel::linear(double tokens) const {
  return interpolate(tokenAxis, linearTime, tokens);
}

double StepCostModel::decodeAttention(double batch, double context) const {
  return interpolate2(batchAxis, contextAxis, decodeAttn, batch, context);
}

double StepCostModel::chunkAttention(double tokens, double context) const {
  return interpolate2(chunkAxis, chunkContextAxis, chunkAttn, tokens, context);
}

double StepCostModel::price(const StepShape &step) const {
  double t = linear(double(step.tokens()));
  if (step.decodes > 0)
    t += decodeAttention(double(step.decodes), step.meanContext);
  for (const auto &[n, c] : step.chunks)
    t += chunkAttention(double(n), double(c));
  if (opts.launch == cost::LaunchMode::Graph && step.chunks.empty() &&
      step.decodes > 0)
    t = std::max(t - graphSavingTime, 0.0);
  return t;
}

/// What a cached grid was compiled for: the model, the system, the plan
/// and the grid's limits. A cache is used only for the same key.
static llvm::json::Value cacheKey(const workload::ModelConfig &config,
                                  const hw::System &system,
                                  const StepCostOptions &o) {
  std::string sys;
  llvm::raw_string_ostream os(sys);
  os << hw::toJSON(system);
  return llvm::json::Object{
      {"version", kCacheVersion},
      {"model", config.name},
      {"model_file", config.path},
      {"layers", config.layers},
      {"hidden", config.hidden},
      {"system", sys},
      {"tp", o.tp},
      {"dtype", workload::stringifyWorkloadDType(o.dtype)},
      {"max_batch", o.maxBatch},
      {"max_context", o.maxContext},
      {"max_tokens", o.maxTokens},
      {"decode_tokens", o.decodeTokens},
      {"pipeline_options", o.pipelineOptions}};
}

llvm::json::Value StepCostModel::toJSON() const {
  auto arr = [](const std::vector<double> &v) {
    llvm::json::Array a;
    for (double x : v)
      a.push_back(x);
    return a;
  };
  return llvm::json::Object{{"key", cacheKey(config, system, opts)},
                            {"level", level},
                            {"capacity", capacity},
                            {"weights", weights},
                            {"activations", activations},
                            {"kv_per_token", kvPerToken},
                            {"graph_saving", graphSavingTime},
                            {"programs", int64_t(compiled)},
                            {"token_axis", arr(tokenAxis)},
                            {"linear", arr(linearTime)},
                            {"batch_axis", arr(batchAxis)},
                            {"context_axis", arr(contextAxis)},
                            {"decode_attention", arr(decodeAttn)},
                            {"chunk_axis", arr(chunkAxis)},
                            {"chunk_context_axis", arr(chunkContextAxis)},
                            {"chunk_attention", arr(chunkAttn)}};
}

std::optional<StepCostModel>
StepCostModel::fromJSON(const llvm::json::Value &v, MLIRContext &ctx,
                        const workload::ModelConfig &config,
                        const hw::System &system, const StepCostOptions &opts) {
  const llvm::json::Object *o = v.getAsObject();
  if (!o || !o->get("key") || *o->get("key") != cacheKey(config, system, opts))
    return std::nullopt;
  StepCostModel s;
  s.ctx = &ctx;
  s.config = config;
  s.system = system;
  s.opts = opts;
  auto num = [&](llvm::StringRef k, double &out) {
    std::optional<double> d = o->getNumber(k);
    if (d)
      out = *d;
    return d.has_value();
  };
  auto arr = [&](llvm::StringRef k, std::vector<double> &out) {
    const llvm::json::Array *a = o->getArray(k);
    if (!a)
      return false;
    for (const llvm::json::Value &x : *a) {
      std::optional<double> d = x.getAsNumber();
      if (!d)
        return false;
      out.push_back(*d);
    }
    return true;
  };
  double programs = 0;
  std::optional<llvm::StringRef> level = o->getString("level");
  if (!level || !num("capacity", s.capacity) || !num("weights", s.weights) ||
      !num("activations", s.activations) ||
      !num("kv_per_token", s.kvPerToken) || !num("programs", programs) ||
      !num("graph_saving", s.graphSavingTime) ||
      !arr("token_axis", s.tokenAxis) || !arr("linear", s.linearTime) ||
      !arr("batch_axis", s.batchAxis) || !arr("context_axis", s.contextAxis) ||
      !arr("decode_attention", s.decodeAttn) ||
      !arr("chunk_axis", s.chunkAxis) ||
      !arr("chunk_context_axis", s.chunkContextAxis) ||
      !arr("chunk_attention", s.chunkAttn))
    return std::nullopt;
  if (s.tokenAxis.empty() || s.linearTime.size() != s.tokenAxis.size() ||
      s.batchAxis.empty() || s.contextAxis.empty() ||
      s.decodeAttn.size() != s.batchAxis.size() * s.contextAxis.size() ||
      s.chunkAxis.empty() || s.chunkContextAxis.empty() ||
      s.chunkAttn.size() != s.chunkAxis.size() * s.chunkContextAxis.size())
    return std::nullopt;
  s.level = level->str();
  s.compiled = size_t(programs);
  s.loaded = true;
  return s;
}

llvm::Expected<double> StepCostModel::direct(int64_t batch,
                                             int64_t tokensPerSeq,
                                             int64_t context) const {
  ProgramCompiler pc(*ctx, config, opts);
  llvm::Expected<std::string> path = pc.systemFile(system);
  if (!path)
    return path.takeError();
  llvm::Expected<PointCost> p = pc.run(*path, system, batch, tokensPerSeq,
                                       context);
  if (!p)
    return p.takeError();
  // A step of decodes replays its graph under launch=graph (see price).
  if (opts.launch == cost::LaunchMode::Graph &&
      tokensPerSeq == opts.decodeTokens)
    return p->graphTotal;
  return p->total;
}

} // namespace strata::serve
