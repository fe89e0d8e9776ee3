//===- Variants.cpp - Attention variants of the newer families
//-------------===//
//
// The transformer generator's pieces for issue 19's attention variants:
// QK-norm (Qwen3 and Gemma 3 per head, OLMo 2 over the whole projection),
// the sliding-window mask (Mistral, Phi-3, Gemma 2/3, gpt-oss, Qwen2/3 with
// use_sliding_window), Gemma 2's logit soft-capping, gpt-oss's attention
// sinks, forward and backward.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {

namespace {
/// `x` (letters `dims`) with its trailing `reduced` letters collapsed into
/// one (a view: free), so that a norm reduces over a single dim.
struct Collapsed {
  SmallVector<int64_t> shape; // the collapsed shape
  std::string dims;           // the kept letters, then 'x'
  int64_t n = 1;              // elements reduced over
};
Collapsed collapseTrailing(ArrayRef<int64_t> shape, llvm::StringRef dims,
                           llvm::StringRef reduced) {
  assert(dims.ends_with(reduced) && "the norm reduces the trailing letters");
  Collapsed c;
  size_t kept = dims.size() - reduced.size();
  c.shape.assign(shape.begin(), shape.begin() + kept);
  for (int64_t d : shape.drop_front(kept))
    c.n *= d;
  c.shape.push_back(c.n);
  c.dims = (dims.take_front(kept) + "x").str();
  return c;
}
} // namespace

Value TransformerBuilder::rmsNormOver(Emitter &e, llvm::StringRef name, Value x,
                                      llvm::StringRef dims,
                                      llvm::StringRef reduced, Value gamma,
                                      Saved &saved) {
  std::string p = name.str();
  SmallVector<int64_t> shape(shapeOf(x));
  Collapsed c = collapseTrailing(shape, dims, reduced);
  std::string rest = c.dims.substr(0, c.dims.size() - 1);
  double invN = 1.0 / double(c.n), eps = cfg.normEps;
  Value xc = e.reshape(p + ".view", x, c.shape);
  saved.save(p + ".x", xc);
  Value sumsq =
      e.generic1(p + ".sumsq", {{xc, c.dims}}, Out{rest, act, 0.0},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[1], a.mul(v[0], v[0]))};
                 });
  Value rstd = e.generic1(p + ".rstd", {{sumsq, rest}}, Out{rest, act},
                          [&](Ar &a, ValueRange v, IndexFn) {
                            Value mean = a.mul(v[0], a.f(act, invN));
                            return SmallVector<Value>{
                                a.rsqrt(a.add(mean, a.f(act, eps)))};
                          });
  saved.save(p + ".rstd", rstd);
  Value y =
      e.generic1(p + ".scale", {{xc, c.dims}, {rstd, rest}, {gamma, "x"}},
                 Out{c.dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.mul(a.mul(v[0], v[1]), v[2])};
                 });
  return e.reshape(p + ".view", y, shape);
}

Value TransformerBuilder::rmsNormOverBackward(Emitter &e, llvm::StringRef name,
                                              Value dy, llvm::StringRef dims,
                                              llvm::StringRef reduced,
                                              llvm::StringRef gammaName,
                                              BackwardValues &bv) {
  std::string p = name.str();
  Value x = bv.s.lookup(p + ".x"), rstd = bv.s.lookup(p + ".rstd");
  Value gamma = bv.w.lookup(gammaName);
  SmallVector<int64_t> shape(shapeOf(dy));
  Collapsed c = collapseTrailing(shape, dims, reduced);
  std::string rest = c.dims.substr(0, c.dims.size() - 1);
  double invN = 1.0 / double(c.n);
  Value dyc = e.reshape(p + ".bwd_view", dy, c.shape);
  bv.grads[gammaName] = e.generic1(
      p + ".bwd_dw", {{dyc, c.dims}, {x, c.dims}, {rstd, rest}},
      Out{"x", act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
        return SmallVector<Value>{a.add(v[3], a.mul(a.mul(v[0], v[1]), v[2]))};
      });
  Value dot = e.generic1(
      p + ".bwd_dot", {{dyc, c.dims}, {x, c.dims}, {gamma, "x"}},
      Out{rest, act, 0.0}, [&](Ar &a, ValueRange v, IndexFn) {
        return SmallVector<Value>{a.add(v[3], a.mul(a.mul(v[0], v[2]), v[1]))};
      });
  // dx = rstd * (dy * g - x * rstd^2 * sum(dy * g * x) / n)
  Value dx = e.generic1(
      p + ".bwd_dx",
      {{dyc, c.dims}, {x, c.dims}, {rstd, rest}, {gamma, "x"}, {dot, rest}},
      Out{c.dims, act}, [&](Ar &a, ValueRange v, IndexFn) {
        Value r = v[2];
        Value xr2 = a.mul(a.mul(v[1], r), r);
        Value dotN = a.mul(v[4], a.f(act, invN));
        Value proj = a.mul(xr2, dotN);
        return SmallVector<Value>{a.mul(r, a.sub(a.mul(v[0], v[3]), proj))};
      });
  return e.reshape(p + ".bwd_view", dx, shape);
}

