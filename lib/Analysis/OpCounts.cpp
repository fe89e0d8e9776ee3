//===- OpCounts.cpp - FLOPs and bytes of linalg programs ------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Dialect/Tile/IR/TileOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace strata::analysis {

llvm::StringRef stringifyOpClass(OpClass cls) {
  switch (cls) {
  case OpClass::Contraction:
    return "contraction";
  case OpClass::Elementwise:
    return "elementwise";
  case OpClass::Reduction:
    return "reduction";
  case OpClass::DataMovement:
    return "data_movement";
  case OpClass::Kernel:
    return "kernel";
  case OpClass::Collective:
    return "collective";
  }
  return "?";
}

/// Maps an element type to the hardware dtype whose rate applies. Integer
/// and index arithmetic (masks, top-k indices) runs at f32 vector rates;
/// 4-bit integers (packed weights) at the int8 rate, the narrowest integer
/// rate the hardware model has; complex numbers at their parts' rate.
hw::DType toDType(Type t) {
  if (auto c = dyn_cast<ComplexType>(t))
    return toDType(c.getElementType());
  if (t.isF64())
    return hw::DType::f64;
  if (t.isF32())
    return hw::DType::f32;
  if (t.isBF16())
    return hw::DType::bf16;
  if (t.isF16())
    return hw::DType::fp16;
  if (auto f = dyn_cast<FloatType>(t)) {
    if (f.getWidth() == 8)
      return hw::DType::fp8;
    if (f.getWidth() <= 4)
      return hw::DType::fp4;
  }
  if (t.isInteger(8) || t.isInteger(4))
    return hw::DType::int8;
  return hw::DType::f32;
}


/// Storage bytes of one element (sub-byte types are fractional: two i4 or
/// f4 values pack into a byte, eight i1 — as tile buffers count them); 0
/// for element types without a storage size (never read as a float).
double elementBytes(Type t) {
  if (t.isIndex())
    return 8;
  if (t.isIntOrFloat())
    return t.getIntOrFloatBitWidth() / 8.0;
  if (auto c = dyn_cast<ComplexType>(t))
    return 2 * elementBytes(c.getElementType());
  return 0;
}

