//===- Place.cpp - Buffers of each kernel within its levels' capacity -----===//
//
// Per tile.kernel:
//
//  1. Peak live bytes per level. The body is numbered in program order; an
//     allocation is live from its tile.alloc to its last use (the waits on
//     transfers that use it included), and across the whole of every
//     tile.loop / tile.spread that uses it without containing it. Core-scoped
//     levels count one core's instance; an allocation of a chip-scoped level
//     inside a spread counts once per core running the spread.
//  2. When a level overflows, two plans are tried on copies of the kernel:
//       A. reduce multi-buffering first (buffers(n) -> n-1 on an allocation,
//          and pipeline(d) of the loops whose transfers write it down to
//          match), one step at a time, then spill if that is not enough;
//       B. spill only (keeps the pipelining).
//     Each step tries every candidate and keeps the one the cost model
//     prices cheapest (TileCostOpInterface -> KernelWork -> CostModel); the
//     cheaper plan that fits is kept (A on a tie).
//     A spill moves a buffer to the next scratchpad outward with room: its
//     type's level is rewritten, transfers reach it where it now is, and
//     every compute use gets a one-buffer copy in the original level,
//     refilled before (tile.copy {strata.spill = "refill"}) and written back
//     after (tile.copy {strata.spill = "spill"}) when the op writes it, so
//     the estimate prices the traffic.
//  3. When no plan fits, an error naming the level and each allocation in
//     it; the kernel is left as it was.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Hardware/Units.h"
#include "strata/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

#include <functional>
#include <limits>
#include <optional>

namespace strata {
#define GEN_PASS_DEF_STRATAPLACEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

/// On the copies and buffers a spill adds: "refill", "spill" or "buffer".
constexpr StringLiteral kSpillAttr = "strata.spill";
/// On a spilled allocation: the level it was moved out of.
constexpr StringLiteral kSpilledFromAttr = "strata.spilled_from";

struct Peak {
  double bytes = 0;
  Operation *at = nullptr; ///< where the peak is first reached
};
using Peaks = llvm::MapVector<StringRef, Peak>;

SmallVector<tile::AllocOp> allocsOf(tile::KernelOp kernel) {
  SmallVector<tile::AllocOp> allocs;
  kernel.getBody().walk([&](tile::AllocOp a) { allocs.push_back(a); });
  return allocs;
}

/// Everything the pass asks about the system.
struct Target {
  const hw::System &sys;
  const cost::CostModel &model;

  const hw::MemoryLevel *level(StringRef name) const {
    for (const hw::MemoryLevel &l : sys.chip.memory)
      if (l.name == name)
        return &l;
    return nullptr;
  }

  /// Bytes an allocation takes in one instance of its level.
  double footprint(tile::AllocOp alloc) const {
    double bytes = double(alloc.getFootprintInBytes());
    const hw::MemoryLevel *l = level(alloc.getType().getLevel());
    if (!l || l->scope == hw::Scope::Core)
      return bytes;
    // Each core running the spread holds its own copy of a chip-level slot.
    if (auto spread = alloc->getParentOfType<tile::SpreadOp>())
      bytes *= double(std::min(
          {spread.getCores(), sys.chip.cores, spread.getNumIterations()}));
    return bytes;
  }

