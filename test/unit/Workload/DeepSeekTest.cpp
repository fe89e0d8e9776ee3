//===- DeepSeekTest.cpp - DeepSeek-V2/V3 against published figures --------===//
//
// MLA and DeepSeekMoE as the configs define them: parameter counts against
// DeepSeek's published totals and activated counts, and the KV cache MLA
// keeps per token.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace strata::workload;

namespace {

double relErr(double got, double want) { return std::fabs(got - want) / want; }

ModelConfig load(MLIRContext &ctx, llvm::StringRef name) {
  FailureOr<ModelConfig> c = loadModelConfig(name, STRATA_MODELS_DIR, &ctx);
  EXPECT_TRUE(succeeded(c)) << "cannot load " << name.str();
  return succeeded(c) ? *c : ModelConfig();
}

// Published: DeepSeek-V3 671B total, 37B activated per token (DeepSeek-V3
// technical report, abstract; its 671B excludes the 14B MTP module);
// DeepSeek-V2 236B / 21B and DeepSeek-V2-Lite 15.7B / 2.4B (DeepSeek-V2
// paper, abstract and appendix B). Totals must match within 0.5 %. The
// activated counts are pinned as the config defines them (every weight a
// token reads, the embedding table and LM head included, as for Mixtral's
// 12.9B); an independent formula (modeling_deepseek.py's weights summed by
// hand) gives the same numbers. They exceed the published two-digit
// figures by 1.5 % (V3), 1.8 % (V2) and 10.9 % (V2-Lite). DeepSeek's
// figures leave out the input embedding (36.6B, 20.9B and 2.45B;
// ModelFamiliesTest.ActiveParametersUnderEachPublishersConvention).
TEST(DeepSeekTest, ParameterCountsMatchPublishedFigures) {
  MLIRContext ctx;
  ModelConfig v3 = load(ctx, "deepseek-v3");
  ModelConfig v2 = load(ctx, "deepseek-v2");
  ModelConfig lite = load(ctx, "deepseek-v2-lite");
  ASSERT_TRUE(v3.mla && v3.deepseekMoe && v2.mla && lite.mla);

  EXPECT_LT(relErr(v3.parameters().total, 671e9), 0.005);
  EXPECT_LT(relErr(v2.parameters().total, 236e9), 0.005);
  EXPECT_LT(relErr(lite.parameters().total, 15.7e9), 0.005);

  EXPECT_EQ(v3.parameters().total, 671026419200);
  EXPECT_EQ(v3.parameters().active, 37552297472);
  EXPECT_EQ(v2.parameters().total, 235741434880);
  EXPECT_EQ(v2.parameters().active, 21375800320);
  EXPECT_EQ(lite.parameters().total, 15706484224);
  EXPECT_EQ(lite.parameters().active, 2661150208);
}

TEST(DeepSeekTest, ConfigFields) {
  MLIRContext ctx;
  ModelConfig lite = load(ctx, "deepseek-v2-lite");
  ASSERT_TRUE(lite.mla && lite.deepseekMoe);
  EXPECT_EQ(lite.mla->qLoraRank, 0); // "q_lora_rank": null
  EXPECT_EQ(lite.mla->kvLoraRank, 512);
  EXPECT_EQ(lite.mla->qkHeadDim(), 192);
  EXPECT_EQ(lite.deepseekMoe->sharedExperts, 2);
  EXPECT_EQ(lite.moeLayers(), 26); // first_k_dense_replace 1 of 27
  ModelConfig v3 = load(ctx, "deepseek-v3");
  ASSERT_TRUE(v3.mla && v3.deepseekMoe);
  EXPECT_EQ(v3.mla->qLoraRank, 1536);
  EXPECT_EQ(v3.moeLayers(), 58);
  EXPECT_EQ(v3.deepseekMoe->groups, 8);
  EXPECT_EQ(v3.deepseekMoe->topkGroups, 4);
  EXPECT_TRUE(v3.deepseekMoe->sigmoidScoring);
  EXPECT_TRUE(v3.deepseekMoe->scoreCorrectionBias);
}

// MLA caches the kv_lora_rank latent and one qk_rope_head_dim key per token
// and layer: 27 x (512 + 64) elements for DeepSeek-V2-Lite.
TEST(DeepSeekTest, LiteKVCachePerToken) {
  MLIRContext ctx;
  ModelConfig lite = load(ctx, "deepseek-v2-lite");
  EXPECT_EQ(lite.kvCacheElementsPerToken(), 27 * (512 + 64));
}

// The same in the generated decode step: the bytes of its kv_cache
// arguments per cached position are layers x (kv_lora_rank +
// qk_rope_head_dim) x 2 (bf16) = 31,104, against 27 x 2 x 16 heads x 192 x
// 2 = 331,776 for a plain multi-head cache of the same heads.
TEST(DeepSeekTest, LiteDecodeKVBytesPerToken) {
  DialectRegistry registry;
  registerWorkloadDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ModelConfig lite = load(ctx, "deepseek-v2-lite");
  WorkloadOptions opts;
  opts.mode = WorkloadMode::Decode;
  opts.kvLen = 1023;
  OwningOpRef<ModuleOp> m = buildTransformerModule(lite, opts, &ctx);
  ASSERT_TRUE(m);
  auto fn = m->lookupSymbol<func::FuncOp>(entryFunctionName(opts.mode));
  ASSERT_TRUE(fn);
  int64_t bytes = 0;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto role = fn.getArgAttrOfType<StringAttr>(i, "strata.role");
    if (!role || role.getValue() != "kv_cache")
      continue;
    auto type = cast<RankedTensorType>(fn.getArgument(i).getType());
    bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
  }
  const int64_t positions = 1023 + 1;
  EXPECT_EQ(bytes % positions, 0);
  EXPECT_EQ(bytes / positions, 27 * (512 + 64) * 2);
}