namespace {

/// Bytes of a statically shaped tensor/memref, 0 for scalars, nullopt for
/// dynamic shapes.
std::optional<double> staticBytes(Type t) {
  auto shaped = dyn_cast<ShapedType>(t);
  if (!shaped)
    return 0.0;
  if (!shaped.hasStaticShape())
    return std::nullopt;
  return double(shaped.getNumElements()) *
         elementBytes(shaped.getElementType());
}

bool isTensorLike(Type t) { return isa<ShapedType>(t); }

bool touchesTensors(Operation *op) {
  return llvm::any_of(op->getOperandTypes(), isTensorLike) ||
         llvm::any_of(op->getResultTypes(), isTensorLike);
}

/// Whether an op inside a linalg body is free (conversions, constants,
/// index computations, the terminator).
bool isFreeBodyOp(Operation &op) {
  if (isa<linalg::YieldOp, linalg::IndexOp, arith::ConstantOp, arith::ExtFOp,
          arith::TruncFOp, arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
          arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp,
          arith::IndexCastOp, arith::IndexCastUIOp, arith::BitcastOp,
          tensor::ExtractOp>(op))
    return true;
  // Address arithmetic on indices (gather positions, mask coordinates) is
  // integer-unit work, not data-path FLOPs.
  return llvm::all_of(op.getResultTypes(),
                      [](Type t) { return t.isIndex(); }) &&
         op.getNumResults() > 0;
}

/// Real operations of a complex op in a linalg body: a complex multiply is
/// 4 real multiplies and 2 adds, an add or subtract 2 adds; a division
/// (a+bi)/(c+di) 6 multiplies, 3 adds and 2 divides. Functions of a complex
/// value (exp, log, abs, ...) are one transcendental of each part.
/// Building or splitting a complex value (create, re, im) is free.
struct ComplexWork {
  double flops = 0, transcendentals = 0;
};
std::optional<ComplexWork> complexWork(Operation &op) {
  if (!isa_and_present<complex::ComplexDialect>(op.getDialect()))
    return std::nullopt;
  if (isa<complex::CreateOp, complex::ReOp, complex::ImOp,
          complex::ConstantOp, complex::BitcastOp>(op))
    return ComplexWork{};
  if (isa<complex::MulOp>(op))
    return ComplexWork{6, 0};
  if (isa<complex::AddOp, complex::SubOp, complex::NegOp>(op))
    return ComplexWork{2, 0};
  if (isa<complex::ConjOp>(op))
    return ComplexWork{1, 0};
  if (isa<complex::DivOp>(op))
    return ComplexWork{11, 0};
  if (isa<complex::EqualOp, complex::NotEqualOp>(op))
    return ComplexWork{2, 0};
  return ComplexWork{0, 2};
}

/// Math ops that are cheap data-path operations, not transcendentals.
bool isCheapMathOp(Operation &op) {
  return isa<math::FmaOp, math::AbsFOp, math::AbsIOp, math::FloorOp,
             math::CeilOp, math::CopySignOp, math::RoundOp, math::TruncOp>(op);
}

/// Looks through float conversions (free) to the value converted.
Value throughConversions(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp,
             arith::UIToFPOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// A contraction that dequantises its weight as it reads it:
///   out += x * (w * scale[group])
/// with inputs (x, w, scales) and one init, every map but the scales' a
/// projected permutation (the scales index a group of the weight's
/// reduction, `k floordiv group`). Counted as the contraction of x and w
/// plus one multiply per weight element.
std::optional<OpCounts> countDequantContraction(linalg::LinalgOp op,
                                                ArrayRef<int64_t> ranges) {
  if (op.getNumDpsInputs() != 3 || op.getNumDpsInits() != 1)
    return std::nullopt;
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = body->getArgument(3);
  Value prodV = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if (add.getLhs() != acc && add.getRhs() != acc)
    return std::nullopt;
  auto prod = prodV.getDefiningOp<arith::MulFOp>();
  if (!prod)
    return std::nullopt;
  auto isArg = [&](Value v, unsigned i) {
    return throughConversions(v) == body->getArgument(i);
  };
  Value dq = isArg(prod.getLhs(), 0) ? prod.getRhs() : prod.getLhs();
  if (!isArg(prod.getLhs(), 0) && !isArg(prod.getRhs(), 0))
    return std::nullopt;
  auto scale = dq.getDefiningOp<arith::MulFOp>();
  if (!scale || !((isArg(scale.getLhs(), 1) && isArg(scale.getRhs(), 2)) ||
                  (isArg(scale.getLhs(), 2) && isArg(scale.getRhs(), 1))))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[0].isProjectedPermutation() || !maps[1].isProjectedPermutation() ||
      !maps[3].isProjectedPermutation())
    return std::nullopt;
  auto uses = [](AffineMap m, unsigned d) {
    return m.isFunctionOfDim(d);
  };
  OpCounts c;
  c.cls = OpClass::Contraction;
  c.iterations = 1;
  for (int64_t r : ranges)
    c.iterations *= double(r);
  double weightElems = 1;
  for (unsigned d = 0; d < ranges.size(); ++d) {
    bool inX = uses(maps[0], d), inW = uses(maps[1], d),
         inOut = uses(maps[3], d);
    if (inW)
      weightElems *= double(ranges[d]);
    if (inX && inW && inOut)
      c.batch *= ranges[d];
    else if (inX && inOut)
      c.m *= ranges[d];
    else if (inW && inOut)
      c.n *= ranges[d];
    else if (inX && inW)
      c.k *= ranges[d];
    else
      return std::nullopt;
  }
  c.dequantFlops = weightElems;
  c.flops = 2 * c.iterations + c.dequantFlops;
  SmallVector<double, 3> bytes;
  for (OpOperand *in : op.getDpsInputOperands()) {
    std::optional<double> b = staticBytes(in->get().getType());
    if (!b)
      return std::nullopt;
    bytes.push_back(*b);
  }
  std::optional<double> out = staticBytes(op.getDpsInits()[0].getType());
  if (!out)
    return std::nullopt;
  c.inputBytes = {bytes[0], bytes[1] + bytes[2]};
  c.bytesRead = bytes[0] + bytes[1] + bytes[2];
  c.bytesWritten = *out;
  // The MMA runs on the dequantised weight: the activations' dtype.
  c.dtype = toDType(getElementTypeOrSelf(op.getDpsInits()[0].getType()));
  c.storedWeightDType =
      toDType(getElementTypeOrSelf(op.getDpsInputs()[1].getType()));
  return c;
}

std::optional<OpCounts> countLinalg(linalg::LinalgOp linalgOp) {
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  if (std::optional<OpCounts> dq = countDequantContraction(linalgOp, ranges))
    return dq;
  OpCounts c;
  c.iterations = 1;
  for (int64_t r : ranges)
    c.iterations *= double(r);

  // Arithmetic per iteration, read off the body.
  double flopsPerIter = 0, transcendentalsPerIter = 0, gatheredBytes = 0;
  bool hasArithmetic = false;
  // A body that only picks one of its operands by comparing loop indices
  // (a cache append written as select(t == s + offset, new, old)) moves
  // data and computes nothing.
  bool onlyIndexSelects = true;
  for (Operation &bodyOp : linalgOp.getBlock()->without_terminator()) {
    if (auto extract = dyn_cast<tensor::ExtractOp>(bodyOp)) {
      // A gather (embedding lookup): one element read per iteration.
      gatheredBytes += elementBytes(extract.getType());
      continue;
    }
    if (isFreeBodyOp(bodyOp))
      continue;
    if (std::optional<ComplexWork> cw = complexWork(bodyOp)) {
      flopsPerIter += cw->flops;
      transcendentalsPerIter += cw->transcendentals;
      hasArithmetic |= cw->flops + cw->transcendentals > 0;
      onlyIndexSelects = false;
      continue;
    }
    auto cmpi = dyn_cast<arith::CmpIOp>(bodyOp);
    bool indexCompare = cmpi && cmpi.getLhs().getType().isIndex();
    bool indexSelect = false;
    if (auto select = dyn_cast<arith::SelectOp>(bodyOp)) {
      auto cond = select.getCondition().getDefiningOp<arith::CmpIOp>();
      indexSelect = cond && cond.getLhs().getType().isIndex();
    }
    onlyIndexSelects &= indexCompare || indexSelect;
    if (isa_and_present<math::MathDialect>(bodyOp.getDialect()) &&
        !isCheapMathOp(bodyOp))
      transcendentalsPerIter += 1;
    else
      flopsPerIter += 1;
    hasArithmetic = true;
  }
  // Such a select that keeps the destination's element otherwise is an
  // in-place update: only the selected (input) elements are written.
  bool inPlaceUpdate = false;
  if (hasArithmetic && onlyIndexSelects) {
    flopsPerIter = 0;
    hasArithmetic = false;
    Operation *yield = linalgOp.getBlock()->getTerminator();
    if (linalgOp.getNumDpsInits() == 1 && yield->getNumOperands() == 1)
      if (auto select = yield->getOperand(0).getDefiningOp<arith::SelectOp>())
        inPlaceUpdate = llvm::is_contained(
            ValueRange{select.getTrueValue(), select.getFalseValue()},
            linalgOp.getBlock()->getArguments().back());
  }
  c.flops = flopsPerIter * c.iterations;
  c.transcendentals = transcendentalsPerIter * c.iterations;

  for (OpOperand *in : linalgOp.getDpsInputOperands()) {
    std::optional<double> b = staticBytes(in->get().getType());
    if (!b)
      return std::nullopt;
    c.bytesRead += *b;
    c.inputBytes.push_back(*b);
  }
  c.bytesRead += gatheredBytes * c.iterations;
  for (OpOperand &out : linalgOp.getDpsInitsMutable()) {
    std::optional<double> b = staticBytes(out.get().getType());
    if (!b)
      return std::nullopt;
    c.bytesWritten += *b;
  }
  if (inPlaceUpdate)
    c.bytesWritten = c.bytesRead;

  // Element type: the widest input's (the output's when there is none).
  Type elemTy;
  for (OpOperand *in : linalgOp.getDpsInputOperands())
    if (auto st = dyn_cast<ShapedType>(in->get().getType()))
      if (!elemTy || elementBytes(st.getElementType()) > elementBytes(elemTy))
        elemTy = st.getElementType();
  if (!elemTy && linalgOp.getNumDpsInits() > 0)
    elemTy = getElementTypeOrSelf(linalgOp.getDpsInits()[0].getType());
  if (elemTy)
    c.dtype = toDType(elemTy);

  if (linalg::isaContractionOpInterface(linalgOp)) {
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(linalgOp);
    if (succeeded(dims)) {
      auto product = [&](ArrayRef<unsigned> loops) {
        int64_t p = 1;
        for (unsigned l : loops)
          p *= ranges[l];
        return p;
      };
      // A reduction over a handful of elements (a 2x2 RoPE rotation, K = 2)
      // is elementwise work for the vector unit, not a matrix-unit GEMM.
      if (product(dims->k) <= kMaxElementwiseReduction) {
        c.cls = OpClass::Elementwise;
        return c;
      }
      // Neither an M nor an N dim (every result element is its own dot
      // product, as rowsum(dP∘P) in the softmax backward): no operand is
      // reused, so it is a reduction for the vector unit, not a GEMM of
      // 1 x 1 tiles padded up to the matrix unit's native shape.
      if (dims->m.empty() && dims->n.empty()) {
        c.cls = OpClass::Reduction;
        return c;
      }
      c.cls = OpClass::Contraction;
      c.batch = product(dims->batch);
      // A complex contraction is four real ones of the same shape (Re·Re,
      // Im·Im, Re·Im, Im·Re) on the parts' dtype: 8 real FLOPs per
      // multiply-accumulate, as its body's complex mul and add count.
      if (elemTy && isa<ComplexType>(elemTy))
        c.batch *= 4;
      c.m = product(dims->m);
      c.n = product(dims->n);
      c.k = product(dims->k);
      return c;
    }
  }
  if (linalgOp.getNumReductionLoops() > 0 && hasArithmetic)
    c.cls = OpClass::Reduction;
  else if (hasArithmetic)
    c.cls = OpClass::Elementwise;
  else
    c.cls = OpClass::DataMovement;
  return c;
}

/// Tensor-dialect ops: views are free, copies cost their bytes.
std::optional<OpCounts> countTensorOp(Operation *op) {
  OpCounts c;
  c.cls = OpClass::DataMovement;
  // Views and shape bookkeeping: no data moves (a slice of stacked weights
  // is read by its consumer, which counts it).
  if (isa<tensor::EmptyOp, tensor::ExtractSliceOp, tensor::ExpandShapeOp,
          tensor::CollapseShapeOp, tensor::CastOp, tensor::ReshapeOp,
          tensor::DimOp, tensor::ExtractOp, tensor::BitcastOp>(op))
    return c;
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
    // Destination-passing style: a value computed in the program (by an
    // op, a call or a previous loop iteration) is written straight into
    // its place in the destination (one-shot bufferization makes the
    // insert in place), as a framework keeps a saved activation or a
    // gradient where it was produced. Inserting a view of another tensor
    // or a function's own argument copies it.
    Value src = insert.getSource();
    auto arg = dyn_cast<BlockArgument>(src);
    bool funcArg =
        arg && isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
    if (!funcArg && !src.getDefiningOp<tensor::ExtractSliceOp>())
      return c;
    std::optional<double> b = staticBytes(insert.getSourceType());
    if (!b)
      return std::nullopt;
    c.bytesRead = c.bytesWritten = *b;
    return c;
  }
  if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
    // Appending to a buffer (a KV cache growing by the new tokens) is done
    // in place: only the operands after the first are read and written.
    for (Value v : concat.getInputs().drop_front()) {
      std::optional<double> b = staticBytes(v.getType());
      if (!b)
        return std::nullopt;
      c.bytesRead += *b;
      c.bytesWritten += *b;
    }
    return c;
  }
  if (isa<tensor::ConcatOp, tensor::PadOp, tensor::GatherOp, tensor::ScatterOp,
          tensor::SplatOp, tensor::FromElementsOp, tensor::InsertOp,
          tensor::GenerateOp>(op)) {
    for (Value v : op->getResults()) {
      std::optional<double> b = staticBytes(v.getType());
      if (!b)
        return std::nullopt;
      c.bytesWritten += *b;
    }
    if (isa<tensor::ConcatOp, tensor::PadOp, tensor::GatherOp,
            tensor::ScatterOp>(op))
      c.bytesRead = c.bytesWritten;
    return c;
  }
  return std::nullopt;
}

