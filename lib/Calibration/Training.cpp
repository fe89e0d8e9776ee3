//===- Training.cpp - Multi-GPU training against published runs -----------===//

#include "strata/Calibration/Training.h"
#include "NeMoRecipes.h"
#include "RunContext.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
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

/// A Megatron-LM GPT as Narayanan et al. 2021 train it: learned positions,
/// LayerNorm, GELU MLP of 4h, biases, multi-head attention (the gpt2 block).
workload::ModelConfig gptModel(const llvm::json::Object &m, int64_t seq) {
  workload::ModelConfig c;
  c.name = "gpt";
  c.modelType = "gpt2";
  c.hidden = int64_t(m.getNumber("hidden").value_or(0));
  c.heads = c.kvHeads = int64_t(m.getNumber("heads").value_or(0));
  c.headDim = c.heads ? c.hidden / c.heads : 0;
  c.layers = int64_t(m.getNumber("layers").value_or(0));
  c.vocab = int64_t(m.getNumber("vocab").value_or(0));
  c.intermediate =
      int64_t(m.getNumber("derived_ffn").value_or(double(4 * c.hidden)));
  c.maxPositions = seq;
  c.norm = workload::NormKind::LayerNorm;
  c.activation = workload::Activation::GELU;
  c.gatedMLP = false;
  c.qkvBias = c.outBias = c.mlpBias = true;
  c.learnedPositions = true;
  c.tieEmbeddings = true;
  return c;
}

/// A Llama 3 model as Table 3 of the Llama 3 paper gives it: RMSNorm,
/// SwiGLU, grouped-query attention, RoPE (theta 500,000), untied embeddings.
workload::ModelConfig llamaModel(const llvm::json::Object &m, int64_t seq) {
  workload::ModelConfig c;
  c.name = "llama";
  c.modelType = "llama";
  c.hidden = int64_t(m.getNumber("hidden").value_or(0));
  c.heads = int64_t(m.getNumber("heads").value_or(0));
  c.kvHeads = int64_t(m.getNumber("kv_heads").value_or(double(c.heads)));
  c.headDim = int64_t(m.getNumber("derived_head_dim")
                          .value_or(c.heads ? double(c.hidden / c.heads) : 0));
  c.layers = int64_t(m.getNumber("layers").value_or(0));
  c.vocab = int64_t(m.getNumber("vocab").value_or(0));
  c.intermediate = int64_t(m.getNumber("ffn").value_or(0));
  c.maxPositions = seq;
  c.ropeTheta = 500000.0;
  return c;
}

/// The architecture of a NeMo recipe (NeMoRecipes.cpp): GPT-3 as Megatron
/// builds it (the gpt2 block), Llama 2/3 (RMSNorm, SwiGLU, RoPE; theta
/// 10,000 and 500,000), Nemotron (LayerNorm — layernorm1p is LayerNorm with
/// the weight stored as w - 1 —, an ungated squared-ReLU MLP, RoPE, no
/// biases, untied embeddings).
workload::ModelConfig nemoModel(const NeMoRecipe &r, int64_t seq) {
  workload::ModelConfig c;
  c.name = r.name.str();
  c.hidden = r.hidden;
  c.heads = r.heads;
  c.kvHeads = r.kvHeads;
  c.headDim = r.hidden / r.heads;
  c.layers = r.layers;
  c.vocab = r.vocab;
  c.intermediate = r.ffn;
  c.maxPositions = seq;
  llvm::StringRef family = r.family;
  if (family == "gpt3") {
    c.modelType = "gpt2";
    c.norm = workload::NormKind::LayerNorm;
    c.activation = workload::Activation::GELU;
    c.gatedMLP = false;
    c.qkvBias = c.outBias = c.mlpBias = true;
    c.learnedPositions = true;
    c.tieEmbeddings = true;
  } else if (family == "llama") {
    c.modelType = "llama";
    c.ropeTheta = r.vocab > 100000 ? 500000.0 : 10000.0;
  } else {
    c.modelType = "nemotron";
    c.norm = workload::NormKind::LayerNorm;
    // Squared ReLU is relu(x)^2: the generator's ReLU plus one multiply per
    // element, applied in the up-projection's epilogue either way.
    c.activation = workload::Activation::ReLU;
    c.gatedMLP = false;
  }
  return c;
}