  Peaks peaks(tile::KernelOp kernel) const {
    // Program order: [first, last] positions of each op and its regions.
    DenseMap<Operation *, std::pair<int, int>> span;
    SmallVector<Operation *> opAt;
    std::function<void(Operation *)> number = [&](Operation *op) {
      int first = int(opAt.size());
      opAt.push_back(op);
      for (Region &r : op->getRegions())
        for (Block &b : r)
          for (Operation &o : b)
            number(&o);
      span[op] = {first, int(opAt.size()) - 1};
    };
    for (Operation &op : kernel.getBody().front())
      number(&op);

    llvm::MapVector<StringRef, SmallVector<double>> diff;
    for (tile::AllocOp alloc : allocsOf(kernel)) {
      StringRef name = alloc.getType().getLevel();
      if (!level(name))
        continue; // the dialect verifier reports unknown levels
      int start = span[alloc].first, end = start;
      auto cover = [&](Operation *op) {
        end = std::max(end, span[op].second);
        // Used in a loop (or spread) it does not belong to: live throughout.
        for (Operation *p = op->getParentOp(); p && p != kernel;
             p = p->getParentOp())
          if (isa<tile::LoopOp, tile::SpreadOp>(p) && !p->isAncestor(alloc)) {
            start = std::min(start, span[p].first);
            end = std::max(end, span[p].second);
          }
      };
      for (Operation *user : alloc->getUsers()) {
        cover(user);
        for (Operation *waiter : user->getUsers()) // transfers end at a wait
          cover(waiter);
      }
      SmallVector<double> &d = diff[name];
      d.resize(opAt.size() + 1, 0.0);
      d[start] += footprint(alloc);
      d[end + 1] -= footprint(alloc);
    }
    Peaks result;
    for (auto &[name, d] : diff) {
      SmallVector<double> live(opAt.size(), 0.0);
      Peak &p = result[name];
      for (size_t i = 0; i < opAt.size(); ++i) {
        live[i] = (i ? live[i - 1] : 0.0) + d[i];
        p.bytes = std::max(p.bytes, live[i]);
      }
      // Where the peak is: the first op at it that works on the level,
      // else the first op at it.
      auto touches = [&](Operation *op) {
        return llvm::any_of(op->getOperandTypes(), [&](Type t) {
          auto buf = dyn_cast<tile::BufType>(t);
          return buf && buf.getLevel() == name;
        });
      };
      Operation *firstAtPeak = nullptr;
      for (size_t i = 0; i < opAt.size() && !p.at; ++i)
        if (live[i] == p.bytes) {
          if (!firstAtPeak)
            firstAtPeak = opAt[i];
          if (touches(opAt[i]))
            p.at = opAt[i];
        }
      if (!p.at)
        p.at = firstAtPeak;
    }
    return result;
  }

  /// Bytes over capacity, summed over the levels.
  double overflow(const Peaks &peaks) const {
    double over = 0;
    for (auto &[name, p] : peaks)
      over += std::max(0.0, p.bytes - double(level(name)->capacity));
    return over;
  }

  bool fits(const Peaks &peaks, StringRef name) const {
    auto it = peaks.find(name);
    return it == peaks.end() ||
           it->second.bytes <= double(level(name)->capacity);
  }

