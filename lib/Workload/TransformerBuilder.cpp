//===- TransformerBuilder.cpp - Transformer workloads as linalg -----------===//
//
// The generator writes every op through two helpers: `generic`, a
// linalg.generic described einsum-style by one letter per loop ("nh,h->nh"),
// and `contract`, a multiply-accumulate that becomes linalg.matmul /
// linalg.batch_matmul when the operands are plain and a linalg.generic
// contraction otherwise (transposed operands, grouped-query heads). Writing
// the loops as letters keeps each layer readable next to its math, and lets
// the backward pass mirror the forward op by op.
//
// Letters used throughout: n tokens (batch * seq), h hidden, i intermediate,
// o projection outputs, v vocab, b batch, s query positions, t key
// positions, q attention heads, k kv heads, g heads per kv head, d head dim,
// j rotary frequency, p rotary half, e experts, f experts (second index),
// c rows per expert.
//
//===----------------------------------------------------------------------===//

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
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace strata::workload {

llvm::StringRef stringifyWorkloadMode(WorkloadMode mode) {
  switch (mode) {
  case WorkloadMode::Prefill:
    return "prefill";
  case WorkloadMode::Decode:
    return "decode";
  case WorkloadMode::Train:
    return "train";
  }
  return "?";
}

std::optional<WorkloadMode> parseWorkloadMode(llvm::StringRef text) {
  return llvm::StringSwitch<std::optional<WorkloadMode>>(text)
      .Case("prefill", WorkloadMode::Prefill)
      .Case("decode", WorkloadMode::Decode)
      .Case("train", WorkloadMode::Train)
      .Default(std::nullopt);
}

llvm::StringRef stringifyWorkloadDType(WorkloadDType dtype) {
  switch (dtype) {
  case WorkloadDType::bf16:
    return "bf16";
  case WorkloadDType::fp16:
    return "fp16";
  case WorkloadDType::fp8:
    return "fp8";
  case WorkloadDType::f32:
    return "f32";
  }
  return "?";
}

std::optional<WorkloadDType> parseWorkloadDType(llvm::StringRef text) {
  return llvm::StringSwitch<std::optional<WorkloadDType>>(text)
      .Case("bf16", WorkloadDType::bf16)
      .Case("fp16", WorkloadDType::fp16)
      .Case("fp8", WorkloadDType::fp8)
      .Case("f32", WorkloadDType::f32)
      .Default(std::nullopt);
}

std::optional<double> parseMoELoadBalance(llvm::StringRef text) {
  if (text == "uniform")
    return 1.0;
  double factor;
  if (text.getAsDouble(factor) || !(factor > 0) || !std::isfinite(factor))
    return std::nullopt;
  return factor;
}

llvm::StringRef entryFunctionName(WorkloadMode mode) {
  switch (mode) {
  case WorkloadMode::Prefill:
    return "forward";
  case WorkloadMode::Decode:
    return "decode_step";
  case WorkloadMode::Train:
    return "train_step";
  }
  return "?";
}

void registerWorkloadDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, scf::SCFDialect, tensor::TensorDialect>();
}

namespace {

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

ArrayRef<int64_t> shapeOf(Value v) {
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
          linalg::YieldOp::create(nb, nl, results);
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
  Type wElem(bool matmulOperand) const { return matmulOperand ? wty : act; }
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
  void buildEntry(func::FuncOp layerFwd, func::FuncOp layerBwd);

  // Layer pieces (forward). `w` maps weight names to values.
  struct LayerValues {
    llvm::StringMap<Value> w;
    Value rot;            // RoPE rotation table [S, D/2, 2, 2]
    Value kCache, vCache; // decode: [B, kvLen + S, KVH, ...]
    Value kNew, vNew;     // decode: this step's [B, S, KVH, ...]
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
  Value rope(Emitter &e, llvm::StringRef name, Value x, llvm::StringRef heads,
             Value rot);
  Value mlp(Emitter &e, Value xn, LayerValues &lv);
  Value moe(Emitter &e, Value xn, LayerValues &lv);
  Value activation(Ar &a, Value x);
  Value activationGrad(Ar &a, Value x);
  Value softmaxLastDim(Emitter &e, llvm::StringRef name, Value x,
                       llvm::StringRef dims, llvm::StringRef reducedDims);

  // Layer pieces (backward). `s` maps saved names to values; `grads` gets
  // the weight gradients by weight name.
  struct BackwardValues {
    llvm::StringMap<Value> w, s, grads;
    Value rot;
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
  Value ropeBackward(Emitter &e, llvm::StringRef name, Value d,
                     llvm::StringRef heads, Value rot);
  Value mlpBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value moeBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value softmaxBackward(Emitter &e, llvm::StringRef name, Value dp, Value p,
                        llvm::StringRef dims, llvm::StringRef reducedDims);

  /// The per-layer weights, in argument order.
  SmallVector<WeightSpec> layerWeights() const;
  /// Embeddings, stacked layer weights, final norm, LM head.
  SmallVector<WeightSpec> parameters() const;
  bool hasRope() const { return !cfg.learnedPositions; }
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
  int64_t B = 0, S = 0, T = 0, N = 0, H = 0, I = 0, NH = 0, KVH = 0, D = 0,
          G = 0, V = 0, L = 0, E = 0, K = 0, rot = 0, half = 0;
  /// MoE: experts that receive tokens and rows each computes.
  int64_t activeExperts = 0, expertRows = 0;
  /// Position of the first new token (decode: the cached length).
  int64_t positionOffset = 0;
  /// The options' seq and kv-len with defaults applied.
  int64_t seqLen = 0, kvLen = 0;
  /// Names and types of the saved activations (train), in result order.
  SmallVector<std::pair<std::string, Type>> savedSpecs;
  /// Every key a saved activation is known by, with its result index.
  SmallVector<std::pair<std::string, unsigned>> savedAliases;
  /// fp8: quantised copies of matmul inputs, made once per value.
  llvm::DenseMap<Value, Value> quantized;
};

void TransformerBuilder::initShapes() {
  f32 = Float32Type::get(ctx);
  i32 = IntegerType::get(ctx, 32);
  switch (opts.dtype) {
  case WorkloadDType::bf16:
    act = wty = BFloat16Type::get(ctx);
    break;
  case WorkloadDType::fp16:
    act = wty = Float16Type::get(ctx);
    break;
  case WorkloadDType::fp8:
    // Weights and matmul operands in fp8 (e4m3); everything else in bf16.
    act = BFloat16Type::get(ctx);
    wty = Float8E4M3FNType::get(ctx);
    break;
  case WorkloadDType::f32:
    act = wty = f32;
    break;
  }
  B = opts.batch;
  S = seqLen;
  positionOffset = decoding() ? kvLen : 0;
  T = positionOffset + S;
  N = B * S;
  H = cfg.hidden;
  I = cfg.intermediate;
  NH = cfg.heads;
  KVH = cfg.kvHeads;
  D = cfg.headDim;
  G = NH / KVH;
  V = paddedVocab(cfg, opts);
  L = cfg.layers;
  E = cfg.experts;
  K = cfg.topK;
  rot = cfg.rotaryDim();
  half = rot / 2;
  if (cfg.isMoE()) {
    activeExperts = std::min(E, N * K);
    expertRows = static_cast<int64_t>(
        std::ceil(double(N) * double(K) * opts.moeCapacityFactor /
                  double(activeExperts)));
  }
}

SmallVector<WeightSpec> TransformerBuilder::layerWeights() const {
  SmallVector<WeightSpec> ws;
  std::string hd = qkHead();
  SmallVector<int64_t> hs = qkHeadShape();
  auto add = [&](std::string name, ArrayRef<int64_t> shape, bool matmul,
                 std::string dims) {
    ws.push_back({std::move(name), SmallVector<int64_t>(shape), wElem(matmul),
                  std::move(dims)});
  };
  auto cat = [](std::initializer_list<int64_t> lead, ArrayRef<int64_t> tail) {
    SmallVector<int64_t> shape(lead);
    shape.append(tail.begin(), tail.end());
    return shape;
  };
  bool ln = cfg.norm == NormKind::LayerNorm;
  add("layers.norm1.weight", {H}, false, "h");
  if (ln)
    add("layers.norm1.bias", {H}, false, "h");
  // Heads are written into the weights: Q [h, kv heads, group, head dim],
  // K/V [h, kv heads, head dim], O [kv heads, group, head dim, h].
  add("layers.attn.q_proj.weight", cat({H, KVH, G}, hs), true, "hkg" + hd);
  if (cfg.qkvBias)
    add("layers.attn.q_proj.bias", cat({KVH, G}, hs), false, "kg" + hd);
  add("layers.attn.k_proj.weight", cat({H, KVH}, hs), true, "hk" + hd);
  if (cfg.qkvBias)
    add("layers.attn.k_proj.bias", cat({KVH}, hs), false, "k" + hd);
  add("layers.attn.v_proj.weight", {H, KVH, D}, true, "hkd");
  if (cfg.qkvBias)
    add("layers.attn.v_proj.bias", {KVH, D}, false, "kd");
  add("layers.attn.o_proj.weight", {KVH, G, D, H}, true, "kgdh");
  if (cfg.outBias)
    add("layers.attn.o_proj.bias", {H}, false, "h");
  add("layers.norm2.weight", {H}, false, "h");
  if (ln)
    add("layers.norm2.bias", {H}, false, "h");
  if (cfg.isMoE()) {
    add("layers.moe.router.weight", {H, E}, true, "he");
    add("layers.moe.experts.gate_proj", {E, H, I}, true, "ehi");
    add("layers.moe.experts.up_proj", {E, H, I}, true, "ehi");
    add("layers.moe.experts.down_proj", {E, I, H}, true, "eih");
  } else if (cfg.gatedMLP) {
    add("layers.mlp.gate_proj.weight", {H, I}, true, "hi");
    if (cfg.mlpBias)
      add("layers.mlp.gate_proj.bias", {I}, false, "i");
    add("layers.mlp.up_proj.weight", {H, I}, true, "hi");
    if (cfg.mlpBias)
      add("layers.mlp.up_proj.bias", {I}, false, "i");
    add("layers.mlp.down_proj.weight", {I, H}, true, "ih");
    if (cfg.mlpBias)
      add("layers.mlp.down_proj.bias", {H}, false, "h");
  } else {
    add("layers.mlp.fc.weight", {H, I}, true, "hi");
    if (cfg.mlpBias)
      add("layers.mlp.fc.bias", {I}, false, "i");
    add("layers.mlp.proj.weight", {I, H}, true, "ih");
    if (cfg.mlpBias)
      add("layers.mlp.proj.bias", {H}, false, "h");
  }
  return ws;
}

SmallVector<int64_t>
TransformerBuilder::layerShape(const WeightSpec &ws) const {
  SmallVector<int64_t> shape = ws.shape;
  if (llvm::StringRef(ws.name).starts_with("layers.moe.experts."))
    shape[0] = activeExperts;
  return shape;
}

SmallVector<WeightSpec> TransformerBuilder::parameters() const {
  SmallVector<WeightSpec> params;
  params.push_back({"embed", {V, H}, wty, ""});
  if (cfg.learnedPositions)
    params.push_back({"embed.pos", {cfg.maxPositions, H}, act, ""});
  for (const WeightSpec &ws : layerWeights()) {
    SmallVector<int64_t> stacked{L};
    stacked.append(ws.shape.begin(), ws.shape.end());
    params.push_back({ws.name, stacked, ws.elem, ws.dims});
  }
  params.push_back({"final_norm.weight", {H}, act, "h"});
  if (cfg.norm == NormKind::LayerNorm)
    params.push_back({"final_norm.bias", {H}, act, "h"});
  if (!cfg.tieEmbeddings)
    params.push_back({"lm_head.weight", {H, V}, wty, "hv"});
  return params;
}

func::FuncOp TransformerBuilder::makeFunc(llvm::StringRef name,
                                          ArrayRef<ArgSpec> args,
                                          bool isPrivate) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types;
  for (const ArgSpec &arg : args)
    types.push_back(arg.type);
  auto fn = func::FuncOp::create(b, NameLoc::get(b.getStringAttr(name)), name,
                                 b.getFunctionType(types, {}));
  if (isPrivate)
    fn.setPrivate();
  Block *block = new Block();
  fn.getBody().push_back(block);
  for (auto [i, arg] : llvm::enumerate(args)) {
    block->addArgument(arg.type, NameLoc::get(b.getStringAttr(arg.name)));
    if (!arg.role.empty())
      fn.setArgAttr(i, analysis::kRoleAttrName, b.getStringAttr(arg.role));
  }
  return fn;
}

void TransformerBuilder::finishFunc(func::FuncOp fn, Location l,
                                    ValueRange results) {
  func::ReturnOp::create(b, l, results);
  fn.setFunctionType(
      b.getFunctionType(fn.getArgumentTypes(), TypeRange(results)));
}

//===----------------------------------------------------------------------===//
// Forward pieces
//===----------------------------------------------------------------------===//

Value TransformerBuilder::norm(Emitter &e, llvm::StringRef block, Value x,
                               Value gamma, Value beta, Saved &saved) {
  std::string p = block.str();
  double invH = 1.0 / double(H), eps = cfg.normEps;
  saved.save(p + ".x", x);
  if (cfg.norm == NormKind::RMSNorm) {
    Value sumsq =
        e.generic1(p + ".sumsq", {{x, kHidden}}, Out{kTokens, act, 0.0},
                   [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{a.add(v[1], a.mul(v[0], v[0]))};
                   });
    Value rstd = e.generic1(p + ".rstd", {{sumsq, kTokens}}, Out{kTokens, act},
                            [&](Ar &a, ValueRange v, IndexFn) {
                              Value mean = a.mul(v[0], a.f(act, invH));
                              return SmallVector<Value>{
                                  a.rsqrt(a.add(mean, a.f(act, eps)))};
                            });
    saved.save(p + ".rstd", rstd);
    return e.generic1(
        p + ".scale", {{x, kHidden}, {rstd, kTokens}, {gamma, "h"}},
        Out{kHidden, act}, [&](Ar &a, ValueRange v, IndexFn) {
          return SmallVector<Value>{a.mul(a.mul(v[0], v[1]), v[2])};
        });
  }
  Value sum = e.generic1(p + ".mean", {{x, kHidden}}, Out{kTokens, act, 0.0},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{a.add(v[1], v[0])};
                         });
  Value var = e.generic1(
      p + ".var", {{x, kHidden}, {sum, kTokens}}, Out{kTokens, act, 0.0},
      [&](Ar &a, ValueRange v, IndexFn) {
        Value centered = a.sub(v[0], a.mul(v[1], a.f(act, invH)));
        return SmallVector<Value>{a.add(v[2], a.mul(centered, centered))};
      });
  Value rstd = e.generic1(p + ".rstd", {{var, kTokens}}, Out{kTokens, act},
                          [&](Ar &a, ValueRange v, IndexFn) {
                            Value variance = a.mul(v[0], a.f(act, invH));
                            return SmallVector<Value>{
                                a.rsqrt(a.add(variance, a.f(act, eps)))};
                          });
  saved.save(p + ".sum", sum);
  saved.save(p + ".rstd", rstd);
  return e.generic1(p + ".scale",
                    {{x, kHidden},
                     {sum, kTokens},
                     {rstd, kTokens},
                     {gamma, "h"},
                     {beta, "h"}},
                    Out{kHidden, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      Value centered = a.sub(v[0], a.mul(v[1], a.f(act, invH)));
                      return SmallVector<Value>{
                          a.add(a.mul(a.mul(centered, v[2]), v[3]), v[4])};
                    });
}

Value TransformerBuilder::linear(Emitter &e, llvm::StringRef name,
                                 llvm::StringRef biasName, Value x,
                                 llvm::StringRef xDims, Value w,
                                 llvm::StringRef wDims, llvm::StringRef outDims,
                                 Value bias, llvm::StringRef biasDims) {
  Type wElemTy = cast<RankedTensorType>(w.getType()).getElementType();
  Value in = x;
  if (wElemTy != act) {
    // fp8: the activation is quantised once and shared by its matmuls.
    Value &q = quantized[x];
    if (!q) {
      std::string block = name.rsplit('.').first.str();
      q = e.generic1(block + ".quant", {{x, xDims}}, Out{xDims, wElemTy},
                     [&](Ar &a, ValueRange v, IndexFn) {
                       return SmallVector<Value>{a.conv(v[0], wElemTy)};
                     });
    }
    in = q;
  }
  Value y = e.contract(name, {in, xDims}, {w, wDims}, outDims, act);
  if (!bias)
    return y;
  return e.generic1(biasName, {{y, outDims}, {bias, biasDims}},
                    Out{outDims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.add(v[0], v[1])};
                    });
}