/// Model FLOPs of one step in the convention of Chowdhery et al. 2022
/// (PaLM, appendix B), which Llama 3 (Table 4, "MFU") and NeMo ("model
/// TFLOP/s": 72 B s l h^2 (1 + s/(6h)) + 6 B s h V for a GPT) use: 6 FLOPs
/// per parameter and token for the matmul weights (the LM head included, the
/// embedding lookup not: it multiplies nothing), plus the attention's
/// 12 l (heads x head_dim) s per token (QK^T and AV, forward and backward,
/// without halving for the causal mask), and no recomputation.
double modelFlops(const workload::ModelConfig &c, double tokens, double seq) {
  double h = double(c.hidden), d = double(c.headDim);
  double attn = h * double(c.heads) * d         // q
                + 2 * h * double(c.kvHeads) * d // k, v
                + double(c.heads) * d * h;      // o
  double mlp = (c.gatedMLP ? 3.0 : 2.0) * h * double(c.intermediate);
  double n = double(c.layers) * (attn + mlp) + h * double(c.vocab);
  double attention = 12.0 * double(c.layers) * double(c.heads) * d * seq;
  return tokens * (6.0 * n + attention);
}

/// System preset for `gpus` GPUs of the case: DGX nodes of 8 on NVSwitch,
/// InfiniBand between nodes.
std::string clusterPreset(llvm::StringRef gpu, int64_t gpus) {
  if (gpus % 8 != 0)
    return "";
  std::string node;
  if (gpu.starts_with("A100"))
    node = "dgx-a100";
  else if (gpu.starts_with("H100"))
    node = "dgx-h100";
  else
    return "";
  return gpus == 8 ? node : node + "x" + std::to_string(gpus / 8);
}

/// Narayanan et al. 2021 eq. (3): FLOPs of one iteration with activation
/// recomputation, F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)).
double narayananFlops(double B, double s, double l, double h, double V) {
  return 96.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
}

struct Plan {
  int64_t tp = 1, pp = 1, dp = 1, microbatch = 1, microbatches = 1;
  int64_t globalBatch = 0, interleave = 1, zero = 0;
  std::string recompute = "none";
  bool overlapGradSync = false;
  bool flashAttention = true; ///< the recipe's attention kernel
  bool sequenceParallel = false;
  bool fp8 = false; ///< FP8 GEMMs (Transformer Engine), BF16 elsewhere
  /// Collectives whose group spans two fabrics run hierarchically (as a
  /// source describes its cross-pod exchange).
  bool hierarchicalSpanning = false;
  /// Context parallelism: the degree and how attention reaches the other
  /// ranks' K/V (p2p: ring attention; all_gather), as the source states.
  int64_t cp = 1;
  std::string cpComm = "p2p";
};

/// Step time of the plan on `preset`; an error string says why not.
std::optional<double> stepTime(MLIRContext &ctx, const workload::ModelConfig &m,
                               int64_t seq, const Plan &p,
                               const std::string &preset, std::string &why) {
  workload::WorkloadOptions o;
  o.mode = workload::WorkloadMode::Train;
  o.seq = seq;
  // The module is one microbatch of the whole data-parallel group.
  o.batch = p.microbatch * p.dp;
  o.dtype = p.fp8 ? workload::WorkloadDType::fp8 : workload::WorkloadDType::bf16;
  // Megatron-LM pads the vocabulary to a multiple of 128 x tp.
  o.vocabMultiple = 128 * p.tp;
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &ctx);
  if (!module) {
    why = "the generator cannot build this shape";
    return std::nullopt;
  }
  std::string firstError;
  ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = d.str();
    return success();
  });
  PassManager pm(&ctx, ModuleOp::getOperationName());
  StrataSetSystemPassOptions set;
  set.system = preset;
  pm.addPass(createStrataSetSystemPass(set));
  StrataParallelizePassOptions plan;
  plan.tp = p.tp;
  plan.pp = p.pp;
  plan.dp = p.dp;
  plan.microbatches = p.microbatches;
  plan.interleave = p.interleave;
  plan.zero = p.zero;
  plan.recompute = p.recompute;
  plan.overlapGradSync = p.overlapGradSync;
  plan.sp = p.sequenceParallel;
  plan.cp = p.cp;
  plan.cpComm = p.cpComm;
  pm.addPass(createStrataParallelizePass(plan));
  pm.addPass(createStrataPartitionPass());
  pm.addPass(createStrataStagePass());
  StrataRoutePassOptions route;
  route.hierarchicalSpanning = p.hierarchicalSpanning;
  pm.addPass(createStrataRoutePass(route));
  StrataFusePassOptions fuse;
  fuse.attention = p.flashAttention;
  pm.addPass(createStrataFusePass(fuse));
  pm.addPass(createStrataTilePass());
  if (failed(pm.run(*module))) {
    why = firstError.empty() ? "the plan does not compile" : firstError;
    return std::nullopt;
  }
  auto entry = module->lookupSymbol<FunctionOpInterface>(
      workload::entryFunctionName(o.mode));
  if (!entry) {
    why = "no entry function";
    return std::nullopt;
  }
  hw::System sys = *hw::getPreset(preset);
  cost::CostModel model(sys);
  report::CostReport r = analysis::estimateProgram(entry, model);
  if (!r.step) {
    why = "the estimate composed no step";
    return std::nullopt;
  }
  return r.step->stepTime;
}


