//===- TransformerBuilder.h - Transformer workloads as linalg ---*- C++ -*-===//
//
// Builds a whole decoder-only transformer as func + linalg-on-tensors (with
// tensor, arith, math, scf): one private function per distinct layer, run
// num_hidden_layers times by an scf.for in the entry function over stacked
// [L, ...] weights, so the IR does not grow with depth. Every op carries a
// NameLoc ("layers.attn.qk_matmul", "lm_head", ...) that reports group by,
// every entry argument a `strata.role`, and the module a `strata.model`
// dictionary. docs/workloads.md describes the IR and its assumptions.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_WORKLOAD_TRANSFORMERBUILDER_H
#define STRATA_WORKLOAD_TRANSFORMERBUILDER_H

#include "strata/Workload/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace strata::workload {

/// What the entry function computes.
enum class WorkloadMode {
  /// `@forward`: the prompt's logits from its tokens.
  Prefill,
  /// `@decode_step`: next-token logits from new tokens and a KV cache.
  Decode,
  /// `@train_step`: forward, loss, backward and an Adam update.
  Train,
};

llvm::StringRef stringifyWorkloadMode(WorkloadMode mode);
std::optional<WorkloadMode> parseWorkloadMode(llvm::StringRef text);

/// Element types of the generated program.
enum class WorkloadDType { bf16, fp16, fp8, f32 };

llvm::StringRef stringifyWorkloadDType(WorkloadDType dtype);
std::optional<WorkloadDType> parseWorkloadDType(llvm::StringRef text);

/// Stored formats of the layers' projection weights (`--weight-dtype`):
/// narrow elements plus a scale per group of `group` consecutive elements
/// along the reduction (input) dimension. The generator stores each
/// projection as its packed elements and its scales and dequantises them
/// into the contraction (docs/workloads.md, "Quantised weights").
enum class WeightFormat {
  /// int8 with one fp16 scale per output channel (group = the reduction).
  Int8,
  /// int8 or int4 with an fp16 scale per `group` elements (GPTQ/AWQ,
  /// symmetric: no zero points).
  Int8Grouped,
  Int4Grouped,
  /// FP8 E4M3 weights with a per-tensor scale, the activations quantised
  /// to E4M3 as well (W8A8: the matrix unit reads both natively).
  Fp8,
  /// OCP MX FP4: E2M1 elements, one E8M0 scale per 32 (gpt-oss' experts).
  Mxfp4,
  /// Tenstorrent block floats: sign-magnitude mantissas of 7 (bfp8_b) or 3
  /// (bfp4_b) bits sharing one 8-bit exponent per 16 elements.
  Bfp8,
  Bfp4,
};

/// A weight format with its group size.
struct WeightQuant {
  WeightFormat format = WeightFormat::Int8;
  /// Elements per scale along the reduction; 0: the whole reduction (one
  /// scale per output channel) or, for fp8, the whole tensor.
  int64_t group = 0;

  /// Bits of one stored element and of one scale (0: no stored scales).
  unsigned elementBits() const;
  unsigned scaleBits() const;
  /// Bytes per parameter of a weight whose reduction has `reduction`
  /// elements: elementBits / 8 + scale bytes / group.
  double bytesPerParameter(int64_t reduction) const;
  bool operator==(const WeightQuant &o) const {
    return format == o.format && group == o.group;
  }
};

/// Parses `--weight-dtype`: int8, int8-g<N>, int4-g<N>, fp8, mxfp4, bfp8,
/// bfp4.
std::optional<WeightQuant> parseWeightQuant(llvm::StringRef text);
std::string stringifyWeightQuant(const WeightQuant &q);

/// Parses `--moe-load-balance`: "uniform" (factor 1) or a positive capacity
/// factor that multiplies the rows each active expert computes.
std::optional<double> parseMoELoadBalance(llvm::StringRef text);