Value TransformerBuilder::rope(Emitter &e, llvm::StringRef name, Value x,
                               llvm::StringRef heads, Value rotTable) {
  // Each (j, p) pair of a head rotates by the 2x2 matrix R[s, j]: a
  // contraction over the pair's input element r (4 FLOPs per element). The
  // table holds R - I and the contraction accumulates onto x itself
  // (x + (R - I) x = R x), so no zero-filled accumulator is needed.
  std::string from = ("bs" + heads + "jr").str(),
              to = ("bs" + heads + "jp").str();
  return e.contract(name, {rotTable, "sjpr"}, {x, from}, to, act, x);
}

Value TransformerBuilder::softmaxLastDim(Emitter &e, llvm::StringRef name,
                                         Value x, llvm::StringRef dims,
                                         llvm::StringRef reducedDims) {
  std::string p = name.str();
  Value mx = e.generic1(p + ".max", {{x, dims}}, Out{reducedDims, act, kLowest},
                        [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.max(v[1], v[0])};
                        });
  Value ex = e.generic1(p + ".exp", {{x, dims}, {mx, reducedDims}},
                        Out{dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.exp(a.sub(v[0], v[1]))};
                        });
  Value sum = e.generic1(p + ".sum", {{ex, dims}}, Out{reducedDims, act, 0.0},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{a.add(v[1], v[0])};
                         });
  return e.generic1(p + ".div", {{ex, dims}, {sum, reducedDims}},
                    Out{dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.div(v[0], v[1])};
                    });
}

Value TransformerBuilder::attention(Emitter &e, Value xn, LayerValues &lv) {
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  std::string hd = qkHead();
  lv.saved.save("attn.in", xn);
  // Projections straight into heads: q [b, s, k, g, hd], k [b, s, k, hd],
  // v [b, s, k, d].
  Value q = linear(e, "attn.q_proj", "attn.q_bias", xn, kHidden,
                   w("layers.attn.q_proj.weight"), "hkg" + hd, "bskg" + hd,
                   w("layers.attn.q_proj.bias"), "kg" + hd);
  Value k = linear(e, "attn.k_proj", "attn.k_bias", xn, kHidden,
                   w("layers.attn.k_proj.weight"), "hk" + hd, "bsk" + hd,
                   w("layers.attn.k_proj.bias"), "k" + hd);
  Value v = linear(e, "attn.v_proj", "attn.v_bias", xn, kHidden,
                   w("layers.attn.v_proj.weight"), "hkd", "bskd",
                   w("layers.attn.v_proj.bias"), "kd");
  if (hasRope()) {
    q = rope(e, "attn.rope_q", q, "kg", lv.rot);
    k = rope(e, "attn.rope_k", k, "k", lv.rot);
  }
  Value keys = k, values = v;
  if (decoding()) {
    // The cache arrives sized for kvLen + S positions; this step's K/V are
    // written into positions kvLen.. by a select on the position (no concat,
    // no slice: every map is a projected permutation).
    lv.kNew = k;
    lv.vNew = v;
    int64_t offset = positionOffset;
    auto append = [&](Value fresh, Value cache, llvm::StringRef head) {
      std::string from = ("bsk" + head).str(), to = ("btk" + head).str();
      return e.generic1(
          "attn.kv_append", {{fresh, from}}, Out{to, act, std::nullopt, cache},
          [&](Ar &a, ValueRange v, IndexFn idx) {
            Value mine = a.icmp(arith::CmpIPredicate::eq, idx('t'),
                                a.iadd(idx('s'), a.i(offset)));
            return SmallVector<Value>{a.sel(mine, v[0], v[1])};
          });
    };
    keys = append(k, lv.kCache, hd);
    values = append(v, lv.vCache, "d");
  }
  lv.saved.save("attn.q", q);
  lv.saved.save("attn.k", keys);
  lv.saved.save("attn.v", values);
  // Grouped-query attention: query head (k, g) reads kv head k; the
  // broadcast over g is in the indexing maps, K/V are never copied.
  Value scores = e.contract("attn.qk_matmul", {q, "bskg" + hd},
                            {keys, "btk" + hd}, "bkgst", act);
  double scale = 1.0 / std::sqrt(double(D));
  int64_t offset = positionOffset;
  // Causal mask over the full square: key t is visible to query s when
  // t <= s + offset.
  Value masked = e.generic1(
      "attn.mask", {{scores, "bkgst"}}, Out{"bkgst", act},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value visible = a.icmp(arith::CmpIPredicate::ule, idx('t'),
                               a.iadd(idx('s'), a.i(offset)));
        return SmallVector<Value>{
            a.sel(visible, a.mul(v[0], a.f(act, scale)), a.f(act, kLowest))};
      });
  Value probs = softmaxLastDim(e, "attn.softmax", masked, "bkgst", "bkgs");
  lv.saved.save("attn.probs", probs);
  Value ctxv = e.contract("attn.av_matmul", {probs, "bkgst"}, {values, "btkd"},
                          "bskgd", act);
  lv.saved.save("attn.ctx", ctxv);
  return linear(e, "attn.o_proj", "attn.o_bias", ctxv, "bskgd",
                w("layers.attn.o_proj.weight"), "kgdh", kHidden,
                w("layers.attn.o_proj.bias"), "h");
}

