//===- QuantizationTest.cpp - Quantised weights' bytes and IR -------------===//
//
// --weight-dtype: the bytes each stored format spends per parameter (its
// elements plus its scales or shared exponents, checked against the
// formats' definitions: GPTQ/AWQ fp16 scales per group, OCP MX FP4's E8M0
// per 32, tt-metal's bfp8_b/bfp4_b tiles of 1088/576 bytes per 32x32), and
// that the generated program stores exactly that: the weights and scales
// of the layers' projections in llama-3-8b, gpt-oss-120b's MXFP4 experts.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace strata;
using namespace strata::workload;

namespace {

TEST(WeightQuantTest, BytesPerParameterAreElementsPlusScalesPerGroup) {
  // int4 with an fp16 scale per 128: 4/8 + 2/128.
  WeightQuant g128 = *parseWeightQuant("int4-g128");
  EXPECT_EQ(g128.group, 128);
  EXPECT_DOUBLE_EQ(g128.bytesPerParameter(4096), 0.5 + 2.0 / 128);
  // int8 per output channel: one fp16 scale per reduction (K = 4096).
  EXPECT_DOUBLE_EQ(parseWeightQuant("int8")->bytesPerParameter(4096),
                   1 + 2.0 / 4096);
  EXPECT_DOUBLE_EQ(parseWeightQuant("int8-g64")->bytesPerParameter(4096),
                   1 + 2.0 / 64);
  // MXFP4: E2M1 + one E8M0 per 32 = 4.25 bits.
  EXPECT_DOUBLE_EQ(parseWeightQuant("mxfp4")->bytesPerParameter(2880),
                   4.25 / 8);
  // tt-metal constants.hpp: BFLOAT8_B_TILE_HW = 1024 + 64, BFLOAT4_B_TILE_HW
  // = 1024 / 2 + 64 bytes per 32x32 tile.
  EXPECT_DOUBLE_EQ(parseWeightQuant("bfp8")->bytesPerParameter(4096),
                   1088.0 / 1024);
  EXPECT_DOUBLE_EQ(parseWeightQuant("bfp4")->bytesPerParameter(4096),
                   576.0 / 1024);
  // fp8: a per-tensor scale, no stored scales.
  EXPECT_DOUBLE_EQ(parseWeightQuant("fp8")->bytesPerParameter(4096), 1.0);
  for (llvm::StringRef bad : {"int4", "int4-g0", "int3-g128", "nf4", ""})
    EXPECT_FALSE(parseWeightQuant(bad)) << bad.str();
  for (llvm::StringRef ok :
       {"int8", "int8-g64", "int4-g128", "fp8", "mxfp4", "bfp8", "bfp4"})
    EXPECT_EQ(stringifyWeightQuant(*parseWeightQuant(ok)), ok.str());
}

class QuantizedModelTest : public ::testing::Test {
protected:
  QuantizedModelTest() {
    DialectRegistry registry;
    registerWorkloadDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// Elements and bytes of the entry's weight arguments whose names start
  /// with `prefix`: the stored elements (scales apart) and all bytes.
  struct Stored {
    double elements = 0, scaleElements = 0, bytes = 0;
  };
  Stored stored(ModuleOp m, llvm::StringRef prefix) {
    auto fn = m.lookupSymbol<func::FuncOp>("decode_step");
    EXPECT_TRUE(fn);
    Stored s;
    for (BlockArgument arg : fn.getArguments()) {
      auto name = dyn_cast<NameLoc>(arg.getLoc());
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!name || !type || !name.getName().getValue().starts_with(prefix))
        continue;
      double n = double(type.getNumElements());
      (name.getName().getValue().ends_with(".scales") ? s.scaleElements
                                                      : s.elements) += n;
      s.bytes += n * analysis::elementBytes(type.getElementType());
    }
    return s;
  }

  OwningOpRef<ModuleOp> build(llvm::StringRef model,
                              std::optional<WeightQuant> q) {
    FailureOr<ModelConfig> c = loadModelConfig(model, STRATA_MODELS_DIR, &ctx);
    EXPECT_TRUE(succeeded(c));
    WorkloadOptions o;
    o.mode = WorkloadMode::Decode;
    o.kvLen = 127;
    o.weightQuant = q;
    return buildTransformerModule(*c, o, &ctx);
  }

  MLIRContext ctx;
};

TEST_F(QuantizedModelTest, Llama3ProjectionsStoreTheFormatsBytes) {
  // Every projection of llama-3-8b reduces over 4096 (q/k/v/o, gate/up)
  // or 14336 (down), multiples of 128: bytes per parameter exactly
  // 0.5 + 2/128 for int4-g128.
  for (llvm::StringRef fmt : {"int4-g128", "bfp8", "bfp4", "mxfp4"}) {
    WeightQuant q = *parseWeightQuant(fmt);
    OwningOpRef<ModuleOp> m = build("llama-3-8b", q);
    ASSERT_TRUE(m);
    Stored s = stored(*m, "layers.");
    // Projections: 32 x (4096 x (4096 + 2 x 1024 + 4096) + 3 x 4096 x
    // 14336); plus the two norms' 2 x 32 x 4096 bf16 elements.
    double norms = 2.0 * 32 * 4096;
    double proj = 32.0 * (4096.0 * (4096 + 2 * 1024 + 4096) +
                          3.0 * 4096 * 14336);
    EXPECT_DOUBLE_EQ(s.elements, proj + norms) << fmt.str();
    EXPECT_DOUBLE_EQ(s.scaleElements, proj / double(q.group)) << fmt.str();
    EXPECT_DOUBLE_EQ((s.bytes - 2 * norms) / proj, q.bytesPerParameter(4096))
        << fmt.str();
  }
}

TEST_F(QuantizedModelTest, GptOssExpertsAreMxfp4ByDefault) {
  OwningOpRef<ModuleOp> m = build("gpt-oss-120b", std::nullopt);
  ASSERT_TRUE(m);
  // The experts: E2M1 elements and an E8M0 scale per 32 (4.25 bits); the
  // attention stays bf16 (modules_to_not_convert).
  Stored experts = stored(*m, "layers.moe.experts.");
  EXPECT_GT(experts.elements, 0);
  EXPECT_DOUBLE_EQ(experts.scaleElements, experts.elements / 32);
  EXPECT_DOUBLE_EQ(experts.bytes / experts.elements, 4.25 / 8);
  Stored attn = stored(*m, "layers.attn.q_proj");
  EXPECT_DOUBLE_EQ(attn.scaleElements, 0);
  EXPECT_DOUBLE_EQ(attn.bytes / attn.elements, 2.0);
}

} // namespace
