//===- ModelConfig.cpp - Transformer shapes from HF config.json -----------===//

#include "strata/Workload/ModelConfig.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdio>

using namespace mlir;

namespace strata::workload {

int64_t ModelConfig::rotaryDim() const {
  if (learnedPositions)
    return 0;
  auto dims =
      static_cast<int64_t>(std::floor(double(headDim) * rotaryFraction));
  return dims - dims % 2;
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
  // under a parallel residual).
  const int64_t router = isMoE() ? hidden * experts : 0;
  const int64_t perLayerShared = attention + 2 * normWeights + router;
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

llvm::ArrayRef<llvm::StringLiteral> bundledModelNames() {
  static constexpr llvm::StringLiteral names[] = {
      "llama-3-8b",  "llama-3-70b", "llama-3.1-405b", "mixtral-8x7b",
      "qwen2-7b",    "gpt2",        "gpt3-175b",      "deepseek-v2-lite",
      "deepseek-v2", "deepseek-v3"};
  return names;
}

namespace {

/// Reads fields of one config object, reporting errors at the line of the
/// field in the file (or the file's first line for missing fields).
class FieldReader {
public:
  FieldReader(const llvm::json::Object &object, llvm::StringRef text,
              llvm::StringRef path, MLIRContext *ctx)
      : object(object), text(text), path(path), ctx(ctx) {}

  /// Where `field` is written in the file; line 1 if it is not.
  Location locOf(llvm::StringRef field) const {
    std::string quoted = ("\"" + field + "\"").str();
    size_t pos = text.find(quoted);
    if (pos == llvm::StringRef::npos)
      return FileLineColLoc::get(ctx, path, 1, 1);
    llvm::StringRef before = text.take_front(pos);
    unsigned line = 1 + before.count('\n');
    size_t lineStart = before.rfind('\n');
    unsigned col =
        lineStart == llvm::StringRef::npos ? pos + 1 : pos - lineStart;
    return FileLineColLoc::get(ctx, path, line, col);
  }

  /// The first of `names` present (and not null), or "" if none is.
  llvm::StringRef present(llvm::ArrayRef<llvm::StringRef> names) const {
    for (llvm::StringRef name : names) {
      const llvm::json::Value *v = object.get(name);
      if (v && v->kind() != llvm::json::Value::Null)
        return name;
    }
    return "";
  }

  /// An integer field under any of `names`; an error if none is present.
  FailureOr<int64_t> requireInt(llvm::ArrayRef<llvm::StringRef> names) {
    llvm::StringRef name = present(names);
    if (name.empty()) {
      emitError(FileLineColLoc::get(ctx, path, 1, 1))
          << "model config is missing required field '"
          << llvm::join(names, "' (or '") << "'"
          << (names.size() > 1 ? ")" : "") << " in " << path;
      return failure();
    }
    return readInt(name);
  }

  /// An integer field under any of `names`, or `fallback` when absent.
  FailureOr<int64_t> optionalInt(llvm::ArrayRef<llvm::StringRef> names,
                                 int64_t fallback) {
    llvm::StringRef name = present(names);
    if (name.empty())
      return fallback;
    return readInt(name);
  }

  FailureOr<double> optionalNumber(llvm::ArrayRef<llvm::StringRef> names,
                                   double fallback) {
    llvm::StringRef name = present(names);
    if (name.empty())
      return fallback;
    std::optional<double> v = object.get(name)->getAsNumber();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be a number";
      return failure();
    }
    return *v;
  }

  FailureOr<bool> optionalBool(llvm::StringRef name, bool fallback) {
    if (present({name}).empty())
      return fallback;
    std::optional<bool> v = object.get(name)->getAsBoolean();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be true or false";
      return failure();
    }
    return *v;
  }

  /// A string field, or `fallback` when absent; the name read goes to
  /// `fieldName` for later diagnostics.
  FailureOr<std::string> optionalString(llvm::ArrayRef<llvm::StringRef> names,
                                        llvm::StringRef fallback,
                                        llvm::StringRef &fieldName) {
    llvm::StringRef name = present(names);
    fieldName = name.empty() ? names.front() : name;
    if (name.empty())
      return fallback.str();
    std::optional<llvm::StringRef> v = object.get(name)->getAsString();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be a string";
      return failure();
    }
    return v->str();
  }

private:
  FailureOr<int64_t> readInt(llvm::StringRef name) {
    const llvm::json::Value *v = object.get(name);
    std::optional<int64_t> i = v->getAsInteger();
    if (!i) {
      // Some configs write integers as 4096.0.
      std::optional<double> d = v->getAsNumber();
      // Only a value int64_t holds converts (3.3e109 would be undefined
      // behaviour; found by fuzz/json-fuzzer.cpp).
      if (d && std::floor(*d) == *d && std::fabs(*d) < 0x1p63)
        i = static_cast<int64_t>(*d);
    }
    if (!i) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be an integer";
      return failure();
    }
    return *i;
  }

  const llvm::json::Object &object;
  llvm::StringRef text;
  llvm::StringRef path;
  MLIRContext *ctx;
};

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
      !readInt(moe.topkGroups, r.optionalInt({"topk_group"}, 1)))
    return failure();
  if (failed(requirePositiveHeads(r, c.heads, "num_attention_heads", path)))
    return failure();
  // MLA has no kv heads of its own: every query head decompresses its K and
  // V from the one latent (num_key_value_heads equals the heads).
  c.kvHeads = c.heads;
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
  c.mla = m;
  c.deepseekMoe = moe;
  return success();
}

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

  bool llamaFamily = llvm::is_contained(
      llvm::ArrayRef<llvm::StringRef>{"llama", "mistral", "mixtral", "qwen2"},
      llvm::StringRef(c.modelType));
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
    FailureOr<Activation> activation =
        readActivation(r, {"hidden_act"}, "silu", path);
    FailureOr<double> eps = r.optionalNumber({"rms_norm_eps"}, 1e-6);
    FailureOr<double> theta = r.optionalNumber({"rope_theta"}, 10000.0);
    FailureOr<bool> tie = r.optionalBool("tie_word_embeddings", false);
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
        << " (supported: llama, mistral, mixtral, qwen2, gpt2, gpt_neox, "
           "deepseek_v2, deepseek_v3)";
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