  /// The estimate of one execution of the kernel, in seconds.
  double time(tile::KernelOp kernel) const {
    std::optional<analysis::OpCounts> counts = analysis::countOp(kernel);
    if (!counts)
      return 0;
    std::optional<cost::Estimate> e =
        analysis::estimateOp(kernel, *counts, model);
    return e ? e->time : 0;
  }
};

/// The loops, innermost first, whose pipelining a transfer `user` writing
/// `alloc` is bound by: those around it that do not contain the allocation.
SmallVector<tile::LoopOp> writingLoops(tile::AllocOp alloc) {
  SmallVector<tile::LoopOp> loops;
  Value buf = alloc.getResult();
  for (Operation *user : alloc->getUsers()) {
    bool writes = false;
    if (auto copy = dyn_cast<tile::CopyOp>(user))
      writes = copy.getDest() == buf;
    else if (auto gather = dyn_cast<tile::GatherOp>(user))
      writes = gather.getDest() == buf;
    else if (auto noc = dyn_cast<tile::NocCopyOp>(user))
      writes = noc.getDest() == buf;
    if (!writes)
      continue;
    for (Operation *p = user->getParentOp(); p && !isa<tile::KernelOp>(p);
         p = p->getParentOp())
      if (auto loop = dyn_cast<tile::LoopOp>(p))
        if (!loop->isAncestor(alloc) && !llvm::is_contained(loops, loop))
          loops.push_back(loop);
  }
  return loops;
}

/// What one depth reduction changed.
struct DepthChange {
  int loops = 0;   ///< loops pipelined less deeply
  int buffers = 0; ///< rotating buffers removed
};

/// One buffer fewer for `alloc`; every loop whose transfers write it is
/// pipelined no deeper than it now rotates (the dialect's contract), and
/// the other buffers those loops write keep no more copies than their
/// loops still use.
DepthChange reduceDepth(tile::AllocOp alloc) {
  DepthChange change;
  int64_t n = alloc.getBuffers() - 1;
  alloc.setBuffers(n);
  ++change.buffers;
  SmallVector<tile::LoopOp> shallower;
  for (tile::LoopOp loop : writingLoops(alloc))
    if (loop.getPipeline() > n) {
      loop.setPipeline(n);
      shallower.push_back(loop);
    }
  change.loops = int(shallower.size());
  for (tile::LoopOp loop : shallower)
    loop.getBody().walk([&](Operation *op) {
      Value dest;
      if (auto copy = dyn_cast<tile::CopyOp>(op))
        dest = copy.getDest();
      else if (auto gather = dyn_cast<tile::GatherOp>(op))
        dest = gather.getDest();
      else if (auto noc = dyn_cast<tile::NocCopyOp>(op))
        dest = noc.getDest();
      auto other = dest ? dest.getDefiningOp<tile::AllocOp>() : nullptr;
      if (!other || other == alloc || loop->isAncestor(other))
        return;
      int64_t needed = 1;
      for (tile::LoopOp l : writingLoops(other))
        needed = std::max(needed, l.getPipeline());
      if (other.getBuffers() > needed) {
        change.buffers += int(other.getBuffers() - needed);
        other.setBuffers(needed);
      }
    });
  return change;
}

/// Whether `op` reads and whether it writes `buf` (both when it does not
/// say).
std::pair<bool, bool> accesses(Operation *op, Value buf) {
  auto mem = dyn_cast<MemoryEffectOpInterface>(op);
  if (!mem)
    return {true, true};
  SmallVector<MemoryEffects::EffectInstance> effects;
  mem.getEffects(effects);
  bool reads = false, writes = false;
  for (MemoryEffects::EffectInstance &e : effects) {
    if (e.getValue() != buf)
      continue;
    reads |= isa<MemoryEffects::Read>(e.getEffect());
    writes |= isa<MemoryEffects::Write>(e.getEffect());
  }
  if (!reads && !writes)
    return {true, true};
  return {reads, writes};
}

/// Whether `alloc` can live in another level: every use is a DMA (which
/// reaches any level) or an op a refill copy can stand in for. Core-to-core
/// transfers address the same allocation on other cores and stay put.
bool spillable(tile::AllocOp alloc) {
  if (alloc->hasAttr(kSpillAttr) || alloc->hasAttr(kSpilledFromAttr))
    return false;
  return llvm::none_of(alloc->getUsers(), [](Operation *user) {
    return isa<tile::NocCopyOp>(user);
  });
}

/// Moves `alloc` to level `to`; each non-DMA use works on a one-buffer copy
/// in the original level, refilled before and written back after.
void spillAlloc(tile::AllocOp alloc, StringRef to) {
  tile::BufType inner = alloc.getType();
  MLIRContext *ctx = alloc.getContext();
  Value buf = alloc.getResult();
  SmallVector<Operation *> users;
  for (Operation *user : alloc->getUsers())
    if (!isa<tile::CopyOp, tile::GatherOp>(user) &&
        !llvm::is_contained(users, user))
      users.push_back(user);
  for (Operation *user : users) {
    auto [reads, writes] = accesses(user, buf);
    Location loc = user->getLoc();
    OpBuilder b(user);
    auto local = tile::AllocOp::create(b, loc, inner, 1);
    local->setAttr(kSpillAttr, b.getStringAttr("buffer"));
    if (reads) {
      auto refill = tile::CopyOp::create(b, loc, buf, ValueRange{}, local,
                                         ValueRange{}, ValueRange{});
      refill->setAttr(kSpillAttr, b.getStringAttr("refill"));
      tile::WaitOp::create(b, loc, ValueRange{refill.getToken()});
    }
    user->replaceUsesOfWith(buf, local);
    if (writes) {
      b.setInsertionPointAfter(user);
      auto store = tile::CopyOp::create(b, loc, local, ValueRange{}, buf,
                                        ValueRange{}, ValueRange{});
      store->setAttr(kSpillAttr, b.getStringAttr("spill"));
      tile::WaitOp::create(b, loc, ValueRange{store.getToken()});
    }
  }
  alloc->setAttr(kSpilledFromAttr, StringAttr::get(ctx, inner.getLevel()));
  buf.setType(
      tile::BufType::get(ctx, inner.getShape(), inner.getElementType(), to));
}

/// What a plan did, for the remark and the kernel's attributes.
struct Record {
  int64_t buffersRemoved = 0; ///< rotating buffers taken off allocations
  SmallVector<Attribute> spilled;
};

/// A kernel being placed: a detached copy the plan rewrites.
struct Plan {
  OwningOpRef<tile::KernelOp> kernel;
  Record record;
  double time = 0;
  bool fits = false;
};

class Placer {
public:
  explicit Placer(const Target &target) : target(target) {}

