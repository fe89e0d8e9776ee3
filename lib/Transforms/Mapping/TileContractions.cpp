//===- TileContractions.cpp - linalg contractions to tile IR --------------===//
//
// The schedule written here is the one CostModel::matmulWithTiling prices:
//
//   tile.kernel "name" ins(A, B) outs(C) {
//     tile.spread cores(P) over (batch..., m, n) in (..., M/tm, N/tn)
//                 [grid(rows, cols): on a core grid, A multicast along
//                  rows, B down columns] {
//       acc = alloc [tm, tn] @ level 0;  a, b = alloc buffers(s) @ staging
//       tile.fill acc, 0
//       tile.loop %k in K/tk pipeline(s) {
//         copy A[.., m, k] -> a; copy B[.., k, n] -> b; wait; mma a, b, acc
//       }
//       (cast acc) ; copy -> C[.., m, n]; wait
//     }
//   }
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Transforms/AttentionGroup.h"
#include "strata/Transforms/Passes.h"
#include "strata/Transforms/TileVectorOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace strata {
#define GEN_PASS_DEF_STRATATILEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

/// The loop dimension playing each role in a contraction we can tile: the
/// last M and N dims of C are tiled; every other parallel dim is walked one
/// element at a time by the spread; exactly one K dim.
struct ContractionLayout {
  SmallVector<unsigned> spreadDims; ///< parallel loops, in C's order
  unsigned m, n, k;
  bool transposeA = false, transposeB = false;
};

/// Loop dims of an operand's map, or failure if it is not a projection.
static FailureOr<SmallVector<unsigned>> mapDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return failure();
    dims.push_back(d.getPosition());
  }
  return dims;
}

static FailureOr<ContractionLayout> analyze(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return failure();
  FailureOr<linalg::ContractionDimensions> cd =
      linalg::inferContractionDims(op);
  if (failed(cd) || cd->k.size() != 1 || cd->m.empty() || cd->n.empty())
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  FailureOr<SmallVector<unsigned>> a = mapDims(maps[0]), b = mapDims(maps[1]),
                                   c = mapDims(maps[2]);
  if (failed(a) || failed(b) || failed(c) || a->size() < 2 || b->size() < 2 ||
      c->size() < 2)
    return failure();
  ContractionLayout l;
  l.k = cd->k.front();
  l.m = (*c)[c->size() - 2];
  l.n = (*c)[c->size() - 1];
  if (!llvm::is_contained(cd->m, l.m) || !llvm::is_contained(cd->n, l.n))
    return failure();
  // The tiled dims must be the operands' last two (the tile is
  // right-aligned in its buffer).
  auto lastTwo = [](ArrayRef<unsigned> d, unsigned x, unsigned y,
                    bool &transposed) {
    unsigned p = d[d.size() - 2], q = d[d.size() - 1];
    transposed = (p == y && q == x);
    return (p == x && q == y) || transposed;
  };
  if (!lastTwo(*a, l.m, l.k, l.transposeA) ||
      !lastTwo(*b, l.k, l.n, l.transposeB))
    return failure();
  l.spreadDims.assign(c->begin(), c->end());
  return l;
}