std::string TransformerBuilder::qkNormLetters(bool query) const {
  std::string hd = qkHead();
  if (cfg.qkNorm == ModelConfig::QKNorm::Whole)
    return (query ? "kg" : "k") + hd;
  return hd;
}

int64_t TransformerBuilder::qkNormSize(bool query) const {
  if (cfg.qkNorm == ModelConfig::QKNorm::Whole)
    return (query ? NH : KVH) * D;
  return D;
}

Value TransformerBuilder::visible(Ar &a, IndexFn idx, Value window) const {
  // Key slot t holds position t + cacheBase; query s is at s + offset.
  // Operands are built one statement at a time: C++ leaves the order of
  // argument evaluation unspecified, and the IR must not depend on the
  // compiler that built Strata.
  Value key = idx('t');
  if (cacheBase) {
    Value base = a.i(cacheBase);
    key = a.iadd(key, base);
  }
  Value s = idx('s');
  Value offset = a.i(positionOffset);
  Value query = a.iadd(s, offset);
  Value causal = a.icmp(arith::CmpIPredicate::ule, key, query);
  if (!window && !constWindow)
    return causal;
  // Within the window: query - window < key, i.e. key + window > query.
  Value w = window ? window : a.i(constWindow);
  Value reach = a.iadd(key, w);
  Value inWindow = a.icmp(arith::CmpIPredicate::ugt, reach, query);
  return a.band(causal, inWindow);
}

Value TransformerBuilder::scaledScore(Ar &a, Value raw) const {
  double scale =
      1.0 / std::sqrt(cfg.queryScalar > 0 ? cfg.queryScalar : double(D));
  Value x = a.mul(raw, a.f(act, scale));
  if (cfg.attnSoftcap <= 0)
    return x;
  double cap = cfg.attnSoftcap;
  Value invCap = a.f(act, 1.0 / cap);
  Value t = a.tanh(a.mul(x, invCap));
  Value capV = a.f(act, cap);
  return a.mul(capV, t);
}

Value TransformerBuilder::scaledScoreGrad(Ar &a, Value raw, Value d) const {
  double scale =
      1.0 / std::sqrt(cfg.queryScalar > 0 ? cfg.queryScalar : double(D));
  Value ds = a.mul(d, a.f(act, scale));
  if (cfg.attnSoftcap <= 0)
    return ds;
  // d/dx cap * tanh(x / cap) = 1 - tanh(x / cap)^2
  Value t = a.tanh(a.mul(raw, a.f(act, scale / cfg.attnSoftcap)));
  Value t2 = a.mul(t, t);
  Value one = a.f(act, 1.0);
  return a.mul(ds, a.sub(one, t2));
}

