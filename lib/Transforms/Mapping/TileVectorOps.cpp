//===- TileVectorOps.cpp - Elementwise and reduction ops to tile IR -------===//
//
// The schedule written for a vector op (an elementwise map, a reduction
// over one loop, a copy or transpose, a fill):
//
//   tile.kernel "name" ins(inputs) outs(init) {
//     tile.spread cores(P) over (other parallel dims..., row groups) {
//       alloc operand and result tiles @ staging (buffers(d) when streamed),
//         scratch @ level 0
//       copy in operands that do not depend on the row (a norm weight);
//         fill constants
//       tile.loop %r in L pipeline(d) {
//         copy in this row block; wait; tile.map ... [tile.reduce]; copy out
//       }
//     }
//   }
//
// The tiled dims are a blocked "row" dim plus the innermost dims of the
// result (kept whole, the last one chunked when that is cheaper), or, for a
// reduction, the row and the reduced dim. A reduction whose rows do not fit
// the staging level loops over chunks of the reduced dim instead, combining
// into a [rows x 1] accumulator stored once after the loop. Every operand's
// tile has the rank of the computation: dims an operand lacks (the rstd
// vector of a norm, its weight) have extent 1 and are placed with `dims`
// entries of -1, so tile.map broadcasts them.
//
// The blocking (rows per block, chunk, blocks per core, pipeline depth) is
// the candidate CostModel::kernel prices cheapest; the KernelWork each
// candidate is priced with is the one the estimate reads back from the IR.
//
//===----------------------------------------------------------------------===//

#include "strata/Transforms/TileVectorOps.h"
#include "strata/Analysis/OpCounts.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Hardware/Json.h"

#include "absl/container/flat_hash_map.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/MapVector.h"

#include <cmath>
#include <mutex>
#include <string>

using namespace mlir;
using namespace strata;

namespace {

/// Where a value of a linalg body comes from.
struct Src {
  enum Kind { Arg, Step, Const } kind = Arg;
  unsigned index = 0; ///< block argument (Arg) or step (Step)
  TypedAttr value;    ///< Const
};

/// One tile.map of the chain a linalg body becomes.
struct Step {
  tile::MapKind kind;
  SmallVector<Src> operands;
  Type type;         ///< result element type
  int64_t flops = 1; ///< per element, as the cost model weighs the body op
};

/// A linalg op as a vector kernel, independent of tile sizes.
struct VectorOp {
  mutable linalg::LinalgOp op; // op handles have non-const accessors
  SmallVector<int64_t> ranges;
  unsigned numInputs = 0;
  /// Loop dim of each dim of each operand: inputs, then the init.
  SmallVector<SmallVector<unsigned>> dims;
  SmallVector<unsigned> usedInputs; ///< inputs the body reads
  bool isFill = false;
  TypedAttr fillValue; ///< a linalg.fill's value
  bool reduction = false;
  unsigned redDim = 0;
  tile::ReduceKind redKind = tile::ReduceKind::Sum;
  Src reduced;                     ///< what the combine reduces
  mutable linalg::FillOp initFill; ///< the init, when a fill (absorbed)
  bool initIdentity = false;       ///< the fill is the combine's identity
  /// The reduction combines into its init as read from memory (RoPE's
  /// rotation adds to the projection it rotates): the kernel copies the
  /// init tile in, reduces into a partial and combines the two.
  bool readsInit = false;
  /// An in-place update (a KV-cache append, select(t == j + offset, new,
  /// old)): the init is the destination, written only where the new
  /// elements go. `dims.back()` then lists the new elements' loop in place
  /// of the destination's, whose tile index is shifted by `offset`.
  std::optional<unsigned> updatePos; ///< the shifted dim of the destination
  int64_t updateOffset = 0;
  SmallVector<Step> steps;
  Src result; ///< elementwise: the yielded value
  /// Loop dims tiled, in tile order: the blocked row dim, then the inner
  /// dims (the last of them chunked, or for a reduction the reduced dim).
  SmallVector<unsigned> tiled;
  /// The types of the inputs and the init, read once: the blocking search
  /// asks for them per candidate, and getDpsInputs()/getDpsInits() rebuild
  /// the operand segments each time (14 % of a GPT-3 plan's lowering).
  SmallVector<Type> inputTypes;
  Type initType;
};

/// A blocking of a VectorOp (or of a gather: rows per block, trips, depth).
struct Blocking {
  int64_t block = 1;    ///< rows of the blocked dim per tile
  int64_t chunk = 1;    ///< extent of the last tiled dim per tile
  int64_t trips = 1;    ///< loop trips per spread point
  int64_t depth = 1;    ///< pipeline depth
  bool partial = false; ///< reduction looping over chunks of the reduced dim
  /// On a grid chip: the spread's last two dims laid on one rectangle of
  /// the core grid, and the tiles that do not depend on the row (a norm's
  /// weight and bias) fetched once and multicast along the grid row.
  bool grid = false;
  /// With `grid`: the row blocks' spread dim split in two (blocks / split,
  /// split), laid on the rectangle's rows and columns; 0 when not split.
  int64_t split = 0;
};

/// A blocking that fits, with what the choice weighs.
struct Priced {
  Blocking b;
  double time;
  int64_t elements;  ///< per tile
  int64_t busyCores; ///< spread points, up to the chip's cores
};

/// The model prices bytes, not transfers: a schedule of 16-byte copies
/// costs it no more than one of 16 KiB copies, though a DMA engine moves
/// the latter far better; and one core streaming a whole tensor can look
/// as fast as all of them when home bandwidth bounds both. Among the
/// schedules within kTolerance of the cheapest, take the one keeping the
/// most cores busy, then the largest tile (then the first in search
/// order): the model's choice up to what it cannot tell apart.
static std::optional<Blocking> pickBlocking(ArrayRef<Priced> priced) {
  if (priced.empty())
    return std::nullopt;
  constexpr double kTolerance = 0.01;
  double cheapest = priced.front().time;
  for (const Priced &p : priced)
    cheapest = std::min(cheapest, p.time);
  const Priced *best = nullptr;
  for (const Priced &p : priced)
    if (p.time <= cheapest * (1 + kTolerance) &&
        (!best || p.busyCores > best->busyCores ||
         (p.busyCores == best->busyCores && p.elements > best->elements)))
      best = &p;
  return best->b;
}

/// Powers of two below `upTo`, then `upTo`.
static SmallVector<int64_t> powersUpTo(int64_t upTo) {
  SmallVector<int64_t> p;
  for (int64_t x = 1; x < upTo; x *= 2)
    p.push_back(x);
  p.push_back(upTo);
  return p;
}

static std::optional<tile::MapKind> mapKindOf(Operation &op) {
  if (isa<arith::AddFOp, arith::AddIOp>(op))
    return tile::MapKind::Add;
  if (isa<arith::SubFOp, arith::SubIOp>(op))
    return tile::MapKind::Sub;
  if (isa<arith::MulFOp, arith::MulIOp>(op))
    return tile::MapKind::Mul;
  if (isa<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>(op))
    return tile::MapKind::Div;
  if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp, arith::MaxUIOp>(
          op))
    return tile::MapKind::Max;
  if (isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp, arith::MinUIOp>(
          op))
    return tile::MapKind::Min;
  if (isa<arith::NegFOp>(op))
    return tile::MapKind::Neg;
  if (isa<math::ExpOp>(op))
    return tile::MapKind::Exp;
  if (isa<math::LogOp>(op))
    return tile::MapKind::Log;
  if (isa<math::SqrtOp>(op))
    return tile::MapKind::Sqrt;
  if (isa<math::RsqrtOp>(op))
    return tile::MapKind::Rsqrt;
  if (isa<math::TanhOp>(op))
    return tile::MapKind::Tanh;
  if (isa<math::AbsFOp>(op))
    return tile::MapKind::Abs;
  if (isa<math::FmaOp>(op))
    return tile::MapKind::Fma;
  return std::nullopt;
}

static std::optional<tile::ReduceKind> reduceKindOf(Operation &op) {
  if (isa<arith::AddFOp, arith::AddIOp>(op))
    return tile::ReduceKind::Sum;
  if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp>(op))
    return tile::ReduceKind::Max;
  if (isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp>(op))
    return tile::ReduceKind::Min;
  return std::nullopt;
}

/// Whether `v` is the identity of a `kind` reduction (the generator starts
/// a max at the most negative finite value, not -inf).
static bool isIdentity(TypedAttr v, tile::ReduceKind kind) {
  double x;
  if (auto f = dyn_cast<FloatAttr>(v))
    x = f.getValueAsDouble();
  else if (auto i = dyn_cast<IntegerAttr>(v))
    x = double(i.getInt());
  else
    return false;
  switch (kind) {
  case tile::ReduceKind::Sum:
    return x == 0;
  case tile::ReduceKind::Max:
    return x <= -1e38;
  case tile::ReduceKind::Min:
    return x >= 1e38;
  }
  return false;
}

