//===- TileAttention.cpp - Fused attention groups to one tile.kernel ------===//
//
// A group strata-fuse marked (Q·Kᵀ -> mask/softmax -> P·V, the root
// carrying strata.fused_attention) becomes one tile.kernel holding the
// flash schedule CostModel::planAttention priced:
//
//   tile.kernel "name" ins(Q, K, V) outs(O) {
//     [split-KV: partial O, max, sum workspaces at home]
//     tile.spread over (head groups..., query blocks [, KV splits]) {
//       q @ staging; k, v @ staging x stages; s, p, acc, m, l, ... @ level 0
//       copy Q block -> q; fill m = -inf, l = 0, acc = 0
//       tile.loop %kb in kvBlocks pipeline(stages) {
//         copy K, V blocks; s = q·kᵀ; scale (+ causal mask); online softmax
//         (max, rescale, exp, sum); acc = acc·corr + p·v
//       }
//       acc / l -> O block  |  split-KV: partials -> workspaces
//     }
//     [split-KV: tile.spread over (head groups..., query blocks) combining
//      the splits' partials, then acc / l -> O block]
//   } {strata.fused_attention = {...}}
//
// The kernel keeps the group's strata.fused_attention, so the estimate
// prices it with the same CostModel::attention call as the unlowered group;
// its traffic per level is read off the kernel's copies.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Transforms/AttentionGroup.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace strata;

namespace {

/// The chip's compute unit named `name` (the one an estimate priced).
const hw::ComputeUnit *unitNamed(const hw::Chip &chip, llvm::StringRef name) {
  for (const hw::ComputeUnit &u : chip.units)
    if (u.name == name)
      return &u;
  return nullptr;
}

} // namespace

namespace {

/// Loop dims of an operand's map, or failure if it is not a projection.
FailureOr<SmallVector<unsigned>> projectionDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return failure();
    dims.push_back(d.getPosition());
  }
  return dims;
}

/// Where each of a group's tensors keeps the two dims its tiles span, and
/// which Q·Kᵀ loop every other dim of it follows.
struct Operand {
  Value tensor;
  SmallVector<unsigned> dims;  ///< Q·Kᵀ loop of each tensor dim
  unsigned rows = 0, cols = 0; ///< tensor dims of the tile's two dims
  bool transposed = false;     ///< cols before rows in the tensor
};

/// The group's structure in terms of Q·Kᵀ's loops: which loop the query
/// rows of a block walk (positions, or a decode step's grouped heads), the
/// keys, the head dim, and the loops the spread walks one element at a
/// time.
struct Layout {
  Operand q, k, v, o;
  unsigned rowLoop = 0, keyLoop = 0, headLoop = 0;
  /// Q·Kᵀ reduces over a head dim split in two (RoPE's rotation pairs,
  /// [.., head_dim/2, 2]): the second loop, folded into `headLoop`. Q and
  /// K are read through views that merge the two tensor dims, at these
  /// positions of their (unmerged) dims.
  std::optional<unsigned> headInner;
  unsigned qMerge = 0, kMerge = 0;
  SmallVector<unsigned> groupLoops; ///< spread one by one (size > 1)
  SmallVector<int64_t> ranges;      ///< Q·Kᵀ's loop ranges
};

