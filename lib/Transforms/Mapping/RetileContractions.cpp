//===- RetileContractions.cpp - Re-plan contractions for residency --------===//
//
// strata-tile plans a contraction as if A, B and C all crossed home; on a
// grid chip that is often home-bound whatever the tile, so any tile wins
// the tie. When strata-residency then keeps A or C in the cores' SRAM, the
// kernel is bound by its cores and the tile matters. This re-asks
// CostModel::planMatmul with the resident operands and the SRAM they leave
// free (MatmulWork::aOnChip/bOnChip/cOnChip, stagingBudget) and rewrites
// the schedule strata-tile wrote, keeping its structure: only the tile
// shapes, trip counts, grid rectangle, multicasts and buffering change.
//
//===----------------------------------------------------------------------===//

#include "strata/Transforms/RetileContractions.h"

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"

#include "mlir/IR/Builders.h"

#include <limits>

using namespace mlir;

namespace strata {
namespace {

/// The ops of the schedule strata-tile writes for a contraction
/// (TileContractions.cpp).
struct ContractionSchedule {
  tile::SpreadOp spread;
  tile::LoopOp loop;
  tile::AllocOp acc, lhs, rhs, out; ///< out: the cast's buffer, or null
  tile::CopyOp loadA, loadB, store;
  tile::MmaOp mma;
};

std::optional<ContractionSchedule> matchSchedule(tile::KernelOp kernel) {
  Block &body = kernel.getBody().front();
  if (body.getNumArguments() != 3)
    return std::nullopt;
  ContractionSchedule s;
  for (Operation &op : body) {
    if (auto spread = dyn_cast<tile::SpreadOp>(op)) {
      if (s.spread)
        return std::nullopt;
      s.spread = spread;
    } else if (!isa<tile::YieldOp>(op)) {
      return std::nullopt;
    }
  }
  if (!s.spread)
    return std::nullopt;
  Block &tileBody = s.spread.getBody().front();
  for (Operation &op : tileBody) {
    if (auto loop = dyn_cast<tile::LoopOp>(op)) {
      if (s.loop)
        return std::nullopt;
      s.loop = loop;
    } else if (auto copy = dyn_cast<tile::CopyOp>(op)) {
      if (s.store)
        return std::nullopt;
      s.store = copy;
    } else if (!isa<tile::AllocOp, tile::FillOp, tile::MapOp, tile::WaitOp,
                    tile::YieldOp>(op)) {
      return std::nullopt;
    }
  }
  if (!s.loop || !s.store)
    return std::nullopt;
  SmallVector<tile::CopyOp, 2> loads;
  for (Operation &op : s.loop.getBody().front()) {
    if (auto mma = dyn_cast<tile::MmaOp>(op)) {
      if (s.mma)
        return std::nullopt;
      s.mma = mma;
    } else if (auto copy = dyn_cast<tile::CopyOp>(op)) {
      loads.push_back(copy);
    } else if (!isa<tile::WaitOp, tile::YieldOp>(op)) {
      return std::nullopt;
    }
  }
  if (!s.mma || loads.size() != 2)
    return std::nullopt;
  auto allocIn = [&](Value v) {
    auto alloc = v.getDefiningOp<tile::AllocOp>();
    return alloc && alloc->getBlock() == &tileBody ? alloc : tile::AllocOp();
  };
  s.lhs = allocIn(s.mma.getLhs());
  s.rhs = allocIn(s.mma.getRhs());
  s.acc = allocIn(s.mma.getAcc());
  if (!s.lhs || !s.rhs || !s.acc)
    return std::nullopt;
  for (tile::CopyOp load : loads) {
    if (load.getDest() == s.lhs.getResult())
      s.loadA = load;
    else if (load.getDest() == s.rhs.getResult())
      s.loadB = load;
  }
  if (!s.loadA || !s.loadB || s.loadA.getSource() != body.getArgument(0) ||
      s.loadB.getSource() != body.getArgument(1) ||
      s.store.getDest() != body.getArgument(2) || s.loadA.getDims() ||
      s.loadB.getDims() || s.store.getDims())
    return std::nullopt;
  if (s.store.getSource() != s.acc.getResult()) {
    s.out = allocIn(s.store.getSource());
    if (!s.out)
      return std::nullopt;
  }
  return s;
}

/// The estimate of one execution of `kernel`; infinity when it has none.
double priceOf(tile::KernelOp kernel, const cost::CostModel &model) {
  std::optional<analysis::OpCounts> counts = analysis::countOp(kernel);
  std::optional<cost::Estimate> e =
      counts ? analysis::estimateOp(kernel, *counts, model) : std::nullopt;
  return e ? e->time : std::numeric_limits<double>::infinity();
}

/// Rewrites `s` (a schedule of a clone) to the tiling `t`.
void applyTiling(ContractionSchedule s, const cost::MatmulTiling &t, int64_t k,
                 const hw::System &sys) {
  MLIRContext *ctx = s.spread.getContext();
  Builder b(ctx);
  auto reshape = [&](tile::AllocOp alloc, ArrayRef<int64_t> shape,
                     int64_t buffers) {
    tile::BufType old = alloc.getType();
    alloc.getResult().setType(
        tile::BufType::get(ctx, shape, old.getElementType(), old.getLevel()));
    alloc.setBuffersAttr(b.getI64IntegerAttr(buffers));
  };
  const bool tA = s.mma.getTransposeLhs(), tB = s.mma.getTransposeRhs();
  reshape(s.acc, {t.tileM, t.tileN}, 1);
  reshape(s.lhs,
          tA ? SmallVector<int64_t>{t.tileK, t.tileM}
             : SmallVector<int64_t>{t.tileM, t.tileK},
          t.stages);
  reshape(s.rhs,
          tB ? SmallVector<int64_t>{t.tileN, t.tileK}
             : SmallVector<int64_t>{t.tileK, t.tileN},
          t.stages);
  if (s.out)
    reshape(s.out, {t.tileM, t.tileN}, 1);

  auto cTy = cast<tile::BufType>(s.store.getDest().getType());
  ArrayRef<int64_t> cShape = cTy.getShape();
  SmallVector<int64_t> trips(s.spread.getTripCounts());
  trips[trips.size() - 2] =
      llvm::divideCeil(cShape[cShape.size() - 2], t.tileM);
  trips[trips.size() - 1] = llvm::divideCeil(cShape.back(), t.tileN);
  const bool onGrid = t.gridRows > 0 && t.gridCols > 0;
  s.spread.setTripCountsAttr(b.getDenseI64ArrayAttr(trips));
  s.spread.setCoresAttr(
      b.getI64IntegerAttr(onGrid ? t.gridRows * t.gridCols : sys.chip.cores));
  if (onGrid)
    s.spread.setGridAttr(b.getDenseI64ArrayAttr({t.gridRows, t.gridCols}));
  else
    s.spread.removeGridAttr();

  s.loop.setTripCountAttr(b.getI64IntegerAttr(llvm::divideCeil(k, t.tileK)));
  s.loop.setPipelineAttr(b.getI64IntegerAttr(t.stages));

  // A grid row shares its A tile, a grid column its B tile.
  auto multicast = [&](tile::CopyOp copy, bool shared, int64_t axis) {
    if (shared)
      copy.setMulticastAttr(b.getI64IntegerAttr(axis));
    else
      copy.removeMulticastAttr();
  };
  multicast(s.loadA, onGrid && t.gridCols > 1, 1);
  multicast(s.loadB, onGrid && t.gridRows > 1, 0);
  for (tile::CopyOp copy : {s.loadA, s.loadB, s.store})
    copy.setBytesAttr(b.getI64IntegerAttr(copy.getTileType().getSizeInBytes()));

  // The unit's native shape must divide the tile, or the MMA says padded.
  for (const hw::ComputeUnit &u : sys.chip.units)
    if (u.name == s.mma.getUnit()) {
      const int64_t m0 = u.shape.size() > 0 ? u.shape[0] : 1;
      const int64_t n0 = u.shape.size() > 1 ? u.shape[1] : 1;
      const int64_t k0 = u.shape.size() > 2 ? u.shape[2] : 1;
      if (t.tileM % m0 || t.tileN % n0 || t.tileK % k0)
        s.mma.setPaddedAttr(b.getUnitAttr());
      else
        s.mma.removePaddedAttr();
    }
}

} // namespace

tile::KernelOp retileResidentContraction(tile::KernelOp kernel,
                                         const cost::CostModel &model,
                                         double stagingBudget) {
  std::optional<ContractionSchedule> s = matchSchedule(kernel);
  if (!s)
    return kernel;
  Block &body = kernel.getBody().front();
  auto aTy = cast<tile::BufType>(body.getArgument(0).getType());
  auto bTy = cast<tile::BufType>(body.getArgument(1).getType());
  auto cTy = cast<tile::BufType>(body.getArgument(2).getType());
  if (aTy.getShape().size() < 2 || bTy.getShape().size() < 2 ||
      cTy.getShape().size() < 2)
    return kernel;
  const bool tA = s->mma.getTransposeLhs();
  ArrayRef<int64_t> a = aTy.getShape(), c = cTy.getShape();
  cost::MatmulWork work;
  for (int64_t d : c.drop_back(2))
    work.batch *= d;
  work.m = c[c.size() - 2];
  work.n = c.back();
  work.k = tA ? a[a.size() - 2] : a.back();
  work.dtype = analysis::toDType(aTy.getElementType());
  work.aBytes = double(aTy.getSizeInBytes());
  work.bBytes = double(bTy.getSizeInBytes());
  work.cBytes = double(cTy.getSizeInBytes());
  work.aOnChip = kernel.isResident(0);
  work.bOnChip = kernel.isResident(1);
  work.cOnChip = kernel.isResident(2);
  work.stagingBudget = stagingBudget;
  if (!work.aOnChip && !work.bOnChip && !work.cOnChip)
    return kernel;
  cost::MatmulPlan plan = model.planMatmul(work);
  if (plan.tiling.tileM <= 0)
    return kernel; // the model would not tile it now: keep strata-tile's

  OpBuilder builder(kernel);
  auto candidate = cast<tile::KernelOp>(builder.clone(*kernel));
  std::optional<ContractionSchedule> cs = matchSchedule(candidate);
  applyTiling(*cs, plan.tiling, work.k, model.system());
  // Its footprint per core, as strata-place would record it.
  StringRef staging = model.stagingLevel().name;
  if (auto placement =
          candidate->getAttrOfType<DictionaryAttr>("strata.placement")) {
    NamedAttrList entries(placement);
    int64_t bytes = 0;
    candidate.getBody().walk([&](tile::AllocOp alloc) {
      if (alloc.getType().getLevel() == staging)
        bytes += alloc.getFootprintInBytes();
    });
    entries.set(staging, builder.getI64IntegerAttr(bytes));
    candidate->setAttr("strata.placement",
                       entries.getDictionary(kernel.getContext()));
  }
  if (priceOf(candidate, model) < priceOf(kernel, model)) {
    kernel->replaceAllUsesWith(candidate->getResults());
    kernel->erase();
    return candidate;
  }
  candidate->erase();
  return kernel;
}

} // namespace strata
