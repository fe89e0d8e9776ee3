//===- Inference.cpp - End-to-end inference against published figures ----===//

#include "strata/Calibration/Inference.h"
#include "RunContext.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/IR/ArchDialect.h"
#include "strata/Hardware/Presets.h"
#include "strata/Transforms/Passes.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace mlir;

namespace strata::calibration {

namespace {

/// The shapes of the models the reference names. Llama 2 7B:
/// meta-llama/Llama-2-7b-hf config.json (hidden 4096, intermediate 11008,
/// 32 heads, 32 KV heads, 32 layers, vocab 32000). GPT-J 6B:
/// EleutherAI/gpt-j-6b config.json (n_embd 4096, n_layer 28, n_head 16,
/// n_inner 4 x 4096, vocab 50400, rotary_dim 64 of 256, parallel residual,
/// GELU) — the same block as gpt_neox, which is how it is built here.
std::optional<workload::ModelConfig> modelFor(llvm::StringRef name) {
  workload::ModelConfig c;
  if (name == "Llama 2 7B") {
    c.name = "llama-2-7b";
    c.modelType = "llama";
    c.hidden = 4096;
    c.intermediate = 11008;
    c.heads = c.kvHeads = 32;
    c.headDim = 128;
    c.layers = 32;
    c.vocab = 32000;
    c.maxPositions = 4096;
    return c;
  }
  if (name == "GPT-J 6B") {
    c.name = "gpt-j-6b";
    c.modelType = "gpt_neox";
    c.hidden = 4096;
    c.intermediate = 16384;
    c.heads = c.kvHeads = 16;
    c.headDim = 256;
    c.layers = 28;
    c.vocab = 50400;
    c.maxPositions = 2048;
    c.norm = workload::NormKind::LayerNorm;
    c.activation = workload::Activation::GELU;
    c.gatedMLP = false;
    c.qkvBias = false;
    c.outBias = false;
    c.mlpBias = true;
    c.parallelResidual = true;
    c.rotaryFraction = 0.25;
    return c;
  }
  if (name == "Llama 2 70B") {
    // meta-llama/Llama-2-70b-hf config.json: hidden 8192, intermediate
    // 28672, 64 heads, 8 KV heads (grouped-query), 80 layers, vocab 32000.
    c.name = "llama-2-70b";
    c.modelType = "llama";
    c.hidden = 8192;
    c.intermediate = 28672;
    c.heads = 64;
    c.kvHeads = 8;
    c.headDim = 128;
    c.layers = 80;
    c.vocab = 32000;
    c.maxPositions = 4096;
    return c;
  }
  if (name == "Falcon 180B") {
    // tiiuae/falcon-180B config.json: hidden 14848, 232 heads of 64, 8 KV
    // heads, 80 layers, vocab 65024; new_decoder_architecture (attention
    // and MLP in parallel, each behind its own LayerNorm), no biases, GELU
    // MLP of 4 x hidden, rotary over the whole head.
    c.name = "falcon-180b";
    c.modelType = "gpt_neox";
    c.hidden = 14848;
    c.intermediate = 4 * 14848;
    c.heads = 232;
    c.kvHeads = 8;
    c.headDim = 64;
    c.layers = 80;
    c.vocab = 65024;
    c.maxPositions = 2048;
    c.norm = workload::NormKind::LayerNorm;
    c.activation = workload::Activation::GELU;
    c.gatedMLP = false;
    c.qkvBias = c.outBias = c.mlpBias = false;
    c.parallelResidual = true;
    c.rotaryFraction = 1.0;
    return c;
  }
  return std::nullopt;
}

/// The system a row ran on: one GPU, or `gpus` GPUs of one DGX node
/// (NVSwitch: a subset of a node's GPUs talks through the same switches).
std::optional<hw::System> systemFor(const std::string &preset, int64_t gpus) {
  if (gpus == 1)
    return hw::getPreset(preset);
  std::string node = preset == "h100-sxm"       ? "dgx-h100"
                     : preset == "a100-sxm-80g" ? "dgx-a100"
                                                : "";
  std::optional<hw::System> s = node.empty() ? std::nullopt
                                             : hw::getPreset(node);
  if (!s || gpus > s->devices || s->devices % gpus != 0)
    return std::nullopt;
  s->name = node + " (" + std::to_string(gpus) + " of " +
            std::to_string(s->devices) + " GPUs)";
  s->devices = gpus;
  s->topology.resize(1);
  s->topology[0].shape = {gpus};
  return s;
}

/// Latency of one run of the generated graph through the passes
/// strata-pipeline runs (tensor-parallel over `tp` devices: parallelize,
/// partition, route) and the estimate; nullopt when the graph cannot be
/// built.
std::optional<double> latency(MLIRContext &ctx, const workload::ModelConfig &m,
                              const workload::WorkloadOptions &o,
                              const hw::System &sys, int64_t tp,
                              llvm::StringRef decodeKvSharing,
                              const cost::CostModel &model) {
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &ctx);
  if (!module)
    return std::nullopt;
  (*module)->setAttr(arch::ArchDialect::kSystemAttrName,
                     arch::toAttr(&ctx, sys));
  PassManager pm(&ctx);
  if (tp > 1) {
    StrataParallelizePassOptions plan;
    plan.tp = tp;
    pm.addPass(createStrataParallelizePass(plan));
    pm.addPass(createStrataPartitionPass());
    pm.addPass(createStrataRoutePass());
  }
  StrataFusePassOptions fuse;
  fuse.decodeKvSharing = decodeKvSharing.str();
  pm.addPass(createStrataFusePass(fuse));
  pm.addPass(createStrataTilePass());
  if (failed(pm.run(*module)))
    return std::nullopt;
  auto entry = module->lookupSymbol<FunctionOpInterface>(
      workload::entryFunctionName(o.mode));
  if (!entry)
    return std::nullopt;
  return analysis::estimateProgram(entry, model).latency;
}

} // namespace