/// Elementwise arith/math directly on tensors (as some frontends emit).
std::optional<OpCounts> countTensorArith(Operation *op) {
  auto resultTy = op->getNumResults() == 1
                      ? dyn_cast<RankedTensorType>(op->getResult(0).getType())
                      : RankedTensorType();
  if (!resultTy || !resultTy.hasStaticShape())
    return std::nullopt;
  OpCounts c;
  c.cls = OpClass::Elementwise;
  c.iterations = double(resultTy.getNumElements());
  c.dtype = toDType(resultTy.getElementType());
  bool isConversion = isa<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp,
                          arith::FPToSIOp, arith::ExtSIOp, arith::TruncIOp>(op);
  if (isa<math::MathDialect>(op->getDialect()))
    c.transcendentals = c.iterations;
  else if (!isConversion)
    c.flops = c.iterations;
  for (Value v : op->getOperands()) {
    std::optional<double> b = staticBytes(v.getType());
    if (!b)
      return std::nullopt;
    c.bytesRead += *b;
  }
  c.bytesWritten = *staticBytes(resultTy);
  return c;
}

/// Globals, buffers and the views between tensors and buffers, as
/// exporters and bufferized programs carry them: a global's load, a
/// buffer's allocation or view, a tensor<->buffer conversion move nothing
/// (the consumer reads the data and counts it; the global's bytes are
/// weights in the footprint); a copy or store moves its bytes.
std::optional<OpCounts> countBufferOp(Operation *op) {
  OpCounts c;
  c.cls = OpClass::DataMovement;
  if (isa<ml_program::GlobalLoadOp, ml_program::GlobalLoadConstOp,
          ml_program::GlobalLoadGraphOp, memref::GetGlobalOp,
          memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
          memref::CastOp, memref::SubViewOp, memref::ViewOp,
          memref::ReinterpretCastOp, memref::ReshapeOp, memref::ExpandShapeOp,
          memref::CollapseShapeOp, memref::TransposeOp, memref::DimOp,
          memref::AssumeAlignmentOp, bufferization::ToTensorOp,
          bufferization::ToBufferOp, bufferization::AllocTensorOp,
          bufferization::DeallocTensorOp, bufferization::CloneOp>(op))
    return c;
  Value moved;
  if (auto store = dyn_cast<ml_program::GlobalStoreOp>(op))
    moved = store.getValue();
  else if (auto store = dyn_cast<ml_program::GlobalStoreGraphOp>(op))
    moved = store.getValue();
  else if (auto copy = dyn_cast<memref::CopyOp>(op))
    moved = copy.getSource();
  else if (auto m = dyn_cast<bufferization::MaterializeInDestinationOp>(op))
    moved = m.getSource();
  else
    return std::nullopt;
  std::optional<double> b = staticBytes(moved.getType());
  if (!b)
    return std::nullopt;
  c.bytesRead = c.bytesWritten = *b;
  return c;
}

} // namespace

