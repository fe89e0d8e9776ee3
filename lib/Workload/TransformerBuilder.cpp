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
#include "BuilderImpl.h"
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

#include <algorithm>
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

unsigned WeightQuant::elementBits() const {
  switch (format) {
  case WeightFormat::Int8:
  case WeightFormat::Int8Grouped:
  case WeightFormat::Fp8:
  case WeightFormat::Bfp8:
    return 8;
  case WeightFormat::Int4Grouped:
  case WeightFormat::Mxfp4:
  case WeightFormat::Bfp4:
    return 4;
  }
  return 8;
}

unsigned WeightQuant::scaleBits() const {
  switch (format) {
  case WeightFormat::Int8:
  case WeightFormat::Int8Grouped:
  case WeightFormat::Int4Grouped:
    return 16; // fp16 scales (GPTQ/AWQ checkpoints)
  case WeightFormat::Fp8:
    return 0; // one per-tensor scale, folded into the epilogue
  case WeightFormat::Mxfp4:
  case WeightFormat::Bfp8:
  case WeightFormat::Bfp4:
    return 8; // an E8M0 scale / a shared 8-bit exponent
  }
  return 0;
}

double WeightQuant::bytesPerParameter(int64_t reduction) const {
  double bytes = elementBits() / 8.0;
  int64_t g = group > 0 ? group : reduction;
  if (scaleBits() > 0 && g > 0)
    bytes += scaleBits() / 8.0 / double(g);
  return bytes;
}

std::optional<WeightQuant> parseWeightQuant(llvm::StringRef text) {
  WeightQuant q;
  if (text == "int8")
    return WeightQuant{WeightFormat::Int8, 0};
  if (text == "fp8")
    return WeightQuant{WeightFormat::Fp8, 0};
  if (text == "mxfp4")
    return WeightQuant{WeightFormat::Mxfp4, 32};
  if (text == "bfp8")
    return WeightQuant{WeightFormat::Bfp8, 16};
  if (text == "bfp4")
    return WeightQuant{WeightFormat::Bfp4, 16};
  llvm::StringRef rest = text;
  if (rest.consume_front("int8-g"))
    q.format = WeightFormat::Int8Grouped;
  else if (rest.consume_front("int4-g"))
    q.format = WeightFormat::Int4Grouped;
  else
    return std::nullopt;
  if (rest.getAsInteger(10, q.group) || q.group < 1)
    return std::nullopt;
  return q;
}

std::string stringifyWeightQuant(const WeightQuant &q) {
  switch (q.format) {
  case WeightFormat::Int8:
    return "int8";
  case WeightFormat::Int8Grouped:
    return "int8-g" + std::to_string(q.group);
  case WeightFormat::Int4Grouped:
    return "int4-g" + std::to_string(q.group);
  case WeightFormat::Fp8:
    return "fp8";
  case WeightFormat::Mxfp4:
    return "mxfp4";
  case WeightFormat::Bfp8:
    return "bfp8";
  case WeightFormat::Bfp4:
    return "bfp4";
  }
  return "?";
}

std::optional<MlaForm> parseMlaForm(llvm::StringRef text) {
  return llvm::StringSwitch<std::optional<MlaForm>>(text)
      .Case("auto", MlaForm::Auto)
      .Case("expanded", MlaForm::Expanded)
      .Case("absorbed", MlaForm::Absorbed)
      .Default(std::nullopt);
}