Value TransformerBuilder::activation(Ar &a, Value x) {
  switch (cfg.activation) {
  case Activation::SiLU:
    return a.div(x, a.add(a.f(act, 1.0), a.exp(a.neg(x))));
  case Activation::GELUTanh: {
    Value x3 = a.mul(a.mul(x, x), x);
    Value inner =
        a.mul(a.f(act, 0.7978845608), a.add(x, a.mul(a.f(act, 0.044715), x3)));
    return a.mul(a.mul(a.f(act, 0.5), x), a.add(a.f(act, 1.0), a.tanh(inner)));
  }
  case Activation::GELU:
    return a.mul(a.mul(a.f(act, 0.5), x),
                 a.add(a.f(act, 1.0), a.erf(a.mul(x, a.f(act, 0.7071067812)))));
  case Activation::ReLU:
    return a.max(x, a.f(act, 0.0));
  }
  return x;
}

Value TransformerBuilder::activationGrad(Ar &a, Value x) {
  switch (cfg.activation) {
  case Activation::SiLU: {
    // silu'(x) = sig(x) * (1 + x * (1 - sig(x)))
    Value one = a.f(act, 1.0);
    Value sig = a.div(one, a.add(one, a.exp(a.neg(x))));
    return a.mul(sig, a.add(one, a.mul(x, a.sub(one, sig))));
  }
  case Activation::GELUTanh: {
    Value one = a.f(act, 1.0);
    Value x2 = a.mul(x, x);
    Value inner = a.mul(a.f(act, 0.7978845608),
                        a.add(x, a.mul(a.f(act, 0.044715), a.mul(x2, x))));
    Value t = a.tanh(inner);
    Value dInner = a.mul(a.f(act, 0.7978845608),
                         a.add(one, a.mul(a.f(act, 0.134145), x2)));
    Value left = a.mul(a.f(act, 0.5), a.add(one, t));
    Value right =
        a.mul(a.mul(a.f(act, 0.5), x), a.mul(a.sub(one, a.mul(t, t)), dInner));
    return a.add(left, right);
  }
  case Activation::GELU: {
    Value one = a.f(act, 1.0);
    Value cdf = a.mul(a.f(act, 0.5),
                      a.add(one, a.erf(a.mul(x, a.f(act, 0.7071067812)))));
    Value pdf = a.mul(a.f(act, 0.3989422804),
                      a.exp(a.mul(a.f(act, -0.5), a.mul(x, x))));
    return a.add(cdf, a.mul(x, pdf));
  }
  case Activation::ReLU:
    return a.sel(a.fgt(x, a.f(act, 0.0)), a.f(act, 1.0), a.f(act, 0.0));
  }
  return x;
}

Value TransformerBuilder::mlp(Emitter &e, Value xn, LayerValues &lv) {
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  lv.saved.save("mlp.in", xn);
  if (cfg.gatedMLP) {
    Value gate = linear(e, "mlp.gate_proj", "mlp.gate_bias", xn, kHidden,
                        w("layers.mlp.gate_proj.weight"), "hi", "bsi",
                        w("layers.mlp.gate_proj.bias"), "i");
    Value up = linear(e, "mlp.up_proj", "mlp.up_bias", xn, kHidden,
                      w("layers.mlp.up_proj.weight"), "hi", "bsi",
                      w("layers.mlp.up_proj.bias"), "i");
    Value h = e.generic1("mlp.act", {{gate, "bsi"}, {up, "bsi"}},
                         Out{"bsi", act}, [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{
                               a.mul(activation(a, v[0]), v[1])};
                         });
    lv.saved.save("mlp.gate", gate);
    lv.saved.save("mlp.up", up);
    lv.saved.save("mlp.act", h);
    return linear(e, "mlp.down_proj", "mlp.down_bias", h, "bsi",
                  w("layers.mlp.down_proj.weight"), "ih", kHidden,
                  w("layers.mlp.down_proj.bias"), "h");
  }
  Value fc =
      linear(e, "mlp.fc", "mlp.fc_bias", xn, kHidden, w("layers.mlp.fc.weight"),
             "hi", "bsi", w("layers.mlp.fc.bias"), "i");
  Value h = e.generic1("mlp.act", {{fc, "bsi"}}, Out{"bsi", act},
                       [&](Ar &a, ValueRange v, IndexFn) {
                         return SmallVector<Value>{activation(a, v[0])};
                       });
  lv.saved.save("mlp.fc", fc);
  lv.saved.save("mlp.act", h);
  return linear(e, "mlp.proj", "mlp.proj_bias", h, "bsi",
                w("layers.mlp.proj.weight"), "ih", kHidden,
                w("layers.mlp.proj.bias"), "h");
}

Value TransformerBuilder::moe(Emitter &e, Value xn, LayerValues &lv) {
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  lv.saved.save("moe.in", xn);
  Value logits =
      linear(e, "moe.router", "", xn, kHidden, w("layers.moe.router.weight"),
             "he", "bse", nullptr, "");
  Value probs = softmaxLastDim(e, "moe.router_softmax", logits, "bse", "bs");
  // Exact top-k by rank counting: expert e is chosen when fewer than K
  // experts have a larger probability.
  Value rank =
      e.generic1("moe.topk.rank", {{probs, "bse"}, {probs, "bsf"}},
                 Out{"bse", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   Value larger = a.fgt(v[1], v[0]);
                   return SmallVector<Value>{a.add(
                       v[2], a.sel(larger, a.f(act, 1.0), a.f(act, 0.0)))};
                 });
  double topK = double(K);
  Value chosen =
      e.generic1("moe.topk.select", {{probs, "bse"}, {rank, "bse"}},
                 Out{"bse", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   Value in = a.fgt(a.f(act, topK), v[1]);
                   return SmallVector<Value>{a.sel(in, v[0], a.f(act, 0.0))};
                 });
  Value chosenSum =
      e.generic1("moe.topk.sum", {{chosen, "bse"}}, Out{"bs", act, 0.0},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[1], v[0])};
                 });
  Value gates =
      e.generic1("moe.topk.norm", {{chosen, "bse"}, {chosenSum, "bs"}},
                 Out{"bse", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.div(v[0], v[1])};
                 });
  lv.saved.save("moe.probs", probs);
  lv.saved.save("moe.rank", rank);
  lv.saved.save("moe.chosen_sum", chosenSum);
  lv.saved.save("moe.gates", gates);

  // Dispatch: slot (e, c) of the [experts, rows, hidden] buffer holds
  // choice q = c * E' + e, i.e. token q / K = (b, s). The round-robin
  // assignment keeps every expert's load at the expected share (see
  // docs/workloads.md).
  int64_t ea = activeExperts, rows = expertRows, tokens = N, topk = K, seq = S;
  Value xe = e.generic1(
      "moe.dispatch", {}, Out{"ech", act},
      [&](Ar &a, ValueRange, IndexFn idx) {
        Value q = a.iadd(a.imul(idx('c'), a.i(ea)), idx('e'));
        Value token = a.irem(a.idiv(q, a.i(topk)), a.i(tokens));
        return SmallVector<Value>{a.extract(
            xn, {a.idiv(token, a.i(seq)), a.irem(token, a.i(seq)), idx('h')})};
      },
      {{'e', ea}, {'c', rows}, {'h', H}});
  // The expert weights arrive cut to the E' experts that receive tokens.
  Value wg = w("layers.moe.experts.gate_proj");
  Value wu = w("layers.moe.experts.up_proj");
  Value wd = w("layers.moe.experts.down_proj");
  Value xq = xe;
  if (wty != act)
    xq = e.generic1("moe.quant", {{xe, "ech"}}, Out{"ech", wty},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.conv(v[0], wty)};
                    });
  Value eg =
      e.contract("moe.expert_gate", {xq, "ech"}, {wg, "ehi"}, "eci", act);
  Value eu = e.contract("moe.expert_up", {xq, "ech"}, {wu, "ehi"}, "eci", act);
  Value eh =
      e.generic1("moe.expert_act", {{eg, "eci"}, {eu, "eci"}}, Out{"eci", act},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.mul(activation(a, v[0]), v[1])};
                 });
  Value ehq = eh;
  if (wty != act)
    ehq = e.generic1("moe.quant", {{eh, "eci"}}, Out{"eci", wty},
                     [&](Ar &a, ValueRange v, IndexFn) {
                       return SmallVector<Value>{a.conv(v[0], wty)};
                     });
  Value ey =
      e.contract("moe.expert_down", {ehq, "eci"}, {wd, "eih"}, "ech", act);
  lv.saved.save("moe.xe", xe);
  lv.saved.save("moe.expert_gate", eg);
  lv.saved.save("moe.expert_up", eu);
  lv.saved.save("moe.expert_act", eh);
  lv.saved.save("moe.expert_out", ey);

  // Combine: each token sums its K expert outputs weighted by its gates.
  // With a capacity factor below 1, choices past an expert's rows are
  // dropped (contribute zero).
  auto keptRow = [&](Ar &a, Value &row) -> Value {
    if (rows * ea >= tokens * topk)
      return nullptr;
    Value kept = a.icmp(arith::CmpIPredicate::ult, row, a.i(rows));
    row = a.irem(row, a.i(rows));
    return kept;
  };
  return e.generic1(
      "moe.combine", {}, Out{kHidden, act},
      [&](Ar &a, ValueRange, IndexFn idx) {
        Value acc = a.f(act, 0.0);
        Value token = a.iadd(a.imul(idx('b'), a.i(seq)), idx('s'));
        for (int64_t j = 0; j < topk; ++j) {
          Value q = a.iadd(a.imul(token, a.i(topk)), a.i(j));
          Value expert = a.irem(q, a.i(ea));
          Value row = a.idiv(q, a.i(ea));
          Value kept = keptRow(a, row);
          Value gate = a.extract(gates, {idx('b'), idx('s'), expert});
          Value y = a.extract(ey, {expert, row, idx('h')});
          Value term = a.mul(gate, y);
          if (kept)
            term = a.sel(kept, term, a.f(act, 0.0));
          acc = a.add(acc, term);
        }
        return SmallVector<Value>{acc};
      },
      {{'b', B}, {'s', S}, {'h', H}});
}

//===----------------------------------------------------------------------===//
// Layer functions
//===----------------------------------------------------------------------===//