// The generated prefill computes what the config defines: its weights are
// the parameters counted above, and its matmul FLOPs are 2 x tokens x the
// active matmul weights (active parameters less the embedding table and the
// RMSNorm scales) plus attention's QK^T (no-RoPE and RoPE parts) and PV over
// the full (masked) square. 2,048 tokens x top-6 fill the 64 experts'
// 192 rows each exactly, so no capacity padding enters.
TEST(DeepSeekTest, LitePrefillComputesTheConfig) {
  DialectRegistry registry;
  registerWorkloadDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ModelConfig c = load(ctx, "deepseek-v2-lite");
  WorkloadOptions opts;
  opts.seq = 2048;
  OwningOpRef<ModuleOp> m = buildTransformerModule(c, opts, &ctx);
  ASSERT_TRUE(m);
  auto fn = m->lookupSymbol<func::FuncOp>(entryFunctionName(opts.mode));
  ASSERT_TRUE(fn);
  strata::analysis::ProgramCounts counts = strata::analysis::countProgram(fn);
  EXPECT_TRUE(counts.unmodelled.empty());
  EXPECT_EQ(int64_t(counts.parameters), c.parameters().total);

  double matmul = 0;
  strata::analysis::ProgramProfile profile(fn);
  for (const strata::analysis::ProfileEntry &e : profile.entries())
    if (e.counts.cls == strata::analysis::OpClass::Contraction)
      matmul += e.counts.flops * e.times;
  const MlaConfig &mla = *c.mla;
  double tokens = 2048,
         norms = double(c.layers) * (2 * c.hidden + mla.kvLoraRank) +
                 double(c.hidden);
  double activeMatmul =
      double(c.parameters().active) - double(c.vocab) * c.hidden - norms;
  double attention =
      double(c.layers) * 2 * tokens * tokens * c.heads *
      double(mla.qkNopeHeadDim + mla.qkRopeHeadDim + mla.vHeadDim);
  double want = 2 * tokens * activeMatmul + attention;
  EXPECT_LT(std::fabs(matmul - want) / want, 1e-9)
      << "matmul FLOPs " << matmul << " want " << want;
}

} // namespace
