//===- WorkloadTest.cpp - Generated transformers vs published figures -----===//
//
// Builds whole models in-process and checks what strata::analysis counts in
// them against independent formulas written here: parameter totals against
// the published figures, forward FLOPs against 2 * active parameters *
// tokens plus the attention terms, training against three forwards.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace strata;
using namespace strata::workload;

namespace {

/// Relative error |got - want| / want.
double relErr(double got, double want) { return std::fabs(got - want) / want; }

class WorkloadTest : public ::testing::Test {
protected:
  WorkloadTest() {
    DialectRegistry registry;
    registerWorkloadDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  ModelConfig config(llvm::StringRef name) {
    FailureOr<ModelConfig> c = loadModelConfig(name, STRATA_MODELS_DIR, &ctx);
    EXPECT_TRUE(succeeded(c)) << "cannot load " << name.str();
    return succeeded(c) ? *c : ModelConfig();
  }

  OwningOpRef<ModuleOp> build(const ModelConfig &c, WorkloadOptions opts) {
    OwningOpRef<ModuleOp> m = buildTransformerModule(c, opts, &ctx);
    EXPECT_TRUE(m) << "cannot build " << c.name;
    return m;
  }

  func::FuncOp entry(ModuleOp m, WorkloadMode mode) {
    return m.lookupSymbol<func::FuncOp>(entryFunctionName(mode));
  }

  analysis::ProgramCounts count(ModuleOp m, WorkloadMode mode) {
    func::FuncOp fn = entry(m, mode);
    EXPECT_TRUE(fn);
    analysis::ProgramCounts counts = analysis::countProgram(fn);
    for (auto &[name, times] : counts.unmodelled)
      ADD_FAILURE() << "unmodelled op " << name.str() << " x" << times;
    return counts;
  }

  MLIRContext ctx;
};

//===----------------------------------------------------------------------===//
// Independent formulas
//===----------------------------------------------------------------------===//

/// Parameters of one attention block (q, k, v, o, with biases if any).
double attentionParams(const ModelConfig &c) {
  double q = double(c.hidden) * c.heads * c.headDim;
  double kv = 2.0 * c.hidden * c.kvHeads * c.headDim;
  double o = double(c.heads) * c.headDim * c.hidden;
  double bias = (c.qkvBias ? double(c.heads + 2 * c.kvHeads) * c.headDim : 0) +
                (c.outBias ? c.hidden : 0);
  return q + kv + o + bias;
}

/// Parameters of one expert / dense MLP.
double mlpParams(const ModelConfig &c) {
  double mats = (c.gatedMLP ? 3.0 : 2.0) * c.hidden * c.intermediate;
  double bias =
      c.mlpBias ? (c.gatedMLP ? 2.0 : 1.0) * c.intermediate + c.hidden : 0;
  return mats + bias;
}

double normParams(const ModelConfig &c) {
  return (c.norm == NormKind::LayerNorm ? 2.0 : 1.0) * c.hidden;
}

struct Params {
  double total = 0;
  /// Parameters each token multiplies with in matmuls: attention, the K
  /// chosen experts (or the MLP), the router, the LM head. No embeddings,
  /// norms or biases' gathers.
  double activeMatmul = 0;
  /// Active parameters as usually published (adds the embeddings).
  double active = 0;
};

Params params(const ModelConfig &c) {
  double embed = double(c.vocab) * c.hidden +
                 (c.learnedPositions ? double(c.maxPositions) * c.hidden : 0);
  double head = c.tieEmbeddings ? 0 : double(c.hidden) * c.vocab;
  double router = c.isMoE() ? double(c.hidden) * c.experts : 0;
  double experts = c.isMoE() ? double(c.experts) : 1;
  double chosen = c.isMoE() ? double(c.topK) : 1;
  double layer =
      attentionParams(c) + experts * mlpParams(c) + router + 2 * normParams(c);
  Params p;
  p.total = embed + c.layers * layer + normParams(c) + head;
  double matmulPerLayer =
      double(c.hidden) * c.heads * c.headDim +
      2.0 * c.hidden * c.kvHeads * c.headDim +
      double(c.heads) * c.headDim * c.hidden +
      chosen * (c.gatedMLP ? 3.0 : 2.0) * c.hidden * c.intermediate + router;
  p.activeMatmul = c.layers * matmulPerLayer + double(c.hidden) * c.vocab;
  p.active = embed +
             c.layers * (attentionParams(c) + chosen * mlpParams(c) + router +
                         2 * normParams(c)) +
             normParams(c) + head;
  return p;
}

/// QK^T and AV over the full (masked) square: 2 matmuls of 2 FLOPs per MAC.
double attentionFlops(const ModelConfig &c, int64_t batch, int64_t seq,
                      int64_t context) {
  return 4.0 * batch * seq * context * c.heads * c.headDim * c.layers;
}

/// FLOPs of ops whose location name starts with `prefix`.
double flopsUnder(func::FuncOp fn, llvm::StringRef prefix) {
  analysis::ProgramProfile profile(fn);
  double flops = 0;
  for (const analysis::ProfileEntry &e : profile.entries()) {
    auto name = dyn_cast<NameLoc>(e.op->getLoc());
    if (name && name.getName().getValue().starts_with(prefix))
      flops += e.counts.flops * e.times;
  }
  return flops;
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

TEST_F(WorkloadTest, ParametersMatchPublishedTotals) {
  struct Published {
    const char *name;
    double total;
  } models[] = {{"llama-3-8b", 8.03e9},      {"llama-3-70b", 70.6e9},
                {"llama-3.1-405b", 405.9e9}, {"mixtral-8x7b", 46.7e9},
                {"qwen2-7b", 7.62e9},        {"gpt2", 124.4e6},
                {"gpt3-175b", 175.0e9}};
  for (const Published &m : models) {
    ModelConfig c = config(m.name);
    OwningOpRef<ModuleOp> module = build(c, {});
    ASSERT_TRUE(module);
    analysis::ProgramCounts counts = count(*module, WorkloadMode::Prefill);
    std::printf("%-15s parameters: IR %.4g, formula %.4g, published %.4g "
                "(error %.3f%%)\n",
                m.name, counts.parameters, params(c).total, m.total,
                100 * relErr(counts.parameters, m.total));
    EXPECT_DOUBLE_EQ(counts.parameters, params(c).total) << m.name;
    EXPECT_LT(relErr(counts.parameters, m.total), 0.005) << m.name;
  }
}

TEST_F(WorkloadTest, MixtralActiveParameters) {
  ModelConfig c = config("mixtral-8x7b");
  // Published: 12.9e9 active of 46.7e9 (Mistral AI, Mixtral of Experts).
  std::printf("mixtral-8x7b active parameters (formula): %.4g\n",
              params(c).active);
  EXPECT_LT(relErr(params(c).active, 12.9e9), 0.005);

  OwningOpRef<ModuleOp> module = build(c, {});
  ASSERT_TRUE(module);
  analysis::ProgramCounts counts = count(*module, WorkloadMode::Prefill);
  int64_t tokens = 2048;
  // FLOPs/(2 tokens) implied by the IR, less the attention square.
  double implied =
      (counts.flops - attentionFlops(c, 1, tokens, tokens)) / (2.0 * tokens);
  std::printf("mixtral-8x7b active matmul parameters: IR-implied %.4g, "
              "formula %.4g (error %.3f%%)\n",
              implied, params(c).activeMatmul,
              100 * relErr(implied, params(c).activeMatmul));
  EXPECT_LT(relErr(implied, params(c).activeMatmul), 0.01);
}

//===----------------------------------------------------------------------===//
// FLOPs
//===----------------------------------------------------------------------===//

TEST_F(WorkloadTest, PrefillFlopsMatchFormula) {
  for (const char *name :
       {"llama-3-8b", "llama-3-70b", "mixtral-8x7b", "qwen2-7b", "gpt2"}) {
    ModelConfig c = config(name);
    WorkloadOptions opts;
    opts.batch = 2;
    opts.seq = 1024;
    OwningOpRef<ModuleOp> module = build(c, opts);
    ASSERT_TRUE(module);
    analysis::ProgramCounts counts = count(*module, WorkloadMode::Prefill);
    double tokens = 2.0 * 1024;
    double want =
        2 * params(c).activeMatmul * tokens + attentionFlops(c, 2, 1024, 1024);
    std::printf("%-15s prefill b=2 s=1024 FLOPs: IR %.5g, formula %.5g "
                "(error %.3f%%)\n",
                name, counts.flops, want, 100 * relErr(counts.flops, want));
    EXPECT_LT(relErr(counts.flops, want), 0.01) << name;
  }
}

TEST_F(WorkloadTest, DecodeFlopsMatchFormula) {
  for (const char *name : {"llama-3-8b", "mixtral-8x7b", "gpt2"}) {
    ModelConfig c = config(name);
    WorkloadOptions opts;
    opts.mode = WorkloadMode::Decode;
    opts.batch = 8;
    opts.kvLen = 1000;
    OwningOpRef<ModuleOp> module = build(c, opts);
    ASSERT_TRUE(module);
    analysis::ProgramCounts counts = count(*module, WorkloadMode::Decode);
    // One new token per sequence attends to the cache plus itself. MoE:
    // 8 tokens * top-2 = 16 choices cover all 8 experts at 2 rows each, so
    // the uniform share is exact.
    double want =
        2 * params(c).activeMatmul * 8 + attentionFlops(c, 8, 1, 1001);
    std::printf("%-15s decode b=8 kv=1000 FLOPs: IR %.5g, formula %.5g "
                "(error %.3f%%)\n",
                name, counts.flops, want, 100 * relErr(counts.flops, want));
    EXPECT_LT(relErr(counts.flops, want), 0.01) << name;
  }
}

// A sliding window bounds decode's attention work: Mistral-7B (window 4,096
// in every layer) after 32k tokens computes QK^T over 4,096 keys, Gemma 3
// 1B over 32,769 keys in its 4 global layers and 512 in its 22 local ones.
TEST_F(WorkloadTest, DecodeAttentionIsBoundedByTheWindow) {
  WorkloadOptions opts;
  opts.mode = WorkloadMode::Decode;
  opts.batch = 8;
  opts.kvLen = 32768;
  ModelConfig mistral = config("mistral-7b");
  OwningOpRef<ModuleOp> m = build(mistral, opts);
  ASSERT_TRUE(m);
  analysis::ProgramCounts counts = count(*m, WorkloadMode::Decode);
  double want = 2 * params(mistral).activeMatmul * 8 +
                attentionFlops(mistral, 8, 1, 4096);
  std::printf("mistral-7b decode b=8 kv=32768 FLOPs: IR %.5g, formula %.5g "
              "with a 4096-key window (error %.3f%%)\n",
              counts.flops, want, 100 * relErr(counts.flops, want));
  EXPECT_LT(relErr(counts.flops, want), 0.01);
  double qk =
      flopsUnder(entry(*m, WorkloadMode::Decode), "layers.attn.qk_matmul");
  EXPECT_DOUBLE_EQ(qk, 2.0 * 8 * 4096 * mistral.heads * mistral.headDim *
                           mistral.layers);

  ModelConfig gemma3 = config("gemma-3-1b");
  OwningOpRef<ModuleOp> g = build(gemma3, opts);
  ASSERT_TRUE(g);
  double gqk =
      flopsUnder(entry(*g, WorkloadMode::Decode), "layers.attn.qk_matmul");
  EXPECT_DOUBLE_EQ(gqk, 2.0 * 8 * (4 * 32769 + 22 * 512) * gemma3.heads *
                            gemma3.headDim);
}

TEST_F(WorkloadTest, DecodeSingleTokenRunsOnlyChosenExperts) {
  // One token with top-2 routing computes two experts, not eight.
  ModelConfig c = config("mixtral-8x7b");
  WorkloadOptions opts;
  opts.mode = WorkloadMode::Decode;
  opts.kvLen = 100;
  OwningOpRef<ModuleOp> module = build(c, opts);
  ASSERT_TRUE(module);
  analysis::ProgramCounts counts = count(*module, WorkloadMode::Decode);
  double want = 2 * params(c).activeMatmul + attentionFlops(c, 1, 1, 101);
  EXPECT_LT(relErr(counts.flops, want), 0.01);
}

TEST_F(WorkloadTest, CapacityFactorScalesExpertWork) {
  ModelConfig c = config("mixtral-8x7b");
  WorkloadOptions uniform, padded;
  uniform.seq = padded.seq = 512;
  padded.moeCapacityFactor = 1.25;
  OwningOpRef<ModuleOp> a = build(c, uniform), b = build(c, padded);
  ASSERT_TRUE(a && b);
  double fa = flopsUnder(entry(*a, WorkloadMode::Prefill), "layers.moe.expert");
  double fb = flopsUnder(entry(*b, WorkloadMode::Prefill), "layers.moe.expert");
  // 512 * 2 / 8 = 128 rows per expert, 160 at a factor of 1.25.
  EXPECT_NEAR(fb / fa, 160.0 / 128.0, 1e-3);
}

TEST_F(WorkloadTest, TrainingIsThreeForwardsPlusAdam) {
  for (const char *name : {"llama-3-8b", "mixtral-8x7b", "qwen2-7b", "gpt2"}) {
    ModelConfig c = config(name);
    WorkloadOptions fwdOpts, trainOpts;
    fwdOpts.seq = trainOpts.seq = 1024;
    trainOpts.mode = WorkloadMode::Train;
    // Training pads the vocabulary to a multiple of 128 (Megatron-LM);
    // the forward it is compared with is built over the same vocabulary.
    fwdOpts.vocabMultiple = 128;
    OwningOpRef<ModuleOp> fwd = build(c, fwdOpts), train = build(c, trainOpts);
    ASSERT_TRUE(fwd && train);
    analysis::ProgramCounts forward = count(*fwd, WorkloadMode::Prefill);
    analysis::ProgramCounts step = count(*train, WorkloadMode::Train);
    func::FuncOp trainFn = entry(*train, WorkloadMode::Train);
    double adam = flopsUnder(trainFn, "optimizer.");
    double loss = flopsUnder(trainFn, "loss.");
    double ratio = (step.flops - adam - loss) / forward.flops;
    std::printf("%-15s train s=1024: %.5g FLOPs = %.4f x forward (+ Adam "
                "%.4g = %.2f FLOP/param, loss %.3g)\n",
                name, step.flops, ratio, adam, adam / step.parameters, loss);
    EXPECT_LT(std::fabs(ratio - 3.0) / 3.0, 0.02) << name;
    // Adam is elementwise over every parameter: a handful of FLOPs each.
    EXPECT_NEAR(adam / step.parameters, 11.0, 0.5) << name;
    EXPECT_DOUBLE_EQ(step.parameters, forward.parameters) << name;
  }
}

TEST_F(WorkloadTest, TrainingPadsTheVocabularyAsMegatronDoes) {
  // GPT-2's 50257 tokens: 50304 (a multiple of 128) when training, as built
  // for inference otherwise, and a multiple of 128 x tp when asked.
  ModelConfig c = config("gpt2");
  WorkloadOptions train, prefill, tp8, none;
  train.mode = tp8.mode = none.mode = WorkloadMode::Train;
  tp8.vocabMultiple = 128 * 8;
  none.vocabMultiple = 1;
  EXPECT_EQ(paddedVocab(c, train), 50304);
  EXPECT_EQ(paddedVocab(c, prefill), 50257);
  EXPECT_EQ(paddedVocab(c, tp8), 51200);
  EXPECT_EQ(paddedVocab(c, none), 50257);
  train.seq = 16;
  OwningOpRef<ModuleOp> m = build(c, train);
  ASSERT_TRUE(m);
  auto info = (*m)->getAttrOfType<DictionaryAttr>("strata.model");
  ASSERT_TRUE(info);
  EXPECT_EQ(info.getAs<IntegerAttr>("vocab").getInt(), 50257);
  EXPECT_EQ(info.getAs<IntegerAttr>("padded_vocab").getInt(), 50304);
  // Llama 3's 128256 is already a multiple of 128: nothing recorded.
  OwningOpRef<ModuleOp> l = build(config("llama-3-8b"), train);
  ASSERT_TRUE(l);
  EXPECT_FALSE(
      (*l)->getAttrOfType<DictionaryAttr>("strata.model").get("padded_vocab"));
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

/// Ops in a module (all nesting levels).
int64_t opCount(ModuleOp m) {
  int64_t n = 0;
  m.walk([&](Operation *) { ++n; });
  return n;
}

TEST_F(WorkloadTest, IRSizeDoesNotGrowWithDepth) {
  for (WorkloadMode mode :
       {WorkloadMode::Prefill, WorkloadMode::Decode, WorkloadMode::Train}) {
    WorkloadOptions opts;
    opts.mode = mode;
    OwningOpRef<ModuleOp> shallow = build(config("llama-3-8b"), opts);
    OwningOpRef<ModuleOp> deep = build(config("llama-3.1-405b"), opts);
    ASSERT_TRUE(shallow && deep);
    EXPECT_EQ(opCount(*shallow), opCount(*deep))
        << stringifyWorkloadMode(mode).str();
  }
}

TEST_F(WorkloadTest, EveryEntryArgumentHasARole) {
  for (WorkloadMode mode :
       {WorkloadMode::Prefill, WorkloadMode::Decode, WorkloadMode::Train}) {
    WorkloadOptions opts;
    opts.mode = mode;
    opts.seq = 16;
    opts.kvLen = 16;
    OwningOpRef<ModuleOp> m = build(config("gpt2"), opts);
    ASSERT_TRUE(m);
    func::FuncOp fn = entry(*m, mode);
    ASSERT_TRUE(fn);
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto role = fn.getArgAttrOfType<StringAttr>(i, analysis::kRoleAttrName);
      ASSERT_TRUE(role) << "argument " << i;
      EXPECT_TRUE(llvm::is_contained(
          llvm::ArrayRef<llvm::StringRef>{"weight", "input", "kv_cache",
                                          "optimizer_state"},
          role.getValue()));
    }
  }
}

//===----------------------------------------------------------------------===//
// Config errors
//===----------------------------------------------------------------------===//

/// Parses `json` and returns the first error message ("" if none).
std::string parseError(MLIRContext &ctx, llvm::StringRef json) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (message.empty())
      message = d.str();
    return success();
  });
  FailureOr<ModelConfig> c = parseModelConfig(json, "cfg.json", "cfg", &ctx);
  EXPECT_EQ(failed(c), !message.empty());
  return message;
}

