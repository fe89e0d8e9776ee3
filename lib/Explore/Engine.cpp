//===- Engine.cpp - Compile once, re-price many ---------------------------===//

#include "strata/Explore/Engine.h"
#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Json.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <set>
#include <tuple>
#include <optional>

using namespace mlir;

namespace strata::explore {

namespace {

/// `name` if given, else the single public function with a body (as the
/// estimate pass chooses).
FunctionOpInterface findEntry(ModuleOp module, llvm::StringRef name) {
  if (!name.empty()) {
    auto fn = dyn_cast_if_present<FunctionOpInterface>(
        SymbolTable::lookupSymbolIn(module, name));
    return fn && !fn.isExternal() ? fn : FunctionOpInterface();
  }
  FunctionOpInterface found;
  for (auto fn : module.getOps<FunctionOpInterface>())
    if (!fn.isExternal() && fn.isPublic()) {
      if (found)
        return FunctionOpInterface();
      found = fn;
    }
  return found;
}

/// The largest share of a time map, ties broken by name (as the report).
std::string largestShare(const llvm::StringMap<double> &m) {
  std::string best;
  double bestTime = -1;
  for (const auto &kv : m)
    if (kv.second > bestTime || (kv.second == bestTime && kv.first() < best)) {
      best = kv.first().str();
      bestTime = kv.second;
    }
  return best;
}

Metrics fromReport(const report::CostReport &r) {
  Metrics m;
  m.latency = r.latency;
  m.energy = r.energy;
  m.flops = r.flops;
  m.tokens = r.tokens;
  m.tokensPerSecond = r.tokensPerSecond;
  m.energyPerToken = r.energyPerToken;
  m.mfu = r.mfu;
  m.footprint = r.footprintTotal();
  m.capacity = r.capacity;
  m.capacityLevel = r.capacityLevel;
  auto names = std::make_shared<std::vector<std::string>>();
  for (const report::GroupRow &b : r.blocks) {
    names->push_back(b.name);
    m.blockTime.push_back(b.time);
    m.blockEnergy.push_back(b.energy);
  }
  m.blockNames = std::move(names);
  double most = -1;
  for (const report::GroupRow &b : r.blocks)
    if (b.time > most) {
      most = b.time;
      m.largestBlock = b.name;
      m.boundBy = b.boundBy;
    }
  return m;
}


bool sameTiling(const cost::MatmulTiling &a, const cost::MatmulTiling &b) {
  return a.tileM == b.tileM && a.tileN == b.tileN && a.tileK == b.tileK &&
         a.stages == b.stages && a.gridRows == b.gridRows &&
         a.gridCols == b.gridCols;
}

bool sameTiling(const cost::AttentionTiling &a, const cost::AttentionTiling &b) {
  return a.tileM == b.tileM && a.tileN == b.tileN && a.stages == b.stages &&
         a.qTiles == b.qTiles && a.kvBlocks == b.kvBlocks &&
         a.splits == b.splits && a.visitedBlocks == b.visitedBlocks;
}

std::string describe(const cost::MatmulWork &w) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "matmul " << w.batch << "x" << w.m << "x" << w.n << "x" << w.k;
  return s;
}

} // namespace

/// One lowering of the input and its profile.
struct Lowered {
  OwningOpRef<ModuleOp> module;
  FunctionOpInterface entry;
  std::unique_ptr<analysis::ProgramProfile> profile;
  /// A plan's step composition needs the full report.
  bool composed = false;
  double tokens = 0;
  /// The report block of each profile entry (an index into `blocks`, in
  /// program order of first appearance), computed once per lowering.
  std::vector<unsigned> blockOf;
  std::vector<std::string> blocks;
  std::shared_ptr<const std::vector<std::string>> blockNames;
  /// The footprint per device and what it is checked against: the
  /// program's, not the rates' (capacities are part of the key).
  double footprint = 0, capacity = 0;
  std::string capacityLevel;
};

