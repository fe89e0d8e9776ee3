//===- Optimizer.cpp - Adam -------------------------------------------------===//
//
// The transformer generator: the optimizer step over every parameter.
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {


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

} // namespace strata::workload::detail