/// A row of NeMo's performance summary: the plan the summary states (tp,
/// pp, cp, virtual pipeline, microbatch, global batch) and, for what it
/// leaves out, the published recipe of the same model (NeMoRecipes.cpp),
/// in FP8 as the summary's runs are. The figure is NeMo's "model TFLOP/s per
/// GPU" (modelFlops: the formulas of NeMo's flops callback, which count no
/// recomputation). Returns why the row cannot run, or "" with `r` filled.
std::string runNeMoCase(MLIRContext &ctx, const llvm::json::Object &modelObj,
                        const llvm::json::Object &planObj,
                        const llvm::json::Object &system,
                        cost::CaseResult &r) {
  llvm::StringRef name = modelObj.getString("name").value_or("");
  const NeMoRecipe *recipe = findNeMoRecipe(name);
  if (!recipe)
    return "no NeMo recipe for " + name.str();
  auto num = [&](llvm::StringRef key, double dflt) {
    return int64_t(planObj.getNumber(key).value_or(dflt));
  };
  int64_t seq = int64_t(modelObj.getNumber("seq_len").value_or(2048));
  int64_t gpus = num("gpus", 0);
  int64_t cp = num("cp", 1);
  Plan p;
  p.tp = num("tp", 1);
  p.pp = num("pp", 1);
  p.interleave = num("virtual_pipeline", 1);
  p.microbatch = num("microbatch", 1);
  p.globalBatch = num("global_batch", 0);
  // Megatron-LM's context parallelism through Transformer Engine, whose
  // default cp_comm_type is "p2p": ring attention (Megatron-LM
  // docs/source/api-guide/context_parallel.rst: the K/V all-gather and
  // reduce-scatter "are transformed to point-to-point communications in
  // ring topology").
  p.cp = cp;
  p.cpComm = "p2p";
  if (gpus <= 0 || gpus % (p.tp * p.pp * cp) != 0)
    return "gpus not a multiple of tp x pp x cp";
  p.dp = gpus / (p.tp * p.pp * cp);
  if (p.globalBatch <= 0 || p.globalBatch % (p.microbatch * p.dp) != 0)
    return "global batch not a multiple of microbatch x dp";
  p.microbatches = p.globalBatch / (p.microbatch * p.dp);
  p.fp8 = true;
  p.zero = 1;
  p.overlapGradSync = true;
  p.flashAttention = true;
  p.sequenceParallel = recipe->sequenceParallel && p.tp > 1;
  p.recompute = recipe->recompute.str();
  r.preset = clusterPreset(system.getString("gpu").value_or(""), gpus);
  if (r.preset.empty() || !hw::getPreset(r.preset)) {
    r.preset.clear();
    return "no cluster preset for " + std::to_string(gpus) + " GPUs";
  }
  workload::ModelConfig m = nemoModel(*recipe, seq);
  std::string why;
  std::optional<double> t = stepTime(ctx, m, seq, p, r.preset, why);
  if (!t)
    return why;
  r.estimated = modelFlops(m, double(p.globalBatch) * double(seq),
                           double(seq)) /
                (*t * double(gpus)) / 1e12;
  r.note = "NeMo recipe defaults (NVIDIA/NeMo-Framework-Launcher@" +
           nemoLauncherCommit().take_front(12).str() + " " +
           recipe->source.str() + "): " + std::to_string(m.layers) +
           " layers, hidden " + std::to_string(m.hidden) + ", ffn " +
           std::to_string(m.intermediate) + ", " + std::to_string(m.heads) +
           "/" + std::to_string(m.kvHeads) + " heads, vocab " +
           std::to_string(m.vocab) + "; FP8 (TE hybrid, delayed scaling), " +
           "sequence_parallel " + (p.sequenceParallel ? "on" : "off") +
           ", recompute " + p.recompute +
           ", distributed optimizer (ZeRO-1), overlapped grad sync" +
           (cp > 1 ? "; cp " + std::to_string(cp) +
                         " as Transformer Engine's ring attention (cp_comm_type "
                         "p2p, zigzag split)"
                   : std::string());
  return "";
}


