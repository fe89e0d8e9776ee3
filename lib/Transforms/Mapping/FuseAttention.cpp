//===- FuseAttention.cpp - Flash-style attention fusion -------------------===//
//
// Finds Q·Kᵀ -> softmax chain -> P·V in linalg and, when the cost model
// prices the fused schedule below the unfused ops, marks the group so the
// estimate prices one flash-style kernel (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Transforms/AttentionGroup.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace strata {
#define GEN_PASS_DEF_STRATAFUSEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

bool bodyHas(linalg::LinalgOp op, llvm::function_ref<bool(Operation &)> f) {
  for (Operation &inner : op.getBlock()->getOperations())
    if (f(inner))
      return true;
  return false;
}

/// A matrix-unit contraction: one with an M or an N dim. A batched dot
/// product (rowsum(dP∘P): neither) is a reduction of the chain.
bool isContraction(Operation *op) {
  auto l = dyn_cast<linalg::LinalgOp>(op);
  if (!l || !linalg::isaContractionOpInterface(l))
    return false;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(l);
  return succeeded(dims) && (!dims->m.empty() || !dims->n.empty());
}

} // namespace

namespace {

bool isMasked(const llvm::SetVector<Operation *> &chain) {
  return llvm::any_of(chain, [](Operation *op) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && bodyHas(l, [](Operation &o) { return isa<linalg::IndexOp>(o); });
  });
}

/// The sliding window of a masked chain, as TransformerBuilder::visible
/// writes it: `key + W > query` (an `arith.cmpi ugt` of `linalg.index +
/// constant W`). 0 when the chain has none, or when W is not a constant (a
/// layer function shared by local and global layers takes it as an
/// argument; the group is then priced as causal, the larger work).
int64_t slidingWindowOf(const llvm::SetVector<Operation *> &chain) {
  for (Operation *op : chain) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l)
      continue;
    for (Operation &inner : l.getBlock()->getOperations()) {
      auto cmp = dyn_cast<arith::CmpIOp>(inner);
      if (!cmp || (cmp.getPredicate() != arith::CmpIPredicate::ugt &&
                   cmp.getPredicate() != arith::CmpIPredicate::sgt))
        continue;
      auto add = cmp.getLhs().getDefiningOp<arith::AddIOp>();
      if (!add)
        continue;
      for (auto [index, offset] : {std::pair(add.getLhs(), add.getRhs()),
                                   std::pair(add.getRhs(), add.getLhs())}) {
        if (!index.getDefiningOp<linalg::IndexOp>())
          continue;
        if (auto c = offset.getDefiningOp<arith::ConstantIndexOp>())
          return c.value();
      }
    }
  }
  return 0;
}

/// The attention a score-shaped contraction (Q·Kᵀ, or dO·Vᵀ in the
/// backward) computes: its batch dims are (batch x KV heads); its M dims
/// the grouped query heads and the query positions (last in its result's
/// map); N the keys, K the head dim. Also returns the position loop; a
/// decode step's shape has qLen = the query heads per KV head.
std::optional<std::pair<cost::AttentionWork, unsigned>>
scoreShape(linalg::LinalgOp scores, bool masked, unsigned queryOperand = 0) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(scores);
  SmallVector<int64_t> ranges = scores.getStaticLoopRanges();
  if (failed(dims) || dims->k.empty() || dims->m.empty() ||
      dims->n.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  // The query side's dims are the M dims when the queries come first.
  if (queryOperand == 1)
    std::swap(dims->m, dims->n);
  auto product = [&](ArrayRef<unsigned> loops) {
    int64_t p = 1;
    for (unsigned l : loops)
      p *= ranges[l];
    return p;
  };
  // The query-position dim: the M dim that comes last in the scores' map.
  AffineMap outMap = scores.getIndexingMapsArray().back();
  unsigned posDim = dims->m.back();
  for (AffineExpr e : outMap.getResults())
    if (auto d = dyn_cast<AffineDimExpr>(e))
      if (llvm::is_contained(dims->m, d.getPosition()))
        posDim = d.getPosition();
  int64_t qLen = ranges[posDim];
  int64_t groupHeads = product(dims->m) / qLen;
  int64_t kvGroups = product(dims->batch);
  std::optional<analysis::OpCounts> counts = analysis::countOp(scores);
  if (!counts)
    return std::nullopt;
  cost::AttentionWork w;
  w.batch = 1;
  w.kvHeads = kvGroups;
  w.headDim = product(dims->k);
  w.kvLen = product(dims->n);
  w.dtype = counts->dtype;
  // A cache stored narrower than the queries (fp8 K under bf16 Q).
  Type keyElt = getElementTypeOrSelf(
      scores.getDpsInputOperand(1 - queryOperand)->get().getType());
  if (hw::DType k = analysis::toDType(keyElt); k != w.dtype)
    w.kvDType = k;
  if (qLen == 1) {
    // Decode: the grouped heads' single queries share K/V: one block.
    w.heads = kvGroups;
    w.qLen = groupHeads;
    w.causal = false;
  } else {
    w.heads = kvGroups * groupHeads;
    w.qLen = qLen;
    w.causal = masked;
  }
  return std::make_pair(w, posDim);
}

