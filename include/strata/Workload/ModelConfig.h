//===- ModelConfig.h - Transformer shapes from HF config.json ---*- C++ -*-===//
//
// The shape of a decoder-only transformer as the workload generator needs
// it, read from a Hugging Face config.json (llama, mistral, mixtral, qwen2,
// gpt2, gpt_neox, gemma2, gemma3_text, phi3, olmo2, falcon, qwen3,
// qwen3_moe, gpt_oss field names) and validated. Errors are emitted as MLIR
// diagnostics located in the config file, naming the offending field.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_WORKLOAD_MODELCONFIG_H
#define STRATA_WORKLOAD_MODELCONFIG_H

#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::workload {

enum class NormKind { RMSNorm, LayerNorm };

/// The MLP nonlinearity. SiLU is used gated (SwiGLU) by the llama family;
/// the GELUs are used ungated by gpt2 / gpt_neox.
enum class Activation { SiLU, GELUTanh, GELU, ReLU };

/// Multi-head latent attention (DeepSeek-V2/V3): keys and values are
/// decompressed per head from a shared kv_lora_rank latent, which the KV
/// cache holds together with one RoPE key of qk_rope_head_dim shared by all
/// heads; queries go through an optional q_lora_rank bottleneck.
struct MlaConfig {
  /// 0: queries are projected directly (q_lora_rank null, DeepSeek-V2-Lite).
  int64_t qLoraRank = 0;
  int64_t kvLoraRank = 0;
  int64_t qkNopeHeadDim = 0;
  int64_t qkRopeHeadDim = 0;
  int64_t vHeadDim = 0;
  int64_t qkHeadDim() const { return qkNopeHeadDim + qkRopeHeadDim; }
  /// Elements one token adds to one layer's cache: latent plus RoPE key.
  int64_t cachedPerToken() const { return kvLoraRank + qkRopeHeadDim; }
};

/// DeepSeekMoE: fine-grained routed experts (ModelConfig::experts of
/// `expertIntermediate`, top ModelConfig::topK per token) beside
/// `sharedExperts` experts every token uses, in the layers from
/// `firstDenseLayers` on at every `layerFreq`-th layer (the others keep a
/// dense MLP of ModelConfig::intermediate). Routing is limited to the
/// `topkGroups` best of `groups` expert groups.
struct DeepSeekMoeConfig {
  int64_t sharedExperts = 0;
  int64_t expertIntermediate = 0;
  int64_t firstDenseLayers = 0;
  int64_t layerFreq = 1;
  int64_t groups = 1;
  int64_t topkGroups = 1;
  /// V3 scores experts with a sigmoid (and a learned per-expert correction
  /// bias for noaux_tc routing); V2 with a softmax.
  bool sigmoidScoring = false;
  bool scoreCorrectionBias = false;
  /// Layer `l` (0-based) has routed experts, as modeling_deepseek decides.
  bool isMoELayer(int64_t l) const {
    return l >= firstDenseLayers && l % layerFreq == 0;
  }
};

/// One decoder-only transformer. All sizes are element counts.
/// The most layers a config may declare: a bound far above any published
/// model's (hundreds) that keeps per-layer tables and the generated program
/// finite on nonsense input.
inline constexpr int64_t kMaxModelLayers = int64_t(1) << 16;

struct ModelConfig {
  /// Bundled name or file stem (e.g. "llama-3-8b").
  std::string name;
  /// HF model_type (llama, mistral, mixtral, qwen2, gpt2, gpt_neox and the
  /// families of issue 19 below).
  std::string modelType;
  /// The config file, for diagnostics ("" when built in memory).
  std::string path;

  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t layers = 0;
  int64_t vocab = 0;
  int64_t maxPositions = 0;

  NormKind norm = NormKind::RMSNorm;
  double normEps = 1e-5;
  Activation activation = Activation::SiLU;
  /// SwiGLU-style gate * up MLP (llama family) vs fc -> act -> proj (gpt).
  bool gatedMLP = true;
  /// The LM head reuses the embedding table (no separate parameter).
  bool tieEmbeddings = false;
  /// Biases on the q/k/v projections (qwen2, gpt2, gpt_neox).
  bool qkvBias = false;
  /// Bias on the attention output projection (gpt2, gpt_neox, llama with
  /// attention_bias).
  bool outBias = false;
  /// Biases on the MLP matmuls (gpt2, gpt_neox, llama with mlp_bias).
  bool mlpBias = false;
  /// Learned absolute position embeddings (gpt2) instead of RoPE.
  bool learnedPositions = false;
  /// out = x + attn(ln1(x)) + mlp(ln2(x)) (gpt_neox) instead of sequential.
  bool parallelResidual = false;
  double ropeTheta = 10000.0;
  /// Fraction of each head's dimensions that RoPE rotates (gpt_neox
  /// rotary_pct); 1 for the llama family.
  double rotaryFraction = 1.0;

  /// Mixture of experts: 0 experts means a dense MLP.
  int64_t experts = 0;
  int64_t topK = 0;

  /// DeepSeek-V2/V3 (model_type deepseek_v2, deepseek_v3).
  std::optional<MlaConfig> mla;
  std::optional<DeepSeekMoeConfig> deepseekMoe;

  //===--- Attention variants and the non-DeepSeek families (issue 19) ---===//
  // gemma2, gemma3_text, phi3, olmo2, falcon, qwen3, qwen3_moe, gpt_oss and
  // Mistral's / Qwen2's sliding windows. Parsed by the per-family functions
  // of lib/Workload/ModelFamilies.cpp.