  /// Plan A (`depthFirst`) or B on a copy of `kernel`.
  Plan run(tile::KernelOp kernel, bool depthFirst, bool allowSpill) {
    Plan plan;
    plan.kernel = cast<tile::KernelOp>(kernel->clone());
    if (depthFirst)
      while (!fitsAll(*plan.kernel) && stepDepth(plan))
        ;
    if (allowSpill)
      while (!fitsAll(*plan.kernel) && stepSpill(plan))
        ;
    plan.fits = fitsAll(*plan.kernel);
    plan.time = target.time(*plan.kernel);
    return plan;
  }

private:
  const Target &target;

  bool fitsAll(tile::KernelOp kernel) const {
    return target.overflow(target.peaks(kernel)) == 0;
  }

  /// A candidate tried on a copy: its estimate, the loops it made
  /// shallower and how far it lowered the overflow. Valid when it lowers
  /// the overflow and no level that fitted before overflows after.
  struct Trial {
    double time = std::numeric_limits<double>::infinity();
    int loopsChanged = 0;
    double relief = 0;
    bool valid = false;
  };

  Trial tryOn(tile::KernelOp kernel, unsigned index,
              function_ref<DepthChange(tile::AllocOp)> apply) const {
    Peaks before = target.peaks(kernel);
    OwningOpRef<tile::KernelOp> copy = cast<tile::KernelOp>(kernel->clone());
    DepthChange change = apply(allocsOf(*copy)[index]);
    Peaks after = target.peaks(*copy);
    Trial t;
    t.loopsChanged = change.loops;
    t.relief = target.overflow(before) - target.overflow(after);
    t.valid = t.relief > 0;
    for (auto &[name, p] : after)
      if (target.fits(before, name) && !target.fits(after, name))
        t.valid = false;
    if (t.valid)
      t.time = target.time(*copy);
    return t;
  }

  /// Cheaper by the estimate; on a tie, the one that keeps more loops
  /// pipelined (a buffer beyond its loop's depth goes first), then the one
  /// that frees more.
  static bool better(const Trial &a, const Trial &b) {
    if (!a.valid || !b.valid)
      return a.valid;
    if (a.time != b.time)
      return a.time < b.time;
    if (a.loopsChanged != b.loopsChanged)
      return a.loopsChanged < b.loopsChanged;
    return a.relief > b.relief;
  }

  SmallVector<unsigned> inOverflowingLevels(tile::KernelOp kernel) const {
    Peaks peaks = target.peaks(kernel);
    SmallVector<unsigned> result;
    for (auto [i, alloc] : llvm::enumerate(allocsOf(kernel)))
      if (target.level(alloc.getType().getLevel()) &&
          !target.fits(peaks, alloc.getType().getLevel()))
        result.push_back(i);
    return result;
  }

  bool stepDepth(Plan &plan) {
    tile::KernelOp kernel = *plan.kernel;
    std::optional<unsigned> best;
    Trial bestTrial;
    for (unsigned i : inOverflowingLevels(kernel)) {
      if (allocsOf(kernel)[i].getBuffers() < 2)
        continue;
      Trial t = tryOn(kernel, i, reduceDepth);
      if (better(t, bestTrial)) {
        best = i;
        bestTrial = t;
      }
    }
    if (!best)
      return false;
    plan.record.buffersRemoved += reduceDepth(allocsOf(kernel)[*best]).buffers;
    return true;
  }