func::FuncOp TransformerBuilder::buildLayerForward() {
  SmallVector<WeightSpec> weights = layerWeights();
  SmallVector<ArgSpec> args;
  args.push_back({"layers.in", tensorOf({B, S, H}, act), ""});
  for (const WeightSpec &ws : weights)
    args.push_back({ws.name, tensorOf(layerShape(ws), ws.elem), "weight"});
  if (hasRope())
    args.push_back({"rope.table", tensorOf({S, D / 2, 2, 2}, act), ""});
  if (decoding()) {
    SmallVector<int64_t> kShape{B, T, KVH};
    llvm::append_range(kShape, qkHeadShape());
    args.push_back({"layers.k_cache", tensorOf(kShape, act), ""});
    args.push_back({"layers.v_cache", tensorOf({B, T, KVH, D}, act), ""});
  }
  func::FuncOp fn = makeFunc("decoder_layer", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "layers.");

  LayerValues lv;
  lv.saved.enabled = training();
  unsigned argIndex = 0;
  Value x = fn.getArgument(argIndex++);
  for (const WeightSpec &ws : weights)
    lv.w[ws.name] = fn.getArgument(argIndex++);
  if (hasRope())
    lv.rot = fn.getArgument(argIndex++);
  if (decoding()) {
    lv.kCache = fn.getArgument(argIndex++);
    lv.vCache = fn.getArgument(argIndex++);
  }
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };

  auto residual = [&](llvm::StringRef name, Value lhs, Value rhs) {
    return e.generic1(name, {{lhs, kHidden}, {rhs, kHidden}}, Out{kHidden, act},
                      [&](Ar &a, ValueRange v, IndexFn) {
                        return SmallVector<Value>{a.add(v[0], v[1])};
                      });
  };
  auto ffn = [&](Value xn) {
    return cfg.isMoE() ? moe(e, xn, lv) : mlp(e, xn, lv);
  };
  llvm::StringRef ffnBlock = cfg.isMoE() ? "moe.residual" : "mlp.residual";
  Value xn1 = norm(e, "norm1", x, w("layers.norm1.weight"),
                   w("layers.norm1.bias"), lv.saved);
  Value attn = attention(e, xn1, lv);
  Value out;
  if (cfg.parallelResidual) {
    Value xn2 = norm(e, "norm2", x, w("layers.norm2.weight"),
                     w("layers.norm2.bias"), lv.saved);
    Value f = ffn(xn2);
    out = residual(ffnBlock, residual("attn.residual", x, attn), f);
  } else {
    Value h = residual("attn.residual", x, attn);
    Value xn2 = norm(e, "norm2", h, w("layers.norm2.weight"),
                     w("layers.norm2.bias"), lv.saved);
    out = residual(ffnBlock, h, ffn(xn2));
  }
  SmallVector<Value> results{out};
  if (decoding()) {
    results.push_back(lv.kNew);
    results.push_back(lv.vNew);
  }
  if (training()) {
    // Result order follows first save; names are kept for the backward.
    SmallVector<std::string> names(lv.saved.values.size());
    for (auto &entry : lv.saved.keys)
      if (names[entry.second].empty())
        names[entry.second] = entry.first().str();
    for (auto [i, v] : llvm::enumerate(lv.saved.values)) {
      savedSpecs.push_back({names[i], v.getType()});
      results.push_back(v);
    }
    // Several keys may name one value; remember all of them.
    savedAliases.clear();
    for (auto &entry : lv.saved.keys)
      savedAliases.push_back({entry.first().str(), entry.second});
  }
  finishFunc(fn, e.loc("return"), results);
  return fn;
}

//===----------------------------------------------------------------------===//
// Backward pieces: each forward op gets its gradient ops, named after it
// (".bwd_dx" for the gradient of a contraction's left operand, ".bwd_dw"
// for its right operand, ".bwd" for elementwise ops).
//===----------------------------------------------------------------------===//

Value TransformerBuilder::normBackward(Emitter &e, llvm::StringRef block,
                                       Value dy, Value residualGrad,
                                       BackwardValues &bv,
                                       llvm::StringRef weightPrefix) {
  std::string p = block.str(), wp = weightPrefix.str();
  Value x = bv.s.lookup(p + ".x"), rstd = bv.s.lookup(p + ".rstd");
  Value gamma = bv.w.lookup(wp + ".weight");
  double invH = 1.0 / double(H);
  SmallVector<In> dxInputs{
      {dy, kHidden}, {x, kHidden}, {rstd, kTokens}, {gamma, "h"}};
  if (cfg.norm == NormKind::RMSNorm) {
    bv.grads[wp + ".weight"] = e.generic1(
        p + ".bwd_dw", {{dy, kHidden}, {x, kHidden}, {rstd, kTokens}},
        Out{"h", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
          return SmallVector<Value>{
              a.add(v[3], a.mul(a.mul(v[0], v[1]), v[2]))};
        });
    Value dot =
        e.generic1(p + ".bwd_dot", {{dy, kHidden}, {x, kHidden}, {gamma, "h"}},
                   Out{kTokens, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{
                         a.add(v[3], a.mul(a.mul(v[0], v[2]), v[1]))};
                   });
    dxInputs.push_back({dot, kTokens});
    if (residualGrad)
      dxInputs.push_back({residualGrad, kHidden});
    // dx = rstd * (dy * g - x * rstd^2 * sum(dy * g * x) / H) (+ residual)
    return e.generic1(p + ".bwd_dx", dxInputs, Out{kHidden, act},
                      [&](Ar &a, ValueRange v, IndexFn) {
                        Value r = v[2];
                        Value proj = a.mul(a.mul(a.mul(v[1], r), r),
                                           a.mul(v[4], a.f(act, invH)));
                        Value dx = a.mul(r, a.sub(a.mul(v[0], v[3]), proj));
                        if (residualGrad)
                          dx = a.add(dx, v[5]);
                        return SmallVector<Value>{dx};
                      });
  }
  Value sum = bv.s.lookup(p + ".sum");
  auto xhat = [&](Ar &a, Value xv, Value sumv, Value r) {
    return a.mul(a.sub(xv, a.mul(sumv, a.f(act, invH))), r);
  };
  SmallVector<Value> dw =
      e.generic(p + ".bwd_dw",
                {{dy, kHidden}, {x, kHidden}, {sum, kTokens}, {rstd, kTokens}},
                {Out{"h", act, 0.0}, Out{"h", act, 0.0}},
                [&](Ar &a, ValueRange v, IndexFn) {
                  Value xh = xhat(a, v[1], v[2], v[3]);
                  return SmallVector<Value>{a.add(v[4], a.mul(v[0], xh)),
                                            a.add(v[5], v[0])};
                });
  bv.grads[wp + ".weight"] = dw[0];
  bv.grads[wp + ".bias"] = dw[1];
  SmallVector<Value> dots =
      e.generic(p + ".bwd_dot",
                {{dy, kHidden},
                 {x, kHidden},
                 {sum, kTokens},
                 {rstd, kTokens},
                 {gamma, "h"}},
                {Out{kTokens, act, 0.0}, Out{kTokens, act, 0.0}},
                [&](Ar &a, ValueRange v, IndexFn) {
                  Value dxh = a.mul(v[0], v[4]);
                  Value xh = xhat(a, v[1], v[2], v[3]);
                  return SmallVector<Value>{a.add(v[5], dxh),
                                            a.add(v[6], a.mul(dxh, xh))};
                });
  dxInputs.push_back({sum, kTokens});
  dxInputs.push_back({dots[0], kTokens});
  dxInputs.push_back({dots[1], kTokens});
  if (residualGrad)
    dxInputs.push_back({residualGrad, kHidden});
  // dx = rstd * (dxh - mean(dxh) - xhat * mean(dxh * xhat)) (+ residual)
  return e.generic1(p + ".bwd_dx", dxInputs, Out{kHidden, act},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      Value inv = a.f(act, invH);
                      Value dxh = a.mul(v[0], v[3]);
                      Value xh = xhat(a, v[1], v[4], v[2]);
                      Value inner = a.sub(a.sub(dxh, a.mul(v[5], inv)),
                                          a.mul(xh, a.mul(v[6], inv)));
                      Value dx = a.mul(v[2], inner);
                      if (residualGrad)
                        dx = a.add(dx, v[7]);
                      return SmallVector<Value>{dx};
                    });
}

Value TransformerBuilder::linearBackward(
    Emitter &e, llvm::StringRef name, llvm::StringRef biasName, Value dy,
    llvm::StringRef yDims, Value x, llvm::StringRef xDims,
    llvm::StringRef weight, llvm::StringRef wDims, llvm::StringRef bias,
    llvm::StringRef biasDims, BackwardValues &bv, Value dxAcc) {
  std::string n = name.str();
  Value w = bv.w.lookup(weight);
  // FP8 training (Transformer Engine's recipe): the GEMMs of the backward
  // read FP8 too, the output gradient and the saved input cast once per
  // value with per-tensor scaling (the cast kernel also records the
  // tensor's amax, so the scaling bookkeeping is the cast's vector work);
  // the weight is the FP8 copy the forward read. One FP8 format (E4M3) for
  // both, as TE's Format.E4M3 recipe (the HYBRID default casts gradients
  // to E5M2 at the same tensor-core rate): a tile.mma reads one type.
  Value dyIn = dy, xIn = x;
  Type wElemTy = cast<RankedTensorType>(w.getType()).getElementType();
  if (wElemTy != act) {
    std::string block = n.substr(0, n.rfind('.'));
    auto quant = [&](Value v, llvm::StringRef dims, Type to,
                     llvm::StringRef what) {
      Value &q = quantized[v];
      if (!q)
        q = e.generic1(block + what.str(), {{v, dims}}, Out{dims, to},
                       [&](Ar &a, ValueRange vs, IndexFn) {
                         return SmallVector<Value>{a.conv(vs[0], to)};
                       });
      return q;
    };
    dyIn = quant(dy, yDims, wElemTy, ".bwd_quant");
    xIn = quant(x, xDims, wElemTy, ".bwd_quant");
  }
  // dX = dY * W^T, dW = X^T * dY.
  Value dx =
      e.contract(n + ".bwd_dx", {dyIn, yDims}, {w, wDims}, xDims, act, dxAcc);
  bv.grads[weight] =
      e.contract(n + ".bwd_dw", {xIn, xDims}, {dyIn, yDims}, wDims, act);
  if (!bias.empty() && bv.w.lookup(bias))
    bv.grads[bias] =
        e.generic1(biasName.str() + ".bwd", {{dy, yDims}},
                   Out{biasDims, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{a.add(v[1], v[0])};
                   });
  return dx;
}

Value TransformerBuilder::softmaxBackward(Emitter &e, llvm::StringRef name,
                                          Value dp, Value p,
                                          llvm::StringRef dims,
                                          llvm::StringRef reducedDims) {
  // dx = p * (dp - sum(dp * p))
  std::string n = name.str();
  Value dot =
      e.generic1(n + ".bwd_sum", {{dp, dims}, {p, dims}},
                 Out{reducedDims, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[2], a.mul(v[0], v[1]))};
                 });
  return e.generic1(n + ".bwd", {{dp, dims}, {p, dims}, {dot, reducedDims}},
                    Out{dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.mul(v[1], a.sub(v[0], v[2]))};
                    });
}

Value TransformerBuilder::ropeBackward(Emitter &e, llvm::StringRef name,
                                       Value d, llvm::StringRef heads,
                                       Value rotTable) {
  // The inverse rotation: the transposed matrix, contracting over p (the
  // table holds R - I, and (R - I)^T = R^T - I).
  std::string from = ("bs" + heads + "jp").str(),
              to = ("bs" + heads + "jr").str();
  return e.contract(name.str() + ".bwd", {rotTable, "sjpr"}, {d, from}, to, act,
                    d);
}