/// Ideal bytes of a kernel's tensor: its size, or what the schedule's
/// transfers move of it when that is less. A schedule that reaches the
/// buffer only by DMA and moves fewer bytes than it holds touches only
/// part of it: an in-place update writes just the new elements of its
/// destination, a gather reads just the rows it picks from its table.
/// (Tiles re-read or hanging over the edge move more; that stays the
/// size.)
static std::optional<double> kernelTensorBytes(Value tensor,
                                               BlockArgument buffer) {
  std::optional<double> size = staticBytes(tensor.getType());
  if (!size)
    return std::nullopt;
  double moved = 0;
  for (Operation *user : buffer.getUsers()) {
    auto t = dyn_cast<tile::TileCostOpInterface>(user);
    if (!t || t.getCostKind() != tile::CostKind::Dma)
      return size;
    moved += double(t.getTotalBytesMoved());
  }
  return buffer.use_empty() ? *size : std::min(*size, moved);
}

/// A tile.kernel: FLOPs of its schedule (padded work included), ideal bytes
/// of its tensors.
std::optional<OpCounts> countKernel(tile::KernelOp kernel) {
  OpCounts c;
  c.cls = OpClass::Kernel;
  if (!kernel.getInputs().empty())
    c.dtype = toDType(getElementTypeOrSelf(kernel.getInputs()[0].getType()));
  // An operand resident in the grid's SRAM crosses home not at all.
  const unsigned numInputs = kernel.getInputs().size();
  for (auto [i, v] : llvm::enumerate(kernel.getInputs())) {
    std::optional<double> b = kernelTensorBytes(v, kernel.getInputBuffer(i));
    if (!b)
      return std::nullopt;
    if (kernel.isResident(i))
      b = 0;
    c.bytesRead += *b;
    c.inputBytes.push_back(*b);
  }
  for (auto [i, v] : llvm::enumerate(kernel.getOutputs())) {
    std::optional<double> b = kernelTensorBytes(v, kernel.getOutputBuffer(i));
    if (!b)
      return std::nullopt;
    if (kernel.isResident(numInputs + i))
      b = 0;
    c.bytesWritten += *b;
  }
  // The useful work of the op the kernel replaced, when the lowering
  // recorded it; else every FLOP of the schedule (padding, fills, casts).
  if (auto t =
          kernel->getAttrOfType<IntegerAttr>(kUsefulTranscendentalsAttrName))
    c.transcendentals = double(t.getInt());
  if (auto useful = kernel->getAttrOfType<IntegerAttr>(kUsefulFlopsAttrName)) {
    c.flops = double(useful.getInt());
    return c;
  }
  kernel.getBody().walk([&](tile::TileCostOpInterface op) {
    c.flops += double(op.getTotalFlops());
  });
  return c;
}

