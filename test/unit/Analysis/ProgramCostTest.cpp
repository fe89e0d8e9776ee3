//===- ProgramCostTest.cpp - Programs through the cost model --------------===//

#include "strata/Analysis/ProgramCost.h"
#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace strata;

namespace {

constexpr const char *kLayers = R"mlir(
  func.func private @layer(%x: tensor<512x1024xbf16>, %w: tensor<1024x1024xbf16>)
      -> tensor<512x1024xbf16> {
    %e = tensor.empty() : tensor<512x1024xbf16>
    %r = linalg.matmul ins(%x, %w : tensor<512x1024xbf16>, tensor<1024x1024xbf16>)
                       outs(%e : tensor<512x1024xbf16>) -> tensor<512x1024xbf16>
    return %r : tensor<512x1024xbf16>
  }
  func.func @forward(%x: tensor<512x1024xbf16>, %ws: tensor<4x1024x1024xbf16>)
      -> tensor<512x1024xbf16> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %y = scf.for %i = %c0 to %c4 step %c1 iter_args(%h = %x) -> tensor<512x1024xbf16> {
      %w = tensor.extract_slice %ws[%i, 0, 0] [1, 1024, 1024] [1, 1, 1]
          : tensor<4x1024x1024xbf16> to tensor<1024x1024xbf16>
      %n = func.call @layer(%h, %w)
          : (tensor<512x1024xbf16>, tensor<1024x1024xbf16>) -> tensor<512x1024xbf16>
      scf.yield %n : tensor<512x1024xbf16>
    }
    return %y : tensor<512x1024xbf16>
  })mlir";

TEST(ProgramCostTest, SweepPricingMatchesTheReportAndFollowsHardware) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(kLayers, &ctx);
  ASSERT_TRUE(m);
  auto entry = m->lookupSymbol<FunctionOpInterface>("forward");
  hw::System sys = *hw::getPreset("h100-sxm");
  cost::CostModel model(sys);
  report::CostReport report = analysis::estimateProgram(entry, model);
  analysis::ProgramProfile profile(entry);
  analysis::ProgramTotals totals = analysis::priceProgram(profile, model);
  EXPECT_DOUBLE_EQ(totals.latency, report.latency);
  EXPECT_DOUBLE_EQ(totals.flops, 4 * 2.0 * 512 * 1024 * 1024);
  // One matmul row executed four times; the timeline has four slices.
  ASSERT_EQ(report.ops.size(), 1u);
  EXPECT_DOUBLE_EQ(report.ops[0].count, 4);
  EXPECT_EQ(report.timeline.size(), 4u);

  // Twice the tensor-core rate never makes it slower; the same profile
  // re-priced on another system gives another answer.
  hw::System faster = sys;
  for (hw::ComputeUnit &u : faster.chip.units)
    for (auto &[dtype, rate] : u.rates)
      rate *= 2;
  cost::CostModel fasterModel(faster);
  EXPECT_LE(analysis::priceProgram(profile, fasterModel).latency,
            totals.latency);
  hw::System a100 = *hw::getPreset("a100-sxm-80g");
  cost::CostModel a100Model(a100);
  EXPECT_GT(analysis::priceProgram(profile, a100Model).latency, totals.latency);
}

TEST(ProgramCostTest, BlocksComeFromNames) {
  EXPECT_EQ(analysis::blockOf("layers.attn.qk_matmul"), "layers.attn");
  EXPECT_EQ(analysis::blockOf("layers.attn.softmax.exp"), "layers.attn");
  EXPECT_EQ(analysis::blockOf("lm_head"), "lm_head");
  EXPECT_EQ(analysis::blockOf("model.mlir:3:8"), "(unnamed)");
}

} // namespace
