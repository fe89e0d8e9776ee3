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

  /// Slice `index` of the leading dimension, with that dimension dropped.
  Value sliceLeading(llvm::StringRef name, Value stacked, Value index) {
    auto type = cast<RankedTensorType>(stacked.getType());
    auto resultType = RankedTensorType::get(type.getShape().drop_front(),
                                            type.getElementType());
    SmallVector<OpFoldResult> o{index}, s{b.getIndexAttr(1)},
        st(type.getRank(), b.getIndexAttr(1));
    for (int64_t d : type.getShape().drop_front()) {
      o.push_back(b.getIndexAttr(0));
      s.push_back(b.getIndexAttr(d));
    }
    return tensor::ExtractSliceOp::create(b, loc(name), resultType, stacked, o,
                                          s, st);
  }

  /// Writes `value` as slice `index` of the leading dimension of `stacked`.
  Value insertLeading(llvm::StringRef name, Value value, Value stacked,
                      Value index) {
    auto type = cast<RankedTensorType>(stacked.getType());
    SmallVector<OpFoldResult> o{index}, s{b.getIndexAttr(1)},
        st(type.getRank(), b.getIndexAttr(1));
    for (int64_t d : type.getShape().drop_front()) {
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
};

/// An entry-function argument.
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

  // Functions.
  func::FuncOp makeFunc(llvm::StringRef name, ArrayRef<ArgSpec> args,
                        bool isPrivate);
  void finishFunc(func::FuncOp fn, Location l, ValueRange results);
  func::FuncOp buildLayerForward();
  func::FuncOp buildLayerBackward();
  void buildEntry(func::FuncOp layerFwd, func::FuncOp layerBwd);

  // Layer pieces (forward). `w` maps weight names to values.
  struct LayerValues {
    llvm::StringMap<Value> w;
    Value cos, sin;       // RoPE tables [S, rot/2]
    Value kCache, vCache; // decode: [B, KVH, kvLen, D]
    Value kNew, vNew;     // decode: this step's [B, KVH, S, D]
    Saved saved;
  };
  Value norm(Emitter &e, llvm::StringRef block, Value x, Value gamma,
             Value beta, Saved &saved);
  /// x[n, i] * w (laid out as `wDims`, "io" or "oi") + bias[o].
  Value linear(Emitter &e, llvm::StringRef name, llvm::StringRef biasName,
               Value x, Value w, Value bias, llvm::StringRef wDims = "io");
  Value attention(Emitter &e, Value xn, LayerValues &lv);
  Value rope(Emitter &e, llvm::StringRef name, Value x4, Value cos, Value sin);
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
    Value cos, sin;
  };
  Value normBackward(Emitter &e, llvm::StringRef block, Value dy,
                     Value residualGrad, BackwardValues &bv,
                     llvm::StringRef weightPrefix);
  Value linearBackward(Emitter &e, llvm::StringRef name,
                       llvm::StringRef biasName, Value dy, Value x,
                       llvm::StringRef weight, llvm::StringRef bias,
                       BackwardValues &bv, Value dxAcc = nullptr);
  Value attentionBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value ropeBackward(Emitter &e, llvm::StringRef name, Value d, Value cos,
                     Value sin, int64_t heads);
  Value mlpBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value moeBackward(Emitter &e, Value dOut, BackwardValues &bv);
  Value softmaxBackward(Emitter &e, llvm::StringRef name, Value dp, Value p,
                        llvm::StringRef dims, llvm::StringRef reducedDims);

  /// The per-layer weights, in argument order.
  SmallVector<WeightSpec> layerWeights() const;
  bool hasRope() const { return !cfg.learnedPositions; }
  bool training() const { return opts.mode == WorkloadMode::Train; }
  bool decoding() const { return opts.mode == WorkloadMode::Decode; }

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
  V = cfg.vocab;
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
  auto add = [&](std::string name, ArrayRef<int64_t> shape, bool matmul) {
    ws.push_back({std::move(name), SmallVector<int64_t>(shape), wElem(matmul)});
  };
  bool ln = cfg.norm == NormKind::LayerNorm;
  add("layers.norm1.weight", {H}, false);
  if (ln)
    add("layers.norm1.bias", {H}, false);
  add("layers.attn.q_proj.weight", {H, NH * D}, true);
  if (cfg.qkvBias)
    add("layers.attn.q_proj.bias", {NH * D}, false);
  add("layers.attn.k_proj.weight", {H, KVH * D}, true);
  if (cfg.qkvBias)
    add("layers.attn.k_proj.bias", {KVH * D}, false);
  add("layers.attn.v_proj.weight", {H, KVH * D}, true);
  if (cfg.qkvBias)
    add("layers.attn.v_proj.bias", {KVH * D}, false);
  add("layers.attn.o_proj.weight", {NH * D, H}, true);
  if (cfg.outBias)
    add("layers.attn.o_proj.bias", {H}, false);
  add("layers.norm2.weight", {H}, false);
  if (ln)
    add("layers.norm2.bias", {H}, false);
  if (cfg.isMoE()) {
    add("layers.moe.router.weight", {H, E}, true);
    add("layers.moe.experts.gate_proj", {E, H, I}, true);
    add("layers.moe.experts.up_proj", {E, H, I}, true);
    add("layers.moe.experts.down_proj", {E, I, H}, true);
  } else if (cfg.gatedMLP) {
    add("layers.mlp.gate_proj.weight", {H, I}, true);
    if (cfg.mlpBias)
      add("layers.mlp.gate_proj.bias", {I}, false);
    add("layers.mlp.up_proj.weight", {H, I}, true);
    if (cfg.mlpBias)
      add("layers.mlp.up_proj.bias", {I}, false);
    add("layers.mlp.down_proj.weight", {I, H}, true);
    if (cfg.mlpBias)
      add("layers.mlp.down_proj.bias", {H}, false);
  } else {
    add("layers.mlp.fc.weight", {H, I}, true);
    if (cfg.mlpBias)
      add("layers.mlp.fc.bias", {I}, false);
    add("layers.mlp.proj.weight", {I, H}, true);
    if (cfg.mlpBias)
      add("layers.mlp.proj.bias", {H}, false);
  }
  return ws;
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
        e.generic1(p + ".sumsq", {{x, "nh"}}, Out{"n", act, 0.0},
                   [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{a.add(v[1], a.mul(v[0], v[0]))};
                   });
    Value rstd = e.generic1(p + ".rstd", {{sumsq, "n"}}, Out{"n", act},
                            [&](Ar &a, ValueRange v, IndexFn) {
                              Value mean = a.mul(v[0], a.f(act, invH));
                              return SmallVector<Value>{
                                  a.rsqrt(a.add(mean, a.f(act, eps)))};
                            });
    saved.save(p + ".rstd", rstd);
    return e.generic1(p + ".scale", {{x, "nh"}, {rstd, "n"}, {gamma, "h"}},
                      Out{"nh", act}, [&](Ar &a, ValueRange v, IndexFn) {
                        return SmallVector<Value>{
                            a.mul(a.mul(v[0], v[1]), v[2])};
                      });
  }
  Value sum = e.generic1(p + ".mean", {{x, "nh"}}, Out{"n", act, 0.0},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{a.add(v[1], v[0])};
                         });
  Value var = e.generic1(
      p + ".var", {{x, "nh"}, {sum, "n"}}, Out{"n", act, 0.0},
      [&](Ar &a, ValueRange v, IndexFn) {
        Value centered = a.sub(v[0], a.mul(v[1], a.f(act, invH)));
        return SmallVector<Value>{a.add(v[2], a.mul(centered, centered))};
      });
  Value rstd = e.generic1(p + ".rstd", {{var, "n"}}, Out{"n", act},
                          [&](Ar &a, ValueRange v, IndexFn) {
                            Value variance = a.mul(v[0], a.f(act, invH));
                            return SmallVector<Value>{
                                a.rsqrt(a.add(variance, a.f(act, eps)))};
                          });
  saved.save(p + ".sum", sum);
  saved.save(p + ".rstd", rstd);
  return e.generic1(
      p + ".scale",
      {{x, "nh"}, {sum, "n"}, {rstd, "n"}, {gamma, "h"}, {beta, "h"}},
      Out{"nh", act}, [&](Ar &a, ValueRange v, IndexFn) {
        Value centered = a.sub(v[0], a.mul(v[1], a.f(act, invH)));
        return SmallVector<Value>{
            a.add(a.mul(a.mul(centered, v[2]), v[3]), v[4])};
      });
}