  bool stepSpill(Plan &plan) {
    tile::KernelOp kernel = *plan.kernel;
    std::optional<unsigned> best;
    std::string bestTo;
    Trial bestTrial;
    const auto &levels = target.sys.chip.memory;
    for (unsigned i : inOverflowingLevels(kernel)) {
      tile::AllocOp alloc = allocsOf(kernel)[i];
      if (!spillable(alloc))
        continue;
      StringRef from = alloc.getType().getLevel();
      const hw::MemoryLevel *l = target.level(from);
      // The next scratchpad outward with room (caches hold nothing we
      // place).
      for (size_t j = size_t(l - levels.data()) + 1; j < levels.size(); ++j) {
        if (levels[j].management != hw::Management::Scratchpad)
          continue;
        std::string to = levels[j].name;
        Trial t = tryOn(kernel, i, [&](tile::AllocOp a) {
          spillAlloc(a, to);
          return DepthChange{};
        });
        if (!t.valid)
          continue;
        if (better(t, bestTrial)) {
          best = i;
          bestTo = to;
          bestTrial = t;
        }
        break;
      }
    }
    if (!best)
      return false;
    tile::AllocOp alloc = allocsOf(kernel)[*best];
    Builder b(kernel.getContext());
    plan.record.spilled.push_back(b.getDictionaryAttr({
        b.getNamedAttr(
            "bytes", b.getI64IntegerAttr(int64_t(alloc.getFootprintInBytes()))),
        b.getNamedAttr("from", b.getStringAttr(alloc.getType().getLevel())),
        b.getNamedAttr("to", b.getStringAttr(bestTo)),
    }));
    spillAlloc(alloc, bestTo);
    return true;
  }
};

std::string bytesIn(const Target &target, StringRef name, double bytes) {
  const hw::MemoryLevel *l = target.level(name);
  return hw::formatBinaryBytesApprox(bytes) + " of '" + name.str() + "'" +
         (l && l->scope == hw::Scope::Core ? " per core" : "");
}

struct PlacePass : strata::impl::StrataPlacePassBase<PlacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    Target target{sys, model};
    Placer placer(target);
    bool failedAny = false;

    SmallVector<tile::KernelOp> kernels;
    module.walk([&](tile::KernelOp k) { kernels.push_back(k); });
    for (tile::KernelOp kernel : kernels)
      if (failed(place(kernel, target, placer)))
        failedAny = true;
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult place(tile::KernelOp kernel, const Target &target,
                      Placer &placer) {
    Builder b(kernel.getContext());
    Peaks before = target.peaks(kernel);
    if (target.overflow(before) > 0) {
      Plan depthFirst = placer.run(kernel, /*depthFirst=*/true, spill);
      std::optional<Plan> spillOnly;
      if (spill)
        spillOnly = placer.run(kernel, /*depthFirst=*/false, spill);
      Plan *chosen = nullptr;
      if (depthFirst.fits)
        chosen = &depthFirst;
      if (spillOnly && spillOnly->fits &&
          (!chosen || spillOnly->time < chosen->time))
        chosen = &*spillOnly;
      if (!chosen)
        return reportUnplaceable(kernel, target, before,
                                 target.peaks(*depthFirst.kernel));
      double timeBefore = target.time(kernel);
      kernel.getBody().takeBody(chosen->kernel->getBody());
      Peaks after = target.peaks(kernel);
      remark(kernel, target, before, after, chosen->record, timeBefore,
             chosen->time);
      if (!chosen->record.spilled.empty())
        kernel->setAttr("strata.spilled",
                        b.getArrayAttr(chosen->record.spilled));
      before = std::move(after);
    }
    SmallVector<NamedAttribute> placement;
    for (auto &[name, p] : before)
      placement.push_back(
          b.getNamedAttr(name, b.getI64IntegerAttr(int64_t(p.bytes))));
    kernel->setAttr("strata.placement", b.getDictionaryAttr(placement));
    return success();
  }

