//===- ModelFamilies.cpp - Per-family config.json readers -----------------===//
//
// The readers of the model families whose fields differ from llama's:
// DeepSeek-V2/V3 (MLA, DeepSeekMoE), the llama-shaped variants (Gemma 2/3,
// Phi-3, OLMo 2, Qwen3, gpt-oss), sliding windows, and Falcon.
// ModelConfig.cpp dispatches on model_type and validates the result.
//
//===----------------------------------------------------------------------===//

#include "ConfigReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace strata::workload::detail {

FailureOr<Activation> parseActivation(llvm::StringRef name, Location loc,
                                      llvm::StringRef field,
                                      llvm::StringRef path) {
  auto act = llvm::StringSwitch<std::optional<Activation>>(name)
                 .Cases({"silu", "swish"}, Activation::SiLU)
                 .Cases({"gelu_new", "gelu_pytorch_tanh", "gelu_fast"},
                        Activation::GELUTanh)
                 .Case("gelu", Activation::GELU)
                 .Case("relu", Activation::ReLU)
                 .Default(std::nullopt);
  if (!act) {
    emitError(loc) << "unsupported activation '" << name << "' in field '"
                   << field << "' of " << path
                   << " (expected silu, gelu, gelu_new, gelu_pytorch_tanh or "
                      "relu)";
    return failure();
  }
  return *act;
}

/// The activation named by the first of `names` present (`fallback` when
/// none is), with an error located at that field if it is not supported.
FailureOr<Activation> readActivation(FieldReader &r,
                                     llvm::ArrayRef<llvm::StringRef> names,
                                     llvm::StringRef fallback,
                                     llvm::StringRef path) {
  llvm::StringRef field;
  FailureOr<std::string> act = r.optionalString(names, fallback, field);
  if (failed(act))
    return failure();
  return parseActivation(*act, r.locOf(field), field, path);
}

/// Heads must be positive before the head dimension is derived from them.
LogicalResult requirePositiveHeads(FieldReader &r, int64_t heads,
                                   llvm::StringRef field,
                                   llvm::StringRef path) {
  if (heads > 0)
    return success();
  return emitError(r.locOf(field)) << "field '" << field << "' in " << path
                                   << " must be positive, got " << heads;
}