/// The cost model's dtype for a buffer element type, as the estimate reads
/// a compute op of tile IR (ProgramCost's kernelWork).
static hw::DType unitDType(Type elt) {
  if (elt.isBF16())
    return hw::DType::bf16;
  if (elt.isF16())
    return hw::DType::fp16;
  if (elt.isIntOrFloat() && elt.getIntOrFloatBitWidth() == 8)
    return isa<FloatType>(elt) ? hw::DType::fp8 : hw::DType::int8;
  return hw::DType::f32;
}

static int64_t eltBytes(Type t) {
  return std::max<int64_t>(1, int64_t(t.getIntOrFloatBitWidth()) / 8);
}

static int64_t product(ArrayRef<int64_t> s) {
  int64_t p = 1;
  for (int64_t x : s)
    p *= x;
  return p;
}

/// Walks the body into a chain of map steps; failure when an op has no
/// tile.map kind (then an elementwise op becomes one `expr` map).
static LogicalResult buildChain(VectorOp &v, Operation *combine) {
  Block *body = v.op.getBlock();
  Value outArg = body->getArgument(v.numInputs);
  DenseMap<Value, Src> srcs;
  for (unsigned i = 0; i < v.numInputs; ++i)
    srcs[body->getArgument(i)] = Src{Src::Arg, i, {}};
  auto srcOf = [&](Value x) -> std::optional<Src> {
    auto it = srcs.find(x);
    if (it != srcs.end())
      return it->second;
    Attribute a;
    if (matchPattern(x, m_Constant(&a)))
      if (auto t = dyn_cast<TypedAttr>(a); t && t.getType().isIntOrFloat())
        return Src{Src::Const, 0, t};
    return std::nullopt;
  };
  for (Operation &bodyOp : body->without_terminator()) {
    if (&bodyOp == combine)
      continue;
    if (isa<arith::ConstantOp>(bodyOp))
      continue; // read through srcOf
    // Conversions are free in OpCounts; the next op reads the source tile
    // (tile.map converts on the way).
    if (isa<arith::ExtFOp, arith::TruncFOp, arith::ExtSIOp, arith::ExtUIOp,
            arith::TruncIOp, arith::SIToFPOp, arith::UIToFPOp>(bodyOp)) {
      std::optional<Src> s = srcOf(bodyOp.getOperand(0));
      if (!s)
        return failure();
      srcs[bodyOp.getResult(0)] = *s;
      continue;
    }
    std::optional<tile::MapKind> kind = mapKindOf(bodyOp);
    if (!kind || bodyOp.getNumResults() != 1)
      return failure();
    Step step;
    step.kind = *kind;
    step.type = bodyOp.getResult(0).getType();
    bool transcendental = isa<math::MathDialect>(bodyOp.getDialect()) &&
                          !isa<math::AbsFOp, math::FmaOp>(bodyOp);
    // A transcendental costs what CostModel::vector charges for it, so the
    // kernel's compute time is the linalg op's (math.fma is one FLOP there).
    step.flops =
        transcendental ? int64_t(cost::CostModel::kTranscendentalFlops) : 1;
    for (Value operand : bodyOp.getOperands()) {
      if (operand == outArg)
        return failure();
      std::optional<Src> s = srcOf(operand);
      if (!s)
        return failure();
      step.operands.push_back(*s);
    }
    srcs[bodyOp.getResult(0)] = Src{Src::Step, unsigned(v.steps.size()), {}};
    v.steps.push_back(step);
  }
  Value yielded = body->getTerminator()->getOperand(0);
  if (combine) {
    Value x = combine->getOperand(0) == outArg ? combine->getOperand(1)
                                               : combine->getOperand(0);
    std::optional<Src> s = srcOf(x);
    if (!s || s->kind == Src::Const)
      return failure();
    v.reduced = *s;
    return success();
  }
  std::optional<Src> s = srcOf(yielded);
  if (!s || s->kind == Src::Const)
    return failure();
  v.result = *s;
  return success();
}

/// An in-place update of the init by an index select: the body yields
/// select(index(t) == index(j) + offset, in, out), `t` a parallel loop only
/// the destination has, `j` a reduction loop only the input has. Element
/// [.., j, ..] of the input lands at [.., j + offset, ..] of the
/// destination, the rest keeps its value (a KV-cache append).
struct IndexUpdate {
  unsigned t, j;
  int64_t offset;
};
static std::optional<IndexUpdate> matchIndexUpdate(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  Block *body = op.getBlock();
  auto select =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::SelectOp>();
  if (!select || select.getTrueValue() != body->getArgument(0) ||
      select.getFalseValue() != body->getArgument(1))
    return std::nullopt;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
    return std::nullopt;
  // index(d) + constant (either order), or index(d) alone.
  auto indexPlus = [](Value v) -> std::optional<std::pair<unsigned, int64_t>> {
    int64_t offset = 0;
    if (auto add = v.getDefiningOp<arith::AddIOp>()) {
      APInt c;
      if (matchPattern(add.getRhs(), m_ConstantInt(&c)))
        v = add.getLhs();
      else if (matchPattern(add.getLhs(), m_ConstantInt(&c)))
        v = add.getRhs();
      else
        return std::nullopt;
      offset = c.getSExtValue();
    }
    auto index = v.getDefiningOp<linalg::IndexOp>();
    if (!index)
      return std::nullopt;
    return std::make_pair(unsigned(index.getDim()), offset);
  };
  auto a = indexPlus(cmp.getLhs()), b = indexPlus(cmp.getRhs());
  if (!a || !b)
    return std::nullopt;
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  // The destination's loop carries no offset; the new elements' loop does.
  if (a->second != 0)
    std::swap(a, b);
  if (a->second != 0 || b->second < 0 || b->first != reductions.front())
    return std::nullopt;
  IndexUpdate u{a->first, b->first, b->second};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!maps[0].isProjectedPermutation() || !maps[1].isProjectedPermutation() ||
      maps[0].isFunctionOfDim(u.t) || !maps[1].isFunctionOfDim(u.t) ||
      !maps[0].isFunctionOfDim(u.j) || maps[1].isFunctionOfDim(u.j) ||
      u.offset + ranges[u.j] > ranges[u.t])
    return std::nullopt;
  return u;
}

/// The tiled dims of an elementwise op: a blocked row dim of the result
/// and the innermost result dims after it, kept whole while they are short
/// so a tile row is long enough to stream (RoPE's [64 x 2] pairs of a
/// head).
static SmallVector<unsigned> shortRowDims(const VectorOp &v,
                                          ArrayRef<unsigned> outDims) {
  constexpr int64_t kShortRow = 512;
  int i = int(outDims.size()) - 1;
  SmallVector<unsigned> inner;
  int64_t extent = 1;
  if (outDims.size() > 1) {
    inner.push_back(outDims[i]);
    extent = v.ranges[outDims[i]];
    --i;
    while (i > 0 && extent * v.ranges[outDims[i]] <= kShortRow) {
      extent *= v.ranges[outDims[i]];
      inner.insert(inner.begin(), outDims[i]);
      --i;
    }
  }
  SmallVector<unsigned> tiled = {outDims[i]};
  llvm::append_range(tiled, inner);
  return tiled;
}