Value TransformerBuilder::linear(Emitter &e, llvm::StringRef name,
                                 llvm::StringRef biasName, Value x, Value w,
                                 Value bias, llvm::StringRef wDims) {
  Type wElemTy = cast<RankedTensorType>(w.getType()).getElementType();
  Value in = x;
  if (wElemTy != act) {
    // fp8: the activation is quantised once and shared by its matmuls.
    Value &q = quantized[x];
    if (!q) {
      std::string block = name.rsplit('.').first.str();
      q = e.generic1(block + ".quant", {{x, "no"}}, Out{"no", wElemTy},
                     [&](Ar &a, ValueRange v, IndexFn) {
                       return SmallVector<Value>{a.conv(v[0], wElemTy)};
                     });
    }
    in = q;
  }
  Value y = e.contract(name, {in, "ni"}, {w, wDims}, "no", act);
  if (!bias)
    return y;
  return e.generic1(biasName, {{y, "no"}, {bias, "o"}}, Out{"no", act},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.add(v[0], v[1])};
                    });
}

Value TransformerBuilder::rope(Emitter &e, llvm::StringRef name, Value x4,
                               Value cos, Value sin) {
  // x4: [B, S, heads, D] -> [B, heads, S, D]; the first `rot` dims of each
  // head rotate as pairs (j, j + rot/2), the rest pass through.
  int64_t heads = shapeOf(x4)[2];
  Value x1 = e.slice(name, x4, {0, 0, 0, 0}, {B, S, heads, half});
  Value x2 = e.slice(name, x4, {0, 0, 0, half}, {B, S, heads, half});
  Value rotated =
      e.generic1(name, {{x1, "bsqj"}, {x2, "bsqj"}, {cos, "sj"}, {sin, "sj"}},
                 Out{"bqspj", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value first = a.sub(a.mul(v[0], v[2]), a.mul(v[1], v[3]));
                   Value second = a.add(a.mul(v[1], v[2]), a.mul(v[0], v[3]));
                   Value isFirst =
                       a.icmp(arith::CmpIPredicate::eq, idx('p'), a.i(0));
                   return SmallVector<Value>{a.sel(isFirst, first, second)};
                 },
                 {{'p', 2}});
  rotated = e.reshape(name, rotated, {B, heads, S, rot});
  if (rot == D)
    return rotated;
  Value pass = e.slice(name, x4, {0, 0, 0, rot}, {B, S, heads, D - rot});
  pass = e.permute(name.str() + "_pass", pass, "bsqd", "bqsd");
  return tensor::ConcatOp::create(b, e.loc(name), 3, ValueRange{rotated, pass});
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
  lv.saved.save("attn.in", xn);
  Value q =
      linear(e, "attn.q_proj", "attn.q_bias", xn,
             w("layers.attn.q_proj.weight"), w("layers.attn.q_proj.bias"));
  Value k =
      linear(e, "attn.k_proj", "attn.k_bias", xn,
             w("layers.attn.k_proj.weight"), w("layers.attn.k_proj.bias"));
  Value v =
      linear(e, "attn.v_proj", "attn.v_bias", xn,
             w("layers.attn.v_proj.weight"), w("layers.attn.v_proj.bias"));
  Value q4 = e.reshape("attn.q_proj", q, {B, S, NH, D});
  Value k4 = e.reshape("attn.k_proj", k, {B, S, KVH, D});
  Value v4 = e.reshape("attn.v_proj", v, {B, S, KVH, D});
  // Heads-major layouts [B, heads, S, D]: RoPE (or a transpose without it)
  // writes them; V is transposed.
  Value qh = hasRope() ? rope(e, "attn.rope_q", q4, lv.cos, lv.sin)
                       : e.permute("attn.q_transpose", q4, "bsqd", "bqsd");
  Value kh = hasRope() ? rope(e, "attn.rope_k", k4, lv.cos, lv.sin)
                       : e.permute("attn.k_transpose", k4, "bskd", "bksd");
  Value vh = e.permute("attn.v_transpose", v4, "bskd", "bksd");
  Value keys = kh, values = vh;
  if (decoding()) {
    // Append this step's K/V to the cache: attention spans kvLen + S keys.
    lv.kNew = kh;
    lv.vNew = vh;
    keys = tensor::ConcatOp::create(b, e.loc("attn.kv_append"), 2,
                                    ValueRange{lv.kCache, kh});
    values = tensor::ConcatOp::create(b, e.loc("attn.kv_append"), 2,
                                      ValueRange{lv.vCache, vh});
  }
  lv.saved.save("attn.q", qh);
  lv.saved.save("attn.k", keys);
  lv.saved.save("attn.v", values);
  // Grouped-query attention: query head q = k * G + g reads kv head k; the
  // broadcast over g is in the indexing maps, K/V are never copied.
  Value q5 = e.reshape("attn.qk_matmul", qh, {B, KVH, G, S, D});
  Value scores =
      e.contract("attn.qk_matmul", {q5, "bkgsd"}, {keys, "bktd"}, "bkgst", act);
  scores = e.reshape("attn.qk_matmul", scores, {B, NH, S, T});
  double scale = 1.0 / std::sqrt(double(D));
  int64_t offset = positionOffset;
  // Causal mask over the full square: key t is visible to query s when
  // t <= s + offset.
  Value masked = e.generic1(
      "attn.mask", {{scores, "bqst"}}, Out{"bqst", act},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value visible = a.icmp(arith::CmpIPredicate::ule, idx('t'),
                               a.iadd(idx('s'), a.i(offset)));
        return SmallVector<Value>{
            a.sel(visible, a.mul(v[0], a.f(act, scale)), a.f(act, kLowest))};
      });
  Value probs = softmaxLastDim(e, "attn.softmax", masked, "bqst", "bqs");
  lv.saved.save("attn.probs", probs);
  Value p5 = e.reshape("attn.av_matmul", probs, {B, KVH, G, S, T});
  Value ctxv = e.contract("attn.av_matmul", {p5, "bkgst"}, {values, "bktd"},
                          "bskgd", act);
  Value ctx2 = e.reshape("attn.av_matmul", ctxv, {N, NH * D});
  lv.saved.save("attn.ctx", ctx2);
  return linear(e, "attn.o_proj", "attn.o_bias", ctx2,
                w("layers.attn.o_proj.weight"), w("layers.attn.o_proj.bias"));
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
    Value gate = linear(e, "mlp.gate_proj", "mlp.gate_bias", xn,
                        w("layers.mlp.gate_proj.weight"),
                        w("layers.mlp.gate_proj.bias"));
    Value up =
        linear(e, "mlp.up_proj", "mlp.up_bias", xn,
               w("layers.mlp.up_proj.weight"), w("layers.mlp.up_proj.bias"));
    Value h = e.generic1("mlp.act", {{gate, "ni"}, {up, "ni"}}, Out{"ni", act},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{
                               a.mul(activation(a, v[0]), v[1])};
                         });
    lv.saved.save("mlp.gate", gate);
    lv.saved.save("mlp.up", up);
    lv.saved.save("mlp.act", h);
    return linear(e, "mlp.down_proj", "mlp.down_bias", h,
                  w("layers.mlp.down_proj.weight"),
                  w("layers.mlp.down_proj.bias"));
  }
  Value fc = linear(e, "mlp.fc", "mlp.fc_bias", xn, w("layers.mlp.fc.weight"),
                    w("layers.mlp.fc.bias"));
  Value h = e.generic1("mlp.act", {{fc, "ni"}}, Out{"ni", act},
                       [&](Ar &a, ValueRange v, IndexFn) {
                         return SmallVector<Value>{activation(a, v[0])};
                       });
  lv.saved.save("mlp.fc", fc);
  lv.saved.save("mlp.act", h);
  return linear(e, "mlp.proj", "mlp.proj_bias", h, w("layers.mlp.proj.weight"),
                w("layers.mlp.proj.bias"));
}

