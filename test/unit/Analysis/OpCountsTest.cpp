//===- OpCountsTest.cpp - FLOP/byte counting of linalg programs -----------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <tuple>

using namespace mlir;
using namespace strata::analysis;

namespace {

class OpCountsTest : public ::testing::Test {
protected:
  OpCountsTest() {
    DialectRegistry registry;
    strata::registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(llvm::StringRef ir) {
    auto m = parseSourceString<ModuleOp>(ir, &ctx);
    EXPECT_TRUE(m) << "failed to parse test IR";
    return m;
  }

  func::FuncOp lookup(ModuleOp m, llvm::StringRef name) {
    return m.lookupSymbol<func::FuncOp>(name);
  }

  MLIRContext ctx;
};

TEST_F(OpCountsTest, MatmulIsTwoFlopsPerMac) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<64x32xbf16>, %b: tensor<32x16xbf16>,
                 %c: tensor<64x16xf32>) -> tensor<64x16xf32> {
      %r = linalg.matmul ins(%a, %b : tensor<64x32xbf16>, tensor<32x16xbf16>)
                         outs(%c : tensor<64x16xf32>) -> tensor<64x16xf32>
      return %r : tensor<64x16xf32>
    })mlir");
  Operation *mm = nullptr;
  lookup(*m, "f").walk([&](linalg::MatmulOp op) { mm = op; });
  ASSERT_TRUE(mm);
  std::optional<OpCounts> c = countOp(mm);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cls, OpClass::Contraction);
  EXPECT_EQ(c->m, 64);
  EXPECT_EQ(c->n, 16);
  EXPECT_EQ(c->k, 32);
  EXPECT_EQ(c->batch, 1);
  EXPECT_DOUBLE_EQ(c->flops, 2.0 * 64 * 16 * 32);
  EXPECT_DOUBLE_EQ(c->bytesRead, 64 * 32 * 2 + 32 * 16 * 2);
  EXPECT_DOUBLE_EQ(c->bytesWritten, 64 * 16 * 4);
  EXPECT_EQ(c->dtype, strata::hw::DType::bf16);
}