TEST_F(WorkloadTest, ConfigErrorsNameTheField) {
  EXPECT_NE(parseError(ctx, R"({"model_type": "llama", "hidden_size": 64,
      "intermediate_size": 128, "num_attention_heads": 4,
      "num_hidden_layers": 2})")
                .find("'vocab_size'"),
            std::string::npos);
  EXPECT_NE(parseError(ctx, R"({"model_type": "bert"})").find("'bert'"),
            std::string::npos);
  EXPECT_NE(parseError(ctx, R"({"model_type": "llama", "hidden_size": 64,
      "intermediate_size": 128, "num_attention_heads": 4,
      "num_key_value_heads": 3, "num_hidden_layers": 2, "vocab_size": 10})")
                .find("num_key_value_heads"),
            std::string::npos);
  EXPECT_EQ(parseError(ctx, R"({"model_type": "llama", "hidden_size": 64,
      "intermediate_size": 128, "num_attention_heads": 4,
      "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 10})"),
            "");
}

TEST_F(WorkloadTest, GptNeoXParallelResidualAndPartialRotary) {
  // Pythia-160m's shapes.
  FailureOr<ModelConfig> c = parseModelConfig(
      R"({"model_type": "gpt_neox", "hidden_size": 768,
          "intermediate_size": 3072, "num_attention_heads": 12,
          "num_hidden_layers": 12, "vocab_size": 50304,
          "rotary_pct": 0.25, "use_parallel_residual": true,
          "max_position_embeddings": 2048})",
      "pythia.json", "pythia-160m", &ctx);
  ASSERT_TRUE(succeeded(c));
  EXPECT_EQ(c->rotaryDim(), 16);
  EXPECT_TRUE(c->parallelResidual);
  for (WorkloadMode mode : {WorkloadMode::Prefill, WorkloadMode::Train}) {
    WorkloadOptions opts;
    opts.mode = mode;
    opts.seq = 64;
    OwningOpRef<ModuleOp> m = build(*c, opts);
    ASSERT_TRUE(m);
    analysis::ProgramCounts counts = count(*m, mode);
    // Pythia-160m: 162.3e6 parameters (untied embed_out).
    EXPECT_LT(relErr(counts.parameters, 162.3e6), 0.005);
  }
}

} // namespace