/// model_type deepseek_v2 / deepseek_v3: MLA attention and DeepSeekMoE.
LogicalResult parseDeepSeek(FieldReader &r, ModelConfig &c,
                            llvm::StringRef path) {
  auto readInt = [&](int64_t &dst, FailureOr<int64_t> v) {
    if (failed(v))
      return false;
    dst = *v;
    return true;
  };
  MlaConfig m;
  DeepSeekMoeConfig moe;
  if (!readInt(c.hidden, r.requireInt({"hidden_size"})) ||
      !readInt(c.intermediate, r.requireInt({"intermediate_size"})) ||
      !readInt(c.heads, r.requireInt({"num_attention_heads"})) ||
      !readInt(c.layers, r.requireInt({"num_hidden_layers"})) ||
      !readInt(c.vocab, r.requireInt({"vocab_size"})) ||
      !readInt(c.maxPositions,
               r.optionalInt({"max_position_embeddings"}, 4096)) ||
      !readInt(m.qLoraRank, r.optionalInt({"q_lora_rank"}, 0)) ||
      !readInt(m.kvLoraRank, r.requireInt({"kv_lora_rank"})) ||
      !readInt(m.qkNopeHeadDim, r.requireInt({"qk_nope_head_dim"})) ||
      !readInt(m.qkRopeHeadDim, r.requireInt({"qk_rope_head_dim"})) ||
      !readInt(m.vHeadDim, r.requireInt({"v_head_dim"})) ||
      !readInt(c.experts, r.requireInt({"n_routed_experts"})) ||
      !readInt(c.topK, r.requireInt({"num_experts_per_tok"})) ||
      !readInt(moe.expertIntermediate,
               r.requireInt({"moe_intermediate_size"})) ||
      !readInt(moe.sharedExperts, r.optionalInt({"n_shared_experts"}, 0)) ||
      !readInt(moe.firstDenseLayers,
               r.optionalInt({"first_k_dense_replace"}, 0)) ||
      !readInt(moe.layerFreq, r.optionalInt({"moe_layer_freq"}, 1)) ||
      !readInt(moe.groups, r.optionalInt({"n_group"}, 1)) ||
      !readInt(moe.topkGroups, r.optionalInt({"topk_group"}, 1)) ||
      // Read so that validate() can refuse it: MLA has no windowed variant.
      !readInt(c.slidingWindow, r.optionalInt({"sliding_window"}, 0)))
    return failure();
  if (failed(requirePositiveHeads(r, c.heads, "num_attention_heads", path)))
    return failure();
  // MLA has no kv heads of its own: every query head decompresses its K and
  // V from the one latent (num_key_value_heads equals the heads).
  c.kvHeads = c.heads;
  // modeling_deepseek's MLA ignores num_key_value_heads likewise.
  r.markRead({"num_key_value_heads"});
  c.headDim = m.qkHeadDim();
  c.norm = NormKind::RMSNorm;
  c.gatedMLP = true;
  FailureOr<Activation> activation =
      readActivation(r, {"hidden_act"}, "silu", path);
  FailureOr<double> eps = r.optionalNumber({"rms_norm_eps"}, 1e-6);
  FailureOr<double> theta = r.optionalNumber({"rope_theta"}, 10000.0);
  FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", false);
  FailureOr<bool> attnBias = r.optionalBool("attention_bias", false);
  llvm::StringRef scoringField, methodField;
  FailureOr<std::string> scoring =
      r.optionalString({"scoring_func"}, "softmax", scoringField);
  FailureOr<std::string> method =
      r.optionalString({"topk_method"}, "greedy", methodField);
  if (failed(activation) || failed(eps) || failed(theta) || failed(tie) ||
      failed(attnBias) || failed(scoring) || failed(method))
    return failure();
  c.activation = *activation;
  c.normEps = *eps;
  c.ropeTheta = *theta;
  if (*tie || *attnBias)
    return emitError(r.locOf(*tie ? "tie_word_embeddings" : "attention_bias"))
           << "field '" << (*tie ? "tie_word_embeddings" : "attention_bias")
           << "' of " << path
           << " must be false: DeepSeek's MLA with tied embeddings or "
              "attention biases is not modelled";
  if (*scoring != "softmax" && *scoring != "sigmoid")
    return emitError(r.locOf(scoringField))
           << "unsupported scoring_func '" << *scoring << "' in " << path
           << " (expected softmax or sigmoid)";
  moe.sigmoidScoring = *scoring == "sigmoid";
  moe.scoreCorrectionBias = *method == "noaux_tc";

  auto positive = [&](int64_t v, llvm::StringRef field) -> LogicalResult {
    if (v > 0)
      return success();
    return emitError(r.locOf(field)) << "field '" << field << "' in " << path
                                     << " must be positive, got " << v;
  };
  if (failed(positive(m.kvLoraRank, "kv_lora_rank")) ||
      failed(positive(m.qkNopeHeadDim, "qk_nope_head_dim")) ||
      failed(positive(m.qkRopeHeadDim, "qk_rope_head_dim")) ||
      failed(positive(m.vHeadDim, "v_head_dim")) ||
      failed(positive(moe.expertIntermediate, "moe_intermediate_size")) ||
      failed(positive(moe.layerFreq, "moe_layer_freq")) ||
      failed(positive(moe.groups, "n_group")) ||
      failed(positive(moe.topkGroups, "topk_group")))
    return failure();
  if (m.qLoraRank < 0)
    return emitError(r.locOf("q_lora_rank"))
           << "field 'q_lora_rank' in " << path
           << " must be positive or null, got " << m.qLoraRank;
  if (m.qkRopeHeadDim % 2 != 0)
    return emitError(r.locOf("qk_rope_head_dim"))
           << "field 'qk_rope_head_dim' in " << path
           << " must be even (RoPE rotates pairs), got " << m.qkRopeHeadDim;
  if (moe.sharedExperts < 0 || moe.firstDenseLayers < 0 ||
      moe.firstDenseLayers > c.layers)
    return emitError(r.locOf(moe.sharedExperts < 0 ? "n_shared_experts"
                                                   : "first_k_dense_replace"))
           << "inconsistent config " << path
           << ": n_shared_experts must be non-negative and "
              "first_k_dense_replace within [0, num_hidden_layers]";
  if (c.experts % moe.groups != 0 || moe.topkGroups > moe.groups)
    return emitError(r.locOf("n_group"))
           << "inconsistent config " << path << ": n_group (" << moe.groups
           << ") must divide n_routed_experts (" << c.experts
           << ") and be at least topk_group (" << moe.topkGroups << ")";
  if (c.topK > moe.topkGroups * (c.experts / moe.groups))
    return emitError(r.locOf("num_experts_per_tok"))
           << "inconsistent config " << path << ": num_experts_per_tok ("
           << c.topK << ") exceeds the experts of the topk_group ("
           << moe.topkGroups << ") groups routing may use";
  // n_group / topk_group are read for the checks above, but the router
  // takes its top-k over all experts: say so, like any unmodelled field.
  if (moe.groups > 1)
    emitWarning(r.locOf("n_group"))
        << "field 'n_group' is not modelled: group-limited routing (n_group "
        << moe.groups << ", topk_group " << moe.topkGroups
        << ") is not generated; the top-k is taken over all experts (same "
           "expert compute and weights)";
  c.mla = m;
  c.deepseekMoe = moe;
  return success();
}


