//===- TileCostInterfaceTest.cpp - TileCostOpInterface on tile schedules --===//
//
// The cost model walks tile IR through TileCostOpInterface alone; these
// tests check that a walk over a whole schedule gives the totals the
// schedule implies (a matmul's 2·M·N·K FLOP, each operand's re-reads), and
// what each op reports per execution.
//
//===----------------------------------------------------------------------===//

#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace strata::tile;

namespace {

class TileCostInterfaceTest : public ::testing::Test {
protected:
  TileCostInterfaceTest() {
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

  /// The ops implementing the interface, in walk order.
  static SmallVector<TileCostOpInterface> costOps(ModuleOp m) {
    SmallVector<TileCostOpInterface> ops;
    m.walk([&](TileCostOpInterface op) { ops.push_back(op); });
    return ops;
  }

  MLIRContext ctx;
};

// C[4096x1280] = A[4096x8192] * B[8192x1280]: 128x256 output tiles spread
// over 132 cores, K in 128 steps of 64.
constexpr llvm::StringLiteral kMatmul = R"mlir(
  func.func @matmul(%a: tensor<4096x8192xbf16>, %b: tensor<8192x1280xbf16>,
                    %c: tensor<4096x1280xf32>) -> tensor<4096x1280xf32> {
    %r = tile.kernel "mm" ins(%a, %b : tensor<4096x8192xbf16>, tensor<8192x1280xbf16>)
                          outs(%c : tensor<4096x1280xf32>) {
    ^bb0(%A: !tile.buf<4096x8192xbf16, "hbm">, %B: !tile.buf<8192x1280xbf16, "hbm">,
         %C: !tile.buf<4096x1280xf32, "hbm">):
      tile.spread cores(132) over (%m, %n) in (32, 5) {
        %acc = tile.alloc : !tile.buf<128x256xf32, "rf">
        %sa = tile.alloc buffers(2) : !tile.buf<128x64xbf16, "smem">
        %sb = tile.alloc buffers(2) : !tile.buf<64x256xbf16, "smem">
        tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<128x256xf32, "rf">
        tile.loop %k in 128 pipeline(2) {
          %ta = tile.copy %A[%m, %k] -> %sa bytes(16384)
              : !tile.buf<4096x8192xbf16, "hbm"> -> !tile.buf<128x64xbf16, "smem">
          %tb = tile.copy %B[%k, %n] -> %sb bytes(32768)
              : !tile.buf<8192x1280xbf16, "hbm"> -> !tile.buf<64x256xbf16, "smem">
          tile.wait %ta, %tb
          tile.mma %sa, %sb, %acc on "tensor"
              : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">,
                !tile.buf<128x256xf32, "rf">
        }
        %tc = tile.copy %acc -> %C[%m, %n] bytes(131072)
            : !tile.buf<128x256xf32, "rf"> -> !tile.buf<4096x1280xf32, "hbm">
        tile.wait %tc
      }
    } -> tensor<4096x1280xf32>
    return %r : tensor<4096x1280xf32>
  })mlir";

TEST_F(TileCostInterfaceTest, MatmulTotalsMatchTheProblem) {
  OwningOpRef<ModuleOp> m = parse(kMatmul);
  ASSERT_TRUE(m);
  SmallVector<TileCostOpInterface> ops = costOps(*m);
  // fill, copy A, copy B, mma, copy C.
  ASSERT_EQ(ops.size(), 5u);

  int64_t flops = 0;
  int64_t computeFlops = 0;
  int64_t hbmBytesRead = 0;
  int64_t hbmBytesWritten = 0;
  for (TileCostOpInterface op : ops) {
    flops += op.getTotalFlops();
    if (op.getComputeUnit() == "tensor")
      computeFlops += op.getTotalFlops();
    auto [from, to] = op.getTransferLevels();
    if (from == "hbm")
      hbmBytesRead += op.getTotalBytesMoved();
    if (to == "hbm")
      hbmBytesWritten += op.getTotalBytesMoved();
  }
  // The tensor unit does exactly the matmul's 2·M·N·K.
  EXPECT_EQ(computeFlops, 2LL * 4096 * 1280 * 8192);
  // Plus one fill per output element.
  EXPECT_EQ(flops, 2LL * 4096 * 1280 * 8192 + 4096LL * 1280);
  // A is re-read once per column of output tiles (5), B once per row (32).
  EXPECT_EQ(hbmBytesRead, 5LL * 4096 * 8192 * 2 + 32LL * 8192 * 1280 * 2);
  // C is written once.
  EXPECT_EQ(hbmBytesWritten, 4096LL * 1280 * 4);
}

TEST_F(TileCostInterfaceTest, PerExecutionFiguresAndCounts) {
  OwningOpRef<ModuleOp> m = parse(kMatmul);
  ASSERT_TRUE(m);
  MmaOp mma;
  CopyOp copyOut;
  SpreadOp spread;
  m->walk([&](Operation *op) {
    if (auto o = dyn_cast<MmaOp>(op))
      mma = o;
    if (auto o = dyn_cast<CopyOp>(op); o && !o.getDestIndices().empty())
      copyOut = o;
    if (auto o = dyn_cast<SpreadOp>(op))
      spread = o;
  });
  ASSERT_TRUE(mma && copyOut && spread);

  auto mmaCost = cast<TileCostOpInterface>(mma.getOperation());
  EXPECT_EQ(mmaCost.getCostKind(), CostKind::Compute);
  EXPECT_EQ(mmaCost.getFlopsPerExecution(), 2LL * 128 * 256 * 64);
  EXPECT_EQ(mmaCost.getBytesMoved(), 0);
  EXPECT_EQ(mmaCost.getExecutionCount(), 32 * 5 * 128);
  EXPECT_EQ(mma.getMatmulShape(), (SmallVector<int64_t, 3>{128, 256, 64}));

  auto copyCost = cast<TileCostOpInterface>(copyOut.getOperation());
  EXPECT_EQ(copyCost.getCostKind(), CostKind::Dma);
  EXPECT_EQ(copyCost.getBytesMoved(), 128 * 256 * 4);
  EXPECT_EQ(copyCost.getExecutionCount(), 32 * 5);
  EXPECT_EQ(copyCost.getTransferLevels(),
            (std::pair<StringRef, StringRef>{"rf", "hbm"}));
  EXPECT_EQ(copyCost.getComputeUnit(), "");

  // 160 output tiles on 132 cores: two waves, the second mostly idle.
  EXPECT_EQ(spread.getNumIterations(), 160);
  EXPECT_EQ(spread.getNumWaves(), 2);
}

TEST_F(TileCostInterfaceTest, ElementwiseReductionNocAndFabric) {
  OwningOpRef<ModuleOp> m = parse(R"mlir(
    func.func @f(%x: tensor<4096x1024xf32>) -> tensor<4096x1024xf32> {
      %r = tile.kernel "k" outs(%x : tensor<4096x1024xf32>) {
      ^bb0(%X: !tile.buf<4096x1024xf32, "hbm">):
        tile.spread cores(64) over (%i) in (64) {
          %a = tile.alloc : !tile.buf<64x128xf32, "sram">
          %r = tile.alloc : !tile.buf<64x1xf32, "sram">
          tile.loop %j in 8 {
            tile.map silu %a -> %a on "vector"
                : (!tile.buf<64x128xf32, "sram">) -> !tile.buf<64x128xf32, "sram">
            tile.map exp %a -> %a on "vector" flops(3)
                : (!tile.buf<64x128xf32, "sram">) -> !tile.buf<64x128xf32, "sram">
            tile.reduce sum %a -> %r dim(1) on "vector"
                : !tile.buf<64x128xf32, "sram"> -> !tile.buf<64x1xf32, "sram">
            %t = tile.noc_copy multicast %r -> %r cores(7) hops(7) bytes(256)
                : !tile.buf<64x1xf32, "sram"> -> !tile.buf<64x1xf32, "sram">
            tile.wait %t
          }
        }
      } -> tensor<4096x1024xf32>
      %s = tile.collective all_reduce %r over "nvlink" algorithm(ring) bytes(16777216)
          : tensor<4096x1024xf32> -> tensor<4096x1024xf32>
      return %s : tensor<4096x1024xf32>
    })mlir");
  ASSERT_TRUE(m);
  SmallVector<TileCostOpInterface> ops = costOps(*m);
  ASSERT_EQ(ops.size(), 5u);
  constexpr int64_t kTile = 64 * 128;
  constexpr int64_t kExecutions = 64 * 8;

  // silu uses its default FLOP per element (4); exp is overridden to 3.
  EXPECT_EQ(getDefaultFlopsPerElement(MapKind::Silu), 4);
  EXPECT_EQ(ops[0].getFlopsPerExecution(), 4 * kTile);
  EXPECT_EQ(ops[1].getFlopsPerExecution(), 3 * kTile);
  EXPECT_EQ(ops[0].getComputeUnit(), "vector");
  EXPECT_EQ(ops[0].getExecutionCount(), kExecutions);
  // A reduction combines every input element once.
  EXPECT_EQ(ops[2].getFlopsPerExecution(), kTile);

  // A multicast's payload counts once.
  EXPECT_EQ(ops[3].getCostKind(), CostKind::Noc);
  EXPECT_EQ(ops[3].getBytesMoved(), 64 * 4);
  EXPECT_EQ(ops[3].getTotalBytesMoved(), 64 * 4 * kExecutions);
  EXPECT_EQ(ops[3].getTransferLevels(),
            (std::pair<StringRef, StringRef>{"sram", "sram"}));

  // Outside any loop or spread a collective executes once.
  EXPECT_EQ(ops[4].getCostKind(), CostKind::Fabric);
  EXPECT_EQ(ops[4].getFabricName(), "nvlink");
  EXPECT_EQ(ops[4].getExecutionCount(), 1);
  EXPECT_EQ(ops[4].getTotalBytesMoved(), 4096LL * 1024 * 4);
}

TEST_F(TileCostInterfaceTest, CopyBuilderDerivesBytes) {
  OwningOpRef<ModuleOp> m = parse(R"mlir(
    func.func @f(%s: !tile.buf<1024x64xbf16, "hbm">, %d: !tile.buf<32x64xbf16, "smem">,
                 %i: index) {
      return
    })mlir");
  ASSERT_TRUE(m);
  auto fn = cast<func::FuncOp>(m->getBody()->front());
  Block &entry = fn.getBody().front();
  OpBuilder builder(&ctx);
  builder.setInsertionPointToStart(&entry);
  Value i = entry.getArgument(2);
  auto copy =
      CopyOp::create(builder, fn.getLoc(), entry.getArgument(0),
                     ValueRange{i, i}, entry.getArgument(1), ValueRange{});
  EXPECT_EQ(copy.getBytes(), 32 * 64 * 2);
  EXPECT_TRUE(succeeded(copy.verify()));
}

// An embedding lookup: 2048 tokens in blocks of 8 over 256 spread points.
// The gather is a DMA from the table's level whose bytes are the rows it
// fetches, never the table: the whole schedule moves 2048 rows of 8 KiB
// out of a 1 GB table.
TEST_F(TileCostInterfaceTest, GatherMovesTheRowsItPicks) {
  OwningOpRef<ModuleOp> m = parse(R"mlir(
    func.func @embed(%T: !tile.buf<2048xi32, "hbm">, %W: !tile.buf<128256x4096xbf16, "hbm">,
                     %O: !tile.buf<2048x4096xbf16, "hbm">) {
      tile.spread cores(132) over (%r) in (256) {
        %ids = tile.alloc : !tile.buf<8xi32, "smem">
        %rows = tile.alloc : !tile.buf<8x4096xbf16, "smem">
        %t0 = tile.copy %T[%r] -> %ids bytes(32)
            : !tile.buf<2048xi32, "hbm"> -> !tile.buf<8xi32, "smem">
        tile.wait %t0
        %t1 = tile.gather %W rows(%ids) -> %rows bytes(65536)
            : !tile.buf<128256x4096xbf16, "hbm">, !tile.buf<8xi32, "smem">
              -> !tile.buf<8x4096xbf16, "smem">
        tile.wait %t1
      }
      return
    })mlir");
  ASSERT_TRUE(m);
  GatherOp gather;
  m->walk([&](GatherOp op) { gather = op; });
  ASSERT_TRUE(gather);
  auto op = cast<TileCostOpInterface>(gather.getOperation());
  EXPECT_EQ(op.getCostKind(), CostKind::Dma);
  EXPECT_EQ(op.getBytesMoved(), 8 * 4096 * 2);
  EXPECT_EQ(op.getFlopsPerExecution(), 0);
  EXPECT_EQ(op.getTransferLevels(),
            (std::pair<StringRef, StringRef>{"hbm", "smem"}));
  EXPECT_EQ(op.getExecutionCount(), 256);
  EXPECT_EQ(op.getTotalBytesMoved(), 2048LL * 4096 * 2);

  // The builder derives the payload from the destination.
  OpBuilder builder(gather);
  auto built = GatherOp::create(builder, gather.getLoc(), gather.getSource(),
                                gather.getIndices(), gather.getDest());
  EXPECT_EQ(built.getBytes(), 8 * 4096 * 2);
  EXPECT_TRUE(succeeded(built.verify()));
}

} // namespace