/// Upstream shard ops after partitioning: collectives move their tensors
/// between devices; the rest (local slices of replicated data, process
/// indices, sharding annotations) cost nothing.
std::optional<OpCounts> countShardOp(Operation *op) {
  OpCounts c;
  if (!isa<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
           shard::AllToAllOp, shard::BroadcastOp, shard::SendOp, shard::RecvOp,
           shard::ShiftOp, tile::CollectiveOp>(op)) {
    c.cls = OpClass::DataMovement;
    return c;
  }
  c.cls = OpClass::Collective;
  std::optional<double> in = staticBytes(op->getOperand(0).getType());
  std::optional<double> out = staticBytes(op->getResult(0).getType());
  if (!in || !out)
    return std::nullopt;
  c.bytesRead = *in;
  c.bytesWritten = *out;
  c.inputBytes.push_back(*in);
  c.dtype = toDType(getElementTypeOrSelf(op->getOperand(0).getType()));
  return c;
}

/// Whether `t` is a sparse tensor (a sparse_tensor encoding): its bytes and
/// work depend on the stored entries, which the type does not say.
static bool isSparse(Type t) {
  auto ranked = dyn_cast<RankedTensorType>(t);
  return ranked && ranked.getEncoding() &&
         ranked.getEncoding().getDialect().getNamespace() == "sparse_tensor";
}