/// Maps P·V's loops onto Q·Kᵀ's from the two contractions' dims: batch to
/// batch and M to M in order (the softmax chain keeps their order; the
/// position dim is the M dim last in each op's score-shaped operand), P·V's
/// K to the keys and its N to the head dim.
FailureOr<Layout> analyze(const AttentionGroup &g) {
  linalg::LinalgOp s = g.scores, pv = g.output;
  if (s.getNumDpsInputs() != 2 || pv.getNumDpsInputs() != 2 ||
      pv.getNumDpsInits() != 1 || !pv.hasPureTensorSemantics() ||
      !s.hasPureTensorSemantics())
    return failure();
  FailureOr<linalg::ContractionDimensions> sd = linalg::inferContractionDims(s);
  FailureOr<linalg::ContractionDimensions> pd =
      linalg::inferContractionDims(pv);
  if (failed(sd) || failed(pd) || sd->n.size() != 1 || sd->k.empty() ||
      sd->k.size() > 2 || pd->n.size() != 1 || pd->k.size() != 1 ||
      sd->batch.size() != pd->batch.size() || sd->m.size() != pd->m.size())
    return failure();
  Layout l;
  l.ranges = s.getStaticLoopRanges();
  SmallVector<int64_t> pvRanges = pv.getStaticLoopRanges();
  l.keyLoop = sd->n.front();
  l.headLoop = sd->k.front();
  SmallVector<AffineMap> scoreMaps = s.getIndexingMapsArray();
  if (sd->k.size() == 2) {
    // Two reduction loops are one head dim when they are adjacent, in the
    // same order, in both Q and K: merge them (outer first).
    std::optional<std::pair<unsigned, unsigned>> pair;
    SmallVector<unsigned> at;
    for (unsigned i = 0; i < 2; ++i) {
      FailureOr<SmallVector<unsigned>> dims = projectionDims(scoreMaps[i]);
      if (failed(dims))
        return failure();
      auto a = llvm::find(*dims, sd->k[0]), c = llvm::find(*dims, sd->k[1]);
      if (a == dims->end() || c == dims->end())
        return failure();
      auto first = std::min(a, c);
      if (std::max(a, c) != first + 1)
        return failure();
      std::pair<unsigned, unsigned> order{*first, *(first + 1)};
      if (pair && *pair != order)
        return failure();
      pair = order;
      at.push_back(unsigned(first - dims->begin()));
    }
    l.headLoop = pair->first;
    l.headInner = pair->second;
    l.ranges[l.headLoop] *= l.ranges[*l.headInner];
    l.ranges[*l.headInner] = 1;
    l.qMerge = at[0]; // fixed up below once Q is known
    l.kMerge = at[1];
  }

  // P·V's position dim: the M dim that comes last in P's map.
  SmallVector<AffineMap> pvMaps = pv.getIndexingMapsArray();
  unsigned pvPos = pd->m.back();
  for (AffineExpr e : pvMaps[0].getResults())
    if (auto d = dyn_cast<AffineDimExpr>(e))
      if (llvm::is_contained(pd->m, d.getPosition()))
        pvPos = d.getPosition();
  SmallVector<int64_t> toScores(pvRanges.size(), -1);
  for (auto [a, b] : llvm::zip(pd->batch, sd->batch))
    toScores[a] = b;
  toScores[pvPos] = g.positionDim;
  SmallVector<unsigned> pvRest, sRest;
  for (unsigned d : pd->m)
    if (d != pvPos)
      pvRest.push_back(d);
  for (unsigned d : sd->m)
    if (d != g.positionDim)
      sRest.push_back(d);
  for (auto [a, b] : llvm::zip(pvRest, sRest))
    toScores[a] = b;
  toScores[pd->n.front()] = l.headLoop;
  toScores[pd->k.front()] = l.keyLoop;
  for (auto [i, t] : llvm::enumerate(toScores))
    if (t < 0 || pvRanges[i] != l.ranges[t] ||
        ShapedType::isDynamic(pvRanges[i]))
      return failure();

  // Decode (one query position): the grouped heads' single queries are the
  // rows of one block; they must be one dim to be one tile dim.
  l.rowLoop = g.positionDim;
  if (l.ranges[g.positionDim] == 1 && !sRest.empty()) {
    if (llvm::count_if(sRest, [&](unsigned d) { return l.ranges[d] > 1; }) > 1)
      return failure();
    for (unsigned d : sRest)
      if (l.ranges[d] > 1)
        l.rowLoop = d;
  }
  for (unsigned d : sd->batch)
    if (l.ranges[d] > 1)
      l.groupLoops.push_back(d);
  for (unsigned d : sd->m)
    if (d != l.rowLoop && l.ranges[d] > 1)
      l.groupLoops.push_back(d);

  // Each operand's dims in Q·Kᵀ loops, and the two its tile spans.
  SmallVector<AffineMap> sMaps = s.getIndexingMapsArray();
  auto describe = [&](Value t, AffineMap map, bool viaPv, unsigned rows,
                      unsigned cols) -> FailureOr<Operand> {
    FailureOr<SmallVector<unsigned>> dims = projectionDims(map);
    if (failed(dims))
      return failure();
    Operand o;
    o.tensor = t;
    for (unsigned d : *dims)
      if (viaPv || !l.headInner || d != *l.headInner)
        o.dims.push_back(viaPv ? unsigned(toScores[d]) : d);
    auto *r = llvm::find(o.dims, rows), *c = llvm::find(o.dims, cols);
    if (r == o.dims.end() || c == o.dims.end())
      return failure();
    o.rows = unsigned(r - o.dims.begin());
    o.cols = unsigned(c - o.dims.begin());
    o.transposed = o.cols < o.rows;
    return o;
  };
  // Q is the scores operand that walks the query rows.
  FailureOr<SmallVector<unsigned>> second = projectionDims(sMaps[1]);
  if (failed(second))
    return failure();
  unsigned qi = llvm::is_contained(*second, g.positionDim);
  if (qi == 1)
    std::swap(l.qMerge, l.kMerge);
  FailureOr<Operand> q =
      describe(s.getDpsInputs()[qi], sMaps[qi], false, l.rowLoop, l.headLoop);
  FailureOr<Operand> k = describe(s.getDpsInputs()[1 - qi], sMaps[1 - qi],
                                  false, l.keyLoop, l.headLoop);
  FailureOr<Operand> v =
      describe(pv.getDpsInputs()[1], pvMaps[1], true, l.keyLoop, l.headLoop);
  Value init = pv.getDpsInits()[0];
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    if (g.chain.contains(fill))
      init = fill.getOutputs()[0]; // the kernel zeroes its accumulators
  FailureOr<Operand> o = describe(init, pvMaps[2], true, l.rowLoop, l.headLoop);
  if (failed(q) || failed(k) || failed(v) || failed(o))
    return failure();
  l.q = *q;
  l.k = *k;
  l.v = *v;
  l.o = *o;
  return l;
}

