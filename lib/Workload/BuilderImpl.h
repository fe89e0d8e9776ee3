//===- BuilderImpl.h - The transformer generator's internals ----*- C++ -*-===//
//
// Shared by the generator's sources, one per block: TransformerBuilder.cpp
// (shapes, functions, the entry and the module), Attention.cpp, MLP.cpp
// (dense and MoE), Norms.cpp (norms, projections, embeddings, LM head and
// loss), Backward.cpp (the layer functions forward and backward) and
// Optimizer.cpp. Not a public header.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_WORKLOAD_BUILDERIMPL_H
#define STRATA_LIB_WORKLOAD_BUILDERIMPL_H

#include "strata/Workload/TransformerBuilder.h"
#include "strata/Analysis/OpCounts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>

namespace strata::workload::detail {

using namespace mlir;

/// Fill value meaning "the element type's lowest finite value" (the identity
/// of a max-reduction; fp formats without infinities have one too).
constexpr double kLowest = -std::numeric_limits<double>::infinity();

/// Scalar arithmetic for linalg bodies.
struct Ar {
  OpBuilder &b;
  Location l;

  Value f(Type type, double value) {
    auto ft = cast<FloatType>(type);
    APFloat v = std::isinf(value)
                    ? APFloat::getLargest(ft.getFloatSemantics(), value < 0)
                    : APFloat(value);
    bool lost;
    v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return arith::ConstantOp::create(b, l, FloatAttr::get(ft, v));
  }
  Value i(int64_t value) { return arith::ConstantIndexOp::create(b, l, value); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, l, x); }
  Value max(Value x, Value y) { return arith::MaximumFOp::create(b, l, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, l, x); }
  Value log(Value x) { return math::LogOp::create(b, l, x); }
  Value rsqrt(Value x) { return math::RsqrtOp::create(b, l, x); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, l, x); }
  Value tanh(Value x) { return math::TanhOp::create(b, l, x); }
  Value erf(Value x) { return math::ErfOp::create(b, l, x); }
  Value cos(Value x) { return math::CosOp::create(b, l, x); }
  Value sin(Value x) { return math::SinOp::create(b, l, x); }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, l, c, x, y);
  }
  Value fgt(Value x, Value y) {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, y);
  }
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, l, x, y); }
  Value imul(Value x, Value y) { return arith::MulIOp::create(b, l, x, y); }
  Value idiv(Value x, Value y) { return arith::DivUIOp::create(b, l, x, y); }
  Value irem(Value x, Value y) { return arith::RemUIOp::create(b, l, x, y); }
  Value band(Value x, Value y) { return arith::AndIOp::create(b, l, x, y); }
  Value icmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, l, p, x, y);
  }
  Value toIndex(Value x) {
    return arith::IndexCastOp::create(b, l, b.getIndexType(), x);
  }
  Value toFloat(Value index, Type type) {
    Value i64 = arith::IndexCastOp::create(b, l, b.getI64Type(), index);
    return arith::SIToFPOp::create(b, l, type, i64);
  }
  /// Converts between float types (free in the cost model).
  Value conv(Value x, Type type) {
    unsigned from = x.getType().getIntOrFloatBitWidth();
    unsigned to = type.getIntOrFloatBitWidth();
    if (x.getType() == type)
      return x;
    if (from < to || (from == to && type.isF32()))
      return arith::ExtFOp::create(b, l, type, x);
    if (from == to) // bf16 <-> f16: through f32
      return arith::TruncFOp::create(
          b, l, type, arith::ExtFOp::create(b, l, b.getF32Type(), x));
    return arith::TruncFOp::create(b, l, type, x);
  }
  Value extract(Value tensor, ValueRange indices) {
    return tensor::ExtractOp::create(b, l, tensor, indices);
  }
};

using IndexFn = llvm::function_ref<Value(char)>;
using BodyFn =
    llvm::function_ref<SmallVector<Value>(Ar &, ValueRange, IndexFn)>;

/// An input operand and the loop letters indexing it.
struct In {
  Value value;
  llvm::StringRef dims;
};