struct Engine::Impl {
  MLIRContext &ctx;
  OwningOpRef<ModuleOp> input;
  std::string entryName;
  std::string pipelineOptions;
  hw::System base;
  /// Lowerings by the key of the system they were lowered for (structural
  /// fields and mapping decisions); [0] is the base's.
  std::vector<Lowered> lowerings;
  std::map<std::vector<double>, size_t> byKey;
  /// The mapping decisions the base made: the cost core's plans.
  std::vector<std::pair<cost::MatmulWork, cost::MatmulTiling>> matmuls;
  std::vector<std::pair<cost::AttentionWork, cost::AttentionTiling>> attentions;
  bool exact = false;
  bool earlyFitCheck = true;
  report::CostReport baseReport;
  /// Why each lowering after the base's was needed.
  std::vector<std::string> reasons;

  Impl(MLIRContext &ctx) : ctx(ctx) {}

  llvm::Expected<OwningOpRef<ModuleOp>> lower(const hw::System &sys) {
    llvm::SmallString<128> path;
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "strata-explore-system", "json", fd, path))
      return llvm::createStringError(ec, "cannot write a temporary system");
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << llvm::formatv("{0:2}", hw::toJSON(sys));
    }
    OwningOpRef<ModuleOp> m(cast<ModuleOp>(input->clone()));
    PassManager pm(&ctx, ModuleOp::getOperationName());
    std::string spec = "strata-pipeline{system=" + path.str().str() +
                       " report=json report-file=" +
                       (llvm::sys::fs::exists("/dev/null") ? "/dev/null" : "-") +
                       (entryName.empty() ? "" : " entry=" + entryName) +
                       (earlyFitCheck ? " early-fit-check=true" : "") +
                       (pipelineOptions.empty() ? "" : " " + pipelineOptions) +
                       "}";
    std::string errors;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        errors += (errors.empty() ? "" : "; ") + d.str();
      return success();
    });
    LogicalResult ok = parsePassPipeline(spec, pm, llvm::errs());
    // The handler keeps only the errors' messages, never their notes: the
    // "see current operation" note every op's remark and error would print
    // the op into (strata-tile's remarks on a GPT-3 plan: 6 % of a
    // lowering) is not made. Restored for whoever owns the context.
    bool printOp = ctx.shouldPrintOpOnDiagnostic();
    ctx.printOpOnDiagnostic(false);
    // The IR is verified once, after the whole pipeline, not after each of
    // its dozen passes (a quarter of a GPT-3 plan's lowering under
    // callgrind); the passes do not read a verifier's result, so the
    // lowering is the same.
    pm.enableVerifier(false);
    if (succeeded(ok))
      ok = pm.run(*m);
    if (succeeded(ok))
      ok = verify(*m);
    ctx.printOpOnDiagnostic(printOp);
    llvm::sys::fs::remove(path);
    if (failed(ok))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "strata-pipeline failed on system '" + sys.name +
              "': " + (errors.empty() ? spec : errors));
    return m;
  }

  llvm::Expected<Metrics> reportOf(ModuleOp m, const hw::System &sys) {
    FunctionOpInterface fn = findEntry(m, entryName);
    if (!fn)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "no entry function to price");
    cost::CostModel model(sys);
    analysis::ProgramCostOptions o;
    o.maxTraceEvents = 0;
    return fromReport(analysis::estimateProgram(fn, model, o));
  }

  llvm::Expected<Lowered> lowerProfiled(const hw::System &sys) {
    llvm::Expected<OwningOpRef<ModuleOp>> m = lower(sys);
    if (!m)
      return m.takeError();
    Lowered l;
    l.module = std::move(*m);
    l.entry = findEntry(*l.module, entryName);
    if (!l.entry)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "no entry function to price (name one "
                                     "with --entry)");
    l.profile = std::make_unique<analysis::ProgramProfile>(l.entry);
    std::map<std::string, unsigned> index;
    for (const analysis::ProfileEntry &e : l.profile->entries()) {
      std::string block = analysis::blockOf(analysis::reportName(e.op));
      auto [it, added] = index.try_emplace(block, l.blocks.size());
      if (added)
        l.blocks.push_back(block);
      l.blockOf.push_back(it->second);
    }
    l.blockNames = std::make_shared<std::vector<std::string>>(l.blocks);
    l.composed = (*l.module)->hasAttr("strata.parallel");
    llvm::Expected<Metrics> full = reportOf(*l.module, sys);
    if (!full)
      return full.takeError();
    l.footprint = full->footprint;
    l.capacity = full->capacity;
    l.capacityLevel = full->capacityLevel;
    if (auto info = (*l.module)->getAttrOfType<DictionaryAttr>("strata.model"))
      if (auto t = info.getAs<IntegerAttr>("tokens"))
        l.tokens = double(t.getInt());
    return l;
  }

  /// What a lowering depends on: the structural fields (cores, grid,
  /// capacities, unit shapes) and the mapping decisions the cost core
  /// makes on `sys`.
  std::vector<double> keyOf(const hw::System &sys,
                            const cost::CostModel &model) const {
    std::vector<double> k;
    k.push_back(double(sys.chip.cores));
    k.push_back(sys.chip.grid ? double((*sys.chip.grid)[0]) : 0);
    k.push_back(sys.chip.grid ? double((*sys.chip.grid)[1]) : 0);
    for (const hw::MemoryLevel &l : sys.chip.memory)
      k.push_back(double(l.capacity));
    for (const hw::ComputeUnit &u : sys.chip.units) {
      k.push_back(-1); // separator
      for (int64_t d : u.shape)
        k.push_back(double(d));
    }
    // The unit each decision runs on: a sweep of one matrix unit's rate
    // can make another the fastest (h100-sxm's `tensor` below
    // `tensor-sync`), and the tile IR names its unit.
    for (int unit : unitsOf(sys, model))
      k.push_back(double(unit));
    for (auto &w : matmuls) {
      cost::MatmulTiling t = model.planMatmul(w.first).tiling;
      k.insert(k.end(), {double(t.tileM), double(t.tileN), double(t.tileK),
                         double(t.stages), double(t.gridRows),
                         double(t.gridCols)});
    }
    for (auto &w : attentions) {
      cost::AttentionTiling t = model.planAttention(w.first).tiling;
      k.insert(k.end(), {double(t.tileM), double(t.tileN), double(t.stages),
                         double(t.qTiles), double(t.kvBlocks),
                         double(t.splits), double(t.visitedBlocks)});
    }
    return k;
  }

  /// The matrix unit (index into the chip's units, -1: none) the cost
  /// core runs each contraction and each attention group of the key on.
  std::vector<int> unitsOf(const hw::System &sys,
                           const cost::CostModel &model) const {
    std::vector<int> out;
    // By index into the system the pointer came from (the model holds a
    // copy of `sys`).
    auto indexOf = [](const hw::ComputeUnit *u, const hw::System &in) {
      return u ? int(u - in.chip.units.data()) : -1;
    };
    hw::SystemQuery query(sys);
    for (auto &w : matmuls)
      out.push_back(indexOf(
          query.bestUnit(w.first.dtype, hw::UnitKind::Matrix), sys));
    for (auto &w : attentions)
      out.push_back(indexOf(model.matrixUnit(w.first.dtype, w.first.path),
                            model.system()));
    return out;
  }

  /// The fast path: the profile re-priced, rolled up as the report does.
  Metrics price(const Lowered &l, const hw::System &sys,
               const cost::CostModel &model) const {
    const analysis::ProgramProfile *profile = l.profile.get();
    double tokens = l.tokens;
    if (l.composed) {
      analysis::ProgramCostOptions o;
      o.maxTraceEvents = 0;
      return fromReport(analysis::estimateProgram(l.entry, model, o));
    }
    Metrics m;
    std::vector<double> blockTime(l.blocks.size(), 0.0);
    std::vector<double> blockEnergy(l.blocks.size(), 0.0);
    // Per entry: its block, what bounds it, its time (for the largest
    // block's bound, found after the pass).
    std::vector<std::pair<std::string, double>> bound;
    bound.reserve(profile->entries().size());
    std::map<hw::DType, double> flopsByDType;
    const std::vector<analysis::ProfileEntry> &entries = profile->entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      const analysis::ProfileEntry &e = entries[i];
      std::optional<cost::Estimate> est =
          analysis::estimateOp(e.op, e.counts, model);
      if (!est) {
        bound.push_back({std::string(), -1.0}); // not priced
        continue;
      }
      double t = est->time * e.times;
      m.latency += t;
      m.flops += est->flops * e.times;
      m.energy += est->energy * e.times;
      blockTime[l.blockOf[i]] += t;
      blockEnergy[l.blockOf[i]] += est->energy * e.times;
      bound.push_back({std::move(est->boundBy), t});
      if (e.counts.cls == analysis::OpClass::Contraction ||
          e.counts.cls == analysis::OpClass::Kernel)
        flopsByDType[e.counts.dtype] += est->flops * e.times;
    }
    hw::DType mainType = hw::DType::bf16;
    double most = -1;
    for (auto &[t, f] : flopsByDType)
      if (f > most) {
        most = f;
        mainType = t;
      }
    double peak = hw::SystemQuery(sys).peakFlops(mainType).value_or(0);
    m.tokens = tokens;
    m.footprint = l.footprint;
    m.capacity = l.capacity;
    m.capacityLevel = l.capacityLevel;
    if (m.latency > 0) {
      m.mfu = peak > 0 ? m.flops / (m.latency * peak) : 0;
      m.tokensPerSecond = m.tokens / m.latency;
    }
    if (m.tokens > 0)
      m.energyPerToken = m.energy / m.tokens;
    // The block with the most time (the first in program order on a tie,
    // as the report's block rows are in program order) and its bound.
    double largest = -1;
    unsigned largestIndex = 0;
    for (unsigned b = 0; b < l.blocks.size(); ++b)
      if (blockTime[b] > largest) {
        largest = blockTime[b];
        largestIndex = b;
      }
    m.blockNames = l.blockNames;
    m.blockTime = blockTime;
    m.blockEnergy = std::move(blockEnergy);
    if (largest < 0)
      return m;
    m.largestBlock = l.blocks[largestIndex];
    llvm::StringMap<double> blockBound;
    for (size_t i = 0; i < entries.size(); ++i)
      if (l.blockOf[i] == largestIndex && bound[i].second >= 0)
        blockBound[bound[i].first] += bound[i].second;
    m.boundBy = largestShare(blockBound);
    return m;
  }

  /// Why `sys` cannot use the base's lowering: the first structural field
  /// or mapping decision that differs.
  std::string whyNotBase(const hw::System &sys) {
    const hw::Chip &a = sys.chip, &b = base.chip;
    if (a.cores != b.cores || a.grid != b.grid)
      return "the core count or grid differs from the base";
    for (size_t i = 0; i < a.memory.size() && i < b.memory.size(); ++i)
      if (a.memory[i].capacity != b.memory[i].capacity)
        return "the capacity of " + a.memory[i].name + " differs from the base";
    for (size_t i = 0; i < a.units.size() && i < b.units.size(); ++i)
      if (a.units[i].shape != b.units[i].shape)
        return "the shape of unit " + a.units[i].name + " differs";
    cost::CostModel model(sys);
    std::vector<int> units = unitsOf(sys, model);
    cost::CostModel baseModel(base);
    std::vector<int> baseUnits = unitsOf(base, baseModel);
    for (size_t i = 0; i < units.size() && i < baseUnits.size(); ++i)
      if (units[i] != baseUnits[i])
        return "the matrix unit of " +
               (i < matmuls.size() ? describe(matmuls[i].first)
                                   : std::string("an attention group")) +
               " changes to " +
               (units[i] < 0 ? std::string("none")
                             : sys.chip.units[units[i]].name);
    for (auto &[w, t] : matmuls)
      if (!sameTiling(model.planMatmul(w).tiling, t))
        return "the tiling of " + describe(w) + " changes";
    for (auto &[w, t] : attentions)
      if (!sameTiling(model.planAttention(w).tiling, t))
        return "the flash schedule of an attention group changes";
    return "a mapping decision changes";
  }
};