//===----------------------------------------------------------------------===//
// Attention variants and the non-DeepSeek families (issue 19): sliding
// windows (Mistral, Qwen2/3, Phi-3, Gemma 2/3, gpt-oss), Gemma 2/3, Phi-3,
// OLMo 2, Qwen3 (dense and MoE) and gpt-oss, which share the llama field
// names, and Falcon, which does not.
//===----------------------------------------------------------------------===//

/// The llama-shaped families beyond llama / mistral / mixtral / qwen2.
bool isLlamaShapedVariant(llvm::StringRef type) {
  return llvm::is_contained(
      llvm::ArrayRef<llvm::StringRef>{"gemma2", "gemma3_text", "phi3", "olmo2",
                                      "qwen3", "qwen3_moe", "gpt_oss"},
      type);
}

/// Reads `layer_types` ("sliding_attention" / "full_attention"), when given,
/// into c.slidingLayers.
static LogicalResult readLayerTypes(FieldReader &r, ModelConfig &c,
                                    llvm::StringRef path) {
  FailureOr<std::optional<std::vector<std::string>>> types =
      r.optionalStringList("layer_types");
  if (failed(types))
    return failure();
  if (!*types)
    return success();
  if (int64_t((*types)->size()) != c.layers)
    return emitError(r.locOf("layer_types"))
           << "field 'layer_types' in " << path << " lists " << (*types)->size()
           << " layers, but num_hidden_layers is " << c.layers;
  c.slidingLayers.clear();
  for (const std::string &t : **types) {
    if (t != "sliding_attention" && t != "full_attention")
      return emitError(r.locOf("layer_types"))
             << "unsupported layer type '" << t << "' in field 'layer_types' "
             << "of " << path << " (expected sliding_attention or "
             << "full_attention)";
    c.slidingLayers.push_back(t == "sliding_attention");
  }
  return success();
}

/// Whether `c.layers` can size a per-layer table. A count the config's
/// checks reject (num_hidden_layers not positive or beyond
/// kMaxModelLayers) leaves the tables empty; the checks, which run after
/// the family's reader, report it.
static bool layerCountInRange(const ModelConfig &c) {
  return c.layers > 0 && c.layers <= kMaxModelLayers;
}

/// Every layer local but each `period`-th (Gemma 2: 2, Gemma 3: 6).
static void interleave(ModelConfig &c, int64_t period) {
  if (!layerCountInRange(c))
    return;
  c.slidingLayers.assign(c.layers, false);
  for (int64_t l = 0; l < c.layers; ++l)
    c.slidingLayers[l] = period <= 0 || (l + 1) % period != 0;
}

/// `sliding_window` as Mistral and Phi-3 use it (every layer), or as Qwen2
/// and Qwen3 do (only with use_sliding_window, from max_window_layers on).
LogicalResult readSlidingWindow(FieldReader &r, ModelConfig &c,
                                llvm::StringRef path) {
  FailureOr<int64_t> window = r.optionalInt({"sliding_window"}, 0);
  if (failed(window))
    return failure();
  bool qwen = c.modelType == "qwen2" || c.modelType == "qwen3" ||
              c.modelType == "qwen3_moe";
  if (qwen) {
    FailureOr<bool> use = r.optionalBool("use_sliding_window", false);
    FailureOr<int64_t> from = r.optionalInt({"max_window_layers"}, c.layers);
    if (failed(use) || failed(from))
      return failure();
    if (!*use || *window == 0)
      return success();
    c.slidingWindow = *window;
    if (!layerCountInRange(c))
      return success();
    c.slidingLayers.assign(c.layers, false);
    for (int64_t l = std::max<int64_t>(*from, 0); l < c.layers; ++l)
      c.slidingLayers[l] = true;
    return success();
  }
  c.slidingWindow = *window;
  return readLayerTypes(r, c, path);
}