/// Tensors the chain reads from outside the group besides Q, K and V (an
/// explicit mask, say): the schedule below has no place for them.
bool readsOtherTensors(const AttentionGroup &g, const Layout &l) {
  llvm::SmallPtrSet<Operation *, 32> members(g.chain.begin(), g.chain.end());
  members.insert(g.scores);
  members.insert(g.output);
  for (Operation *op : g.chain)
    for (Value in : op->getOperands()) {
      if (!isa<RankedTensorType>(in.getType()))
        continue;
      Operation *def = in.getDefiningOp();
      if (def && (members.contains(def) || isa<tensor::EmptyOp>(def)))
        continue;
      if (in != l.q.tensor && in != l.k.tensor && in != l.v.tensor)
        return true;
    }
  return false;
}

/// What the chain computes that the kernel below does not: it scales the
/// scores and masks them causally by tile index, nothing else. A soft-cap
/// (a tanh of the scores, Gemma 2) or a sliding window (a second bound on
/// the key position, and-ed with the causal one) would be lost; a decode
/// step's single query row needs no mask, and a window cut to the cache
/// masks nothing there.
/// Names every such op, in a fixed order.
std::string unreproducedScoreOps(const AttentionGroup &g) {
  bool softcap = false, window = false;
  for (Operation *op : g.chain) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l)
      continue;
    for (Operation &inner : l.getBlock()->getOperations()) {
      softcap |= isa<math::TanhOp>(inner);
      window |= g.work.causal && isa<arith::AndIOp>(inner);
    }
  }
  llvm::SmallVector<llvm::StringRef, 2> what;
  if (softcap)
    what.push_back("a soft-cap of its scores");
  if (window)
    what.push_back("a sliding window on its mask");
  return llvm::join(what, " and ");
}

struct Lowering {
  const cost::CostModel &model;
  const hw::System &sys;
  const AttentionGroup &g;
  const Layout &l;
  const cost::AttentionTiling &t;
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  StringRef home, staging, inner, matrixUnit, vectorUnit;
  int64_t d = 0;