Engine::Engine(MLIRContext &ctx, OwningOpRef<ModuleOp> input,
               std::string entry, std::string pipelineOptions)
    : impl(std::make_unique<Impl>(ctx)) {
  impl->input = std::move(input);
  impl->entryName = std::move(entry);
  impl->pipelineOptions = std::move(pipelineOptions);
}

Engine::~Engine() = default;

const hw::System &Engine::baseSystem() const { return impl->base; }

const report::CostReport &Engine::baseReport() const {
  return impl->baseReport;
}

size_t Engine::numLowerings() const { return impl->lowerings.size(); }

void Engine::setExact(bool e) { impl->exact = e; }

void Engine::setEarlyFitCheck(bool e) { impl->earlyFitCheck = e; }

llvm::Error Engine::compile(const hw::System &base) {
  Impl &I = *impl;
  I.base = base;
  llvm::Expected<Lowered> l = I.lowerProfiled(base);
  if (!l)
    return l.takeError();
  I.lowerings.push_back(std::move(*l));
  {
    cost::CostModel baseModel(base);
    analysis::ProgramCostOptions o;
    o.maxTraceEvents = 0;
    I.baseReport =
        analysis::estimateProgram(I.lowerings[0].entry, baseModel, o);
  }
  // The decisions: every contraction of the input as strata-tile asks the
  // cost core for it, but those the base lowering fused into an attention
  // kernel (their names are gone from it, or name the kernel), and every
  // attention group the lowered program holds.
  cost::CostModel model(base);
  llvm::StringSet<> loweredNames, attentionNames;
  I.lowerings[0].module->walk([&](Operation *op) {
    if (isa<ModuleOp>(op))
      return;
    (op->hasAttr(analysis::kFusedAttentionAttrName) ? attentionNames
                                                    : loweredNames)
        .insert(analysis::reportName(op));
  });
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t, int, double, double,
                      double>>
      seen;
  I.input->walk([&](linalg::LinalgOp op) {
    std::optional<analysis::OpCounts> c = analysis::countOp(op);
    if (!c || c->cls != analysis::OpClass::Contraction ||
        !loweredNames.contains(analysis::reportName(op)) ||
        attentionNames.contains(analysis::reportName(op)))
      return;
    cost::MatmulWork w;
    w.batch = c->batch;
    w.m = c->m;
    w.n = c->n;
    w.k = c->k;
    w.dtype = c->dtype;
    w.aBytes = c->inputBytes.size() > 0 ? c->inputBytes[0] : 0;
    w.bBytes = c->inputBytes.size() > 1 ? c->inputBytes[1] : 0;
    w.cBytes = c->bytesWritten;
    if (seen.insert({w.batch, w.m, w.n, w.k, int(w.dtype), w.aBytes, w.bBytes,
                     w.cBytes})
            .second)
      I.matmuls.push_back({w, model.planMatmul(w).tiling});
  });
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      bool, bool, int>>
      seenAttention;
  I.lowerings[0].module->walk([&](Operation *op) {
    if (!op->hasAttr(analysis::kFusedAttentionAttrName))
      return;
    std::optional<analysis::OpCounts> counts = analysis::countOp(op);
    if (!counts)
      return;
    if (std::optional<cost::AttentionWork> w =
            analysis::fusedAttentionWork(op, *counts, base))
      if (seenAttention
              .insert({w->batch, w->heads, w->kvHeads, w->qLen, w->kvLen,
                       w->headDim, w->causal, w->backward, int(w->dtype)})
              .second)
        I.attentions.push_back({*w, model.planAttention(*w).tiling});
  });
  I.byKey[I.keyOf(base, model)] = 0;
  return llvm::Error::success();
}