Value TransformerBuilder::moe(Emitter &e, Value xn, LayerValues &lv) {
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  lv.saved.save("moe.in", xn);
  Value logits =
      linear(e, "moe.router", "", xn, w("layers.moe.router.weight"), nullptr);
  Value probs = softmaxLastDim(e, "moe.router_softmax", logits, "ne", "n");
  // Exact top-k by rank counting: expert e is chosen when fewer than K
  // experts have a larger probability.
  Value rank =
      e.generic1("moe.topk.rank", {{probs, "ne"}, {probs, "nf"}},
                 Out{"ne", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   Value larger = a.fgt(v[1], v[0]);
                   return SmallVector<Value>{a.add(
                       v[2], a.sel(larger, a.f(act, 1.0), a.f(act, 0.0)))};
                 });
  double topK = double(K);
  Value chosen =
      e.generic1("moe.topk.select", {{probs, "ne"}, {rank, "ne"}},
                 Out{"ne", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   Value in = a.fgt(a.f(act, topK), v[1]);
                   return SmallVector<Value>{a.sel(in, v[0], a.f(act, 0.0))};
                 });
  Value chosenSum =
      e.generic1("moe.topk.sum", {{chosen, "ne"}}, Out{"n", act, 0.0},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[1], v[0])};
                 });
  Value gates = e.generic1("moe.topk.norm", {{chosen, "ne"}, {chosenSum, "n"}},
                           Out{"ne", act}, [&](Ar &a, ValueRange v, IndexFn) {
                             return SmallVector<Value>{a.div(v[0], v[1])};
                           });
  lv.saved.save("moe.probs", probs);
  lv.saved.save("moe.rank", rank);
  lv.saved.save("moe.chosen_sum", chosenSum);
  lv.saved.save("moe.gates", gates);

  // Dispatch: slot (e, c) of the [experts, rows, hidden] buffer holds
  // choice q = c * E' + e, i.e. token q / K. The round-robin assignment keeps
  // every expert's load at the expected share (see docs/workloads.md).
  int64_t ea = activeExperts, rows = expertRows, tokens = N, topk = K;
  Value xe =
      e.generic1("moe.dispatch", {}, Out{"ech", act},
                 [&](Ar &a, ValueRange, IndexFn idx) {
                   Value q = a.iadd(a.imul(idx('c'), a.i(ea)), idx('e'));
                   Value token = a.irem(a.idiv(q, a.i(topk)), a.i(tokens));
                   return SmallVector<Value>{a.extract(xn, {token, idx('h')})};
                 },
                 {{'e', ea}, {'c', rows}, {'h', H}});
  auto experts = [&](llvm::StringRef name, ArrayRef<int64_t> perExpert) {
    Value all = w(name);
    SmallVector<int64_t> sizes{ea};
    sizes.append(perExpert.begin(), perExpert.end());
    return e.slice("moe.experts", all, {0, 0, 0}, sizes);
  };
  Value wg = experts("layers.moe.experts.gate_proj", {H, I});
  Value wu = experts("layers.moe.experts.up_proj", {H, I});
  Value wd = experts("layers.moe.experts.down_proj", {I, H});
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
  return e.generic1("moe.combine", {}, Out{"nh", act},
                    [&](Ar &a, ValueRange, IndexFn idx) {
                      Value acc = a.f(act, 0.0);
                      for (int64_t j = 0; j < topk; ++j) {
                        Value q = a.iadd(a.imul(idx('n'), a.i(topk)), a.i(j));
                        Value expert = a.irem(q, a.i(ea));
                        Value row = a.idiv(q, a.i(ea));
                        Value kept = keptRow(a, row);
                        Value gate = a.extract(gates, {idx('n'), expert});
                        Value y = a.extract(ey, {expert, row, idx('h')});
                        Value term = a.mul(gate, y);
                        if (kept)
                          term = a.sel(kept, term, a.f(act, 0.0));
                        acc = a.add(acc, term);
                      }
                      return SmallVector<Value>{acc};
                    },
                    {{'n', N}, {'h', H}});
}