/// linalg.softmax (IREE's exports keep it whole): per element a max and a
/// sum over the reduced dim, a subtract, an exp and a divide — 4 FLOPs and
/// 1 transcendental, as its decomposition into generics counts them.
static std::optional<OpCounts> countSoftmax(linalg::SoftmaxOp softmax) {
  auto in = dyn_cast<RankedTensorType>(softmax.getInput().getType());
  std::optional<double> read = staticBytes(softmax.getInput().getType());
  std::optional<double> written = staticBytes(softmax.getOutput().getType());
  if (!in || !read || !written)
    return std::nullopt;
  OpCounts c;
  c.cls = OpClass::Reduction;
  c.iterations = double(in.getNumElements());
  c.flops = 4 * c.iterations;
  c.transcendentals = c.iterations;
  c.bytesRead = *read;
  c.inputBytes.push_back(*read);
  c.bytesWritten = *written;
  c.dtype = toDType(in.getElementType());
  return c;
}

std::optional<OpCounts> countOp(Operation *op) {
  if (llvm::any_of(op->getOperandTypes(), isSparse) ||
      llvm::any_of(op->getResultTypes(), isSparse))
    return std::nullopt;
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(op))
    return countSoftmax(softmax);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    return countLinalg(linalgOp);
  }
  if (isa_and_present<shard::ShardDialect>(op->getDialect()))
    return countShardOp(op);
  if (auto kernel = dyn_cast<tile::KernelOp>(op))
    return countKernel(kernel);
  // A routed collective moves its tensors between devices, like the shard
  // collective it replaced.
  if (isa<tile::CollectiveOp>(op))
    return countShardOp(op);
  // Pipeline-stage boundary transfers move their payload between devices.
  if (isa<tile::SendOp, tile::RecvOp>(op)) {
    OpCounts c;
    c.cls = OpClass::Collective;
    Type payload = isa<tile::SendOp>(op) ? op->getOperand(0).getType()
                                         : op->getResult(0).getType();
    std::optional<double> bytes = staticBytes(payload);
    if (!bytes)
      return std::nullopt;
    c.bytesRead = c.bytesWritten = *bytes;
    c.inputBytes.push_back(*bytes);
    c.dtype = toDType(getElementTypeOrSelf(payload));
    return c;
  }
  Dialect *dialect = op->getDialect(); // null for unregistered ops
  if (isa_and_present<tensor::TensorDialect>(dialect))
    return countTensorOp(op);
  if (std::optional<OpCounts> c = countBufferOp(op))
    return c;
  if (isa<arith::ConstantOp>(op))
    return OpCounts{OpClass::DataMovement};
  if (isa_and_present<arith::ArithDialect, math::MathDialect>(dialect) &&
      touchesTensors(op))
    return countTensorArith(op);
  // Terminators forward values; ops on scalars are noise next to tensors.
  if (!touchesTensors(op) || op->hasTrait<OpTrait::IsTerminator>())
    return OpCounts{OpClass::DataMovement};
  return std::nullopt;
}

struct ProgramProfile::Impl {
  struct Summary {
    llvm::MapVector<unsigned, double> entries;
    llvm::MapVector<llvm::StringRef, double> unmodelled;
  };

  explicit Impl(std::vector<ProfileEntry> &ops) : ops(ops) {}

  /// Marks an scf.for whose iterations form one kernel.
  static constexpr llvm::StringLiteral kSingleKernelAttr =
      "strata.single_kernel";
  /// Product of the trip counts of the single-kernel loops being walked.
  double kernelScale = 1.0;

  unsigned entryFor(Operation *op, const OpCounts &c) {
    auto [it, inserted] = index.try_emplace(op, ops.size());
    if (inserted)
      ops.push_back({op, c, 0});
    return it->second;
  }

  /// A constant index, or the static size of a tensor dimension.
  static std::optional<int64_t> constantIndex(Value v) {
    if (std::optional<int64_t> c = getConstantIntValue(v))
      return c;
    if (auto dim = v.getDefiningOp<tensor::DimOp>())
      if (std::optional<int64_t> i = dim.getConstantIndex())
        if (auto type = dyn_cast<RankedTensorType>(dim.getSource().getType());
            type && *i < type.getRank() && !type.isDynamicDim(*i))
          return type.getDimSize(*i);
    return std::nullopt;
  }

