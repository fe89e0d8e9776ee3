//===- MLA.cpp - Multi-head latent attention (DeepSeek-V2/V3)
//---------------===//
//
// The transformer generator: MLA as modeling_deepseek.py computes it, with
// the projections split where the model slices their outputs (q_b_proj into
// its no-RoPE and RoPE columns, kv_a_proj_with_mqa into the latent and the
// shared RoPE key, kv_b_proj into K and V) so that no op slices a tensor.
//
// Two forms compute the same attention. Expanded: the latent is decompressed
// into per-head K and V for every position (what training and prefill do).
// Weight-absorbed: kv_b_proj's K half is folded into the query and its V
// half applied after the weighted sum, so attention reads the latent cache
// directly (DeepSeek's decode). The generator picks the one with fewer
// FLOPs unless told (--mla-attention), and records both counts.
//
// Letters: q heads, d no-RoPE head dim, u value head dim, l latent
// (kv_lora_rank), a query latent (q_lora_rank), (j, p) RoPE pairs.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"
#include "strata/Analysis/OpCounts.h"

using namespace mlir;

namespace strata::workload::detail {

TransformerBuilder::MlaFlops TransformerBuilder::mlaFlops() const {
  const MlaConfig &m = *cfg.mla;
  // Only the matmuls that differ between the forms; both share the
  // projections from the hidden state, the RoPE scores and o_proj.
  double b = double(B), s = double(S), t = double(T), q = double(NH),
         l = double(m.kvLoraRank), d = double(m.qkNopeHeadDim),
         u = double(m.vHeadDim);
  MlaFlops f;
  f.expanded = 2 * b * t * l * q * (d + u) + 2 * b * s * t * q * (d + u);
  f.absorbed = 2 * b * s * q * l * (d + u) + 4 * b * s * t * q * l;
  return f;
}

Value TransformerBuilder::latentNorm(Emitter &e, llvm::StringRef block, Value x,
                                     llvm::StringRef dims, Value gamma,
                                     Saved &saved) {
  // RMSNorm over the last letter of `dims` (the latent), as norm() does over
  // the hidden size.
  std::string p = block.str();
  std::string tokens = dims.drop_back().str(), last = dims.take_back().str();
  double inv = 1.0 / double(shapeOf(x).back()), eps = cfg.normEps;
  saved.save(p + ".x", x);
  Value sumsq =
      e.generic1(p + ".sumsq", {{x, dims}}, Out{tokens, act, 0.0},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[1], a.mul(v[0], v[0]))};
                 });
  Value rstd = e.generic1(p + ".rstd", {{sumsq, tokens}}, Out{tokens, act},
                          [&](Ar &a, ValueRange v, IndexFn) {
                            Value mean = a.mul(v[0], a.f(act, inv));
                            return SmallVector<Value>{
                                a.rsqrt(a.add(mean, a.f(act, eps)))};
                          });
  saved.save(p + ".rstd", rstd);
  return e.generic1(p + ".scale", {{x, dims}, {rstd, tokens}, {gamma, last}},
                    Out{dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.mul(a.mul(v[0], v[1]), v[2])};
                    });
}

