//===- ConfigFields.cpp - config.json fields that do not change cost ------===//
//
// The fields of a Hugging Face config.json that the workload generator reads
// past on purpose: they change values (token ids, RoPE frequencies, init),
// training-time regularisers it does not model (dropouts, auxiliary losses),
// or bookkeeping, but not the shapes, the FLOPs or the bytes of the program.
// Every other field is either read by the parsers in ModelConfig.cpp and
// ModelFamilies.cpp (modelled) or warned about here, once, naming what was
// assumed. docs/workloads.md lists the same names.
//
//===----------------------------------------------------------------------===//

#include "strata/Workload/ModelConfig.h"

#include "ConfigReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace strata::workload {

llvm::ArrayRef<llvm::StringLiteral> costNeutralConfigFields() {
  static constexpr llvm::StringLiteral fields[] = {
      // Bookkeeping.
      "_name_or_path",
      "architectures",
      "auto_map",
      "model_type",
      "torch_dtype",
      "dtype",
      "transformers_version",
      "use_cache",
      "cache_implementation",
      "pretraining_tp",
      "_attn_implementation",
      // Token ids and generation defaults.
      "bos_token_id",
      "eos_token_id",
      "pad_token_id",
      "sep_token_id",
      "decoder_start_token_id",
      "task_specific_params",
      "n_ctx",
      "max_length",
      "do_sample",
      // Initialisation.
      "initializer_range",
      "initializer_factor",
      // Regularisers and auxiliary losses (training behaviour, not work).
      "attention_dropout",
      "hidden_dropout",
      "resid_pdrop",
      "embd_pdrop",
      "attn_pdrop",
      "summary_first_dropout",
      "router_aux_loss_coef",
      "output_router_logits",
      "router_z_loss_coef",
      "router_jitter_noise",
      // RoPE values: scaling and base frequencies change the rotation angles
      // (the table), never its shape.
      "rope_scaling",
      "rope_type",
      "original_max_position_embeddings",
      "rope_local_base_freq",
      "initial_context_length",
      // Router normalisation: the top-k weights are renormalised either way.
      "norm_topk_prob",
      // Sequence-classification heads (GPT-2 checkpoints) the causal LM does
      // not run.
      "summary_activation",
      "summary_proj_to_labels",
      "summary_type",
      "summary_use_proj",
      // Attention layout of Falcon's checkpoint (fused qkv is one matmul of
      // the same work).
      "apply_residual_connection_post_layernorm",
  };
  return fields;
}

bool isCostNeutralConfigField(llvm::StringRef field) {
  return llvm::is_contained(costNeutralConfigFields(), field);
}

namespace detail {

/// Fields the generator does not model and says so, with what it assumed.
struct Unmodelled {
  llvm::StringLiteral field, assumed;
};
constexpr Unmodelled kUnmodelled[] = {
    {"quantization_config",
     "weights are built in --dtype (or --weight-dtype); the checkpoint's "
     "own format is not read"},
    {"swiglu_limit", "the clamp of the SwiGLU inputs is not priced"},
    // DeepSeek-V2/V3 fields the MLA/DeepSeekMoE builder does not build.
    {"routed_scaling_factor",
     "the routed experts' output scale (one multiply per hidden element) is "
     "not priced"},
    {"num_nextn_predict_layers",
     "the multi-token-prediction module is not built; only the main model's "
     "layers are priced"},
    {"aux_loss_alpha",
     "the auxiliary load-balancing loss (training) is not priced"},
    {"seq_aux", "the sequence-wise auxiliary loss (training) is not priced"},
    {"ep_size",
     "the checkpoint's expert-parallel degree is ignored; expert parallelism "
     "comes from the mapping options"},
};

/// One warning per top-level field that is neither read by the parser nor
/// on the cost-neutral list (docs/workloads.md).
void warnUnmodelledFields(const FieldReader &r, llvm::StringRef path) {
  // Sorted, so the warnings come in a stable order.
  llvm::SmallVector<llvm::StringRef> keys;
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
    mlir::InFlightDiagnostic diag = mlir::emitWarning(r.locOf(key));
    diag << "field '" << key << "' is not modelled: ";
    if (known != std::end(kUnmodelled))
      diag << known->assumed;
    else
      diag << "assumed it does not change the workload";
  }
}

} // namespace detail

} // namespace strata::workload