/// Why `op` cannot be a vector kernel, or its analysis.
static FailureOr<VectorOp> analyze(linalg::LinalgOp op, std::string &why) {
  VectorOp v;
  v.op = op;
  v.ranges = op.getStaticLoopRanges();
  if (!op.hasPureTensorSemantics() || op->getNumResults() != 1 ||
      op.getNumDpsInits() != 1 ||
      llvm::any_of(v.ranges, ShapedType::isDynamic)) {
    why = "needs static shapes, one result and tensor semantics";
    return failure();
  }
  // Tile buffers hold integers and floats; complex values (and anything
  // else) stay linalg, priced from their counts.
  if (llvm::any_of(op->getOperandTypes(), [](Type t) {
        return !getElementTypeOrSelf(t).isIntOrIndexOrFloat();
      })) {
    why = "its elements are not integers or floats (complex has no tile-IR "
          "form)";
    return failure();
  }
  if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation())) {
    Attribute a;
    if (!matchPattern(fill.getInputs()[0], m_Constant(&a)) ||
        !isa<TypedAttr>(a)) {
      why = "fills with a value that is not a constant";
      return failure();
    }
    v.isFill = true;
    v.fillValue = cast<TypedAttr>(a);
  }
  v.numInputs = v.isFill ? 0 : op.getNumDpsInputs();
  for (unsigned i = 0; i < v.numInputs; ++i)
    v.inputTypes.push_back(op.getDpsInputs()[i].getType());
  v.initType = op.getDpsInits()[0].getType();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (unsigned i = v.isFill ? op.getNumDpsInputs() : 0; i < maps.size(); ++i) {
    if (!maps[i].isProjectedPermutation()) {
      why = "an indexing map is not a projected permutation";
      return failure();
    }
    SmallVector<unsigned> d;
    for (AffineExpr e : maps[i].getResults())
      d.push_back(cast<AffineDimExpr>(e).getPosition());
    v.dims.push_back(d);
  }
  for (unsigned i = 0; i < v.numInputs; ++i) {
    if (!isa<RankedTensorType>(op.getDpsInputs()[i].getType())) {
      why = "an input is not a tensor";
      return failure();
    }
    if (!op.getBlock()->getArgument(i).use_empty())
      v.usedInputs.push_back(i);
  }
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  SmallVector<unsigned> outDims = v.dims.back();
  if (outDims.empty()) {
    why = "the result is a scalar";
    return failure();
  }

  Operation *combine = nullptr;
  std::optional<IndexUpdate> update = matchIndexUpdate(op);
  if (update) {
    // The new elements' loop stands in for the destination's: the kernel
    // walks the input and stores each tile at its shifted place.
    SmallVector<unsigned> &dest = v.dims.back();
    auto *at = llvm::find(dest, update->t);
    v.updatePos = unsigned(at - dest.begin());
    *at = update->j;
    v.updateOffset = update->offset;
    outDims = dest;
    v.tiled = shortRowDims(v, outDims);
  } else if (!reductions.empty()) {
    if (reductions.size() != 1) {
      why = "reduces over more than one dim";
      return failure();
    }
    v.reduction = true;
    v.redDim = reductions.front();
    Block *body = op.getBlock();
    Value outArg = body->getArgument(v.numInputs);
    combine = body->getTerminator()->getOperand(0).getDefiningOp();
    std::optional<tile::ReduceKind> kind =
        combine ? reduceKindOf(*combine) : std::nullopt;
    if (!kind || !outArg.hasOneUse() || *outArg.getUsers().begin() != combine) {
      why = "it reads its init other than as a sum, max or min combine (an "
            "in-place update such as a KV-cache append)";
      return failure();
    }
    v.redKind = *kind;
    if (auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>()) {
      Attribute a;
      if (matchPattern(fill.getInputs()[0], m_Constant(&a)) &&
          isa<TypedAttr>(a) && !fill->hasAttr(analysis::kFusedIntoAttrName)) {
        v.initFill = fill;
        v.initIdentity = isIdentity(cast<TypedAttr>(a), v.redKind);
      }
    }
    // Any other init is read and combined with the reduction's result.
    if (!v.initFill || !v.initIdentity) {
      v.initFill = nullptr;
      v.readsInit = true;
    }
    v.tiled = {outDims.back(), v.redDim};
    // A reduction over a handful of elements (RoPE's K = 2 rotation) is
    // elementwise work: tile the short innermost result dims whole as for
    // an elementwise op, so a tile is more than the few reduced elements.
    if (v.ranges[v.redDim] <= analysis::kMaxElementwiseReduction &&
        outDims.size() > 1) {
      v.tiled = shortRowDims(v, outDims);
      v.tiled.push_back(v.redDim);
    }
  } else {
    if (!v.isFill && !op.getBlock()->getArgument(v.numInputs).use_empty()) {
      why = "its body reads the init";
      return failure();
    }
    v.tiled = shortRowDims(v, outDims);
  }
  // Each operand must hold the tiled dims it has in tile order (a transpose
  // of the tiled dims would need a transposing copy).
  for (ArrayRef<unsigned> d : v.dims) {
    int last = -1;
    for (unsigned t : v.tiled) {
      auto it = llvm::find(d, t);
      if (it == d.end())
        continue;
      int pos = int(it - d.begin());
      if (pos <= last) {
        why = "it transposes the dims it would tile";
        return failure();
      }
      last = pos;
    }
  }
  if (v.isFill) {
    v.result = Src{Src::Const, 0, v.fillValue};
    return v;
  }
  if (update) {
    // Moves the input's elements and computes nothing (OpCounts: data
    // movement): its tiles are stored as they are.
    v.result = Src{Src::Arg, 0, {}};
    return v;
  }
  if (failed(buildChain(v, combine))) {
    if (v.reduction) {
      why = "the reduction's body has an op with no tile.map kind";
      return failure();
    }
    // One opaque map of every input the body reads, at the body's cost;
    // with none, of the element coordinates (a table built from
    // linalg.index, such as RoPE's angles).
    v.steps.clear();
    v.steps.push_back(Step{tile::MapKind::Expr, {}, {}, 0});
    for (unsigned i : v.usedInputs)
      v.steps.back().operands.push_back(Src{Src::Arg, i, {}});
    v.steps.back().type = getElementTypeOrSelf(op->getResult(0).getType());
    v.result = Src{Src::Step, 0, {}};
  }
  // The chain must cost what the body counts (OpCounts), or the two
  // estimates would disagree: else one expr map at the counted cost.
  std::optional<analysis::OpCounts> c = analysis::countOp(op);
  if (!c || c->iterations <= 0) {
    why = "its work cannot be counted";
    return failure();
  }
  double perElement =
      (c->flops + c->transcendentals * cost::CostModel::kTranscendentalFlops) /
      c->iterations;
  if (v.steps.size() == 1 && v.steps[0].kind == tile::MapKind::Expr) {
    v.steps[0].flops = int64_t(std::llround(perElement));
    return v;
  }
  double chain = v.reduction ? 1 : 0; // the reduce's combine
  for (const Step &s : v.steps)
    chain += double(s.flops);
  if (std::abs(chain - perElement) > 1e-9) {
    why = "its body costs differently from its tile.map chain";
    return failure();
  }
  return v;
}

/// An embedding lookup: the body yields tensor.extract %table[id, c...] of a
/// table defined outside the op, `id` an element of an integer input cast
/// to an index and `c...` the result's innermost loops, which walk whole
/// rows of the table. Its addresses depend on data: the kernel gathers
/// rows with tile.gather, indexed by a tile of the ids.
struct Lookup {
  mutable linalg::LinalgOp op;
  Value table;
  unsigned idInput = 0;
  SmallVector<unsigned> idDims;  ///< loop of each dim of the id input
  SmallVector<unsigned> outDims; ///< loop of each dim of the result
  unsigned rows = 0;             ///< the id loop cut into blocks of rows
  unsigned cols = 0;             ///< the table's row dims (the result's last)
  SmallVector<int64_t> ranges;
};

/// Why `op` is not a lookup the kernel below can express, or its analysis.
static FailureOr<Lookup> matchLookup(linalg::LinalgOp op, std::string &why) {
  Lookup g;
  g.op = op;
  g.ranges = op.getStaticLoopRanges();
  if (!op.hasPureTensorSemantics() || op->getNumResults() != 1 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
      llvm::any_of(g.ranges, ShapedType::isDynamic)) {
    why = "needs static shapes, one result and no reduction";
    return failure();
  }
  Block *body = op.getBlock();
  auto extract =
      body->getTerminator()->getOperand(0).getDefiningOp<tensor::ExtractOp>();
  auto tableTy = extract
                     ? dyn_cast<RankedTensorType>(extract.getTensor().getType())
                     : RankedTensorType();
  if (!extract || !tableTy || !tableTy.hasStaticShape()) {
    why = "it yields something other than an element of a static table";
    return failure();
  }
  g.table = extract.getTensor();
  // The row: an element of an integer input.
  Value row = extract.getIndices()[0];
  if (auto c = row.getDefiningOp<arith::IndexCastOp>())
    row = c.getIn();
  else if (auto cu = row.getDefiningOp<arith::IndexCastUIOp>())
    row = cu.getIn();
  auto arg = dyn_cast<BlockArgument>(row);
  if (!arg || arg.getOwner() != body ||
      arg.getArgNumber() >= op.getNumDpsInputs() ||
      !isa<IntegerType>(arg.getType())) {
    why = "its row is not an integer element of an input";
    return failure();
  }
  g.idInput = arg.getArgNumber();
  for (unsigned i = 0; i < op.getNumDpsInputs(); ++i)
    if (i != g.idInput && !body->getArgument(i).use_empty()) {
      why = "it reads inputs besides the row ids";
      return failure();
    }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap idMap = maps[g.idInput], outMap = maps.back();
  if (!idMap.isProjectedPermutation() || !outMap.isProjectedPermutation()) {
    why = "an indexing map is not a projected permutation";
    return failure();
  }
  for (AffineExpr e : idMap.getResults())
    g.idDims.push_back(cast<AffineDimExpr>(e).getPosition());
  for (AffineExpr e : outMap.getResults())
    g.outDims.push_back(cast<AffineDimExpr>(e).getPosition());
  // Columns: the table's other dims, whole, walked by the result's last
  // loops in order.
  SmallVector<unsigned> colDims;
  for (auto [k, idx] : llvm::enumerate(extract.getIndices().drop_front())) {
    auto index = idx.getDefiningOp<linalg::IndexOp>();
    if (!index || g.ranges[index.getDim()] != tableTy.getDimSize(k + 1)) {
      why = "it reads part of a row, or a row by something other than the "
            "result's loops";
      return failure();
    }
    colDims.push_back(unsigned(index.getDim()));
  }
  g.cols = colDims.size();
  SmallVector<unsigned> lead(g.outDims), ids(g.idDims);
  bool rowLast = g.outDims.size() > g.cols;
  if (rowLast) {
    lead.truncate(g.outDims.size() - g.cols);
    llvm::sort(lead);
    llvm::sort(ids);
  }
  if (!rowLast ||
      !llvm::equal(ArrayRef<unsigned>(g.outDims).take_back(g.cols), colDims) ||
      lead != ids) {
    why = "its result is not the ids' dims followed by a row";
    return failure();
  }
  g.rows = g.outDims[g.outDims.size() - g.cols - 1];
  return g;
}

