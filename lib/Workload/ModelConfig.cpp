//===- ModelConfig.cpp - Transformer shapes from HF config.json -----------===//

#include "strata/Workload/ModelConfig.h"

#include "ConfigReader.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdio>

using namespace mlir;

namespace strata::workload {

using namespace detail;

int64_t ModelConfig::rotaryDim() const {
  if (learnedPositions)
    return 0;
  auto dims =
      static_cast<int64_t>(std::floor(double(headDim) * rotaryFraction));
  return dims - dims % 2;
}

bool ModelConfig::isSlidingLayer(int64_t layer) const {
  if (slidingWindow <= 0)
    return false;
  if (slidingLayers.empty())
    return true;
  return layer >= 0 && layer < int64_t(slidingLayers.size()) &&
         slidingLayers[layer];
}

int64_t ModelConfig::slidingLayerCount() const {
  int64_t n = 0;
  for (int64_t l = 0; l < layers; ++l)
    n += isSlidingLayer(l);
  return n;
}

/// Attention weights the variants add: QK-norm scales, sink logits.
static int64_t variantAttentionParameters(const ModelConfig &c) {
  int64_t extra = 0;
  if (c.qkNorm == ModelConfig::QKNorm::PerHead)
    extra += 2 * c.headDim;
  else if (c.qkNorm == ModelConfig::QKNorm::Whole)
    extra += (c.heads + c.kvHeads) * c.headDim;
  if (c.attentionSinks)
    extra += c.heads;
  return extra;
}

int64_t ModelConfig::moeLayers() const {
  if (!isMoE())
    return 0;
  if (!deepseekMoe)
    return layers;
  int64_t n = 0;
  for (int64_t l = 0; l < layers; ++l)
    n += deepseekMoe->isMoELayer(l);
  return n;
}

int64_t ModelConfig::kvCacheElementsPerToken() const {
  if (mla)
    return layers * mla->cachedPerToken();
  return layers * 2 * kvHeads * headDim;
}

namespace {

/// DeepSeek-V2/V3 parameters, as modeling_deepseek.py defines them: MLA's
/// (q_a_proj, q_a_layernorm, q_b_proj | q_proj), kv_a_proj_with_mqa,
/// kv_a_layernorm, kv_b_proj, o_proj; dense layers' MLP; MoE layers' gate
/// (plus V3's e_score_correction_bias), routed and shared experts.
ModelConfig::Parameters deepSeekParameters(const ModelConfig &c) {
  const MlaConfig &m = *c.mla;
  const DeepSeekMoeConfig &moe = *c.deepseekMoe;
  const int64_t qHead = c.heads * m.qkHeadDim();
  int64_t attention = m.qLoraRank > 0 ? c.hidden * m.qLoraRank + m.qLoraRank +
                                            m.qLoraRank * qHead
                                      : c.hidden * qHead;
  attention += c.hidden * m.cachedPerToken() + m.kvLoraRank +
               m.kvLoraRank * c.heads * (m.qkNopeHeadDim + m.vHeadDim) +
               c.heads * m.vHeadDim * c.hidden;
  const int64_t perLayer = attention + 2 * c.hidden; // + two RMSNorms
  const int64_t dense = 3 * c.hidden * c.intermediate;
  const int64_t expert = 3 * c.hidden * moe.expertIntermediate;
  const int64_t gate =
      c.experts * c.hidden + (moe.scoreCorrectionBias ? c.experts : 0);
  const int64_t moeLayers = c.moeLayers();
  const int64_t denseLayers = c.layers - moeLayers;
  const int64_t outside = 2 * c.vocab * c.hidden + c.hidden; // embed, head
  const int64_t common = outside + c.layers * perLayer + denseLayers * dense +
                         moeLayers * (gate + moe.sharedExperts * expert);
  return {common + moeLayers * c.experts * expert,
          common + moeLayers * c.topK * expert};
}

} // namespace

ModelConfig::Parameters ModelConfig::parameters() const {
  if (mla && deepseekMoe)
    return deepSeekParameters(*this);
  const int64_t q = heads * headDim, kv = kvHeads * headDim;
  int64_t attention = hidden * q + 2 * hidden * kv + q * hidden;
  if (qkvBias)
    attention += q + 2 * kv;
  if (outBias)
    attention += hidden;
  int64_t mlp = (gatedMLP ? 3 : 2) * hidden * intermediate;
  if (mlpBias)
    mlp += (gatedMLP ? 2 : 1) * intermediate + hidden;
  const int64_t normWeights =
      norm == NormKind::LayerNorm ? 2 * hidden : hidden; // scale (+ shift)
  // Two norms per layer, as the generator builds them (GPT-NeoX keeps both
  // under a parallel residual); Falcon-7B shares one, Gemma adds post-norms,
  // OLMo 2 has only those.
  int64_t layerNorms = (preNorms ? 2 : 0) + (postNorms ? 2 : 0);
  if (sharedParallelNorm)
    layerNorms -= 1;
  attention += variantAttentionParameters(*this);
  if (expertBias)
    mlp += 2 * intermediate + hidden; // gate_up and down biases
  int64_t router = isMoE() ? hidden * experts : 0;
  if (isMoE() && expertBias)
    router += experts;
  const int64_t perLayerShared = attention + layerNorms * normWeights + router;
  const int64_t routed = isMoE() ? experts * mlp : mlp;
  const int64_t active = isMoE() ? topK * mlp : mlp;
  int64_t outside = vocab * hidden + normWeights; // embedding, final norm
  if (learnedPositions)
    outside += maxPositions * hidden;
  if (!tieEmbeddings)
    outside += vocab * hidden;
  return {outside + layers * (perLayerShared + routed),
          outside + layers * (perLayerShared + active)};
}

ModelConfig::ActiveCountConvention
ModelConfig::publishedActiveConvention() const {
  if (modelType == "gpt_oss" || modelType == "deepseek_v2" ||
      modelType == "deepseek_v3")
    return ActiveCountConvention::WithoutInputEmbedding;
  return ActiveCountConvention::EveryWeightTouched;
}

int64_t
ModelConfig::activeParameters(ActiveCountConvention convention) const {
  int64_t active = parameters().active;
  if (convention == ActiveCountConvention::EveryWeightTouched)
    return active;
  // A lookup reads one row of the input embedding (and of learned position
  // embeddings); a tied table is the LM head too, which reads all of it.
  if (!tieEmbeddings)
    active -= vocab * hidden;
  if (learnedPositions)
    active -= maxPositions * hidden;
  return active;
}

llvm::ArrayRef<llvm::StringLiteral> bundledModelNames() {
  static constexpr llvm::StringLiteral names[] = {
      "llama-3-8b",       "llama-3-70b", "llama-3.1-405b", "mixtral-8x7b",
      "qwen2-7b",         "gpt2",        "gpt3-175b",      "mistral-7b",
      "gemma-2-9b",       "gemma-3-1b",  "phi-3-mini-4k",  "olmo-2-7b",
      "falcon-7b",        "qwen3-8b",    "qwen3-30b-a3b",  "gpt-oss-120b",
      "deepseek-v2-lite", "deepseek-v2", "deepseek-v3"};
  return names;
}

namespace {

/// The consistency checks, with errors located by field name.
LogicalResult
validate(const ModelConfig &c,
         llvm::function_ref<Location(llvm::StringRef field)> locOf) {
  llvm::StringRef path =
      c.path.empty() ? llvm::StringRef("<config>") : llvm::StringRef(c.path);
  auto positive = [&](int64_t value, llvm::StringRef field) -> LogicalResult {
    if (value > 0)
      return success();
    return emitError(locOf(field)) << "field '" << field << "' in " << path
                                   << " must be positive, got " << value;
  };
  if (failed(positive(c.hidden, "hidden_size")) ||
      failed(positive(c.intermediate, "intermediate_size")) ||
      failed(positive(c.heads, "num_attention_heads")) ||
      failed(positive(c.kvHeads, "num_key_value_heads")) ||
      failed(positive(c.headDim, "head_dim")) ||
      failed(positive(c.layers, "num_hidden_layers")) ||
      failed(positive(c.vocab, "vocab_size")) ||
      failed(positive(c.maxPositions, "max_position_embeddings")))
    return failure();
  if (c.layers > kMaxModelLayers)
    return emitError(locOf("num_hidden_layers"))
           << "field 'num_hidden_layers' in " << path << " is " << c.layers
           << ", more than the " << kMaxModelLayers
           << " layers a model may have here";
  if (c.heads % c.kvHeads != 0)
    return emitError(locOf("num_key_value_heads"))
           << "inconsistent config " << path << ": num_key_value_heads ("
           << c.kvHeads << ") must divide num_attention_heads (" << c.heads
           << ")";
  if (c.headDim * c.heads != c.hidden && c.hidden % c.heads != 0)
    return emitError(locOf("num_attention_heads"))
           << "inconsistent config " << path << ": hidden size (" << c.hidden
           << ") is not divisible by the number of heads (" << c.heads
           << ") and no head_dim is given";
  if (c.normEps <= 0)
    return emitError(locOf("rms_norm_eps"))
           << "norm epsilon in " << path << " must be positive";
  if (!c.learnedPositions) {
    if (c.ropeTheta <= 1)
      return emitError(locOf("rope_theta"))
             << "field 'rope_theta' in " << path << " must exceed 1, got "
             << c.ropeTheta;
    if (c.rotaryFraction <= 0 || c.rotaryFraction > 1 || c.rotaryDim() < 2)
      return emitError(locOf("rotary_pct"))
             << "rotary fraction in " << path
             << " must leave an even number (>= 2) of rotated dimensions "
                "per head, got "
             << c.rotaryFraction;
  }
  if (c.experts < 0 || (c.experts > 0) != (c.topK > 0))
    return emitError(locOf("num_local_experts"))
           << "inconsistent config " << path
           << ": num_local_experts and num_experts_per_tok must both be "
              "positive or both absent";
  if (c.topK > c.experts)
    return emitError(locOf("num_experts_per_tok"))
           << "inconsistent config " << path << ": num_experts_per_tok ("
           << c.topK << ") exceeds num_local_experts (" << c.experts << ")";
  if (c.slidingWindow < 0)
    return emitError(locOf("sliding_window"))
           << "field 'sliding_window' in " << path
           << " must not be negative, got " << c.slidingWindow;
  if (!c.slidingLayers.empty() && int64_t(c.slidingLayers.size()) != c.layers)
    return emitError(locOf("layer_types"))
           << "inconsistent config " << path << ": " << c.slidingLayers.size()
           << " layer types for " << c.layers << " layers";
  if (c.mla && c.slidingWindow > 0)
    return emitError(locOf("sliding_window"))
           << "sliding-window attention with DeepSeek's MLA is not modelled ("
           << path << ")";
  if (c.attnSoftcap < 0 || c.finalSoftcap < 0 || c.queryScalar < 0)
    return emitError(locOf("attn_logit_softcapping"))
           << "soft-caps and query_pre_attn_scalar in " << path
           << " must not be negative";
  if (c.isMoE() && !c.gatedMLP)
    return emitError(locOf("model_type"))
           << "mixture-of-experts with an ungated MLP is not supported ("
           << path << ")";
  return success();
}

} // namespace

LogicalResult validateModelConfig(const ModelConfig &config, Location loc) {
  return validate(config, [&](llvm::StringRef) { return loc; });
}

FailureOr<ModelConfig> parseModelConfig(llvm::StringRef text,
                                        llvm::StringRef path,
                                        llvm::StringRef name,
                                        MLIRContext *ctx) {
  Location fileLoc = FileLineColLoc::get(ctx, path, 1, 1);
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    // json::ParseError logs "[line:column, byte=offset]: message": report
    // it at that place in the file.
    std::string msg = llvm::toString(parsed.takeError());
    unsigned line = 1, column = 1, offset = 0;
    int consumed = 0;
    Location at = fileLoc;
    if (std::sscanf(msg.c_str(), "[%u:%u, byte=%u]: %n", &line, &column,
                    &offset, &consumed) == 3 &&
        consumed > 0) {
      msg = msg.substr(consumed);
      at = FileLineColLoc::get(ctx, path, line, column);
    }
    emitError(at) << "invalid JSON in model config " << path << ": " << msg;
    return failure();
  }
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object) {
    emitError(fileLoc) << "model config " << path << " must be a JSON object";
    return failure();
  }
  FieldReader r(*object, text, path, ctx);

  ModelConfig c;
  c.name = name.str();
  c.path = path.str();
  llvm::StringRef typeField;
  FailureOr<std::string> modelType =
      r.optionalString({"model_type"}, "", typeField);
  if (failed(modelType))
    return failure();
  if (modelType->empty()) {
    emitError(fileLoc) << "model config is missing required field "
                          "'model_type' in "
                       << path;
    return failure();
  }
  c.modelType = *modelType;

  // Reads an int field into `dst`; false on error.
  auto readInt = [&](int64_t &dst, FailureOr<int64_t> v) {
    if (failed(v))
      return false;
    dst = *v;
    return true;
  };

  bool llamaFamily =
      llvm::is_contained(llvm::ArrayRef<llvm::StringRef>{"llama", "mistral",
                                                         "mixtral", "qwen2"},
                         llvm::StringRef(c.modelType)) ||
      isLlamaShapedVariant(c.modelType);
  bool gemma = llvm::StringRef(c.modelType).starts_with("gemma");
  if (llamaFamily) {
    if (!readInt(c.hidden, r.requireInt({"hidden_size"})) ||
        !readInt(c.intermediate, r.requireInt({"intermediate_size"})) ||
        !readInt(c.heads, r.requireInt({"num_attention_heads"})) ||
        !readInt(c.layers, r.requireInt({"num_hidden_layers"})) ||
        !readInt(c.vocab, r.requireInt({"vocab_size"})) ||
        !readInt(c.kvHeads, r.optionalInt({"num_key_value_heads"}, c.heads)) ||
        !readInt(c.maxPositions,
                 r.optionalInt({"max_position_embeddings"}, 2048)))
      return failure();
    if (failed(requirePositiveHeads(r, c.heads, "num_attention_heads", path)))
      return failure();
    if (!readInt(c.headDim, r.optionalInt({"head_dim"}, c.hidden / c.heads)))
      return failure();
    c.norm = NormKind::RMSNorm;
    c.gatedMLP = true;
    // Gemma names its activation hidden_activation (and keeps a legacy
    // hidden_act beside it).
    FailureOr<Activation> activation =
        gemma ? readActivation(r, {"hidden_activation", "hidden_act"},
                               "gelu_pytorch_tanh", path)
              : readActivation(r, {"hidden_act"}, "silu", path);
    r.markRead({"hidden_activation", "hidden_act"});
    FailureOr<double> eps = r.optionalNumber({"rms_norm_eps"}, 1e-6);
    FailureOr<double> theta = r.optionalNumber({"rope_theta"}, 10000.0);
    FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", gemma);
    FailureOr<bool> attnBias = r.optionalBool("attention_bias", false);
    FailureOr<bool> mlpBias = r.optionalBool("mlp_bias", false);
    if (failed(activation) || failed(eps) || failed(theta) || failed(tie) ||
        failed(attnBias) || failed(mlpBias))
      return failure();
    c.activation = *activation;
    c.normEps = *eps;
    c.ropeTheta = *theta;
    c.tieEmbeddings = *tie;
    // Qwen2 always has q/k/v biases (no config field says so).
    c.qkvBias = *attnBias || c.modelType == "qwen2";
    c.outBias = *attnBias;
    c.mlpBias = *mlpBias;
    if (c.modelType == "mixtral") {
      if (!readInt(c.experts, r.requireInt({"num_local_experts"})) ||
          !readInt(c.topK, r.requireInt({"num_experts_per_tok"})))
        return failure();
    } else if (!r.present({"num_local_experts"}).empty()) {
      if (!readInt(c.experts, r.optionalInt({"num_local_experts"}, 0)) ||
          !readInt(c.topK, r.requireInt({"num_experts_per_tok"})))
        return failure();
    }
    if (failed(isLlamaShapedVariant(c.modelType)
                   ? readLlamaVariant(r, c, path)
                   : readSlidingWindow(r, c, path)))
      return failure();
  } else if (c.modelType == "falcon") {
    if (failed(readFalcon(r, c, path)))
      return failure();
  } else if (c.modelType == "gpt2") {
    if (!readInt(c.hidden, r.requireInt({"n_embd"})) ||
        !readInt(c.layers, r.requireInt({"n_layer"})) ||
        !readInt(c.heads, r.requireInt({"n_head"})) ||
        !readInt(c.vocab, r.requireInt({"vocab_size"})) ||
        !readInt(c.maxPositions, r.optionalInt({"n_positions"}, 1024)) ||
        !readInt(c.intermediate, r.optionalInt({"n_inner"}, 4 * c.hidden)))
      return failure();
    if (failed(requirePositiveHeads(r, c.heads, "n_head", path)))
      return failure();
    c.kvHeads = c.heads;
    c.headDim = c.hidden / c.heads;
    c.norm = NormKind::LayerNorm;
    c.gatedMLP = false;
    c.learnedPositions = true;
    c.qkvBias = c.outBias = c.mlpBias = true;
    FailureOr<Activation> activation =
        readActivation(r, {"activation_function"}, "gelu_new", path);
    FailureOr<double> eps = r.optionalNumber({"layer_norm_epsilon"}, 1e-5);
    FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", true);
    if (failed(activation) || failed(eps) || failed(tie))
      return failure();
    c.activation = *activation;
    c.normEps = *eps;
    c.tieEmbeddings = *tie;
  } else if (c.modelType == "gpt_neox") {
    if (!readInt(c.hidden, r.requireInt({"hidden_size"})) ||
        !readInt(c.intermediate, r.requireInt({"intermediate_size"})) ||
        !readInt(c.heads, r.requireInt({"num_attention_heads"})) ||
        !readInt(c.layers, r.requireInt({"num_hidden_layers"})) ||
        !readInt(c.vocab, r.requireInt({"vocab_size"})) ||
        !readInt(c.maxPositions,
                 r.optionalInt({"max_position_embeddings"}, 2048)))
      return failure();
    if (failed(requirePositiveHeads(r, c.heads, "num_attention_heads", path)))
      return failure();
    c.kvHeads = c.heads;
    c.headDim = c.hidden / c.heads;
    c.norm = NormKind::LayerNorm;
    c.gatedMLP = false;
    c.qkvBias = c.outBias = c.mlpBias = true;
    FailureOr<Activation> activation =
        readActivation(r, {"hidden_act"}, "gelu", path);
    FailureOr<double> eps = r.optionalNumber({"layer_norm_eps"}, 1e-5);
    FailureOr<double> theta =
        r.optionalNumber({"rope_theta", "rotary_emb_base"}, 10000.0);
    FailureOr<double> rotary = r.optionalNumber({"rotary_pct"}, 0.25);
    FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", false);
    FailureOr<bool> parallel = r.optionalBool("use_parallel_residual", true);
    if (failed(activation) || failed(eps) || failed(theta) || failed(rotary) ||
        failed(tie) || failed(parallel))
      return failure();
    c.activation = *activation;
    c.normEps = *eps;
    c.ropeTheta = *theta;
    c.rotaryFraction = *rotary;
    c.tieEmbeddings = *tie;
    c.parallelResidual = *parallel;
  } else if (c.modelType == "deepseek_v2" || c.modelType == "deepseek_v3") {
    if (failed(parseDeepSeek(r, c, path)))
      return failure();
  } else {
    emitError(r.locOf("model_type"))
        << "unsupported model_type '" << c.modelType << "' in " << path
        << " (supported: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, "
           "gemma2, gemma3_text, phi3, olmo2, falcon, gpt_oss, gpt2, "
           "gpt_neox, deepseek_v2, deepseek_v3)";
    return failure();
  }

  if (failed(validate(c, [&](llvm::StringRef field) {
        // Validation speaks in llama field names; point at whichever
        // spelling the file uses.
        static const std::pair<llvm::StringRef, llvm::StringRef> aliases[] = {
            {"hidden_size", "n_embd"},
            {"num_attention_heads", "n_head"},
            {"num_hidden_layers", "n_layer"},
            {"intermediate_size", "n_inner"},
            {"max_position_embeddings", "n_positions"},
            {"rms_norm_eps", "layer_norm_epsilon"},
            {"rms_norm_eps", "layer_norm_eps"}};
        if (!r.present({field}).empty())
          return r.locOf(field);
        for (auto [canonical, alias] : aliases)
          if (canonical == field && !r.present({alias}).empty())
            return r.locOf(alias);
        return r.locOf(field);
      })))
    return failure();
  warnUnmodelledFields(r, path);
  return c;
}

FailureOr<ModelConfig> loadModelConfig(llvm::StringRef spec,
                                       llvm::StringRef modelsDir,
                                       MLIRContext *ctx) {
  std::string path = spec.str();
  std::string name = llvm::sys::path::stem(spec).str();
  bool looksLikePath = spec.ends_with(".json") || spec.contains('/') ||
                       llvm::sys::fs::exists(spec);
  if (!looksLikePath) {
    llvm::SmallString<256> bundled(modelsDir);
    llvm::sys::path::append(bundled, spec + ".json");
    if (!llvm::sys::fs::exists(bundled)) {
      emitError(FileLineColLoc::get(ctx, spec, 0, 0))
          << "unknown model '" << spec << "': not a file and not a bundled "
          << "config in '" << modelsDir
          << "' (bundled: " << llvm::join(bundledModelNames(), ", ") << ")";
      return failure();
    }
    path = bundled.str().str();
    name = spec.str();
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    emitError(FileLineColLoc::get(ctx, path, 0, 0))
        << "cannot read model config '" << path
        << "': " << buffer.getError().message();
    return failure();
  }
  return parseModelConfig((*buffer)->getBuffer(), path, name, ctx);
}

} // namespace strata::workload