/// PaLM 540B on two TPU v4 pods (Chowdhery et al. 2022): Table 1's shape
/// with section 2's architecture — parallel attention and MLP, multi-query
/// attention, SwiGLU, no biases, shared input/output embeddings, RoPE — and
/// the widths Table 1 leaves out, head size 256 and d_ff = 4 d_model (which
/// give the published 540.35 B parameters). Section 4's plan: 12-way model
/// parallelism and 256-way FSDP within each 3072-chip pod, data parallelism
/// across the two pods with each pod's gradients reduced inside it before
/// the cross-pod exchange over the DCN (the hierarchical collective), and
/// rematerialization; compared as MFU with attention in appendix B's
/// convention (modelFlops: 6N + 12 L H Q T per token) against the chip's
/// 275 TFLOP/s. Returns why the row cannot run, or "" with `r` filled.
std::string runPaLMCase(MLIRContext &ctx, const llvm::json::Object &modelObj,
                        const llvm::json::Object &planObj,
                        cost::CaseResult &r) {
  int64_t seq = int64_t(modelObj.getNumber("seq_len").value_or(2048));
  workload::ModelConfig m;
  m.name = "palm";
  m.modelType = "palm";
  m.hidden = int64_t(modelObj.getNumber("hidden").value_or(0));
  m.heads = int64_t(modelObj.getNumber("heads").value_or(0));
  m.kvHeads = int64_t(modelObj.getNumber("kv_heads").value_or(1));
  m.headDim = 256;
  m.layers = int64_t(modelObj.getNumber("layers").value_or(0));
  m.vocab = int64_t(modelObj.getNumber("vocab").value_or(0));
  m.intermediate = 4 * m.hidden;
  m.maxPositions = seq;
  m.parallelResidual = true;
  m.tieEmbeddings = true;
  int64_t chips = int64_t(planObj.getNumber("chips").value_or(0));
  int64_t pods = int64_t(planObj.getNumber("pods").value_or(1));
  Plan p;
  p.tp = int64_t(planObj.getNumber("model_parallel_within_pod").value_or(1));
  p.pp = 1;
  if (chips <= 0 || pods <= 0 || chips % pods != 0 || chips % p.tp != 0)
    return "chips not a multiple of pods and model parallelism";
  p.dp = chips / p.tp;
  p.globalBatch = int64_t(planObj.getNumber("global_batch").value_or(0));
  if (p.globalBatch <= 0 || p.globalBatch % p.dp != 0)
    return "global batch not a multiple of the data-parallel degree";
  p.microbatch = p.globalBatch / p.dp;
  p.microbatches = 1;
  p.zero = 3;
  p.recompute = "full";
  p.overlapGradSync = true;
  p.hierarchicalSpanning = true;
  // A 3072-chip pod is a 12 x 16 x 16 slice; the pods over the DCN.
  int64_t perPod = chips / pods;
  if (perPod != 3072)
    return "no TPU v4 slice shape for " + std::to_string(perPod) + " chips";
  r.preset = "tpu-v4-12x16x16-x" + std::to_string(pods);
  std::string why;
  std::optional<double> t = stepTime(ctx, m, seq, p, r.preset, why);
  if (!t)
    return why;
  double flops =
      modelFlops(m, double(p.globalBatch) * double(seq), double(seq));
  r.estimated = 100.0 * flops / (*t * double(chips) * 275e12);
  r.note = "PaLM sections 2, 4 and appendix B: head size 256, d_ff 4 x 18432 "
           "(540.4 B parameters), tp 12 with the one K/V head replicated, "
           "ZeRO-3 over the 512 replicas with pod-spanning collectives "
           "reduced inside each pod first, full rematerialization (PaLM "
           "keeps one activation per layer)";
  return "";
}

} // namespace