Value TransformerBuilder::softmaxWithSinks(Emitter &e, Value x, Value sinks) {
  // The sink is one more logit per head in the max and the sum; its own
  // probability is dropped (it weights no value).
  Value mx =
      e.generic1("attn.softmax.max", {{x, "bkgst"}}, Out{"bkgs", act, kLowest},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.max(v[1], v[0])};
                 });
  mx = e.generic1("attn.softmax.sink_max", {{mx, "bkgs"}, {sinks, "kg"}},
                  Out{"bkgs", act}, [&](Ar &a, ValueRange v, IndexFn) {
                    return SmallVector<Value>{a.max(v[0], v[1])};
                  });
  Value ex = e.generic1("attn.softmax.exp", {{x, "bkgst"}, {mx, "bkgs"}},
                        Out{"bkgst", act}, [&](Ar &a, ValueRange v, IndexFn) {
                          return SmallVector<Value>{a.exp(a.sub(v[0], v[1]))};
                        });
  Value sum =
      e.generic1("attn.softmax.sum", {{ex, "bkgst"}}, Out{"bkgs", act, 0.0},
                 [&](Ar &a, ValueRange v, IndexFn) {
                   return SmallVector<Value>{a.add(v[1], v[0])};
                 });
  sum = e.generic1(
      "attn.softmax.sink", {{sum, "bkgs"}, {sinks, "kg"}, {mx, "bkgs"}},
      Out{"bkgs", act}, [&](Ar &a, ValueRange v, IndexFn) {
        return SmallVector<Value>{a.add(v[0], a.exp(a.sub(v[1], v[2])))};
      });
  return e.generic1("attn.softmax.div", {{ex, "bkgst"}, {sum, "bkgs"}},
                    Out{"bkgst", act}, [&](Ar &a, ValueRange v, IndexFn) {
                      return SmallVector<Value>{a.div(v[0], v[1])};
                    });
}

Value TransformerBuilder::softcapLogits(Emitter &e, Value logits) {
  double cap = cfg.finalSoftcap;
  return e.generic1("lm_head.softcap", {{logits, "bsv"}}, Out{"bsv", act},
                    [&](Ar &a, ValueRange v, IndexFn) {
                      Value t = a.tanh(a.mul(v[0], a.f(act, 1.0 / cap)));
                      return SmallVector<Value>{a.mul(t, a.f(act, cap))};
                    });
}

Value TransformerBuilder::softcapLogitsBackward(Emitter &e, Value dlogits,
                                                Value capped) {
  double cap = cfg.finalSoftcap;
  return e.generic1("lm_head.softcap.bwd", {{dlogits, "bsv"}, {capped, "bsv"}},
                    Out{"bsv", act}, [&](Ar &a, ValueRange v, IndexFn) {
                      Value t = a.mul(v[1], a.f(act, 1.0 / cap));
                      Value t2 = a.mul(t, t);
                      Value one = a.f(act, 1.0);
                      return SmallVector<Value>{a.mul(v[0], a.sub(one, t2))};
                    });
}

Value TransformerBuilder::layerWindow(OpBuilder &ob, Location loc,
                                      Value l) const {
  // A global layer's "window" reaches past every position.
  Ar a{ob, loc};
  Value wide = a.i(T + 1), local = a.i(std::min(cfg.slidingWindow, T + 1));
  const std::vector<bool> &pattern = cfg.slidingLayers;
  // Periodic patterns (Gemma 2, gpt-oss: 2; Gemma 3: 6): layer l is local
  // as layer l mod P is.
  for (int64_t period = 1; period <= 8 && period < L; ++period) {
    bool periodic = true;
    for (int64_t i = period; i < L && periodic; ++i)
      periodic = pattern[i] == pattern[i % period];
    if (!periodic)
      continue;
    Value r = a.irem(l, a.i(period));
    Value w = wide;
    for (int64_t j = 0; j < period; ++j)
      if (pattern[j])
        w = a.sel(a.icmp(arith::CmpIPredicate::eq, r, a.i(j)), local, w);
    return w;
  }
  // Qwen2/3's max_window_layers: global below the first local layer,
  // local from it on.
  int64_t first = 0;
  while (first < L && !pattern[first])
    ++first;
  return a.sel(a.icmp(arith::CmpIPredicate::uge, l, a.i(first)), local, wide);
}

} // namespace strata::workload::detail