TEST_F(OpCountsTest, TransposedGenericContractionAndBatch) {
  // Q·Kᵀ per head as torch-mlir exports it: a generic with a transposed map.
  auto m = parse(R"mlir(
    #q = affine_map<(b, i, j, d) -> (b, i, d)>
    #k = affine_map<(b, i, j, d) -> (b, j, d)>
    #s = affine_map<(b, i, j, d) -> (b, i, j)>
    func.func @f(%q: tensor<8x128x64xf16>, %k: tensor<8x256x64xf16>,
                 %s: tensor<8x128x256xf32>) -> tensor<8x128x256xf32> {
      %r = linalg.generic {indexing_maps = [#q, #k, #s],
          iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
          ins(%q, %k : tensor<8x128x64xf16>, tensor<8x256x64xf16>)
          outs(%s : tensor<8x128x256xf32>) {
      ^bb0(%x: f16, %y: f16, %acc: f32):
        %xe = arith.extf %x : f16 to f32
        %ye = arith.extf %y : f16 to f32
        %p = arith.mulf %xe, %ye : f32
        %sum = arith.addf %acc, %p : f32
        linalg.yield %sum : f32
      } -> tensor<8x128x256xf32>
      return %r : tensor<8x128x256xf32>
    })mlir");
  Operation *g = nullptr;
  lookup(*m, "f").walk([&](linalg::GenericOp op) { g = op; });
  std::optional<OpCounts> c = countOp(g);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cls, OpClass::Contraction);
  EXPECT_EQ(c->batch, 8);
  EXPECT_EQ(c->m, 128);
  EXPECT_EQ(c->n, 256);
  EXPECT_EQ(c->k, 64);
  EXPECT_DOUBLE_EQ(c->flops, 2.0 * 8 * 128 * 256 * 64);
  EXPECT_EQ(c->dtype, strata::hw::DType::fp16);
}

TEST_F(OpCountsTest, TinyReductionContractionIsElementwise) {
  // RoPE as a K = 2 contraction: each (j, p) pair element is a 2-term dot
  // product with the rotation table rot[s, j, p, r]. 4 FLOPs per element on
  // the vector unit, not a matrix-unit GEMM with K = 2.
  auto m = parse(R"mlir(
    #rot = affine_map<(s, h, j, p, r) -> (s, j, p, r)>
    #x = affine_map<(s, h, j, p, r) -> (s, h, j, r)>
    #y = affine_map<(s, h, j, p, r) -> (s, h, j, p)>
    func.func @f(%rot: tensor<16x64x2x2xbf16>, %x: tensor<16x8x64x2xbf16>,
                 %y: tensor<16x8x64x2xbf16>) -> tensor<16x8x64x2xbf16> {
      %r = linalg.generic {indexing_maps = [#rot, #x, #y],
          iterator_types = ["parallel", "parallel", "parallel", "parallel",
                            "reduction"]}
          ins(%rot, %x : tensor<16x64x2x2xbf16>, tensor<16x8x64x2xbf16>)
          outs(%y : tensor<16x8x64x2xbf16>) {
      ^bb0(%a: bf16, %b: bf16, %acc: bf16):
        %p = arith.mulf %a, %b : bf16
        %sum = arith.addf %acc, %p : bf16
        linalg.yield %sum : bf16
      } -> tensor<16x8x64x2xbf16>
      return %r : tensor<16x8x64x2xbf16>
    })mlir");
  Operation *g = nullptr;
  lookup(*m, "f").walk([&](linalg::GenericOp op) { g = op; });
  std::optional<OpCounts> c = countOp(g);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cls, OpClass::Elementwise);
  EXPECT_DOUBLE_EQ(c->flops, 4.0 * 16 * 8 * 64 * 2);
}

TEST_F(OpCountsTest, SelectByIndexIsDataMovement) {
  // A KV-cache append: position t of the cache takes this step's row s when
  // t == s + 64, and keeps its element otherwise. An in-place update: no
  // FLOPs, and only the new rows are written.
  auto m = parse(R"mlir(
    #new = affine_map<(b, t, d, s) -> (b, s, d)>
    #cache = affine_map<(b, t, d, s) -> (b, t, d)>
    func.func @f(%new: tensor<2x1x128xbf16>, %cache: tensor<2x65x128xbf16>)
        -> tensor<2x65x128xbf16> {
      %r = linalg.generic {indexing_maps = [#new, #cache],
          iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
          ins(%new : tensor<2x1x128xbf16>) outs(%cache : tensor<2x65x128xbf16>) {
      ^bb0(%x: bf16, %old: bf16):
        %t = linalg.index 1 : index
        %s = linalg.index 3 : index
        %c64 = arith.constant 64 : index
        %at = arith.addi %s, %c64 : index
        %mine = arith.cmpi eq, %t, %at : index
        %v = arith.select %mine, %x, %old : bf16
        linalg.yield %v : bf16
      } -> tensor<2x65x128xbf16>
      return %r : tensor<2x65x128xbf16>
    })mlir");
  Operation *g = nullptr;
  lookup(*m, "f").walk([&](linalg::GenericOp op) { g = op; });
  std::optional<OpCounts> c = countOp(g);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cls, OpClass::DataMovement);
  EXPECT_DOUBLE_EQ(c->flops, 0.0);
  EXPECT_DOUBLE_EQ(c->bytesRead, 2.0 * 1 * 128 * 2);
  EXPECT_DOUBLE_EQ(c->bytesWritten, 2.0 * 1 * 128 * 2);
}

TEST_F(OpCountsTest, SoftmaxPiecesAreVectorWork) {
  auto m = parse(R"mlir(
    #id = affine_map<(i, j) -> (i, j)>
    #row = affine_map<(i, j) -> (i)>
    func.func @f(%x: tensor<16x32xf32>, %init: tensor<16xf32>,
                 %o: tensor<16x32xf32>) -> (tensor<16xf32>, tensor<16x32xf32>) {
      %max = linalg.generic {indexing_maps = [#id, #row],
          iterator_types = ["parallel", "reduction"]}
          ins(%x : tensor<16x32xf32>) outs(%init : tensor<16xf32>) {
      ^bb0(%a: f32, %acc: f32):
        %mx = arith.maximumf %a, %acc : f32
        linalg.yield %mx : f32
      } -> tensor<16xf32>
      %e = linalg.generic {indexing_maps = [#id, #row, #id],
          iterator_types = ["parallel", "parallel"]}
          ins(%x, %max : tensor<16x32xf32>, tensor<16xf32>)
          outs(%o : tensor<16x32xf32>) {
      ^bb0(%a: f32, %mx: f32, %out: f32):
        %d = arith.subf %a, %mx : f32
        %ex = math.exp %d : f32
        linalg.yield %ex : f32
      } -> tensor<16x32xf32>
      return %max, %e : tensor<16xf32>, tensor<16x32xf32>
    })mlir");
  SmallVector<OpCounts> counts;
  lookup(*m, "f").walk([&](linalg::GenericOp op) {
    counts.push_back(*countOp(op));
  });
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].cls, OpClass::Reduction);
  EXPECT_DOUBLE_EQ(counts[0].flops, 16 * 32);
  EXPECT_EQ(counts[1].cls, OpClass::Elementwise);
  EXPECT_DOUBLE_EQ(counts[1].flops, 16 * 32);
  EXPECT_DOUBLE_EQ(counts[1].transcendentals, 16 * 32);
  EXPECT_DOUBLE_EQ(counts[1].bytesRead, 16 * 32 * 4 + 16 * 4);
}

TEST_F(OpCountsTest, ProgramFollowsCallsAndTripCountsAndCountsParameters) {
  ctx.allowUnregisteredDialects();
  auto m = parse(R"mlir(
    func.func private @layer(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>)
        -> tensor<4x8xf32> {
      %e = tensor.empty() : tensor<4x8xf32>
      %r = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x8xf32>)
                         outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
      return %r : tensor<4x8xf32>
    }
    func.func @forward(%x: tensor<4x8xf32> {strata.role = "input"},
                       %ws: tensor<3x8x8xf32> {strata.role = "weight"})
        -> tensor<4x8xf32> {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c3 = arith.constant 3 : index
      %y = scf.for %i = %c0 to %c3 step %c1 iter_args(%h = %x)
          -> tensor<4x8xf32> {
        %w = tensor.extract_slice %ws[%i, 0, 0] [1, 8, 8] [1, 1, 1]
            : tensor<3x8x8xf32> to tensor<8x8xf32>
        %n = func.call @layer(%h, %w)
            : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
        scf.yield %n : tensor<4x8xf32>
      }
      %u = "test.unknown"(%y) : (tensor<4x8xf32>) -> tensor<4x8xf32>
      return %u : tensor<4x8xf32>
    })mlir");
  ProgramCounts p = countProgram(lookup(*m, "forward"));
  EXPECT_DOUBLE_EQ(p.flops, 3 * 2.0 * 4 * 8 * 8);
  EXPECT_DOUBLE_EQ(p.parameters, 3 * 8 * 8);
  ASSERT_EQ(p.unmodelled.size(), 1u);
  EXPECT_EQ(p.unmodelled.begin()->first, "test.unknown");
  EXPECT_DOUBLE_EQ(p.unmodelled.begin()->second, 1);
}

TEST_F(OpCountsTest, DynamicShapesAreNotModelled) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<?x32xf32>, %b: tensor<32x16xf32>,
                 %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
      %r = linalg.matmul ins(%a, %b : tensor<?x32xf32>, tensor<32x16xf32>)
                         outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
      return %r : tensor<?x16xf32>
    })mlir");
  Operation *mm = nullptr;
  lookup(*m, "f").walk([&](linalg::MatmulOp op) { mm = op; });
  EXPECT_FALSE(countOp(mm).has_value());
}

} // namespace