/// A contraction whose M, N or K is several loops (tokens [b, s], a
/// projection into heads [b, s, h] x [h, k, g, d]) with each group
/// contiguous and in the same order in every operand is a plain GEMM on
/// collapsed operands: rewrites
/// it as one (collapse_shape views in, expand_shape view out) and returns
/// the collapsed op; failure when there is nothing to group.
static FailureOr<linalg::LinalgOp> groupContractionDims(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  FailureOr<linalg::ContractionDimensions> cd =
      linalg::inferContractionDims(op);
  if (!generic || failed(cd))
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto roleOf = [&](unsigned d) {
    if (llvm::is_contained(cd->batch, d))
      return 0;
    if (llvm::is_contained(cd->m, d))
      return 1;
    if (llvm::is_contained(cd->n, d))
      return 2;
    return 3;
  };
  // Candidate order: the loops as the output and then the left operand
  // list them; consecutive loops of one role merge while every operand
  // keeps the run contiguous.
  SmallVector<unsigned> order;
  for (AffineMap m : {maps[2], maps[0], maps[1]})
    for (AffineExpr e : m.getResults())
      if (auto d = dyn_cast<AffineDimExpr>(e))
        if (!llvm::is_contained(order, d.getPosition()))
          order.push_back(d.getPosition());
  SmallVector<ReassociationIndices> groups;
  for (unsigned d : order) {
    // Batch loops stay apart: the kernel spreads over them anyway.
    if (!groups.empty() && roleOf(d) != 0 &&
        roleOf(groups.back().back()) == roleOf(d)) {
      ReassociationIndices extended = groups.back();
      extended.push_back(d);
      if (linalg::areDimSequencesPreserved(maps, {extended})) {
        groups.back() = extended;
        continue;
      }
    }
    groups.push_back({int64_t(d)});
  }
  SmallVector<ReassociationIndices> folded;
  for (ReassociationIndices &g : groups)
    if (g.size() > 1) {
      llvm::sort(g);
      folded.push_back(g);
    }
  if (folded.empty() || !linalg::areDimSequencesPreserved(maps, folded))
    return failure();
  IRRewriter rewriter(op);
  FailureOr<linalg::CollapseResult> collapsed =
      linalg::collapseOpIterationDims(op, folded, rewriter);
  if (failed(collapsed))
    return failure();
  linalg::LinalgOp result = collapsed->collapsedOp;
  for (NamedAttribute attr : op->getDiscardableAttrs())
    result->setAttr(attr.getName(), attr.getValue());
  rewriter.replaceOp(op, collapsed->results);
  // A zero-filled accumulator stays a fill (now of the collapsed shape), so
  // the kernel still takes it over.
  OpOperand &init = result.getDpsInitsMutable()[0];
  if (auto view = init.get().getDefiningOp<tensor::CollapseShapeOp>())
    if (auto fill = view.getSrc().getDefiningOp<linalg::FillOp>()) {
      rewriter.setInsertionPoint(result);
      Value empty = tensor::EmptyOp::create(
          rewriter, fill.getLoc(), view.getResultType().getShape(),
          view.getResultType().getElementType());
      Value refill = linalg::FillOp::create(rewriter, fill.getLoc(),
                                            fill.getInputs(), empty)
                         .getResult(0);
      init.set(refill);
      if (view->use_empty())
        rewriter.eraseOp(view);
      if (fill->use_empty())
        rewriter.eraseOp(fill);
    }
  return result;
}