llvm::Expected<cost::FileResult> evaluateTrainingFile(const std::string &path) {
  llvm::Expected<llvm::json::Array> cases = cost::readReferenceCases(path);
  if (!cases)
    return cases.takeError();

  RunContext run;
  MLIRContext &ctx = run.ctx;

  cost::FileResult result{path, "TFLOP/s per GPU", {}};
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object &c = *v.getAsObject();
    cost::CaseResult r;
    r.id = c.getString("id").value_or("").str();
    r.tolerancePct = c.getNumber("tolerance_pct").value_or(15);
    const llvm::json::Object *source = c.getObject("source");
    const llvm::json::Object *modelObj = c.getObject("model");
    const llvm::json::Object *planObj = c.getObject("plan");
    const llvm::json::Object *system = c.getObject("system");
    const llvm::json::Object *measured = c.getObject("measured");
    llvm::StringRef sourceId =
        source ? source->getString("id").value_or("") : "";
    if (measured)
      r.measured = measured->getNumber("tflops_per_gpu").value_or(0);
    auto skip = [&](std::string why) {
      r.skipped = std::move(why);
      result.cases.push_back(r);
    };
    if (!modelObj || !planObj || !system) {
      skip("incomplete case");
      continue;
    }
    // Each source's FLOP convention: Narayanan et al. 2021 eq. (3) (with
    // the recompute forward); Llama 3 and NeMo count model FLOPs as PaLM
    // does (modelFlops). PaLM itself ran on TPU v4 pods.
    if (sourceId == "PALM") {
      if (measured)
        r.measured = measured->getNumber("mfu_pct_with_attention").value_or(0);
      r.unit = "% MFU";
      std::string why = runPaLMCase(ctx, *modelObj, *planObj, r);
      if (!why.empty()) {
        skip(why);
        continue;
      }
      result.cases.push_back(r);
      continue;
    }
    if (sourceId.starts_with("NEMO")) {
      if (measured)
        r.measured = measured->getNumber("model_tflops_per_gpu").value_or(0);
      std::string why = runNeMoCase(ctx, *modelObj, *planObj, *system, r);
      if (!why.empty()) {
        skip(why);
        continue;
      }
      result.cases.push_back(r);
      continue;
    }
    const bool llama3 = sourceId == "LLAMA3";
    if (!llama3 && sourceId != "NARAYANAN21") {
      skip("FLOP convention of " + sourceId.str() + " not implemented");
      continue;
    }
    int64_t cp = int64_t(planObj->getNumber("cp").value_or(1));
    std::optional<double> tp = planObj->getNumber("tp");
    std::optional<double> pp = planObj->getNumber("pp");
    std::optional<double> dp =
        planObj->getNumber(llama3 ? "dp_published" : "derived_dp");
    std::optional<double> gb = planObj->getNumber(
        llama3 ? "derived_global_batch_seqs" : "global_batch");
    std::optional<double> mp = planObj->getNumber("model_parallel_size");
    if ((!tp || !pp) && mp && sourceId == "NARAYANAN21") {
      // The PTD-P rows of Table 2 give only tp x pp. The paper's rule
      // (section 3.3, takeaway 1) is tensor parallelism up to the GPUs of a
      // server and pipeline parallelism beyond: tp = 8, pp = mp / 8, which
      // is exactly Table 1's split of the 529.6B model (8 x 35 = 280).
      int64_t m = int64_t(*mp);
      int64_t node = int64_t(system->getNumber("gpus_per_node").value_or(8));
      tp = double(std::min(m, node));
      pp = double(m / int64_t(*tp));
    }
    if (!tp || !pp || !dp || !gb) {
      skip("plan not fully stated (tp/pp not given)");
      continue;
    }
    Plan p;
    p.tp = int64_t(*tp);
    p.pp = int64_t(*pp);
    p.dp = int64_t(*dp);
    p.globalBatch = int64_t(*gb);
    if (cp > 1) {
      // Llama 3 section 3.3.2: context parallelism all-gathers K and V,
      // then computes the attention of the local Q chunk (zigzag split).
      // Table 4's printed dp of the 131K row (4) does not multiply to its
      // GPUs; the devices left by tp x cp x pp do (8, the row's
      // derived_dp_consistent, also consistent with its 16M tokens).
      p.cp = cp;
      p.cpComm = "all_gather";
      int64_t gpus = int64_t(planObj->getNumber("gpus").value_or(0));
      if (gpus <= 0 || gpus % (p.tp * p.pp * cp) != 0) {
        skip("gpus not a multiple of tp x cp x pp");
        continue;
      }
      p.dp = gpus / (p.tp * p.pp * cp);
      r.note = "cp " + std::to_string(cp) +
               " as Llama 3 section 3.3.2: K and V all-gathered, the local "
               "queries' attention under the zigzag split; dp " +
               std::to_string(p.dp) + " = gpus / (tp x cp x pp) (Table 4 "
               "prints 4)";
    }
    // Table 1 does not give the microbatch size: 1, with which the paper's
    // own weak-scaling runs and eq. (3) are discussed (section 5.1). Llama
    // 3 does not state it either (Table 4 gives the batch per data-parallel
    // group); 1 as well.
    std::optional<double> mb = planObj->getNumber("microbatch");
    p.microbatch = mb ? int64_t(*mb) : 1;
    if (llama3) {
      // Llama 3 section 3.3.2: interleaved 1F1B on uneven stages (the
      // first and last one layer short), FSDP sharding optimizer states and
      // gradients but not the parameters (ZeRO-2), overlapped gradient
      // reduction, no activation recomputation stated. The number of
      // virtual stages is not given: 4 (2 layers per model chunk).
      p.interleave = 4;
      p.zero = 2;
      p.overlapGradSync = true;
    }
    if (p.globalBatch % (p.microbatch * p.dp) != 0) {
      skip("global batch not a multiple of microbatch x dp");
      continue;
    }
    p.microbatches = p.globalBatch / (p.microbatch * p.dp);
    if (std::optional<int64_t> z = planObj->getInteger("zero_stage"))
      p.zero = *z;
    llvm::StringRef recompute =
        planObj->getString("activation_recompute").value_or("");
    p.recompute = recompute.starts_with("full") ? "full" : "none";
    // The PTD-P rows of Table 2 are Megatron-LM's own runs of Table 1's
    // method, counted by the same eq. (3), which assumes full activation
    // recomputation (its 96 = 4 x 24: the recompute forward).
    if (mp && sourceId == "NARAYANAN21" && !planObj->getNumber("tp"))
      p.recompute = "full";
    // Megatron-LM (2021) reduces data-parallel gradients after the
    // backward, not overlapped with it, and predates FlashAttention (2022):
    // its attention is two batched GEMMs around a fused scale-mask-softmax
    // kernel, with the scores in HBM. Llama 3 overlaps and fuses both.
    if (!llama3) {
      p.overlapGradSync = false;
      p.flashAttention = false;
    }
    llvm::StringRef gpu = system->getString("gpu").value_or("");
    int64_t gpus = int64_t(planObj->getNumber("gpus").value_or(0));
    r.preset = clusterPreset(gpu, gpus);
    if (r.preset.empty() || !hw::getPreset(r.preset)) {
      skip("no cluster preset for " + std::to_string(gpus) + " x " + gpu.str());
      r.preset.clear();
      continue;
    }
    int64_t seq = int64_t(modelObj->getNumber("seq_len").value_or(2048));
    workload::ModelConfig m =
        llama3 ? llamaModel(*modelObj, seq) : gptModel(*modelObj, seq);
    std::string why;
    std::optional<double> t = stepTime(ctx, m, seq, p, r.preset, why);
    if (!t) {
      skip(why);
      continue;
    }
    double flops =
        llama3 ? modelFlops(m, double(p.globalBatch) * double(seq), double(seq))
               : narayananFlops(double(p.globalBatch), double(seq),
                                double(m.layers), double(m.hidden),
                                double(m.vocab));
    r.estimated = flops / (*t * double(gpus)) / 1e12;
    result.cases.push_back(r);
  }
  return result;
}

} // namespace strata::calibration