int64_t ranges(linalg::LinalgOp op, unsigned loop) {
  return op.getStaticLoopRanges()[loop];
}

/// Saved for the backward: returned by the function (the training step's
/// per-layer saves).
bool isSave(Operation *user) { return isa<func::ReturnOp>(user); }

/// Drops from `chain` the fills another op outside the group also uses
/// (CSE shares an accumulator's zero fill between contractions): they stay
/// ops of their own.
void dropSharedFills(llvm::SetVector<Operation *> &chain,
                     ArrayRef<Operation *> others) {
  llvm::SmallPtrSet<Operation *, 32> members(chain.begin(), chain.end());
  members.insert(others.begin(), others.end());
  SmallVector<Operation *> shared;
  for (Operation *op : chain)
    if (isa<linalg::FillOp>(op) &&
        llvm::any_of(op->getUsers(),
                     [&](Operation *u) { return !members.contains(u); }))
      shared.push_back(op);
  for (Operation *op : shared)
    chain.remove(op);
}

} // namespace

/// Walks back from P·V's P operand to the Q·Kᵀ contraction.
std::optional<AttentionGroup> strata::matchAttentionGroup(linalg::LinalgOp pv,
                                                          bool allowSaved) {
  if (!isContraction(pv) || pv.getNumDpsInputs() != 2)
    return std::nullopt;
  AttentionGroup g;
  g.output = pv;
  SmallVector<Value> worklist = {pv.getDpsInputs()[0]};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (!def || g.chain.contains(def) || def == g.scores)
      continue;
    if (isContraction(def)) {
      if (g.scores && g.scores != def)
        return std::nullopt; // two contractions feed the softmax
      g.scores = cast<linalg::LinalgOp>(def);
      continue;
    }
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      g.chain.insert(def);
      worklist.push_back(def->getOperand(0));
      continue;
    }
    auto l = dyn_cast<linalg::LinalgOp>(def);
    if (!l)
      continue; // a mask or scale from outside: an input of the kernel
    if (g.chain.size() > 24)
      return std::nullopt;
    g.chain.insert(def);
    for (Value in : l.getDpsInputs())
      worklist.push_back(in);
    // Reduction inits (fills) belong to the group too.
    for (Value init : l.getDpsInits())
      if (auto fill = init.getDefiningOp<linalg::FillOp>())
        g.chain.insert(fill);
  }
  if (!g.scores)
    return std::nullopt;
  // The accumulator fills of both contractions go with them.
  for (linalg::LinalgOp c : {g.scores, pv})
    for (Value init : c.getDpsInits())
      if (auto fill = init.getDefiningOp<linalg::FillOp>())
        g.chain.insert(fill);
  bool hasExp = llvm::any_of(g.chain, [](Operation *op) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && bodyHas(l, [](Operation &o) { return isa<math::ExpOp>(o); });
  });
  if (!hasExp)
    return std::nullopt;
  dropSharedFills(g.chain, {g.scores, pv});
  // Fusion drops the intermediates: nothing outside may use them (but the
  // saves of a training forward, when allowed).
  llvm::SmallPtrSet<Operation *, 32> members(g.chain.begin(), g.chain.end());
  members.insert(g.scores);
  members.insert(pv);
  for (Operation *op : members) {
    if (op == pv.getOperation())
      continue;
    for (Operation *user : op->getUsers())
      if (!members.contains(user) && !(allowSaved && isSave(user)))
        return std::nullopt;
  }

  std::optional<std::pair<cost::AttentionWork, unsigned>> shape =
      scoreShape(g.scores, isMasked(g.chain));
  if (!shape)
    return std::nullopt;
  g.work = shape->first;
  if (g.work.causal)
    g.work.window = slidingWindowOf(g.chain);
  g.positionDim = shape->second;
  g.decodeGroup = ranges(g.scores, g.positionDim) == 1;
  return g;
}

SmallVector<Value> strata::savedIntermediates(const AttentionGroup &g) {
  SmallVector<Value> saved;
  auto visit = [&](Operation *op) {
    for (Value r : op->getResults())
      if (llvm::any_of(r.getUsers(), isSave))
        saved.push_back(r);
  };
  visit(g.scores);
  for (Operation *op : g.chain)
    visit(op);
  return saved;
}

