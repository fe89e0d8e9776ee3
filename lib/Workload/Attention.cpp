//===- Attention.cpp - Attention, RoPE and softmax --------------------------===//
//
// The transformer generator: the attention block (RoPE, QK^T, mask,
// softmax, AV; GQA by head groups) and its backward.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {

//===----------------------------------------------------------------------===//
// Forward pieces
//===----------------------------------------------------------------------===//


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

Value TransformerBuilder::appendToCache(Emitter &e, Value fresh, Value cache,
                                        llvm::StringRef inner) {
  // `fresh` [b, s, inner...] goes to positions positionOffset.. of `cache`
  // [b, t, inner...], quantised to the cache's type (kvty). Under a window
  // the cache keeps only the slots the window can still see: slot t holds
  // position t + cacheBase.
  std::string from = ("bs" + inner).str(), to = ("bt" + inner).str();
  int64_t offset = positionOffset - cacheBase;
  return e.generic1(
      "attn.kv_append", {{fresh, from}}, Out{to, kvty, std::nullopt, cache},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value slot = idx('t');
        Value s = idx('s');
        Value at = a.iadd(s, a.i(offset));
        Value mine = a.icmp(arith::CmpIPredicate::eq, slot, at);
        return SmallVector<Value>{a.sel(mine, a.conv(v[0], kvty), v[1])};
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
  if (cfg.qkNorm != ModelConfig::QKNorm::None) {
    q = rmsNormOver(e, "attn.q_norm", q, "bskg" + hd, qkNormLetters(true),
                    w("layers.attn.q_norm.weight"), lv.saved);
    k = rmsNormOver(e, "attn.k_norm", k, "bsk" + hd, qkNormLetters(false),
                    w("layers.attn.k_norm.weight"), lv.saved);
  }
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
    keys = appendToCache(e, k, lv.kCache, "k" + hd);
    values = appendToCache(e, v, lv.vCache, "kd");
  }
  lv.saved.save("attn.q", q);
  lv.saved.save("attn.k", keys);
  lv.saved.save("attn.v", values);
  // Grouped-query attention: query head (k, g) reads kv head k; the
  // broadcast over g is in the indexing maps, K/V are never copied.
  Value scores = e.contract("attn.qk_matmul", {q, "bskg" + hd},
                            {keys, "btk" + hd}, "bkgst", act);
  if (cfg.attnSoftcap > 0)
    lv.saved.save("attn.scores", scores);
  // Causal mask over the full square: key t is visible to query s when
  // t <= s + offset (and, in a windowed layer, within the window). The
  // scale (Gemma: 1 / sqrt(query_pre_attn_scalar)) and Gemma 2's soft-cap
  // are in the same elementwise op.
  Value window = lv.window;
  Value masked = e.generic1(
      cfg.attnSoftcap > 0 ? "attn.softcap_mask" : "attn.mask",
      {{scores, "bkgst"}}, Out{"bkgst", act},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value score = scaledScore(a, v[0]);
        Value seen = visible(a, idx, window);
        Value hidden = a.f(act, kLowest);
        return SmallVector<Value>{a.sel(seen, score, hidden)};
      });
  Value probs =
      cfg.attentionSinks
          ? softmaxWithSinks(e, masked, w("layers.attn.sinks"))
          : softmaxLastDim(e, "attn.softmax", masked, "bkgst", "bkgs");
  lv.saved.save("attn.probs", probs);
  Value ctxv = e.contract("attn.av_matmul", {probs, "bkgst"}, {values, "btkd"},
                          "bskgd", act);
  lv.saved.save("attn.ctx", ctxv);
  return linear(e, "attn.o_proj", "attn.o_bias", ctxv, "bskgd",
                w("layers.attn.o_proj.weight"), "kgdh", kHidden,
                w("layers.attn.o_proj.bias"), "h");
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
  if (cfg.attentionSinks) {
    // The sink's logit gets -p_sink * sum_t(dP * P) per row, with
    // p_sink = 1 - sum_t P.
    SmallVector<Value> rows = e.generic(
        "attn.softmax.sink.bwd_rows", {{probs, "bkgst"}, {dp, "bkgst"}},
        {Out{"bkgs", act, 0.0}, Out{"bkgs", act, 0.0}},
        [&](Ar &a, ValueRange v, IndexFn) {
          return SmallVector<Value>{a.add(v[2], v[0]),
                                    a.add(v[3], a.mul(v[0], v[1]))};
        });
    bv.grads["layers.attn.sinks"] = e.generic1(
        "attn.softmax.sink.bwd", {{rows[0], "bkgs"}, {rows[1], "bkgs"}},
        Out{"kg", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
          Value sinkP = a.sub(a.f(act, 1.0), v[0]);
          return SmallVector<Value>{a.sub(v[2], a.mul(sinkP, v[1]))};
        });
  }
  Value window = bv.window;
  SmallVector<In> maskIns{{ds, "bkgst"}};
  if (cfg.attnSoftcap > 0)
    maskIns.push_back({s("attn.scores"), "bkgst"});
  Value dsMasked = e.generic1(
      cfg.attnSoftcap > 0 ? "attn.softcap_mask.bwd" : "attn.mask.bwd", maskIns,
      Out{"bkgst", act}, [&](Ar &a, ValueRange v, IndexFn idx) {
        Value raw = cfg.attnSoftcap > 0 ? v[1] : Value();
        Value grad = scaledScoreGrad(a, raw, v[0]);
        Value seen = visible(a, idx, window);
        Value zero = a.f(act, 0.0);
        return SmallVector<Value>{a.sel(seen, grad, zero)};
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
  if (cfg.qkNorm != ModelConfig::QKNorm::None) {
    dq = rmsNormOverBackward(e, "attn.q_norm", dq, "bskg" + hd,
                             qkNormLetters(true), "layers.attn.q_norm.weight",
                             bv);
    dk = rmsNormOverBackward(e, "attn.k_norm", dk, "bsk" + hd,
                             qkNormLetters(false), "layers.attn.k_norm.weight",
                             bv);
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

} // namespace strata::workload::detail