/// Everything the builder and the pricer need about one blocking.
struct Layout {
  SmallVector<int64_t> tileShape;           ///< the computation's tile
  SmallVector<SmallVector<int64_t>> shapes; ///< per operand (inputs, init)
  SmallVector<bool> perTrip;                ///< operand depends on the loop
  SmallVector<int64_t> spreadTrips;
  SmallVector<unsigned> spreadDims; ///< loop dim of each spread dim
  int64_t trips = 1;
};

class Lowering {
public:
  Lowering(const cost::CostModel &model, const hw::System &sys)
      : model(model), sys(sys) {
    for (const hw::ComputeUnit &u : sys.chip.units)
      if (u.kind == hw::UnitKind::Vector) {
        unit = u.name;
        break;
      }
    staging = &model.stagingLevel();
    const hw::MemoryLevel &l0 = sys.chip.memory.front();
    // Scratch (chain intermediates, constants) lives in the innermost
    // level when it is a core's own scratchpad besides staging (registers).
    scratch = (&l0 != staging && l0.scope == hw::Scope::Core &&
               l0.management == hw::Management::Scratchpad)
                  ? &l0
                  : staging;
  }

  bool hasVectorUnit() const { return !unit.empty(); }

  Layout layout(const VectorOp &v, const Blocking &b) const {
    Layout l;
    auto extent = [&](unsigned d) {
      if (d == v.tiled.front())
        return b.block;
      if (d == v.tiled.back() && v.tiled.size() > 1)
        return b.chunk;
      return v.ranges[d];
    };
    for (unsigned t : v.tiled)
      l.tileShape.push_back(extent(t));
    unsigned blocked = v.tiled.front();
    unsigned carried = b.partial ? v.redDim : blocked;
    for (ArrayRef<unsigned> d : v.dims) {
      SmallVector<int64_t> s;
      for (unsigned t : v.tiled)
        s.push_back(llvm::is_contained(d, t) ? extent(t) : 1);
      l.shapes.push_back(s);
      l.perTrip.push_back(llvm::is_contained(d, carried));
    }
    // Loops no operand indexes (an update's destination loop, replaced by
    // the new elements') are not walked.
    for (unsigned d = 0; d < v.ranges.size(); ++d)
      if (!llvm::is_contained(v.tiled, d) &&
          llvm::any_of(v.dims, [&](ArrayRef<unsigned> od) {
            return llvm::is_contained(od, d);
          })) {
        l.spreadTrips.push_back(v.ranges[d]);
        l.spreadDims.push_back(d);
      }
    int64_t blocks = llvm::divideCeil(v.ranges[blocked], b.block);
    int64_t groups = b.partial ? blocks : llvm::divideCeil(blocks, b.trips);
    if (b.split > 0) {
      l.spreadTrips.push_back(llvm::divideCeil(groups, b.split));
      l.spreadDims.push_back(blocked);
      groups = b.split;
    }
    l.spreadTrips.push_back(groups);
    l.spreadDims.push_back(blocked);
    unsigned last = v.tiled.back();
    if (!b.partial && v.tiled.size() > 1 && b.chunk < v.ranges[last]) {
      l.spreadTrips.push_back(llvm::divideCeil(v.ranges[last], b.chunk));
      l.spreadDims.push_back(last);
    }
    l.trips =
        b.partial ? llvm::divideCeil(v.ranges[v.redDim], b.chunk) : b.trips;
    return l;
  }

  /// The tile's extent along an update's shifted destination dim (1 when
  /// none): its tile index moves by the offset in tiles of that extent.
  int64_t updateExtent(const VectorOp &v, const Layout &l) const {
    if (!v.updatePos)
      return 1;
    unsigned out = v.dims.size() - 1;
    auto *at = llvm::find(v.tiled, v.dims[out][*v.updatePos]);
    return at == v.tiled.end() ? 1 : l.tileShape[at - v.tiled.begin()];
  }

  /// A copy or transpose whose input tile is stored as it is (same type,
  /// same shape): no result tile of its own.
  bool storesInput(const VectorOp &v, const Layout &l) const {
    unsigned out = v.dims.size() - 1;
    return !v.reduction && !v.isFill && v.steps.empty() &&
           v.result.kind == Src::Arg &&
           eltOf(v, v.result.index) == eltOf(v, out) &&
           l.shapes[v.result.index] == l.shapes[out];
  }

  Type eltOf(const VectorOp &v, unsigned operand) const {
    return getElementTypeOrSelf(operand < v.numInputs ? v.inputTypes[operand]
                                                      : v.initType);
  }
  Type typeOf(const VectorOp &v, const Src &s) const {
    if (s.kind == Src::Arg)
      return eltOf(v, s.index);
    if (s.kind == Src::Step)
      return v.steps[s.index].type;
    return s.value.getType();
  }

  /// Scratch buffers of the chain: which step writes which buffer (in
  /// place into an operand's buffer that dies there, else a new one), -1
  /// for the step writing the result tile.
  SmallVector<int> scratchOf(const VectorOp &v, int &numScratch) const {
    SmallVector<int> lastUse(v.steps.size(), -1);
    for (auto [i, s] : llvm::enumerate(v.steps))
      for (const Src &o : s.operands)
        if (o.kind == Src::Step)
          lastUse[o.index] = int(i);
    if (v.reduction && v.reduced.kind == Src::Step)
      lastUse[v.reduced.index] = int(v.steps.size());
    SmallVector<int> buf(v.steps.size(), -1);
    numScratch = 0;
    for (auto [i, s] : llvm::enumerate(v.steps)) {
      if (!v.reduction && v.result.kind == Src::Step && v.result.index == i)
        continue; // writes the result tile
      int reuse = -1;
      for (const Src &o : s.operands)
        if (o.kind == Src::Step && lastUse[o.index] == int(i) &&
            buf[o.index] >= 0 && v.steps[o.index].type == s.type)
          reuse = buf[o.index];
      buf[i] = reuse >= 0 ? reuse : numScratch++;
    }
    return buf;
  }

  /// Bytes per core in each level; false when a level overflows.
  bool fits(const VectorOp &v, const Blocking &b, const Layout &l) const {
    llvm::SmallDenseMap<const hw::MemoryLevel *, double> bytes;
    int64_t copies = b.depth;
    int64_t tileElems = product(l.tileShape);
    for (unsigned k : v.usedInputs)
      bytes[staging] += double(product(l.shapes[k]) * eltBytes(eltOf(v, k)) *
                               (l.perTrip[k] ? copies : 1));
    unsigned out = v.dims.size() - 1;
    double outBytes = double(product(l.shapes[out]) * eltBytes(eltOf(v, out)));
    if (!storesInput(v, l))
      bytes[staging] += outBytes * (b.partial || v.isFill ? 1 : copies);
    int numScratch = 0;
    SmallVector<int> buf = scratchOf(v, numScratch);
    SmallVector<double> scratchBytes(numScratch, 0);
    for (auto [i, s] : llvm::enumerate(v.steps))
      if (buf[i] >= 0)
        scratchBytes[buf[i]] = double(tileElems * eltBytes(s.type));
    for (double x : scratchBytes)
      bytes[scratch] += x;
    if (b.partial || v.readsInit)
      bytes[scratch] += outBytes; // the partial combined into the result
    for (const Step &s : v.steps)
      for (const Src &o : s.operands)
        if (o.kind == Src::Const)
          bytes[scratch] += double(eltBytes(o.value.getType()));
    for (auto [level, n] : bytes)
      if (n > double(level->capacity))
        return false;
    return true;
  }