std::optional<AttentionBackwardGroup>
strata::matchAttentionBackward(linalg::LinalgOp dq) {
  if (!isContraction(dq) || dq.getNumDpsInputs() != 2 ||
      dq->getNumResults() != 1)
    return std::nullopt;
  for (Value ds : dq.getDpsInputs()) {
    // Walk back from dS through the elementwise/reduction chain to dP.
    AttentionBackwardGroup g;
    g.dq = dq;
    SmallVector<Value> outside;
    SmallVector<Value> worklist = {ds};
    bool bad = false;
    while (!worklist.empty() && !bad) {
      Value v = worklist.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (def && (g.chain.contains(def) || def == g.dp.getOperation()))
        continue;
      if (def && isContraction(def)) {
        if (g.dp && g.dp != def)
          bad = true; // two contractions feed dS
        g.dp = cast<linalg::LinalgOp>(def);
        continue;
      }
      auto l = dyn_cast_if_present<linalg::LinalgOp>(def);
      if (!l || isa<linalg::FillOp>(def)) {
        outside.push_back(v);
        continue;
      }
      if (g.chain.size() > 16) {
        bad = true;
        break;
      }
      g.chain.insert(def);
      for (Value in : l.getDpsInputs())
        worklist.push_back(in);
      for (Value init : l.getDpsInits())
        if (auto fill = init.getDefiningOp<linalg::FillOp>())
          g.chain.insert(fill);
    }
    if (bad || !g.dp || g.chain.empty() || g.dp.getNumDpsInputs() != 2 ||
        g.dp->getNumResults() != 1)
      continue;
    // The softmax backward reduces a row (rowsum(dP∘P) or rowsum(dO∘O)).
    if (!llvm::any_of(g.chain, [](Operation *op) {
          auto l = dyn_cast<linalg::LinalgOp>(op);
          return l && !isa<linalg::FillOp>(op) && l.getNumReductionLoops() > 0;
        }))
      continue;
    // P: the score-shaped tensor the chain reads from outside.
    auto scoreType = g.dp->getResult(0).getType();
    for (Value v : outside)
      if (v.getType() == scoreType && !v.getDefiningOp<tensor::EmptyOp>()) {
        if (g.probs && g.probs != v) {
          g.probs = Value();
          break;
        }
        g.probs = v;
      }
    if (!g.probs || ds.getType() != scoreType)
      continue;
    // dS feeds exactly dQ and dK; dQ reduces over the keys, dK over the
    // positions (the other dS consumer).
    SmallVector<Operation *> dsUsers(ds.getUsers().begin(),
                                     ds.getUsers().end());
    if (dsUsers.size() != 2 || !llvm::is_contained(dsUsers, dq.getOperation()))
      continue;
    Operation *other = dsUsers[0] == dq.getOperation() ? dsUsers[1]
                                                       : dsUsers[0];
    if (!isContraction(other) || other->getNumResults() != 1)
      continue;
    g.dk = cast<linalg::LinalgOp>(other);
    // dV = Pᵀ·dO: a contraction of P with one of dP's operands (dO, the
    // query side of dP; V is the other).
    int dOperand = -1;
    for (Operation *user : g.probs.getUsers()) {
      if (g.chain.contains(user) || !isContraction(user) ||
          user->getNumResults() != 1)
        continue;
      auto c = cast<linalg::LinalgOp>(user);
      if (c.getNumDpsInputs() != 2)
        continue;
      for (Value in : c.getDpsInputs())
        for (auto [i, dpIn] : llvm::enumerate(g.dp.getDpsInputs()))
          if (in != g.probs && in == dpIn) {
            g.dv = c;
            dOperand = int(i);
          }
    }
    if (!g.dv || dOperand < 0)
      continue;
    std::optional<std::pair<cost::AttentionWork, unsigned>> shape =
        scoreShape(g.dp, isMasked(g.chain), unsigned(dOperand));
    if (!shape)
      continue;
    if (shape->first.causal)
      shape->first.window = slidingWindowOf(g.chain);
    // The key loop of dS in dQ's loops must be a reduction of dQ.
    FailureOr<linalg::ContractionDimensions> dpDims =
        linalg::inferContractionDims(g.dp);
    FailureOr<linalg::ContractionDimensions> dqDims =
        linalg::inferContractionDims(dq);
    if (failed(dpDims) || failed(dqDims))
      continue;
    SmallVector<unsigned, 2> keyDims = dOperand == 0 ? dpDims->n : dpDims->m;
    if (keyDims.size() != 1)
      continue;
    AffineMap dpOut = g.dp.getIndexingMapsArray().back();
    std::optional<unsigned> keyAt = dpOut.getResultPosition(
        getAffineDimExpr(keyDims.front(), dq.getContext()));
    OpOperand *dsUse = nullptr;
    for (OpOperand &use : dq->getOpOperands())
      if (use.get() == ds)
        dsUse = &use;
    if (!keyAt || !dsUse)
      continue;
    auto keyExpr = dyn_cast<AffineDimExpr>(
        dq.getMatchingIndexingMap(dsUse).getResult(*keyAt));
    if (!keyExpr || !llvm::is_contained(dqDims->k, keyExpr.getPosition()))
      continue;
    for (linalg::LinalgOp c : {g.dp, g.dq, g.dk, g.dv})
      for (Value init : c.getDpsInits())
        if (auto fill = init.getDefiningOp<linalg::FillOp>())
          g.chain.insert(fill);
    dropSharedFills(g.chain, {g.dp, g.dq, g.dk, g.dv});
    // Fusion drops dP and dS: nothing outside may use them.
    llvm::SmallPtrSet<Operation *, 32> members(g.chain.begin(), g.chain.end());
    for (linalg::LinalgOp c : {g.dp, g.dq, g.dk, g.dv})
      members.insert(c);
    bool escapes = false;
    for (Operation *op : members) {
      if (op == dq.getOperation() || op == g.dk.getOperation() ||
          op == g.dv.getOperation())
        continue;
      for (Operation *user : op->getUsers())
        escapes |= !members.contains(user);
    }
    if (escapes)
      continue;
    g.work = shape->first;
    g.work.backward = true;
    return g;
  }
  return std::nullopt;
}