  tile::BufType buf(ArrayRef<int64_t> shape, Type elt, StringRef level) {
    return tile::BufType::get(ctx, shape, elt, level);
  }
  Value alloc(ArrayRef<int64_t> shape, Type elt, StringRef level,
              int64_t buffers = 1) {
    return tile::AllocOp::create(b, loc, buf(shape, elt, level), buffers);
  }
  void fill(Value dst, double v) {
    tile::FillOp::create(b, loc, dst, b.getF32FloatAttr(float(v)), vectorUnit);
  }
  void map(tile::MapKind kind, ValueRange ins, Value out) {
    tile::MapOp::create(b, loc, kind, ins, out, vectorUnit, IntegerAttr());
  }
  void reduce(tile::ReduceKind kind, Value in, Value out) {
    tile::ReduceOp::create(b, loc, kind, in, out, 1, vectorUnit);
  }
  /// A tile of `o` is the [rows, cols] box at the given index per Q·Kᵀ
  /// loop; `dims` only when the box is not the tensor's last two dims.
  Value copy(const Operand &o, Value whole, Value tileBuf,
             llvm::function_ref<Value(unsigned)> indexOf, bool in,
             ValueRange deps = {}) {
    SmallVector<Value> idx;
    for (unsigned d : o.dims)
      idx.push_back(indexOf(d));
    SmallVector<int64_t> dims = {std::min(o.rows, o.cols),
                                 std::max(o.rows, o.cols)};
    int64_t rank = int64_t(o.dims.size());
    if (dims[0] == rank - 2 && dims[1] == rank - 1)
      dims.clear();
    if (in)
      return tile::CopyOp::create(b, loc, whole, idx, tileBuf, ValueRange{},
                                  deps, dims);
    return tile::CopyOp::create(b, loc, tileBuf, ValueRange{}, whole, idx, deps,
                                dims);
  }
  /// The shape of `o`'s tile with `rows` x `cols` elements, in its order.
  SmallVector<int64_t> shapeOf(const Operand &o, int64_t rows, int64_t cols) {
    return o.transposed ? SmallVector<int64_t>{cols, rows}
                        : SmallVector<int64_t>{rows, cols};
  }
  UnitAttr padded(int64_t m, int64_t n, int64_t k) {
    const hw::ComputeUnit *u = unitNamed(sys.chip, matrixUnit);
    auto native = [&](size_t i) {
      return u && u->shape.size() > i ? u->shape[i] : 1;
    };
    bool pad = m % native(0) || n % native(1) || k % native(2);
    return pad ? b.getUnitAttr() : UnitAttr();
  }

  tile::KernelOp build(Operation *root) {
    Type qElt = cast<ShapedType>(l.q.tensor.getType()).getElementType();
    Type vElt = cast<ShapedType>(l.v.tensor.getType()).getElementType();
    Type oElt = cast<ShapedType>(l.o.tensor.getType()).getElementType();
    Type f32 = b.getF32Type();
    d = l.ranges[l.headLoop];
    const int64_t tm = t.tileM, tn = t.tileN;
    const bool split = t.splits > 1;

    auto kernel = tile::KernelOp::create(
        b, loc, root->getResultTypes(),
        b.getStringAttr(analysis::reportName(root)),
        ValueRange{l.q.tensor, l.k.tensor, l.v.tensor}, ValueRange{l.o.tensor});
    SmallVector<Type> argTypes;
    SmallVector<Location> argLocs;
    for (Value v : {l.q.tensor, l.k.tensor, l.v.tensor, l.o.tensor}) {
      auto ty = cast<RankedTensorType>(v.getType());
      argTypes.push_back(buf(ty.getShape(), ty.getElementType(), home));
      argLocs.push_back(loc);
    }
    Block *body = b.createBlock(&kernel.getBody(), {}, argTypes, argLocs);
    tile::KernelOp::ensureTerminator(kernel.getBody(), b, loc);
    b.setInsertionPointToStart(body);
    Value Q = body->getArgument(0), K = body->getArgument(1),
          V = body->getArgument(2), O = body->getArgument(3);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);

    // Spread: the head groups one by one, the query blocks, the KV splits.
    SmallVector<int64_t> trips;
    for (unsigned gl : l.groupLoops)
      trips.push_back(l.ranges[gl]);
    trips.push_back(t.qTiles);
    SmallVector<int64_t> combineTrips = trips;
    if (split)
      trips.push_back(t.splits);
    // Split-KV partials (unnormalised O, row max, row sum) wait at home for
    // the combine, unless the splits reduce them over the network.
    const bool onNetwork = split && t.combineOnNetwork;
    Value wo, wm, wl;
    if (split && !onNetwork) {
      auto ws = [&](int64_t cols) {
        SmallVector<int64_t> shape = trips;
        shape.append({tm, cols});
        return alloc(shape, f32, home);
      };
      wo = ws(d);
      wm = ws(1);
      wl = ws(1);
    }

    auto spread = tile::SpreadOp::create(b, loc, sys.chip.cores, trips);
    b.setInsertionPointToStart(&spread.getBody().front());
    Block &sb = spread.getBody().front();
    Value qb = sb.getArgument(l.groupLoops.size());
    Value splitIdx = split ? sb.getArgument(l.groupLoops.size() + 1) : Value();
    auto groupIndex = [&](Block &blk, unsigned loop) -> Value {
      for (auto [i, gl] : llvm::enumerate(l.groupLoops))
        if (gl == loop)
          return blk.getArgument(i);
      return c0; // a size-1 dim
    };