  /// The KernelWork the estimate will read back from the IR build() writes
  /// for this blocking (same ops, same phases, same per-tile amounts).
  cost::KernelWork work(const VectorOp &v, const Blocking &b,
                        const Layout &l) const {
    cost::KernelWork w;
    w.tiles = double(product(l.spreadTrips));
    w.cores = sys.chip.cores;
    w.trips = l.trips;
    w.pipeline = b.depth;
    const int64_t gridCols = b.grid ? l.spreadTrips.back() : 0;
    if (b.grid) {
      w.gridRows = l.spreadTrips[l.spreadTrips.size() - 2];
      w.gridCols = gridCols;
      w.cores = w.gridRows * w.gridCols;
      w.gridWaves = double(product(ArrayRef<int64_t>(l.spreadTrips)
                                       .drop_back(2)));
    }
    for (unsigned k : v.usedInputs)
      w.idealHomeBytes += double(
          product(
              cast<ShapedType>(v.inputTypes[k]).getShape()) *
          eltBytes(eltOf(v, k)));
    // The result's elements (an update writes only the new ones).
    unsigned out = v.dims.size() - 1;
    int64_t written = 1;
    for (unsigned d : v.dims[out])
      written *= v.ranges[d];
    w.idealHomeBytes += double(written * eltBytes(eltOf(v, out)));
    const std::string home = model.homeLevel().name;
    const std::string stage = staging->name;
    double tileElems = double(product(l.tileShape));
    double outElems = double(product(l.shapes[out]));
    double outBytes = outElems * double(eltBytes(eltOf(v, out)));
    // Prologue: constants, the accumulator or fill, loop-invariant tiles.
    for (const Step &s : v.steps)
      for (const Src &o : s.operands)
        if (o.kind == Src::Const)
          w.prologueCompute.push_back({unit, 1, unitDType(o.value.getType())});
    if (v.isFill)
      w.prologueCompute.push_back({unit, outElems, unitDType(eltOf(v, out))});
    if (b.partial && !v.readsInit)
      w.prologueCompute.push_back({unit, outElems, unitDType(eltOf(v, out))});
    if (b.partial && v.readsInit)
      w.prologueTransfers.push_back({home, stage, outBytes});
    if (!b.partial && v.readsInit)
      w.loopTransfers.push_back({home, stage, outBytes});
    for (unsigned k : v.usedInputs)
      if (!l.perTrip[k]) {
        cost::TransferWork t{
            home, stage, double(product(l.shapes[k]) * eltBytes(eltOf(v, k)))};
        if (b.grid && gridCols > 1) {
          // Fetched once per grid row, delivered along it (multicast(1)).
          t.share = double(gridCols);
          t.axis = 1;
          t.hops = gridCols - 1;
        }
        w.prologueTransfers.push_back(t);
      }
    for (unsigned k : v.usedInputs)
      if (l.perTrip[k])
        w.loopTransfers.push_back(
            {home, stage,
             double(product(l.shapes[k]) * eltBytes(eltOf(v, k)))});
    // A map's dtype is its first operand's: an input, or with none (a
    // table from coordinates) the tile it writes.
    for (const Step &s : v.steps)
      w.loopCompute.push_back(
          {unit, tileElems * double(s.flops),
           unitDType(s.operands.empty() ? s.type
                                        : typeOf(v, s.operands.front()))});
    if (v.reduction) {
      w.loopCompute.push_back(
          {unit, tileElems, unitDType(typeOf(v, v.reduced))});
      if (b.partial || v.readsInit)
        w.loopCompute.push_back({unit, outElems, unitDType(eltOf(v, out))});
    }
    if (!v.reduction && !v.isFill && v.steps.empty() && !storesInput(v, l))
      w.loopCompute.push_back({unit, 0, unitDType(typeOf(v, v.result))});
    (b.partial ? w.epilogueTransfers : w.loopTransfers)
        .push_back({stage, home, outBytes});
    return w;
  }

  /// choose(v), memoised across ops, lowerings and pipeline runs of the
  /// process: everything the search reads (the op's ranges, dims, chain,
  /// types; the system but its name) is the key, so a hit is the blocking
  /// the search would find. An explore sweep lowers the same per-layer
  /// shapes for many plans (pp, recompute, the microbatch count at one
  /// microbatch size) on one system.
  std::optional<Blocking> chooseMemo(const VectorOp &v) const {
    std::string key = keyOf(v);
    {
      std::lock_guard<std::mutex> lock(memoMutex());
      auto &memo = blockingMemo();
      auto it = memo.find(key);
      if (it != memo.end())
        return it->second;
    }
    std::optional<Blocking> b = choose(v);
    std::lock_guard<std::mutex> lock(memoMutex());
    auto &memo = blockingMemo();
    if (memo.size() >= kMaxMemo) // bounded; a miss only searches again
      memo.clear();
    memo.emplace(std::move(key), b);
    return b;
  }

  /// The cheapest blocking that fits, or nullopt.
  /// A blocking whose spread can be laid on one rectangle of the core
  /// grid with its row-independent tiles multicast along the grid row: a
  /// grid chip with a network, the spread's last dim the row blocks (no
  /// chunk spread), its last two trip counts within the grid, and at least
  /// one input copied once per spread point that does not depend on the
  /// row blocks.
  bool gridEligible(const VectorOp &v, const Blocking &b,
                    const Layout &l) const {
    if (!sys.chip.grid || !sys.chip.noc || b.partial ||
        l.spreadTrips.size() < 2 || l.spreadDims.back() != v.tiled.front())
      return false;
    if (v.tiled.size() > 1 && b.chunk < v.ranges[v.tiled.back()])
      return false;
    if (l.spreadTrips[l.spreadTrips.size() - 2] > (*sys.chip.grid)[0] ||
        l.spreadTrips.back() > (*sys.chip.grid)[1] || l.spreadTrips.back() < 2)
      return false;
    for (unsigned k : v.usedInputs)
      if (!l.perTrip[k] && !llvm::is_contained(v.dims[k], v.tiled.front()))
        return true;
    return false;
  }

  std::optional<Blocking> choose(const VectorOp &v) const {
    unsigned blocked = v.tiled.front();
    unsigned last = v.tiled.back();
    bool hasInner = v.tiled.size() > 1;
    auto powers = powersUpTo;
    SmallVector<int64_t> chunks = {hasInner ? v.ranges[last] : 1};
    // A norm's statistics are computed over whole rows (strata.prologue):
    // the row is not chunked.
    if (hasInner && !v.op->hasAttr(analysis::kPrologueAttrName))
      for (int64_t c = llvm::PowerOf2Ceil(v.ranges[last]) / 2; c >= 8; c /= 2)
        chunks.push_back(c);
    SmallVector<Priced> priced;
    auto price = [&](const Blocking &b, const Layout &l) {
      priced.push_back({b, model.kernel(work(v, b, l)).time,
                        product(l.tileShape),
                        std::min(product(l.spreadTrips), sys.chip.cores)});
    };
    auto consider = [&](const Blocking &b) {
      Layout l = layout(v, b);
      if (!fits(v, b, l) || v.updateOffset % updateExtent(v, l) != 0)
        return;
      price(b, l);
      if (gridEligible(v, b, l)) {
        Blocking g = b;
        g.grid = true;
        price(g, l);
      }
      // More row groups than a grid row holds: split them over the
      // rectangle's rows as well.
      if (sys.chip.grid && sys.chip.noc && !b.partial &&
          l.spreadDims.back() == v.tiled.front() &&
          l.spreadTrips.back() > (*sys.chip.grid)[1])
        for (int64_t split = (*sys.chip.grid)[1]; split >= 2; split /= 2) {
          if (l.spreadTrips.back() % split != 0)
            continue;
          Blocking g = b;
          g.grid = true;
          g.split = split;
          Layout gl = layout(v, g);
          if (gridEligible(v, g, gl))
            price(g, gl);
        }
    };
    for (int64_t block : powers(v.ranges[blocked]))
      for (int64_t chunk : chunks) {
        bool partial = v.reduction && chunk < v.ranges[last];
        if (partial) {
          int64_t trips = llvm::divideCeil(v.ranges[last], chunk);
          for (int64_t depth = 1; depth <= std::min<int64_t>(3, trips); ++depth)
            consider({block, chunk, trips, depth, true});
          continue;
        }
        int64_t blocks = llvm::divideCeil(v.ranges[blocked], block);
        for (int64_t trips : powers(blocks))
          for (int64_t depth = 1; depth <= std::min<int64_t>(3, trips); ++depth)
            consider({block, chunk, trips, depth, false});
      }
    return pickBlocking(priced);
  }

  /// A lookup's spread: the result's id loops but the blocked one, one
  /// element at a time, then the groups of row blocks.
  SmallVector<int64_t> lookupSpread(const Lookup &g, const Blocking &b,
                                    SmallVector<unsigned> &dims) const {
    SmallVector<int64_t> trips;
    for (unsigned d : ArrayRef<unsigned>(g.outDims).drop_back(g.cols))
      if (d != g.rows) {
        trips.push_back(g.ranges[d]);
        dims.push_back(d);
      }
    int64_t blocks = llvm::divideCeil(g.ranges[g.rows], b.block);
    trips.push_back(llvm::divideCeil(blocks, b.trips));
    dims.push_back(g.rows);
    return trips;
  }