/// An output: its loop letters and element type; reductions give a fill
/// value (their identity) or a tensor to accumulate into.
struct Out {
  llvm::StringRef dims;
  Type elem;
  std::optional<double> fill = std::nullopt;
  Value init = nullptr;
};

/// Orders a generic's body by its dataflow: a post-order walk from the
/// yield, operands left to right. The emitters write bodies as nested
/// expressions (`a.mul(a.f(c), a.tanh(x))`), whose creation order C++ leaves
/// to the compiler; after this the IR is the same whichever compiler built
/// Strata. Ops the yield does not reach keep their place, first.
inline void orderBodyByDataflow(Block &body) {
  Operation *yield = body.getTerminator();
  llvm::SmallPtrSet<Operation *, 32> placed;
  llvm::SmallVector<Operation *> order;
  // Iterative post-order: (op, next operand to visit).
  llvm::SmallVector<std::pair<Operation *, unsigned>> stack{{yield, 0}};
  placed.insert(yield);
  while (!stack.empty()) {
    auto &[op, next] = stack.back();
    if (next < op->getNumOperands()) {
      Operation *def = op->getOperand(next++).getDefiningOp();
      if (def && def->getBlock() == &body && placed.insert(def).second)
        stack.push_back({def, 0});
      continue;
    }
    order.push_back(op);
    stack.pop_back();
  }
  for (Operation *op : order)
    if (op != yield)
      op->moveBefore(yield);
}

inline ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// Builds ops at one insertion point, naming each with a NameLoc
/// `prefix + name` ("layers." inside layer functions).
class Emitter {
public:
  Emitter(OpBuilder &b, llvm::StringRef prefix)
      : b(b), ctx(b.getContext()), prefix(prefix.str()) {}

  Location loc(llvm::StringRef name) const {
    Location l = NameLoc::get(StringAttr::get(ctx, prefix + name.str()));
    if (!detail.empty())
      l = NameLoc::get(StringAttr::get(ctx, prefix + name.str()),
                       NameLoc::get(StringAttr::get(ctx, detail)));
    return l;
  }

  Value zeros(Location l, ArrayRef<int64_t> shape, Type elem) {
    Value empty = tensor::EmptyOp::create(b, l, shape, elem);
    Ar a{b, l};
    return linalg::FillOp::create(b, l, ValueRange{a.f(elem, 0.0)},
                                  ValueRange{empty})
        .getResult(0);
  }