llvm::Expected<cost::FileResult>
evaluateInferenceFile(const std::string &path) {
  llvm::Expected<llvm::json::Array> cases = cost::readReferenceCases(path);
  if (!cases)
    return cases.takeError();

  RunContext run;
  MLIRContext &ctx = run.ctx;

  cost::FileResult result{path, "tokens/s or ms", {}};
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object &c = *v.getAsObject();
    cost::CaseResult r;
    r.id = c.getString("id").value_or("").str();
    r.tolerancePct = c.getNumber("tolerance_pct").value_or(20);
    std::string chip = c.getString("chip").value_or("").str();
    r.preset = cost::presetForChip(chip);
    llvm::StringRef kind = c.getString("kind").value_or("");
    const llvm::json::Object *measured = c.getObject("measured");
    const llvm::json::Object *modelObj = c.getObject("model");
    int64_t gpus = int64_t(c.getNumber("gpus").value_or(1));
    if (measured) {
      for (auto [key, unit] : {std::pair<const char *, const char *>{
                                   "out_tokens_per_s_per_gpu",
                                   "tokens/s per GPU"},
                               {"out_tokens_per_s", "tokens/s"},
                               {"ttft_ms", "ms"}})
        if (std::optional<double> x = measured->getNumber(key)) {
          r.measured = *x;
          r.unit = unit;
        }
    }
    int64_t tp = int64_t(c.getNumber("tp").value_or(double(gpus)));
    std::optional<workload::ModelConfig> m;
    if (modelObj)
      m = modelFor(modelObj->getString("name").value_or(""));
    std::optional<hw::System> sys =
        r.preset.empty() ? std::nullopt : systemFor(r.preset, gpus);
    if (r.preset.empty())
      r.skipped = "no preset for " + chip;
    else if (!sys)
      r.skipped = "no system of " + std::to_string(gpus) + " x " + chip;
    else if (tp != gpus)
      r.skipped = "plan is not tensor parallelism over every GPU";
    else if (!m)
      r.skipped = "model shape not bundled";
    if (!r.skipped.empty()) {
      result.cases.push_back(r);
      continue;
    }
    if (gpus > 1)
      r.preset = sys->name;
    cost::CostModel model(*sys);
    workload::WorkloadOptions o;
    llvm::StringRef precision = c.getString("precision").value_or("fp16");
    o.dtype = precision == "fp8"    ? workload::WorkloadDType::fp8
              : precision == "bf16" ? workload::WorkloadDType::bf16
                                    : workload::WorkloadDType::fp16;
    // The reference's caveat: the FP8 rows ran with an FP8 KV cache too.
    if (o.dtype == workload::WorkloadDType::fp8)
      o.kvDType = workload::WorkloadDType::fp8;
    // The decode kernel of the engine version: TensorRT-LLM before its XQA
    // kernel (announced 2024-01-30, "New XQA-kernel provides 2.4x more
    // Llama-70B throughput", after v0.6.1) ran grouped-query decode with
    // the masked MHA kernel, which reads the KV cache once per query head.
    llvm::StringRef framework = c.getString("framework").value_or("");
    llvm::StringRef sharing =
        framework == "TensorRT-LLM v0.5" || framework == "TensorRT-LLM v0.6.1"
            ? "head"
            : "group";
    // How the engine issued the decode step's kernels: the case's "launch"
    // when it records one, else what the source's benchmark did. TensorRT-
    // LLM v0.5 and v0.6.1 ran gptSessionBenchmark, whose CUDA graphs are
    // off unless --enable_cuda_graph is given (GptSession::setCudaGraphMode),
    // and the cited performance.md's commands do not give it: eager.
    // Prefill (and first-token latency) is eager in every engine.
    std::optional<cost::LaunchMode> launch;
    if (std::optional<llvm::StringRef> l = c.getString("launch"))
      launch = cost::parseLaunchMode(*l);
    else if (framework.starts_with("TensorRT-LLM v0.5") ||
             framework.starts_with("TensorRT-LLM v0.6"))
      launch = cost::LaunchMode::Eager;
    if (!launch) {
      r.skipped = "no launch mode recorded for " + framework.str();
      result.cases.push_back(r);
      continue;
    }
    if (kind != "first_token_latency")
      r.note = "decode launched " + cost::toString(*launch).str() +
               (c.getString("launch") ? " (case)"
                                      : " (gptSessionBenchmark without "
                                        "--enable_cuda_graph)");
    cost::CostModel decodeModel(*sys, *launch);
    int64_t batch = int64_t(c.getNumber("batch").value_or(1));
    int64_t in = int64_t(c.getNumber("input_len").value_or(1));
    int64_t out = int64_t(c.getNumber("output_len").value_or(1));
    o.batch = batch;
    o.mode = workload::WorkloadMode::Prefill;
    o.seq = in;
    std::optional<double> prefill = latency(ctx, *m, o, *sys, tp, sharing, model);
    if (!prefill) {
      r.skipped = "the generator cannot build this shape";
      result.cases.push_back(r);
      continue;
    }
    if (kind == "first_token_latency") {
      r.estimated = *prefill * 1e3;
      result.cases.push_back(r);
      continue;
    }
    // Static batching: the prompt, then out - 1 decode steps whose cost is
    // affine in the cached length, so the middle step stands for the mean.
    o.mode = workload::WorkloadMode::Decode;
    o.seq = 1;
    o.kvLen = in + (out - 1) / 2;
    std::optional<double> step =
        latency(ctx, *m, o, *sys, tp, sharing, decodeModel);
    if (!step) {
      r.skipped = "the generator cannot build this shape";
      result.cases.push_back(r);
      continue;
    }
    double total = *prefill + double(out - 1) * *step;
    r.estimated = double(batch) * double(out) / total;
    // The H100 table's unit is output tokens per second per GPU. The A100
    // table prints "out tok/s" and the reference's caveat says it does not
    // state, for TP > 1 rows, whether that is per GPU. Only the per-GPU
    // reading is physical: Falcon 180B on 8 A100s at batch 1024 printing
    // 232 tok/s would be 4.4 s per decode step in total, 100x the time the
    // step's weights and KV cache take to stream from HBM. Those rows are
    // compared per GPU (single-GPU rows are the same either way).
    if (r.unit == "tokens/s per GPU" || gpus > 1)
      r.estimated /= double(gpus);
    if (gpus > 1)
      r.unit = "tokens/s per GPU";
    result.cases.push_back(r);
  }
  return result;
}

} // namespace strata::calibration