  /// Sliding-window attention: each query sees the `slidingWindow` most
  /// recent positions (itself included) in the layers `slidingLayers` marks;
  /// 0: no window anywhere.
  int64_t slidingWindow = 0;
  /// Per layer: true when the layer attends through the window. Empty with
  /// a window means every layer does (Mistral).
  std::vector<bool> slidingLayers;
  /// Gemma 2: scores become cap * tanh(scores / cap) before the mask; 0 off.
  double attnSoftcap = 0.0;
  /// Gemma 2: the logits likewise; 0 off.
  double finalSoftcap = 0.0;
  /// The query scale is 1 / sqrt(queryScalar) (Gemma's
  /// query_pre_attn_scalar); 0: 1 / sqrt(head_dim).
  double queryScalar = 0.0;
  /// RMSNorm on queries and keys after the projections: per head over
  /// head_dim (Qwen3, Gemma 3) or over the whole projection (OLMo 2).
  enum class QKNorm { None, PerHead, Whole };
  QKNorm qkNorm = QKNorm::None;
  /// Norms before attention and the MLP (the usual pre-norm block).
  bool preNorms = true;
  /// Norms on the attention and MLP outputs before their residual adds
  /// (Gemma 2/3 with the pre-norms, OLMo 2 instead of them).
  bool postNorms = false;
  /// gpt-oss: one learned logit per head that joins the softmax's sum
  /// (attention sinks).
  bool attentionSinks = false;
  /// gpt-oss: `quantization_config` ships the MoE experts in MXFP4 (E2M1
  /// elements, one E8M0 scale per 32) and everything else in bf16
  /// (`modules_to_not_convert`); the generator stores the experts so
  /// unless --weight-dtype says otherwise.
  bool mxfp4Experts = false;
  /// Falcon-7B: one norm feeds both branches of the parallel block.
  bool sharedParallelNorm = false;
  /// Gemma: embeddings scaled by sqrt(hidden) (one elementwise multiply).
  bool scaleEmbeddings = false;
  /// gpt-oss: biases on the router and on every expert's projections.
  bool expertBias = false;

  /// Whether layer `layer` attends through the sliding window.
  bool isSlidingLayer(int64_t layer) const;
  /// Layers that attend through the window.
  int64_t slidingLayerCount() const;

  bool isMoE() const { return experts > 0; }
  /// Layers with routed experts: all of them for Mixtral-style MoE, those
  /// DeepSeekMoeConfig::isMoELayer picks for DeepSeek, none when dense.
  int64_t moeLayers() const;
  /// Elements one token adds to the KV cache over all layers: K and V of
  /// every kv head, or MLA's latent plus RoPE key.
  int64_t kvCacheElementsPerToken() const;
  /// Head dimensions RoPE rotates (even; 0 with learned positions).
  int64_t rotaryDim() const;
  /// Parameters of the model as its config defines it (the unpadded
  /// vocabulary, as published counts give them): embeddings, learned
  /// positions, attention and MLP weights and biases, norms, the router and
  /// an untied LM head. `active` counts top_k of the experts instead of all
  /// of them (what one token reads); for a dense model it equals `total`.
  struct Parameters {
    int64_t total = 0, active = 0;
  };
  Parameters parameters() const;

  /// What a publisher's "active (activated) parameters per token" figure
  /// counts. Publishers differ on one point: the input embedding table, of
  /// which a token's lookup reads one row. `Parameters::active` counts it
  /// (every weight a token's forward pass touches); some figures leave it
  /// out and keep the LM head, which every token reads whole.
  enum class ActiveCountConvention {
    /// Every weight a token touches, both tables: Mistral AI's Mixtral
    /// (12.9B active) and Qwen's Qwen3 MoE cards (3.3B, 22B).
    EveryWeightTouched,
    /// Without the input embedding table (tied tables are kept, as the LM
    /// head reads them): OpenAI's gpt-oss card (5.13B) and DeepSeek's
    /// README_WEIGHTS.md for V3 (36.7B), whose figure is this count although
    /// its text says both 0.9B tables are included (with both it is 37.6B).
    WithoutInputEmbedding,
  };
  /// The convention the family's publisher uses (EveryWeightTouched for
  /// dense families, where active equals total under it).
  ActiveCountConvention publishedActiveConvention() const;
  /// Active parameters counted under `convention`.
  int64_t activeParameters(ActiveCountConvention convention) const;
};

/// Parses a config.json text. `path` names the file in diagnostics (errors go
/// to `ctx`'s diagnostic engine, located at the offending field's line).
/// `name` becomes ModelConfig::name.
llvm::FailureOr<ModelConfig> parseModelConfig(llvm::StringRef text,
                                              llvm::StringRef path,
                                              llvm::StringRef name,
                                              mlir::MLIRContext *ctx);

/// Loads a config by bundled name (looked up as `<modelsDir>/<spec>.json`)
/// or by path to a .json file.
llvm::FailureOr<ModelConfig> loadModelConfig(llvm::StringRef spec,
                                             llvm::StringRef modelsDir,
                                             mlir::MLIRContext *ctx);

/// Checks a config for consistency (divisibility of heads, top-k within the
/// expert count, positive sizes); errors are emitted at `loc`.
llvm::LogicalResult validateModelConfig(const ModelConfig &config,
                                        mlir::Location loc);

/// The config.json fields that do not change the workload (token ids,
/// dropouts, RoPE scaling, ...): read past without a warning. Any other
/// field the parser does not model gets one warning naming it.
llvm::ArrayRef<llvm::StringLiteral> costNeutralConfigFields();
bool isCostNeutralConfigField(llvm::StringRef field);

/// The bundled configurations, by name.
llvm::ArrayRef<llvm::StringLiteral> bundledModelNames();

} // namespace strata::workload

#endif // STRATA_WORKLOAD_MODELCONFIG_H