/// Family-specific fields of the llama-shaped variants, read after the
/// llama core (sizes, heads, norms, RoPE, biases).
LogicalResult readLlamaVariant(FieldReader &r, ModelConfig &c,
                               llvm::StringRef path) {
  llvm::StringRef t = c.modelType;
  auto readInt = [&](int64_t &dst, FailureOr<int64_t> v) {
    if (failed(v))
      return false;
    dst = *v;
    return true;
  };
  if (t == "gemma2" || t == "gemma3_text") {
    FailureOr<double> scalar = r.optionalNumber({"query_pre_attn_scalar"}, 0);
    FailureOr<double> attnCap = r.optionalNumber({"attn_logit_softcapping"}, 0);
    FailureOr<double> finalCap =
        r.optionalNumber({"final_logit_softcapping"}, 0);
    FailureOr<int64_t> window = r.optionalInt(
        {"sliding_window", "sliding_window_size"}, t == "gemma2" ? 4096 : 512);
    FailureOr<int64_t> period =
        r.optionalInt({"sliding_window_pattern"}, t == "gemma2" ? 2 : 6);
    if (failed(scalar) || failed(attnCap) || failed(finalCap) ||
        failed(window) || failed(period))
      return failure();
    r.markRead({"sliding_window", "sliding_window_size"});
    c.queryScalar = *scalar;
    c.attnSoftcap = *attnCap;
    c.finalSoftcap = *finalCap;
    c.slidingWindow = *window;
    interleave(c, *period);
    if (failed(readLayerTypes(r, c, path)))
      return failure();
    c.postNorms = true;
    c.scaleEmbeddings = true;
    if (t == "gemma3_text")
      c.qkNorm = ModelConfig::QKNorm::PerHead;
    return success();
  }
  if (t == "olmo2") {
    c.preNorms = false;
    c.postNorms = true;
    c.qkNorm = ModelConfig::QKNorm::Whole;
    return success();
  }
  if (t == "phi3") {
    FailureOr<double> rotary = r.optionalNumber({"partial_rotary_factor"}, 1);
    if (failed(rotary))
      return failure();
    c.rotaryFraction = *rotary;
    return readSlidingWindow(r, c, path);
  }
  if (t == "qwen3" || t == "qwen3_moe") {
    c.qkNorm = ModelConfig::QKNorm::PerHead;
    if (t == "qwen3_moe") {
      FailureOr<int64_t> step = r.optionalInt({"decoder_sparse_step"}, 1);
      if (failed(step))
        return failure();
      r.markRead({"mlp_only_layers"});
      // mlp_only_layers is a list of integers; only the empty list (every
      // published Qwen3-MoE) is modelled.
      const llvm::json::Value *only = r.fields().get("mlp_only_layers");
      const llvm::json::Array *onlyList = only ? only->getAsArray() : nullptr;
      if (*step != 1 || (onlyList && !onlyList->empty()))
        return emitError(r.locOf(*step != 1 ? "decoder_sparse_step"
                                            : "mlp_only_layers"))
               << "Qwen3-MoE with dense layers between the sparse ones is not "
                  "modelled ("
               << path << "): decoder_sparse_step must be 1 and "
               << "mlp_only_layers empty";
      if (!readInt(c.experts, r.requireInt({"num_experts"})) ||
          !readInt(c.topK, r.requireInt({"num_experts_per_tok"})) ||
          !readInt(c.intermediate, r.requireInt({"moe_intermediate_size"})))
        return failure();
    }
    return readSlidingWindow(r, c, path);
  }
  if (t == "gpt_oss") {
    if (!readInt(c.experts, r.requireInt({"num_local_experts"})) ||
        !readInt(c.topK,
                 r.requireInt({"num_experts_per_tok", "experts_per_token"})))
      return failure();
    r.markRead({"experts_per_token"});
    FailureOr<bool> bias = r.optionalBool("attention_bias", true);
    if (failed(bias))
      return failure();
    c.qkvBias = c.outBias = *bias;
    c.attentionSinks = true;
    c.expertBias = true;
    // The released checkpoints quantise only the experts:
    // {"quant_method": "mxfp4", "modules_to_not_convert": [attention,
    // router, embeddings, lm_head]}.
    if (!r.present({"quantization_config"}).empty()) {
      const llvm::json::Object *q =
          r.fields().get("quantization_config")->getAsObject();
      std::optional<llvm::StringRef> method =
          q ? q->getString("quant_method") : std::nullopt;
      if (!method || *method != "mxfp4") {
        emitError(r.locOf("quantization_config"))
            << "gpt_oss quantization_config: only quant_method 'mxfp4' (the "
               "released checkpoints' MoE experts) is modelled";
        return failure();
      }
      c.mxfp4Experts = true;
    }
    FailureOr<int64_t> window = r.optionalInt({"sliding_window"}, 128);
    if (failed(window))
      return failure();
    c.slidingWindow = *window;
    interleave(c, 2);
    return readLayerTypes(r, c, path);
  }
  return success();
}