Value TransformerBuilder::attentionBackward(Emitter &e, Value dOut,
                                            BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  std::string hd = qkHead();
  Value dctx = linearBackward(
      e, "attn.o_proj", "attn.o_bias", dOut, kHidden, s("attn.ctx"), "bskgd",
      "layers.attn.o_proj.weight", "kgdh", "layers.attn.o_proj.bias", "h", bv);
  Value probs = s("attn.probs"), keys = s("attn.k"), values = s("attn.v");
  // Saved activations go first in these contractions: the second operand
  // of a contraction is taken for a weight only when it is one.
  // dP = dO * V^T; dV = P^T * dO (summed over the heads sharing a kv head).
  Value dp = e.contract("attn.av_matmul.bwd_dx", {values, "btkd"},
                        {dctx, "bskgd"}, "bkgst", act);
  Value dv = e.contract("attn.av_matmul.bwd_dw", {probs, "bkgst"},
                        {dctx, "bskgd"}, "btkd", act);
  Value ds = softmaxBackward(e, "attn.softmax", dp, probs, "bkgst", "bkgs");
  double scale = 1.0 / std::sqrt(double(D));
  int64_t offset = positionOffset;
  Value dsMasked =
      e.generic1("attn.mask.bwd", {{ds, "bkgst"}}, Out{"bkgst", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value visible = a.icmp(arith::CmpIPredicate::ule, idx('t'),
                                          a.iadd(idx('s'), a.i(offset)));
                   return SmallVector<Value>{a.sel(
                       visible, a.mul(v[0], a.f(act, scale)), a.f(act, 0.0))};
                 });
  // dQ = dS * K; dK = dS^T * Q.
  Value dq = e.contract("attn.qk_matmul.bwd_dx", {keys, "btk" + hd},
                        {dsMasked, "bkgst"}, "bskg" + hd, act);
  Value dk = e.contract("attn.qk_matmul.bwd_dw", {s("attn.q"), "bskg" + hd},
                        {dsMasked, "bkgst"}, "btk" + hd, act);
  if (hasRope()) {
    dq = ropeBackward(e, "attn.rope_q", dq, "kg", bv.rot);
    dk = ropeBackward(e, "attn.rope_k", dk, "k", bv.rot);
  }
  Value xn = s("attn.in");
  Value dxn =
      linearBackward(e, "attn.q_proj", "attn.q_bias", dq, "bskg" + hd, xn,
                     kHidden, "layers.attn.q_proj.weight", "hkg" + hd,
                     "layers.attn.q_proj.bias", "kg" + hd, bv);
  dxn = linearBackward(e, "attn.k_proj", "attn.k_bias", dk, "bsk" + hd, xn,
                       kHidden, "layers.attn.k_proj.weight", "hk" + hd,
                       "layers.attn.k_proj.bias", "k" + hd, bv, dxn);
  return linearBackward(e, "attn.v_proj", "attn.v_bias", dv, "bskd", xn,
                        kHidden, "layers.attn.v_proj.weight", "hkd",
                        "layers.attn.v_proj.bias", "kd", bv, dxn);
}

Value TransformerBuilder::mlpBackward(Emitter &e, Value dOut,
                                      BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  Value xn = s("mlp.in");
  if (cfg.gatedMLP) {
    Value dh =
        linearBackward(e, "mlp.down_proj", "mlp.down_bias", dOut, kHidden,
                       s("mlp.act"), "bsi", "layers.mlp.down_proj.weight", "ih",
                       "layers.mlp.down_proj.bias", "h", bv);
    SmallVector<Value> d = e.generic(
        "mlp.act.bwd",
        {{dh, "bsi"}, {s("mlp.gate"), "bsi"}, {s("mlp.up"), "bsi"}},
        {Out{"bsi", act}, Out{"bsi", act}}, [&](Ar &a, ValueRange v, IndexFn) {
          Value dGate = a.mul(a.mul(v[0], v[2]), activationGrad(a, v[1]));
          Value dUp = a.mul(v[0], activation(a, v[1]));
          return SmallVector<Value>{dGate, dUp};
        });
    Value dxn = linearBackward(e, "mlp.gate_proj", "mlp.gate_bias", d[0], "bsi",
                               xn, kHidden, "layers.mlp.gate_proj.weight", "hi",
                               "layers.mlp.gate_proj.bias", "i", bv);
    return linearBackward(e, "mlp.up_proj", "mlp.up_bias", d[1], "bsi", xn,
                          kHidden, "layers.mlp.up_proj.weight", "hi",
                          "layers.mlp.up_proj.bias", "i", bv, dxn);
  }
  Value dh = linearBackward(e, "mlp.proj", "mlp.proj_bias", dOut, kHidden,
                            s("mlp.act"), "bsi", "layers.mlp.proj.weight", "ih",
                            "layers.mlp.proj.bias", "h", bv);
  Value dfc = e.generic1("mlp.act.bwd", {{dh, "bsi"}, {s("mlp.fc"), "bsi"}},
                         Out{"bsi", act}, [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{
                               a.mul(v[0], activationGrad(a, v[1]))};
                         });
  return linearBackward(e, "mlp.fc", "mlp.fc_bias", dfc, "bsi", xn, kHidden,
                        "layers.mlp.fc.weight", "hi", "layers.mlp.fc.bias", "i",
                        bv);
}

Value TransformerBuilder::moeBackward(Emitter &e, Value dOut,
                                      BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  int64_t ea = activeExperts, rows = expertRows, tokens = N, topk = K, seq = S;
  Value gates = s("moe.gates"), ey = s("moe.expert_out");
  // Choices past an expert's rows (capacity factor < 1) are dropped.
  auto keptRow = [&](Ar &a, Value &row) -> Value {
    if (rows * ea >= tokens * topk)
      return nullptr;
    Value kept = a.icmp(arith::CmpIPredicate::ult, row, a.i(rows));
    row = a.irem(row, a.i(rows));
    return kept;
  };
  // Combine backward: to each slot's expert output and to the gates.
  Value dey = e.generic1(
      "moe.combine.bwd_dx", {}, Out{"ech", act},
      [&](Ar &a, ValueRange, IndexFn idx) {
        Value q = a.iadd(a.imul(idx('c'), a.i(ea)), idx('e'));
        Value used = a.icmp(arith::CmpIPredicate::ult, q, a.i(tokens * topk));
        Value token = a.irem(a.idiv(q, a.i(topk)), a.i(tokens));
        Value tb = a.idiv(token, a.i(seq)), ts = a.irem(token, a.i(seq));
        Value gate = a.extract(gates, {tb, ts, idx('e')});
        Value d = a.extract(dOut, {tb, ts, idx('h')});
        return SmallVector<Value>{a.sel(used, a.mul(gate, d), a.f(act, 0.0))};
      },
      {{'e', ea}, {'c', rows}, {'h', H}});
  Value dgates = e.generic1(
      "moe.combine.bwd_dgate", {{dOut, kHidden}}, Out{"bse", act, 0.0},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value acc = v[1];
        Value token = a.iadd(a.imul(idx('b'), a.i(seq)), idx('s'));
        for (int64_t j = 0; j < topk; ++j) {
          Value q = a.iadd(a.imul(token, a.i(topk)), a.i(j));
          Value expert = a.irem(q, a.i(ea));
          Value row = a.idiv(q, a.i(ea));
          // A dropped choice belongs to no expert (index E never matches).
          Value owner = expert;
          if (Value kept = keptRow(a, row))
            owner = a.sel(kept, expert, a.i(E));
          Value mine = a.icmp(arith::CmpIPredicate::eq, owner, idx('e'));
          Value y = a.extract(ey, {expert, row, idx('h')});
          acc = a.add(acc, a.sel(mine, a.mul(v[0], y), a.f(act, 0.0)));
        }
        return SmallVector<Value>{acc};
      },
      {{'e', E}});

  // Experts backward (the weights arrive cut to the active experts; the
  // caller places their gradients in the full [E, ...] stacks).
  Value wg = bv.w.lookup("layers.moe.experts.gate_proj");
  Value wu = bv.w.lookup("layers.moe.experts.up_proj");
  Value wd = bv.w.lookup("layers.moe.experts.down_proj");
  Value xe = s("moe.xe"), eg = s("moe.expert_gate"), eu = s("moe.expert_up"),
        eh = s("moe.expert_act");
  Value deh = e.contract("moe.expert_down.bwd_dx", {dey, "ech"}, {wd, "eih"},
                         "eci", act);
  Value dwd = e.contract("moe.expert_down.bwd_dw", {eh, "eci"}, {dey, "ech"},
                         "eih", act);
  SmallVector<Value> d = e.generic(
      "moe.expert_act.bwd", {{deh, "eci"}, {eg, "eci"}, {eu, "eci"}},
      {Out{"eci", act}, Out{"eci", act}}, [&](Ar &a, ValueRange v, IndexFn) {
        Value dGate = a.mul(a.mul(v[0], v[2]), activationGrad(a, v[1]));
        Value dUp = a.mul(v[0], activation(a, v[1]));
        return SmallVector<Value>{dGate, dUp};
      });
  Value dxe = e.contract("moe.expert_gate.bwd_dx", {d[0], "eci"}, {wg, "ehi"},
                         "ech", act);
  dxe = e.contract("moe.expert_up.bwd_dx", {d[1], "eci"}, {wu, "ehi"}, "ech",
                   act, dxe);
  Value dwg = e.contract("moe.expert_gate.bwd_dw", {xe, "ech"}, {d[0], "eci"},
                         "ehi", act);
  Value dwu = e.contract("moe.expert_up.bwd_dw", {xe, "ech"}, {d[1], "eci"},
                         "ehi", act);
  bv.grads["layers.moe.experts.gate_proj"] = dwg;
  bv.grads["layers.moe.experts.up_proj"] = dwu;
  bv.grads["layers.moe.experts.down_proj"] = dwd;

  // Dispatch backward: each token gathers its K slots' gradients.
  Value dxDispatch =
      e.generic1("moe.dispatch.bwd", {}, Out{kHidden, act},
                 [&](Ar &a, ValueRange, IndexFn idx) {
                   Value acc = a.f(act, 0.0);
                   Value token = a.iadd(a.imul(idx('b'), a.i(seq)), idx('s'));
                   for (int64_t j = 0; j < topk; ++j) {
                     Value q = a.iadd(a.imul(token, a.i(topk)), a.i(j));
                     Value expert = a.irem(q, a.i(ea));
                     Value row = a.idiv(q, a.i(ea));
                     Value kept = keptRow(a, row);
                     Value dv = a.extract(dxe, {expert, row, idx('h')});
                     if (kept)
                       dv = a.sel(kept, dv, a.f(act, 0.0));
                     acc = a.add(acc, dv);
                   }
                   return SmallVector<Value>{acc};
                 },
                 {{'b', B}, {'s', S}, {'h', H}});

  // Gates: renormalisation, top-k selection, softmax, router.
  Value dot =
      e.generic1("moe.topk.norm.bwd_sum", {{dgates, "bse"}, {gates, "bse"}},
                 Out{"bs", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[2], a.mul(v[0], v[1]))};
                 });
  Value dchosen =
      e.generic1("moe.topk.norm.bwd",
                 {{dgates, "bse"}, {s("moe.chosen_sum"), "bs"}, {dot, "bs"}},
                 Out{"bse", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.div(a.sub(v[0], v[2]), v[1])};
                 });
  double topK = double(K);
  Value dprobs = e.generic1(
      "moe.topk.select.bwd", {{dchosen, "bse"}, {s("moe.rank"), "bse"}},
      Out{"bse", act}, [&](Ar &a, ValueRange v, IndexFn) {
        Value in = a.fgt(a.f(act, topK), v[1]);
        return SmallVector<Value>{a.sel(in, v[0], a.f(act, 0.0))};
      });
  Value dlogits = softmaxBackward(e, "moe.router_softmax", dprobs,
                                  s("moe.probs"), "bse", "bs");
  return linearBackward(e, "moe.router", "", dlogits, "bse", s("moe.in"),
                        kHidden, "layers.moe.router.weight", "he", "", "", bv,
                        dxDispatch);
}