  Type lookupIdType(const Lookup &g) const {
    return getElementTypeOrSelf(g.op.getDpsInputs()[g.idInput].getType());
  }
  /// Bytes of one gathered row.
  int64_t lookupRowBytes(const Lookup &g) const {
    auto table = cast<RankedTensorType>(g.table.getType());
    return product(table.getShape().drop_front()) *
           eltBytes(table.getElementType());
  }

  /// The KernelWork of the IR buildLookup() writes: per trip a block of ids
  /// in, its rows gathered from home, the rows stored.
  cost::KernelWork lookupWork(const Lookup &g, const Blocking &b) const {
    SmallVector<unsigned> dims;
    cost::KernelWork w;
    w.tiles = double(product(lookupSpread(g, b, dims)));
    w.cores = sys.chip.cores;
    w.trips = b.trips;
    w.pipeline = b.depth;
    const std::string home = model.homeLevel().name;
    const std::string stage = staging->name;
    double idBytes = double(b.block * eltBytes(lookupIdType(g)));
    double rowBytes = double(b.block * lookupRowBytes(g));
    w.loopTransfers = {{home, stage, idBytes},
                       {home, stage, rowBytes},
                       {stage, home, rowBytes}};
    // Ideal bytes as the estimate counts a kernel's tensors: what the
    // transfers move of each, up to its size (the table is read only
    // where the ids point).
    double executions = w.tiles * double(b.trips);
    auto bytesOf = [](Value t) {
      auto ty = cast<RankedTensorType>(t.getType());
      return double(product(ty.getShape()) * eltBytes(ty.getElementType()));
    };
    w.idealHomeBytes =
        std::min(bytesOf(g.op.getDpsInputs()[g.idInput]),
                 executions * idBytes) +
        std::min(bytesOf(g.table), executions * rowBytes) +
        std::min(bytesOf(g.op.getDpsInits()[0]), executions * rowBytes);
    return w;
  }

  /// The cheapest blocking of a lookup whose ids and rows fit the staging
  /// level, rotating through `depth` buffers; nullopt when none does.
  std::optional<Blocking> chooseLookup(const Lookup &g) const {
    SmallVector<Priced> priced;
    int64_t perRow = eltBytes(lookupIdType(g)) + lookupRowBytes(g);
    for (int64_t block : powersUpTo(g.ranges[g.rows])) {
      int64_t blocks = llvm::divideCeil(g.ranges[g.rows], block);
      for (int64_t trips : powersUpTo(blocks))
        for (int64_t depth = 1; depth <= std::min<int64_t>(3, trips); ++depth) {
          if (depth * block * perRow > int64_t(staging->capacity))
            continue;
          Blocking b{block, 1, trips, depth, false};
          SmallVector<unsigned> dims;
          int64_t points = product(lookupSpread(g, b, dims));
          priced.push_back({b, model.kernel(lookupWork(g, b)).time,
                            block * lookupRowBytes(g),
                            std::min(points, sys.chip.cores)});
        }
    }
    return pickBlocking(priced);
  }

  void buildLookup(const Lookup &g, const Blocking &b) {
    linalg::LinalgOp op = g.op;
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    OpBuilder builder(op);
    Value ids = op.getDpsInputs()[g.idInput];
    Value init = op.getDpsInits()[0];
    auto kernel =
        tile::KernelOp::create(builder, loc, op->getResultTypes(),
                               builder.getStringAttr(analysis::reportName(op)),
                               ValueRange{ids, g.table}, ValueRange{init});
    StringRef home = model.homeLevel().name;
    auto bufOf = [&](Value t) {
      auto ty = cast<RankedTensorType>(t.getType());
      return tile::BufType::get(ctx, ty.getShape(), ty.getElementType(), home);
    };
    Block *body = builder.createBlock(&kernel.getBody(), {},
                                      {bufOf(ids), bufOf(g.table), bufOf(init)},
                                      {loc, loc, loc});
    tile::KernelOp::ensureTerminator(kernel.getBody(), builder, loc);
    builder.setInsertionPointToStart(body);
    Value idHome = body->getArgument(0), table = body->getArgument(1),
          out = body->getArgument(2);
    Value c0 = arith::ConstantIndexOp::create(builder, loc, 0);

    SmallVector<unsigned> spreadDims;
    SmallVector<int64_t> trips = lookupSpread(g, b, spreadDims);
    auto spread = tile::SpreadOp::create(builder, loc, sys.chip.cores, trips);
    Block *spreadBody = &spread.getBody().front();
    builder.setInsertionPointToStart(spreadBody);
    auto spreadArg = [&](unsigned d) -> Value {
      for (auto [i, sd] : llvm::enumerate(spreadDims))
        if (sd == d)
          return spreadBody->getArgument(i);
      return c0;
    };
    auto tableTy = cast<RankedTensorType>(g.table.getType());
    SmallVector<int64_t> rowsShape = {b.block};
    llvm::append_range(rowsShape, tableTy.getShape().drop_front());
    Value idTile = tile::AllocOp::create(
        builder, loc,
        tile::BufType::get(ctx, {b.block}, lookupIdType(g), staging->name),
        b.depth);
    Value rowsTile = tile::AllocOp::create(
        builder, loc,
        tile::BufType::get(ctx, rowsShape, tableTy.getElementType(),
                           staging->name),
        b.depth);

    auto loop = tile::LoopOp::create(builder, loc, b.trips, b.depth);
    builder.setInsertionPointToStart(&loop.getBody().front());
    Value iv = loop.getInductionVar();
    Value row = spreadArg(g.rows);
    if (trips.back() == 1) {
      row = iv; // one group: the loop walks every block
    } else if (b.trips > 1) {
      Value cTrips = arith::ConstantIndexOp::create(builder, loc, b.trips);
      row = arith::AddIOp::create(
          builder, loc, arith::MulIOp::create(builder, loc, row, cTrips), iv);
    }
    // A block of ids: the row loop's dim of the id tensor, wherever it is.
    SmallVector<Value> idIdx;
    for (unsigned d : g.idDims)
      idIdx.push_back(d == g.rows ? row : spreadArg(d));
    SmallVector<int64_t> idPlaced;
    int64_t idPos = llvm::find(g.idDims, g.rows) - g.idDims.begin();
    if (idPos != int64_t(g.idDims.size()) - 1)
      idPlaced.push_back(idPos);
    Value t0 = tile::CopyOp::create(builder, loc, idHome, idIdx, idTile,
                                    ValueRange{}, ValueRange{}, idPlaced);
    tile::WaitOp::create(builder, loc, ValueRange{t0});
    Value t1 = tile::GatherOp::create(builder, loc, table, idTile, rowsTile);
    tile::WaitOp::create(builder, loc, ValueRange{t1});
    // The rows land where the ids were: the row loop's dim is the one just
    // before the row's, so the tile is right-aligned in the result.
    SmallVector<Value> outIdx;
    for (auto [i, d] : llvm::enumerate(g.outDims))
      outIdx.push_back(i + g.cols >= g.outDims.size() ? c0
                       : d == g.rows                  ? row
                                                      : spreadArg(d));
    Value t2 = tile::CopyOp::create(builder, loc, rowsTile, ValueRange{}, out,
                                    outIdx, ValueRange{});
    tile::WaitOp::create(builder, loc, ValueRange{t2});

    kernel->setAttr(analysis::kUsefulFlopsAttrName,
                    builder.getI64IntegerAttr(0));
    op->replaceAllUsesWith(kernel->getResults());
    op->erase();
  }

  /// Init fills taken over by a lowered reduction.
  llvm::SmallPtrSet<Operation *, 8> absorbed;

