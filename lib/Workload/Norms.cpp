//===- Norms.cpp - Norms, projections, embeddings, LM head ------------------===//
//
// The transformer generator: RMSNorm/LayerNorm and linear projections
// (forward and backward), the embedding, RoPE table, LM head and loss
// functions and the embedding gradient.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {

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
  Value y = contractWeight(e, name, {x, xDims}, w, wDims, outDims);
  if (!bias)
    return y;
  return e.generic1(biasName, {{y, outDims}, {bias, biasDims}},
                    Out{outDims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.add(v[0], v[1])};
                    });
}

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

//===----------------------------------------------------------------------===//
// Embedding, RoPE table, LM head, loss, optimizer: one function each, so the
// entry function holds only plumbing (slices, the layer loops, calls).
//===----------------------------------------------------------------------===//

func::FuncOp TransformerBuilder::buildEmbed() {
  SmallVector<ArgSpec> args{{"tokens", tensorOf({B, S}, i32), ""},
                            {"embed", tensorOf({V, H}, vty), "weight"}};
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
  if (cfg.scaleEmbeddings) // Gemma: the embeddings times sqrt(hidden)
    x = e.generic1("embed.scale", {{x, kHidden}}, Out{kHidden, act},
                   [&](Ar &a, ValueRange v, IndexFn) {
                     return SmallVector<Value>{
                         a.mul(v[0], a.f(act, std::sqrt(double(H))))};
                   });
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
  bool partial = rot < 2 * ropePairs;
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
      {{'s', S}, {'j', ropePairs}, {'p', 2}, {'r', 2}});
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
  Type head = cfg.tieEmbeddings ? tensorOf({V, H}, vty) : tensorOf({H, V}, vty);
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
  if (cfg.finalSoftcap > 0)
    logits = softcapLogits(e, logits);
  finishFunc(fn, e.loc("return"), logits);
  return fn;
}

func::FuncOp TransformerBuilder::buildLMHeadLoss() {
  SmallVector<ArgSpec> args{{"final_norm.in", tensorOf({B, S, H}, act), ""},
                            {"labels", tensorOf({B, S}, i32), ""}};
  Type head = cfg.tieEmbeddings ? tensorOf({V, H}, vty) : tensorOf({H, V}, vty);
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
  if (cfg.finalSoftcap > 0)
    logits = softcapLogits(e, logits);

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
  if (cfg.finalSoftcap > 0)
    dlogits = softcapLogitsBackward(e, dlogits, logits);
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
  Value dx = fn.getArgument(1);
  if (cfg.scaleEmbeddings)
    dx = e.generic1("embed.scale.bwd", {{dx, kHidden}}, Out{kHidden, act},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{
                          a.mul(v[0], a.f(act, std::sqrt(double(H))))};
                    });
  Value dEmb = e.reshape("embed.bwd", dx, {N, H});
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

} // namespace strata::workload::detail