func::FuncOp TransformerBuilder::buildLayerBackward() {
  SmallVector<WeightSpec> weights = layerWeights();
  SmallVector<ArgSpec> args;
  args.push_back({"layers.bwd.dy", tensorOf({B, S, H}, act), ""});
  for (auto &[name, type] : savedSpecs)
    args.push_back({"layers.saved." + name, type, ""});
  for (const WeightSpec &ws : weights)
    args.push_back({ws.name, tensorOf(layerShape(ws), ws.elem), "weight"});
  if (hasRope())
    args.push_back({"rope.table", tensorOf({S, D / 2, 2, 2}, act), ""});
  func::FuncOp fn = makeFunc("decoder_layer_bwd", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "layers.");

  BackwardValues bv;
  Value dy = fn.getArgument(0);
  unsigned argIndex = 1 + savedSpecs.size();
  for (auto &[key, index] : savedAliases)
    bv.s[key] = fn.getArgument(1 + index);
  for (const WeightSpec &ws : weights)
    bv.w[ws.name] = fn.getArgument(argIndex++);
  if (hasRope())
    bv.rot = fn.getArgument(argIndex++);
  auto ffnBackward = [&](Value d) {
    return cfg.isMoE() ? moeBackward(e, d, bv) : mlpBackward(e, d, bv);
  };
  Value dx;
  if (cfg.parallelResidual) {
    // out = x + attn(norm1(x)) + ffn(norm2(x)): three paths into dx.
    Value dxn2 = ffnBackward(dy);
    Value dPartial = normBackward(e, "norm2", dxn2, dy, bv, "layers.norm2");
    Value dxn1 = attentionBackward(e, dy, bv);
    dx = normBackward(e, "norm1", dxn1, dPartial, bv, "layers.norm1");
  } else {
    Value dxn2 = ffnBackward(dy);
    Value dh = normBackward(e, "norm2", dxn2, dy, bv, "layers.norm2");
    Value dxn1 = attentionBackward(e, dh, bv);
    dx = normBackward(e, "norm1", dxn1, dh, bv, "layers.norm1");
  }
  SmallVector<Value> results{dx};
  for (const WeightSpec &ws : weights) {
    Value g = bv.grads.lookup(ws.name);
    assert(g && "every layer weight has a gradient");
    results.push_back(g);
  }
  finishFunc(fn, e.loc("bwd.return"), results);
  return fn;
}

//===----------------------------------------------------------------------===//
// Embedding, RoPE table, LM head, loss, optimizer: one function each, so the
// entry function holds only plumbing (slices, the layer loops, calls).
//===----------------------------------------------------------------------===//

func::FuncOp TransformerBuilder::buildEmbed() {
  SmallVector<ArgSpec> args{{"tokens", tensorOf({B, S}, i32), ""},
                            {"embed", tensorOf({V, H}, wty), "weight"}};
  if (cfg.learnedPositions)
    args.push_back(
        {"embed.pos", tensorOf({cfg.maxPositions, H}, act), "weight"});
  func::FuncOp fn = makeFunc("embed", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  // A gather of table rows by token id.
  Value table = fn.getArgument(1);
  Value x =
      e.generic1("embed", {{fn.getArgument(0), kTokens}}, Out{kHidden, act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value row = a.extract(table, {a.toIndex(v[0]), idx('h')});
                   return SmallVector<Value>{a.conv(row, act)};
                 },
                 {{'h', H}});
  if (cfg.learnedPositions) {
    Value pos = fn.getArgument(2);
    int64_t offset = positionOffset;
    x = e.generic1(
        "embed.pos", {{x, kHidden}}, Out{kHidden, act},
        [&](Ar &a, ValueRange v, IndexFn idx) {
          Value p = a.extract(pos, {a.iadd(idx('s'), a.i(offset)), idx('h')});
          return SmallVector<Value>{a.add(v[0], p)};
        });
  }
  finishFunc(fn, e.loc("embed"), x);
  return fn;
}

func::FuncOp TransformerBuilder::buildRopeTable() {
  func::FuncOp fn = makeFunc("rope_table", {}, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  // rot[s, j] = R - I for the rotation R = [[cos, -sin], [sin, cos]] of
  // (s + offset) * theta^(-2j/rot) (RoPE accumulates onto its input, see
  // rope()); pairs past the rotary dims (partial rotary) do not rotate: 0.
  double logTheta = std::log(cfg.ropeTheta);
  double rotDims = double(rot);
  int64_t offset = positionOffset, rotPairs = half;
  bool partial = rot < D;
  Value table = e.generic1(
      "rope.table", {}, Out{"sjpr", act},
      [&](Ar &a, ValueRange, IndexFn idx) {
        Value pos = a.toFloat(a.iadd(idx('s'), a.i(offset)), f32);
        Value j = a.toFloat(idx('j'), f32);
        Value invFreq = a.exp(a.mul(j, a.f(f32, -2.0 * logTheta / rotDims)));
        Value angle = a.mul(pos, invFreq);
        Value c = a.cos(angle), sn = a.sin(angle);
        Value diag = a.icmp(arith::CmpIPredicate::eq, idx('p'), idx('r'));
        Value first = a.icmp(arith::CmpIPredicate::eq, idx('p'), a.i(0));
        Value value =
            a.sel(diag, a.sub(c, a.f(f32, 1.0)), a.sel(first, a.neg(sn), sn));
        if (partial) {
          Value rotated =
              a.icmp(arith::CmpIPredicate::ult, idx('j'), a.i(rotPairs));
          value = a.sel(rotated, value, a.f(f32, 0.0));
        }
        return SmallVector<Value>{a.conv(value, act)};
      },
      {{'s', S}, {'j', D / 2}, {'p', 2}, {'r', 2}});
  finishFunc(fn, e.loc("rope.table"), table);
  return fn;
}

/// Arguments of the final norm and the head: x, norm weight (and bias), the
/// head's weight (the embedding table when tied).
static void headArgs(SmallVector<ArgSpec> &args, const ModelConfig &cfg,
                     Type act, Type head) {
  args.push_back({"final_norm.weight", RankedTensorType::get({cfg.hidden}, act),
                  "weight"});
  if (cfg.norm == NormKind::LayerNorm)
    args.push_back({"final_norm.bias", RankedTensorType::get({cfg.hidden}, act),
                    "weight"});
  args.push_back(
      {cfg.tieEmbeddings ? "embed" : "lm_head.weight", head, "weight"});
}

func::FuncOp TransformerBuilder::buildLMHead() {
  SmallVector<ArgSpec> args{{"final_norm.in", tensorOf({B, S, H}, act), ""}};
  Type head = cfg.tieEmbeddings ? tensorOf({V, H}, wty) : tensorOf({H, V}, wty);
  headArgs(args, cfg, act, head);
  func::FuncOp fn = makeFunc("lm_head", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  bool ln = cfg.norm == NormKind::LayerNorm;
  Saved none;
  Value xf = norm(e, "final_norm", fn.getArgument(0), fn.getArgument(1),
                  ln ? fn.getArgument(2) : Value(), none);
  Value logits = linear(e, "lm_head", "", xf, kHidden,
                        fn.getArgument(fn.getNumArguments() - 1), headDims(),
                        "bsv", nullptr, "");
  finishFunc(fn, e.loc("return"), logits);
  return fn;
}

func::FuncOp TransformerBuilder::buildLMHeadLoss() {
  SmallVector<ArgSpec> args{{"final_norm.in", tensorOf({B, S, H}, act), ""},
                            {"labels", tensorOf({B, S}, i32), ""}};
  Type head = cfg.tieEmbeddings ? tensorOf({V, H}, wty) : tensorOf({H, V}, wty);
  headArgs(args, cfg, act, head);
  func::FuncOp fn = makeFunc("lm_head_loss", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  bool ln = cfg.norm == NormKind::LayerNorm;
  Value headW = fn.getArgument(fn.getNumArguments() - 1);
  Saved top;
  top.enabled = true;
  Value xf = norm(e, "final_norm", fn.getArgument(0), fn.getArgument(2),
                  ln ? fn.getArgument(3) : Value(), top);
  Value logits = linear(e, "lm_head", "", xf, kHidden, headW, headDims(), "bsv",
                        nullptr, "");

  // Loss: mean cross-entropy against the labels, and its gradient.
  Value labels = fn.getArgument(1);
  double invN = 1.0 / double(N);
  Value mx =
      e.generic1("loss.max", {{logits, "bsv"}}, Out{kTokens, act, kLowest},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.max(v[1], v[0])};
                 });
  Value ex = e.generic1("loss.exp", {{logits, "bsv"}, {mx, kTokens}},
                        Out{"bsv", act}, [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.exp(a.sub(v[0], v[1]))};
                        });
  Value sum = e.generic1("loss.sum", {{ex, "bsv"}}, Out{kTokens, act, 0.0},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{a.add(v[1], v[0])};
                         });
  // The target's logit as a one-hot reduction over the vocabulary rather
  // than a gather from a captured tensor: every operand is then an operand,
  // so upstream shard-partition can split the loss like any other op (a
  // captured tensor is invisible to its sharding interface).
  Value target =
      e.generic1("loss.target", {{logits, "bsv"}, {labels, kTokens}},
                 Out{kTokens, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value isTarget = a.icmp(arith::CmpIPredicate::eq, idx('v'),
                                           a.toIndex(v[1]));
                   return SmallVector<Value>{
                       a.add(v[2], a.sel(isTarget, v[0], a.f(act, 0.0)))};
                 });
  Value loss =
      e.generic1("loss.nll", {{mx, kTokens}, {sum, kTokens}, {target, kTokens}},
                 Out{"", f32, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   Value nll = a.sub(a.add(a.log(v[1]), v[0]), v[2]);
                   return SmallVector<Value>{
                       a.add(v[3], a.mul(a.conv(nll, f32), a.f(f32, invN)))};
                 });
  Value dlogits =
      e.generic1("loss.bwd", {{ex, "bsv"}, {sum, kTokens}, {labels, kTokens}},
                 Out{"bsv", act}, [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value isTarget = a.icmp(arith::CmpIPredicate::eq, idx('v'),
                                           a.toIndex(v[2]));
                   Value onehot = a.sel(isTarget, a.f(act, 1.0), a.f(act, 0.0));
                   return SmallVector<Value>{
                       a.mul(a.sub(a.div(v[0], v[1]), onehot), a.f(act, invN))};
                 });

  BackwardValues bv;
  bv.w["final_norm.weight"] = fn.getArgument(2);
  if (ln)
    bv.w["final_norm.bias"] = fn.getArgument(3);
  llvm::StringRef headName = cfg.tieEmbeddings ? "embed" : "lm_head.weight";
  bv.w[headName] = headW;
  for (auto &entry : top.keys)
    bv.s[entry.first()] = top.values[entry.second];
  Value dxf = linearBackward(e, "lm_head", "", dlogits, "bsv", xf, kHidden,
                             headName, headDims(), "", "", bv);
  Value dx = normBackward(e, "final_norm", dxf, nullptr, bv, "final_norm");
  SmallVector<Value> results{loss, dx, bv.grads.lookup("final_norm.weight")};
  if (ln)
    results.push_back(bv.grads.lookup("final_norm.bias"));
  results.push_back(bv.grads.lookup(headName));
  finishFunc(fn, e.loc("return"), results);
  return fn;
}