  void remark(tile::KernelOp kernel, const Target &target, const Peaks &before,
              const Peaks &after, const Record &record, double timeBefore,
              double timeAfter) {
    InFlightDiagnostic diag = kernel.emitRemark();
    diag << "kernel '" << kernel.getName() << "' placed by ";
    if (record.buffersRemoved)
      diag << "removing " << record.buffersRemoved << " rotating buffer"
           << (record.buffersRemoved == 1 ? "" : "s")
           << (record.spilled.empty() ? "" : " and ");
    if (!record.spilled.empty()) {
      llvm::MapVector<std::pair<StringRef, StringRef>, int64_t> moved;
      for (Attribute a : record.spilled) {
        auto d = cast<DictionaryAttr>(a);
        moved[{d.getAs<StringAttr>("from").getValue(),
               d.getAs<StringAttr>("to").getValue()}] +=
            d.getAs<IntegerAttr>("bytes").getInt();
      }
      diag << "spilling " << record.spilled.size() << " buffer"
           << (record.spilled.size() == 1 ? "" : "s") << " (";
      llvm::interleaveComma(moved, diag, [&](auto &m) {
        diag << bytesIn(target, m.first.first, double(m.second)) << " to '"
             << m.first.second << "'";
      });
      double traffic = 0;
      kernel.getBody().walk([&](tile::CopyOp copy) {
        if (copy->hasAttr(kSpillAttr))
          traffic += double(copy.getTotalBytesMoved());
      });
      diag << ", " << hw::formatBinaryBytesApprox(traffic)
           << " of spill traffic)";
    }
    diag << ":";
    bool first = true;
    for (auto &[name, p] : before) {
      const hw::MemoryLevel *l = target.level(name);
      if (p.bytes <= double(l->capacity))
        continue;
      auto it = after.find(name);
      diag << (first ? " " : ", ") << bytesIn(target, name, p.bytes) << " -> "
           << hw::formatBinaryBytesApprox(it == after.end() ? 0.0
                                                            : it->second.bytes)
           << " (an instance holds "
           << hw::formatQuantity(double(l->capacity), hw::Quantity::Bytes)
           << ")";
      first = false;
    }
    diag << "; estimate "
         << hw::formatQuantityApprox(timeBefore, hw::Quantity::Seconds)
         << " -> "
         << hw::formatQuantityApprox(timeAfter, hw::Quantity::Seconds);
  }

  /// The error for a kernel no plan places: per overflowing level, what its
  /// buffers need (and the least any plan reached), each allocation in it,
  /// and where the peak is.
  LogicalResult reportUnplaceable(tile::KernelOp kernel, const Target &target,
                                  const Peaks &peaks, const Peaks &best) {
    for (auto &[name, p] : peaks) {
      const hw::MemoryLevel *l = target.level(name);
      if (p.bytes <= double(l->capacity))
        continue;
      InFlightDiagnostic diag =
          kernel.emitError()
          << "kernel '" << kernel.getName()
          << "' cannot be placed: its buffers need "
          << bytesIn(target, name, p.bytes) << " but an instance holds "
          << hw::formatQuantity(double(l->capacity), hw::Quantity::Bytes);
      auto it = best.find(name);
      if (it != best.end() && it->second.bytes < p.bytes)
        diag << " (still " << hw::formatBinaryBytesApprox(it->second.bytes)
             << (spill ? " after reducing pipelining and spilling"
                       : " after reducing pipelining; spilling is off")
             << ")";
      for (tile::AllocOp a : allocsOf(kernel))
        if (a.getType().getLevel() == name)
          diag.attachNote(a.getLoc()) << a.getBuffers() << " x "
                                      << hw::formatBinaryBytesApprox(double(
                                             a.getType().getSizeInBytes()));
      if (p.at)
        diag.attachNote(p.at->getLoc())
            << "peak: " << hw::formatBinaryBytesApprox(p.bytes) << " live here";
    }
    return failure();
  }
};

} // namespace