//===----------------------------------------------------------------------===//
// Layer functions
//===----------------------------------------------------------------------===//

func::FuncOp TransformerBuilder::buildLayerForward() {
  SmallVector<WeightSpec> weights = layerWeights();
  SmallVector<ArgSpec> args;
  args.push_back({"layers.in", tensorOf({N, H}, act), ""});
  for (const WeightSpec &ws : weights)
    args.push_back({ws.name, tensorOf(ws.shape, ws.elem), ""});
  if (hasRope()) {
    args.push_back({"rope.cos", tensorOf({S, half}, act), ""});
    args.push_back({"rope.sin", tensorOf({S, half}, act), ""});
  }
  if (decoding()) {
    args.push_back({"layers.k_cache", tensorOf({B, KVH, kvLen, D}, act), ""});
    args.push_back({"layers.v_cache", tensorOf({B, KVH, kvLen, D}, act), ""});
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
  if (hasRope()) {
    lv.cos = fn.getArgument(argIndex++);
    lv.sin = fn.getArgument(argIndex++);
  }
  if (decoding()) {
    lv.kCache = fn.getArgument(argIndex++);
    lv.vCache = fn.getArgument(argIndex++);
  }
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };

  auto residual = [&](llvm::StringRef name, Value lhs, Value rhs) {
    return e.generic1(name, {{lhs, "nh"}, {rhs, "nh"}}, Out{"nh", act},
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
  SmallVector<In> dxInputs{{dy, "nh"}, {x, "nh"}, {rstd, "n"}, {gamma, "h"}};
  if (cfg.norm == NormKind::RMSNorm) {
    bv.grads[wp + ".weight"] =
        e.generic1(p + ".bwd_dw", {{dy, "nh"}, {x, "nh"}, {rstd, "n"}},
                   Out{"h", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{
                         a.add(v[3], a.mul(a.mul(v[0], v[1]), v[2]))};
                   });
    Value dot =
        e.generic1(p + ".bwd_dot", {{dy, "nh"}, {x, "nh"}, {gamma, "h"}},
                   Out{"n", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{
                         a.add(v[3], a.mul(a.mul(v[0], v[2]), v[1]))};
                   });
    dxInputs.push_back({dot, "n"});
    if (residualGrad)
      dxInputs.push_back({residualGrad, "nh"});
    // dx = rstd * (dy * g - x * rstd^2 * sum(dy * g * x) / H) (+ residual)
    return e.generic1(p + ".bwd_dx", dxInputs, Out{"nh", act},
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
      e.generic(p + ".bwd_dw", {{dy, "nh"}, {x, "nh"}, {sum, "n"}, {rstd, "n"}},
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
                {{dy, "nh"}, {x, "nh"}, {sum, "n"}, {rstd, "n"}, {gamma, "h"}},
                {Out{"n", act, 0.0}, Out{"n", act, 0.0}},
                [&](Ar &a, ValueRange v, IndexFn) {
                  Value dxh = a.mul(v[0], v[4]);
                  Value xh = xhat(a, v[1], v[2], v[3]);
                  return SmallVector<Value>{a.add(v[5], dxh),
                                            a.add(v[6], a.mul(dxh, xh))};
                });
  dxInputs.push_back({sum, "n"});
  dxInputs.push_back({dots[0], "n"});
  dxInputs.push_back({dots[1], "n"});
  if (residualGrad)
    dxInputs.push_back({residualGrad, "nh"});
  // dx = rstd * (dxh - mean(dxh) - xhat * mean(dxh * xhat)) (+ residual)
  return e.generic1(p + ".bwd_dx", dxInputs, Out{"nh", act},
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

Value TransformerBuilder::linearBackward(Emitter &e, llvm::StringRef name,
                                         llvm::StringRef biasName, Value dy,
                                         Value x, llvm::StringRef weight,
                                         llvm::StringRef bias,
                                         BackwardValues &bv, Value dxAcc) {
  std::string n = name.str();
  Value w = bv.w.lookup(weight);
  // dX = dY * W^T, dW = X^T * dY.
  Value dx = e.contract(n + ".bwd_dx", {dy, "no"}, {w, "io"}, "ni", act, dxAcc);
  bv.grads[weight] =
      e.contract(n + ".bwd_dw", {x, "ni"}, {dy, "no"}, "io", act);
  if (!bias.empty() && bv.w.lookup(bias))
    bv.grads[bias] =
        e.generic1(biasName.str() + ".bwd", {{dy, "no"}}, Out{"o", act, 0.0},
                   [&](Ar &a, ValueRange v, IndexFn) {
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
                                       Value d, Value cos, Value sin,
                                       int64_t heads) {
  // The inverse rotation, back to [B, S, heads, D].
  std::string n = name.str() + ".bwd";
  Value d1 = e.slice(n, d, {0, 0, 0, 0}, {B, heads, S, half});
  Value d2 = e.slice(n, d, {0, 0, 0, half}, {B, heads, S, half});
  Value rotated =
      e.generic1(n, {{d1, "bqsj"}, {d2, "bqsj"}, {cos, "sj"}, {sin, "sj"}},
                 Out{"bsqpj", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value first = a.add(a.mul(v[0], v[2]), a.mul(v[1], v[3]));
                   Value second = a.sub(a.mul(v[1], v[2]), a.mul(v[0], v[3]));
                   Value isFirst =
                       a.icmp(arith::CmpIPredicate::eq, idx('p'), a.i(0));
                   return SmallVector<Value>{a.sel(isFirst, first, second)};
                 },
                 {{'p', 2}});
  rotated = e.reshape(n, rotated, {B, S, heads, rot});
  if (rot == D)
    return rotated;
  Value pass = e.slice(n, d, {0, 0, 0, rot}, {B, heads, S, D - rot});
  pass = e.permute(name.str() + "_pass.bwd", pass, "bqsd", "bsqd");
  return tensor::ConcatOp::create(b, e.loc(n), 3, ValueRange{rotated, pass});
}

Value TransformerBuilder::attentionBackward(Emitter &e, Value dOut,
                                            BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  Value dctx = linearBackward(e, "attn.o_proj", "attn.o_bias", dOut,
                              s("attn.ctx"), "layers.attn.o_proj.weight",
                              "layers.attn.o_proj.bias", bv);
  Value probs = s("attn.probs"), keys = s("attn.k"), values = s("attn.v");
  Value dctx5 = e.reshape("attn.av_matmul.bwd_dx", dctx, {B, S, KVH, G, D});
  Value p5 = e.reshape("attn.av_matmul.bwd_dw", probs, {B, KVH, G, S, T});
  // dP = dO * V^T; dV = P^T * dO (summed over the heads sharing a kv head).
  Value dp5 = e.contract("attn.av_matmul.bwd_dx", {dctx5, "bskgd"},
                         {values, "bktd"}, "bkgst", act);
  Value dv = e.contract("attn.av_matmul.bwd_dw", {p5, "bkgst"},
                        {dctx5, "bskgd"}, "bktd", act);
  Value dp = e.reshape("attn.av_matmul.bwd_dx", dp5, {B, NH, S, T});
  Value ds = softmaxBackward(e, "attn.softmax", dp, probs, "bqst", "bqs");
  double scale = 1.0 / std::sqrt(double(D));
  int64_t offset = positionOffset;
  Value dsMasked =
      e.generic1("attn.mask.bwd", {{ds, "bqst"}}, Out{"bqst", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value visible = a.icmp(arith::CmpIPredicate::ule, idx('t'),
                                          a.iadd(idx('s'), a.i(offset)));
                   return SmallVector<Value>{a.sel(
                       visible, a.mul(v[0], a.f(act, scale)), a.f(act, 0.0))};
                 });
  Value ds5 = e.reshape("attn.qk_matmul.bwd_dx", dsMasked, {B, KVH, G, S, T});
  Value q5 = e.reshape("attn.qk_matmul.bwd_dw", s("attn.q"), {B, KVH, G, S, D});
  // dQ = dS * K; dK = dS^T * Q.
  Value dq5 = e.contract("attn.qk_matmul.bwd_dx", {ds5, "bkgst"},
                         {keys, "bktd"}, "bkgsd", act);
  Value dk = e.contract("attn.qk_matmul.bwd_dw", {ds5, "bkgst"}, {q5, "bkgsd"},
                        "bktd", act);
  Value dqh = e.reshape("attn.qk_matmul.bwd_dx", dq5, {B, NH, S, D});
  Value dq4 = hasRope()
                  ? ropeBackward(e, "attn.rope_q", dqh, bv.cos, bv.sin, NH)
                  : e.permute("attn.q_transpose.bwd", dqh, "bqsd", "bsqd");
  Value dk4 = hasRope()
                  ? ropeBackward(e, "attn.rope_k", dk, bv.cos, bv.sin, KVH)
                  : e.permute("attn.k_transpose.bwd", dk, "bksd", "bskd");
  Value dv4 = e.permute("attn.v_transpose.bwd", dv, "bksd", "bskd");
  Value dq = e.reshape("attn.q_proj.bwd_dx", dq4, {N, NH * D});
  Value dkf = e.reshape("attn.k_proj.bwd_dx", dk4, {N, KVH * D});
  Value dvf = e.reshape("attn.v_proj.bwd_dx", dv4, {N, KVH * D});
  Value xn = s("attn.in");
  Value dxn = linearBackward(e, "attn.q_proj", "attn.q_bias", dq, xn,
                             "layers.attn.q_proj.weight",
                             "layers.attn.q_proj.bias", bv);
  dxn = linearBackward(e, "attn.k_proj", "attn.k_bias", dkf, xn,
                       "layers.attn.k_proj.weight", "layers.attn.k_proj.bias",
                       bv, dxn);
  return linearBackward(e, "attn.v_proj", "attn.v_bias", dvf, xn,
                        "layers.attn.v_proj.weight", "layers.attn.v_proj.bias",
                        bv, dxn);
}

Value TransformerBuilder::mlpBackward(Emitter &e, Value dOut,
                                      BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  Value xn = s("mlp.in");
  if (cfg.gatedMLP) {
    Value dh = linearBackward(e, "mlp.down_proj", "mlp.down_bias", dOut,
                              s("mlp.act"), "layers.mlp.down_proj.weight",
                              "layers.mlp.down_proj.bias", bv);
    SmallVector<Value> d = e.generic(
        "mlp.act.bwd", {{dh, "ni"}, {s("mlp.gate"), "ni"}, {s("mlp.up"), "ni"}},
        {Out{"ni", act}, Out{"ni", act}}, [&](Ar &a, ValueRange v, IndexFn) {
          Value dGate = a.mul(a.mul(v[0], v[2]), activationGrad(a, v[1]));
          Value dUp = a.mul(v[0], activation(a, v[1]));
          return SmallVector<Value>{dGate, dUp};
        });
    Value dxn = linearBackward(e, "mlp.gate_proj", "mlp.gate_bias", d[0], xn,
                               "layers.mlp.gate_proj.weight",
                               "layers.mlp.gate_proj.bias", bv);
    return linearBackward(e, "mlp.up_proj", "mlp.up_bias", d[1], xn,
                          "layers.mlp.up_proj.weight",
                          "layers.mlp.up_proj.bias", bv, dxn);
  }
  Value dh =
      linearBackward(e, "mlp.proj", "mlp.proj_bias", dOut, s("mlp.act"),
                     "layers.mlp.proj.weight", "layers.mlp.proj.bias", bv);
  Value dfc = e.generic1("mlp.act.bwd", {{dh, "ni"}, {s("mlp.fc"), "ni"}},
                         Out{"ni", act}, [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{
                               a.mul(v[0], activationGrad(a, v[1]))};
                         });
  return linearBackward(e, "mlp.fc", "mlp.fc_bias", dfc, xn,
                        "layers.mlp.fc.weight", "layers.mlp.fc.bias", bv);
}

Value TransformerBuilder::moeBackward(Emitter &e, Value dOut,
                                      BackwardValues &bv) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  int64_t ea = activeExperts, rows = expertRows, tokens = N, topk = K;
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
        Value gate = a.extract(gates, {token, idx('e')});
        Value d = a.extract(dOut, {token, idx('h')});
        return SmallVector<Value>{a.sel(used, a.mul(gate, d), a.f(act, 0.0))};
      },
      {{'e', ea}, {'c', rows}, {'h', H}});
  Value dgates = e.generic1(
      "moe.combine.bwd_dgate", {{dOut, "nh"}}, Out{"ne", act, 0.0},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value acc = v[1];
        for (int64_t j = 0; j < topk; ++j) {
          Value q = a.iadd(a.imul(idx('n'), a.i(topk)), a.i(j));
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

  // Experts backward.
  auto experts = [&](llvm::StringRef name, ArrayRef<int64_t> perExpert) {
    SmallVector<int64_t> sizes{ea};
    sizes.append(perExpert.begin(), perExpert.end());
    return e.slice("moe.experts", bv.w.lookup(name), {0, 0, 0}, sizes);
  };
  Value wg = experts("layers.moe.experts.gate_proj", {H, I});
  Value wu = experts("layers.moe.experts.up_proj", {H, I});
  Value wd = experts("layers.moe.experts.down_proj", {I, H});
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
  // Experts that received no tokens get zero gradients.
  auto pad = [&](Value grad) {
    ArrayRef<int64_t> shape = shapeOf(grad);
    if (shape[0] == E)
      return grad;
    Location l = e.loc("moe.experts.bwd_pad");
    Value full = e.zeros(l, {E, shape[1], shape[2]}, act);
    SmallVector<OpFoldResult> zero(3, b.getIndexAttr(0)),
        one(3, b.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes;
    for (int64_t dim : shape)
      sizes.push_back(b.getIndexAttr(dim));
    return Value(
        tensor::InsertSliceOp::create(b, l, grad, full, zero, sizes, one));
  };
  bv.grads["layers.moe.experts.gate_proj"] = pad(dwg);
  bv.grads["layers.moe.experts.up_proj"] = pad(dwu);
  bv.grads["layers.moe.experts.down_proj"] = pad(dwd);

  // Dispatch backward: each token gathers its K slots' gradients.
  Value dxDispatch =
      e.generic1("moe.dispatch.bwd", {}, Out{"nh", act},
                 [&](Ar &a, ValueRange, IndexFn idx) {
                   Value acc = a.f(act, 0.0);
                   for (int64_t j = 0; j < topk; ++j) {
                     Value q = a.iadd(a.imul(idx('n'), a.i(topk)), a.i(j));
                     Value expert = a.irem(q, a.i(ea));
                     Value row = a.idiv(q, a.i(ea));
                     Value kept = keptRow(a, row);
                     Value d = a.extract(dxe, {expert, row, idx('h')});
                     if (kept)
                       d = a.sel(kept, d, a.f(act, 0.0));
                     acc = a.add(acc, d);
                   }
                   return SmallVector<Value>{acc};
                 },
                 {{'n', N}, {'h', H}});

  // Gates: renormalisation, top-k selection, softmax, router.
  Value dot =
      e.generic1("moe.topk.norm.bwd_sum", {{dgates, "ne"}, {gates, "ne"}},
                 Out{"n", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[2], a.mul(v[0], v[1]))};
                 });
  Value dchosen =
      e.generic1("moe.topk.norm.bwd",
                 {{dgates, "ne"}, {s("moe.chosen_sum"), "n"}, {dot, "n"}},
                 Out{"ne", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.div(a.sub(v[0], v[2]), v[1])};
                 });
  double topK = double(K);
  Value dprobs = e.generic1(
      "moe.topk.select.bwd", {{dchosen, "ne"}, {s("moe.rank"), "ne"}},
      Out{"ne", act}, [&](Ar &a, ValueRange v, IndexFn) {
        Value in = a.fgt(a.f(act, topK), v[1]);
        return SmallVector<Value>{a.sel(in, v[0], a.f(act, 0.0))};
      });
  Value dlogits = softmaxBackward(e, "moe.router_softmax", dprobs,
                                  s("moe.probs"), "ne", "n");
  return linearBackward(e, "moe.router", "", dlogits, s("moe.in"),
                        "layers.moe.router.weight", "", bv, dxDispatch);
}

func::FuncOp TransformerBuilder::buildLayerBackward() {
  SmallVector<WeightSpec> weights = layerWeights();
  SmallVector<ArgSpec> args;
  args.push_back({"layers.bwd.dy", tensorOf({N, H}, act), ""});
  for (auto &[name, type] : savedSpecs)
    args.push_back({"layers.saved." + name, type, ""});
  for (const WeightSpec &ws : weights)
    args.push_back({ws.name, tensorOf(ws.shape, ws.elem), ""});
  if (hasRope()) {
    args.push_back({"rope.cos", tensorOf({S, half}, act), ""});
    args.push_back({"rope.sin", tensorOf({S, half}, act), ""});
  }
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
  if (hasRope()) {
    bv.cos = fn.getArgument(argIndex++);
    bv.sin = fn.getArgument(argIndex++);
  }
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
// Entry function
//===----------------------------------------------------------------------===//

void TransformerBuilder::buildEntry(func::FuncOp layerFwd,
                                    func::FuncOp layerBwd) {
  SmallVector<WeightSpec> lw = layerWeights();
  // Parameters: embeddings, stacked layer weights, final norm, LM head.
  SmallVector<WeightSpec> params;
  params.push_back({"embed", {V, H}, wty});
  if (cfg.learnedPositions)
    params.push_back({"embed.pos", {cfg.maxPositions, H}, act});
  for (const WeightSpec &ws : lw) {
    SmallVector<int64_t> stacked{L};
    stacked.append(ws.shape.begin(), ws.shape.end());
    params.push_back({ws.name, stacked, ws.elem});
  }
  params.push_back({"final_norm.weight", {H}, act});
  if (cfg.norm == NormKind::LayerNorm)
    params.push_back({"final_norm.bias", {H}, act});
  if (!cfg.tieEmbeddings)
    params.push_back({"lm_head.weight", {H, V}, wty});

  SmallVector<ArgSpec> args;
  args.push_back({"tokens", tensorOf({B, S}, i32), "input"});
  if (training())
    args.push_back({"labels", tensorOf({B, S}, i32), "input"});
  unsigned firstParam = args.size();
  for (const WeightSpec &p : params)
    args.push_back({p.name, tensorOf(p.shape, p.elem), "weight"});
  if (decoding()) {
    auto cacheType = tensorOf({L, B, KVH, kvLen, D}, act);
    args.push_back({"k_cache", cacheType, "kv_cache"});
    args.push_back({"v_cache", cacheType, "kv_cache"});
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

  // Embedding lookup: a gather of table rows by token id.
  Value tokens = e.reshape("embed", fn.getArgument(0), {N});
  Value table = param.lookup("embed");
  Value x =
      e.generic1("embed", {{tokens, "n"}}, Out{"nh", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value row = a.extract(table, {a.toIndex(v[0]), idx('h')});
                   return SmallVector<Value>{a.conv(row, act)};
                 },
                 {{'h', H}});
  if (cfg.learnedPositions) {
    Value pos = e.slice("embed.pos", param.lookup("embed.pos"),
                        {positionOffset, 0}, {S, H});
    Value x3 = e.reshape("embed.pos", x, {B, S, H});
    x3 = e.generic1("embed.pos", {{x3, "bsh"}, {pos, "sh"}}, Out{"bsh", act},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.add(v[0], v[1])};
                    });
    x = e.reshape("embed.pos", x3, {N, H});
  }
  Value cos, sin;
  if (hasRope()) {
    // cos/sin(pos * theta^(-2j/rot)) for the new tokens' positions.
    double logTheta = std::log(cfg.ropeTheta);
    double rotDims = double(rot);
    int64_t offset = positionOffset;
    SmallVector<Value> tables =
        e.generic("rope.table", {}, {Out{"sj", act}, Out{"sj", act}},
                  [&](Ar &a, ValueRange, IndexFn idx) {
                    Value pos = a.toFloat(a.iadd(idx('s'), a.i(offset)), f32);
                    Value j = a.toFloat(idx('j'), f32);
                    Value invFreq =
                        a.exp(a.mul(j, a.f(f32, -2.0 * logTheta / rotDims)));
                    Value angle = a.mul(pos, invFreq);
                    return SmallVector<Value>{a.conv(a.cos(angle), act),
                                              a.conv(a.sin(angle), act)};
                  },
                  {{'s', S}, {'j', half}});
    cos = tables[0];
    sin = tables[1];
  }

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
    inits.push_back(stackOf(tensorOf({B, KVH, S, D}, act), "layers.kv_cache"));
    inits.push_back(stackOf(tensorOf({B, KVH, S, D}, act), "layers.kv_cache"));
  }
  if (training())
    for (auto &[name, type] : savedSpecs)
      inits.push_back(stackOf(type, "layers.save"));
  auto loop = scf::ForOp::create(b, loopLoc, c0, cL, c1, inits);
  {
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value l = loop.getInductionVar();
    ValueRange iters = loop.getRegionIterArgs();
    SmallVector<Value> callArgs{iters[0]};
    for (const WeightSpec &ws : lw)
      callArgs.push_back(e.sliceLeading("layers", param.lookup(ws.name), l));
    if (hasRope()) {
      callArgs.push_back(cos);
      callArgs.push_back(sin);
    }
    if (decoding()) {
      unsigned cacheArg = firstParam + params.size();
      callArgs.push_back(
          e.sliceLeading("layers.kv_cache", fn.getArgument(cacheArg), l));
      callArgs.push_back(
          e.sliceLeading("layers.kv_cache", fn.getArgument(cacheArg + 1), l));
    }
    auto call = func::CallOp::create(b, loopLoc, layerFwd, callArgs);
    SmallVector<Value> yields{call.getResult(0)};
    for (unsigned i = 1; i < iters.size(); ++i)
      yields.push_back(
          e.insertLeading(decoding() ? "layers.kv_cache" : "layers.save",
                          call.getResult(i), iters[i], l));
    scf::YieldOp::create(b, loopLoc, yields);
  }

  Saved top;
  top.enabled = training();
  Value xf = norm(e, "final_norm", loop.getResult(0),
                  param.lookup("final_norm.weight"),
                  param.lookup("final_norm.bias"), top);
  Value logits =
      cfg.tieEmbeddings
          ? linear(e, "lm_head", "", xf, table, nullptr, /*wDims=*/"oi")
          : linear(e, "lm_head", "", xf, param.lookup("lm_head.weight"),
                   nullptr);
  if (!training()) {
    SmallVector<Value> results{logits};
    if (decoding()) {
      results.push_back(loop.getResult(1));
      results.push_back(loop.getResult(2));
    }
    finishFunc(fn, e.loc("return"), results);
    return;
  }

  // Loss: mean cross-entropy against the labels, and its gradient.
  Value labels = e.reshape("loss", fn.getArgument(1), {N});
  double invN = 1.0 / double(N);
  Value mx = e.generic1("loss.max", {{logits, "nv"}}, Out{"n", act, kLowest},
                        [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.max(v[1], v[0])};
                        });
  Value ex = e.generic1("loss.exp", {{logits, "nv"}, {mx, "n"}}, Out{"nv", act},
                        [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.exp(a.sub(v[0], v[1]))};
                        });
  Value sum = e.generic1("loss.sum", {{ex, "nv"}}, Out{"n", act, 0.0},
                         [&](Ar &a, ValueRange v, IndexFn) {
                           return SmallVector<Value>{a.add(v[1], v[0])};
                         });
  Value loss = e.generic1(
      "loss.nll", {{mx, "n"}, {sum, "n"}, {labels, "n"}}, Out{"", f32, 0.0},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value target = a.extract(logits, {idx('n'), a.toIndex(v[2])});
        Value nll = a.sub(a.add(a.log(v[1]), v[0]), target);
        return SmallVector<Value>{
            a.add(v[3], a.mul(a.conv(nll, f32), a.f(f32, invN)))};
      });
  Value dlogits =
      e.generic1("loss.bwd", {{ex, "nv"}, {sum, "n"}, {labels, "n"}},
                 Out{"nv", act}, [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value isTarget = a.icmp(arith::CmpIPredicate::eq, idx('v'),
                                           a.toIndex(v[2]));
                   Value onehot = a.sel(isTarget, a.f(act, 1.0), a.f(act, 0.0));
                   return SmallVector<Value>{
                       a.mul(a.sub(a.div(v[0], v[1]), onehot), a.f(act, invN))};
                 });

  BackwardValues bv;
  for (auto &entry : param)
    bv.w[entry.first()] = entry.second;
  for (auto &entry : top.keys)
    bv.s[entry.first()] = top.values[entry.second];
  Value dxf, tiedHeadGrad;
  if (cfg.tieEmbeddings) {
    dxf =
        e.contract("lm_head.bwd_dx", {dlogits, "nv"}, {table, "vh"}, "nh", act);
    tiedHeadGrad =
        e.contract("lm_head.bwd_dw", {dlogits, "nv"}, {xf, "nh"}, "vh", act);
  } else {
    dxf =
        linearBackward(e, "lm_head", "", dlogits, xf, "lm_head.weight", "", bv);
  }
  Value dx = normBackward(e, "final_norm", dxf, nullptr, bv, "final_norm");

  // Backward layer loop, last layer first.
  Location bwdLoc = e.loc("layers.bwd");
  Value cLast = arith::ConstantIndexOp::create(b, bwdLoc, L - 1);
  SmallVector<Value> bwdInits{dx};
  for (const WeightSpec &ws : lw)
    bwdInits.push_back(stackOf(tensorOf(ws.shape, act), "layers.bwd"));
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
      callArgs.push_back(
          e.sliceLeading("layers.bwd", param.lookup(ws.name), l));
    if (hasRope()) {
      callArgs.push_back(cos);
      callArgs.push_back(sin);
    }
    auto call = func::CallOp::create(b, bwdLoc, layerBwd, callArgs);
    SmallVector<Value> yields{call.getResult(0)};
    for (unsigned i = 1; i < iters.size(); ++i)
      yields.push_back(
          e.insertLeading("layers.bwd", call.getResult(i), iters[i], l));
    scf::YieldOp::create(b, bwdLoc, yields);
  }
  llvm::StringMap<Value> grads;
  for (auto [i, ws] : llvm::enumerate(lw))
    grads[ws.name] = bwdLoop.getResult(1 + i);
  for (auto &entry : bv.grads)
    grads[entry.first()] = entry.second;
  Value dEmb = bwdLoop.getResult(0);

  // Embedding backward: scatter-add each token's gradient row into the
  // table gradient (on top of the LM head's when tied).
  Location embLoc = e.loc("embed.bwd");
  Value tableGrad = tiedHeadGrad ? tiedHeadGrad : e.zeros(embLoc, {V, H}, act);
  Value cN = arith::ConstantIndexOp::create(b, embLoc, N);
  auto scatter =
      scf::ForOp::create(b, embLoc, c0, cN, c1, ValueRange{tableGrad});
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
  grads["embed"] = scatter.getResult(0);
  if (cfg.learnedPositions) {
    Value d3 = e.reshape("embed.pos.bwd", dEmb, {B, S, H});
    Value dPos = e.generic1("embed.pos.bwd", {{d3, "bsh"}}, Out{"sh", act, 0.0},
                            [&](Ar &a, ValueRange v, IndexFn) {
                              return SmallVector<Value>{a.add(v[1], v[0])};
                            });
    Location l = e.loc("embed.pos.bwd");
    Value full = e.zeros(l, {cfg.maxPositions, H}, act);
    SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0)},
        sizes{b.getIndexAttr(S), b.getIndexAttr(H)},
        strides{b.getIndexAttr(1), b.getIndexAttr(1)};
    grads["embed.pos"] = tensor::InsertSliceOp::create(b, l, dPos, full,
                                                       offsets, sizes, strides);
  }

  // Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
  // p -= lr m / (sqrt(v) + eps), bias corrections folded into lr.
  const double beta1 = 0.9, beta2 = 0.95, lr = 3e-4, eps = 1e-8;
  SmallVector<Value> newParams, newM, newV;
  for (auto [i, p] : llvm::enumerate(params)) {
    Value g = grads.lookup(p.name);
    assert(g && "every parameter has a gradient");
    std::string dims = std::string("abcdefgh").substr(0, p.shape.size());
    e.detail = p.name;
    Type pElem = p.elem;
    SmallVector<Value> r = e.generic(
        "optimizer.adam",
        {{param.lookup(p.name), dims},
         {g, dims},
         {fn.getArgument(firstMoment + i), dims},
         {fn.getArgument(firstMoment + params.size() + i), dims}},
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
  SmallVector<Value> results{loss};
  results.append(newParams);
  results.append(newM);
  results.append(newV);
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
  if (!(opts.moeCapacityFactor > 0)) {
    emitError(fileLoc) << "the MoE capacity factor must be positive";
    return nullptr;
  }
  if (training() && opts.dtype == WorkloadDType::fp8) {
    emitError(fileLoc) << "fp8 training is not modelled (fp8 weights are an "
                          "inference format here); use --dtype=bf16";
    return nullptr;
  }
  if (failed(validateModelConfig(cfg, fileLoc)))
    return nullptr;
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
      b.getNamedAttr("vocab", i64(V)),
      b.getNamedAttr("experts", i64(E)),
      b.getNamedAttr("top_k", i64(K)),
      b.getNamedAttr("expert_rows", i64(expertRows)),
      b.getNamedAttr("moe_capacity_factor",
                     b.getF64FloatAttr(opts.moeCapacityFactor)),
      b.getNamedAttr("tokens", i64(N))};
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

OwningOpRef<ModuleOp> buildTransformerModule(const ModelConfig &config,
                                             const WorkloadOptions &options,
                                             MLIRContext *ctx) {
  return TransformerBuilder(config, options, ctx).build();
}

} // namespace strata::workload