llvm::Expected<Metrics> Engine::lowerAndPrice(const hw::System &sys) {
  llvm::Expected<OwningOpRef<ModuleOp>> m = impl->lower(sys);
  if (!m)
    return m.takeError();
  return impl->reportOf(**m, sys);
}

Engine::Prepared::Prepared() = default;
Engine::Prepared::Prepared(Prepared &&) = default;
Engine::Prepared &Engine::Prepared::operator=(Prepared &&) = default;
Engine::Prepared::~Prepared() = default;

Engine::Prepared Engine::prepare(const hw::System &sys) const {
  Prepared p;
  std::vector<hw::Problem> problems = hw::validate(sys);
  if (!problems.empty()) {
    p.done = true;
    p.result.valid = false;
    p.result.problem = problems.front().path + ": " + problems.front().message;
    return p;
  }
  if (impl->exact)
    return p; // lowered in lowerIfNew
  // One model for the key and the pricing: the plan searches the key runs
  // are memoised in it, so pricing the contractions reuses them.
  p.model = std::make_unique<cost::CostModel>(sys);
  p.key = impl->keyOf(sys, *p.model);
  return p;
}

bool Engine::hasLowering(const std::vector<double> &key) const {
  return impl->byKey.count(key) != 0;
}

void Engine::lowerIfNew(Prepared &p, const hw::System &sys,
                        const hw::System *origin) {
  if (p.done)
    return;
  Impl &I = *impl;
  PointResult &r = p.result;
  if (I.exact) {
    p.done = true;
    llvm::Expected<Metrics> m = lowerAndPrice(sys);
    if (!m) {
      r.valid = false;
      r.problem = llvm::toString(m.takeError());
      return;
    }
    r.metrics = *m;
    r.relowered = true; // not kept: `lowered` stays false
    r.why = "--exact lowers every point";
    return;
  }
  auto it = I.byKey.find(p.key);
  if (it == I.byKey.end()) {
    // A lowering no point had yet: run the pipeline for the system of the
    // first point with this key.
    const hw::System &target = origin ? *origin : sys;
    llvm::Expected<Lowered> l = I.lowerProfiled(target);
    if (!l) {
      p.done = true;
      r.valid = false;
      r.problem = llvm::toString(l.takeError());
      return;
    }
    I.lowerings.push_back(std::move(*l));
    I.reasons.push_back(I.whyNotBase(target));
    it = I.byKey.emplace(p.key, I.lowerings.size() - 1).first;
    r.lowered = !origin;
  }
  r.lowering = it->second;
}

