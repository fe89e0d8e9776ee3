//===- MLP.cpp - Dense MLP and mixture of experts ---------------------------===//
//
// The transformer generator: activations, the dense (gated or plain) MLP
// and the MoE block (router, exact top-k, expert batch matmuls, combine),
// forward and backward.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {


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
      contractWeight(e, "moe.expert_gate", {xq, "ech"}, wg, "ehi", "eci");
  Value eu = contractWeight(e, "moe.expert_up", {xq, "ech"}, wu, "ehi", "eci");
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
      contractWeight(e, "moe.expert_down", {ehq, "eci"}, wd, "eih", "ech");
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
  Value combined = e.generic1(
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
  if (!lv.w.lookup("layers.moe.shared.gate_proj.weight"))
    return combined;
  Value shared = sharedExperts(e, xn, lv);
  return e.generic1("moe.shared.add", {{combined, kHidden}, {shared, kHidden}},
                    Out{kHidden, act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.add(v[0], v[1])};
                    });
}

Value TransformerBuilder::sharedExperts(Emitter &e, Value xn, LayerValues &lv) {
  // Every token through all n_shared_experts at once: one gated MLP of
  // n_shared_experts x moe_intermediate_size (modeling_deepseek.py builds
  // them so).
  auto w = [&](llvm::StringRef n) { return lv.w.lookup(n); };
  Value gate =
      linear(e, "moe.shared.gate_proj", "", xn, kHidden,
             w("layers.moe.shared.gate_proj.weight"), "hi", "bsi", nullptr, "");
  Value up =
      linear(e, "moe.shared.up_proj", "", xn, kHidden,
             w("layers.moe.shared.up_proj.weight"), "hi", "bsi", nullptr, "");
  Value h =
      e.generic1("moe.shared.act", {{gate, "bsi"}, {up, "bsi"}},
                 Out{"bsi", act}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.mul(activation(a, v[0]), v[1])};
                 });
  lv.saved.save("moe.shared.gate", gate);
  lv.saved.save("moe.shared.up", up);
  lv.saved.save("moe.shared.act", h);
  return linear(e, "moe.shared.down_proj", "", h, "bsi",
                w("layers.moe.shared.down_proj.weight"), "ih", kHidden, nullptr,
                "");
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
  if (bv.w.lookup("layers.moe.shared.gate_proj.weight"))
    dxDispatch = sharedExpertsBackward(e, dOut, bv, dxDispatch);
  return linearBackward(e, "moe.router", "", dlogits, "bse", s("moe.in"),
                        kHidden, "layers.moe.router.weight", "he", "", "", bv,
                        dxDispatch);
}

Value TransformerBuilder::sharedExpertsBackward(Emitter &e, Value dOut,
                                                BackwardValues &bv,
                                                Value dxAcc) {
  auto s = [&](llvm::StringRef n) { return bv.s.lookup(n); };
  Value dh = linearBackward(
      e, "moe.shared.down_proj", "", dOut, kHidden, s("moe.shared.act"), "bsi",
      "layers.moe.shared.down_proj.weight", "ih", "", "", bv);
  SmallVector<Value> d = e.generic(
      "moe.shared.act.bwd",
      {{dh, "bsi"}, {s("moe.shared.gate"), "bsi"}, {s("moe.shared.up"), "bsi"}},
      {Out{"bsi", act}, Out{"bsi", act}}, [&](Ar &a, ValueRange v, IndexFn) {
        Value dGate = a.mul(a.mul(v[0], v[2]), activationGrad(a, v[1]));
        Value dUp = a.mul(v[0], activation(a, v[1]));
        return SmallVector<Value>{dGate, dUp};
      });
  Value xn = s("moe.in");
  Value dx = linearBackward(e, "moe.shared.gate_proj", "", d[0], "bsi", xn,
                            kHidden, "layers.moe.shared.gate_proj.weight", "hi",
                            "", "", bv, dxAcc);
  return linearBackward(e, "moe.shared.up_proj", "", d[1], "bsi", xn, kHidden,
                        "layers.moe.shared.up_proj.weight", "hi", "", "", bv,
                        dx);
}

} // namespace strata::workload::detail
