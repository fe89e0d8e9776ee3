//===- Layers.cpp - The layer functions, forward and backward ---------------===//
//
// The transformer generator: @decoder_layer (and in training its saved
// activations) and @decoder_layer_bwd, composed from the blocks.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {

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
    args.push_back({"rope.table", tensorOf({S, ropePairs, 2, 2}, act), ""});
  if (windowArgument())
    args.push_back({"layers.window", b.getIndexType(), ""});
  if (decoding()) {
    args.push_back({"layers.k_cache", tensorOf(kCacheShape(), kvty), ""});
    args.push_back({"layers.v_cache", tensorOf(vCacheShape(), kvty), ""});
  }
  func::FuncOp fn = makeFunc(layerFnName, args, /*isPrivate=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Emitter e(b, "layers.");

  LayerValues lv;
  lv.saved.enabled = training();
  unsigned argIndex = 0;
  Value x = fn.getArgument(argIndex++);
  for (const WeightSpec &ws : weights)
    lv.w[ws.name] = fn.getArgument(argIndex++);
  for (const WeightSpec &ws : weights)
    if (std::optional<WeightQuant> q = quantOf(ws.name)) {
      Value wv = lv.w.lookup(ws.name);
      quantOfValue[wv] = *q;
      if (Value s = lv.w.lookup(ws.name + ".scales"))
        scalesOf[wv] = s;
    }
  if (hasRope())
    lv.rot = fn.getArgument(argIndex++);
  if (windowArgument())
    lv.window = fn.getArgument(argIndex++);
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
    return ffnIsMoE() ? moe(e, xn, lv) : mlp(e, xn, lv);
  };
  llvm::StringRef ffnBlock = ffnIsMoE() ? "moe.residual" : "mlp.residual";
  // Pre-norms feed the blocks (OLMo 2 has none); post-norms (Gemma, OLMo 2)
  // normalise the blocks' outputs before the residual adds.
  auto layerNorm = [&](llvm::StringRef block, Value in) {
    std::string wp = ("layers." + block).str();
    return norm(e, block, in, w(wp + ".weight"), w(wp + ".bias"), lv.saved);
  };
  auto preNorm = [&](llvm::StringRef block, Value in) {
    return cfg.preNorms ? layerNorm(block, in) : in;
  };
  auto postNorm = [&](llvm::StringRef block, Value in) {
    return cfg.postNorms ? layerNorm(block, in) : in;
  };
  Value xn1 = preNorm("norm1", x);
  Value attn = postNorm("post_attn_norm", cfg.mla ? mlaAttention(e, xn1, lv)
                                                  : attention(e, xn1, lv));
  Value out;
  if (cfg.parallelResidual) {
    // Falcon-7B feeds both branches from the one norm.
    Value xn2 = cfg.sharedParallelNorm ? xn1 : preNorm("norm2", x);
    Value f = postNorm("post_ffn_norm", ffn(xn2));
    out = residual(ffnBlock, residual("attn.residual", x, attn), f);
  } else {
    Value h = residual("attn.residual", x, attn);
    Value xn2 = preNorm("norm2", h);
    out = residual(ffnBlock, h, postNorm("post_ffn_norm", ffn(xn2)));
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


func::FuncOp TransformerBuilder::buildLayerBackward() {
  SmallVector<WeightSpec> weights = layerWeights();
  SmallVector<ArgSpec> args;
  args.push_back({"layers.bwd.dy", tensorOf({B, S, H}, act), ""});
  for (auto &[name, type] : savedSpecs)
    args.push_back({"layers.saved." + name, type, ""});
  for (const WeightSpec &ws : weights)
    args.push_back({ws.name, tensorOf(layerShape(ws), ws.elem), "weight"});
  if (hasRope())
    args.push_back({"rope.table", tensorOf({S, ropePairs, 2, 2}, act), ""});
  if (windowArgument())
    args.push_back({"layers.window", b.getIndexType(), ""});
  func::FuncOp fn = makeFunc(layerFnName + "_bwd", args, /*isPrivate=*/true);
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
  if (windowArgument())
    bv.window = fn.getArgument(argIndex++);
  auto ffnBackward = [&](Value d) {
    return ffnIsMoE() ? moeBackward(e, d, bv) : mlpBackward(e, d, bv);
  };
  auto add = [&](llvm::StringRef name, Value lhs, Value rhs) {
    return e.generic1(name, {{lhs, kHidden}, {rhs, kHidden}}, Out{kHidden, act},
                      [&](Ar &a, ValueRange v, IndexFn) {
                        return SmallVector<Value>{a.add(v[0], v[1])};
                      });
  };
  // A pre-norm's gradient joins the residual's; without pre-norms the
  // block's input gradient is added to it.
  auto preNormBackward = [&](llvm::StringRef block, Value dxn, Value dres) {
    if (!cfg.preNorms)
      return add((block + ".skip.bwd").str(), dxn, dres);
    return normBackward(e, block, dxn, dres, bv, ("layers." + block).str());
  };
  auto postNormBackward = [&](llvm::StringRef block, Value d) {
    if (!cfg.postNorms)
      return d;
    return normBackward(e, block, d, nullptr, bv, ("layers." + block).str());
  };
  auto attnBackward = [&](Value d) {
    return cfg.mla ? mlaAttentionBackward(e, d, bv)
                   : attentionBackward(e, d, bv);
  };
  Value dx;
  if (cfg.parallelResidual) {
    // out = x + attn(norm1(x)) + ffn(norm2(x)): three paths into dx.
    Value dxn2 = ffnBackward(postNormBackward("post_ffn_norm", dy));
    Value dxn1 = attnBackward(postNormBackward("post_attn_norm", dy));
    if (cfg.sharedParallelNorm) {
      dx = normBackward(e, "norm1", add("norm1.join.bwd", dxn1, dxn2), dy, bv,
                        "layers.norm1");
    } else {
      Value dPartial = preNormBackward("norm2", dxn2, dy);
      dx = preNormBackward("norm1", dxn1, dPartial);
    }
  } else {
    Value dxn2 = ffnBackward(postNormBackward("post_ffn_norm", dy));
    Value dh = preNormBackward("norm2", dxn2, dy);
    Value dxn1 = attnBackward(postNormBackward("post_attn_norm", dh));
    dx = preNormBackward("norm1", dxn1, dh);
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

} // namespace strata::workload::detail