  SmallVector<Value> generic(llvm::StringRef name, ArrayRef<In> ins,
                             ArrayRef<Out> outs, BodyFn body,
                             ArrayRef<std::pair<char, int64_t>> sizes = {}) {
    Location l = loc(name);
    std::string letters;
    auto addLetters = [&](llvm::StringRef dims) {
      for (char c : dims)
        if (letters.find(c) == std::string::npos)
          letters.push_back(c);
    };
    for (const Out &o : outs)
      addLetters(o.dims);
    for (const In &in : ins)
      addLetters(in.dims);

    llvm::SmallDenseMap<char, int64_t> size;
    auto record = [&](llvm::StringRef dims, Value v) {
      ArrayRef<int64_t> shape = shapeOf(v);
      assert(shape.size() == dims.size() && "loop letters must match rank");
      for (auto [c, n] : llvm::zip(dims, shape)) {
        [[maybe_unused]] auto [it, inserted] = size.try_emplace(c, n);
        assert((inserted || it->second == n) && "inconsistent loop size");
      }
    };
    for (const In &in : ins)
      record(in.dims, in.value);
    for (const Out &o : outs)
      if (o.init)
        record(o.dims, o.init);
    for (auto [c, n] : sizes)
      size[c] = n;

    auto mapOf = [&](llvm::StringRef dims) {
      SmallVector<AffineExpr> exprs;
      for (char c : dims)
        exprs.push_back(b.getAffineDimExpr(letters.find(c)));
      return AffineMap::get(letters.size(), 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs, inits;
    SmallVector<Type> resultTypes;
    for (const In &in : ins) {
      maps.push_back(mapOf(in.dims));
      inputs.push_back(in.value);
    }
    for (const Out &o : outs) {
      maps.push_back(mapOf(o.dims));
      Value init = o.init;
      if (!init) {
        SmallVector<int64_t> shape;
        for (char c : o.dims) {
          assert(size.count(c) && "output letter without a size");
          shape.push_back(size[c]);
        }
        init = tensor::EmptyOp::create(b, l, shape, o.elem);
        if (o.fill) {
          Ar a{b, l};
          init = linalg::FillOp::create(b, l, ValueRange{a.f(o.elem, *o.fill)},
                                        ValueRange{init})
                     .getResult(0);
        }
      }
      inits.push_back(init);
      resultTypes.push_back(init.getType());
    }
    SmallVector<utils::IteratorType> iterators;
    for (char c : letters) {
      bool inOutput =
          llvm::any_of(outs, [&](const Out &o) { return o.dims.contains(c); });
      iterators.push_back(inOutput ? utils::IteratorType::parallel
                                   : utils::IteratorType::reduction);
    }
    auto op = linalg::GenericOp::create(
        b, l, resultTypes, inputs, inits, maps, iterators, /*doc=*/"",
        /*libraryCall=*/"", [&](OpBuilder &nb, Location nl, ValueRange args) {
          Ar a{nb, nl};
          auto index = [&](char c) -> Value {
            assert(letters.find(c) != std::string::npos && "unknown letter");
            return linalg::IndexOp::create(nb, nl, letters.find(c));
          };
          SmallVector<Value> results = body(a, args, index);
          auto yield = linalg::YieldOp::create(nb, nl, results);
          orderBodyByDataflow(*yield->getBlock());
        });
    return SmallVector<Value>(op.getResults());
  }

  Value generic1(llvm::StringRef name, ArrayRef<In> ins, Out out, BodyFn body,
                 ArrayRef<std::pair<char, int64_t>> sizes = {}) {
    return generic(name, ins, {out}, body, sizes)[0];
  }

  /// out[outDims] (+)= sum over the other letters of lhs * rhs; into `acc`
  /// when given (linalg contractions accumulate), else into zeros.
  Value contract(llvm::StringRef name, In lhs, In rhs, llvm::StringRef outDims,
                 Type outElem, Value acc = nullptr) {
    Location l = loc(name);
    if (!acc) {
      SmallVector<int64_t> shape;
      for (char c : outDims) {
        size_t pos = lhs.dims.find(c);
        shape.push_back(pos != llvm::StringRef::npos
                            ? shapeOf(lhs.value)[pos]
                            : shapeOf(rhs.value)[rhs.dims.find(c)]);
      }
      acc = zeros(l, shape, outElem);
    }
    llvm::StringRef x = lhs.dims, y = rhs.dims, z = outDims;
    bool matmul = x.size() == 2 && y.size() == 2 && z.size() == 2 &&
                  x[1] == y[0] && z[0] == x[0] && z[1] == y[1];
    bool batchMatmul = x.size() == 3 && y.size() == 3 && z.size() == 3 &&
                       x[0] == y[0] && z[0] == x[0] && x[2] == y[1] &&
                       z[1] == x[1] && z[2] == y[2];
    if (matmul)
      return linalg::MatmulOp::create(b, l, TypeRange{acc.getType()},
                                      ValueRange{lhs.value, rhs.value},
                                      ValueRange{acc})
          .getResult(0);
    if (batchMatmul)
      return linalg::BatchMatmulOp::create(b, l, TypeRange{acc.getType()},
                                           ValueRange{lhs.value, rhs.value},
                                           ValueRange{acc})
          .getResult(0);
    return generic1(name, {lhs, rhs}, Out{outDims, outElem, std::nullopt, acc},
                    [&](Ar &a, ValueRange args, IndexFn) {
                      Value p = a.mul(a.conv(args[0], outElem),
                                      a.conv(args[1], outElem));
                      return SmallVector<Value>{a.add(args[2], p)};
                    });
  }

  /// Expands or collapses `v` to `shape` (a view; free).
  Value reshape(llvm::StringRef name, Value v, ArrayRef<int64_t> shape) {
    auto from = cast<RankedTensorType>(v.getType());
    auto to = RankedTensorType::get(shape, from.getElementType());
    if (from == to)
      return v;
    std::optional<SmallVector<ReassociationIndices>> groups =
        getReassociationIndicesForReshape(from, to);
    assert(groups && "reshape is not an expand or a collapse");
    if (to.getRank() > from.getRank())
      return tensor::ExpandShapeOp::create(b, loc(name), to, v, *groups);
    return tensor::CollapseShapeOp::create(b, loc(name), to, v, *groups);
  }

  /// The static box [offsets, offsets + sizes) of `v` (same rank).
  Value slice(llvm::StringRef name, Value v, ArrayRef<int64_t> offsets,
              ArrayRef<int64_t> sizes) {
    if (sizes == shapeOf(v))
      return v;
    SmallVector<OpFoldResult> o, s, st;
    for (auto [off, sz] : llvm::zip(offsets, sizes)) {
      o.push_back(b.getIndexAttr(off));
      s.push_back(b.getIndexAttr(sz));
      st.push_back(b.getIndexAttr(1));
    }
    return tensor::ExtractSliceOp::create(b, loc(name), v, o, s, st);
  }

  /// Slice `index` of the leading dimension, with that dimension dropped;
  /// `sizes` (default: all) bounds the remaining dimensions from 0.
  Value sliceLeading(llvm::StringRef name, Value stacked, Value index,
                     ArrayRef<int64_t> sizes = {}) {
    auto type = cast<RankedTensorType>(stacked.getType());
    ArrayRef<int64_t> rest =
        sizes.empty() ? type.getShape().drop_front() : sizes;
    auto resultType = RankedTensorType::get(rest, type.getElementType());
    SmallVector<OpFoldResult> o{index}, s{b.getIndexAttr(1)},
        st(type.getRank(), b.getIndexAttr(1));
    for (int64_t d : rest) {
      o.push_back(b.getIndexAttr(0));
      s.push_back(b.getIndexAttr(d));
    }
    return tensor::ExtractSliceOp::create(b, loc(name), resultType, stacked, o,
                                          s, st);
  }

  /// Writes `value` as slice `index` of the leading dimension of `stacked`
  /// (at offset 0 in the others, which may be larger).
  Value insertLeading(llvm::StringRef name, Value value, Value stacked,
                      Value index) {
    auto type = cast<RankedTensorType>(stacked.getType());
    SmallVector<OpFoldResult> o{index}, s{b.getIndexAttr(1)},
        st(type.getRank(), b.getIndexAttr(1));
    for (int64_t d : shapeOf(value)) {
      o.push_back(b.getIndexAttr(0));
      s.push_back(b.getIndexAttr(d));
    }
    return tensor::InsertSliceOp::create(b, loc(name), value, stacked, o, s,
                                         st);
  }

  /// A copy with permuted loop letters (a transpose).
  Value permute(llvm::StringRef name, Value v, llvm::StringRef from,
                llvm::StringRef to) {
    Type elem = cast<RankedTensorType>(v.getType()).getElementType();
    return generic1(name, {{v, from}}, Out{to, elem},
                    [](Ar &, ValueRange args, IndexFn) {
                      return SmallVector<Value>{args[0]};
                    });
  }

  OpBuilder &b;
  MLIRContext *ctx;
  std::string prefix;
  /// When set, locations become NameLoc(name, NameLoc(detail)).
  std::string detail;
};

/// One per-layer weight: its name (also its location) and shape.
struct WeightSpec {
  std::string name;
  SmallVector<int64_t> shape;
  Type elem;
  /// Loop letters of the weight in its contractions.
  std::string dims;
};

/// A function argument.
struct ArgSpec {
  std::string name;
  Type type;
  llvm::StringRef role;
};

/// Activations the forward layer keeps for the backward layer, by name.
/// The same value saved under two names is stored once.
class Saved {
public:
  void save(llvm::StringRef key, Value v) {
    if (!enabled)
      return;
    auto it = llvm::find(values, v);
    unsigned index = it - values.begin();
    if (it == values.end())
      values.push_back(v);
    keys[key] = index;
  }
  bool enabled = false;
  SmallVector<Value> values;
  llvm::StringMap<unsigned> keys;
};

// Loop letters of the activations: every activation is [B, S, ...] ("bs..."),
// hidden states [B, S, H] ("bsh"). Attention heads are split as (k, g): kv
// head and query head within its group, so grouped-query attention needs no
// index arithmetic. With RoPE, the Q/K head dim is (j, p): rotary pair and
// element of the pair (head dim d = 2j + p, Meta's interleaved convention).
constexpr llvm::StringLiteral kHidden = "bsh";
constexpr llvm::StringLiteral kTokens = "bs";

class TransformerBuilder {
public:
  TransformerBuilder(const ModelConfig &cfg, const WorkloadOptions &opts,
                     MLIRContext *ctx)
      : cfg(cfg), opts(opts), ctx(ctx), b(ctx) {}

  OwningOpRef<ModuleOp> build();

private:
  // Shapes and types.
  void initShapes();
  /// Rejects local/global patterns layerWindow() cannot compute; warns
  /// where the window masks work it does not remove.
  LogicalResult checkWindowPattern(Location fileLoc);
  Type wElem(bool matmulOperand) const { return matmulOperand ? wty : act; }
  /// The stored format of layer weight `name` (--weight-dtype, or the
  /// checkpoint's MXFP4 experts); nullopt: stored as wElem(true).
  std::optional<WeightQuant> quantOf(llvm::StringRef name) const;
  /// Element types of a format's stored elements and scales.
  Type quantElem(const WeightQuant &q) const;
  Type scaleElem(const WeightQuant &q) const;
  /// The letters of a weight's reduction (its input dimension): all but
  /// the last when it projects into the hidden size ("kgdh", "ih"), else
  /// the first; an expert letter 'e' in front is skipped. Groups of scales
  /// run along these, linearised.
  static std::string reductionLetters(llvm::StringRef dims);
  /// The scales of a quantised weight: its shape with the reduction
  /// letters folded into one dimension of reduction / group; nullopt when
  /// the group does not divide the reduction.
  std::optional<WeightSpec> scalesSpec(const WeightSpec &w,
                                       const WeightQuant &q) const;
  /// lhs contracted with weight `w`: a plain contraction, or, for a
  /// quantised weight, one that dequantises w (element x its group's
  /// scale) as it reads it; fp8 weights read an fp8 copy of lhs.
  Value contractWeight(Emitter &e, llvm::StringRef name, In lhs, Value w,
                       llvm::StringRef wDims, llvm::StringRef outDims);
  RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type elem) const {
    return RankedTensorType::get(shape, elem);
  }
  /// The Q/K head-dim letters and shape: (j, p) pairs with RoPE, else d.
  std::string qkHead() const { return hasRope() ? "jp" : "d"; }
  SmallVector<int64_t> qkHeadShape() const {
    if (hasRope())
      return {D / 2, 2};
    return {D};
  }
  /// The shape of `ws` inside the layer functions: expert weights are cut
  /// to the experts that receive tokens.
  SmallVector<int64_t> layerShape(const WeightSpec &ws) const;

  // Functions.
  func::FuncOp makeFunc(llvm::StringRef name, ArrayRef<ArgSpec> args,
                        bool isPrivate);
  void finishFunc(func::FuncOp fn, Location l, ValueRange results);
  func::FuncOp buildLayerForward();
  func::FuncOp buildLayerBackward();
  func::FuncOp buildEmbed();
  func::FuncOp buildRopeTable();
  func::FuncOp buildLMHead();
  func::FuncOp buildLMHeadLoss();
  func::FuncOp buildEmbedBackward();
  func::FuncOp buildAdam(ArrayRef<WeightSpec> params);
  void buildEntry();

  // Layer pieces (forward). `w` maps weight names to values.
  struct LayerValues {
    llvm::StringMap<Value> w;
    Value rot;            // RoPE rotation table [S, D/2, 2, 2]
    Value kCache, vCache; // decode: [B, kvLen + S, KVH, ...]
    Value kNew, vNew;     // decode: this step's [B, S, KVH, ...]
    /// Interleaved local/global layers: this layer's window (an index;
    /// wider than every position in a global layer).
    Value window;
    Saved saved;
  };
  Value norm(Emitter &e, llvm::StringRef block, Value x, Value gamma,
             Value beta, Saved &saved);
  /// x (letters `xDims`) contracted with w (`wDims`) into `outDims`, plus
  /// bias (`biasDims`) when given.
  Value linear(Emitter &e, llvm::StringRef name, llvm::StringRef biasName,
               Value x, llvm::StringRef xDims, Value w, llvm::StringRef wDims,
               llvm::StringRef outDims, Value bias, llvm::StringRef biasDims);
  Value attention(Emitter &e, Value xn, LayerValues &lv);
  /// A decode step's K/V (or MLA latent) written into its cache at
  /// positionOffset by a select on the position (attn.kv_append).
  Value appendToCache(Emitter &e, Value fresh, Value cache,
                      llvm::StringRef inner);
  /// DeepSeek's multi-head latent attention (MLA.cpp).
  Value mlaAttention(Emitter &e, Value xn, LayerValues &lv);
  /// Sets the unit attribute `attr` on the projections reading `weight`
  /// (through its dequantisation, when quantised).
  void markWeightReaders(Value weight, llvm::StringRef attr);
  /// RMSNorm over the last letter of `dims` (MLA's latents).
  Value latentNorm(Emitter &e, llvm::StringRef block, Value x,
                   llvm::StringRef dims, Value gamma, Saved &saved);
  /// The matmul FLOPs in which MLA's two forms differ, per layer.
  struct MlaFlops {
    double expanded = 0, absorbed = 0;
  };
  MlaFlops mlaFlops() const;
  /// Whether MLA is generated weight-absorbed: as the options say, or by
  /// FLOPs (inference only; training keeps the expanded form).
  bool mlaAbsorbed() const {
    if (opts.mlaForm == MlaForm::Absorbed)
      return true;
    if (opts.mlaForm == MlaForm::Expanded || training())
      return false;
    MlaFlops f = mlaFlops();
    return f.absorbed < f.expanded;
  }
  /// DeepSeekMoE's shared experts: a gated MLP every token uses.
  Value sharedExperts(Emitter &e, Value xn, LayerValues &lv);
  Value rope(Emitter &e, llvm::StringRef name, Value x, llvm::StringRef heads,
             Value rot);
  Value mlp(Emitter &e, Value xn, LayerValues &lv);
  Value moe(Emitter &e, Value xn, LayerValues &lv);
  /// Whether the layer function being built has routed experts (DeepSeek's
  /// first_k_dense_replace layers get their own dense function).
  bool ffnIsMoE() const { return layerIsMoE; }
  Value activation(Ar &a, Value x);
  Value activationGrad(Ar &a, Value x);
  Value softmaxLastDim(Emitter &e, llvm::StringRef name, Value x,
                       llvm::StringRef dims, llvm::StringRef reducedDims);

  // Layer pieces (backward). `s` maps saved names to values; `grads` gets
  // the weight gradients by weight name.
  struct BackwardValues {
    llvm::StringMap<Value> w, s, grads;
    Value rot;
    Value window; // as LayerValues::window
  };
  Value normBackward(Emitter &e, llvm::StringRef block, Value dy,
                     Value residualGrad, BackwardValues &bv,
                     llvm::StringRef weightPrefix);
  /// dX = dY·Wᵀ (accumulated into `dxAcc` when given) and dW = Xᵀ·dY.
  Value linearBackward(Emitter &e, llvm::StringRef name,
                       llvm::StringRef biasName, Value dy,
                       llvm::StringRef yDims, Value x, llvm::StringRef xDims,
                       llvm::StringRef weight, llvm::StringRef wDims,
                       llvm::StringRef bias, llvm::StringRef biasDims,
                       BackwardValues &bv, Value dxAcc = nullptr);
  Value attentionBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value mlaAttentionBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value latentNormBackward(Emitter &e, llvm::StringRef block, Value dy,
                           llvm::StringRef dims, BackwardValues &bv,
                           llvm::StringRef weight);
  /// sharedExperts()' backward; adds its input gradient to `dxAcc`.
  Value sharedExpertsBackward(Emitter &e, Value dOut, BackwardValues &bv,
                              Value dxAcc);
  Value ropeBackward(Emitter &e, llvm::StringRef name, Value d,
                     llvm::StringRef heads, Value rot);
  Value mlpBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value moeBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value softmaxBackward(Emitter &e, llvm::StringRef name, Value dp, Value p,
                        llvm::StringRef dims, llvm::StringRef reducedDims);

  // Attention variants (issue 19): Attention.cpp and Variants.cpp.
  /// RMSNorm of `x` over its trailing letters `reduced` (of `dims`),
  /// scaled by `gamma` (one weight per reduced element): QK-norm per head
  /// or over the whole projection. The reduced dims are collapsed into one
  /// (a view) so that the norm is a single-dim reduction.
  Value rmsNormOver(Emitter &e, llvm::StringRef name, Value x,
                    llvm::StringRef dims, llvm::StringRef reduced, Value gamma,
                    Saved &saved);
  Value rmsNormOverBackward(Emitter &e, llvm::StringRef name, Value dy,
                            llvm::StringRef dims, llvm::StringRef reduced,
                            llvm::StringRef gammaName, BackwardValues &bv);
  /// The letters QK-norm reduces over and its weight's size.
  std::string qkNormLetters(bool query) const;
  int64_t qkNormSize(bool query) const;
  /// Whether key slot `t` is visible to query `s` (causal, and within the
  /// sliding window when the layer has one).
  Value visible(Ar &a, IndexFn idx, Value window) const;
  /// The scaled (and soft-capped) score of a raw Q·Kᵀ element.
  Value scaledScore(Ar &a, Value raw) const;
  /// d(scaledScore)/d(raw) times `d`.
  Value scaledScoreGrad(Ar &a, Value raw, Value d) const;
  /// Softmax over t with gpt-oss's per-head sink logit in the sum.
  Value softmaxWithSinks(Emitter &e, Value x, Value sinks);
  /// Gemma 2's final soft-cap of the logits, and its gradient.
  Value softcapLogits(Emitter &e, Value logits);
  Value softcapLogitsBackward(Emitter &e, Value dlogits, Value capped);
  /// The window of layer `l` (interleaved local/global layers only).
  Value layerWindow(OpBuilder &b, Location loc, Value l) const;
  /// Every layer windowed (the KV cache can be cut to the window).
  bool uniformWindow() const {
    return cfg.slidingWindow > 0 && cfg.slidingLayerCount() == cfg.layers;
  }
  /// Some layers windowed, others not.
  bool interleavedWindow() const {
    int64_t n = cfg.slidingLayerCount();
    return cfg.slidingWindow > 0 && n > 0 && n < cfg.layers;
  }
  /// Prefill and training: one layer function takes its window as an
  /// index (the shapes do not depend on it).
  bool windowArgument() const { return interleavedWindow() && !decoding(); }
  /// Decode: local layers get their own function, with the cache cut to
  /// the window.
  bool splitLayers() const { return interleavedWindow() && decoding(); }
  /// Layers [start, start + count * local.size()) as `count` repeats of
  /// the pattern `local` (true: a local layer).
  struct LayerRun {
    int64_t start, count;
    SmallVector<bool> local;
  };
  SmallVector<LayerRun> layerRuns() const;
  /// The decode layer loops of a model with local and global layers;
  /// `caches` are the global K, V and local K, V stacks. Returns the
  /// hidden state and this step's stacked K and V.
  SmallVector<Value> buildSplitDecodeLayers(
      Emitter &e, ArrayRef<Value> inits,
      llvm::function_ref<Value(const WeightSpec &, Value)> sliceWeight,
      Value rotTable, ValueRange caches, func::FuncOp globalFn);

  /// The per-layer weights, in argument order.
  SmallVector<WeightSpec> layerWeights() const;
  /// Embeddings, stacked layer weights, final norm, LM head.
  SmallVector<WeightSpec> parameters() const;
  bool hasRope() const { return !cfg.learnedPositions; }
  /// Per-layer cache shapes [B, T, ...]: K and V per kv head, or MLA's
  /// latent and RoPE key.
  /// `slots` defaults to cacheLen (a window-cut cache).
  SmallVector<int64_t> kCacheShape(int64_t slots = -1) const;
  SmallVector<int64_t> vCacheShape(int64_t slots = -1) const;
  bool training() const { return opts.mode == WorkloadMode::Train; }
  bool decoding() const { return opts.mode == WorkloadMode::Decode; }
  /// The LM head's weight and its letters ("hv", or the tied table "vh").
  llvm::StringRef headDims() const { return cfg.tieEmbeddings ? "vh" : "hv"; }

  const ModelConfig &cfg;
  const WorkloadOptions &opts;
  MLIRContext *ctx;
  OpBuilder b;
  ModuleOp module;

  Type act, wty, f32, i32;
  /// The vocabulary tables' element type (embedding, LM head): wty, or
  /// under fp8 the activations' type unless WorkloadOptions::fp8Vocabulary.
  Type vty;
  Type kvty; ///< the KV cache's element type (WorkloadOptions::kvDType)
  int64_t B = 0, S = 0, T = 0, N = 0, H = 0, I = 0, NH = 0, KVH = 0, D = 0,
          G = 0, V = 0, L = 0, E = 0, K = 0, rot = 0, half = 0;
  /// Rotary pairs of the RoPE table (MLA rotates qk_rope_head_dim only).
  int64_t ropePairs = 0;
  /// The routed experts' intermediate size (DeepSeek's
  /// moe_intermediate_size) and the shared experts' (all of them at once).
  int64_t EI = 0, SI = 0;
  /// See ffnIsMoE().
  bool layerIsMoE = false;
  /// Consecutive layers that share one layer function: all of them, or
  /// DeepSeek's first_k_dense_replace dense layers and then the MoE ones.
  struct Segment {
    int64_t first = 0, count = 0;
    bool moe = false;
    /// Prefix of the segment's stacked weights among the entry's arguments
    /// ("" for the main stack, "dense." for DeepSeek's dense layers).
    std::string paramPrefix;
    /// The layer functions' names ("decoder_layer", "decoder_layer_dense").
    std::string fnName;
    func::FuncOp fwd, bwd;
    SmallVector<WeightSpec> weights;
    SmallVector<std::pair<std::string, Type>> saved;
  };
  SmallVector<Segment, 2> segments;
  /// The name of the layer function being built.
  std::string layerFnName = "decoder_layer";
  /// MoE: experts that receive tokens and rows each computes.
  int64_t activeExperts = 0, expertRows = 0;
  /// Position of the first new token (decode: the cached length).
  int64_t positionOffset = 0;
  /// KV cache slots (decode): T, or what a window leaves of it when every
  /// layer is windowed; slot t holds position t + cacheBase.
  int64_t cacheLen = 0, cacheBase = 0;
  /// The local layers' cache in decode with local and global layers.
  int64_t localCacheLen = 0, localCacheBase = 0;
  /// The window of the layer function being built as a constant (0: none,
  /// or given as an argument).
  int64_t constWindow = 0;
  func::FuncOp localLayerFwd;
  /// The options' seq and kv-len with defaults applied.
  int64_t seqLen = 0, kvLen = 0;
  /// Names and types of the saved activations (train), in result order.
  SmallVector<std::pair<std::string, Type>> savedSpecs;
  /// Every key a saved activation is known by, with its result index.
  SmallVector<std::pair<std::string, unsigned>> savedAliases;
  /// fp8: quantised copies of matmul inputs, made once per value.
  llvm::DenseMap<Value, Value> quantized;
  /// Quantised weights (function arguments) and their scales.
  llvm::DenseMap<Value, Value> scalesOf;
  /// The quant format of each quantised weight value.
  llvm::DenseMap<Value, WeightQuant> quantOfValue;
};

} // namespace strata::workload::detail

#endif // STRATA_LIB_WORKLOAD_BUILDERIMPL_H