    // Per core: Q block and K/V stages in staging; scores, probabilities,
    // accumulator and the softmax's row vectors in the innermost level.
    Value qs = alloc(shapeOf(l.q, tm, d), qElt, staging);
    Type kElt = cast<ShapedType>(l.k.tensor.getType()).getElementType();
    Value ks = alloc(shapeOf(l.k, tn, d), kElt, staging, t.stages);
    Value vs = alloc(shapeOf(l.v, tn, d), vElt, staging, t.stages);
    // A quantised KV cache (e.g. fp8 under bf16 queries) is dequantised
    // tile by tile into the queries' type after its load, on the vector
    // unit, as TensorRT-LLM's and vLLM's fp8-KV attention kernels do; the
    // cache streams at its own width.
    Value kd = kElt != qElt ? alloc(shapeOf(l.k, tn, d), qElt, inner) : ks;
    Value vd = vElt != qElt ? alloc(shapeOf(l.v, tn, d), qElt, inner) : vs;
    Value s = alloc({tm, tn}, f32, inner);
    Value p = alloc({tm, tn}, qElt, inner);
    Value acc = alloc({tm, d}, f32, inner);
    Value m = alloc({tm, 1}, f32, inner);    // running row max
    Value mn = alloc({tm, 1}, f32, inner);   // this block's, then the new max
    Value corr = alloc({tm, 1}, f32, inner); // exp(m - m_new)
    Value sum = alloc({tm, 1}, f32, inner);  // running row sum
    Value bsum = alloc({tm, 1}, f32, inner); // this block's row sum
    Value scale = alloc({1, 1}, f32, inner);

    auto qIndex = [&](unsigned loop) -> Value {
      if (loop == l.rowLoop)
        return qb;
      if (loop == l.headLoop)
        return c0;
      return groupIndex(sb, loop);
    };
    Value tq = copy(l.q, Q, qs, qIndex, /*in=*/true);
    fill(m, -INFINITY);
    fill(sum, 0);
    fill(acc, 0);
    fill(scale, 1.0 / std::sqrt(double(d)));
    tile::WaitOp::create(b, loc, ValueRange{tq});