  static std::optional<int64_t> tripCount(scf::ForOp forOp) {
    std::optional<int64_t> lb = getConstantIntValue(forOp.getLowerBound());
    std::optional<int64_t> ub = constantIndex(forOp.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(forOp.getStep());
    if (!lb || !ub || !step || *step <= 0)
      return std::nullopt;
    return *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
  }

  FunctionOpInterface callee(Operation *op) {
    auto call = dyn_cast<CallOpInterface>(op);
    if (!call)
      return {};
    auto fn = dyn_cast_if_present<FunctionOpInterface>(
        call.resolveCallableInTable(&symbolTables));
    return fn && !fn.isExternal() ? fn : FunctionOpInterface();
  }

  /// `s`'s count of unmodelled `name`, remembering the first op seen of it
  /// (summaries are built in program order, so the first is the first in
  /// the program).
  double &unknown(Summary &s, llvm::StringRef name, Operation *op) {
    firstUnknown.try_emplace(name, op);
    return s.unmodelled[name];
  }

  static std::optional<int64_t> affineTripCount(affine::AffineForOp forOp) {
    if (!forOp.hasConstantBounds() || forOp.getStepAsInt() <= 0)
      return std::nullopt;
    int64_t lb = forOp.getConstantLowerBound();
    int64_t ub = forOp.getConstantUpperBound();
    int64_t step = forOp.getStepAsInt();
    return ub > lb ? (ub - lb + step - 1) / step : 0;
  }

  const Summary &summarize(FunctionOpInterface fn, Operation *site = nullptr) {
    auto it = summaries.find(fn);
    if (it != summaries.end())
      return it->second;
    // Recursion has no static trip count: a recursive call is unmodelled.
    if (!inProgress.insert(fn).second) {
      if (site)
        firstUnknown.try_emplace("recursive call", site);
      static const Summary recursive = [] {
        Summary r;
        r.unmodelled["recursive call"] = 1;
        return r;
      }();
      return recursive;
    }
    Summary s;
    summarizeRegion(fn.getFunctionBody(), s, 1.0);
    inProgress.erase(fn);
    return summaries[fn] = std::move(s);
  }

  void summarizeRegion(Region &region, Summary &s, double times) {
    for (Block &block : region)
      for (Operation &op : block)
        summarizeOp(&op, s, times);
  }

  /// Whether a branch jumps back to its own block or an earlier one: a
  /// loop of blocks, whose trip count Strata does not know.
  static bool branchesBack(Operation *op) {
    Block *from = op->getBlock();
    for (Block *to : op->getSuccessors())
      for (Block &b : *from->getParent()) {
        if (&b == to)
          return true; // reached the target first: at or before `from`
        if (&b == from)
          break;
      }
    return false;
  }

  void summarizeOp(Operation *op, Summary &s, double times) {
    // A loop written with cf branches: its blocks are counted once, and
    // the loop is listed so that nothing is silently under-counted.
    if (op->getNumSuccessors() > 0 && branchesBack(op))
      unknown(s, "loop of cf branches (blocks counted once)", op) += times;
    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      std::optional<int64_t> trips = tripCount(forOp);
      if (trips && forOp->hasAttr(kSingleKernelAttr)) {
        // One kernel whose threads are the iterations (a scatter-add over
        // token ids): the body's work times the trips, launched once.
        double outer = kernelScale;
        kernelScale *= double(*trips);
        summarizeRegion(forOp.getRegion(), s, times);
        kernelScale = outer;
      } else if (trips)
        summarizeRegion(forOp.getRegion(), s, times * double(*trips));
      else
        unknown(s, op->getName().getStringRef(), op) += times;
      return;
    }
    if (auto forOp = dyn_cast<affine::AffineForOp>(op)) {
      // An affine loop with constant bounds runs its body trips times, as
      // an scf.for does; other bounds have no static count.
      if (std::optional<int64_t> trips = affineTripCount(forOp))
        summarizeRegion(forOp.getRegion(), s, times * double(*trips));
      else
        unknown(s, op->getName().getStringRef(), op) += times;
      return;
    }
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      // Branches shard-partition emits (or a frontend's guards) are priced
      // by the then-branch: the estimate does not know which one runs.
      summarizeRegion(ifOp.getThenRegion(), s, times);
      return;
    }
    if (isa<CallOpInterface>(op)) {
      FunctionOpInterface fn = callee(op);
      if (!fn) {
        unknown(s, op->getName().getStringRef(), op) += times;
        return;
      }
      const Summary &inner = summarize(fn, op);
      for (auto &[i, n] : inner.entries)
        s.entries[i] += n * times;
      for (auto &[name, n] : inner.unmodelled)
        s.unmodelled[name] += n * times;
      return;
    }
    std::optional<OpCounts> c = countOp(op);
    if (!c) {
      unknown(s, op->getName().getStringRef(), op) += times;
      return;
    }
    if (kernelScale != 1.0) {
      c->flops *= kernelScale;
      c->transcendentals *= kernelScale;
      c->bytesRead *= kernelScale;
      c->bytesWritten *= kernelScale;
      c->iterations *= kernelScale;
      for (double &b : c->inputBytes)
        b *= kernelScale;
    }
    if (touchesTensors(op))
      s.entries[entryFor(op, *c)] += times;
    // Structured ops' bodies are counted per iteration already; kernels'
    // schedules are priced whole.
    if (isa<linalg::LinalgOp, tile::KernelOp>(op))
      return;
    for (Region &r : op->getRegions())
      summarizeRegion(r, s, times);
  }

  /// Appends executions in order; false once `cap` is reached.
  bool expand(Region &region, std::vector<unsigned> &seq, size_t cap) {
    for (Block &block : region)
      for (Operation &op : block) {
        if (auto forOp = dyn_cast<scf::ForOp>(&op)) {
          std::optional<int64_t> trips = tripCount(forOp);
          if (trips && forOp->hasAttr(kSingleKernelAttr))
            trips = std::min<int64_t>(*trips, 1);
          for (int64_t i = 0; trips && i < *trips; ++i)
            if (!expand(forOp.getRegion(), seq, cap))
              return false;
          continue;
        }
        if (auto forOp = dyn_cast<affine::AffineForOp>(&op)) {
          std::optional<int64_t> trips = affineTripCount(forOp);
          for (int64_t i = 0; trips && i < *trips; ++i)
            if (!expand(forOp.getRegion(), seq, cap))
              return false;
          continue;
        }
        if (auto ifOp = dyn_cast<scf::IfOp>(&op)) {
          if (!expand(ifOp.getThenRegion(), seq, cap))
            return false;
          continue;
        }
        if (isa<CallOpInterface>(&op)) {
          // A recursive call is unmodelled (summarize): not expanded.
          if (FunctionOpInterface fn = callee(&op);
              fn && expanding.insert(fn).second) {
            bool more = expand(fn.getFunctionBody(), seq, cap);
            expanding.erase(fn);
            if (!more)
              return false;
          }
          continue;
        }
        auto it = index.find(&op);
        if (it != index.end()) {
          if (seq.size() >= cap)
            return false;
          seq.push_back(it->second);
        }
        if (!isa<linalg::LinalgOp, tile::KernelOp>(&op))
          for (Region &r : op.getRegions())
            if (!expand(r, seq, cap))
              return false;
      }
    return true;
  }

  std::vector<ProfileEntry> &ops;
  SymbolTableCollection symbolTables;
  llvm::DenseMap<Operation *, unsigned> index;
  llvm::DenseMap<Operation *, Summary> summaries;
  llvm::DenseSet<Operation *> inProgress;
  llvm::MapVector<llvm::StringRef, Operation *> firstUnknown;
  /// Functions being expanded into the sequence (recursion guard).
  llvm::DenseSet<Operation *> expanding;
};

