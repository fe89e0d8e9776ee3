//===- NeMoRecipes.cpp - NeMo performance-recipe defaults -----------------===//

#include "NeMoRecipes.h"

#include "llvm/ADT/ArrayRef.h"

namespace strata::calibration {

namespace {

// Vocabularies: GPT-3 uses the GPT-2 BPE tokenizer (50,257 tokens), Llama 2
// its 32,000-token SentencePiece model, Llama 3 the 128,256-token tiktoken
// vocabulary (meta-llama/Meta-Llama-3-8B), Nemotron the 256,000-token
// SentencePiece model (nemotron_2_256k). Every recipe pads the vocabulary
// to a multiple of 128 x tp (make_vocab_size_divisible_by: 128), as the
// runner does for every Megatron run.
//
// Settings every one of these configs shares, applied by the runner: FP8
// with Transformer Engine (fp8: true, fp8_hybrid: true — E4M3 forward, E5M2
// gradients, delayed scaling with a 1,024-step amax history — in the FP8
// performance configs and the summary's FP8 column), the distributed
// optimizer (distributed_fused_adam / mcore_distributed_optim: optimizer
// states sharded over data parallelism, ZeRO-1) with overlap_grad_sync and
// overlap_param_sync, megatron_amp_O2 (BF16 parameters, FP32 master copy).
constexpr NeMoRecipe kRecipes[] = {
    {"GPT3-5B", "gpt3", 24, 4096, 16384, 32, 32, 50257, false, "none",
     "launcher_scripts/conf/training/gpt3/5b.yaml"},
    {"GPT3-20B", "gpt3", 44, 6144, 24576, 48, 48, 50257, true, "none",
     "launcher_scripts/conf/training/gpt3/20b.yaml"},
    {"GPT3-175B", "gpt3", 96, 12288, 49152, 96, 96, 50257, true, "none",
     "launcher_scripts/conf/training/gpt3/175b.yaml"},
    {"LLAMA2-7B", "llama", 32, 4096, 11008, 32, 32, 32000, false, "none",
     "launcher_scripts/conf/training/llama/llama2_7b.yaml"},
    {"LLAMA2-13B", "llama", 40, 5120, 13824, 40, 40, 32000, false, "none",
     "launcher_scripts/conf/training/llama/llama2_13b.yaml"},
    {"LLAMA2-70B", "llama", 80, 8192, 28672, 64, 8, 32000, true, "none",
     "launcher_scripts/conf/training/llama/llama2_70b.yaml"},
    {"LLAMA3-8B", "llama", 32, 4096, 14336, 32, 8, 128256, false, "none",
     "launcher_scripts/conf/training/llama/llama3_8b.yaml"},
    {"LLAMA3-70B", "llama", 80, 8192, 28672, 64, 8, 128256, true, "none",
     "launcher_scripts/conf/training/llama/llama3_70b.yaml"},
    {"Nemotron-8B", "nemotron", 32, 4096, 16384, 32, 32, 256000, true, "none",
     "launcher_scripts/conf/training/nemotron/nemotron_8b.yaml"},
    {"Nemotron-22B", "nemotron", 40, 6144, 24576, 48, 48, 256000, true, "none",
     "launcher_scripts/conf/training/nemotron/nemotron_22b.yaml"},
    {"Nemotron-340B", "nemotron", 96, 18432, 73728, 96, 8, 256000, true,
     "selective", "launcher_scripts/conf/training/nemotron/nemotron_340b.yaml"},
};

} // namespace

const NeMoRecipe *findNeMoRecipe(llvm::StringRef name) {
  for (const NeMoRecipe &r : kRecipes)
    if (name.equals_insensitive(r.name))
      return &r;
  return nullptr;
}

llvm::StringRef nemoLauncherCommit() {
  return "26e42fa91d9e608897ce485b4911c263a4b57008";
}

} // namespace strata::calibration