    auto loop = tile::LoopOp::create(b, loc, t.kvBlocks, t.stages);
    // Visited over a head group's query blocks (and, on the network, its
    // splits).
    if (g.work.causal &&
        t.visitedBlocks < t.qTiles * t.kvBlocks * (onNetwork ? t.splits : 1))
      loop->setAttr("strata.visited_blocks",
                    b.getI64IntegerAttr(t.visitedBlocks));
    b.setInsertionPointToStart(&loop.getBody().front());
    Value kb = loop.getInductionVar();
    if (onNetwork) // this split's K/V blocks, dealt round-robin
      kb = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc, kb, arith::ConstantIndexOp::create(b, loc, t.splits)),
          splitIdx);
    else if (split) // this split's range of K/V blocks
      kb = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc, splitIdx,
              arith::ConstantIndexOp::create(b, loc, t.kvBlocks)),
          kb);
    auto kvIndex = [&](unsigned loop) -> Value {
      if (loop == l.keyLoop)
        return kb;
      if (loop == l.headLoop)
        return c0;
      return groupIndex(sb, loop);
    };
    Value tk = copy(l.k, K, ks, kvIndex, true);
    Value tv = copy(l.v, V, vs, kvIndex, true);
    tile::WaitOp::create(b, loc, ValueRange{tk});
    if (kd != ks)
      map(tile::MapKind::Cast, {ks}, kd);
    // S = Q Kᵀ, scaled; under a causal mask the diagonal block also masks
    // the keys after each row's position (strata.causal_mask: the tile
    // indices say which elements, so no mask tensor is read).
    fill(s, 0);
    tile::MmaOp::create(b, loc, qs, kd, s, b.getStringAttr(matrixUnit),
                        l.q.transposed ? b.getUnitAttr() : UnitAttr(),
                        l.k.transposed ? UnitAttr() : b.getUnitAttr(),
                        padded(tm, tn, d));
    auto scaleOp =
        tile::MapOp::create(b, loc, tile::MapKind::Mul, ValueRange{s, scale}, s,
                            vectorUnit, IntegerAttr());
    if (g.work.causal)
      scaleOp->setAttr("strata.causal_mask", b.getUnitAttr());
    // Online softmax: m_new = max(m, rowmax S); corr = exp(m - m_new);
    // P = exp(S - m_new); l = l corr + rowsum P; acc = acc corr + P V.
    reduce(tile::ReduceKind::Max, s, mn);
    map(tile::MapKind::Max, {m, mn}, mn);
    map(tile::MapKind::Sub, {m, mn}, corr);
    map(tile::MapKind::Exp, {corr}, corr);
    map(tile::MapKind::Sub, {s, mn}, s);
    map(tile::MapKind::Exp, {s}, s);
    reduce(tile::ReduceKind::Sum, s, bsum);
    map(tile::MapKind::Fma, {sum, corr, bsum}, sum);
    map(tile::MapKind::Mul, {acc, corr}, acc);
    map(tile::MapKind::Cast, {mn}, m);
    map(tile::MapKind::Cast, {s}, p);
    tile::WaitOp::create(b, loc, ValueRange{tv});
    if (vd != vs)
      map(tile::MapKind::Cast, {vs}, vd);
    tile::MmaOp::create(
        b, loc, p, vd, acc, b.getStringAttr(matrixUnit), UnitAttr(),
        l.v.transposed ? b.getUnitAttr() : UnitAttr(), padded(tm, d, tn));
    b.setInsertionPointAfter(loop);

    auto oIndex = [&](Block &blk, Value rowBlock) {
      return [&, rowBlock](unsigned loop) -> Value {
        if (loop == l.rowLoop)
          return rowBlock;
        if (loop == l.headLoop)
          return c0;
        return groupIndex(blk, loop);
      };
    };
    if (!split) {
      // O = acc / l in the output dtype: in place when it is f32, else into
      // the Q block (Q is no longer needed) or, failing that, a new block.
      Value out = acc;
      if (oElt != f32)
        out = oElt == qElt && !l.q.transposed && !l.o.transposed
                  ? qs
                  : alloc(shapeOf(l.o, tm, d), oElt, staging);
      map(tile::MapKind::Div, {acc, sum}, out);
      Value to = copy(l.o, O, out, oIndex(sb, qb), /*in=*/false);
      tile::WaitOp::create(b, loc, ValueRange{to});
      return kernel;
    }

    if (onNetwork) {
      // The splits of the query block reduce-scatter their partials over
      // the network (the rescaled softmax combine); each normalises and
      // writes its tm / splits rows of the block.
      const int64_t rows = tm / t.splits;
      Value racc = alloc({rows, d}, f32, inner);
      Value rm = alloc({rows, 1}, f32, inner);
      Value rl = alloc({rows, 1}, f32, inner);
      int64_t sent = 0;
      for (Value v : {acc, m, sum})
        sent += tile::getSizeInBytes(cast<ShapedType>(v.getType())) /
                t.splits * (t.splits - 1);
      tile::SplitReduceOp::create(
          b, loc, tile::SplitReduceKind::Softmax, ValueRange{acc, m, sum},
          ValueRange{racc, rm, rl}, int64_t(l.groupLoops.size() + 1),
          model.splitReduceHops(t.splits), sent);
      Value out =
          oElt == f32 ? racc : alloc(shapeOf(l.o, rows, d), oElt, inner);
      map(tile::MapKind::Div, {racc, rl}, out);
      Value rowBlock = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc, qb, arith::ConstantIndexOp::create(b, loc, t.splits)),
          splitIdx);
      Value to = copy(l.o, O, out, oIndex(sb, rowBlock), /*in=*/false);
      tile::WaitOp::create(b, loc, ValueRange{to});
      return kernel;
    }

    // Split-KV: this split's partials go home; a second spread combines.
    SmallVector<Value> wsIdx(sb.getArguments().begin(),
                             sb.getArguments().end());
    wsIdx.append({c0, c0});
    Value t1 = tile::CopyOp::create(b, loc, acc, ValueRange{}, wo, wsIdx);
    Value t2 = tile::CopyOp::create(b, loc, m, ValueRange{}, wm, wsIdx);
    Value t3 = tile::CopyOp::create(b, loc, sum, ValueRange{}, wl, wsIdx);
    tile::WaitOp::create(b, loc, ValueRange{t1, t2, t3});

    b.setInsertionPointAfter(spread);
    auto combine = tile::SpreadOp::create(b, loc, sys.chip.cores, combineTrips);
    Block &cb = combine.getBody().front();
    b.setInsertionPointToStart(&cb);
    Value cacc = alloc({tm, d}, f32, inner);
    Value cm = alloc({tm, 1}, f32, inner);
    Value cl = alloc({tm, 1}, f32, inner);
    Value cmn = alloc({tm, 1}, f32, inner);
    Value cc1 = alloc({tm, 1}, f32, inner); // rescales what is combined
    Value cc2 = alloc({tm, 1}, f32, inner); // weighs this split
    Value po = alloc({tm, d}, f32, inner, 2);
    Value pm = alloc({tm, 1}, f32, inner, 2);
    Value pl = alloc({tm, 1}, f32, inner, 2);
    fill(cm, -INFINITY);
    fill(cl, 0);
    fill(cacc, 0);
    auto cloop = tile::LoopOp::create(b, loc, t.splits, 2);
    b.setInsertionPointToStart(&cloop.getBody().front());
    SmallVector<Value> pIdx(cb.getArguments().begin(), cb.getArguments().end());
    pIdx.append({cloop.getInductionVar(), c0, c0});
    Value u1 = tile::CopyOp::create(b, loc, wo, pIdx, po, ValueRange{});
    Value u2 = tile::CopyOp::create(b, loc, wm, pIdx, pm, ValueRange{});
    Value u3 = tile::CopyOp::create(b, loc, wl, pIdx, pl, ValueRange{});
    tile::WaitOp::create(b, loc, ValueRange{u1, u2, u3});
    map(tile::MapKind::Max, {cm, pm}, cmn);
    map(tile::MapKind::Sub, {cm, cmn}, cc1);
    map(tile::MapKind::Exp, {cc1}, cc1);
    map(tile::MapKind::Sub, {pm, cmn}, cc2);
    map(tile::MapKind::Exp, {cc2}, cc2);
    map(tile::MapKind::Mul, {cl, cc1}, cl);
    map(tile::MapKind::Fma, {pl, cc2, cl}, cl);
    map(tile::MapKind::Mul, {cacc, cc1}, cacc);
    map(tile::MapKind::Fma, {po, cc2, cacc}, cacc);
    map(tile::MapKind::Cast, {cmn}, cm);
    b.setInsertionPointAfter(cloop);
    Value out = oElt == f32 ? cacc : alloc(shapeOf(l.o, tm, d), oElt, inner);
    map(tile::MapKind::Div, {cacc, cl}, out);
    Value to =
        copy(l.o, O, out, oIndex(cb, cb.getArgument(l.groupLoops.size())),
             /*in=*/false);
    tile::WaitOp::create(b, loc, ValueRange{to});
    return kernel;
  }
};

} // namespace