func::FuncOp TransformerBuilder::buildEmbedBackward() {
  SmallVector<ArgSpec> args{{"tokens", tensorOf({B, S}, i32), ""},
                            {"embed.bwd.dy", tensorOf({B, S, H}, act), ""}};
  if (cfg.tieEmbeddings)
    args.push_back({"lm_head.bwd_dw", tensorOf({V, H}, act), ""});
  func::FuncOp fn = makeFunc("embed_bwd", args, /*isPrivate=*/true);
  // Its results are sums over the tokens (the leading dimension of every
  // argument): a device can run it on its own tokens and the shares be
  // summed. Not so when the LM head's gradient is added in (tied).
  if (!cfg.tieEmbeddings)
    fn->setAttr("strata.token_parallel", b.getUnitAttr());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  // A scatter-add: each token's gradient row is added into the table's
  // gradient (on top of the LM head's when tied). Data-dependent rows: this
  // function is the one compute step upstream cannot partition (see
  // docs/workloads.md).
  Value tokens = e.reshape("embed.bwd", fn.getArgument(0), {N});
  Value dEmb = e.reshape("embed.bwd", fn.getArgument(1), {N, H});
  Location embLoc = e.loc("embed.bwd");
  Value tableGrad =
      cfg.tieEmbeddings ? fn.getArgument(2) : e.zeros(embLoc, {V, H}, act);
  Value c0 = arith::ConstantIndexOp::create(b, embLoc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, embLoc, 1);
  // The trip count is read off the tokens' shape, so that the function
  // works unchanged on any share of the tokens.
  Value cN = tensor::DimOp::create(b, embLoc, tokens, 0);
  auto scatter =
      scf::ForOp::create(b, embLoc, c0, cN, c1, ValueRange{tableGrad});
  // The iterations are one scatter-add kernel's threads, not N launches:
  // the estimate prices the loop as a single kernel (docs/cost-model.md).
  scatter->setAttr("strata.single_kernel", b.getUnitAttr());
  {
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(scatter.getBody());
    Value n = scatter.getInductionVar();
    Value acc = scatter.getRegionIterArgs()[0];
    Value id = arith::IndexCastOp::create(
        b, embLoc, b.getIndexType(),
        tensor::ExtractOp::create(b, embLoc, tokens, ValueRange{n}));
    Value row = e.sliceLeading("embed.bwd", acc, id);
    Value dRow = e.sliceLeading("embed.bwd", dEmb, n);
    Value updated =
        e.generic1("embed.bwd", {{dRow, "h"}}, Out{"h", act, std::nullopt, row},
                   [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{a.add(v[1], v[0])};
                   });
    scf::YieldOp::create(b, embLoc,
                         e.insertLeading("embed.bwd", updated, acc, id));
  }
  SmallVector<Value> results{scatter.getResult(0)};
  if (cfg.learnedPositions) {
    Value dPos =
        e.generic1("embed.pos.bwd", {{fn.getArgument(1), kHidden}},
                   Out{"sh", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{a.add(v[1], v[0])};
                   });
    Location l = e.loc("embed.pos.bwd");
    Value full = e.zeros(l, {cfg.maxPositions, H}, act);
    SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0)},
        sizes{b.getIndexAttr(S), b.getIndexAttr(H)},
        strides{b.getIndexAttr(1), b.getIndexAttr(1)};
    results.push_back(tensor::InsertSliceOp::create(b, l, dPos, full, offsets,
                                                    sizes, strides));
  }
  finishFunc(fn, e.loc("return"), results);
  return fn;
}