namespace {

TEST_F(OpCountsTest, KvAppendIsInPlaceAndIndexMathIsFree) {
  auto m = parse(R"mlir(
    func.func @f(%cache: tensor<2x1024x64xbf16>, %new: tensor<2x1x64xbf16>,
                 %t: tensor<16xf32>, %o: tensor<8xf32>)
        -> (tensor<2x1025x64xbf16>, tensor<8xf32>) {
      %c = tensor.concat dim(1) %cache, %new
          : (tensor<2x1024x64xbf16>, tensor<2x1x64xbf16>) -> tensor<2x1025x64xbf16>
      %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>],
                           iterator_types = ["parallel"]} outs(%o : tensor<8xf32>) {
      ^bb0(%out: f32):
        %i = linalg.index 0 : index
        %c1 = arith.constant 1 : index
        %j = arith.addi %i, %c1 : index
        %v = tensor.extract %t[%j] : tensor<16xf32>
        linalg.yield %v : f32
      } -> tensor<8xf32>
      return %c, %g : tensor<2x1025x64xbf16>, tensor<8xf32>
    })mlir");
  func::FuncOp f = lookup(*m, "f");
  Operation *concat = nullptr, *gather = nullptr;
  f.walk([&](Operation *op) {
    if (isa<tensor::ConcatOp>(op))
      concat = op;
    if (isa<linalg::GenericOp>(op))
      gather = op;
  });
  std::optional<OpCounts> c = countOp(concat);
  ASSERT_TRUE(c);
  // Only the new token's 2 x 64 bf16 values move.
  EXPECT_DOUBLE_EQ(c->bytesWritten, 2 * 64 * 2);
  EXPECT_DOUBLE_EQ(c->bytesRead, 2 * 64 * 2);
  std::optional<OpCounts> g = countOp(gather);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->cls, OpClass::DataMovement);
  EXPECT_DOUBLE_EQ(g->flops, 0);
  EXPECT_DOUBLE_EQ(g->bytesRead, 8 * 4);
}

} // namespace