void strata::lowerFusedAttention(ModuleOp module, const cost::CostModel &model,
                                 const hw::System &sys) {
  SmallVector<linalg::LinalgOp> roots;
  module.walk([&](linalg::LinalgOp op) {
    if (op->hasAttr(analysis::kFusedAttentionAttrName) &&
        !op->getParentOfType<tile::KernelOp>())
      roots.push_back(op);
  });
  const hw::ComputeUnit *vector = nullptr;
  for (const hw::ComputeUnit &u : sys.chip.units)
    if (u.kind == hw::UnitKind::Vector && !vector)
      vector = &u;
  for (linalg::LinalgOp pv : roots) {
    auto record =
        pv->getAttrOfType<DictionaryAttr>(analysis::kFusedAttentionAttrName);
    if (auto sharing = record.getAs<StringAttr>("kv_sharing");
        sharing && sharing.getValue() == "head") {
      pv->emitRemark() << "decode attention reading K/V per query head "
                          "(decode-kv-sharing=head) left as linalg: priced "
                          "from strata.fused_attention";
      continue;
    }
    auto backward = record.getAs<BoolAttr>("backward");
    if (backward && backward.getValue()) {
      pv->emitRemark() << "fused attention backward left as linalg: priced "
                          "from strata.fused_attention (no tile schedule for "
                          "the dQ/dK/dV kernel yet)";
      continue;
    }
    std::optional<AttentionGroup> g = matchAttentionGroup(pv);
    if (!g && matchAttentionGroup(pv, /*allowSaved=*/true)) {
      pv->emitRemark() << "fused attention left as linalg: the function "
                          "returns one of its intermediates; priced from "
                          "strata.fused_attention";
      continue;
    }
    FailureOr<Layout> layout = g ? analyze(*g) : FailureOr<Layout>(failure());
    if (failed(layout) || readsOtherTensors(*g, *layout)) {
      pv->emitRemark() << "fused attention left as linalg: its operands "
                          "are not Q, K, V and O tiles the flash schedule "
                          "can cut (priced from strata.fused_attention)";
      continue;
    }
    if (std::string what = unreproducedScoreOps(*g); !what.empty()) {
      // The estimate reads the group's window from strata.fused_attention
      // (a constant one; a layer argument is priced as causal).
      std::string priced =
          g->work.window > 0
              ? llvm::formatv("as causal attention within its {0}-token "
                              "window",
                              g->work.window)
                    .str()
              : std::string("as causal attention");
      pv->emitRemark() << "fused attention left as linalg: it has " << what
                       << ", which the flash schedule's causal tile mask "
                          "does not reproduce (priced from "
                          "strata.fused_attention "
                       << priced << ")";
      continue;
    }
    // The same work the group was fused with, so the plan is the one its
    // estimate came from.
    cost::AttentionWork work = g->work;
    std::optional<analysis::OpCounts> counts = analysis::countOp(pv);
    if (counts)
      work.dtype = counts->dtype;
    cost::AttentionPlan plan = model.planAttention(work);
    // The unit the kernel's instructions reach, as the estimate priced it
    // (the cheapest for the shape when the path is ours to choose).
    const hw::ComputeUnit *matrix = unitNamed(sys.chip, plan.estimate.unit);
    int64_t points = plan.tiling.qTiles * plan.tiling.splits;
    for (unsigned gl : layout->groupLoops)
      points *= layout->ranges[gl];
    if (plan.tiling.tileM == 0 || !matrix ||
        points !=
            work.batch * work.heads * plan.tiling.qTiles * plan.tiling.splits) {
      pv->emitRemark() << "fused attention left as linalg: no flash "
                          "schedule of it fits the chip";
      continue;
    }
    g->work = work;
    OpBuilder b(pv);
    // A head dim split in rotation pairs: the kernel reads Q and K through
    // views merging the two dims (free: the same bytes).
    if (layout->headInner) {
      auto merged = [&](Value t, unsigned at) -> Value {
        auto type = cast<RankedTensorType>(t.getType());
        SmallVector<ReassociationIndices> groups;
        for (int64_t i = 0; i < type.getRank(); ++i) {
          if (i == int64_t(at) + 1)
            continue;
          groups.push_back(i == int64_t(at) ? ReassociationIndices{i, i + 1}
                                            : ReassociationIndices{i});
        }
        return tensor::CollapseShapeOp::create(b, pv.getLoc(), t, groups);
      };
      layout->q.tensor = merged(layout->q.tensor, layout->qMerge);
      layout->k.tensor = merged(layout->k.tensor, layout->kMerge);
    }
    Lowering lower{model,
                   sys,
                   *g,
                   *layout,
                   plan.tiling,
                   b,
                   pv.getLoc(),
                   pv.getContext(),
                   model.homeLevel().name,
                   model.stagingLevel().name,
                   sys.chip.memory.front().name,
                   matrix->name,
                   vector ? StringRef(vector->name) : StringRef(matrix->name)};
    tile::KernelOp kernel = lower.build(pv);
    // What the estimate needs: the AttentionWork (the group's record plus
    // its dtype) and the useful FLOPs.
    NamedAttrList fields(record);
    fields.set("dtype", b.getStringAttr(std::string(hw::toString(work.dtype))));
    kernel->setAttr(analysis::kFusedAttentionAttrName,
                    fields.getDictionary(b.getContext()));
    kernel->setAttr(analysis::kUsefulFlopsAttrName,
                    b.getI64IntegerAttr(int64_t(plan.estimate.flops)));
    pv->replaceAllUsesWith(kernel->getResults());

    // The group's ops are now inside the kernel; drop them (users first)
    // and the tensor.empty inits only they used.
    SmallVector<Operation *> members(g->chain.begin(), g->chain.end());
    members.push_back(g->scores);
    members.push_back(pv);
    llvm::SetVector<Operation *> empties;
    for (Operation *op : members)
      for (Value in : op->getOperands())
        if (auto e = in.getDefiningOp<tensor::EmptyOp>())
          empties.insert(e);
    for (bool erased = true; erased;) {
      erased = false;
      for (Operation *&op : members)
        if (op && op->use_empty()) {
          op->erase();
          op = nullptr;
          erased = true;
        }
    }
    for (Operation *e : empties)
      if (e->use_empty())
        e->erase();
  }
}