Value TransformerBuilder::mlaAttention(Emitter &e, Value xn, LayerValues &lv) {
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  const MlaConfig &m = *cfg.mla;
  lv.saved.save("attn.in", xn);
  // Queries: through the q_lora_rank bottleneck (q_a_proj, q_a_layernorm,
  // q_b_proj) or straight from the hidden state (q_proj).
  Value qIn = xn;
  std::string qDims = kHidden.str(), qw = "h";
  std::string qProj = "attn.q_proj";
  if (m.qLoraRank > 0) {
    Value qa =
        linear(e, "attn.q_a_proj", "", xn, kHidden,
               w("layers.attn.q_a_proj.weight"), "ha", "bsa", nullptr, "");
    markWeightReaders(w("layers.attn.q_a_proj.weight"), analysis::kTpReplicatedAttrName);
    qIn = latentNorm(e, "attn.q_a_norm", qa, "bsa",
                     w("layers.attn.q_a_norm.weight"), lv.saved);
    lv.saved.save("attn.q_latent", qIn);
    qDims = "bsa";
    qw = "a";
    qProj = "attn.q_b_proj";
  }
  std::string qWeight = "layers." + qProj;
  Value qNope =
      linear(e, qProj + ".nope", "", qIn, qDims, w(qWeight + ".nope.weight"),
             qw + "qd", "bsqd", nullptr, "");
  Value qRope =
      linear(e, qProj + ".rope", "", qIn, qDims, w(qWeight + ".rope.weight"),
             qw + "qjp", "bsqjp", nullptr, "");
  qRope = rope(e, "attn.rope_q", qRope, "q", lv.rot);
  // The compressed KV: the latent (kv_a_proj_with_mqa's first kv_lora_rank
  // outputs, then kv_a_layernorm) and one RoPE key shared by all heads.
  Value latent =
      linear(e, "attn.kv_a_proj", "", xn, kHidden,
             w("layers.attn.kv_a_proj.weight"), "hl", "bsl", nullptr, "");
  markWeightReaders(w("layers.attn.kv_a_proj.weight"), analysis::kTpReplicatedAttrName);
  latent = latentNorm(e, "attn.kv_a_norm", latent, "bsl",
                      w("layers.attn.kv_a_norm.weight"), lv.saved);
  Value kRope =
      linear(e, "attn.k_rope_proj", "", xn, kHidden,
             w("layers.attn.k_rope_proj.weight"), "hjp", "bsjp", nullptr, "");
  markWeightReaders(w("layers.attn.k_rope_proj.weight"), analysis::kTpReplicatedAttrName);
  kRope = rope(e, "attn.rope_k", kRope, "", lv.rot);
  Value latents = latent, keysRope = kRope;
  if (decoding()) {
    // The cache holds the latent and the RoPE key, nothing per head.
    lv.kNew = latent;
    lv.vNew = kRope;
    // cacheBase is 0: validateModelConfig refuses windows with MLA.
    latents = appendToCache(e, latent, lv.kCache, "l");
    keysRope = appendToCache(e, kRope, lv.vCache, "jp");
  }
  lv.saved.save("attn.q_nope", qNope);
  lv.saved.save("attn.q_rope", qRope);
  lv.saved.save("attn.latent", latents);
  lv.saved.save("attn.k_rope", keysRope);
  Value wk = w("layers.attn.kv_b_proj.k.weight");
  Value wv = w("layers.attn.kv_b_proj.v.weight");
  bool absorbed = mlaAbsorbed();
  // Quantised kv_b_proj weights are dequantised as they are read.
  auto byWeight = [&](llvm::StringRef name, In lhs, Value wt,
                      llvm::StringRef dims, llvm::StringRef out) {
    if (quantOfValue.count(wt))
      return contractWeight(e, name, lhs, wt, dims, out);
    return e.contract(name, lhs, {wt, dims}, out, act);
  };
  Value scores, values;
  if (absorbed) {
    // q_nope . (W_k latent) = (q_nope W_k^T) . latent.
    Value qLat =
        byWeight("attn.q_absorb", {qNope, "bsqd"}, wk, "lqd", "bsql");
    markWeightReaders(wk, analysis::kHeadParallelAttrName);
    scores = e.contract("attn.qk_latent", {qLat, "bsql"}, {latents, "btl"},
                        "bqst", act);
  } else {
    Value kNope = byWeight("attn.kv_b_proj.k", {latents, "btl"}, wk, "lqd", "btqd");
    values = byWeight("attn.kv_b_proj.v", {latents, "btl"}, wv, "lqu", "btqu");
    lv.saved.save("attn.k_nope", kNope);
    lv.saved.save("attn.v", values);
    scores = e.contract("attn.qk_matmul", {qNope, "bsqd"}, {kNope, "btqd"},
                        "bqst", act);
  }
  scores = e.contract("attn.qk_rope", {qRope, "bsqjp"}, {keysRope, "btjp"},
                      "bqst", act, scores);
  double scale = 1.0 / std::sqrt(double(m.qkHeadDim()));
  Value masked = e.generic1(
      "attn.mask", {{scores, "bqst"}}, Out{"bqst", act},
      [&](Ar &a, ValueRange v, IndexFn idx) {
        Value score = a.mul(v[0], a.f(act, scale));
        Value seen = visible(a, idx, Value());
        Value hidden = a.f(act, kLowest);
        return SmallVector<Value>{a.sel(seen, score, hidden)};
      });
  Value probs = softmaxLastDim(e, "attn.softmax", masked, "bqst", "bqs");
  lv.saved.save("attn.probs", probs);
  Value ctxv;
  if (absorbed) {
    Value ctxLat = e.contract("attn.av_latent", {probs, "bqst"},
                              {latents, "btl"}, "bsql", act);
    ctxv =
        byWeight("attn.v_absorb", {ctxLat, "bsql"}, wv, "lqu", "bsqu");
    markWeightReaders(wv, analysis::kHeadParallelAttrName);
  } else {
    ctxv = e.contract("attn.av_matmul", {probs, "bqst"}, {values, "btqu"},
                      "bsqu", act);
  }
  lv.saved.save("attn.ctx", ctxv);
  return linear(e, "attn.o_proj", "", ctxv, "bsqu",
                w("layers.attn.o_proj.weight"), "quh", kHidden, nullptr, "");
}

} // namespace strata::workload::detail