namespace {

TEST_F(OpCountsTest, ComplexContractionIsFourRealOnes) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<16x32xcomplex<f32>>, %b: tensor<32x8xcomplex<f32>>,
                 %c: tensor<16x8xcomplex<f32>>) -> tensor<16x8xcomplex<f32>> {
      %r = linalg.matmul
          ins(%a, %b : tensor<16x32xcomplex<f32>>, tensor<32x8xcomplex<f32>>)
          outs(%c : tensor<16x8xcomplex<f32>>) -> tensor<16x8xcomplex<f32>>
      return %r : tensor<16x8xcomplex<f32>>
    })mlir");
  Operation *mm = nullptr;
  lookup(*m, "f").walk([&](linalg::MatmulOp op) { mm = op; });
  ASSERT_TRUE(mm);
  std::optional<OpCounts> c = countOp(mm);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cls, OpClass::Contraction);
  EXPECT_EQ(c->dtype, strata::hw::DType::f32);
  // Four real GEMMs: 2 x 4 x 16 x 8 x 32 FLOPs, as the body's complex mul
  // (6) and add (2) count per multiply-accumulate.
  EXPECT_EQ(c->batch, 4);
  EXPECT_DOUBLE_EQ(c->flops, 8.0 * 16 * 8 * 32);
  EXPECT_DOUBLE_EQ(2.0 * c->batch * c->m * c->n * c->k, c->flops);
  // A complex<f32> is 8 bytes.
  EXPECT_DOUBLE_EQ(c->bytesRead, 8.0 * (16 * 32 + 32 * 8));
}

TEST_F(OpCountsTest, NarrowTypesMapToTheirRates) {
  auto m = parse(R"mlir(
    func.func @i4(%a: tensor<16x64xi4>, %b: tensor<64x16xi4>,
                  %c: tensor<16x16xi32>) -> tensor<16x16xi32> {
      %r = linalg.matmul ins(%a, %b : tensor<16x64xi4>, tensor<64x16xi4>)
                         outs(%c : tensor<16x16xi32>) -> tensor<16x16xi32>
      return %r : tensor<16x16xi32>
    }
    func.func @f8(%a: tensor<16x64xf8E4M3FN>, %b: tensor<64x16xf8E5M2>,
                  %c: tensor<16x16xf32>) -> tensor<16x16xf32> {
      %r = linalg.matmul
          ins(%a, %b : tensor<16x64xf8E4M3FN>, tensor<64x16xf8E5M2>)
          outs(%c : tensor<16x16xf32>) -> tensor<16x16xf32>
      return %r : tensor<16x16xf32>
    })mlir");
  for (auto [fn, dtype, inBytes] :
       {std::tuple{"i4", strata::hw::DType::int8, 0.5},
        std::tuple{"f8", strata::hw::DType::fp8, 1.0}}) {
    Operation *mm = nullptr;
    lookup(*m, fn).walk([&](linalg::MatmulOp op) { mm = op; });
    ASSERT_TRUE(mm);
    std::optional<OpCounts> c = countOp(mm);
    ASSERT_TRUE(c) << fn;
    EXPECT_EQ(c->dtype, dtype) << fn;
    EXPECT_DOUBLE_EQ(c->bytesRead, inBytes * 2 * 16 * 64) << fn;
  }
}

TEST_F(OpCountsTest, AffineLoopsMultiplyAndUnmodelledOpsKeepTheirFirstSite) {
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>,
                 %buf: memref<64xf32>) {
      affine.for %i = 0 to 6 step 2 {
        %e = tensor.empty() : tensor<4x8xf32>
        %r = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x8xf32>)
                           outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
        %z = arith.constant 0.0 : f32
        %v = vector.transfer_read %buf[%i], %z : memref<64xf32>, vector<4xf32>
      }
      return
    })mlir");
  func::FuncOp f = lookup(*m, "f");
  ProgramProfile profile(f);
  ProgramCounts p = countProgram(f);
  // Three trips of the loop.
  EXPECT_DOUBLE_EQ(p.flops, 3 * 2.0 * 4 * 8 * 8);
  ASSERT_EQ(p.unmodelled.size(), 1u);
  EXPECT_EQ(p.unmodelled.begin()->first, "vector.transfer_read");
  EXPECT_DOUBLE_EQ(p.unmodelled.begin()->second, 3);
  Operation *first = profile.firstUnmodelled("vector.transfer_read");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->getName().getStringRef(), "vector.transfer_read");
  EXPECT_EQ(profile.firstUnmodelled("linalg.matmul"), nullptr);
}

} // namespace