func::FuncOp TransformerBuilder::buildAdam(ArrayRef<WeightSpec> params) {
  SmallVector<ArgSpec> args;
  for (const WeightSpec &p : params)
    args.push_back({p.name, tensorOf(p.shape, p.elem), "weight"});
  for (const WeightSpec &p : params)
    args.push_back({p.name + ".grad", tensorOf(p.shape, act), ""});
  for (const WeightSpec &p : params)
    args.push_back({p.name + ".adam_m", tensorOf(p.shape, f32), ""});
  for (const WeightSpec &p : params)
    args.push_back({p.name + ".adam_v", tensorOf(p.shape, f32), ""});
  func::FuncOp fn = makeFunc("adam", args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  // Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
  // p -= lr m / (sqrt(v) + eps), bias corrections folded into lr.
  const double beta1 = 0.9, beta2 = 0.95, lr = 3e-4, eps = 1e-8;
  size_t n = params.size();
  SmallVector<Value> newParams, newM, newV;
  for (auto [i, p] : llvm::enumerate(params)) {
    std::string dims = std::string("abcdefgh").substr(0, p.shape.size());
    e.detail = p.name;
    Type pElem = p.elem;
    SmallVector<Value> r = e.generic(
        "optimizer.adam",
        {{fn.getArgument(i), dims},
         {fn.getArgument(n + i), dims},
         {fn.getArgument(2 * n + i), dims},
         {fn.getArgument(3 * n + i), dims}},
        {Out{dims, pElem}, Out{dims, f32}, Out{dims, f32}},
        [&](Ar &a, ValueRange v, IndexFn) {
          Value grad = a.conv(v[1], f32);
          Value m = a.add(a.mul(v[2], a.f(f32, beta1)),
                          a.mul(grad, a.f(f32, 1 - beta1)));
          Value var = a.add(a.mul(v[3], a.f(f32, beta2)),
                            a.mul(a.mul(grad, grad), a.f(f32, 1 - beta2)));
          Value step =
              a.div(a.mul(m, a.f(f32, lr)), a.add(a.sqrt(var), a.f(f32, eps)));
          Value updated = a.sub(a.conv(v[0], f32), step);
          return SmallVector<Value>{a.conv(updated, pElem), m, var};
        });
    e.detail.clear();
    newParams.push_back(r[0]);
    newM.push_back(r[1]);
    newV.push_back(r[2]);
  }
  SmallVector<Value> results(newParams);
  results.append(newM);
  results.append(newV);
  finishFunc(fn, e.loc("return"), results);
  return fn;
}

//===----------------------------------------------------------------------===//
// Entry function: plumbing only
//===----------------------------------------------------------------------===//

void TransformerBuilder::buildEntry(func::FuncOp layerFwd,
                                    func::FuncOp layerBwd) {
  SmallVector<WeightSpec> lw = layerWeights();
  SmallVector<WeightSpec> params = parameters();
  func::FuncOp embedFn = buildEmbed();
  func::FuncOp ropeFn = hasRope() ? buildRopeTable() : nullptr;

  SmallVector<ArgSpec> args;
  args.push_back({"tokens", tensorOf({B, S}, i32), "input"});
  if (training())
    args.push_back({"labels", tensorOf({B, S}, i32), "input"});
  unsigned firstParam = args.size();
  for (const WeightSpec &p : params)
    args.push_back({p.name, tensorOf(p.shape, p.elem), "weight"});
  SmallVector<int64_t> kCacheShape{L, B, T, KVH};
  llvm::append_range(kCacheShape, qkHeadShape());
  if (decoding()) {
    args.push_back({"k_cache", tensorOf(kCacheShape, act), "kv_cache"});
    args.push_back({"v_cache", tensorOf({L, B, T, KVH, D}, act), "kv_cache"});
  }
  unsigned firstMoment = args.size();
  if (training()) {
    for (const WeightSpec &p : params)
      args.push_back(
          {p.name + ".adam_m", tensorOf(p.shape, f32), "optimizer_state"});
    for (const WeightSpec &p : params)
      args.push_back(
          {p.name + ".adam_v", tensorOf(p.shape, f32), "optimizer_state"});
  }
  func::FuncOp fn = makeFunc(entryFunctionName(opts.mode), args, false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "");
  llvm::StringMap<Value> param;
  for (auto [i, p] : llvm::enumerate(params))
    param[p.name] = fn.getArgument(firstParam + i);
  auto call = [&](func::FuncOp callee, llvm::StringRef name,
                  ValueRange operands) {
    return func::CallOp::create(b, e.loc(name), callee, operands);
  };

  SmallVector<Value> embedArgs{fn.getArgument(0), param.lookup("embed")};
  if (cfg.learnedPositions)
    embedArgs.push_back(param.lookup("embed.pos"));
  Value x = call(embedFn, "embed", embedArgs).getResult(0);
  Value rotTable;
  if (ropeFn)
    rotTable = call(ropeFn, "rope.table", {}).getResult(0);

  // The layer loop: static bounds 0..L, weights sliced from the stacks.
  Location loopLoc = e.loc("layers");
  Value c0 = arith::ConstantIndexOp::create(b, loopLoc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loopLoc, 1);
  Value cL = arith::ConstantIndexOp::create(b, loopLoc, L);
  SmallVector<Value> inits{x};
  auto stackOf = [&](Type t, llvm::StringRef name) -> Value {
    auto type = cast<RankedTensorType>(t);
    SmallVector<int64_t> shape{L};
    shape.append(type.getShape().begin(), type.getShape().end());
    return tensor::EmptyOp::create(b, e.loc(name), shape,
                                   type.getElementType());
  };
  if (decoding()) {
    inits.push_back(stackOf(layerFwd.getResultTypes()[1], "layers.kv_cache"));
    inits.push_back(stackOf(layerFwd.getResultTypes()[2], "layers.kv_cache"));
  }
  if (training())
    for (auto &[name, type] : savedSpecs)
      inits.push_back(stackOf(type, "layers.save"));
  auto sliceWeight = [&](const WeightSpec &ws, Value l) {
    return e.sliceLeading("layers", param.lookup(ws.name), l, layerShape(ws));
  };
  auto loop = scf::ForOp::create(b, loopLoc, c0, cL, c1, inits);
  {
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value l = loop.getInductionVar();
    ValueRange iters = loop.getRegionIterArgs();
    SmallVector<Value> callArgs{iters[0]};
    for (const WeightSpec &ws : lw)
      callArgs.push_back(sliceWeight(ws, l));
    if (rotTable)
      callArgs.push_back(rotTable);
    if (decoding()) {
      unsigned cacheArg = firstParam + params.size();
      callArgs.push_back(
          e.sliceLeading("layers.kv_cache", fn.getArgument(cacheArg), l));
      callArgs.push_back(
          e.sliceLeading("layers.kv_cache", fn.getArgument(cacheArg + 1), l));
    }
    auto layerCall = func::CallOp::create(b, loopLoc, layerFwd, callArgs);
    SmallVector<Value> yields{layerCall.getResult(0)};
    for (unsigned i = 1; i < iters.size(); ++i)
      yields.push_back(
          e.insertLeading(decoding() ? "layers.kv_cache" : "layers.save",
                          layerCall.getResult(i), iters[i], l));
    scf::YieldOp::create(b, loopLoc, yields);
  }

  SmallVector<Value> headOperands{loop.getResult(0),
                                  param.lookup("final_norm.weight")};
  if (cfg.norm == NormKind::LayerNorm)
    headOperands.push_back(param.lookup("final_norm.bias"));
  headOperands.push_back(cfg.tieEmbeddings ? param.lookup("embed")
                                           : param.lookup("lm_head.weight"));
  if (!training()) {
    Value logits = call(buildLMHead(), "lm_head", headOperands).getResult(0);
    SmallVector<Value> results{logits};
    if (decoding()) {
      results.push_back(loop.getResult(1));
      results.push_back(loop.getResult(2));
    }
    finishFunc(fn, e.loc("return"), results);
    return;
  }

  // Loss and the head's backward.
  headOperands.insert(headOperands.begin() + 1, fn.getArgument(1));
  auto head = call(buildLMHeadLoss(), "lm_head", headOperands);
  llvm::StringMap<Value> grads;
  unsigned r = 2;
  Value loss = head.getResult(0), dx = head.getResult(1);
  grads["final_norm.weight"] = head.getResult(r++);
  if (cfg.norm == NormKind::LayerNorm)
    grads["final_norm.bias"] = head.getResult(r++);
  Value headGrad = head.getResult(r++);
  if (!cfg.tieEmbeddings)
    grads["lm_head.weight"] = headGrad;

  // Backward layer loop, last layer first.
  Location bwdLoc = e.loc("layers.bwd");
  Value cLast = arith::ConstantIndexOp::create(b, bwdLoc, L - 1);
  SmallVector<Value> bwdInits{dx};
  for (const WeightSpec &ws : lw) {
    Type gradType = tensorOf(ws.shape, act);
    if (layerShape(ws) == ws.shape) {
      bwdInits.push_back(stackOf(gradType, "layers.bwd"));
      continue;
    }
    // Experts that received no tokens get zero gradients.
    SmallVector<int64_t> stacked{L};
    stacked.append(ws.shape.begin(), ws.shape.end());
    bwdInits.push_back(e.zeros(e.loc("layers.bwd"), stacked, act));
  }
  auto bwdLoop = scf::ForOp::create(b, bwdLoc, c0, cL, c1, bwdInits);
  {
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(bwdLoop.getBody());
    Value l =
        arith::SubIOp::create(b, bwdLoc, cLast, bwdLoop.getInductionVar());
    ValueRange iters = bwdLoop.getRegionIterArgs();
    SmallVector<Value> callArgs{iters[0]};
    for (unsigned i = 0; i < savedSpecs.size(); ++i)
      callArgs.push_back(
          e.sliceLeading("layers.bwd", loop.getResult(1 + i), l));
    for (const WeightSpec &ws : lw)
      callArgs.push_back(sliceWeight(ws, l));
    if (rotTable)
      callArgs.push_back(rotTable);
    auto bwdCall = func::CallOp::create(b, bwdLoc, layerBwd, callArgs);
    SmallVector<Value> yields{bwdCall.getResult(0)};
    for (unsigned i = 1; i < iters.size(); ++i)
      yields.push_back(
          e.insertLeading("layers.bwd", bwdCall.getResult(i), iters[i], l));
    scf::YieldOp::create(b, bwdLoc, yields);
  }
  for (auto [i, ws] : llvm::enumerate(lw))
    grads[ws.name] = bwdLoop.getResult(1 + i);

  // Embedding backward.
  SmallVector<Value> embOperands{fn.getArgument(0), bwdLoop.getResult(0)};
  if (cfg.tieEmbeddings)
    embOperands.push_back(headGrad);
  auto embGrads = call(buildEmbedBackward(), "embed.bwd", embOperands);
  grads["embed"] = embGrads.getResult(0);
  if (cfg.learnedPositions)
    grads["embed.pos"] = embGrads.getResult(1);

  // Adam over every parameter.
  SmallVector<Value> adamOperands;
  for (const WeightSpec &p : params)
    adamOperands.push_back(param.lookup(p.name));
  for (const WeightSpec &p : params) {
    Value g = grads.lookup(p.name);
    assert(g && "every parameter has a gradient");
    adamOperands.push_back(g);
  }
  for (unsigned i = 0; i < 2 * params.size(); ++i)
    adamOperands.push_back(fn.getArgument(firstMoment + i));
  auto adam = call(buildAdam(params), "optimizer.adam", adamOperands);
  SmallVector<Value> results{loss};
  llvm::append_range(results, adam.getResults());
  finishFunc(fn, e.loc("return"), results);
}

OwningOpRef<ModuleOp> TransformerBuilder::build() {
  Location fileLoc = cfg.path.empty()
                         ? Location(UnknownLoc::get(ctx))
                         : Location(FileLineColLoc::get(ctx, cfg.path, 1, 1));
  // Defaults: 2048-token prompts and caches, one decoded token; models with
  // learned positions (gpt2) cap the defaults at their position count.
  seqLen = opts.seq ? *opts.seq : (decoding() ? 1 : 2048);
  if (!opts.seq && cfg.learnedPositions)
    seqLen = std::min(seqLen, cfg.maxPositions);
  kvLen = decoding() ? (opts.kvLen ? *opts.kvLen : 2048) : 0;
  if (decoding() && !opts.kvLen && cfg.learnedPositions)
    kvLen = std::max<int64_t>(0, std::min(kvLen, cfg.maxPositions - seqLen));
  if (opts.batch <= 0 || seqLen <= 0 || kvLen < 0) {
    emitError(fileLoc) << "batch and seq must be positive and kv-len "
                          "non-negative (batch "
                       << opts.batch << ", seq " << seqLen << ", kv-len "
                       << kvLen << ")";
    return nullptr;
  }
  if (opts.vocabMultiple < 0) {
    emitError(fileLoc) << "the vocabulary padding multiple must be 0 (the "
                          "default), 1 (none) or more, got "
                       << opts.vocabMultiple;
    return nullptr;
  }
  if (!(opts.moeCapacityFactor > 0)) {
    emitError(fileLoc) << "the MoE capacity factor must be positive";
    return nullptr;
  }
  if (failed(validateModelConfig(cfg, fileLoc)))
    return nullptr;
  if (training() && opts.dtype == WorkloadDType::fp8 && cfg.isMoE()) {
    emitError(fileLoc) << "fp8 training of MoE experts is not modelled (the "
                          "experts' backward reads bf16 gradients); use "
                          "--dtype=bf16 for '"
                       << cfg.name << "'";
    return nullptr;
  }
  int64_t lastPosition = kvLen + seqLen;
  if (cfg.learnedPositions && lastPosition > cfg.maxPositions) {
    emitError(fileLoc) << "model '" << cfg.name << "' has " << cfg.maxPositions
                       << " learned positions, but the workload needs "
                       << lastPosition;
    return nullptr;
  }

  MLIRContext &context = *ctx;
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect, scf::SCFDialect,
                      tensor::TensorDialect>();
  module = ModuleOp::create(fileLoc);
  OwningOpRef<ModuleOp> owned(module);
  initShapes();

  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  SmallVector<NamedAttribute> fields{
      b.getNamedAttr("name", b.getStringAttr(cfg.name)),
      b.getNamedAttr("model_type", b.getStringAttr(cfg.modelType)),
      b.getNamedAttr("mode", b.getStringAttr(stringifyWorkloadMode(opts.mode))),
      b.getNamedAttr("batch", i64(B)),
      b.getNamedAttr("seq", i64(S)),
      b.getNamedAttr("kv_len", i64(kvLen)),
      b.getNamedAttr("dtype",
                     b.getStringAttr(stringifyWorkloadDType(opts.dtype))),
      b.getNamedAttr("layers", i64(L)),
      b.getNamedAttr("hidden", i64(H)),
      b.getNamedAttr("intermediate", i64(I)),
      b.getNamedAttr("heads", i64(NH)),
      b.getNamedAttr("kv_heads", i64(KVH)),
      b.getNamedAttr("head_dim", i64(D)),
      b.getNamedAttr("vocab", i64(cfg.vocab)),
      b.getNamedAttr("experts", i64(E)),
      b.getNamedAttr("top_k", i64(K)),
      b.getNamedAttr("expert_rows", i64(expertRows)),
      b.getNamedAttr("moe_capacity_factor",
                     b.getF64FloatAttr(opts.moeCapacityFactor)),
      b.getNamedAttr("tokens", i64(N))};
  // The vocabulary as built, when padding changed it (Megatron-LM pads it
  // to a multiple of 128 x tp): embedding rows, LM-head columns, logits.
  if (V != cfg.vocab)
    fields.push_back(b.getNamedAttr("padded_vocab", i64(V)));
  module->setAttr("strata.model", b.getDictionaryAttr(fields));

  func::FuncOp forward = buildLayerForward();
  func::FuncOp backward = training() ? buildLayerBackward() : nullptr;
  buildEntry(forward, backward);
  if (failed(verify(module))) {
    emitError(fileLoc) << "internal error: the generated module for '"
                       << cfg.name << "' does not verify";
    return nullptr;
  }
  return owned;
}

} // namespace

int64_t paddedVocab(const ModelConfig &config, const WorkloadOptions &options) {
  int64_t multiple = options.vocabMultiple;
  if (multiple == 0)
    multiple = options.mode == WorkloadMode::Train ? 128 : 1;
  if (multiple <= 1)
    return config.vocab;
  return (config.vocab + multiple - 1) / multiple * multiple;
}

OwningOpRef<ModuleOp> buildTransformerModule(const ModelConfig &config,
                                             const WorkloadOptions &options,
                                             MLIRContext *ctx) {
  return TransformerBuilder(config, options, ctx).build();
}

} // namespace strata::workload