namespace strata::workload::detail {

Value TransformerBuilder::latentNormBackward(Emitter &e, llvm::StringRef block,
                                             Value dy, llvm::StringRef dims,
                                             BackwardValues &bv,
                                             llvm::StringRef weight) {
  // latentNorm()'s RMSNorm backward over the last letter of `dims`.
  std::string p = block.str();
  std::string tokens = dims.drop_back().str(), last = dims.take_back().str();
  Value x = bv.s.lookup(p + ".x"), rstd = bv.s.lookup(p + ".rstd");
  Value gamma = bv.w.lookup(weight);
  double inv = 1.0 / double(shapeOf(x).back());
  bv.grads[weight] = e.generic1(
      p + ".bwd_dw", {{dy, dims}, {x, dims}, {rstd, tokens}},
      Out{last, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
        return SmallVector<Value>{a.add(v[3], a.mul(a.mul(v[0], v[1]), v[2]))};
      });
  Value dot = e.generic1(
      p + ".bwd_dot", {{dy, dims}, {x, dims}, {gamma, last}},
      Out{tokens, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
        return SmallVector<Value>{a.add(v[3], a.mul(a.mul(v[0], v[2]), v[1]))};
      });
  // dx = rstd * (dy * g - x * rstd^2 * sum(dy * g * x) / n)
  return e.generic1(
      p + ".bwd_dx",
      {{dy, dims}, {x, dims}, {rstd, tokens}, {gamma, last}, {dot, tokens}},
      Out{dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
        Value r = v[2];
        Value xr2 = a.mul(a.mul(v[1], r), r);
        Value dotN = a.mul(v[4], a.f(act, inv));
        Value proj = a.mul(xr2, dotN);
        return SmallVector<Value>{a.mul(r, a.sub(a.mul(v[0], v[3]), proj))};
      });
}

void TransformerBuilder::markWeightReaders(Value weight, llvm::StringRef attr) {
  SmallVector<Value> reads{weight};
  for (size_t i = 0; i < reads.size(); ++i)
    for (Operation *user : reads[i].getUsers()) {
      auto op = dyn_cast<linalg::LinalgOp>(user);
      if (!op)
        continue;
      if (op.getNumDpsInputs() == 1)
        llvm::append_range(reads, user->getResults()); // a dequantisation
      else
        user->setAttr(attr, b.getUnitAttr());
    }
}

Value TransformerBuilder::mlaAttentionBackward(Emitter &e, Value dOut,
                                               BackwardValues &bv) {
  // The expanded form's backward (training never absorbs), op by op in
  // reverse.
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  const MlaConfig &m = *cfg.mla;
  Value dctx =
      linearBackward(e, "attn.o_proj", "", dOut, kHidden, s("attn.ctx"), "bsqu",
                     "layers.attn.o_proj.weight", "quh", "", "", bv);
  Value probs = s("attn.probs");
  Value dp = e.contract("attn.av_matmul.bwd_dx", {s("attn.v"), "btqu"},
                        {dctx, "bsqu"}, "bqst", act);
  Value dv = e.contract("attn.av_matmul.bwd_dw", {probs, "bqst"},
                        {dctx, "bsqu"}, "btqu", act);
  Value ds = softmaxBackward(e, "attn.softmax", dp, probs, "bqst", "bqs");
  double scale = 1.0 / std::sqrt(double(m.qkHeadDim()));
  Value dsMasked =
      e.generic1("attn.mask.bwd", {{ds, "bqst"}}, Out{"bqst", act},
                 [&](Ar &a, ValueRange v, IndexFn idx) {
                   Value grad = a.mul(v[0], a.f(act, scale));
                   Value seen = visible(a, idx, Value());
                   Value zero = a.f(act, 0.0);
                   return SmallVector<Value>{a.sel(seen, grad, zero)};
                 });
  Value dqNope = e.contract("attn.qk_matmul.bwd_dx", {s("attn.k_nope"), "btqd"},
                            {dsMasked, "bqst"}, "bsqd", act);
  Value dkNope = e.contract("attn.qk_matmul.bwd_dw", {s("attn.q_nope"), "bsqd"},
                            {dsMasked, "bqst"}, "btqd", act);
  Value dqRope = e.contract("attn.qk_rope.bwd_dx", {s("attn.k_rope"), "btjp"},
                            {dsMasked, "bqst"}, "bsqjp", act);
  Value dkRope = e.contract("attn.qk_rope.bwd_dw", {s("attn.q_rope"), "bsqjp"},
                            {dsMasked, "bqst"}, "btjp", act);
  dqRope = ropeBackward(e, "attn.rope_q", dqRope, "q", bv.rot);
  dkRope = ropeBackward(e, "attn.rope_k", dkRope, "", bv.rot);
  // kv_b_proj: both halves read the latent.
  Value latent = s("attn.latent");
  Value dLatent =
      linearBackward(e, "attn.kv_b_proj.k", "", dkNope, "btqd", latent, "btl",
                     "layers.attn.kv_b_proj.k.weight", "lqd", "", "", bv);
  dLatent = linearBackward(e, "attn.kv_b_proj.v", "", dv, "btqu", latent, "btl",
                           "layers.attn.kv_b_proj.v.weight", "lqu", "", "", bv,
                           dLatent);
  dLatent = latentNormBackward(e, "attn.kv_a_norm", dLatent, "bsl", bv,
                               "layers.attn.kv_a_norm.weight");
  Value xn = s("attn.in");
  Value dxn =
      linearBackward(e, "attn.kv_a_proj", "", dLatent, "bsl", xn, kHidden,
                     "layers.attn.kv_a_proj.weight", "hl", "", "", bv);
  dxn =
      linearBackward(e, "attn.k_rope_proj", "", dkRope, "bsjp", xn, kHidden,
                     "layers.attn.k_rope_proj.weight", "hjp", "", "", bv, dxn);
  // Queries.
  bool lora = m.qLoraRank > 0;
  std::string q = lora ? "attn.q_b_proj" : "attn.q_proj";
  std::string qw = lora ? "a" : "h";
  Value qIn = lora ? s("attn.q_latent") : xn;
  std::string qDims = lora ? "bsa" : kHidden.str();
  Value dqIn = lora ? Value() : dxn;
  dqIn = linearBackward(e, q + ".nope", "", dqNope, "bsqd", qIn, qDims,
                        "layers." + q + ".nope.weight", qw + "qd", "", "", bv,
                        dqIn);
  dqIn = linearBackward(e, q + ".rope", "", dqRope, "bsqjp", qIn, qDims,
                        "layers." + q + ".rope.weight", qw + "qjp", "", "", bv,
                        dqIn);
  if (!lora)
    return dqIn;
  Value dqa = latentNormBackward(e, "attn.q_a_norm", dqIn, "bsa", bv,
                                 "layers.attn.q_a_norm.weight");
  return linearBackward(e, "attn.q_a_proj", "", dqa, "bsa", xn, kHidden,
                        "layers.attn.q_a_proj.weight", "ha", "", "", bv, dxn);
}

} // namespace strata::workload::detail