/// Which form of DeepSeek's multi-head latent attention to generate.
enum class MlaForm {
  /// The one with fewer FLOPs (inference), expanded when training.
  Auto,
  /// K and V decompressed from the latent per head.
  Expanded,
  /// kv_b_proj folded into the query and the output: attention over the
  /// latent cache (inference only).
  Absorbed,
};

std::optional<MlaForm> parseMlaForm(llvm::StringRef text);
llvm::StringRef stringifyMlaForm(MlaForm form);

struct WorkloadOptions {
  WorkloadMode mode = WorkloadMode::Prefill;
  int64_t batch = 1;
  /// New tokens per sequence: the prompt (prefill), the training sequence
  /// (train) or the tokens decoded in one step. Unset: 2048 for prefill and
  /// train, 1 for decode (clamped to the positions a model with learned
  /// position embeddings has).
  std::optional<int64_t> seq;
  /// Tokens already in the KV cache (decode only). Unset: 2048 (clamped like
  /// seq).
  std::optional<int64_t> kvLen;
  WorkloadDType dtype = WorkloadDType::bf16;
  /// Element type of the KV cache (decode); unset: the activations' type.
  /// fp8 stores E4M3, as TensorRT-LLM's and vLLM's FP8 KV caches do: the
  /// append quantises this step's K/V, the attention dequantises on read,
  /// and the cache's bytes (what decode streams) halve against bf16.
  std::optional<WorkloadDType> kvDType;
  /// Under dtype fp8, whether the vocabulary tables (embedding, LM head)
  /// are fp8 too. False by default: the FP8 recipes keep them in the
  /// activations' type (Transformer Engine casts only its own layers, and
  /// Megatron-LM's embedding and output layer are not TE modules; NVIDIA
  /// ModelOpt's FP8 configs disable the "*lm_head*" quantizers).
  bool fp8Vocabulary = false;
  /// Stored format of the layers' projection weights (attention, MLP and
  /// experts; embeddings, norms, the router and the LM head keep the
  /// weights' dtype). Unset: the weights' dtype, except gpt_oss configs
  /// whose `quantization_config` ships MXFP4 experts (expertQuant).
  std::optional<WeightQuant> weightQuant;
  /// Rows each active expert computes, as a multiple of the uniform share
  /// tokens * top_k / active_experts (1 = perfectly balanced).
  double moeCapacityFactor = 1.0;
  /// Pad the vocabulary (embedding rows, LM-head columns, logits) up to a
  /// multiple of this, as Megatron-LM pads it to make-vocab-size-divisible-by
  /// (128) x tp so that every tensor-parallel rank holds an equal, aligned
  /// share. 0: 128 when training (Megatron's default; a multiple of every
  /// power-of-two tp up to 128), no padding for inference (checkpoints ship
  /// their vocabulary as is). 1: never pad. The module records the padded
  /// size as strata.model.padded_vocab next to the config's vocab.
  int64_t vocabMultiple = 0;
  /// MLA models only (DeepSeek-V2/V3).
  MlaForm mlaForm = MlaForm::Auto;
};

/// The vocabulary the generator builds for `config` under `options`:
/// the config's, rounded up to the options' multiple (see vocabMultiple).
int64_t paddedVocab(const ModelConfig &config, const WorkloadOptions &options);

/// Name of the entry function for a mode (forward, decode_step, train_step).
llvm::StringRef entryFunctionName(WorkloadMode mode);

/// Registers the dialects the generated IR uses.
void registerWorkloadDialects(mlir::DialectRegistry &registry);

/// Builds and verifies the module. On failure returns null after emitting
/// errors (unsupported combinations, sizes out of range) at a location in
/// `config`'s file when known.
mlir::OwningOpRef<mlir::ModuleOp>
buildTransformerModule(const ModelConfig &config,
                       const WorkloadOptions &options, mlir::MLIRContext *ctx);

} // namespace strata::workload

#endif // STRATA_WORKLOAD_TRANSFORMERBUILDER_H