  void build(const VectorOp &v, const Blocking &b) {
    linalg::LinalgOp op = v.op;
    Layout l = layout(v, b);
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    OpBuilder builder(op);
    SmallVector<Value> ins;
    for (unsigned k : v.usedInputs) {
      Value in = op.getDpsInputs()[k];
      // A 0-d operand (a scalar scale, as exporters write BERT's 1/sqrt(d))
      // enters as a one-element rank-1 view, so its copy can index it and
      // place it on a tile of ones (dims all -1) that tile.map broadcasts.
      auto inTy = cast<RankedTensorType>(in.getType());
      if (inTy.getRank() == 0)
        in = tensor::ExpandShapeOp::create(
            builder, loc, RankedTensorType::get({1}, inTy.getElementType()),
            in, ArrayRef<ReassociationIndices>{});
      ins.push_back(in);
    }
    Value init = op.getDpsInits()[0];
    if (v.initFill)
      init = v.initFill.getOutputs()[0];
    auto kernel = tile::KernelOp::create(
        builder, loc, op->getResultTypes(),
        builder.getStringAttr(analysis::reportName(op)), ins, ValueRange{init});
    StringRef home = model.homeLevel().name;
    auto bufOf = [&](Value t, StringRef level) {
      auto ty = cast<RankedTensorType>(t.getType());
      return tile::BufType::get(ctx, ty.getShape(), ty.getElementType(), level);
    };
    SmallVector<Type> argTypes;
    for (Value in : ins)
      argTypes.push_back(bufOf(in, home));
    argTypes.push_back(bufOf(init, home));
    Block *body =
        builder.createBlock(&kernel.getBody(), {}, argTypes,
                            SmallVector<Location>(argTypes.size(), loc));
    tile::KernelOp::ensureTerminator(kernel.getBody(), builder, loc);
    builder.setInsertionPointToStart(body);
    SmallVector<Value> homeBuf(v.dims.size());
    for (auto [i, k] : llvm::enumerate(v.usedInputs))
      homeBuf[k] = body->getArgument(i);
    unsigned out = v.dims.size() - 1;
    homeBuf[out] = body->getArgument(ins.size());
    Value c0 = arith::ConstantIndexOp::create(builder, loc, 0);

    SmallVector<int64_t> grid;
    if (b.grid)
      grid = {l.spreadTrips[l.spreadTrips.size() - 2], l.spreadTrips.back()};
    auto spread = tile::SpreadOp::create(
        builder, loc, b.grid ? grid[0] * grid[1] : sys.chip.cores,
        l.spreadTrips, grid);
    Block *spreadBody = &spread.getBody().front();
    builder.setInsertionPointToStart(spreadBody);
    unsigned blocked = v.tiled.front();
    unsigned last = v.tiled.back();
    auto spreadArg = [&](unsigned d) -> Value {
      for (auto [i, sd] : llvm::enumerate(l.spreadDims))
        if (sd == d)
          return spreadBody->getArgument(i);
      return {};
    };
    bool chunkSpread =
        !b.partial && v.tiled.size() > 1 && b.chunk < v.ranges[last];

    // Allocations, all at the top of the spread body (strata-place sums
    // them as live for the whole kernel).
    auto alloc = [&](ArrayRef<int64_t> shape, Type elt, StringRef level,
                     int64_t buffers) -> Value {
      return tile::AllocOp::create(
          builder, loc, tile::BufType::get(ctx, shape, elt, level), buffers);
    };
    int64_t copies = b.depth;
    SmallVector<Value> tileBuf(v.dims.size());
    for (unsigned k : v.usedInputs)
      tileBuf[k] = alloc(l.shapes[k], eltOf(v, k), staging->name,
                         l.perTrip[k] ? copies : 1);
    bool direct = storesInput(v, l);
    if (!direct)
      tileBuf[out] = alloc(l.shapes[out], eltOf(v, out), staging->name,
                           b.partial || v.isFill ? 1 : copies);
    int numScratch = 0;
    SmallVector<int> scratchIdx = scratchOf(v, numScratch);
    SmallVector<Value> scratchBuf(numScratch);
    for (auto [i, s] : llvm::enumerate(v.steps))
      if (scratchIdx[i] >= 0 && !scratchBuf[scratchIdx[i]])
        scratchBuf[scratchIdx[i]] =
            alloc(l.tileShape, s.type, scratch->name, 1);
    Value partialBuf;
    if (b.partial || v.readsInit)
      partialBuf = alloc(l.shapes[out], eltOf(v, out), scratch->name, 1);
    llvm::MapVector<Attribute, Value> consts;
    SmallVector<int64_t> ones(l.tileShape.size(), 1);
    for (const Step &s : v.steps)
      for (const Src &o : s.operands)
        if (o.kind == Src::Const && !consts.count(o.value))
          consts[o.value] = alloc(ones, o.value.getType(), scratch->name, 1);

    // Copy of operand `k`'s tile; `rowIdx` indexes the blocked dim and
    // `chunkIdx` the chunked last dim.
    auto copyOf = [&](unsigned k, Value rowIdx, Value chunkIdx,
                      bool in) -> Value {
      SmallVector<Value> idx;
      for (unsigned d : v.dims[k]) {
        if (d == blocked)
          idx.push_back(rowIdx);
        else if (d == last && v.tiled.size() > 1)
          idx.push_back(chunkIdx);
        else if (llvm::is_contained(v.tiled, d))
          idx.push_back(c0);
        else
          idx.push_back(spreadArg(d));
      }
      if (v.dims[k].empty()) // a 0-d operand's rank-1 view (see above)
        idx.push_back(c0);
      // Tile dims in the operand's order; -1 where it lacks one. Without
      // dims the tile is right-aligned, which is the same when the tiled
      // dims are the operand's last ones in order.
      SmallVector<int64_t> placed;
      bool trailing = v.dims[k].size() >= v.tiled.size();
      for (auto [j, t] : llvm::enumerate(v.tiled)) {
        auto it = llvm::find(v.dims[k], t);
        int64_t pos = it == v.dims[k].end() ? -1 : it - v.dims[k].begin();
        placed.push_back(pos);
        trailing &= pos == int64_t(v.dims[k].size() - v.tiled.size() + j);
      }
      if (trailing)
        placed.clear();
      // An update stores the new elements' tile `offset` elements further
      // along the destination's dim.
      if (k == out && v.updatePos && v.updateOffset != 0) {
        Value shift = arith::ConstantIndexOp::create(
            builder, loc, v.updateOffset / updateExtent(v, l));
        idx[*v.updatePos] =
            arith::AddIOp::create(builder, loc, idx[*v.updatePos], shift);
      }
      if (in)
        return tile::CopyOp::create(builder, loc, homeBuf[k], idx, tileBuf[k],
                                    ValueRange{}, ValueRange{}, placed);
      return tile::CopyOp::create(builder, loc, tileBuf[k], ValueRange{},
                                  homeBuf[k], idx, ValueRange{}, placed);
    };

    // Prologue.
    for (auto [attr, buf] : consts)
      tile::FillOp::create(builder, loc, buf, cast<TypedAttr>(attr), unit);
    Value spreadRow = spreadArg(blocked);
    if (b.split > 0) {
      // Row group = outer * split + inner (the last two spread dims).
      Value outer = spreadBody->getArgument(l.spreadDims.size() - 2);
      Value inner = spreadBody->getArgument(l.spreadDims.size() - 1);
      Value cSplit = arith::ConstantIndexOp::create(builder, loc, b.split);
      spreadRow = arith::AddIOp::create(
          builder, loc, arith::MulIOp::create(builder, loc, outer, cSplit),
          inner);
    }
    Value spreadChunk = chunkSpread ? spreadArg(last) : c0;
    if (v.isFill)
      tile::FillOp::create(builder, loc, tileBuf[out], v.fillValue, unit);
    SmallVector<Value> pro;
    if (b.partial && v.readsInit)
      pro.push_back(copyOf(out, spreadRow, c0, true));
    else if (b.partial)
      tile::FillOp::create(
          builder, loc, tileBuf[out],
          cast<TypedAttr>(v.initFill.getInputs()[0]
                              .getDefiningOp<arith::ConstantOp>()
                              .getValue()),
          unit);
    for (unsigned k : v.usedInputs)
      if (!l.perTrip[k]) {
        Value t = copyOf(k, spreadRow, spreadChunk, true);
        if (b.grid && grid[1] > 1)
          cast<tile::CopyOp>(t.getDefiningOp()).setMulticast(1);
        pro.push_back(t);
      }
    if (!pro.empty())
      tile::WaitOp::create(builder, loc, pro);

    auto loop = tile::LoopOp::create(builder, loc, l.trips, b.depth);
    builder.setInsertionPointToStart(&loop.getBody().front());
    Value iv = loop.getBody().front().getArgument(0);
    Value row = spreadRow, chunk = spreadChunk;
    if (b.partial) {
      chunk = iv;
    } else if (l.spreadTrips[l.spreadDims.size() - (chunkSpread ? 2 : 1)] ==
               1) {
      row = iv; // one group: the loop walks every block
    } else if (b.trips > 1) {
      Value cTrips = arith::ConstantIndexOp::create(builder, loc, b.trips);
      row = arith::AddIOp::create(
          builder, loc, arith::MulIOp::create(builder, loc, spreadRow, cTrips),
          iv);
    }
    SmallVector<Value> in;
    for (unsigned k : v.usedInputs)
      if (l.perTrip[k])
        in.push_back(copyOf(k, row, chunk, true));
    if (!b.partial && v.readsInit)
      in.push_back(copyOf(out, row, chunk, true));
    if (!in.empty())
      tile::WaitOp::create(builder, loc, in);
    auto bufFor = [&](const Src &s) -> Value {
      if (s.kind == Src::Arg)
        return tileBuf[s.index];
      if (s.kind == Src::Const)
        return consts.lookup(s.value);
      return scratchIdx[s.index] >= 0 ? scratchBuf[scratchIdx[s.index]]
                                      : tileBuf[out];
    };
    for (auto [i, s] : llvm::enumerate(v.steps)) {
      SmallVector<Value> operands;
      for (const Src &o : s.operands)
        operands.push_back(bufFor(o));
      Value dest =
          scratchIdx[i] >= 0 ? scratchBuf[scratchIdx[i]] : tileBuf[out];
      // Flops are stated whenever they differ from the kind's default, so
      // the IR reads at the cost the estimate charges.
      IntegerAttr flops;
      if (s.kind == tile::MapKind::Expr ||
          s.flops != tile::getDefaultFlopsPerElement(s.kind))
        flops = builder.getI64IntegerAttr(s.flops);
      tile::MapOp::create(builder, loc, s.kind, operands, dest, unit, flops);
    }
    if (v.reduction) {
      int64_t redPos = int64_t(v.tiled.size()) - 1;
      Value target = partialBuf ? partialBuf : tileBuf[out];
      tile::ReduceOp::create(
          builder, loc, tile::ReduceKindAttr::get(ctx, v.redKind),
          bufFor(v.reduced), target, builder.getI64IntegerAttr(redPos),
          builder.getStringAttr(unit));
      if (partialBuf) {
        tile::MapKind combine =
            v.redKind == tile::ReduceKind::Sum   ? tile::MapKind::Add
            : v.redKind == tile::ReduceKind::Max ? tile::MapKind::Max
                                                 : tile::MapKind::Min;
        tile::MapOp::create(builder, loc, combine,
                            ValueRange{tileBuf[out], partialBuf}, tileBuf[out],
                            unit, IntegerAttr());
      }
    } else if (direct) {
      tileBuf[out] = bufFor(v.result); // a copy or transpose
    } else if (v.steps.empty() && !v.isFill) {
      // A conversion or broadcast of an input: a cast map, free as in
      // OpCounts (flops(0)).
      tile::MapOp::create(builder, loc, tile::MapKind::Cast,
                          ValueRange{bufFor(v.result)}, tileBuf[out], unit,
                          builder.getI64IntegerAttr(0));
    }
    if (!b.partial) {
      Value t = copyOf(out, row, chunk, false);
      tile::WaitOp::create(builder, loc, ValueRange{t});
    } else {
      builder.setInsertionPointAfter(loop);
      Value t = copyOf(out, spreadRow, c0, false);
      tile::WaitOp::create(builder, loc, ValueRange{t});
    }

    analysis::OpCounts counts =
        analysis::countOp(op).value_or(analysis::OpCounts{});
    kernel->setAttr(analysis::kUsefulFlopsAttrName,
                    builder.getI64IntegerAttr(int64_t(counts.flops)));
    if (counts.transcendentals > 0)
      kernel->setAttr(
          analysis::kUsefulTranscendentalsAttrName,
          builder.getI64IntegerAttr(int64_t(counts.transcendentals)));
    if (Attribute prologue = op->getAttr(analysis::kPrologueAttrName))
      kernel->setAttr(analysis::kPrologueAttrName, prologue);
    op->replaceAllUsesWith(kernel->getResults());
    op->erase();
    if (v.initFill)
      absorbed.insert(v.initFill); // erased with the fills, when unused
  }

private:
  static constexpr size_t kMaxMemo = 1 << 16;
  static std::mutex &memoMutex() {
    static std::mutex m;
    return m;
  }
  static absl::flat_hash_map<std::string, std::optional<Blocking>> &
  blockingMemo() {
    static absl::flat_hash_map<std::string, std::optional<Blocking>> memo;
    return memo;
  }
  /// A small id per distinct system (its JSON but the name), so the op
  /// keys do not carry the whole description.
  static uint64_t systemId(const hw::System &s) {
    hw::System copy = s;
    copy.name.clear();
    std::string text;
    llvm::raw_string_ostream os(text);
    os << hw::toJSON(copy);
    static std::mutex m;
    static absl::flat_hash_map<std::string, uint64_t> ids;
    std::lock_guard<std::mutex> lock(m);
    return ids.try_emplace(std::move(text), ids.size()).first->second;
  }