namespace {

struct FusePass : strata::impl::StrataFusePassBase<FusePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (decodeKvSharing != "group" && decodeKvSharing != "head") {
      module.emitError() << "unknown decode-kv-sharing '" << decodeKvSharing
                         << "' (expected group or head)";
      return signalPassFailure();
    }
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    Builder b(module.getContext());

    SmallVector<linalg::LinalgOp> roots;
    module.walk([&](linalg::LinalgOp op) { roots.push_back(op); });
    // 'auto': on for a chip with a core grid and an on-chip network, where
    // strata-residency keeps the fused kernel's operands in the cores'
    // scratchpads (strata-pipeline passes auto when it runs residency).
    const bool gridChip = sys.chip.grid && sys.chip.noc;
    std::optional<bool> chain, fuseNormsOn;
    for (auto [name, value, out] :
         {std::tuple{"epilogue-chain", &epilogueChain, &chain},
          std::tuple{"norms", &norms, &fuseNormsOn}}) {
      if (*value == "auto")
        *out = gridChip;
      else if (*value == "on" || *value == "off")
        *out = *value == "on";
      else {
        module.emitError() << "unknown " << name << " '" << *value
                           << "' (expected auto, on or off)";
        return signalPassFailure();
      }
    }
    if (attention)
      fuseAttention(roots, model, b);
    if (epilogues)
      fuseEpilogues(roots, model, b, *chain);
    if (*fuseNormsOn)
      fuseNorms(roots, model, b);
  }

  static DictionaryAttr extraWork(Builder &b, const cost::VectorWork &extra) {
    return b.getDictionaryAttr({
        b.getNamedAttr("bytes_read",
                       b.getI64IntegerAttr(int64_t(extra.bytesRead))),
        b.getNamedAttr("bytes_written",
                       b.getI64IntegerAttr(int64_t(extra.bytesWritten))),
        b.getNamedAttr("flops", b.getI64IntegerAttr(int64_t(extra.flops))),
        b.getNamedAttr("transcendentals",
                       b.getI64IntegerAttr(int64_t(extra.transcendentals))),
    });
  }

  /// A norm's row statistics folded into the op applying them. `apply` is
  /// an elementwise op over [..., rows, row]; a statistic is a linalg op
  /// (not a contraction) whose result is [..., rows] (the applied op's
  /// shape less its last dim), either a reduction over the row of a tensor
  /// of the applied op's shape or an elementwise op of other statistics,
  /// used only by the group. The fills of the reductions' inits go with
  /// them.
  void fuseNorms(ArrayRef<linalg::LinalgOp> ops, const cost::CostModel &model,
                 Builder &b) {
    auto price = [&](Operation *op) -> std::optional<cost::Estimate> {
      std::optional<analysis::OpCounts> c = analysis::countOp(op);
      return c ? analysis::estimateOp(op, *c, model) : std::nullopt;
    };
    auto marked = [](Operation *op) {
      return op->hasAttr(analysis::kFusedIntoAttrName) ||
             op->hasAttr(analysis::kFusedAttentionAttrName) ||
             op->hasAttr(analysis::kEpilogueAttrName) ||
             op->hasAttr(analysis::kPrologueAttrName);
    };
    for (linalg::LinalgOp apply : ops) {
      if (isContraction(apply) || apply.getNumReductionLoops() != 0 ||
          apply->getNumResults() != 1 || marked(apply) ||
          isa<linalg::FillOp>(apply.getOperation()))
        continue;
      auto outTy = dyn_cast<RankedTensorType>(apply->getResult(0).getType());
      if (!outTy || !outTy.hasStaticShape() || outTy.getRank() < 2)
        continue;
      ArrayRef<int64_t> rowsShape = outTy.getShape().drop_back();
      auto isStatistic = [&](Value v) {
        auto ty = dyn_cast<RankedTensorType>(v.getType());
        return ty && ty.getShape() == rowsShape;
      };
      // Collect the statistics, from the applied op's inputs back.
      llvm::SetVector<Operation *> group;
      SmallVector<Value> applyInputs = llvm::to_vector(apply.getDpsInputs());
      SmallVector<Value> worklist = applyInputs;
      bool ok = true, reduces = false;
      while (!worklist.empty() && ok) {
        Value v = worklist.pop_back_val();
        if (!isStatistic(v))
          continue;
        auto stat = v.getDefiningOp<linalg::LinalgOp>();
        if (!stat || group.contains(stat))
          continue;
        if (isContraction(stat) || stat->getNumResults() != 1 ||
            marked(stat) || isa<linalg::FillOp>(stat.getOperation())) {
          ok = false;
          break;
        }
        if (stat.getNumReductionLoops() > 0) {
          // A reduction over the row: one reduced loop, the init a
          // statistic, every other input the applied op's shape or a
          // statistic.
          if (stat.getNumReductionLoops() != 1 ||
              stat.getNumDpsInits() != 1) {
            ok = false;
            break;
          }
          for (Value in : stat.getDpsInputs()) {
            auto ty = dyn_cast<RankedTensorType>(in.getType());
            if (!ty || (ty.getShape() != outTy.getShape() && !isStatistic(in)))
              ok = false;
            else if (isStatistic(in))
              worklist.push_back(in);
          }
          Value init = stat.getDpsInits()[0];
          if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
            if (!fill->hasOneUse() || marked(fill))
              ok = false;
            else
              group.insert(fill);
          } else if (init.getDefiningOp<linalg::LinalgOp>()) {
            ok = false; // a computed init: not a plain statistic
          }
          reduces = true;
        } else {
          for (Value in : stat.getDpsInputs()) {
            if (!isStatistic(in)) {
              ok = false;
              break;
            }
            worklist.push_back(in);
          }
        }
        group.insert(stat);
      }
      if (!ok || !reduces)
        continue;
      // Nothing outside may read a statistic: the kernel keeps them.
      for (Operation *member : group)
        for (Operation *user : member->getUsers())
          if (user != apply.getOperation() && !group.contains(user))
            ok = false;
      if (!ok)
        continue;
      // Whole rows in one core's staging level: each of the applied op's
      // row-shaped operands and its result, at f32 at most.
      int64_t rowShaped = 1;
      for (Value in : applyInputs)
        if (auto ty = dyn_cast<RankedTensorType>(in.getType());
            ty && ty.getShape() == outTy.getShape())
          ++rowShaped;
      if (double(rowShaped * outTy.getShape().back() * 4) >
          double(model.stagingLevel().capacity))
        continue;
      std::optional<cost::Estimate> ae = price(apply);
      if (!ae)
        continue;
      double apart = ae->time;
      cost::VectorWork extra;
      extra.dtype = analysis::countOp(apply) ? analysis::countOp(apply)->dtype
                                             : hw::DType::f32;
      llvm::DenseSet<Value> held;
      for (Value in : applyInputs)
        held.insert(in);
      for (Operation *member : group) {
        std::optional<analysis::OpCounts> c = analysis::countOp(member);
        std::optional<cost::Estimate> e = price(member);
        if (!c || !e) {
          ok = false;
          break;
        }
        apart += e->time;
        extra.flops += c->flops;
        extra.transcendentals += c->transcendentals;
        // Inputs neither the applied op reads nor a statistic.
        if (auto l = dyn_cast<linalg::LinalgOp>(member))
          for (Value in : l.getDpsInputs()) {
            Operation *def = in.getDefiningOp();
            auto ty = dyn_cast<RankedTensorType>(in.getType());
            if (held.contains(in) || (def && group.contains(def)) || !ty)
              continue;
            extra.bytesRead += double(ty.getNumElements()) *
                               std::max(1.0, ty.getElementTypeBitWidth() / 8.0);
          }
      }
      if (!ok)
        continue;
      cost::Estimate fused = model.withEpilogue(*ae, extra);
      if (fused.time >= apart)
        continue;
      apply->setAttr(analysis::kPrologueAttrName, extraWork(b, extra));
      for (Operation *member : group)
        member->setAttr(analysis::kFusedIntoAttrName,
                        b.getStringAttr(analysis::reportName(apply)));
    }
  }

  /// Elementwise consumers folded into the contraction that feeds them.
  void fuseEpilogues(ArrayRef<linalg::LinalgOp> ops,
                     const cost::CostModel &model, Builder &b, bool chainLinks) {
    auto price = [&](Operation *op) -> std::optional<cost::Estimate> {
      std::optional<analysis::OpCounts> c = analysis::countOp(op);
      return c ? analysis::estimateOp(op, *c, model) : std::nullopt;
    };
    for (linalg::LinalgOp producer : ops) {
      if (!isContraction(producer) || producer->getNumResults() != 1 ||
          producer->hasAttr(analysis::kFusedIntoAttrName) ||
          producer->hasAttr(analysis::kFusedAttentionAttrName) ||
          producer->hasAttr(analysis::kEpilogueAttrName) ||
          !producer->getResult(0).hasOneUse())
        continue;
      // The chain of elementwise consumers, each the only user of the one
      // before (bias add, then an activation or a residual add): every
      // link's input tile is the previous link's output tile, so none of
      // the intermediates goes to home and back. Links are added while the
      // model prices the longer chain below the shorter one plus the next
      // op apart.
      std::optional<analysis::OpCounts> pc = analysis::countOp(producer);
      std::optional<cost::Estimate> pe = price(producer);
      if (!pc || !pe)
        continue;
      cost::VectorWork extra;
      extra.dtype = pc->dtype;
      SmallVector<Operation *> links;
      Operation *last = producer;
      double lastWritten = pc->bytesWritten;
      while (last->getResult(0).hasOneUse() &&
             (chainLinks || links.empty())) {
        auto consumer =
            dyn_cast<linalg::LinalgOp>(*last->getResult(0).user_begin());
        if (!consumer || isContraction(consumer) ||
            consumer.getNumReductionLoops() != 0 ||
            consumer->getNumResults() != 1 ||
            consumer->hasAttr(analysis::kFusedIntoAttrName) ||
            consumer->hasAttr(analysis::kEpilogueAttrName) ||
            consumer->getResult(0).getType() !=
                producer->getResult(0).getType())
          break;
        std::optional<analysis::OpCounts> cc = analysis::countOp(consumer);
        std::optional<cost::Estimate> ce = price(consumer);
        if (!cc || !ce)
          break;
        cost::VectorWork longer = extra;
        longer.flops += cc->flops;
        longer.transcendentals += cc->transcendentals;
        if (links.empty())
          longer.dtype = cc->dtype;
        // The bytes the link moves beyond its input tile's round trip.
        longer.bytesRead += std::max(0.0, cc->bytesRead - lastWritten);
        longer.bytesWritten += std::max(0.0, cc->bytesWritten - lastWritten);
        cost::Estimate shorter =
            links.empty() ? *pe : model.withEpilogue(*pe, extra);
        if (model.withEpilogue(*pe, longer).time >= shorter.time + ce->time)
          break;
        extra = longer;
        links.push_back(consumer);
        last = consumer;
        lastWritten = cc->bytesWritten;
      }
      if (links.empty())
        continue;
      producer->setAttr(
          analysis::kEpilogueAttrName,
          b.getDictionaryAttr({
              b.getNamedAttr("bytes_read", b.getI64IntegerAttr(
                                               int64_t(extra.bytesRead))),
              b.getNamedAttr("bytes_written", b.getI64IntegerAttr(int64_t(
                                                  extra.bytesWritten))),
              b.getNamedAttr("flops",
                             b.getI64IntegerAttr(int64_t(extra.flops))),
              b.getNamedAttr("transcendentals",
                             b.getI64IntegerAttr(
                                 int64_t(extra.transcendentals))),
          }));
      for (Operation *consumer : links)
        consumer->setAttr(analysis::kFusedIntoAttrName,
                          b.getStringAttr(analysis::reportName(producer)));
    }
  }

  /// The record a fused group carries: the AttentionWork the estimate
  /// prices it with (ProgramCost reads it back).
  static DictionaryAttr record(Builder &b, const cost::AttentionWork &w) {
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("batch", b.getI64IntegerAttr(w.batch)),
        b.getNamedAttr("causal", b.getBoolAttr(w.causal)),
        b.getNamedAttr("head_dim", b.getI64IntegerAttr(w.headDim)),
        b.getNamedAttr("heads", b.getI64IntegerAttr(w.heads)),
        b.getNamedAttr("kv_heads", b.getI64IntegerAttr(w.kvHeads)),
        b.getNamedAttr("kv_len", b.getI64IntegerAttr(w.kvLen)),
        b.getNamedAttr("q_len", b.getI64IntegerAttr(w.qLen)),
    };
    if (w.kvDType)
      fields.push_back(b.getNamedAttr(
          "kv_dtype", b.getStringAttr(std::string(hw::toString(*w.kvDType)))));
    if (w.window > 0)
      fields.push_back(b.getNamedAttr("window", b.getI64IntegerAttr(w.window)));
    if (w.backward) {
      fields.push_back(b.getNamedAttr("backward", b.getBoolAttr(true)));
      // FlashAttention-2's backward: S and P recomputed per tile from Q, K
      // and the forward's row statistics, never read from HBM.
      fields.push_back(
          b.getNamedAttr("recompute", b.getStringAttr("scores")));
    }
    return b.getDictionaryAttr(fields);
  }

  /// The ops of a group priced one by one, as they are.
  static double unfusedTime(ArrayRef<Operation *> ops,
                            const cost::CostModel &model) {
    double t = 0;
    for (Operation *op : ops)
      if (std::optional<analysis::OpCounts> c = analysis::countOp(op))
        if (std::optional<cost::Estimate> e =
                analysis::estimateOp(op, *c, model))
          t += e->time;
    return t;
  }

  /// Where a value a function returns ends up: the arguments of the
  /// functions it reaches through call results, the training step's
  /// per-layer stacks (insert_slice, the loop, extract_slice) and call
  /// operands. Empty when it cannot be followed.
  static SmallVector<BlockArgument> savedInto(Value saved) {
    SmallVector<BlockArgument> reached;
    SmallVector<Value> worklist;
    llvm::SmallPtrSet<void *, 16> seen;
    auto push = [&](Value v) {
      if (seen.insert(v.getAsOpaquePointer()).second)
        worklist.push_back(v);
    };
    push(saved);
    while (!worklist.empty()) {
      if (seen.size() > 64)
        return {};
      Value v = worklist.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *user = use.getOwner();
        unsigned i = use.getOperandNumber();
        if (v == saved && !isa<func::ReturnOp>(user))
          continue; // the group's own uses
        if (isa<func::ReturnOp>(user)) {
          auto fn = user->getParentOfType<func::FuncOp>();
          auto module = fn ? fn->getParentOfType<ModuleOp>() : ModuleOp();
          std::optional<SymbolTable::UseRange> calls =
              module ? SymbolTable::getSymbolUses(fn, module) : std::nullopt;
          if (!calls)
            return {};
          for (const SymbolTable::SymbolUse &call : *calls)
            if (auto c = dyn_cast<func::CallOp>(call.getUser()))
              push(c.getResult(i));
        } else if (auto ins = dyn_cast<tensor::InsertSliceOp>(user)) {
          if (v != ins.getSource())
            return {};
          push(ins.getResult());
        } else if (isa<scf::YieldOp>(user)) {
          auto loop = dyn_cast<scf::ForOp>(user->getParentOp());
          if (!loop)
            return {};
          push(loop.getResult(i));
        } else if (auto ext = dyn_cast<tensor::ExtractSliceOp>(user)) {
          push(ext.getResult());
        } else if (auto call = dyn_cast<func::CallOp>(user)) {
          auto callee = dyn_cast_if_present<func::FuncOp>(
              SymbolTable::lookupNearestSymbolFrom(call, call.getCalleeAttr()));
          if (!callee || callee.isExternal())
            return {};
          reached.push_back(callee.getArgument(i));
        } else {
          return {}; // read some other way: kept as it is
        }
      }
    }
    return reached;
  }

  /// FlashAttention-2-style backward groups (training), then Q·Kᵀ ->
  /// softmax -> P·V groups, each priced as one flash-style kernel against
  /// its ops as they are. A training forward's P, saved for the backward,
  /// lets the forward fuse only where every backward reading it is fused
  /// (and recomputes it per tile).
  void fuseAttention(ArrayRef<linalg::LinalgOp> roots,
                     const cost::CostModel &model, Builder &b) {
    llvm::DenseMap<Value, StringAttr> recomputed; // P argument -> root
    for (linalg::LinalgOp dq : roots) {
      if (dq->hasAttr(analysis::kFusedIntoAttrName) ||
          dq->hasAttr(analysis::kFusedAttentionAttrName))
        continue;
      std::optional<AttentionBackwardGroup> g = matchAttentionBackward(dq);
      if (!g)
        continue;
      cost::Estimate fused = model.attention(g->work);
      SmallVector<Operation *> members = {g->dp, g->dq, g->dk, g->dv};
      members.append(g->chain.begin(), g->chain.end());
      double unfused = unfusedTime(members, model);
      if (fused.time <= 0 || fused.time >= unfused) {
        dq->emitRemark() << "attention backward left unfused: fused "
                         << fused.time * 1e6 << " us vs unfused "
                         << unfused * 1e6 << " us";
        continue;
      }
      dq->setAttr(analysis::kFusedAttentionAttrName, record(b, g->work));
      StringAttr root = b.getStringAttr(analysis::reportName(dq));
      for (Operation *op : members)
        if (op != dq.getOperation())
          op->setAttr(analysis::kFusedIntoAttrName, root);
      recomputed[g->probs] = root;
      // A saved P arriving as an argument: say the kernel recomputes it
      // (the footprint then keeps no S x S stack for it).
      if (auto arg = dyn_cast<BlockArgument>(g->probs))
        if (auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
          fn.setArgAttr(arg.getArgNumber(), analysis::kRecomputedByAttrName,
                        root);
    }

    for (linalg::LinalgOp pv : roots) {
      if (pv->hasAttr(analysis::kFusedIntoAttrName) ||
          pv->hasAttr(analysis::kFusedAttentionAttrName))
        continue;
      std::optional<AttentionGroup> g =
          matchAttentionGroup(pv, /*allowSaved=*/true);
      if (!g)
        continue;
      // Saved intermediates must reach only fused backward groups.
      bool keptForBackward = false;
      SmallVector<std::pair<Value, StringAttr>> saves;
      for (Value saved : savedIntermediates(*g)) {
        SmallVector<BlockArgument> args = savedInto(saved);
        keptForBackward |=
            args.empty() || llvm::any_of(args, [&](BlockArgument a) {
              return !a.use_empty() && !recomputed.contains(a);
            });
        StringAttr by;
        for (BlockArgument a : args)
          if (!by)
            by = recomputed.lookup(a);
        saves.push_back({saved, by});
      }
      if (keptForBackward) {
        pv->emitRemark() << "attention left unfused: the backward reads its "
                            "probabilities from HBM";
        continue;
      }
      // f32 scores at TF32 where the module allows it (f32-matmul=tf32).
      if (std::optional<analysis::OpCounts> c = analysis::countOp(g->scores))
        g->work.dtype = analysis::pricedDType(g->scores, *c, model.system());
      // A decode kernel that reads K/V once per query head (TensorRT-LLM's
      // masked MHA on grouped-query models, before its XQA kernel): the
      // group's query heads are separate blocks, each streaming the cache.
      bool perHead = decodeKvSharing == "head" && g->decodeGroup &&
                     g->work.qLen > 1;
      if (perHead) {
        g->work.heads *= g->work.qLen;
        g->work.kvHeads = g->work.heads;
        g->work.qLen = 1;
      }
      // Ask the cost model: fused flash-style kernel vs the ops as they are.
      cost::Estimate fused = model.attention(g->work);
      SmallVector<Operation *> members = {g->scores, g->output};
      members.append(g->chain.begin(), g->chain.end());
      double unfused = unfusedTime(members, model);
      // The engine's own decode kernel is not a choice: it runs whether or
      // not the ops apart would be cheaper.
      if (fused.time <= 0 || (!perHead && fused.time >= unfused)) {
        pv->emitRemark() << "attention left unfused: fused "
                         << fused.time * 1e6 << " us vs unfused "
                         << unfused * 1e6 << " us";
        continue;
      }
      DictionaryAttr rec = record(b, g->work);
      if (perHead) {
        NamedAttrList fields(rec);
        fields.set("kv_sharing", b.getStringAttr("head"));
        rec = fields.getDictionary(b.getContext());
      }
      pv->setAttr(analysis::kFusedAttentionAttrName, rec);
      StringAttr root = b.getStringAttr(analysis::reportName(pv));
      g->scores->setAttr(analysis::kFusedIntoAttrName, root);
      for (Operation *op : g->chain)
        op->setAttr(analysis::kFusedIntoAttrName, root);
      // The fused kernel never writes P: the function returns an empty
      // tensor in its place, marked with the backward that recomputes it
      // (so the group lowers like an inference one and no S x S tensor is
      // produced for the backward).
      for (auto [saved, by] : saves) {
        auto type = dyn_cast<RankedTensorType>(saved.getType());
        if (!type || !type.hasStaticShape())
          continue;
        for (OpOperand &use : llvm::make_early_inc_range(saved.getUses())) {
          if (!isa<func::ReturnOp>(use.getOwner()))
            continue;
          OpBuilder ob(use.getOwner());
          auto empty = tensor::EmptyOp::create(ob, saved.getLoc(),
                                               type.getShape(),
                                               type.getElementType());
          if (by)
            empty->setAttr(analysis::kRecomputedByAttrName, by);
          use.set(empty);
        }
      }
    }
  }
};

} // namespace