namespace {

// Parameter counts as the configs define them, against the published
// figures (model cards): Llama-3-8B 8,030,261,248; Mixtral-8x7B 46.7 B
// total and 12.9 B active (two of eight experts); GPT-2 124,439,808
// (tied embeddings, learned positions, biases, LayerNorm).
TEST_F(WorkloadTest, ParameterCountsMatchPublishedFigures) {
  ModelConfig llama = config("llama-3-8b");
  EXPECT_EQ(llama.parameters().total, 8030261248);
  EXPECT_EQ(llama.parameters().active, 8030261248);
  ModelConfig mixtral = config("mixtral-8x7b");
  EXPECT_EQ(mixtral.parameters().total, 46702792704);
  EXPECT_EQ(mixtral.parameters().active, 12879925248);
  ModelConfig gpt2 = config("gpt2");
  EXPECT_EQ(gpt2.parameters().total, 124439808);
  // The generator records both for the report.
  OwningOpRef<ModuleOp> m = build(mixtral, WorkloadOptions());
  auto info = (*m)->getAttrOfType<DictionaryAttr>("strata.model");
  ASSERT_TRUE(info);
  EXPECT_EQ(info.getAs<IntegerAttr>("parameters").getInt(), 46702792704);
  EXPECT_EQ(info.getAs<IntegerAttr>("active_parameters").getInt(),
            12879925248);
}

} // namespace
