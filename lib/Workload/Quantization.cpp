//===- Quantization.cpp - Quantised projection weights --------------------===//
//
// --weight-dtype (and gpt-oss' MXFP4 experts): a projection weight is stored
// as its narrow elements plus one scale per group of consecutive elements
// along its reduction, and the contraction that reads it dequantises each
// element (element x its group's scale) as it loads it, as the fused
// kernels do (Marlin/AWQ, MXFP4 MoE, Tenstorrent's unpacker): the bf16
// weight is never stored. docs/workloads.md, "Quantised weights".
//
//===----------------------------------------------------------------------===//

#include "BuilderImpl.h"

using namespace mlir;

namespace strata::workload::detail {

std::optional<WeightQuant>
TransformerBuilder::quantOf(llvm::StringRef name) const {
  // Embeddings, norms, biases, the router and the LM head are not
  // projection weights of a layer (quantisation recipes keep them 16-bit).
  if (opts.mode == WorkloadMode::Train || !name.starts_with("layers.") ||
      name.ends_with(".scales") || name.ends_with(".bias") ||
      name.contains("norm") || name == "layers.moe.router.weight" ||
      name == "layers.attn.sinks")
    return std::nullopt;
  if (opts.weightQuant)
    return opts.weightQuant;
  if (cfg.mxfp4Experts && name.starts_with("layers.moe.experts."))
    return WeightQuant{WeightFormat::Mxfp4, 32};
  return std::nullopt;
}

Type TransformerBuilder::quantElem(const WeightQuant &q) const {
  switch (q.format) {
  case WeightFormat::Int8:
  case WeightFormat::Int8Grouped:
  case WeightFormat::Bfp8: // sign and 7-bit mantissa
    return IntegerType::get(ctx, 8);
  case WeightFormat::Int4Grouped:
  case WeightFormat::Bfp4: // sign and 3-bit mantissa
    return IntegerType::get(ctx, 4);
  case WeightFormat::Fp8:
    return Float8E4M3FNType::get(ctx);
  case WeightFormat::Mxfp4:
    return Float4E2M1FNType::get(ctx);
  }
  return act;
}

Type TransformerBuilder::scaleElem(const WeightQuant &q) const {
  // A block float's shared exponent is a power-of-two scale: E8M0.
  if (q.scaleBits() == 8)
    return Float8E8M0FNUType::get(ctx);
  return Float16Type::get(ctx);
}

std::string TransformerBuilder::reductionLetters(llvm::StringRef dims) {
  llvm::StringRef d = dims;
  if (d.size() > 2 && d.front() == 'e')
    d = d.drop_front();
  if (d.size() > 1 && d.back() == 'h')
    return d.drop_back().str();
  return d.take_front().str();
}

std::optional<WeightSpec>
TransformerBuilder::scalesSpec(const WeightSpec &w,
                               const WeightQuant &q) const {
  std::string red = reductionLetters(w.dims);
  int64_t reduction = 1;
  for (char c : red)
    reduction *= w.shape[w.dims.find(c)];
  int64_t group = q.group > 0 ? q.group : reduction;
  if (reduction % group != 0)
    return std::nullopt;
  WeightSpec s{w.name + ".scales", {}, scaleElem(q), ""};
  for (auto [i, c] : llvm::enumerate(w.dims)) {
    if (c == red.front()) {
      s.shape.push_back(reduction / group);
      s.dims.push_back(c);
    } else if (red.find(c) == std::string::npos) {
      s.shape.push_back(w.shape[i]);
      s.dims.push_back(c);
    }
  }
  return s;
}

Value TransformerBuilder::contractWeight(Emitter &e, llvm::StringRef name,
                                         In lhs, Value w, llvm::StringRef wDims,
                                         llvm::StringRef outDims) {
  Type wElemTy = cast<RankedTensorType>(w.getType()).getElementType();
  auto quant = quantOfValue.find(w);
  // fp8 weights (W8A8): the activation is quantised once and shared by its
  // matmuls; the matrix unit reads both natively.
  Type lhsElemTy = cast<RankedTensorType>(lhs.value.getType()).getElementType();
  if (wElemTy != act && lhsElemTy != wElemTy &&
      (quant == quantOfValue.end() ||
                         quant->second.format == WeightFormat::Fp8)) {
    Value &q = quantized[lhs.value];
    if (!q) {
      std::string block = name.rsplit('.').first.str();
      q = e.generic1(block + ".quant", {lhs}, Out{lhs.dims, wElemTy},
                     [&](Ar &a, ValueRange v, IndexFn) {
                       return SmallVector<Value>{a.conv(v[0], wElemTy)};
                     });
    }
    lhs.value = q;
  }
  Value scales = scalesOf.lookup(w);
  if (!scales)
    return e.contract(name, lhs, {w, wDims}, outDims, act);

  // out[outDims] += lhs * (w * scales[group of w's reduction index]).
  Location l = e.loc(name);
  std::string letters;
  for (llvm::StringRef dims : {outDims, lhs.dims, wDims})
    for (char c : dims)
      if (letters.find(c) == std::string::npos)
        letters.push_back(c);
  auto dim = [&](char c) { return b.getAffineDimExpr(letters.find(c)); };
  auto mapOf = [&](llvm::StringRef dims) {
    SmallVector<AffineExpr> exprs;
    for (char c : dims)
      exprs.push_back(dim(c));
    return AffineMap::get(letters.size(), 0, exprs, ctx);
  };
  ArrayRef<int64_t> wShape = shapeOf(w);
  std::string red = reductionLetters(wDims);
  AffineExpr linear = b.getAffineConstantExpr(0);
  int64_t reduction = 1;
  for (char c : red) {
    int64_t extent = wShape[wDims.find(c)];
    linear = linear * extent + dim(c);
    reduction *= extent;
  }
  // The scales' folded reduction sits where the weight's first reduction
  // letter does (the letters before it are not reduced).
  int64_t groups = shapeOf(scales)[wDims.find(red.front())];
  int64_t group = reduction / groups;
  SmallVector<AffineExpr> scaleExprs;
  for (char c : wDims) {
    if (c == red.front())
      scaleExprs.push_back(linear.floorDiv(group));
    else if (red.find(c) == std::string::npos)
      scaleExprs.push_back(dim(c));
  }
  SmallVector<int64_t> outShape;
  for (char c : outDims) {
    size_t pos = lhs.dims.find(c);
    outShape.push_back(pos != llvm::StringRef::npos
                           ? shapeOf(lhs.value)[pos]
                           : wShape[wDims.find(c)]);
  }
  // The accumulator is zeroed by the contraction's kernel itself.
  Value acc = e.zeros(l, outShape, act);
  acc.getDefiningOp()->setAttr(analysis::kFusedIntoAttrName,
                               cast<NameLoc>(l).getName());
  SmallVector<AffineMap> maps{
      mapOf(lhs.dims), mapOf(wDims),
      AffineMap::get(letters.size(), 0, scaleExprs, ctx), mapOf(outDims)};
  SmallVector<utils::IteratorType> iterators;
  for (char c : letters)
    iterators.push_back(outDims.contains(c) ? utils::IteratorType::parallel
                                            : utils::IteratorType::reduction);
  Type elem = act;
  auto op = linalg::GenericOp::create(
      b, l, TypeRange{acc.getType()}, ValueRange{lhs.value, w, scales},
      ValueRange{acc}, maps, iterators, /*doc=*/"", /*libraryCall=*/"",
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Ar a{nb, nl};
        // One op per statement: the order is the IR's.
        Value wf = isa<IntegerType>(args[1].getType())
                       ? arith::SIToFPOp::create(nb, nl, elem, args[1])
                             .getResult()
                       : a.conv(args[1], elem);
        Value scale = a.conv(args[2], elem);
        Value dequant = a.mul(wf, scale);
        Value x = a.conv(args[0], elem);
        Value p = a.mul(x, dequant);
        Value sum = a.add(args[3], p);
        linalg::YieldOp::create(nb, nl, sum);
      });
  return op.getResult(0);
}

} // namespace strata::workload::detail