PointResult Engine::finish(Prepared &p, const hw::System &sys) const {
  if (p.done)
    return std::move(p.result);
  const Impl &I = *impl;
  PointResult r = std::move(p.result);
  r.relowered = r.lowering != 0;
  if (r.relowered)
    r.why = I.reasons[r.lowering - 1];
  r.metrics = I.price(I.lowerings[r.lowering], sys, *p.model);
  return r;
}

PointResult Engine::probe(const hw::System &sys) {
  Prepared p = prepare(sys);
  if (p.done)
    return std::move(p.result);
  Impl &I = *impl;
  if (I.exact) {
    // As every point of an --exact sweep: lowered for itself.
    lowerIfNew(p, sys);
    return std::move(p.result);
  }
  auto it = I.byKey.find(p.key);
  if (it != I.byKey.end() && it->second == 0)
    return finish(p, sys);
  PointResult r;
  r.relowered = true;
  llvm::Expected<Lowered> l = I.lowerProfiled(sys);
  if (!l) {
    r.valid = false;
    r.problem = llvm::toString(l.takeError());
    return r;
  }
  r.why = I.whyNotBase(sys);
  r.metrics = I.price(*l, sys, *p.model);
  return r;
}

PointResult Engine::evaluate(const hw::System &sys) {
  Prepared p = prepare(sys);
  lowerIfNew(p, sys);
  return finish(p, sys);
}

} // namespace strata::explore