  /// What choose(v) reads, as text: the system's id, then v's fields.
  std::string keyOf(const VectorOp &v) const {
    std::string k;
    llvm::raw_string_ostream os(k);
    auto list = [&](ArrayRef<int64_t> xs) {
      os << '[';
      for (int64_t x : xs)
        os << x << ',';
      os << ']';
    };
    auto ulist = [&](ArrayRef<unsigned> xs) {
      os << '[';
      for (unsigned x : xs)
        os << x << ',';
      os << ']';
    };
    auto src = [&](const Src &s) {
      os << '(' << int(s.kind) << ',' << s.index;
      if (s.kind == Src::Const)
        os << ',' << s.value.getType();
      os << ')';
    };
    os << sysId << ';' << int(model.launchMode()) << ';' << v.numInputs << ';';
    list(v.ranges);
    os << '{';
    for (const auto &d : v.dims)
      ulist(d);
    os << '}';
    ulist(v.usedInputs);
    ulist(v.tiled);
    os << v.isFill << v.reduction << v.readsInit << ';' << v.redDim << ';'
       << int(v.redKind) << ';' << (v.updatePos ? int64_t(*v.updatePos) : -1)
       << ';' << v.updateOffset << ';';
    src(v.reduced);
    src(v.result);
    for (Type t : v.inputTypes)
      os << t << '|';
    os << v.initType << '{';
    for (const Step &s : v.steps) {
      os << int(s.kind) << ',' << s.flops << ',' << s.type << '(';
      for (const Src &o : s.operands)
        src(o);
      os << ')';
    }
    os << '}';
    return k;
  }

  const cost::CostModel &model;
  const hw::System &sys;
  uint64_t sysId = systemId(sys);
  std::string unit;
  const hw::MemoryLevel *staging = nullptr;
  const hw::MemoryLevel *scratch = nullptr;
};

/// A gather (tensor.extract in the body) is data movement with
/// data-dependent addresses: tile.gather when it is a lookup of whole rows.
static bool isGather(linalg::LinalgOp op) {
  for (Operation &bodyOp : op.getBlock()->without_terminator())
    if (isa<tensor::ExtractOp>(bodyOp))
      return true;
  return false;
}

} // namespace

void strata::tileVectorOps(ModuleOp module, const cost::CostModel &model,
                           const hw::System &sys) {
  Lowering lowering(model, sys);
  SmallVector<linalg::LinalgOp> ops, fills;
  module.walk([&](linalg::LinalgOp op) {
    // Fused groups and epilogues are priced with their root; kernels are
    // already lowered.
    if (op->getParentOfType<tile::KernelOp>() ||
        op->hasAttr(analysis::kFusedIntoAttrName) ||
        op->hasAttr(analysis::kFusedAttentionAttrName))
      return;
    std::optional<analysis::OpCounts> c = analysis::countOp(op);
    if (!c || c->cls == analysis::OpClass::Contraction)
      return; // contractions are TileContractions' (and its remarks)
    // Fills go last: a reduction absorbs the fill of its init.
    (isa<linalg::FillOp>(op.getOperation()) ? fills : ops).push_back(op);
  });
  llvm::append_range(ops, fills);
  for (linalg::LinalgOp op : ops) {
    // The init of a reduction lowered above: the kernel fills its tiles.
    if (lowering.absorbed.contains(op) && op->use_empty()) {
      op->erase();
      continue;
    }
    if (isGather(op)) {
      std::string why;
      FailureOr<Lookup> g = matchLookup(op, why);
      std::optional<Blocking> b =
          succeeded(g) ? lowering.chooseLookup(*g) : std::nullopt;
      if (failed(g))
        op->emitRemark() << "gather left as linalg: " << why
                         << " (priced as data movement at ideal traffic)";
      else if (!b)
        op->emitRemark() << "gather left as linalg: no block of its rows fits "
                            "the staging level '"
                         << model.stagingLevel().name
                         << "' (priced as data movement at ideal traffic)";
      else
        lowering.buildLookup(*g, *b);
      continue;
    }
    if (!lowering.hasVectorUnit()) {
      op->emitRemark() << "vector op left untiled: chip '" << sys.chip.name
                       << "' has no vector unit (priced by the vector formula)";
      continue;
    }
    std::string why;
    FailureOr<VectorOp> v = analyze(op, why);
    if (failed(v)) {
      op->emitRemark() << "vector op left untiled: " << why
                       << " (priced by the vector formula, without tile IR)";
      continue;
    }
    std::optional<Blocking> b = lowering.chooseMemo(*v);
    if (!b) {
      op->emitRemark() << "vector op left untiled: no tile of it fits the "
                          "staging level '"
                       << model.stagingLevel().name
                       << "' (priced by the vector formula)";
      continue;
    }
    lowering.build(*v, *b);
  }
}