/// Falcon (falcon-7b/40b/180b): fused multi-query (or grouped, with
/// new_decoder_architecture) attention in parallel with the MLP, LayerNorm,
/// GELU, no biases by default, tied embeddings.
LogicalResult readFalcon(FieldReader &r, ModelConfig &c, llvm::StringRef path) {
  auto readInt = [&](int64_t &dst, FailureOr<int64_t> v) {
    if (failed(v))
      return false;
    dst = *v;
    return true;
  };
  if (!readInt(c.hidden, r.requireInt({"hidden_size"})) ||
      !readInt(c.heads, r.requireInt({"num_attention_heads", "n_head"})) ||
      !readInt(c.layers, r.requireInt({"num_hidden_layers", "n_layer"})) ||
      !readInt(c.vocab, r.requireInt({"vocab_size"})) ||
      !readInt(c.maxPositions,
               r.optionalInt({"max_position_embeddings"}, 2048)) ||
      !readInt(c.intermediate,
               r.optionalInt({"ffn_hidden_size"}, 4 * c.hidden)))
    return failure();
  if (failed(requirePositiveHeads(r, c.heads, "num_attention_heads", path)))
    return failure();
  if (!readInt(c.headDim, r.optionalInt({"head_dim"}, c.hidden / c.heads)))
    return failure();
  FailureOr<bool> newArch = r.optionalBool("new_decoder_architecture", false);
  FailureOr<bool> multiQuery = r.optionalBool("multi_query", true);
  FailureOr<bool> parallel = r.optionalBool("parallel_attn", true);
  FailureOr<bool> bias = r.optionalBool("bias", false);
  FailureOr<bool> alibi = r.optionalBool("alibi", false);
  FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", true);
  FailureOr<double> eps = r.optionalNumber({"layer_norm_epsilon"}, 1e-5);
  FailureOr<double> theta = r.optionalNumber({"rope_theta"}, 10000.0);
  FailureOr<Activation> activation =
      readActivation(r, {"activation"}, "gelu", path);
  if (failed(newArch) || failed(multiQuery) || failed(parallel) ||
      failed(bias) || failed(alibi) || failed(tie) || failed(eps) ||
      failed(theta) || failed(activation))
    return failure();
  if (*alibi)
    return emitError(r.locOf("alibi"))
           << "ALiBi position biases are not modelled (" << path
           << "): only RoPE Falcon models are supported";
  FailureOr<int64_t> kvHeads =
      *newArch ? r.requireInt({"num_kv_heads"})
               : FailureOr<int64_t>(*multiQuery ? 1 : c.heads);
  FailureOr<int64_t> lns =
      r.optionalInt({"num_ln_in_parallel_attn"}, *newArch ? 2 : 1);
  if (failed(kvHeads) || failed(lns))
    return failure();
  r.markRead({"num_kv_heads"});
  c.kvHeads = *kvHeads;
  c.norm = NormKind::LayerNorm;
  c.gatedMLP = false;
  c.activation = *activation;
  c.normEps = *eps;
  c.ropeTheta = *theta;
  c.tieEmbeddings = *tie;
  c.qkvBias = c.outBias = c.mlpBias = *bias;
  c.parallelResidual = *parallel;
  c.sharedParallelNorm = *parallel && *lns == 1;
  return success();
}


} // namespace strata::workload::detail