llvm::StringRef stringifyMlaForm(MlaForm form) {
  switch (form) {
  case MlaForm::Auto:
    return "auto";
  case MlaForm::Expanded:
    return "expanded";
  case MlaForm::Absorbed:
    return "absorbed";
  }
  return "?";
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

namespace detail {

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
  vty = opts.dtype == WorkloadDType::fp8 && !opts.fp8Vocabulary ? act : wty;
  kvty = act;
  if (opts.kvDType)
    switch (*opts.kvDType) {
    case WorkloadDType::bf16:
      kvty = BFloat16Type::get(ctx);
      break;
    case WorkloadDType::fp16:
      kvty = Float16Type::get(ctx);
      break;
    case WorkloadDType::fp8:
      kvty = Float8E4M3FNType::get(ctx);
      break;
    case WorkloadDType::f32:
      kvty = f32;
      break;
    }
  B = opts.batch;
  S = seqLen;
  positionOffset = decoding() ? kvLen : 0;
  T = positionOffset + S;
  // A window over every layer bounds the cache: the first new token still
  // sees window - 1 positions before it.
  // (A window past every position is clamped to T + 1, which masks
  // nothing, so that no index arithmetic overflows.)
  int64_t window = std::min(cfg.slidingWindow, T + 1);
  int64_t windowSlots = std::min(T, window - 1 + S);
  cacheLen = T;
  if (decoding() && uniformWindow())
    cacheLen = windowSlots;
  cacheBase = T - cacheLen;
  if (uniformWindow())
    constWindow = window;
  // Decode with local and global layers: the local layers' own cache.
  localCacheLen = windowSlots;
  localCacheBase = T - localCacheLen;
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
  ropePairs = D / 2;
  EI = SI = I;
  if (cfg.mla) {
    // RoPE rotates only the qk_rope_head_dim part of each query and the
    // shared key.
    rot = cfg.mla->qkRopeHeadDim;
    half = ropePairs = rot / 2;
  }
  if (cfg.deepseekMoe) {
    EI = cfg.deepseekMoe->expertIntermediate;
    SI = cfg.deepseekMoe->sharedExperts * EI;
  }
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
    std::optional<WeightQuant> q =
        matmul ? quantOf(name) : std::optional<WeightQuant>();
    ws.push_back({std::move(name), SmallVector<int64_t>(shape),
                  q ? quantElem(*q) : wElem(matmul), std::move(dims)});
    // Its scales follow it (buildTransformerModule checked the groups).
    if (q && q->scaleBits() > 0)
      if (std::optional<WeightSpec> s = scalesSpec(ws.back(), *q))
        ws.push_back(*s);
  };
  auto cat = [](std::initializer_list<int64_t> lead, ArrayRef<int64_t> tail) {
    SmallVector<int64_t> shape(lead);
    shape.append(tail.begin(), tail.end());
    return shape;
  };
  bool ln = cfg.norm == NormKind::LayerNorm;
  auto addNorm = [&](llvm::StringRef name) {
    add(("layers." + name + ".weight").str(), {H}, false, "h");
    if (ln)
      add(("layers." + name + ".bias").str(), {H}, false, "h");
  };
  if (cfg.preNorms)
    addNorm("norm1");
  if (cfg.mla) {
    // MLA, split where modeling_deepseek.py slices the outputs (MLA.cpp).
    const MlaConfig &m = *cfg.mla;
    int64_t dn = m.qkNopeHeadDim, pairs = m.qkRopeHeadDim / 2;
    int64_t qIn = m.qLoraRank > 0 ? m.qLoraRank : H;
    std::string q =
        m.qLoraRank > 0 ? "layers.attn.q_b_proj" : "layers.attn.q_proj";
    std::string qd = m.qLoraRank > 0 ? "a" : "h";
    if (m.qLoraRank > 0) {
      add("layers.attn.q_a_proj.weight", {H, m.qLoraRank}, true, "ha");
      add("layers.attn.q_a_norm.weight", {m.qLoraRank}, false, "a");
    }
    add(q + ".nope.weight", {qIn, NH, dn}, true, qd + "qd");
    add(q + ".rope.weight", {qIn, NH, pairs, 2}, true, qd + "qjp");
    add("layers.attn.kv_a_proj.weight", {H, m.kvLoraRank}, true, "hl");
    add("layers.attn.k_rope_proj.weight", {H, pairs, 2}, true, "hjp");
    add("layers.attn.kv_a_norm.weight", {m.kvLoraRank}, false, "l");
    add("layers.attn.kv_b_proj.k.weight", {m.kvLoraRank, NH, dn}, true, "lqd");
    add("layers.attn.kv_b_proj.v.weight", {m.kvLoraRank, NH, m.vHeadDim}, true,
        "lqu");
    add("layers.attn.o_proj.weight", {NH, m.vHeadDim, H}, true, "quh");
  } else {
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
    if (cfg.qkNorm != ModelConfig::QKNorm::None) {
      add("layers.attn.q_norm.weight", {qkNormSize(true)}, false, "x");
      add("layers.attn.k_norm.weight", {qkNormSize(false)}, false, "x");
    }
    if (cfg.attentionSinks)
      add("layers.attn.sinks", {KVH, G}, false, "kg");
    add("layers.attn.o_proj.weight", {KVH, G, D, H}, true, "kgdh");
    if (cfg.outBias)
      add("layers.attn.o_proj.bias", {H}, false, "h");
  }
  if (cfg.postNorms)
    addNorm("post_attn_norm");
  if (cfg.preNorms && !cfg.sharedParallelNorm)
    addNorm("norm2");
  if (cfg.postNorms)
    addNorm("post_ffn_norm");
  if (ffnIsMoE()) {
    add("layers.moe.router.weight", {H, E}, true, "he");
    add("layers.moe.experts.gate_proj", {E, H, EI}, true, "ehi");
    add("layers.moe.experts.up_proj", {E, H, EI}, true, "ehi");
    add("layers.moe.experts.down_proj", {E, EI, H}, true, "eih");
    if (SI > 0 && cfg.deepseekMoe && cfg.deepseekMoe->sharedExperts > 0) {
      // DeepSeekMoE's shared experts, as one MLP of n_shared_experts x
      // moe_intermediate_size.
      add("layers.moe.shared.gate_proj.weight", {H, SI}, true, "hi");
      add("layers.moe.shared.up_proj.weight", {H, SI}, true, "hi");
      add("layers.moe.shared.down_proj.weight", {SI, H}, true, "ih");
    }
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
  params.push_back({"embed", {V, H}, vty, ""});
  if (cfg.learnedPositions)
    params.push_back({"embed.pos", {cfg.maxPositions, H}, act, ""});
  for (const Segment &seg : segments)
    for (const WeightSpec &ws : seg.weights) {
      SmallVector<int64_t> stacked{seg.count};
      stacked.append(ws.shape.begin(), ws.shape.end());
      params.push_back({seg.paramPrefix + ws.name, stacked, ws.elem, ws.dims});
    }
  params.push_back({"final_norm.weight", {H}, act, "h"});
  if (cfg.norm == NormKind::LayerNorm)
    params.push_back({"final_norm.bias", {H}, act, "h"});
  if (!cfg.tieEmbeddings)
    params.push_back({"lm_head.weight", {H, V}, vty, "hv"});
  return params;
}

SmallVector<int64_t> TransformerBuilder::kCacheShape(int64_t slots) const {
  if (slots < 0)
    slots = cacheLen;
  if (cfg.mla)
    return {B, slots, cfg.mla->kvLoraRank};
  SmallVector<int64_t> shape{B, slots, KVH};
  llvm::append_range(shape, qkHeadShape());
  return shape;
}

SmallVector<int64_t> TransformerBuilder::vCacheShape(int64_t slots) const {
  if (slots < 0)
    slots = cacheLen;
  if (cfg.mla)
    return {B, slots, cfg.mla->qkRopeHeadDim / 2, 2};
  return {B, slots, KVH, D};
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
// Entry function: plumbing only
//===----------------------------------------------------------------------===//

SmallVector<TransformerBuilder::LayerRun>
TransformerBuilder::layerRuns() const {
  // checkWindowPattern() admitted a period of at most 8 layers or global
  // layers followed by local ones.
  SmallVector<LayerRun> runs;
  const std::vector<bool> &p = cfg.slidingLayers;
  for (int64_t period = 1; period <= 8 && period < L; ++period) {
    bool periodic = true;
    for (int64_t i = period; i < L && periodic; ++i)
      periodic = p[i] == p[i % period];
    if (!periodic)
      continue;
    LayerRun whole{0, L / period, {}};
    whole.local.assign(p.begin(), p.begin() + period);
    runs.push_back(whole);
    if (int64_t rest = L % period) {
      LayerRun tail{whole.count * period, 1, {}};
      tail.local.assign(p.begin(), p.begin() + rest);
      runs.push_back(tail);
    }
    return runs;
  }
  int64_t first = std::find(p.begin(), p.end(), true) - p.begin();
  if (first > 0)
    runs.push_back({0, first, {false}});
  runs.push_back({first, L - first, {true}});
  return runs;
}

SmallVector<Value> TransformerBuilder::buildSplitDecodeLayers(
    Emitter &e, ArrayRef<Value> inits,
    llvm::function_ref<Value(const WeightSpec &, Value)> sliceWeight,
    Value rotTable, ValueRange caches, func::FuncOp globalFn) {
  // One loop per run of layers; each iteration calls the run's pattern of
  // local and global layers (Gemma 3: five local, one global), slicing each
  // layer's weights by its index and its cache by its rank among the
  // layers of its kind.
  SmallVector<WeightSpec> lw = layerWeights();
  Location loopLoc = e.loc("layers");
  SmallVector<Value> state(inits.begin(), inits.end());
  int64_t done[2] = {0, 0}; // layers of each kind before the run
  for (const LayerRun &run : layerRuns()) {
    int64_t perIter[2] = {0, 0};
    for (bool local : run.local)
      ++perIter[local];
    Value lo = arith::ConstantIndexOp::create(b, loopLoc, 0);
    Value hi = arith::ConstantIndexOp::create(b, loopLoc, run.count);
    Value one = arith::ConstantIndexOp::create(b, loopLoc, 1);
    auto loop = scf::ForOp::create(b, loopLoc, lo, hi, one, state);
    OpBuilder::InsertionGuard bodyGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Ar a{b, loopLoc};
    Value i = loop.getInductionVar();
    SmallVector<Value> iters(loop.getRegionIterArgs().begin(),
                             loop.getRegionIterArgs().end());
    int64_t seen[2] = {0, 0};
    for (auto [j, local] : llvm::enumerate(run.local)) {
      int64_t width = run.local.size();
      // One op per statement: argument evaluation order is unspecified.
      Value l = a.imul(i, a.i(width));
      l = a.iadd(l, a.i(run.start + int64_t(j)));
      Value rank = a.imul(i, a.i(perIter[local]));
      rank = a.iadd(rank, a.i(done[local] + seen[local]));
      ++seen[local];
      SmallVector<Value> callArgs{iters[0]};
      for (const WeightSpec &ws : lw)
        callArgs.push_back(sliceWeight(ws, l));
      if (rotTable)
        callArgs.push_back(rotTable);
      Value kStack = caches[local ? 2 : 0], vStack = caches[local ? 3 : 1];
      callArgs.push_back(e.sliceLeading("layers.kv_cache", kStack, rank));
      callArgs.push_back(e.sliceLeading("layers.kv_cache", vStack, rank));
      auto layerCall = func::CallOp::create(
          b, loopLoc, local ? localLayerFwd : globalFn, callArgs);
      iters[0] = layerCall.getResult(0);
      for (unsigned r = 1; r < iters.size(); ++r)
        iters[r] = e.insertLeading("layers.kv_cache", layerCall.getResult(r),
                                   iters[r], l);
    }
    scf::YieldOp::create(b, loopLoc, iters);
    for (int kind = 0; kind < 2; ++kind)
      done[kind] += run.count * perIter[kind];
    state.assign(loop.getResults().begin(), loop.getResults().end());
  }
  return state;
}

void TransformerBuilder::buildEntry() {
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
  // Decode with local and global layers: the global layers' caches, then
  // the local layers' (cut to the window).
  int64_t localLayers = splitLayers() ? cfg.slidingLayerCount() : 0;
  auto addCaches = [&](int64_t layers, int64_t slots, llvm::StringRef suffix) {
    SmallVector<int64_t> kShape{layers}, vShape{layers};
    llvm::append_range(kShape, kCacheShape(slots));
    llvm::append_range(vShape, vCacheShape(slots));
    args.push_back(
        {("k_cache" + suffix).str(), tensorOf(kShape, kvty), "kv_cache"});
    args.push_back(
        {("v_cache" + suffix).str(), tensorOf(vShape, kvty), "kv_cache"});
  };
  if (decoding())
    addCaches(L - localLayers, cacheLen, "");
  if (localLayers)
    addCaches(localLayers, localCacheLen, "_local");
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

  // One layer loop per segment: static bounds 0..count, weights sliced from
  // the segment's stacks; the KV cache spans all layers (index first + l).
  Location loopLoc = e.loc("layers");
  Value c0 = arith::ConstantIndexOp::create(b, loopLoc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loopLoc, 1);
  auto stackOf = [&](Type t, llvm::StringRef name, int64_t count) -> Value {
    auto type = cast<RankedTensorType>(t);
    SmallVector<int64_t> shape{count};
    shape.append(type.getShape().begin(), type.getShape().end());
    return tensor::EmptyOp::create(b, e.loc(name), shape,
                                   type.getElementType());
  };
  auto sliceWeight = [&](const Segment &seg, const WeightSpec &ws, Value l) {
    Value w = e.sliceLeading("layers", param.lookup(seg.paramPrefix + ws.name),
                             l, layerShape(ws));
    // The experts that receive tokens: a count of them, not particular
    // ones, so expert parallelism may take each device's share from its own
    // experts (strata-partition).
    if (layerShape(ws) != ws.shape)
      w.getDefiningOp()->setAttr(analysis::kExpertSubsetAttrName, b.getUnitAttr());
    return w;
  };
  // The layer index in the whole model.
  auto globalIndex = [&](const Segment &seg, Value l, Location at) -> Value {
    if (seg.first == 0)
      return l;
    Value first = arith::ConstantIndexOp::create(b, at, seg.first);
    return arith::AddIOp::create(b, at, l, first);
  };
  Value newK, newV; // decode: this step's cache entries, all layers
  SmallVector<Value> savedStacks; // train: per segment, in order
  SmallVector<unsigned> savedBase;
  SmallVector<Value> counts;
  for (Segment &seg : segments) {
    layerIsMoE = seg.moe;
    Value cCount = arith::ConstantIndexOp::create(b, loopLoc, seg.count);
    counts.push_back(cCount);
    SmallVector<Value> inits{x};
    if (decoding()) {
      inits.push_back(
          newK ? newK
               : stackOf(seg.fwd.getResultTypes()[1], "layers.kv_cache", L));
      inits.push_back(
          newV ? newV
               : stackOf(seg.fwd.getResultTypes()[2], "layers.kv_cache", L));
    }
    if (training())
      for (auto &[name, type] : seg.saved)
        inits.push_back(stackOf(type, "layers.save", seg.count));
    if (localLayers) {
      // Decode with local and global layers (one segment: see build()).
      unsigned cacheArg = firstParam + params.size();
      SmallVector<Value> results = buildSplitDecodeLayers(
          e, inits,
          [&](const WeightSpec &ws, Value l) {
            return sliceWeight(seg, ws, l);
          },
          rotTable, fn.getArguments().slice(cacheArg, 4), seg.fwd);
      x = results[0];
      newK = results[1];
      newV = results[2];
      savedBase.push_back(savedStacks.size());
      continue;
    }
    auto loop = scf::ForOp::create(b, loopLoc, c0, cCount, c1, inits);
    {
      OpBuilder::InsertionGuard bodyGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value l = loop.getInductionVar();
      ValueRange iters = loop.getRegionIterArgs();
      SmallVector<Value> callArgs{iters[0]};
      for (const WeightSpec &ws : seg.weights)
        callArgs.push_back(sliceWeight(seg, ws, l));
      if (rotTable)
        callArgs.push_back(rotTable);
      if (windowArgument())
        callArgs.push_back(
            layerWindow(b, loopLoc, globalIndex(seg, l, loopLoc)));
      Value layer = decoding() ? globalIndex(seg, l, loopLoc) : l;
      if (decoding()) {
        unsigned cacheArg = firstParam + params.size();
        callArgs.push_back(
            e.sliceLeading("layers.kv_cache", fn.getArgument(cacheArg), layer));
        callArgs.push_back(e.sliceLeading("layers.kv_cache",
                                          fn.getArgument(cacheArg + 1), layer));
      }
      auto layerCall = func::CallOp::create(b, loopLoc, seg.fwd, callArgs);
      SmallVector<Value> yields{layerCall.getResult(0)};
      for (unsigned i = 1; i < iters.size(); ++i)
        yields.push_back(
            e.insertLeading(decoding() ? "layers.kv_cache" : "layers.save",
                            layerCall.getResult(i), iters[i], layer));
      scf::YieldOp::create(b, loopLoc, yields);
    }
    x = loop.getResult(0);
    if (decoding()) {
      newK = loop.getResult(1);
      newV = loop.getResult(2);
    }
    savedBase.push_back(savedStacks.size());
    if (training())
      for (unsigned i = 0; i < seg.saved.size(); ++i)
        savedStacks.push_back(loop.getResult(1 + i));
  }

  SmallVector<Value> headOperands{x, param.lookup("final_norm.weight")};
  if (cfg.norm == NormKind::LayerNorm)
    headOperands.push_back(param.lookup("final_norm.bias"));
  headOperands.push_back(cfg.tieEmbeddings ? param.lookup("embed")
                                           : param.lookup("lm_head.weight"));
  if (!training()) {
    Value logits = call(buildLMHead(), "lm_head", headOperands).getResult(0);
    SmallVector<Value> results{logits};
    if (decoding()) {
      results.push_back(newK);
      results.push_back(newV);
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

  // Backward layer loops, last segment and last layer first.
  Location bwdLoc = e.loc("layers.bwd");
  for (unsigned si = segments.size(); si-- > 0;) {
    Segment &seg = segments[si];
    layerIsMoE = seg.moe;
    Value cCount = counts[si];
    Value cLast = arith::ConstantIndexOp::create(b, bwdLoc, seg.count - 1);
    SmallVector<Value> bwdInits{dx};
    for (const WeightSpec &ws : seg.weights) {
      Type gradType = tensorOf(ws.shape, act);
      if (layerShape(ws) == ws.shape) {
        bwdInits.push_back(stackOf(gradType, "layers.bwd", seg.count));
        continue;
      }
      // Experts that received no tokens get zero gradients.
      SmallVector<int64_t> shape{seg.count};
      shape.append(ws.shape.begin(), ws.shape.end());
      bwdInits.push_back(e.zeros(e.loc("layers.bwd"), shape, act));
    }
    auto bwdLoop = scf::ForOp::create(b, bwdLoc, c0, cCount, c1, bwdInits);
    {
      OpBuilder::InsertionGuard bodyGuard(b);
      b.setInsertionPointToStart(bwdLoop.getBody());
      Value l =
          arith::SubIOp::create(b, bwdLoc, cLast, bwdLoop.getInductionVar());
      ValueRange iters = bwdLoop.getRegionIterArgs();
      SmallVector<Value> callArgs{iters[0]};
      for (unsigned i = 0; i < seg.saved.size(); ++i)
        callArgs.push_back(
            e.sliceLeading("layers.bwd", savedStacks[savedBase[si] + i], l));
      for (const WeightSpec &ws : seg.weights)
        callArgs.push_back(sliceWeight(seg, ws, l));
      if (rotTable)
        callArgs.push_back(rotTable);
      if (windowArgument())
        callArgs.push_back(layerWindow(b, bwdLoc, globalIndex(seg, l, bwdLoc)));
      auto bwdCall = func::CallOp::create(b, bwdLoc, seg.bwd, callArgs);
      SmallVector<Value> yields{bwdCall.getResult(0)};
      for (unsigned i = 1; i < iters.size(); ++i)
        yields.push_back(
            e.insertLeading("layers.bwd", bwdCall.getResult(i), iters[i], l));
      scf::YieldOp::create(b, bwdLoc, yields);
    }
    dx = bwdLoop.getResult(0);
    for (auto [i, ws] : llvm::enumerate(seg.weights))
      grads[seg.paramPrefix + ws.name] = bwdLoop.getResult(1 + i);
  }

  // Embedding backward.
  SmallVector<Value> embOperands{fn.getArgument(0), dx};
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

LogicalResult TransformerBuilder::checkWindowPattern(Location fileLoc) {
  int64_t window = cfg.slidingWindow, local = cfg.slidingLayerCount();
  if (window <= 0 || local == 0)
    return success();
  if (local < cfg.layers) {
    // layerWindow() computes the window from the layer index: a period of
    // at most 8 layers, or global layers followed by local ones.
    const std::vector<bool> &p = cfg.slidingLayers;
    int64_t n = cfg.layers;
    bool expressible = false;
    for (int64_t period = 1; period <= 8 && period < n && !expressible;
         ++period) {
      bool periodic = true;
      for (int64_t i = period; i < n && periodic; ++i)
        periodic = p[i] == p[i % period];
      expressible = periodic;
    }
    if (!expressible)
      expressible = std::is_sorted(p.begin(), p.end());
    if (!expressible)
      return emitError(fileLoc)
             << "the local/global layer pattern of '" << cfg.name
             << "' is neither periodic (period <= 8) nor global layers "
                "followed by local ones: not modelled";
  }
  // Said once, in one line: where the window only masks work (decode cuts
  // the local layers' caches to it).
  if (!decoding() && seqLen > window)
    emitWarning(fileLoc) << "'sliding_window' = " << window << " is shorter "
                         << "than the " << seqLen << "-token sequence: "
                         << "the IR computes the full causal square and "
                            "masks outside the window; only a fused "
                            "attention kernel (strata-fuse) skips the key "
                            "blocks outside it";
  return success();
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
  if (cfg.mla && training() && opts.mlaForm == MlaForm::Absorbed) {
    emitError(fileLoc) << "--mla-attention=absorbed is for inference: "
                          "training '"
                       << cfg.name << "' uses the expanded form";
    return nullptr;
  }
  if (!cfg.mla && opts.mlaForm != MlaForm::Auto) {
    emitError(fileLoc) << "--mla-attention applies to models with multi-head "
                          "latent attention (deepseek_v2, deepseek_v3), not '"
                       << cfg.name << "'";
    return nullptr;
  }
  if (cfg.deepseekMoe) {
    // Interleaved dense and MoE layers would need a layer function per
    // run; DeepSeek's published configs all use moe_layer_freq 1.
    const DeepSeekMoeConfig &moe = *cfg.deepseekMoe;
    if (moe.layerFreq != 1) {
      emitError(fileLoc) << "moe_layer_freq " << moe.layerFreq << " of '"
                         << cfg.name
                         << "' is not modelled (dense layers among the MoE "
                            "ones); only 1 is";
      return nullptr;
    }
  }
  if (training() && opts.weightQuant) {
    emitError(fileLoc) << "--weight-dtype="
                       << stringifyWeightQuant(*opts.weightQuant)
                       << " is an inference format; training builds the "
                          "weights in --dtype";
    return nullptr;
  }
  if (opts.weightQuant && opts.dtype != WorkloadDType::bf16 &&
      opts.dtype != WorkloadDType::fp16) {
    emitError(fileLoc) << "--weight-dtype needs 16-bit activations "
                          "(--dtype=bf16 or fp16)";
    return nullptr;
  }
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

  if (failed(checkWindowPattern(fileLoc)))
    return nullptr;

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
      b.getNamedAttr("kv_dtype",
                     b.getStringAttr(stringifyWorkloadDType(
                         opts.kvDType.value_or(opts.dtype == WorkloadDType::fp8
                                                   ? WorkloadDType::bf16
                                                   : opts.dtype)))),
      b.getNamedAttr(
          "weight_dtype",
          b.getStringAttr(opts.weightQuant && !training()
                              ? stringifyWeightQuant(*opts.weightQuant)
                          : cfg.mxfp4Experts && !training()
                              ? std::string("mxfp4-experts")
                              : stringifyWorkloadDType(opts.dtype).str())),
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
      b.getNamedAttr("tokens", i64(N)),
      b.getNamedAttr("parameters", i64(cfg.parameters().total)),
      b.getNamedAttr("active_parameters", i64(cfg.parameters().active))};
  if (cfg.mla) {
    // Both forms' FLOPs (those in which they differ) and the one generated.
    MlaFlops flops = mlaFlops();
    fields.push_back(b.getNamedAttr("kv_lora_rank", i64(cfg.mla->kvLoraRank)));
    fields.push_back(b.getNamedAttr(
        "mla_form", b.getStringAttr(mlaAbsorbed() ? "absorbed" : "expanded")));
    fields.push_back(b.getNamedAttr("mla_expanded_flops",
                                    b.getF64FloatAttr(flops.expanded)));
    fields.push_back(b.getNamedAttr("mla_absorbed_flops",
                                    b.getF64FloatAttr(flops.absorbed)));
  }
  if (cfg.deepseekMoe) {
    fields.push_back(
        b.getNamedAttr("shared_experts", i64(cfg.deepseekMoe->sharedExperts)));
    fields.push_back(b.getNamedAttr("moe_layers", i64(cfg.moeLayers())));
    fields.push_back(b.getNamedAttr("expert_intermediate", i64(EI)));
  }
  // The vocabulary as built, when padding changed it (Megatron-LM pads it
  // to a multiple of 128 x tp): embedding rows, LM-head columns, logits.
  if (V != cfg.vocab)
    fields.push_back(b.getNamedAttr("padded_vocab", i64(V)));
  module->setAttr("strata.model", b.getDictionaryAttr(fields));

  // The layer functions: one per segment of consecutive layers alike.
  auto addSegment = [&](int64_t first, int64_t count, bool moe,
                        llvm::StringRef prefix, llvm::StringRef fnName) {
    Segment seg;
    seg.first = first;
    seg.count = count;
    seg.moe = moe;
    seg.paramPrefix = prefix.str();
    seg.fnName = fnName.str();
    segments.push_back(std::move(seg));
  };
  int64_t dense = cfg.deepseekMoe ? cfg.layers - cfg.moeLayers() : 0;
  if (dense > 0 && dense < L) {
    addSegment(0, dense, false, "dense.", "decoder_layer_dense");
    addSegment(dense, L - dense, true, "", "decoder_layer");
  } else {
    addSegment(0, L, cfg.isMoE() && dense == 0, "", "decoder_layer");
  }
  // Local/global layers come in one segment: validateModelConfig refuses
  // windows with DeepSeek's MLA (the only config with several segments).
  assert((!interleavedWindow() || segments.size() == 1) &&
         "local/global layers with several layer segments");
  for (Segment &seg : segments) {
    layerIsMoE = seg.moe;
    layerFnName = seg.fnName;
    savedSpecs.clear();
    seg.weights = layerWeights();
    // A grouped format needs groups that tile each weight's reduction.
    for (const WeightSpec &ws : seg.weights) {
      std::optional<WeightQuant> q = quantOf(ws.name);
      if (q && q->scaleBits() > 0 && !scalesSpec(ws, *q)) {
        emitError(fileLoc) << "--weight-dtype=" << stringifyWeightQuant(*q)
                           << ": groups of " << q->group
                           << " do not divide the reduction of '" << ws.name
                           << "' (letters " << reductionLetters(ws.dims)
                           << " of " << ws.dims << ")";
        return nullptr;
      }
    }
    seg.fwd = buildLayerForward();
    if (splitLayers()) {
      // The local layers' function: the window as a constant, the cache
      // cut to it.
      int64_t globalLen = cacheLen, globalBase = cacheBase;
      cacheLen = localCacheLen;
      cacheBase = localCacheBase;
      constWindow = std::min(cfg.slidingWindow, T + 1);
      layerFnName = seg.fnName + "_local";
      localLayerFwd = buildLayerForward();
      layerFnName = seg.fnName;
      cacheLen = globalLen;
      cacheBase = globalBase;
      constWindow = 0;
    }
    seg.bwd = training() ? buildLayerBackward() : nullptr;
    seg.saved = savedSpecs;
  }
  buildEntry();
  if (failed(verify(module))) {
    emitError(fileLoc) << "internal error: the generated module for '"
                       << cfg.name << "' does not verify";
    return nullptr;
  }
  return owned;
}

} // namespace detail

using detail::TransformerBuilder;


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