ProgramProfile::ProgramProfile(FunctionOpInterface entry)
    : impl(std::make_unique<Impl>(ops)), entry(entry) {
  const Impl::Summary &s = impl->summarize(entry);
  for (auto &[i, times] : s.entries)
    ops[i].times += times;
  for (auto &[name, times] : s.unmodelled)
    unknown[name] += times;
}

Operation *ProgramProfile::firstUnmodelled(llvm::StringRef name) const {
  return impl->firstUnknown.lookup(name);
}

ProgramProfile::~ProgramProfile() = default;

std::vector<unsigned> ProgramProfile::sequence(size_t cap, bool &truncated) {
  std::vector<unsigned> seq;
  truncated = !impl->expand(entry.getFunctionBody(), seq, cap);
  return seq;
}

ProgramCounts countProgram(FunctionOpInterface entry) {
  ProgramProfile profile(entry);
  ProgramCounts counts;
  for (const ProfileEntry &e : profile.entries()) {
    counts.flops += e.counts.flops * e.times;
    counts.transcendentals += e.counts.transcendentals * e.times;
    counts.bytesRead += e.counts.bytesRead * e.times;
    counts.bytesWritten += e.counts.bytesWritten * e.times;
    counts.modelledOps += e.times;
  }
  counts.unmodelled = profile.unmodelled();
  for (unsigned i = 0, e = entry.getNumArguments(); i < e; ++i) {
    auto role = entry.getArgAttrOfType<StringAttr>(i, kRoleAttrName);
    if (!role || role.getValue() != "weight")
      continue;
    if (auto shaped = dyn_cast<ShapedType>(entry.getArgument(i).getType()))
      if (shaped.hasStaticShape())
        counts.parameters += double(shaped.getNumElements());
  }
  return counts;
}

} // namespace strata::analysis