struct TilePass : strata::impl::StrataTilePassBase<TilePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    lowerFusedAttention(module, model, sys);

    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      // Fused groups are priced as one kernel; leave their ops alone.
      if (!op->getParentOfType<tile::KernelOp>() &&
          !op->hasAttr(analysis::kFusedIntoAttrName) &&
          !op->hasAttr(analysis::kFusedAttentionAttrName))
        candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates) {
      std::optional<analysis::OpCounts> counts = analysis::countOp(op);
      if (!counts || counts->cls != analysis::OpClass::Contraction)
        continue;
      // Several loops of one role (tokens [b, s], heads [k, g, d]) become
      // one GEMM dimension first, so a tile spans all of them.
      if (op.hasPureTensorSemantics())
        if (FailureOr<linalg::LinalgOp> grouped = groupContractionDims(op);
            succeeded(grouped))
          op = *grouped;
      FailureOr<ContractionLayout> layout = analyze(op);
      if (failed(layout) || !op.hasPureTensorSemantics())
        op->emitRemark()
            << "contraction left untiled: needs one reduction dim and the "
               "tiled dims last in every operand (priced by the matmul "
               "formula, without tile IR)";
      else if (failed(lower(op, *layout, *counts, model, sys))) {
        const hw::ComputeUnit *unit = hw::SystemQuery(sys).bestUnit(
            counts->dtype, hw::UnitKind::Matrix);
        if (!unit || unit->kind != hw::UnitKind::Matrix)
          op->emitRemark() << "contraction left untiled: no matrix unit of "
                           << sys.chip.name << " computes "
                           << hw::toString(counts->dtype)
                           << "; priced on the vector unit";
        else
          op->emitRemark() << "contraction left untiled: no tile of it fits "
                           << "the staging level '"
                           << model.stagingLevel().name
                           << "'; priced on the vector unit";
      }
    }
    if (vector)
      tileVectorOps(module, model, sys);
  }

  LogicalResult lower(linalg::LinalgOp op, const ContractionLayout &l,
                      const analysis::OpCounts &counts,
                      const cost::CostModel &model, const hw::System &sys) {
    cost::MatmulWork work;
    work.batch = counts.batch;
    work.m = counts.m;
    work.n = counts.n;
    work.k = counts.k;
    work.dtype = counts.dtype;
    work.aBytes = counts.inputBytes[0];
    work.bBytes = counts.inputBytes[1];
    work.cBytes = counts.bytesWritten;
    cost::MatmulPlan plan = model.planMatmul(work);
    const cost::MatmulTiling &t = plan.tiling;
    if (t.tileM <= 0)
      return failure(); // the model runs it on the vector unit: stays linalg
    // A shape too small to fill the core grid loses time only when the
    // cores (their units, scratchpads or links), not home memory or the
    // launch, set the pace: say so then.
    const cost::Estimate &planned = plan.estimate;
    if (t.gridRows > 0 && 2 * t.gridRows * t.gridCols < sys.chip.cores &&
        planned.boundBy != model.homeLevel().name &&
        planned.boundKind != cost::BoundKind::Overhead &&
        planned.boundKind != cost::BoundKind::Latency)
      op->emitRemark() << "contraction fills " << t.gridRows * t.gridCols
                       << " of " << sys.chip.cores << " cores ("
                       << t.gridRows << "x" << t.gridCols
                       << " of the core grid: a " << counts.m << "x"
                       << counts.n << " output in " << t.tileM << "x"
                       << t.tileN << " tiles), bound by " << planned.boundBy
                       << "; split-K over the grid is not searched yet";
    const hw::ComputeUnit *unit =
        hw::SystemQuery(sys).bestUnit(counts.dtype, hw::UnitKind::Matrix);
    const hw::ComputeUnit *vectorUnit = nullptr;
    for (const hw::ComputeUnit &u : sys.chip.units)
      if (u.kind == hw::UnitKind::Vector && !vectorUnit)
        vectorUnit = &u;
    StringRef castUnit =
        vectorUnit ? StringRef(vectorUnit->name) : StringRef(unit->name);

    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    Value aT = op.getDpsInputs()[0], bT = op.getDpsInputs()[1];
    Value cT = op.getDpsInits()[0];
    // The kernel zeroes its accumulators itself (tile.fill): a zero
    // linalg.fill of the init is absorbed rather than paid as a pass over
    // the output.
    linalg::FillOp zeroInit;
    if (auto fill = cT.getDefiningOp<linalg::FillOp>())
      if (matchPattern(fill.getInputs()[0], m_AnyZeroFloat()) ||
          matchPattern(fill.getInputs()[0], m_Zero())) {
        zeroInit = fill;
        cT = fill.getOutputs()[0];
      }
    auto aTy = cast<RankedTensorType>(aT.getType());
    auto bTy = cast<RankedTensorType>(bT.getType());
    auto cTy = cast<RankedTensorType>(cT.getType());
    StringRef home = model.homeLevel().name;
    StringRef staging = model.stagingLevel().name;
    StringRef accLevel = sys.chip.memory.front().name;
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();

    OpBuilder b(op);
    auto kernel = tile::KernelOp::create(
        b, loc, op->getResultTypes(), b.getStringAttr(analysis::reportName(op)),
        ValueRange{aT, bT}, ValueRange{cT});
    auto bufOf = [&](RankedTensorType t, StringRef level) {
      return tile::BufType::get(ctx, t.getShape(), t.getElementType(), level);
    };
    Block *body =
        b.createBlock(&kernel.getBody(), {},
                      {bufOf(aTy, home), bufOf(bTy, home), bufOf(cTy, home)},
                      {loc, loc, loc});
    tile::KernelOp::ensureTerminator(kernel.getBody(), b, loc);
    b.setInsertionPointToStart(body);
    Value A = body->getArgument(0), B = body->getArgument(1),
          C = body->getArgument(2);

    // Spread: every parallel dim of C; the tiled M and N by tile count.
    SmallVector<int64_t> spreadTrips;
    for (unsigned d : l.spreadDims) {
      int64_t r = ranges[d];
      if (d == l.m)
        r = llvm::divideCeil(r, t.tileM);
      else if (d == l.n)
        r = llvm::divideCeil(r, t.tileN);
      spreadTrips.push_back(r);
    }
    // On a grid chip the plan may lay the M x N tiles on a rectangle of the
    // core grid, where rows share A tiles and columns B tiles (SUMMA).
    const bool onGrid = t.gridRows > 0 && t.gridCols > 0;
    SmallVector<int64_t> grid;
    if (onGrid)
      grid = {t.gridRows, t.gridCols};
    auto spread = tile::SpreadOp::create(
        b, loc, onGrid ? t.gridRows * t.gridCols : sys.chip.cores,
        spreadTrips, grid);
    b.setInsertionPointToStart(&spread.getBody().front());
    auto spreadIndex = [&](unsigned dim) -> Value {
      for (auto [i, d] : llvm::enumerate(l.spreadDims))
        if (d == dim)
          return spread.getBody().front().getArgument(i);
      return {};
    };

    Type inElt = aTy.getElementType();
    Type outElt = cTy.getElementType();
    Type accElt = outElt;
    if (isa<FloatType>(outElt) && outElt.getIntOrFloatBitWidth() < 32)
      accElt = b.getF32Type();
    auto acc = tile::AllocOp::create(
        b, loc, tile::BufType::get(ctx, {t.tileM, t.tileN}, accElt, accLevel),
        1);
    SmallVector<int64_t> aShape = {t.tileM, t.tileK};
    if (l.transposeA)
      std::swap(aShape[0], aShape[1]);
    SmallVector<int64_t> bShape = {t.tileK, t.tileN};
    if (l.transposeB)
      std::swap(bShape[0], bShape[1]);
    auto sa = tile::AllocOp::create(
        b, loc, tile::BufType::get(ctx, aShape, inElt, staging), t.stages);
    auto sb = tile::AllocOp::create(
        b, loc, tile::BufType::get(ctx, bShape, bTy.getElementType(), staging),
        t.stages);
    tile::FillOp::create(b, loc, acc, cast<TypedAttr>(b.getZeroAttr(accElt)),
                         castUnit);

    auto loop = tile::LoopOp::create(
        b, loc, llvm::divideCeil(ranges[l.k], t.tileK), t.stages);
    b.setInsertionPointToStart(&loop.getBody().front());
    Value kIdx = loop.getBody().front().getArgument(0);
    auto indicesFor = [&](AffineMap map) {
      SmallVector<Value> idx;
      for (AffineExpr e : map.getResults()) {
        unsigned d = cast<AffineDimExpr>(e).getPosition();
        idx.push_back(d == l.k ? kIdx : spreadIndex(d));
      }
      return idx;
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    auto ta =
        tile::CopyOp::create(b, loc, A, indicesFor(maps[0]), sa, ValueRange{});
    auto tb =
        tile::CopyOp::create(b, loc, B, indicesFor(maps[1]), sb, ValueRange{});
    if (onGrid) {
      // A row of the grid shares its A tile, a column its B tile.
      if (t.gridCols > 1)
        ta.setMulticast(1);
      if (t.gridRows > 1)
        tb.setMulticast(0);
    }
    tile::WaitOp::create(b, loc, ValueRange{ta, tb});
    const int64_t m0 = unit->shape.size() > 0 ? unit->shape[0] : 1;
    const int64_t n0 = unit->shape.size() > 1 ? unit->shape[1] : 1;
    const int64_t k0 = unit->shape.size() > 2 ? unit->shape[2] : 1;
    bool padded = t.tileM % m0 != 0 || t.tileN % n0 != 0 || t.tileK % k0 != 0;
    tile::MmaOp::create(b, loc, sa, sb, acc, b.getStringAttr(unit->name),
                        l.transposeA ? b.getUnitAttr() : UnitAttr(),
                        l.transposeB ? b.getUnitAttr() : UnitAttr(),
                        padded ? b.getUnitAttr() : UnitAttr());

    b.setInsertionPointAfter(loop);
    Value result = acc;
    if (accElt != outElt) {
      // The epilogue converts into the staging scratchpad, then stores.
      auto out = tile::AllocOp::create(
          b, loc, tile::BufType::get(ctx, {t.tileM, t.tileN}, outElt, staging),
          1);
      tile::MapOp::create(b, loc, tile::MapKind::Cast, ValueRange{acc}, out,
                          castUnit, IntegerAttr());
      result = out;
    }
    SmallVector<Value> cIdx;
    for (unsigned d : l.spreadDims)
      cIdx.push_back(spreadIndex(d));
    auto tc = tile::CopyOp::create(b, loc, result, ValueRange{}, C, cIdx,
                                   ValueRange{});
    tile::WaitOp::create(b, loc, ValueRange{tc});

    if (Attribute epilogue = op->getAttr(analysis::kEpilogueAttrName))
      kernel->setAttr(analysis::kEpilogueAttrName, epilogue);
    kernel->setAttr(analysis::kUsefulFlopsAttrName,
                    b.getI64IntegerAttr(int64_t(counts.flops)));
    op->replaceAllUsesWith(kernel->getResults());
    op->erase();
    if (zeroInit && zeroInit->use_empty())
      zeroInit->erase();
    return success();
  }
};

} // namespace
