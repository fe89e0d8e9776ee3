//===- ModelConfig.cpp - Transformer shapes from HF config.json -----------===//

#include "strata/Workload/ModelConfig.h"

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

ModelConfig::Parameters ModelConfig::parameters() const {
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

llvm::ArrayRef<llvm::StringLiteral> bundledModelNames() {
  static constexpr llvm::StringLiteral names[] = {
      "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "mixtral-8x7b",
      "qwen2-7b",   "gpt2",        "gpt3-175b",      "mistral-7b",
      "gemma-2-9b", "gemma-3-1b",  "phi-3-mini-4k",  "olmo-2-7b",
      "falcon-7b",  "qwen3-8b",    "qwen3-30b-a3b",  "gpt-oss-120b"};
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
  /// Every name asked for counts as read (modelled), present or not.
  llvm::StringRef present(llvm::ArrayRef<llvm::StringRef> names) const {
    for (llvm::StringRef name : names)
      read.insert(name);
    for (llvm::StringRef name : names) {
      const llvm::json::Value *v = object.get(name);
      if (v && v->kind() != llvm::json::Value::Null)
        return name;
    }
    return "";
  }

  /// Marks fields as modelled without reading them (read elsewhere, or
  /// aliases of a field read).
  void markRead(llvm::ArrayRef<llvm::StringRef> names) const {
    for (llvm::StringRef name : names)
      read.insert(name);
  }
  bool wasRead(llvm::StringRef name) const { return read.contains(name); }
  const llvm::json::Object &fields() const { return object; }

  /// A list of strings, or nullopt when absent; an error when malformed.
  FailureOr<std::optional<std::vector<std::string>>>
  optionalStringList(llvm::StringRef name) {
    if (present({name}).empty())
      return std::optional<std::vector<std::string>>();
    const llvm::json::Array *list = object.get(name)->getAsArray();
    std::vector<std::string> out;
    for (size_t i = 0; list && i < list->size(); ++i) {
      std::optional<llvm::StringRef> item = (*list)[i].getAsString();
      if (!item) {
        list = nullptr;
        break;
      }
      out.push_back(item->str());
    }
    if (!list) {
      emitError(locOf(name)) << "field '" << name << "' in " << path
                             << " must be a list of strings";
      return failure();
    }
    return std::optional<std::vector<std::string>>(std::move(out));
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
  /// Fields the parser asked for: modelled (see warnUnmodelledFields).
  mutable llvm::StringSet<> read;
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
  if (c.slidingWindow < 0)
    return emitError(locOf("sliding_window"))
           << "field 'sliding_window' in " << path
           << " must not be negative, got " << c.slidingWindow;
  if (!c.slidingLayers.empty() && int64_t(c.slidingLayers.size()) != c.layers)
    return emitError(locOf("layer_types"))
           << "inconsistent config " << path << ": " << c.slidingLayers.size()
           << " layer types for " << c.layers << " layers";
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
LogicalResult readLayerTypes(FieldReader &r, ModelConfig &c,
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

/// Every layer local but each `period`-th (Gemma 2: 2, Gemma 3: 6).
void interleave(ModelConfig &c, int64_t period) {
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
    c.slidingLayers.assign(c.layers, false);
    for (int64_t l = *from; l < c.layers; ++l)
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

/// Fields the generator does not model and says so, with what it assumed.
struct Unmodelled {
  llvm::StringLiteral field, assumed;
};
constexpr Unmodelled kUnmodelled[] = {
    {"quantization_config",
     "weights are built in --dtype; quantised storage and its dequantisation "
     "are not priced"},
    {"swiglu_limit", "the clamp of the SwiGLU inputs is not priced"},
};

/// One warning per top-level field that is neither read by the parser nor
/// on the cost-neutral list (docs/workloads.md).
void warnUnmodelledFields(const FieldReader &r, llvm::StringRef path) {
  // Sorted, so the warnings come in a stable order.
  SmallVector<llvm::StringRef> keys;
  for (const auto &kv : r.fields())
    keys.push_back(kv.first);
  llvm::sort(keys);
  for (llvm::StringRef key : keys) {
    if (r.wasRead(key) || isCostNeutralConfigField(key))
      continue;
    const llvm::json::Value *v = r.fields().get(key);
    if (v->kind() == llvm::json::Value::Null)
      continue; // an absent feature
    auto known = llvm::find_if(
        kUnmodelled, [&](const Unmodelled &u) { return u.field == key; });
    InFlightDiagnostic diag = emitWarning(r.locOf(key));
    diag << "field '" << key << "' is not modelled: ";
    if (known != std::end(kUnmodelled))
      diag << known->assumed;
    else
      diag << "assumed it does not change the workload";
  }
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
  } else {
    emitError(r.locOf("model_type"))
        << "unsupported model_type '" << c.modelType << "' in " << path
        << " (supported: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, "
           "gemma2, gemma3_text, phi3, olmo2, falcon, gpt_oss, gpt2, "
           "gpt_neox)";
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
